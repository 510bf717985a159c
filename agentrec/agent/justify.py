"""Reasons written from evidence: explanation paths and true attributes, never invented claims.

The offline planner uses :func:`propose` to turn ranked candidates into :class:`Proposal` values (reason +
cited evidence) that then go through the same guard as an LLM's proposals.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentrec.agent.toolbox import Toolbox
from agentrec.agent.types import Proposal, ToolError
from agentrec.schema import CatalogSchema
from agentrec.types import Candidate, GraphPath, Item, Query

__all__ = ["constraint_facts", "describe_filters", "propose", "write_reason"]


def constraint_facts(item: Item, query: Query, schema: CatalogSchema) -> list[str]:
    """Facts (``"genre: X"``, ``"year: 1995"``) by which ``item`` meets the query's facet constraints."""
    f = query.filters
    wanted = {(facet, v.casefold()) for facet, values in f.include.items() for v in values}
    out = []
    for fact in schema.facts(item):
        facet, _, value = fact.partition(": ")
        if (facet, value.casefold()) in wanted or facet in f.ranges:
            out.append(fact)
    return out


def describe_filters(query: Query, schema: CatalogSchema) -> str:
    """The query's facet constraints in words, e.g. ``"genre Sci-Fi, not Horror, year 1990-1999"`` ("" when none)."""
    return schema.describe(query.filters, facets_only=True)


def write_reason(
    item: Item, paths: Sequence[GraphPath], query: Query, schema: CatalogSchema, *, num_ratings: int | None = None
) -> str:
    """One or two sentences built only from ``paths`` and true facts about ``item``."""
    sentences: list[str] = []
    facts = [fact.partition(": ") for fact in constraint_facts(item, query, schema)]
    matched = [value for facet, _, value in facts if facet in query.filters.include]
    ranged = [f"{schema.label(facet)} {value}" for facet, _, value in facts if facet in query.filters.ranges]
    if matched:
        what = "/".join(matched)
        when = f" ({', '.join(ranged)})" if ranged else ""
        sentences.append(f"{_article(what)} {what}{when}, as you asked")
    elif ranged:
        sentences.append(f"{', '.join(ranged).capitalize()}, as you asked")
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
        facts = constraint_facts(item, query, toolbox.schema)
        n = int(degree[cand.item_index]) if degree is not None else None
        evidence = refs + facts
        if not evidence:
            evidence = list(toolbox.schema.facts(item)[:1])
        reason = write_reason(item, paths, query, toolbox.schema, num_ratings=n)
        out.append(Proposal(item.item_id, reason, tuple(evidence)))
    return out
