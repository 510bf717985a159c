"""Reasons written from evidence: explanation paths and true attributes, never invented claims.

The offline planner uses :func:`propose` to turn ranked candidates into :class:`Proposal` values (reason +
cited evidence) that then go through the same guard as an LLM's proposals.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentrec.agent.toolbox import Toolbox
from agentrec.agent.types import Proposal, ToolError
from agentrec.types import Candidate, GraphPath, Item, Query

__all__ = ["constraint_facts", "describe_filters", "propose", "write_reason"]


def constraint_facts(item: Item, query: Query) -> list[str]:
    """Attribute facts (``"genre: X"``, ``"year: 1995"``) by which ``item`` meets the query's constraints."""
    f = query.filters
    facts = [f"genre: {g}" for g in item.genres if g.lower() in {x.lower() for x in f.include_genres}]
    if item.year is not None and (f.year_min is not None or f.year_max is not None):
        facts.append(f"year: {item.year}")
    return facts


def describe_filters(query: Query) -> str:
    """The query's hard constraints in words, e.g. ``"Sci-Fi, 1990-1999, no Horror"`` ("" when none)."""
    f = query.filters
    parts = []
    if f.include_genres:
        parts.append((" or " if f.genre_match == "any" else " + ").join(f.include_genres))
    if f.year_min is not None and f.year_max is not None:
        parts.append(f"{f.year_min}" if f.year_min == f.year_max else f"{f.year_min}-{f.year_max}")
    elif f.year_min is not None:
        parts.append(f"from {f.year_min}")
    elif f.year_max is not None:
        parts.append(f"up to {f.year_max}")
    if f.exclude_genres:
        parts.append("no " + ", no ".join(f.exclude_genres))
    return ", ".join(parts)


def write_reason(item: Item, paths: Sequence[GraphPath], query: Query, *, num_ratings: int | None = None) -> str:
    """One or two sentences built only from ``paths`` and true facts about ``item``."""
    sentences: list[str] = []
    f = query.filters
    matched = [g for g in item.genres if g.lower() in {x.lower() for x in f.include_genres}]
    in_years = item.year is not None and (f.year_min is not None or f.year_max is not None)
    if matched:
        what = "/".join(matched)
        when = f" from {item.year}" if in_years else ""
        sentences.append(f"{_article(what)} {what}{when}, as you asked")
    elif in_years:
        sentences.append(f"From {item.year}, as you asked")
    kinds_used: set[str] = set()
    for p in paths:
        if p.kind in kinds_used or len(kinds_used) >= 2:
            continue
        kinds_used.add(p.kind)
        sentences.append(p.text)
    if not sentences:
        genres = "/".join(item.genres) or "title"
        watched = f", watched by {num_ratings} people in the data" if num_ratings else ""
        sentences.append(f"{_article(genres)} {genres}{watched}")
    return ". ".join(s.rstrip(".") for s in sentences) + "."


def _article(word: str) -> str:
    return "An" if word[:1].lower() in "aeiou" else "A"


def propose(toolbox: Toolbox, candidates: Sequence[Candidate], query: Query, *, limit: int) -> list[Proposal]:
    """Proposals (reason + evidence) for the first ``limit`` candidates, explained through the toolbox."""
    degree = getattr(toolbox.retriever, "item_degree", None)
    out: list[Proposal] = []
    for cand in candidates[:limit]:
        item = toolbox.catalog[cand.item_index]
        try:
            result = toolbox.explain(item.item_id)
            paths: list[GraphPath] = list(result.artifact or [])
        except ToolError:
            paths = []
        refs = [ref for ref, p in toolbox.paths.items() if any(p is q for q in paths)]
        facts = constraint_facts(item, query)
        n = int(degree[cand.item_index]) if degree is not None else None
        evidence = refs + facts
        if not evidence and item.genres:
            evidence = [f"genre: {item.genres[0]}"]
        out.append(Proposal(item.item_id, write_reason(item, paths, query, num_ratings=n), tuple(evidence)))
    return out
