"""Reasons written from evidence: explanation paths and true attributes, never invented claims.

The offline planner uses :func:`propose` to turn ranked candidates into :class:`Proposal` values (reason +
cited evidence) that then go through the same guard as an LLM's proposals.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentrec.agent.evidence import citable_facts, informative_paths, overview_sentence, rating_sentence
from agentrec.agent.toolbox import Toolbox
from agentrec.agent.types import Proposal, ToolError
from agentrec.retrieve.quality import descriptive_words
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
    item: Item,
    paths: Sequence[GraphPath],
    query: Query,
    schema: CatalogSchema,
    *,
    num_ratings: int | None = None,
    mean_rating: float | None = None,
    words: Sequence[str] = (),
) -> str:
    """Two or three sentences built only from ``paths`` and true facts about ``item``.

    Informative paths come first (trivial ones are dropped, see :func:`informative_paths`), then how many
    people rated the item and how well (``num_ratings`` / ``mean_rating``), then the sentence of the item's
    overview matching the request's descriptive ``words``. Nothing restates the request; the item's own values
    of the constrained facets (of its first two facets when there is no constraint and no path) close the
    reason so the user can check them (``"Genre Action/Sci-Fi, year 1999"``).
    """
    sentences: list[str] = []
    kinds_used: set[str] = set()
    for p in _strongest(informative_paths(paths, query)):
        kinds_used.add(p.kind)
        sentences.append(p.text)
    rated = rating_sentence(mean_rating, num_ratings or 0)
    if rated:
        sentences.append(rated)
    quote = overview_sentence(item, words)
    if quote and "semantic" not in kinds_used:
        sentences.append(f'From its description: "{quote.rstrip(".")}"')
    # Without a path, the item's own main facets close the reason, so it always says something checkable.
    facets = query.filters.facet_names() or (set() if kinds_used else None)
    checkable = _facet_values(item, schema, facets)
    if checkable:
        sentences.append(checkable)
    if not sentences:  # nothing in the data speaks for it yet: say so rather than invent a reason
        sentences.append("New in the catalogue: nobody in the data has chosen it yet")
    return ". ".join(s.rstrip(".") for s in sentences) + "."


def _facet_values(item: Item, schema: CatalogSchema, facets: set[str] | None) -> str:
    """The item's values of ``facets`` (None: of its first two facets) in words, e.g. ``"Genre Comedy, year 1995"``."""
    grouped: dict[str, list[str]] = {}
    for fact in schema.facts(item):
        facet, _, value = fact.partition(": ")
        if facets is None or facet in facets:
            grouped.setdefault(facet, []).append(value)
    parts = [f"{schema.label(f)} {'/'.join(v)}" for f, v in list(grouped.items())[: None if facets else 2]]
    text = ", ".join(parts)
    return text[:1].upper() + text[1:]


def _strongest(paths: Sequence[GraphPath]) -> list[GraphPath]:
    """At most two paths: the best co-interaction one, then a shared tag (a genre only without co-likes)."""
    co = next((p for p in paths if p.kind == "co_interaction"), None)
    attr = next((p for p in paths if p.kind == "attribute" and (co is None or p.nodes[2].kind == "tag")), None)
    sem = next((p for p in paths if p.kind == "semantic"), None)
    return [p for p in (co, attr, sem) if p is not None][:2]


def propose(toolbox: Toolbox, candidates: Sequence[Candidate], query: Query, *, limit: int) -> list[Proposal]:
    """Proposals (reason + evidence) for the first ``limit`` candidates, explained through the toolbox.

    Every proposal cites its informative paths and at least one true attribute fact (see
    :func:`citable_facts`), so a candidate without a path is still explained by facts rather than dropped.
    """
    prior = getattr(toolbox.retriever, "quality", None)
    degree = getattr(toolbox.retriever, "item_degree", None)
    words = descriptive_words(query.text, query.filters)
    out: list[Proposal] = []
    for cand in candidates[:limit]:
        item = toolbox.catalog[cand.item_index]
        try:
            result = toolbox.explain(item.item_id)
            paths: list[GraphPath] = list(result.artifact or [])
        except ToolError:
            paths = []
        kept = informative_paths(paths, query)
        refs = [ref for ref, p in toolbox.paths.items() if any(p is q for q in kept)]
        fact = prior.rating_fact(cand.item_index) if prior is not None else None
        if fact is not None:
            mean, n = fact
        else:
            mean, n = None, int(degree[cand.item_index]) if degree is not None else 0
        reason = write_reason(item, paths, query, toolbox.schema, num_ratings=n, mean_rating=mean, words=words)
        evidence = refs + citable_facts(item, query, toolbox.schema)
        if not evidence and degree is not None:
            # An item with no facet and no path (an ids-only catalogue): how many people chose it is still a true,
            # checkable fact (the guard counts it in the training data).
            evidence = [f"interactions: {int(degree[cand.item_index])}"]
        out.append(Proposal(item.item_id, reason, tuple(evidence)))
    return out
