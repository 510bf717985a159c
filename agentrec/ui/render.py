"""HTML and Markdown pieces of the chat app: recommendation cards, trace, memory panel, mode banner.

Pure functions of agentrec values (no Gradio), so they are unit-tested on their own. Everything that
comes from data or from the user is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from agentrec.schema import CatalogSchema
from agentrec.types import Catalog, Filters, GraphPath, Query, Recommendation

__all__ = [
    "banner_markdown",
    "card_html",
    "evidence_in_words",
    "memory_markdown",
    "trace_markdown",
]

_CARD_CSS_CLASS = "agentrec-card"


class TraceLike(Protocol):
    """What the trace panel reads from an ``agentrec.agent.types.TraceEvent``."""

    kind: str
    name: str
    detail: str


def evidence_in_words(path: GraphPath) -> str:
    """One explanation path as a sentence.

    Uses the path's rendered ``text`` when it has one, else joins the node labels with the edge relations
    ("Alien -[liked by 12 users who liked]-> Aliens").
    """
    if path.text:
        return path.text
    parts = [path.nodes[0].label]
    for edge, node in zip(path.edges, path.nodes[1:], strict=True):
        parts.append(f"—{edge.relation}→ {node.label}")
    return " ".join(parts)


def card_html(rec: Recommendation, *, rank: int, feedback: bool | None = None, max_paths: int = 2) -> str:
    """One recommendation card: title, year, genres, reason and the evidence path(s) in words.

    Args:
        rec: the recommendation to show.
        rank: 1-based position shown on the card.
        feedback: True when the user liked it, False when disliked, None when neither.
        max_paths: how many evidence paths to spell out.

    Returns:
        An HTML fragment; the outer ``div`` carries ``data-item-id`` and ``data-feedback`` attributes
        (tests and scripts read them).
    """
    esc = html.escape
    title = esc(rec.title)
    year = (
        f" <span class='agentrec-year'>({rec.year})</span>"
        if rec.year is not None and f"({rec.year})" not in rec.title
        else ""
    )
    genres = "".join(f"<span class='agentrec-genre'>{esc(g)}</span>" for g in rec.genres)
    evidence = "".join(f"<li>{esc(evidence_in_words(p))}</li>" for p in rec.evidence[:max_paths])
    more = len(rec.evidence) - max_paths
    if more > 0:
        evidence += f"<li class='agentrec-more'>+{more} more path{'s' if more > 1 else ''}</li>"
    evidence_block = (
        f"<div class='agentrec-evidence'><b>Evidence</b><ul>{evidence}</ul></div>"
        if evidence
        else "<div class='agentrec-evidence agentrec-none'>No graph path found for this item.</div>"
    )
    state = {True: "liked", False: "disliked", None: "none"}[feedback]
    badge = {
        True: "<span class='agentrec-badge agentrec-liked'>👍 liked — I'll find more like it</span>",
        False: "<span class='agentrec-badge agentrec-disliked'>👎 disliked — won't be suggested again</span>",
        None: "",
    }[feedback]
    return (
        f"<div class='{_CARD_CSS_CLASS} agentrec-{state}' data-item-id='{esc(rec.item_id, quote=True)}' "
        f"data-feedback='{state}'>"
        f"<div class='agentrec-title'><span class='agentrec-rank'>{rank}.</span> {title}{year}</div>"
        f"<div class='agentrec-genres'>{genres}</div>"
        f"<div class='agentrec-reason'>{esc(rec.reason)}</div>"
        f"{evidence_block}{badge}</div>"
    )


def trace_markdown(trace: Sequence[TraceLike], *, max_detail_chars: int = 400) -> str:
    """The agent's tool calls and decisions of the last turn as a numbered Markdown list."""
    if not trace:
        return "_No agent steps yet: ask for something to watch._"
    icons = {
        "tool_call": "🔧",
        "tool_result": "📦",
        "llm": "🧠",
        "guard": "🛡️",
        "fallback": "↩️",
        "error": "⚠️",
        "note": "📝",
    }
    lines = []
    for i, event in enumerate(trace, 1):
        detail = " ".join(str(event.detail).split())
        if len(detail) > max_detail_chars:
            detail = detail[: max_detail_chars - 1] + "…"
        icon = icons.get(event.kind, "•")
        name = str(event.name).replace("`", "'")
        lines.append(f"{i}. {icon} **{_md_escape(event.kind)}** `{name}` — {_md_escape(detail)}")
    return "\n".join(lines)


def banner_markdown(mode: str, *, dataset: str | None = None) -> str:
    """The banner naming the mode: the LLM model, or offline mode."""
    where = f" · dataset **{_md_escape(dataset)}**" if dataset else ""
    if mode.startswith("llm:"):
        model = mode.split(":", 1)[1]
        return f"🧠 **LLM mode** — model `{_md_escape(model)}`{where}"
    return (
        f"🔌 **Offline mode** — deterministic planner, no LLM configured{where}. "
        "Set `AGENTREC_LLM_MODEL` (and `OPENAI_BASE_URL`) to talk to an LLM."
    )


def memory_markdown(
    *,
    user_id: str | None,
    query: Query | None,
    feedback: Mapping[str, bool],
    titles: Mapping[str, str],
    catalog: Catalog | None = None,
    known_user: bool = True,
    schema: CatalogSchema | None = None,
) -> str:
    """What the conversation remembers: the user, constraints, liked and disliked items.

    Args:
        user_id: the personalised user's raw id, or None for a new user.
        query: the last turn's query (its filters are the accumulated constraints), or None.
        feedback: item id -> liked (True) / disliked (False) from the card buttons.
        titles: item id -> display title, for items the feedback refers to.
        catalog: used to name the query's liked / rejected item indices.
        known_user: False when ``user_id`` is not in the dataset (so nothing is personalised).
        schema: the catalogue's facets, for naming the constraints.
    """
    who = "new user" if user_id is None else _md_escape(user_id)
    if user_id is not None and not known_user:
        who += " (not in the dataset: not personalised)"
    lines = [f"- **User:** {who}"]
    constraints = describe_filters(query.filters, schema) if query is not None else ""
    lines.append(f"- **Constraints:** {constraints or 'none yet'}")
    liked = [titles.get(i, i) for i, v in feedback.items() if v]
    disliked = [titles.get(i, i) for i, v in feedback.items() if not v]
    if query is not None and catalog is not None:
        liked += [catalog[i].display_title for i in query.liked_items if 0 <= i < len(catalog)]
        disliked += [catalog[i].display_title for i in query.rejected if 0 <= i < len(catalog)]
    lines.append(f"- **Liked:** {_join_unique(liked) or '—'}")
    lines.append(f"- **Disliked / rejected:** {_join_unique(disliked) or '—'}")
    return "\n".join(lines)


def describe_filters(filters: Filters, schema: CatalogSchema | None = None) -> str:
    """Hard constraints in words ("genre Horror and Sci-Fi, year 1980+"), "" when there are none.

    ``schema`` gives facet labels, units and the catalogue's spelling of values; without it facet names are used.
    """
    text = (schema or CatalogSchema()).describe(filters, facets_only=True)
    if filters.min_ratings:
        text = ", ".join(p for p in (text, f"at least {filters.min_ratings} ratings") if p)
    return _md_escape(text)


def _join_unique(names: Iterable[Any]) -> str:
    seen: dict[str, None] = {}
    for n in names:
        seen.setdefault(_md_escape(str(n)), None)
    return ", ".join(seen)


def _md_escape(text: str) -> str:
    # Keep user/data text from turning into Markdown or HTML.
    out = html.escape(str(text), quote=False)
    for ch in "\\`*_[]<>|":
        out = out.replace(ch, "\\" + ch)
    return out


CARD_CSS = """
.agentrec-slot {border: 1px solid var(--border-color-primary); border-radius: 12px; padding: 10px 12px 8px;
  background: var(--background-fill-secondary); gap: 6px !important;}
.agentrec-card {padding: 0 0 0 10px; border-left: 4px solid transparent;}
.agentrec-card.agentrec-disliked {opacity: 0.5;}
.agentrec-card.agentrec-liked {border-left-color: #2e9e5b;}
.agentrec-title {font-weight: 600; font-size: 1.05em; margin-bottom: 4px;}
.agentrec-rank {color: var(--body-text-color-subdued); margin-right: 2px;}
.agentrec-year {font-weight: 400; color: var(--body-text-color-subdued);}
.agentrec-genre {display: inline-block; font-size: 0.8em; padding: 1px 8px; margin: 0 4px 4px 0;
  border-radius: 999px; background: var(--color-accent-soft); color: var(--body-text-color);}
.agentrec-reason {margin: 4px 0;}
.agentrec-evidence {font-size: 0.88em; color: var(--body-text-color-subdued);}
.agentrec-evidence ul {margin: 2px 0 0 0; padding-left: 18px;}
.agentrec-badge {display: inline-block; font-size: 0.85em; margin-top: 4px;}
.agentrec-banner {padding: 6px 12px; border-radius: 8px; background: var(--background-fill-secondary);}
.agentrec-card-actions {gap: 6px !important;}
.agentrec-card-actions button {min-width: 0 !important;}
"""
