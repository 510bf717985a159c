"""Vectorised facet matching over the whole catalogue: one boolean mask per :class:`~agentrec.schema.Filters`.

Categorical facets are held as an inverted index (normalised value -> sorted item indices), numeric facets
as one ``float64`` column with NaN where an item has no value. The semantics are those of
:meth:`agentrec.schema.CatalogSchema.item_violations`, which checks one item and says why it fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from agentrec.filters_types import Filters, Range, mentions_word

if TYPE_CHECKING:
    from agentrec.schema import CatalogSchema
    from agentrec.types import Catalog, Item

__all__ = ["FacetIndex", "item_text", "item_violations"]


def _norm(value: str) -> str:
    return " ".join(str(value).split()).casefold()


@dataclass(eq=False)
class FacetIndex:
    """Pre-computed facet columns of one catalogue.

    Attributes:
        schema: the catalogue's schema.
        catalog: the catalogue (for per-item checks).
        postings: categorical facet -> normalised value -> ``(n,)`` int64 sorted item indices carrying it.
        numbers: numeric facet -> ``(num_items,)`` float64, NaN where unknown.
        num_ratings: ``(num_items,)`` int64 training interactions per item.
    """

    schema: CatalogSchema
    catalog: Catalog
    postings: dict[str, dict[str, np.ndarray]]
    numbers: dict[str, np.ndarray]
    num_ratings: np.ndarray
    _word_masks: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, schema: CatalogSchema, catalog: Catalog, num_ratings: np.ndarray) -> FacetIndex:
        """Index ``catalog`` under ``schema``; ``num_ratings`` is ``(num_items,)`` training interactions per item.

        Raises:
            ValueError: when ``num_ratings`` does not have one entry per item.
        """
        n = len(catalog)
        counts = np.asarray(num_ratings, dtype=np.int64)
        if counts.shape != (n,):
            raise ValueError(f"num_ratings must have shape ({n},) (one count per item), got {counts.shape}")
        postings: dict[str, dict[str, np.ndarray]] = {}
        numbers: dict[str, np.ndarray] = {}
        for f in schema.facets:
            if f.kind == "categorical":
                lists: dict[str, list[int]] = {}
                for i, item in enumerate(catalog.items):
                    values = schema.item_values(item, f.name)
                    for v in values if isinstance(values, tuple) else ():
                        lists.setdefault(_norm(v), []).append(i)
                postings[f.name] = {v: np.asarray(ix, dtype=np.int64) for v, ix in lists.items()}
            elif f.kind == "numeric":
                col = [schema.item_values(item, f.name) for item in catalog.items]
                numbers[f.name] = np.array([np.nan if x is None else x for x in col], dtype=np.float64)
        return cls(schema, catalog, postings, numbers, counts)

    @property
    def num_items(self) -> int:
        """The catalogue size."""
        return len(self.num_ratings)

    def value_mask(self, facet: str, value: str) -> np.ndarray:
        """``(num_items,)`` bool: items carrying ``value`` of categorical ``facet`` (all False when unknown)."""
        out = np.zeros(self.num_items, dtype=bool)
        ix = self.postings.get(facet, {}).get(_norm(value))
        if ix is not None:
            out[ix] = True
        return out

    def _in_ranges(self, facet: str, ranges: tuple[Range, ...]) -> np.ndarray:
        col = self.numbers.get(facet)
        if col is None:
            return np.zeros(self.num_items, dtype=bool)
        hit = np.zeros(self.num_items, dtype=bool)
        for r in ranges:
            # NaN compares False, so an item without a value is in no range.
            inside = ~np.isnan(col)
            if r.low is not None:
                inside &= col >= r.low
            if r.high is not None:
                inside &= col <= r.high
            hit |= inside
        return hit

    def mask(self, filters: Filters) -> np.ndarray:
        """``(num_items,)`` bool: True where an item meets every constraint.

        Unknown facets and values are carried by no item (an include on them fails every item, an exclude
        removes nothing); call :meth:`CatalogSchema.validate` first to turn them into an error.
        """
        ok = np.ones(self.num_items, dtype=bool)
        for facet, values in filters.include.items():
            masks = [self.value_mask(facet, v) for v in values]
            if self.schema.match_mode(filters, facet) == "all":
                ok &= np.logical_and.reduce(masks)
            else:
                ok &= np.logical_or.reduce(masks)
        for facet, values in filters.exclude.items():
            for v in values:
                ok &= ~self.value_mask(facet, v)
        for facet, ranges in filters.ranges.items():
            ok &= self._in_ranges(facet, ranges)
        for facet, ranges in filters.exclude_ranges.items():
            ok &= ~self._in_ranges(facet, ranges)
        if filters.min_ratings:
            ok &= self.num_ratings >= filters.min_ratings
        if filters.exclude_items:
            ix = np.asarray(filters.exclude_items, dtype=np.int64)
            ok[ix[(ix >= 0) & (ix < self.num_items)]] = False
        for word in filters.exclude_words:
            ok &= ~self.word_mask(word)
        return ok

    def word_mask(self, word: str) -> np.ndarray:
        """``(num_items,)`` bool: True where an item's text mentions ``word`` (cached per word)."""
        key = word.strip().lower()
        hit = self._word_masks.get(key)
        if hit is None:
            if len(self._word_masks) > 256:
                self._word_masks.clear()
            hit = np.fromiter((mentions_word(t, key) for t in self._texts), dtype=bool, count=self.num_items)
            self._word_masks[key] = hit
        return hit

    @cached_property
    def _texts(self) -> list[str]:
        return [item_text(it) for it in self.catalog.items]

    def violations(self, filters: Filters, item_index: int) -> list[str]:
        """The constraints item ``item_index`` violates, in words (empty when it passes)."""
        return self.schema.item_violations(
            filters,
            self.catalog[item_index],
            num_ratings=int(self.num_ratings[item_index]),
            item_index=item_index,
        )

    def count(self, filters: Filters) -> int:
        """How many items meet ``filters``."""
        return int(self.mask(filters).sum())


def _carried(schema: CatalogSchema, item: Item, name: str) -> set[str]:
    if not schema.has(name) or schema.facet(name).kind != "categorical":
        return set()
    value = schema.item_values(item, name)
    return {_norm(v) for v in value} if isinstance(value, tuple) else set()


def _number(schema: CatalogSchema, item: Item, name: str) -> float | None:
    if not schema.has(name) or schema.facet(name).kind != "numeric":
        return None
    value = schema.item_values(item, name)
    return value if isinstance(value, float) else None


def item_violations(
    schema: CatalogSchema,
    filters: Filters,
    item: Item,
    *,
    num_ratings: int | None = None,
    item_index: int | None = None,
) -> list[str]:
    """The constraints of ``filters`` that ``item`` violates, in words (empty when it passes).

    The per-item twin of :meth:`FacetIndex.mask` (see :meth:`CatalogSchema.item_violations`).
    """
    out: list[str] = []
    for name, values in filters.include.items():
        have = _carried(schema, item, name)
        missing = [v for v in values if _norm(v) not in have]
        if schema.match_mode(filters, name) == "all" and missing:
            out.append(f"missing {schema.label(name)} {', '.join(missing)}")
        elif schema.match_mode(filters, name) == "any" and len(missing) == len(values):
            out.append(f"has none of {schema.label(name)} {', '.join(values)}")
    for name, values in filters.exclude.items():
        bad = [v for v in values if _norm(v) in _carried(schema, item, name)]
        if bad:
            out.append(f"has excluded {schema.label(name)} {', '.join(bad)}")
    for name, ranges in filters.ranges.items():
        x = _number(schema, item, name)
        label, words = schema.label(name), " or ".join(schema.format_range(name, r) for r in ranges)
        if x is None:
            out.append(f"has no {label}")
        elif not any(r.contains(x) for r in ranges):
            out.append(f"{label} {schema.format_range(name, Range(x, x))} outside {words}")
    for name, ranges in filters.exclude_ranges.items():
        x = _number(schema, item, name)
        hit = [r for r in ranges if x is not None and r.contains(x)]
        if x is not None and hit:
            value, excluded = schema.format_range(name, Range(x, x)), schema.format_range(name, hit[0])
            out.append(f"{schema.label(name)} {value} in excluded {excluded}")
    if filters.min_ratings and (num_ratings is None or num_ratings < filters.min_ratings):
        out.append(f"{num_ratings if num_ratings is not None else 'unknown'} ratings < {filters.min_ratings}")
    if item_index is not None and item_index in set(filters.exclude_items):
        out.append("explicitly excluded")
    text = item_text(item) if filters.exclude_words else ""
    out.extend(f"mentions '{w}'" for w in filters.exclude_words if mentions_word(text, w))
    return out


def item_text(item: Item) -> str:
    """The words an item's text shows: title, overview and tags (what ``exclude_words`` is matched against)."""
    return " ".join((item.title, item.overview, " ".join(item.tags)))
