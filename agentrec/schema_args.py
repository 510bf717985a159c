"""Tool arguments generated from a catalogue schema: one flat ``filters`` object for every search tool.

For a categorical facet ``c`` (genre, brand, ...): ``c`` (values every result must have), ``c_match``
(``"all"`` or ``"any"``) and ``exclude_c``. For a numeric facet ``n`` (year, price, ...): ``n_min`` /
``n_max`` (one allowed range), ``n_ranges`` (a union, e.g. ``[[1960, 1969], [1970, 1979]]``) and
``exclude_n_min`` / ``exclude_n_max`` (one forbidden range). :func:`filters_from_args` turns such an object
into :class:`~agentrec.types.Filters`; :func:`filter_args_model` builds the pydantic model an LLM framework
shows the model (pydantic is imported only there).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from agentrec.types import Filters, Range

if TYPE_CHECKING:
    from agentrec.schema import CatalogSchema, Facet

__all__ = ["filter_arg_specs", "filter_args_model", "filters_from_args"]

_SHOW_ALL = 30  # vocabularies up to this size are listed in full in argument descriptions


def _values_hint(f: Facet) -> str:
    if not f.values:
        return ""
    if len(f.values) <= _SHOW_ALL:
        return f"; one of: {', '.join(f.values)}"
    return f"; e.g. {', '.join(f.values[:3])} ({len(f.values)} values in the catalogue)"


def _bounds_hint(f: Facet) -> str:
    if f.bounds is None:
        return ""
    return f"; the catalogue spans {f.format_number(f.bounds[0])} to {f.format_number(f.bounds[1])}"


def filter_arg_specs(schema: CatalogSchema) -> dict[str, tuple[str, str]]:
    """Argument name -> (type, description) for every filterable facet.

    Types are ``"values"``, ``"match"``, ``"number"`` and ``"ranges"``.
    """
    out: dict[str, tuple[str, str]] = {}
    for f in schema.categorical:
        how = "every result must have all of them unless" if f.multi else "a result must have one of them;"
        out[f.name] = ("values", f"{f.label} values wanted ({how} {f.name}_match says 'any'){_values_hint(f)}")
        out[f"{f.name}_match"] = ("match", f"'all' or 'any': whether results need every {f.label} listed or one")
        out[f"exclude_{f.name}"] = ("values", f"{f.label} values no result may have{_values_hint(f)}")
    for f in schema.numeric:
        unit = f" (in {f.unit})" if f.unit else ""
        out[f"{f.name}_min"] = ("number", f"least {f.label}{unit}, inclusive{_bounds_hint(f)}")
        out[f"{f.name}_max"] = ("number", f"greatest {f.label}{unit}, inclusive")
        out[f"{f.name}_ranges"] = (
            "ranges",
            f"allowed {f.label} ranges as [min, max] pairs, for 'A or B' (null for an open end); "
            f"use instead of {f.name}_min/{f.name}_max",
        )
        out[f"exclude_{f.name}_min"] = ("number", f"start of a {f.label} range no result may fall in")
        out[f"exclude_{f.name}_max"] = ("number", f"end of a {f.label} range no result may fall in")
    return out


def _number(name: str, raw: Any) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"filter {name!r} must be a number, got {raw!r}") from None


def _range_list(name: str, raw: Any) -> tuple[Range, ...]:
    if not isinstance(raw, list | tuple):
        raise ValueError(f"filter {name!r} must be a list of [min, max] pairs, got {raw!r}")
    out = []
    for pair in raw:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise ValueError(f"filter {name!r}: each range must be a [min, max] pair, got {pair!r}")
        out.append(Range(_number(name, pair[0]), _number(name, pair[1])))
    return tuple(out)


def filters_from_args(
    schema: CatalogSchema,
    args: Mapping[str, Any] | None,
    *,
    resolve: Callable[[str, str], tuple[str, ...]] | None = None,
) -> Filters:
    """The :class:`Filters` a tool's ``filters`` argument states (validated against ``schema``).

    Args:
        schema: the catalogue's schema.
        args: the flat argument object (see the module docstring); None or {} means no filter.
        resolve: optional ``(facet, value) -> catalogue values`` for synonyms ("sci-fi" -> "Sci-Fi"); it
            returns () for an unknown value. Without it, values are matched case-insensitively.

    Raises:
        ValueError: for an unknown argument (listing the valid ones), a value the catalogue lacks (listing
            the valid ones) or a malformed number or range.
    """
    specs = filter_arg_specs(schema)
    include: dict[str, tuple[str, ...]] = {}
    exclude: dict[str, tuple[str, ...]] = {}
    match: dict[str, Any] = {}
    ranges: dict[str, tuple[Range, ...]] = {}
    excluded: dict[str, list[float | None]] = {}
    bounds: dict[str, list[float | None]] = {}
    for key, raw in (args or {}).items():
        if raw is None or raw == [] or raw == "":
            continue
        if key not in specs:
            valid = ", ".join(specs) or "none (this catalogue has no filterable facets)"
            raise ValueError(f"unknown filter {key!r}; valid filters are: {valid}")
        kind = specs[key][0]
        if kind == "values":
            facet = key.removeprefix("exclude_")
            values = (raw,) if isinstance(raw, str) else tuple(str(v) for v in raw)
            if resolve is not None:
                values = tuple(dict.fromkeys(r for v in values for r in (resolve(facet, v) or (v,))))
            (exclude if key.startswith("exclude_") else include)[facet] = values
        elif kind == "match":
            match[key.removesuffix("_match")] = str(raw).strip().lower()
        elif kind == "ranges":
            ranges[key.removesuffix("_ranges")] = _range_list(key, raw)
        elif key.startswith("exclude_"):
            facet, end = key.removeprefix("exclude_").rsplit("_", 1)
            excluded.setdefault(facet, [None, None])[end == "max"] = _number(key, raw)
        else:
            facet, end = key.rsplit("_", 1)
            bounds.setdefault(facet, [None, None])[end == "max"] = _number(key, raw)
    for facet, (low, high) in bounds.items():
        if facet in ranges:
            raise ValueError(f"give either {facet}_ranges or {facet}_min/{facet}_max, not both")
        ranges[facet] = (Range(low, high),)
    filters = Filters(
        include=include,
        exclude=exclude,
        match={k: v for k, v in match.items() if k in include},
        ranges=ranges,
        exclude_ranges={f: (Range(lo, hi),) for f, (lo, hi) in excluded.items()},
    )
    schema.validate(filters)
    return filters


def filter_args_model(schema: CatalogSchema) -> type:
    """A pydantic model of the ``filters`` argument for ``schema`` (every field optional)."""
    from typing import Literal

    from pydantic import ConfigDict, Field, create_model

    types: dict[str, Any] = {
        "values": list[str] | None,
        "match": Literal["all", "any"] | None,
        "number": float | None,
        "ranges": list[tuple[float | None, float | None]] | None,
    }
    fields: dict[str, Any] = {
        name: (types[kind], Field(default=None, description=text))
        for name, (kind, text) in filter_arg_specs(schema).items()
    }
    return create_model(  # type: ignore[call-overload,no-any-return]
        "Filters", __config__=ConfigDict(extra="forbid"), __doc__="Hard constraints on the results.", **fields
    )
