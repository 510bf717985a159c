"""Deriving a catalogue's facets from its items (used by :meth:`agentrec.schema.CatalogSchema.from_catalog`).

Defaults: ``Item.genres`` -> categorical "genre" (multi), ``Item.year`` -> numeric "year" (integer),
``Item.tags`` -> categorical "tag" (multi); each ``Item.attributes`` key by the type of its values: lists
of strings -> categorical multi, numbers (or strings that all read as numbers) -> numeric, strings with few
distinct values -> categorical single, long strings -> text. Keys that look like identifiers (``id``,
``*_id``) are skipped. A facet exists only when some item has a value.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from agentrec.filters_types import facet_key

if TYPE_CHECKING:
    from agentrec.schema import Facet
    from agentrec.types import Catalog, Item

__all__ = ["DECLARATION_OPTIONS", "derive_facets", "facet_key", "item_raw", "merge_facets"]

logger = logging.getLogger(__name__)

DECLARATION_OPTIONS = ("kind", "label", "unit", "drop", "multi", "integer", "filterable", "soft", "name")
_KINDS = ("categorical", "numeric", "text")
_BUILTIN = (("genres", "genre"), ("year", "year"), ("tags", "tag"))
_TEXT_MIN_MEAN_LENGTH = 40


def item_raw(item: Item, source: str) -> Any:
    """The raw value behind a facet ``source`` (``"genres"``, ``"tags"``, ``"year"``, ``"attributes.<key>"``)."""
    if source.startswith("attributes."):
        attrs = item.attributes
        return attrs.get(source[len("attributes.") :]) if attrs else None
    return getattr(item, source, None)


def _as_number(v: object) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    try:
        x = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _present(v: object) -> bool:
    return v is not None and v != "" and not (isinstance(v, tuple | list) and not v)


def _infer(key: str, values: list[Any], num_items: int) -> dict[str, Any] | None:
    """The default facet for an attribute from its non-empty values, or None to skip it."""
    if all(isinstance(v, tuple | list) for v in values):
        return {"kind": "categorical", "multi": True}
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return {"kind": "numeric"}
    if all(isinstance(v, bool) for v in values):
        return {"kind": "categorical", "multi": False}
    if all(isinstance(v, str | int | float) for v in values):
        if key == "id" or key.endswith("_id"):
            return None  # an identifier, not a facet
        if all(_as_number(v) is not None for v in values):
            return {"kind": "numeric"}
        distinct = len({str(v).strip().casefold() for v in values})
        if distinct < max(50, 0.05 * num_items):
            return {"kind": "categorical", "multi": False}
        # Short names that repeat across items (brands, makers, labels) are values to filter on; short strings
        # that are nearly all different (titles, model numbers) are not.
        words = sum(len(str(v).split()) for v in values) / len(values)
        if words <= 4 and distinct <= 0.6 * len(values):
            return {"kind": "categorical", "multi": False}
        if sum(len(str(v)) for v in values) / len(values) >= _TEXT_MIN_MEAN_LENGTH:
            return {"kind": "text", "filterable": False}
        return None
    return None


def _vocabulary(raw_values: list[Any]) -> tuple[str, ...]:
    """Distinct values (case/space-insensitive), each in its most frequent spelling, sorted."""
    spellings: dict[str, Counter[str]] = {}
    for raw in raw_values:
        for v in raw if isinstance(raw, tuple | list) else (raw,):
            s = str(int(v)) if isinstance(v, float) and v.is_integer() else " ".join(str(v).split())
            if s:
                spellings.setdefault(s.casefold(), Counter())[s] += 1
    return tuple(sorted((c.most_common(1)[0][0] for c in spellings.values()), key=lambda s: (s.casefold(), s)))


def _check_declaration(declaration: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, spec in declaration.items():
        if not isinstance(spec, Mapping):
            raise ValueError(
                f"facet declaration {key!r} must be a table of options such as {{'label': ..., 'unit': ...}}, "
                f"got {spec!r}"
            )
        unknown = [k for k in spec if k not in DECLARATION_OPTIONS]
        if unknown:
            raise ValueError(
                f"facet declaration {key!r}: unknown option(s) {', '.join(map(repr, unknown))}; "
                f"valid options are: {', '.join(DECLARATION_OPTIONS)}"
            )
        if "kind" in spec and spec["kind"] not in _KINDS:
            raise ValueError(f"facet declaration {key!r}: kind {spec['kind']!r} is not one of {', '.join(_KINDS)}")
        out[facet_key(key)] = dict(spec)
    return out


def derive_facets(catalog: Catalog, declaration: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Facet fields (``Facet(**d)``) for ``catalog``, in order: genre, year, tag, then attributes by key.

    Raises:
        ValueError: for a malformed declaration (see :data:`DECLARATION_OPTIONS`).
    """
    decl = _check_declaration(declaration)
    sources: list[tuple[str, str, dict[str, Any] | None]] = []  # (facet name, source, default spec)
    for source, name in _BUILTIN:
        spec = {"genres": {"kind": "categorical", "multi": True}, "tags": {"kind": "categorical", "multi": True}}
        sources.append((name, source, spec.get(source, {"kind": "numeric", "integer": True})))
    attr_values: dict[str, list[Any]] = {}
    for item in catalog.items:
        for key, v in (item.attributes or {}).items():
            if _present(v):
                attr_values.setdefault(str(key), []).append(v)
    taken = {name for name, _, _ in sources}
    for key in sorted(attr_values):
        name = facet_key(key)
        if name in taken:
            logger.info("attribute %r is not a facet: the name %r is taken", key, name)
            continue
        taken.add(name)
        sources.append((name, f"attributes.{key}", _infer(name, attr_values[key], len(catalog))))
    facets = []
    for name, source, default in sources:
        spec = decl.pop(name, None)
        if spec is None and source.startswith("attributes."):
            spec = decl.pop(facet_key(source[len("attributes.") :]), None)
        spec = spec or {}
        if spec.get("drop") or (default is None and "kind" not in spec):
            continue
        built = _build(catalog, name, source, {**(default or {}), **spec})
        if built is not None:
            facets.append(built)
    for name in decl:
        logger.warning("facet declaration %r matches no item value in this catalogue; ignored", name)
    return facets


def _build(catalog: Catalog, name: str, source: str, spec: dict[str, Any]) -> dict[str, Any] | None:
    raw = [v for it in catalog.items if _present(v := item_raw(it, source))]
    if not raw:
        return None
    kind = spec["kind"]
    out: dict[str, Any] = {"name": facet_key(spec.get("name", name)), "kind": kind, "source": source}
    out["label"] = str(spec.get("label", ""))
    filterable = kind != "text" and not spec.get("soft", False)
    out["filterable"] = bool(spec.get("filterable", filterable))
    if kind == "categorical":
        out["values"] = _vocabulary(raw)
        out["multi"] = bool(spec.get("multi", any(isinstance(v, tuple | list) for v in raw)))
    elif kind == "numeric":
        numbers = [x for v in raw if (x := _as_number(v)) is not None]
        if not numbers:
            logger.warning("facet %r declared numeric but no value reads as a number; dropped", name)
            return None
        out["bounds"] = (min(numbers), max(numbers))
        out["integer"] = bool(spec.get("integer", all(float(x).is_integer() for x in numbers)))
        out["unit"] = str(spec.get("unit", "min" if name == "runtime" else ""))
        out["multi"] = False
    else:
        out["multi"] = False
    return out


def merge_facets(ours: tuple[Facet, ...], theirs: tuple[Facet, ...]) -> tuple[Facet, ...]:
    """``ours`` widened by ``theirs``: vocabularies and bounds united, new facets appended (same kind only)."""
    facets = {f.name: f for f in ours}
    for g in theirs:
        f = facets.get(g.name)
        if f is None or f.kind != g.kind:
            facets.setdefault(g.name, g)
        elif f.kind == "categorical":
            values = tuple(sorted(set(f.values) | set(g.values), key=lambda v: (v.casefold(), v)))
            facets[g.name] = replace(f, values=values)
        elif f.bounds is not None and g.bounds is not None:
            facets[g.name] = replace(f, bounds=(min(f.bounds[0], g.bounds[0]), max(f.bounds[1], g.bounds[1])))
    return tuple(facets.values())
