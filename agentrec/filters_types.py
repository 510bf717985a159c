"""Facet-keyed hard constraints: :class:`Range` and :class:`Filters` (pure Python, no heavy imports).

Filters name facets of a :class:`~agentrec.schema.CatalogSchema` ("genre", "year", "brand", "price", ...);
the schema validates them, renders them in words and matches them (``agentrec.schema``). They are importable
as ``agentrec.types.Filters`` and ``agentrec.schema.Filters``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Filters", "MatchMode", "Range", "facet_key", "mentions_word"]

MatchMode = Literal["all", "any"]


def facet_key(name: str) -> str:
    """A facet name from any key: lower-case, other characters -> ``_`` (``"Sub Category"`` -> ``"sub_category"``)."""
    key = re.sub(r"[^a-z0-9_]+", "_", str(name).strip().lower()).strip("_")
    return key if key and not key[0].isdigit() else f"f_{key}"


@dataclass(frozen=True)
class Range:
    """A closed interval on a numeric facet; a ``None`` bound is open.

    Attributes:
        low: the least allowed value (inclusive), or None.
        high: the greatest allowed value (inclusive), or None.
    """

    low: float | None = None
    high: float | None = None

    def contains(self, x: float) -> bool:
        """True when ``low <= x <= high`` (open bounds always hold)."""
        return (self.low is None or x >= self.low) and (self.high is None or x <= self.high)

    @property
    def is_empty(self) -> bool:
        """True for an inverted range (``low > high``) that no value can meet."""
        return self.low is not None and self.high is not None and self.low > self.high


def _word_pattern(word: str) -> re.Pattern[str]:
    stem = word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word
    return re.compile(rf"(?<![\w]){re.escape(stem)}(?:s|es)?(?![\w])", re.IGNORECASE)


def mentions_word(text: str, word: str) -> bool:
    """True when ``text`` mentions ``word`` as a whole word, singular or plural ("zombies" finds "zombie")."""
    return _word_pattern(word).search(text) is not None


def _values(where: str, facet: str, raw: object) -> tuple[str, ...]:
    if isinstance(raw, str):
        raise ValueError(f"{where}[{facet!r}] must be a list of values, not the string {raw!r}; wrap it: [{raw!r}]")
    if not isinstance(raw, Iterable):
        raise ValueError(f"{where}[{facet!r}] must be a list of values, got {type(raw).__name__}")
    return tuple(dict.fromkeys(str(v) for v in raw))


def _range(where: str, facet: str, raw: object) -> Range:
    if isinstance(raw, Range):
        return raw
    if isinstance(raw, Mapping):
        return Range(raw.get("low"), raw.get("high"))
    if isinstance(raw, tuple | list) and len(raw) == 2:
        return Range(*raw)
    raise ValueError(f"{where}[{facet!r}] must hold Range(low, high) values or (low, high) pairs, got {raw!r}")


def _ranges(where: str, facet: str, raw: object) -> tuple[Range, ...]:
    if isinstance(raw, Range | Mapping):
        return (_range(where, facet, raw),)
    if isinstance(raw, tuple | list) and len(raw) == 2 and not any(isinstance(r, Range | tuple | list) for r in raw):
        return (_range(where, facet, raw),)  # a bare (low, high) pair
    if not isinstance(raw, Iterable):
        raise ValueError(f"{where}[{facet!r}] must be a list of ranges, got {type(raw).__name__}")
    return tuple(_range(where, facet, r) for r in raw)


@dataclass(frozen=True)
class Filters:
    """Hard constraints keyed by facet name, applied exactly.

    Attributes:
        include: facet -> values an item must carry (all of them or any, per ``match``).
        match: facet -> ``"all"`` or ``"any"`` for an included facet; when absent, ``"all"`` for a facet
            whose items may carry several values and ``"any"`` for a single-valued one (a brand).
        exclude: facet -> values an item must not carry.
        ranges: numeric facet -> allowed ranges (a union); an item without a value fails.
        exclude_ranges: numeric facet -> forbidden ranges; an item without a value passes.
        min_ratings: least number of training interactions an item must have.
        exclude_items: item indices never to return.
        exclude_words: words an item's text (title, overview, tags) must not mention ("nothing latex"): the
            constraint for a wish that names no facet value. Matched as whole words, plurals included.

    Values are matched case- and space-insensitively. Facets with no values are dropped, so
    ``Filters(include={"genre": ()})`` is empty.
    """

    include: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    match: Mapping[str, MatchMode] = field(default_factory=dict)
    exclude: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    ranges: Mapping[str, tuple[Range, ...]] = field(default_factory=dict)
    exclude_ranges: Mapping[str, tuple[Range, ...]] = field(default_factory=dict)
    min_ratings: int | None = None
    exclude_items: tuple[int, ...] = ()
    exclude_words: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("include", "exclude"):
            raw = getattr(self, name)
            clean = {facet_key(k): v for k, r in dict(raw).items() if (v := _values(name, str(k), r))}
            object.__setattr__(self, name, clean)
        for name in ("ranges", "exclude_ranges"):
            raw = getattr(self, name)
            clean_r = {facet_key(k): rs for k, r in dict(raw).items() if (rs := _ranges(name, str(k), r))}
            object.__setattr__(self, name, clean_r)
        for facet, mode in dict(self.match).items():
            if mode not in ("all", "any"):
                raise ValueError(f"match[{facet!r}] must be 'all' or 'any', got {mode!r}")
        object.__setattr__(self, "match", {facet_key(k): v for k, v in dict(self.match).items()})
        object.__setattr__(self, "exclude_items", tuple(int(i) for i in self.exclude_items))
        words = self.exclude_words
        if isinstance(words, str):
            raise ValueError(f"exclude_words must be a list of words, not the string {words!r}; wrap it: [{words!r}]")
        clean_w = (str(w).strip().lower() for w in words)
        object.__setattr__(self, "exclude_words", tuple(dict.fromkeys(w for w in clean_w if w)))

    def __hash__(self) -> int:
        def frozen(m: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
            return tuple(sorted(m.items()))

        return hash(
            (
                frozen(self.include),
                frozen(self.match),
                frozen(self.exclude),
                frozen(self.ranges),
                frozen(self.exclude_ranges),
                self.min_ratings,
                self.exclude_items,
                self.exclude_words,
            )
        )

    def is_empty(self) -> bool:
        """True when no constraint is set."""
        return not (
            self.include
            or self.exclude
            or self.ranges
            or self.exclude_ranges
            or self.min_ratings
            or self.exclude_items
            or self.exclude_words
        )

    def facet_names(self) -> set[str]:
        """Every facet the filters mention."""
        return set(self.include) | set(self.exclude) | set(self.ranges) | set(self.exclude_ranges)
