"""Test helpers for the LLM agent: tiny components for a real Toolbox, and a guard stand-in.

The retriever and explainer here are small, exact test implementations of the interfaces the Toolbox
expects (``retrieve(query) -> result with .candidates/.notes``; ``explain(user, item_index, query)``), over
the ``tiny_catalog`` fixture, so the LLM tests need neither torch nor built artifacts. ``make_validate``
checks proposals the way the seam describes the guard (catalogue membership, came from a tool this turn,
not blocked, filters, verifiable evidence); the core's real guard is exercised by its own tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agentrec.agent.session import ConversationState
from agentrec.agent.toolbox import Toolbox
from agentrec.agent.types import GuardReport, Proposal
from agentrec.types import (
    Candidate,
    Catalog,
    Filters,
    GraphPath,
    Interactions,
    PathEdge,
    PathNode,
    Query,
    Recommendation,
)


def passes(item_genres: tuple[str, ...], year: int | None, f: Filters) -> bool:
    """A plain statement of the genre / year filters, independent of agentrec.schema."""
    genres = {g.lower() for g in item_genres}
    wanted = {g.lower() for g in f.include.get("genre", ())}
    if wanted:
        if f.match.get("genre", "all") == "all" and not wanted <= genres:
            return False
        if f.match.get("genre", "all") == "any" and not wanted & genres:
            return False
    if genres & {g.lower() for g in f.exclude.get("genre", ())}:
        return False
    ranges = f.ranges.get("year", ())
    if ranges and (year is None or not any(r.contains(year) for r in ranges)):
        return False
    return not (year is not None and any(r.contains(year) for r in f.exclude_ranges.get("year", ())))


@dataclass
class Result:
    candidates: list[Candidate]
    notes: list[str] = field(default_factory=list)


class WordRetriever:
    """Ranks items by words shared with the query text (then by index); applies filters and exclusions."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def retrieve(self, query: Query) -> Result:
        words = set(query.text.lower().split())
        blocked = set(query.seen) | set(query.rejected) | set(query.filters.exclude_items)
        scored = []
        for i, it in enumerate(self.catalog.items):
            if i in blocked or not passes(it.genres, it.year, query.filters):
                continue
            text = " ".join([it.title, it.overview, *it.genres, *it.tags]).lower()
            scored.append((-sum(w in text for w in words), i))
        scored.sort()
        cands = [
            Candidate(i, self.catalog[i].item_id, self.catalog[i].title, float(-s), {"semantic": float(-s)})
            for s, i in scored[: query.k]
        ]
        return Result(cands, [] if cands else ["no item satisfies the filters"])


class GenreExplainer:
    """One attribute path per shared genre between the liked items and the target."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def explain(self, user: object, item_index: int, query: Query) -> list[GraphPath]:
        it = self.catalog[item_index]
        return [
            GraphPath(
                "attribute",
                (PathNode("genre", g, g), PathNode("item", it.item_id, it.title)),
                (PathEdge("has_genre"),),
                1.0,
                f"{it.title} is a {g} film",
            )
            for g in it.genres
        ]


@dataclass
class TinyComponents:
    catalog: Catalog
    train: Interactions
    retriever: WordRetriever
    explainer: GenreExplainer


def make_toolbox(catalog: Catalog, train: Interactions) -> Toolbox:
    return Toolbox(TinyComponents(catalog, train, WordRetriever(catalog), GenreExplainer(catalog)))


def make_validate(toolbox: Toolbox, state: ConversationState) -> Callable[[list[Proposal]], GuardReport]:
    """A guard stand-in with the seam's rules (see the module docstring)."""
    catalog = toolbox.catalog

    def validate(proposals: list[Proposal]) -> GuardReport:
        report = GuardReport()
        for p in proposals:
            idx = catalog.id_to_index.get(p.item_id)
            if idx is None:
                report.rejected.append((p, f"item {p.item_id!r} is not in the catalogue"))
                continue
            it = catalog[idx]
            if idx not in toolbox.allowed_item_indices:
                report.rejected.append((p, "no tool returned this item in this turn"))
            elif idx in state.blocked or idx in state.seen:
                report.rejected.append((p, "the user rejected or has seen this item"))
            elif not passes(it.genres, it.year, state.filters):
                report.rejected.append((p, "breaks the stated constraints"))
            elif not any(
                e in toolbox.paths or e.lower() in {f"genre: {g}".lower() for g in it.genres} for e in p.evidence
            ):
                report.rejected.append((p, "the reason cites no verifiable evidence"))
            else:
                evidence = tuple(toolbox.paths[e] for e in p.evidence if e in toolbox.paths)
                report.accepted.append(
                    Recommendation(idx, it.item_id, it.title, it.year, it.genres, p.reason, evidence)
                )
        return report

    return validate


# ---------------------------------------------------------------- scripted model behaviours
LEAKS = (
    "<think",
    "</think",
    "Returning structured response",
    "RecommendationList",
    '"item_id"',
    "catalogue data",
    "Final answer received",
    "tool_call",
    "ignore previous instructions",
)


def tool_rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item row the tools returned in a chat request's messages, in order (each id once)."""
    rows: dict[str, dict[str, Any]] = {}
    for m in body.get("messages", []):
        if m.get("role") != "tool" or not str(m.get("content", "")).startswith("{"):
            continue
        for row in json.loads(m["content"]).get("items", []):
            rows.setdefault(str(row["id"]), row)
    return list(rows.values())


def evidence_for(row: dict[str, Any]) -> list[str]:
    """A true fact of a row to cite: its first categorical facet value, else its interaction count."""
    for key, value in row.items():
        if key not in ("id", "title", "snippet", "tags", "match") and isinstance(value, list) and value:
            return [f"{key}: {value[0]}"]
    return [f"interactions: {row.get('interactions', 0)}"]


def propose_from_tools(n: int = 2, message: str = "Here are two picks.", **extra: Any) -> Callable[[dict], Any]:
    """A scripted final answer that recommends the first ``n`` items the tools returned, citing true facts."""
    from openai_server import final

    def step(body: dict[str, Any]) -> Any:
        rows = tool_rows(body)[:n]
        items = [{"item_id": r["id"], "reason": "It fits what you asked.", "evidence": evidence_for(r)} for r in rows]
        return final({"message": message, "items": items, **extra})

    return step


def well_behaved(description: str, n: int = 2, message: str = "Here are two picks.") -> list[Any]:
    """The script of a well-behaved model: one search, then a final answer from its rows (2 model calls)."""
    from openai_server import tool_calls

    return [
        tool_calls(("search_catalog", {"description": description, "k": 5}), content="Let me look."),
        propose_from_tools(n, message),
    ]


def leaks_in(text: str) -> list[str]:
    """Internal markers found in user-facing ``text``."""
    return [m for m in LEAKS if m.lower() in text.lower()]
