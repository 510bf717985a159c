"""Facet filters for semantic search, compiled to exact Chroma ``where`` clauses.

Item metadata comes from :meth:`agentrec.schema.CatalogSchema.vector_metadata`: a boolean flag
``"<facet>=<value>"`` per categorical value an item carries, and per numeric facet the number under the
facet's name plus ``"has_<facet>"``. ``popularity`` (training interactions) and ``item_index`` are stored
by the vector store itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any

from agentrec.schema import CatalogSchema, flag_key
from agentrec.types import Filters, Range

__all__ = ["coerce_filters", "genres_string", "range_clause", "where_clause"]


def genres_string(genres: Sequence[str]) -> str:
    """Genres as one delimited string (Chroma metadata cannot hold lists): ``"|Action|Sci-Fi|"``."""
    return "|" + "|".join(genres) + "|" if genres else "|"


def coerce_filters(filters: Filters | Mapping[str, Any] | None) -> Filters | None:
    """Accept :class:`~agentrec.types.Filters`, its fields as a dict (``{"include": {"genre": ["Drama"]}}``) or None.

    Raises:
        ValueError: for another type or an unknown field, listing the valid fields.
    """
    if filters is None or isinstance(filters, Filters):
        return filters
    if isinstance(filters, Mapping):
        valid = tuple(f.name for f in fields(Filters))
        unknown = [key for key in filters if key not in valid]
        if unknown:
            raise ValueError(
                f"unknown filter field(s) {', '.join(map(repr, unknown))}; valid fields are: {', '.join(valid)}"
            )
        return Filters(**dict(filters))
    raise ValueError(f"filters must be agentrec.types.Filters, a dict or None; got {type(filters).__name__}")


def _either(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}


def _both(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def range_clause(facet: str, r: Range) -> dict[str, Any]:
    """Items with a value of ``facet`` inside ``r`` (items without a value never match)."""
    parts: list[dict[str, Any]] = [{f"has_{facet}": True}]
    if r.low is not None:
        parts.append({facet: {"$gte": r.low}})
    if r.high is not None:
        parts.append({facet: {"$lte": r.high}})
    return _both(parts)


def _outside(facet: str, r: Range) -> dict[str, Any]:
    """Items without a value of ``facet`` or with one outside ``r``."""
    parts: list[dict[str, Any]] = [{f"has_{facet}": {"$ne": True}}]
    if r.low is not None:
        parts.append({facet: {"$lt": r.low}})
    if r.high is not None:
        parts.append({facet: {"$gt": r.high}})
    return _either(parts)


def where_clause(filters: Filters, schema: CatalogSchema) -> dict[str, Any] | None:
    """Compile ``filters`` to a Chroma ``where`` clause (None when there is no constraint).

    Raises:
        ValueError: for filters ``schema`` rejects (unknown facet or value), naming the valid choices, and for
            filters no item can ever meet (an inverted range, a value both wanted and excluded).
    """
    schema.validate(filters)
    conflicts = schema.conflicts(filters)
    if conflicts:
        raise ValueError(f"these filters can never be met: {'; '.join(conflicts)}; fix or drop one of them")
    clauses: list[dict[str, Any]] = []
    for facet, values in filters.include.items():
        flags = [{flag_key(facet, v): True} for v in values]
        clauses.extend(flags if schema.match_mode(filters, facet) == "all" else [_either(flags)])
    # $ne also matches items without the field, i.e. items that lack the value.
    clauses.extend({flag_key(f, v): {"$ne": True}} for f, values in filters.exclude.items() for v in values)
    clauses.extend(_either([range_clause(f, r) for r in ranges]) for f, ranges in filters.ranges.items())
    clauses.extend(_outside(f, r) for f, ranges in filters.exclude_ranges.items() for r in ranges)
    if filters.min_ratings:
        clauses.append({"popularity": {"$gte": int(filters.min_ratings)}})
    if filters.exclude_items:
        clauses.append({"item_index": {"$nin": [int(i) for i in filters.exclude_items]}})
    return _both(clauses) if clauses else None
