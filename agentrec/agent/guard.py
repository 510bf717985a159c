"""The output guard: nothing reaches the user unless the data backs it.

Every proposed recommendation must (1) name an item of the catalogue, (2) have come from a tool result in
this turn, (3) not be seen, rejected or disliked, (4) satisfy the hard filters (``Retriever.check``) and
any runtime ceiling, and (5) cite at least one verifiable explanation path, a true attribute, or words of the
item's own text (``"overview: a deadly alien"``, checked against its overview, keywords and tags). Invalid
proposals are dropped with the reason; the caller fills up deterministically.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from agentrec.agent.toolbox import Toolbox
from agentrec.agent.turn import Turn
from agentrec.agent.types import GuardReport, Proposal
from agentrec.types import GraphPath, Item, PathEdge, PathNode, Query, Recommendation

__all__ = ["Guard", "runtime_of"]

logger = logging.getLogger(__name__)

_FACT = re.compile(r"^\s*([a-z_][\w ]*?)\s*[:=]\s*(.+?)\s*$", re.IGNORECASE)


_TEXT_FACTS = {"overview", "snippet", "keyword", "keywords", "text", "description"}


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"[\w'-]+", text.casefold())) + " "


def _in_text(phrase: str, item: Item) -> bool:
    """True when ``phrase`` (at least 3 letters) occurs, as whole words, in the item's overview, keywords or tags."""
    wanted = _words(phrase.strip().strip("\"'“”"))
    if len(wanted.strip()) < 3:
        return False
    keywords = item.attributes.get("keywords") or ()
    parts = [item.overview, *item.tags, *([keywords] if isinstance(keywords, str) else map(str, keywords))]
    return wanted in _words(" | ".join(parts))


def runtime_of(attributes: object) -> int | None:
    """An item's runtime in minutes from its ``attributes`` mapping, or None when unknown."""
    raw = getattr(attributes, "get", lambda _k: None)("runtime")
    try:
        value = int(float(raw))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if value > 0 else None


class Guard:
    """Validates proposals against the catalogue, this turn's tool results, the query and the evidence.

    Args:
        toolbox: the toolbox whose tools ran (each check takes a :class:`~agentrec.agent.turn.Turn`: what the
            tools handed out in that turn; by default the toolbox's running turn).
    """

    def __init__(self, toolbox: Toolbox) -> None:
        self.toolbox = toolbox
        self.catalog = toolbox.catalog
        self.retriever = toolbox.retriever
        self.explainer = toolbox.explainer
        self.schema = toolbox.schema

    def fact_path(self, item_index: int, kind: str, value: str) -> GraphPath | None:
        """A verifiable path for a true categorical fact ("the request's <value> -> item"), else None."""
        from agentrec.graph.render import path_text  # lazy: the graph package imports torch

        item = self.catalog[item_index]
        if not self.schema.has(kind) or self.schema.facet(kind).kind != "categorical":
            return None
        carried = self.schema.item_values(item, kind)
        values = carried if isinstance(carried, tuple) else ()
        match = next((v for v in values if v.lower() == value.strip().lower()), None)
        if match is None:
            return None
        nodes = (
            PathNode("query", match, match),
            PathNode("text", match.lower(), match.lower()),
            PathNode("item", item.item_id, item.display_title),
        )
        draft = GraphPath("semantic", nodes, (PathEdge("mentions", 1.0), PathEdge("describes", 1.0)), 0.5, "")
        path = GraphPath("semantic", nodes, draft.edges, 0.5, path_text(draft))
        return path if self.explainer.verify(path) else None

    def _resolve_evidence(self, item_index: int, entry: str, query: Query, turn: Turn) -> tuple[GraphPath | None, bool]:
        """(path, cited): a verified path for the entry, a true path-less fact, or nothing.

        A true categorical fact (``"genre: X"``, ``"brand: Y"``, any facet of the schema) becomes a path ("you
        asked for X -> item") only when the request did ask for X; otherwise (and for numbers such as years) it
        is cited as a true attribute without a path.
        """
        item = self.catalog[item_index]
        entry = str(entry).strip()
        path = turn.paths.get(entry) or turn.paths.get(entry.strip("[]"))
        if path is None:
            path = next((p for p in turn.paths.values() if p.text == entry), None)
        if path is not None:
            ends_here = path.nodes[-1].kind == "item" and path.nodes[-1].key == item.item_id
            return (path, True) if ends_here and self.explainer.verify(path) else (None, False)
        m = _FACT.match(entry)
        if not m:
            return None, False
        kind, value = m.group(1).strip().lower(), m.group(2)
        if kind in _TEXT_FACTS:  # words of the item's own text: its overview, keywords or tags
            return None, _in_text(value, self.catalog[item_index])
        if kind == "interactions":  # how many people chose the item, counted in the training data
            degree = getattr(self.retriever, "item_degree", None)
            return None, degree is not None and value.strip().isdigit() and int(value) == int(degree[item_index])
        if not self.schema.has(kind) or not self.schema.fact_holds(item, f"{kind}: {value}"):
            return None, False
        if self.schema.facet(kind).kind != "categorical":
            return None, True
        wanted = {v.lower() for values in query.filters.include.values() for v in values}
        asked = wanted | set(re.findall(r"[\w-]+", query.text.lower()))
        if value.strip().lower() not in asked:
            return None, True
        # A true fact stays cited even where no graph path can show it (a product's category has no text node).
        return self.fact_path(item_index, kind, value), True

    def check_item(
        self, item_index: int, query: Query, *, max_runtime: int | None = None, turn: Turn | None = None
    ) -> list[str]:
        """Why an item may not be recommended for ``query`` in ``turn`` (default: the running one); [] when it may."""
        turn = turn if turn is not None else self.toolbox.turn
        problems: list[str] = []
        if item_index not in turn.allowed_item_indices:
            problems.append("did not come from a tool result in this turn")
        problems += self.retriever.check(item_index, query)
        if max_runtime is not None:
            rt = runtime_of(self.catalog[item_index].attributes)
            if rt is None or rt > max_runtime:
                problems.append(f"runtime {rt or 'unknown'} min exceeds {max_runtime} min")
        return problems

    def validate(
        self,
        proposals: Sequence[Proposal],
        query: Query,
        *,
        k: int | None = None,
        max_runtime: int | None = None,
        turn: Turn | None = None,
    ) -> GuardReport:
        """Accept the valid proposals (in order, no duplicates, at most ``k``) and reject the rest with reasons.

        Args:
            proposals: what the LLM or the planner proposes.
            query: the turn's query: its filters, seen and rejected items are enforced.
            k: the most recommendations to accept (default ``query.k``).
            max_runtime: a runtime ceiling in minutes, when the user asked for something shorter.
            turn: the turn whose tool results and paths the proposals may use (default: the toolbox's running
                turn in this context).

        Returns:
            A :class:`GuardReport`; accepted recommendations carry their verified evidence paths.
        """
        turn = turn if turn is not None else self.toolbox.turn
        k = query.k if k is None else k
        report = GuardReport()
        taken: set[int] = set()
        for prop in proposals:
            idx = self.catalog.id_to_index.get(str(prop.item_id).strip())
            if idx is None:
                report.rejected.append((prop, f"item id {prop.item_id!r} is not in the catalogue"))
                continue
            if idx in taken:
                report.rejected.append((prop, "duplicate of an earlier recommendation"))
                continue
            if len(report.accepted) >= k:
                report.rejected.append((prop, f"more than k={k} recommendations"))
                continue
            problems = self.check_item(idx, query, max_runtime=max_runtime, turn=turn)
            if problems:
                report.rejected.append((prop, "; ".join(problems)))
                continue
            reason = (prop.reason or "").strip()
            paths: list[GraphPath] = []
            cited = False
            for entry in prop.evidence:
                path, ok = self._resolve_evidence(idx, entry, query, turn)
                cited = cited or ok
                if path is not None and path not in paths:
                    paths.append(path)
            if not reason:
                report.rejected.append((prop, "empty reason"))
                continue
            if not cited:
                report.rejected.append(
                    (
                        prop,
                        "cites no verifiable evidence (use a path reference such as 'p1' or a fact '<facet>: <value>')",
                    )
                )
                continue
            item = self.catalog[idx]
            cand = turn.candidates.get(idx)
            report.accepted.append(
                Recommendation(
                    item_index=idx,
                    item_id=item.item_id,
                    title=item.title,
                    year=item.year,
                    genres=item.genres,
                    reason=reason,
                    evidence=tuple(paths),
                    score=float(cand.score) if cand is not None else 0.0,
                )
            )
            taken.add(idx)
        if report.rejected:
            logger.debug("guard rejected %d proposal(s)", len(report.rejected))
        return report
