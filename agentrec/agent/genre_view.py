"""The offline planner's genre-and-year view of facet :class:`~agentrec.types.Filters`.

The current planner reads MovieLens-style requests (genres, one period); these helpers read and write those
two facets ("genre", "year") of the facet-keyed filters, leaving every other facet as it is.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from agentrec.types import Filters, Range

__all__ = ["excluded_genres", "genre_match", "included_genres", "with_genres_and_years", "year_bounds"]

GENRE, YEAR = "genre", "year"


def included_genres(f: Filters) -> tuple[str, ...]:
    """The genres ``f`` requires."""
    return tuple(f.include.get(GENRE, ()))


def excluded_genres(f: Filters) -> tuple[str, ...]:
    """The genres ``f`` excludes."""
    return tuple(f.exclude.get(GENRE, ()))


def genre_match(f: Filters) -> Literal["all", "any"]:
    """How the required genres combine (``"all"`` unless stated)."""
    return f.match.get(GENRE, "all")


def year_bounds(f: Filters) -> tuple[int | None, int | None]:
    """The period ``f`` allows as ``(first, last)`` year, None where open (the first range of a union)."""
    ranges = f.ranges.get(YEAR, ())
    if not ranges:
        return None, None
    r = ranges[0]
    return (None if r.low is None else int(r.low)), (None if r.high is None else int(r.high))


def with_genres_and_years(
    f: Filters,
    *,
    include: tuple[str, ...] | list[str],
    exclude: tuple[str, ...] | list[str],
    match: str = "all",
    year_min: int | None = None,
    year_max: int | None = None,
) -> Filters:
    """``f`` with its genre and year constraints replaced (other facets, counts and exclusions kept)."""
    inc = {k: v for k, v in f.include.items() if k != GENRE} | ({GENRE: tuple(include)} if include else {})
    exc = {k: v for k, v in f.exclude.items() if k != GENRE} | ({GENRE: tuple(exclude)} if exclude else {})
    how = {k: v for k, v in f.match.items() if k != GENRE} | ({GENRE: match} if include and match == "any" else {})
    years = {k: v for k, v in f.ranges.items() if k != YEAR}
    if year_min is not None or year_max is not None:
        years[YEAR] = (Range(year_min, year_max),)
    return replace(f, include=inc, exclude=exc, match=how, ranges=years)  # type: ignore[arg-type]
