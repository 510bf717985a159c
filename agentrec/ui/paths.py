"""The evidence paths of a card, drawn in HTML: readable at card width, labels wrapped, trivial paths left out.

A path is trivial when it only restates what the card already shows: a request word matching one of the item's
own facet values ("You asked for 'comedy'; X matches: comedy", drawn as ``Comedy —mentions→ comedy``), or a
path that starts and ends at the same thing. At most the three strongest remaining paths are drawn.
"""

from __future__ import annotations

import html
from collections.abc import Collection

from agentrec.types import GraphPath, Recommendation

__all__ = ["is_trivial", "paths_html", "strongest_paths"]

_RELATION_WORDS = {
    "liked": "liked",
    "stated_like": "said you like",
    "liked_by": "liked by",
    "also_liked": "also liked",
    "mentions": "mentions",
    "describes": "found in",
}


def is_trivial(path: GraphPath, shown: Collection[str] = ()) -> bool:
    """True when ``path`` says nothing the card does not already show (``shown``: its facet values, case-folded)."""
    nodes = path.nodes
    if len(nodes) >= 2 and _same(nodes[0].label, nodes[-1].label):
        return True
    if path.kind == "semantic" and len(nodes) == 3:
        terms = {t.strip().casefold() for t in nodes[1].key.split("|") if t.strip()}
        asked = nodes[0].label.casefold()
        return not terms or terms <= {s.casefold() for s in shown} or all(_same(t, asked) for t in terms)
    if path.kind == "attribute" and len(nodes) == 4 and nodes[1].key == nodes[3].key:
        return True
    return False


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()).strip(" '\"").casefold() == " ".join(b.split()).strip(" '\"").casefold()


def strongest_paths(rec: Recommendation, shown: Collection[str] = (), *, limit: int = 3) -> list[GraphPath]:
    """The recommendation's non-trivial evidence paths, strongest first, at most ``limit``, no two alike."""
    seen: set[str] = set()
    out: list[GraphPath] = []
    for p in sorted(rec.evidence, key=lambda p: -p.score):
        key = p.text or " ".join(n.label for n in p.nodes)
        if key in seen or is_trivial(p, shown):
            continue
        seen.add(key)
        out.append(p)
    return out[:limit]


def _edge(relation: str) -> str:
    words = _RELATION_WORDS.get(relation) or relation.replace("_", " ")
    return f"<span class='agentrec-edge'><span>{html.escape(words)}</span></span>"


def path_diagram(path: GraphPath) -> str:
    """One path as a row of labelled nodes and arrows (wraps at card width)."""
    parts = []
    for i, node in enumerate(path.nodes):
        if i:
            parts.append(_edge(path.edges[i - 1].relation))
        label = node.label or ("You" if node.kind == "user" else node.key)
        kind = html.escape(node.kind, quote=True)
        parts.append(f"<span class='agentrec-node agentrec-node-{kind}'>{html.escape(label)}</span>")
    return f"<div class='agentrec-path' data-kind='{html.escape(path.kind, quote=True)}'>{''.join(parts)}</div>"


def paths_html(rec: Recommendation, shown: Collection[str] = (), *, limit: int = 3) -> str:
    """The card's collapsible evidence: the strongest paths as a diagram ("" when there is none)."""
    paths = strongest_paths(rec, shown, limit=limit)
    if not paths:
        return ""
    n = len(paths)
    diagrams = "".join(path_diagram(p) for p in paths)
    return (
        "<details class='agentrec-evidence'>"
        f"<summary>Evidence: {n} path{'s' if n > 1 else ''} in the data</summary>"
        f"<div class='agentrec-diagram'>{diagrams}</div></details>"
    )
