"""Hard filters, applied exactly: one vectorised mask for the catalogue and a per-item check.

Policy for bad and contradictory input (documented once, used everywhere):

* malformed values (an unknown genre, an item index outside the catalogue, a bad ``genre_match``) raise
  ``ValueError`` naming the argument, the bad value and the valid choices;
* logically unsatisfiable but well-formed filters (``year_min > year_max``, a genre both included and
  excluded, or constraints no item meets) give an **empty result with the reason** in
  ``RetrievalResult.notes``; they never raise, so an agent can relax them and try again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agentrec.types import Catalog, Filters, Item

__all__ = ["FilterIndex", "filter_conflicts", "item_passes", "item_violations", "validate_filters"]


def _norm(genres: Sequence[str]) -> tuple[str, ...]:
    return tuple(g.strip().lower() for g in genres)


def filter_conflicts(filters: Filters) -> list[str]:
    """Reasons why ``filters`` can never be met, whatever the catalogue (empty when consistent)."""
    reasons = []
    if filters.year_min is not None and filters.year_max is not None and filters.year_min > filters.year_max:
        reasons.append(f"year_min {filters.year_min} is after year_max {filters.year_max}")
    both = sorted(set(_norm(filters.include_genres)) & set(_norm(filters.exclude_genres)))
    if both and (filters.genre_match == "all" or set(_norm(filters.include_genres)) <= set(both)):
        reasons.append(f"genre(s) {', '.join(both)} both included and excluded")
    return reasons


def validate_filters(filters: Filters, catalog: Catalog) -> None:
    """Raise ``ValueError`` for malformed filter values (see the module docstring for the policy).

    Raises:
        ValueError: unknown genre, bad ``genre_match``, negative ``min_ratings`` or an out-of-range
            ``exclude_items`` index.
    """
    if filters.genre_match not in ("all", "any"):
        raise ValueError(f"filters.genre_match must be 'all' or 'any', got {filters.genre_match!r}")
    known = {g.lower() for g in catalog.genres}
    for name, genres in (("include_genres", filters.include_genres), ("exclude_genres", filters.exclude_genres)):
        for g in genres:
            if g.strip().lower() not in known:
                valid = ", ".join(catalog.genres) if catalog.genres else "none (this catalogue has no genres)"
                raise ValueError(f"filters.{name}: unknown genre {g!r}; valid genres are: {valid}")
    if filters.min_ratings is not None and filters.min_ratings < 0:
        raise ValueError(f"filters.min_ratings must be >= 0, got {filters.min_ratings}")
    for i in filters.exclude_items:
        if not 0 <= int(i) < len(catalog):
            raise ValueError(f"filters.exclude_items: item index {i} does not exist; valid: 0..{len(catalog) - 1}")


def item_violations(
    filters: Filters, item: Item, *, num_ratings: int | None = None, item_index: int | None = None
) -> list[str]:
    """The constraints of ``filters`` that ``item`` violates (empty when it passes).

    Args:
        filters: the hard constraints.
        item: the catalogue entry.
        num_ratings: the item's training interaction count (needed when ``min_ratings`` is set; an
            unknown count fails a ``min_ratings`` constraint).
        item_index: the item's index (needed to check ``exclude_items``).

    Returns:
        Human-readable violations, e.g. ``["missing genre Comedy", "year 1979 before 1990"]``.
    """
    out: list[str] = []
    genres = set(_norm(item.genres))
    inc = _norm(filters.include_genres)
    if inc:
        missing = [g for g, n in zip(filters.include_genres, inc, strict=True) if n not in genres]
        if filters.genre_match == "all" and missing:
            out.append(f"missing genre {', '.join(missing)}")
        elif filters.genre_match == "any" and len(missing) == len(inc):
            out.append(f"has none of the genres {', '.join(filters.include_genres)}")
    bad = [g for g, n in zip(filters.exclude_genres, _norm(filters.exclude_genres), strict=True) if n in genres]
    if bad:
        out.append(f"has excluded genre {', '.join(bad)}")
    if filters.year_min is not None or filters.year_max is not None:
        if item.year is None:
            out.append("has no year")
        elif filters.year_min is not None and item.year < filters.year_min:
            out.append(f"year {item.year} before {filters.year_min}")
        elif filters.year_max is not None and item.year > filters.year_max:
            out.append(f"year {item.year} after {filters.year_max}")
    if filters.min_ratings:
        if num_ratings is None or num_ratings < filters.min_ratings:
            out.append(f"{num_ratings if num_ratings is not None else 'unknown'} ratings < {filters.min_ratings}")
    if item_index is not None and item_index in set(int(i) for i in filters.exclude_items):
        out.append("explicitly excluded")
    return out


def item_passes(filters: Filters, item: Item, *, num_ratings: int | None = None, item_index: int | None = None) -> bool:
    """True when ``item`` meets every hard constraint of ``filters`` (see :func:`item_violations`)."""
    return not item_violations(filters, item, num_ratings=num_ratings, item_index=item_index)


@dataclass(eq=False)
class FilterIndex:
    """Pre-computed catalogue columns so a filter becomes one boolean mask over all items.

    Attributes:
        genre_matrix: ``(num_items, num_genres)`` bool, lower-cased genre vocabulary in ``genres``.
        years: ``(num_items,)`` int64, ``-1`` where unknown.
        num_ratings: ``(num_items,)`` int64 training interaction counts.
    """

    genres: tuple[str, ...]
    genre_matrix: np.ndarray
    years: np.ndarray
    num_ratings: np.ndarray

    @classmethod
    def build(cls, catalog: Catalog, num_ratings: np.ndarray) -> FilterIndex:
        """Index ``catalog``; ``num_ratings`` is ``(num_items,)`` training interactions per item."""
        vocab = tuple(sorted({g.lower() for g in catalog.genres}))
        pos = {g: j for j, g in enumerate(vocab)}
        gm = np.zeros((len(catalog), len(vocab)), dtype=bool)
        for i, it in enumerate(catalog.items):
            for g in it.genres:
                gm[i, pos[g.lower()]] = True
        years = np.array([-1 if it.year is None else it.year for it in catalog.items], dtype=np.int64)
        return cls(vocab, gm, years, np.asarray(num_ratings, dtype=np.int64))

    def mask(self, filters: Filters) -> np.ndarray:
        """``(num_items,)`` bool: True where an item meets every constraint (filters must be validated)."""
        n = len(self.years)
        ok = np.ones(n, dtype=bool)
        inc = [self.genres.index(g) for g in _norm(filters.include_genres)]
        if inc:
            sub = self.genre_matrix[:, inc]
            ok &= sub.all(axis=1) if filters.genre_match == "all" else sub.any(axis=1)
        exc = [self.genres.index(g) for g in _norm(filters.exclude_genres)]
        if exc:
            ok &= ~self.genre_matrix[:, exc].any(axis=1)
        if filters.year_min is not None or filters.year_max is not None:
            ok &= self.years >= 0
            if filters.year_min is not None:
                ok &= self.years >= filters.year_min
            if filters.year_max is not None:
                ok &= self.years <= filters.year_max
        if filters.min_ratings:
            ok &= self.num_ratings >= filters.min_ratings
        if filters.exclude_items:
            ok[np.asarray(filters.exclude_items, dtype=np.int64)] = False
        return ok

    def describe(self, filters: Filters) -> str:
        """A compact rendering of the constraints, e.g. ``genre Western AND year 2030-2040``."""
        parts = []
        if filters.include_genres:
            parts.append(f"genre {f' {filters.genre_match.upper()} '.join(filters.include_genres)}")
        if filters.exclude_genres:
            parts.append(f"not {', '.join(filters.exclude_genres)}")
        if filters.year_min is not None or filters.year_max is not None:
            lo = "" if filters.year_min is None else str(filters.year_min)
            hi = "" if filters.year_max is None else str(filters.year_max)
            parts.append(f"year {lo}-{hi}")
        if filters.min_ratings:
            parts.append(f">= {filters.min_ratings} ratings")
        if filters.exclude_items:
            parts.append(f"{len(filters.exclude_items)} excluded items")
        return " AND ".join(parts) or "no filters"
