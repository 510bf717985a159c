"""Facet filter flags shared by ``agentrec search`` and ``agentrec candidates``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentrec.types import Filters

__all__ = ["add_facet_args", "filters_from_args"]


def add_facet_args(parser: argparse.ArgumentParser, *, exclude_flag: str = "--exclude") -> None:
    """Add ``--facet NAME=VALUE``, ``<exclude_flag> NAME=VALUE``, ``--range NAME=LO:HI`` and ``--exclude-range``."""
    parser.add_argument("--facet", action="append", default=[], metavar="NAME=VALUE",
                        help="a value results must carry, e.g. genre=Comedy or brand=3M (repeatable)")  # fmt: skip
    parser.add_argument(exclude_flag, dest="exclude_facet", action="append", default=[], metavar="NAME=VALUE",
                        help="a value results must not carry, e.g. genre=Horror (repeatable)")  # fmt: skip
    parser.add_argument("--range", action="append", default=[], metavar="NAME=LO:HI",
                        help="an allowed range of a numeric facet, e.g. year=1990:1999 or price=:20; several "
                        "ranges of one facet are a union (repeatable)")  # fmt: skip
    parser.add_argument("--exclude-range", action="append", default=[], metavar="NAME=LO:HI",
                        help="a forbidden range of a numeric facet, e.g. year=1960:1969 (repeatable)")  # fmt: skip
    parser.add_argument("--match-any", action="append", default=[], metavar="NAME",
                        help="results need only one of the --facet values of NAME, not all (repeatable)")  # fmt: skip


def _pair(flag: str, raw: str) -> tuple[str, str]:
    name, sep, value = raw.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise ValueError(f"{flag} expects NAME=VALUE (e.g. genre=Comedy), got {raw!r}")
    return name.strip(), value.strip()


def _bound(flag: str, raw: str, text: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{flag} expects NAME=LO:HI with numbers (e.g. year=1990:1999), got {raw!r}") from None


def filters_from_args(
    args: argparse.Namespace,
    *,
    genres: list[str] | None = None,
    exclude_genres: list[str] | None = None,
    any_genre: bool = False,
    year_min: int | None = None,
    year_max: int | None = None,
    min_ratings: int | None = None,
    exclude_items: tuple[int, ...] = (),
) -> Filters:
    """The :class:`~agentrec.types.Filters` the facet flags (and the older genre / year flags) state.

    Raises:
        ValueError: for a malformed flag value, naming the flag and the expected form.
    """
    from agentrec.types import Filters, Range

    include: dict[str, list[str]] = {"genre": list(genres or [])}
    exclude: dict[str, list[str]] = {"genre": list(exclude_genres or [])}
    for raw in args.facet:
        name, value = _pair("--facet", raw)
        include.setdefault(name, []).append(value)
    for raw in args.exclude_facet:
        name, value = _pair("--exclude", raw)
        exclude.setdefault(name, []).append(value)
    ranges: dict[str, list[Range]] = {}
    if year_min is not None or year_max is not None:
        ranges["year"] = [Range(year_min, year_max)]
    forbidden: dict[str, list[Range]] = {}
    for flag, specs, into in (("--range", args.range, ranges), ("--exclude-range", args.exclude_range, forbidden)):
        for raw in specs:
            name, span = _pair(flag, raw)
            lo, sep, hi = span.partition(":")
            if not sep:
                raise ValueError(f"{flag} expects NAME=LO:HI (e.g. year=1990:1999 or price=:20), got {raw!r}")
            into.setdefault(name, []).append(Range(_bound(flag, raw, lo), _bound(flag, raw, hi)))
    match = {name: "any" for name in args.match_any} | ({"genre": "any"} if any_genre else {})
    return Filters(
        include={k: tuple(v) for k, v in include.items()},
        exclude={k: tuple(v) for k, v in exclude.items()},
        match={k: v for k, v in match.items() if include.get(k)},  # type: ignore[misc]
        ranges={k: tuple(v) for k, v in ranges.items()},
        exclude_ranges={k: tuple(v) for k, v in forbidden.items()},
        min_ratings=min_ratings,
        exclude_items=exclude_items,
    )
