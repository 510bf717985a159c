"""The offline reply in words: a header saying what was applied, one line per recommendation, the notes.

Each line names the item with a few of its facet values that tell it apart (a film's genres, a product's most
specific categories and brand): values that most of the catalogue shares ("Industrial & Scientific") say nothing
and are left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agentrec.types import Item, Query, Recommendation

__all__ = ["compose_reply", "describe_query", "item_facets"]


def item_facets(item: Item, schema: Any, stats: Mapping[str, Any], *, soft: frozenset[str] = frozenset()) -> str:
    """A few telling facet values of ``item``, e.g. ``"Comedy/Drama"`` or ``"Duct Tape; brand 3M"``."""
    parts: list[str] = []
    for f in schema.facets:
        if f.kind != "categorical" or not f.filterable or f.name in soft:
            continue
        have = schema.item_values(item, f.name)
        if not have:
            continue
        values = have if isinstance(have, tuple) else (str(have),)
        st = stats.get(f.name)
        if st is not None and st.num_items:
            values = tuple(v for v in values if st.counts.get(v, 0) <= st.num_items / 2) or values[-1:]
        shown = "/".join(values[-3:])
        parts.append(shown if f.multi else f"{f.label or f.name} {shown}")
    return "; ".join(parts)


def compose_reply(
    recs: Sequence[Recommendation],
    query: Query,
    notes: Sequence[str],
    *,
    what: str,
    facets: Sequence[str],
    llm_text: str = "",
    mode: str = "offline",
) -> str:
    """The reply text: a header (offline) or the model's text, one numbered line per item, then the notes.

    Args:
        recs: the accepted recommendations, in order.
        query: the turn's query (for the personalisation line).
        notes: user-facing notes (what was not applied and why, how words were read).
        what: the applied constraints in words ("" when none).
        facets: per recommendation, its telling facet values (see :func:`item_facets`).
        llm_text: the language model's own text, shown instead of the offline header.
        mode: ``"offline"`` or the LLM mode.
    """
    lines: list[str] = []
    if mode == "offline":
        header = f"[offline mode] Here are {len(recs)} recommendation(s)" + (f" for {what}" if what else "")
        if query.user_id:
            header += f", personalised for user {query.user_id}"
        lines.append(header + ":" if recs else "[offline mode] I found nothing that fits.")
    elif llm_text.strip():
        lines.append(llm_text.strip())
    for n, (r, tags) in enumerate(zip(recs, facets, strict=True), 1):
        year = f" ({r.year})" if r.year is not None and f"({r.year})" not in r.title else ""
        lines.append(f"{n}. {r.title}{year}" + (f" [{tags}]" if tags else "") + f" - {r.reason}")
    if not recs and (mode == "offline" or not llm_text.strip()):  # a model's question stands alone
        lines.append("Try fewer constraints, or start over.")
    lines += [f"Note: {n}" for n in notes]
    return "\n".join(lines)


def describe_query(query: Query, schema: Any) -> str:
    """A query in one line for the tool trace: its text, user, seeds and facet constraints."""
    parts = [f"text={query.text!r}"] if query.text else []
    if query.user_id:
        parts.append(f"user={query.user_id}")
    if query.liked_items:
        parts.append(f"seeds={len(query.liked_items)}")
    if query.filters.facet_names():
        parts.append(schema.describe(query.filters, facets_only=True))
    return ", ".join(parts) or "no constraints"
