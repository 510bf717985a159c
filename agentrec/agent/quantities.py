"""Numeric constraints in a request, for any numeric facet: periods, prices, lengths, ratings.

A quantity is a point (a year, a decade, an amount with a unit) with an optional comparator before or after it:
"from the 90s", "nothing before 1990", "between 1995 and 2005", "under $20", "less than 2 hours", "2000+",
"$10-$30", "4 stars or more". Each becomes an inclusive :class:`Span` of one kind ("year", "$", "min", "star",
...), which the grammar assigns to the catalogue's facet of that kind. The kind of a bare number is decided by
its shape: four digits from 1800 to 2099 are a year; a decade ("90s", "nineties") is a period.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Span", "find_quantities"]

_DECADE_WORDS = {"twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60, "seventies": 70,
                 "eighties": 80, "nineties": 90}  # fmt: skip
_NUM_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "ten": 10,
              "half an": 0.5, "half": 0.5}  # fmt: skip
_HIGH = r"under|below|less\s+than|cheaper\s+than|shorter\s+than|at\s+most|no\s+more\s+than|not\s+more\s+than|up\s+to|max(?:imum)?|before|earlier\s+than|older\s+than|until|till|no\s+later\s+than|by"  # noqa: E501
_LOW = r"over|above|more\s+than|longer\s+than|at\s+least|no\s+less\s+than|min(?:imum)?|after|since|later\s+than|newer\s+than|from|starting|no\s+earlier\s+than"  # noqa: E501
_STRICT = {"under", "below", "less than", "cheaper than", "shorter than", "before", "earlier than", "older than",
           "over", "above", "more than", "longer than", "after", "later than", "newer than"}  # fmt: skip
_DEC = r"(?:(early|mid|late)[\s-]*)?(?:the\s+)?((?:19|20)?\d0'?s|'\d0s|twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties)"  # noqa: E501
_YEAR = r"((?:18|19|20)\d{2})(?!\d|\s*(?:\$|dollars?|bucks|usd|€|euros?|minutes?|mins?|hours?|hrs?|stars?)\b)"
_NUM = r"(\d+(?:\.\d+)?|a|an|one|two|three|four|five|six|ten|half\s+an|half)"


@dataclass(frozen=True)
class Span:
    """One numeric constraint found in a message.

    Attributes:
        start / end: character positions in the message.
        phrase: the words, for notes ("before 1990").
        kind: "year", or the unit ("$", "min", "star", ...) of the amount.
        low / high: the inclusive bounds (None = open).
        unit_word: the unit as written, for messages ("dollars").
    """

    start: int
    end: int
    phrase: str
    kind: str
    low: float | None
    high: float | None
    unit_word: str = ""


def _decade(mod: str | None, token: str) -> tuple[int, int]:
    token = token.lstrip("'")
    if token in _DECADE_WORDS:
        start = 1900 + _DECADE_WORDS[token]
    else:
        n = int(token.rstrip("s").rstrip("'"))
        start = n if n >= 100 else (1900 + n if n >= 20 else 2000 + n)
    if mod == "early":
        return start, start + 3
    if mod == "mid":
        return start + 3, start + 6
    if mod == "late":
        return start + 6, start + 9
    return start, start + 9


def _amount_pattern(units: Mapping[str, str]) -> str:
    words = sorted((w for w in units if w not in ("$", "€")), key=len, reverse=True)
    unit_alt = "|".join(re.escape(w) for w in words)
    prefix = r"(?P<pre>[$€])\s?(?P<pnum>\d+(?:\.\d+)?)"
    suffix = rf"(?P<snum>\d+(?:\.\d+)?|a|an|one|two|three|four|five|six|ten|half\s+an|half)\s?(?P<unit>{unit_alt})\b"
    return rf"(?:{prefix}|{suffix})" if unit_alt else prefix


def _point_re(units: Mapping[str, str]) -> str:
    return rf"(?:(?P<dec>{_DEC})|(?P<amt>{_amount_pattern(units)})|(?P<year>{_YEAR}))"


def _parse_point(m: re.Match[str], units: Mapping[str, str], g: str = "") -> tuple[str, float, float, str] | None:
    """(kind, first, last, unit word) of one matched point; groups carry the suffix ``g``."""
    grp = m.groupdict()
    if grp.get(f"dec{g}"):
        mod = re.match(_DEC, grp[f"dec{g}"])
        assert mod is not None
        lo, hi = _decade(mod.group(1), mod.group(2))
        return "year", lo, hi, ""
    if grp.get(f"amt{g}"):
        if grp.get(f"pre{g}"):
            sign = grp[f"pre{g}"]
            value = float(grp[f"pnum{g}"])
            return units.get(sign, sign), value, value, sign
        word = grp[f"unit{g}"]
        raw = re.sub(r"\s+", " ", grp[f"snum{g}"])
        value = float(raw) if raw[0].isdigit() else float(_NUM_WORDS[raw])
        kind = units[word]
        if kind == "h":
            kind, value = "min", value * 60
        return kind, value, value, word
    if grp.get(f"year{g}"):
        y = float(re.match(r"\d{4}", grp[f"year{g}"]).group(0))  # type: ignore[union-attr]
        return "year", y, y, ""
    return None


def _suffixed(pattern: str, g: str) -> str:
    return re.sub(r"\(\?P<(\w+)>", lambda m: f"(?P<{m.group(1)}{g}>", pattern)


def find_quantities(
    text: str, units: Mapping[str, str], *, integer_kinds: frozenset[str] = frozenset({"year"})
) -> list[Span]:
    """Every numeric constraint in lower-cased ``text``, left to right (see the module docstring).

    Args:
        text: the message, lower-cased.
        units: unit word -> unit kind (a pack's ``units``; "hours" map to "h" and are converted to minutes).
        integer_kinds: kinds counted in whole numbers: "before 1990" ends at 1989, while "under $20" ends at 20.
    """
    point = _point_re(units)
    p1, p2 = _suffixed(point, "1"), _suffixed(point, "2")
    betweens = (
        re.compile(rf"\bbetween\s+{p1}\s*(?:and|-|–)\s*{p2}"),
        re.compile(rf"\bfrom\s+{p1}\s*(?:to|-|–|until|till|through)\s*{p2}"),
        re.compile(rf"(?<![\w$€]){p1}\s*(?:-|–|to)\s*{p2}"),
    )
    compare = re.compile(
        rf"\b(?:(?P<cmp>{_HIGH}|{_LOW})\s+(?:the\s+)?(?:year\s+)?)?{point}(?P<post>\s*\+|\s+or\s+(?:more|less|above|below|over|under|later|earlier|newer|older|cheaper)\b|\s+and\s+(?:up|above|over|later|newer|below|under|earlier|older)\b|\s+(?:on|onwards?|forward)\b)?"  # noqa: E501
    )
    spans: list[Span] = []
    taken: list[tuple[int, int]] = []
    for m in (m for rx in betweens for m in rx.finditer(text)):
        if any(s <= m.start() < e for s, e in taken):
            continue
        a, b = _parse_point(m, units, "1"), _parse_point(m, units, "2")
        if a is None or b is None or a[0] != b[0] or a[1] > b[2]:
            continue
        spans.append(Span(m.start(), m.end(), m.group(0).strip(), a[0], a[1], b[2], a[3] or b[3]))
        taken.append((m.start(), m.end()))
    for m in compare.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        parsed = _parse_point(m, units)
        if parsed is None:
            continue
        kind, first, last, word = parsed
        cmp = re.sub(r"\s+", " ", m.group("cmp") or "")
        post = re.sub(r"\s+", " ", (m.group("post") or "").strip())
        step = 1.0 if kind in integer_kinds else 0.0  # "under $20" keeps $20.00: amounts are not counted
        low: float | None = first
        high: float | None = last
        if cmp and re.fullmatch(_HIGH, cmp):
            low, high = None, (first - step if cmp in _STRICT else last)
        elif cmp == "from" and kind == "year" and not post:
            pass  # "from the 90s", "a movie from 1994": that period itself ("from 1994 on" is open-ended)
        elif cmp and re.fullmatch(_LOW, cmp):
            low, high = (last + step if cmp in _STRICT else first), None
        elif post.startswith("+") or re.search(r"more|above|over|later|newer|up|on|forward", post):
            low, high = first, None
        elif re.search(r"less|below|under|earlier|older|cheaper", post):
            low, high = None, last
        if kind == "year" and not (cmp or post or m.group("dec")) and not _year_context(text, m.start()):
            continue  # a lone number that only looks like a year ("1984" may be a title word): kept as text
        spans.append(Span(m.start(), m.end(), m.group(0).strip(), kind, low, high, word))
    spans.sort(key=lambda s: s.start)
    return spans


def _year_context(text: str, start: int) -> bool:
    """True when a bare four-digit year stands where a period is expected ("in 1995", "a 1995 film")."""
    before = text[max(0, start - 12) : start]
    return bool(re.search(r"\b(?:in|of|from|around|circa|year|a|an|the|made|released|or|and|,)\s*$", before))
