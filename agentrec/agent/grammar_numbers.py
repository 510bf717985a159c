"""Numeric facets in a request: quantities on the catalogue's facets, their unions and intersections.

Length words ("something shorter") are read against the catalogue's own durations.
"""

from __future__ import annotations

import re

from agentrec.agent.lexicon import Lexicon
from agentrec.agent.quantities import Span
from agentrec.agent.request import Hit, Request, linked

__all__ = ["apply_quantities", "is_topic_period", "length_spans"]

_QUANTITY_WORDS = {"year": "years", "$": "prices", "€": "prices", "min": "lengths", "star": "star ratings"}
_SHORT = re.compile(r"\b(?:shorter|short(?=\s+(?:one|ones|\w+s?\b))|quick\s+(?:one|watch|listen|read)|brief)\b")
_LONG = re.compile(r"\b(?:longer|long(?=\s+(?:one|ones|\w+s?\b))|epic|lengthy)\b")


_RECENT = re.compile(r"\b(?:recent|recently\s+released|latest|newest)\b")
# A period named as a topic or a setting ("set in the 1970s", "about the sixties", "with 1970s in it"): what an
# item is about, not when it was made; it stays search text.
_TOPIC_BEFORE = re.compile(
    r"(?:\bset|\btakes?\s+place|\btaking\s+place|\babout|\binvolv(?:es|ing)|\bfeaturing|\bthemed\s+on|"
    r"\bthinking\s+of|\bsomething\s+with|\bwith)(?:\s+in)?\s+(?:the\s+)?$"
)
_AGE_VALUE = re.compile(r"\b(old|older|new|newer)\s+([a-z][\w-]*)")
_TOPIC_AFTER = re.compile(r"\s+(?:in\s+it|as\s+(?:a\s+|the\s+)?(?:setting|backdrop|theme))\b")


def _age_words(nouns: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Patterns for "new" and "old" where they speak of when the items were made.

    That is only about the items ("new releases", "something older", "old movies"), not in a title or a keyword
    ("A New Hope", "new toy", "old man").
    """
    alt = "|".join(re.escape(n) for n in (*nouns, "one", "ones", "stuff", "releases", "release", "classics"))
    after = rf"(?=\s+(?:{alt})\b|\s*(?:[.;!?,]|$))"
    return (
        re.compile(rf"\b(?:new|newer|modern|current){after}"),
        re.compile(rf"\b(?:oldies|vintage|(?:old|older){after})"),
    )


def is_topic_period(text: str, span: Span) -> bool:
    """True when a period in ``text`` names a setting or a topic rather than when an item was made."""
    before = text[: span.start]
    if span.kind != "year":
        return False
    in_setting = span.phrase.startswith("in ") and re.search(r"\b(?:set|takes?\s+place|taking\s+place)\s*$", before)
    return bool(_TOPIC_BEFORE.search(before) or _TOPIC_AFTER.match(text, span.end) or in_setting)


def length_spans(text: str, lexicon: Lexicon) -> list[Span]:
    """The words "short" / "shorter" and "long" / "longer" as spans on the duration facet (catalogue terciles).

    Only where the catalogue or its pack knows durations; elsewhere these words stay ordinary words.
    """
    out: list[Span] = []
    year = _numeric_facet("year", lexicon)
    bounds = lexicon.facets[year].bounds if year is not None else None
    newest = bounds[1] if bounds is not None else None
    # "recent": the catalogue's last five years (said to be unavailable where items have no years).
    new, old = _age_words(tuple(lexicon.pack.nouns))
    found = [(m.start(), m.end(), m.group(0), recent) for rx, recent in ((_RECENT, True), (new, True), (old, False))
             for m in rx.finditer(text)]  # fmt: skip
    # "old westerns", "new comedies": an age word before a value of a firm facet speaks of the items too.
    for m in _AGE_VALUE.finditer(text):
        ref = lexicon.lookup(m.group(2))
        if ref is not None and ref.facet not in lexicon.soft and not any(a <= m.start() < b for a, b, *_ in found):
            found.append((m.start(), m.start(2) - 1, m.group(1), m.group(1).startswith("new")))
    for start, end, phrase, recent in found:
        low = None if newest is None or not recent else newest - 4
        high = None if newest is None or recent else newest - 39  # "old": some 40 years before the newest
        out.append(Span(start, end, phrase, "year", low, high))
    cuts = lexicon.lengths
    if cuts is None:
        return out
    short, long_ = cuts
    out += [Span(m.start(), m.end(), m.group(0), "min", None, short) for m in _SHORT.finditer(text)]
    out += [Span(m.start(), m.end(), m.group(0), "min", long_, None) for m in _LONG.finditer(text)]
    return out


def _numeric_facet(kind: str, lexicon: Lexicon) -> str | None:
    """The catalogue's numeric facet for a quantity kind ("year", "$", "min", "star"), or None."""
    numeric = [f for f in lexicon.facets.values() if f.kind == "numeric" and f.filterable]
    for f in numeric:
        if f.unit == kind or (kind == "year" and (f.name == "year" or f.unit == "year")):
            return f.name
    by_name = {"year": ("year", "release_year"), "$": ("price",), "min": ("runtime", "duration", "length"),
               "star": ("rating", "stars")}.get(kind, ())  # fmt: skip
    return next((f.name for f in numeric if f.name in by_name), None)


def apply_quantities(text: str, hits: list[Hit], lexicon: Lexicon, req: Request) -> None:
    """Numeric spans: allowed spans per facet (unions and intersections), forbidden ones, or unapplied words."""
    by_facet: dict[str, list[Hit]] = {}
    for hit in hits:
        assert hit.span is not None
        facet = _numeric_facet(hit.span.kind, lexicon)
        if facet is None:
            what = _QUANTITY_WORDS.get(hit.span.kind, f"'{hit.span.kind}' values")
            req.unapplied.append(
                f"This catalogue has no {what}, so I can't filter on '{hit.phrase}'"
                + (
                    "; I searched for it as text instead."
                    if hit.polarity == "include"
                    else "; nothing was left out for it."
                )
            )
            if hit.polarity == "include":
                req.text = f"{req.text} {hit.phrase}".strip()
            continue
        req.mentions.append(("not " if hit.polarity != "include" else "") + f"{hit.phrase} -> {facet}")
        by_facet.setdefault(facet, []).append(hit)
    for facet, group in by_facet.items():
        for hit in group:
            if hit.polarity != "include":
                assert hit.span is not None
                req.exclude_ranges.setdefault(facet, []).append((hit.span.low, hit.span.high))
        positive = [h for h in group if h.polarity == "include"]
        if positive:
            spans = _combine(text, positive)
            if spans:
                req.ranges[facet] = spans
            else:
                req.conflicts.append("the " + " and ".join(f"'{h.phrase}'" for h in positive) + " do not overlap")


def _combine(text: str, hits: list[Hit]) -> list[tuple[float | None, float | None]]:
    """Union of "or"-joined or disjoint spans; intersection of overlapping "and"-joined ones. Empty: no overlap."""
    groups: list[list[tuple[float | None, float | None]]] = [[_bounds(hits[0])]]
    for a, b in zip(hits, hits[1:], strict=False):
        sb = _bounds(b)
        cur = groups[-1][-1]
        if linked(text, a, b) == "or" or (linked(text, a, b) in ("and", ",") and not _overlap(cur, sb)
                                           and None not in (*cur, *sb)):  # fmt: skip
            groups[-1].append(sb)  # a union: "60s or 70s", "the 60s and 70s"
        else:
            groups.append([sb])
    result = groups[0]
    for g in groups[1:]:
        result = [x for a in result for b in g if (x := _intersect(a, b)) is not None]
    return result


def _bounds(hit: Hit) -> tuple[float | None, float | None]:
    assert hit.span is not None
    return hit.span.low, hit.span.high


def _overlap(a: tuple[float | None, float | None], b: tuple[float | None, float | None]) -> bool:
    return _intersect(a, b) is not None


def _intersect(
    a: tuple[float | None, float | None], b: tuple[float | None, float | None]
) -> tuple[float | None, float | None] | None:
    lo = max((x for x in (a[0], b[0]) if x is not None), default=None)
    hi = min((x for x in (a[1], b[1]) if x is not None), default=None)
    return None if lo is not None and hi is not None and lo > hi else (lo, hi)
