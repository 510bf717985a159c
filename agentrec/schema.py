"""The catalogue schema: which facets a catalogue has, and everything that depends on them.

One module owns facet matching (:class:`~agentrec.facet_index.FacetIndex` for the whole catalogue,
:meth:`CatalogSchema.item_violations` for one item), validation, rendering filters in words, the guard's
checkable facts and the vector-store metadata. Facets are derived from the data (``Item.genres`` -> "genre",
``Item.year`` -> "year", ``Item.tags`` -> "tag", ``Item.attributes`` by value type) and can be overridden by a
small declaration such as the ``[facets]`` table of a dataset spec::

    {"brand": {"kind": "categorical", "label": "brand"}, "price": {"unit": "$"}, "keywords": {"drop": True}}

A catalogue with no metadata has an empty schema, and every method still works.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from agentrec.facet_derive import derive_facets, item_raw, merge_facets
from agentrec.filters_types import Filters, MatchMode, Range, facet_key

if TYPE_CHECKING:
    from agentrec.types import Catalog, Item

__all__ = ["CatalogSchema", "Facet", "FacetIndex", "FacetKind", "Filters", "Range"]

logger = logging.getLogger(__name__)

FacetKind = Literal["categorical", "numeric", "text"]
_PREFIX_UNITS = ("$", "€", "£", "¥")
_LIST_LIMIT = 40


@dataclass(frozen=True)
class Facet:
    """One facet of a catalogue.

    Attributes:
        name: key in :class:`Filters` and tool arguments (lower-case, ``[a-z_][a-z0-9_]*``).
        kind: ``"categorical"``, ``"numeric"`` or ``"text"``.
        label: words for messages ("genre", "release year"); default: the name with ``_`` -> space.
        values: categorical: the vocabulary in display case, sorted.
        bounds: numeric: ``(min, max)`` over the catalogue.
        multi: categorical: an item may carry several values.
        unit: numeric: ``"$"``, ``"min"`` or ``""``.
        integer: numeric: whole numbers (years).
        filterable: False for text facets and for facets declared soft.
        source: where an item's value comes from: ``"genres"``, ``"tags"``, ``"year"`` or
            ``"attributes.<key>"``.
    """

    name: str
    kind: FacetKind
    label: str = ""
    values: tuple[str, ...] = ()
    bounds: tuple[float, float] | None = None
    multi: bool = True
    unit: str = ""
    integer: bool = False
    filterable: bool = True
    source: str = ""

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.name.replace("_", " "))

    def format_number(self, x: float) -> str:
        """``x`` in this facet's unit: ``"$19.99"``, ``"120 min"``, ``"1995"``."""
        if self.integer or float(x).is_integer():
            text = str(int(round(x)))
        elif self.unit in _PREFIX_UNITS:
            text = f"{x:.2f}"  # money keeps its cents
        else:
            text = f"{x:.2f}".rstrip("0").rstrip(".")
        if not self.unit:
            return text
        return f"{self.unit}{text}" if self.unit in _PREFIX_UNITS else f"{text} {self.unit}"

    def format_range(self, r: Range) -> str:
        """``"1990-1999"``, ``"2010+"``, ``"up to $20"``, ``"1995"``."""
        if r.low is not None and r.high is not None:
            if r.low == r.high:
                return self.format_number(r.low)
            return f"{self.format_number(r.low)}-{self.format_number(r.high)}"
        if r.low is not None:
            return f"{self.format_number(r.low)}+"
        if r.high is not None:
            return f"up to {self.format_number(r.high)}"
        return "any"


def _norm(value: str) -> str:
    return " ".join(str(value).split()).casefold()


def _choices(values: tuple[str, ...] | list[str], none: str) -> str:
    if not values:
        return none
    shown = ", ".join(values[:_LIST_LIMIT])
    return shown if len(values) <= _LIST_LIMIT else f"{shown}, ... ({len(values)} in all)"


class CatalogSchema:
    """The facets of one catalogue.

    Args:
        facets: the facets, in display order.
        name: the catalogue's name (for messages).
        num_items: the catalogue size (to validate ``exclude_items``); None skips that check.
    """

    def __init__(self, facets: tuple[Facet, ...] = (), *, name: str = "", num_items: int | None = None) -> None:
        names = [f.name for f in facets]
        if len(set(names)) != len(names):
            raise ValueError(f"facet names must be unique, got {names}")
        self.name = name
        self.facets = tuple(facets)
        self.num_items = num_items
        self._by_name = {f.name: f for f in self.facets}
        self._canonical = {f.name: {_norm(v): v for v in f.values} for f in self.facets if f.kind == "categorical"}

    def __repr__(self) -> str:
        return f"CatalogSchema(name={self.name!r}, facets=[{', '.join(f'{f.name}:{f.kind}' for f in self.facets)}])"

    @classmethod
    def from_catalog(
        cls, catalog: Catalog, declaration: Mapping[str, Any] | None = None, *, name: str = ""
    ) -> CatalogSchema:
        """Derive the schema of ``catalog``, overridden by ``declaration`` (see the module docstring).

        Raises:
            ValueError: for a declaration that is not a table of tables, names an unknown option or kind.
        """
        facets = derive_facets(catalog, declaration or {})
        return cls(tuple(Facet(**f) for f in facets), name=name, num_items=len(catalog))

    def facet(self, name: str) -> Facet:
        """The facet called ``name`` (case-insensitive).

        Raises:
            ValueError: for an unknown facet, listing the catalogue's facets.
        """
        found = self._by_name.get(facet_key(name))
        if found is None:
            have = _choices([f.name for f in self.facets], "none (this catalogue has no facets)")
            raise ValueError(f"unknown facet {name!r}; this catalogue's facets are: {have}")
        return found

    def has(self, name: str) -> bool:
        """True when the catalogue has a facet called ``name``."""
        return facet_key(name) in self._by_name

    @cached_property
    def categorical(self) -> tuple[Facet, ...]:
        """The filterable categorical facets."""
        return tuple(f for f in self.facets if f.kind == "categorical" and f.filterable)

    @cached_property
    def numeric(self) -> tuple[Facet, ...]:
        """The filterable numeric facets."""
        return tuple(f for f in self.facets if f.kind == "numeric" and f.filterable)

    def canonical(self, facet: str, value: str) -> str | None:
        """The catalogue's spelling of a categorical ``value`` (case/space-insensitive), or None."""
        return self._canonical.get(facet_key(facet), {}).get(_norm(value))

    def item_values(self, item: Item, facet: str) -> tuple[str, ...] | float | None:
        """An item's value of ``facet``: a tuple of values (categorical, text), a number, or None when absent."""
        f = self.facet(facet)
        raw = item_raw(item, f.source)
        if f.kind == "numeric":
            return _number(raw)
        if raw is None or raw == "" or raw == () or raw == []:
            return () if f.kind == "categorical" else None
        items = raw if isinstance(raw, tuple | list) else (raw,)
        if f.kind == "text":
            return tuple(str(v) for v in items)
        lookup = self._canonical[f.name]
        return tuple(dict.fromkeys(lookup.get(_norm(_as_str(v)), _as_str(v)) for v in items))

    def match_mode(self, filters: Filters, facet: str) -> MatchMode:
        """How the included values of ``facet`` combine: stated, else ``"all"`` when multi-valued, else ``"any"``."""
        mode = filters.match.get(facet)
        if mode is not None:
            return mode
        f = self._by_name.get(facet_key(facet))
        return "all" if f is None or f.multi else "any"

    def _filterable(self, argument: str, name: str, kind: FacetKind) -> Facet:
        try:
            f = self.facet(name)
        except ValueError as exc:
            raise ValueError(f"{argument}: {exc}") from None
        if not f.filterable:
            usable = [g.name for g in self.facets if g.filterable and g.kind == kind]
            raise ValueError(
                f"{argument}: facet {f.name!r} cannot be filtered on (it is {f.kind}); "
                f"filterable {kind} facets are: {_choices(usable, 'none')}"
            )
        if f.kind != kind:
            usable = [g.name for g in (self.numeric if kind == "numeric" else self.categorical)]
            hint = "give values in include/exclude" if f.kind == "categorical" else "give a range in ranges"
            raise ValueError(
                f"{argument}: facet {f.name!r} is {f.kind}, not {kind} ({hint}); "
                f"{kind} facets are: {_choices(usable, 'none')}"
            )
        return f

    def validate(self, filters: Filters) -> None:
        """Raise ``ValueError`` for malformed filters, naming the argument, the bad value and the valid choices.

        Unsatisfiable but well-formed filters (an inverted range, a value both included and excluded) do not
        raise; :meth:`conflicts` reports them.
        """
        for argument in ("include", "exclude"):
            for name, values in getattr(filters, argument).items():
                f = self._filterable(argument, name, "categorical")
                for v in values:
                    if self.canonical(f.name, v) is None:
                        raise ValueError(
                            f"{argument}: {f.label} {v!r} is not in this catalogue; "
                            f"valid {f.label} values are: {_choices(f.values, 'none')}"
                        )
        for name in filters.match:
            if name not in filters.include:
                raise ValueError(f"match: facet {name!r} has no values in include; valid: {sorted(filters.include)}")
        for argument in ("ranges", "exclude_ranges"):
            for name, ranges in getattr(filters, argument).items():
                self._filterable(argument, name, "numeric")
                for r in ranges:
                    for bound in (r.low, r.high):
                        if bound is not None and not math.isfinite(float(bound)):
                            raise ValueError(f"{argument}: {name} bound {bound!r} must be a finite number")
        if filters.min_ratings is not None and filters.min_ratings < 0:
            raise ValueError(f"min_ratings must be >= 0, got {filters.min_ratings}")
        if self.num_items is not None:
            for i in filters.exclude_items:
                if not 0 <= i < self.num_items:
                    raise ValueError(f"exclude_items: item index {i} does not exist; valid: 0..{self.num_items - 1}")

    def conflicts(self, filters: Filters) -> list[str]:
        """Reasons why ``filters`` can never be met, whatever the items (empty when consistent)."""
        out: list[str] = []
        for name, values in filters.include.items():
            f = self._by_name.get(facet_key(name))
            label = f.label if f else name
            both = [v for v in values if _norm(v) in {_norm(x) for x in filters.exclude.get(name, ())}]
            if both and (self.match_mode(filters, name) == "all" or len(both) == len(values)):
                out.append(f"{label} {', '.join(both)} both wanted and excluded")
            if f is not None and not f.multi and self.match_mode(filters, name) == "all" and len(values) > 1:
                out.append(f"an item has one {label}, so it cannot be {' and '.join(values)} at once")
        for name, ranges in filters.ranges.items():
            f = self._by_name.get(facet_key(name))
            if all(r.is_empty for r in ranges):
                fmt = f.format_range if f else str
                out.append(f"{f.label if f else name} range {', '.join(fmt(r) for r in ranges)} is empty (low > high)")
        return out

    def label(self, name: str) -> str:
        """The words for facet ``name`` (its name with spaces when unknown)."""
        f = self._by_name.get(facet_key(name))
        return f.label if f else name.replace("_", " ")

    def format_range(self, name: str, r: Range) -> str:
        """A range of facet ``name`` in words: ``"1990-1999"``, ``"$20+"``, ``"up to 120 min"``."""
        f = self._by_name.get(facet_key(name))
        return (f or Facet(name, "numeric")).format_range(r)

    def _display(self, name: str, values: tuple[str, ...]) -> list[str]:
        return [self.canonical(name, v) or v for v in values]

    def describe(self, filters: Filters, *, facets_only: bool = False) -> str:
        """The filters in words: ``"genre Comedy and Crime, not Horror, year 1990-1999 or 2010+"``.

        With ``facets_only`` the rating count and excluded items are left out, and no filter gives "".
        """
        parts: list[str] = []
        for name, values in filters.include.items():
            joiner = " and " if self.match_mode(filters, name) == "all" else " or "
            parts.append(f"{self.label(name)} {joiner.join(self._display(name, values))}")
        parts.extend(f"not {' or '.join(self._display(name, values))}" for name, values in filters.exclude.items())
        for name, ranges in filters.ranges.items():
            parts.append(f"{self.label(name)} {' or '.join(self.format_range(name, r) for r in ranges)}")
        for name, ranges in filters.exclude_ranges.items():
            parts.append(f"{self.label(name)} not {' or '.join(self.format_range(name, r) for r in ranges)}")
        parts.extend(f"nothing mentioning '{w}'" for w in filters.exclude_words)
        if facets_only:
            return ", ".join(parts)
        if filters.min_ratings:
            parts.append(f"at least {filters.min_ratings} ratings")
        if filters.exclude_items:
            n = len(filters.exclude_items)
            parts.append(f"{n} excluded item{'s' if n != 1 else ''}")
        return ", ".join(parts) or "no filters"

    def facts(self, item: Item) -> tuple[str, ...]:
        """Checkable facts about ``item`` for filterable facets: ``"genre: Comedy"``, ``"year: 1995"``."""
        out: list[str] = []
        for f in self.facets:
            if not f.filterable or f.kind == "text":
                continue
            value = self.item_values(item, f.name)
            if isinstance(value, tuple):
                out.extend(f"{f.name}: {v}" for v in value)
            elif value is not None:
                out.append(f"{f.name}: {f.format_number(value).removeprefix(f.unit).removesuffix(f' {f.unit}')}")
        return tuple(out)

    def fact_holds(self, item: Item, fact: str) -> bool:
        """True when ``fact`` (``"facet: value"``, as :meth:`facts` writes it) is true of ``item``."""
        name, sep, value = fact.partition(":")
        if not sep or not self.has(name.strip()):
            return False
        f = self.facet(name.strip())
        got = self.item_values(item, f.name)
        if isinstance(got, tuple):
            return _norm(value) in {_norm(v) for v in got}
        number = _number(value.strip().lstrip("".join(_PREFIX_UNITS)).removesuffix(f.unit).strip())
        return got is not None and number is not None and math.isclose(got, number, rel_tol=1e-9, abs_tol=1e-9)

    def vector_metadata(self, item: Item) -> dict[str, str | int | float | bool]:
        """Flat metadata for a vector store (see :func:`agentrec.schema_where.where_clause`).

        Categorical values become boolean flags ``"<facet>=<value>"`` (only the values the item carries);
        numeric facets store the number under the facet name plus ``"has_<facet>"``.
        """
        meta: dict[str, str | int | float | bool] = {}
        for f in self.facets:
            if not f.filterable or f.kind == "text":
                continue
            value = self.item_values(item, f.name)
            if isinstance(value, tuple):
                meta.update({flag_key(f.name, v): True for v in value})
            else:
                meta[f"has_{f.name}"] = value is not None
                if value is not None:
                    meta[f.name] = int(value) if f.integer else float(value)
        return meta

    def item_violations(
        self, filters: Filters, item: Item, *, num_ratings: int | None = None, item_index: int | None = None
    ) -> list[str]:
        """The constraints ``item`` violates, in words (empty when it passes).

        ``num_ratings`` is needed for ``min_ratings`` (unknown fails it), ``item_index`` for ``exclude_items``.
        Unknown facets and values are never carried.
        """
        return item_violations(self, filters, item, num_ratings=num_ratings, item_index=item_index)

    def merged(self, other: CatalogSchema) -> CatalogSchema:
        """A copy widened by ``other``: vocabularies and bounds united, ``other``'s new facets appended."""
        facets = merge_facets(self.facets, other.facets)
        sizes = [n for n in (self.num_items, other.num_items) if n is not None]
        return CatalogSchema(facets, name=self.name or other.name, num_items=max(sizes, default=None))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form (``from_dict`` reverses it)."""
        return {"name": self.name, "num_items": self.num_items, "facets": [asdict(f) for f in self.facets]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CatalogSchema:
        """Rebuild from :meth:`to_dict` output (lists from JSON become tuples)."""
        facets = []
        for raw in data.get("facets", ()):
            f = Facet(**raw)
            bounds = tuple(f.bounds) if f.bounds is not None else None
            facets.append(replace(f, values=tuple(f.values), bounds=bounds))  # type: ignore[arg-type]
        return cls(tuple(facets), name=str(data.get("name", "")), num_items=data.get("num_items"))


def flag_key(facet: str, value: str) -> str:
    """The vector-store metadata key that marks an item carrying ``value`` of ``facet``: ``"genre=sci-fi"``."""
    return f"{facet}={_norm(value)}"


def _as_str(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _number(raw: object) -> float | None:
    if raw is None or isinstance(raw, bool):
        return None
    try:
        x = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


from agentrec.facet_index import FacetIndex, item_violations  # noqa: E402  (FacetIndex uses the schema; re-exported here)
