"""Periods in a request: decades, years and ranges, "recent" / "old", and periods named only as a topic."""

from __future__ import annotations

import re
from collections.abc import Callable

from agentrec.agent.planner_text import _DECADE_WORDS, _negated_near


def _decade_range(token: str, modifier: str | None) -> tuple[int, int] | None:
    token = token.strip().lower().lstrip("'’")
    m = re.fullmatch(r"(\d{2,4})['’]?s", token)
    if m:
        n = int(m.group(1))
        if n < 100:
            start = 1900 + n if n >= 20 else 2000 + n
        elif n % 10 == 0 and 1880 <= n <= 2090:
            start = n
        else:
            return None
    elif token in _DECADE_WORDS:
        start = 1900 + _DECADE_WORDS[token]
    else:
        return None
    if modifier == "early":
        return start, start + 3
    if modifier in ("mid", "mid-"):
        return start + 3, start + 6
    if modifier == "late":
        return start + 6, start + 9
    return start, start + 9


_DECADE_RE = r"(?:(early|mid|late)[\s-]*)?(?:the\s+)?((?:19|20)?\d0['’]?s|'\d0s|’\d0s|twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties)"  # noqa: E501
_YEAR_RE = r"((?:18|19|20)\d{2})"
_POINT_RE = rf"(?:{_DECADE_RE}|{_YEAR_RE})"


def _point(m: re.Match[str], offset: int) -> tuple[int, int]:
    """The (first, last) year of a decade-or-year match whose groups start at ``offset``."""
    mod, dec, year = m.group(offset), m.group(offset + 1), m.group(offset + 2)
    if dec:
        rng = _decade_range(dec, mod)
        assert rng is not None
        return rng
    y = int(year)
    return y, y


# "new" / "old" speak of a period only about films ("new releases", "something older"), not in a title or a
# keyword ("A New Hope", "new toy", "old man").
_AGE_NOUN = r"(?=\s+(?:movies?|films?|flicks?|releases?|ones?|stuff|titles?|classics?)\b|\s*(?:[.;!?,]|$))"


# A period named as a topic or a setting ("set in the 1970s", "about the sixties", "it involves 1970s").
_TOPIC_BEFORE = re.compile(
    r"(?:\bset|\btakes?\s+place|\btaking\s+place|\babout|\binvolv(?:es|ing)|\bfeaturing|\bthemed\s+on)(?:\s+in)?"
    r"\s+(?:the\s+)?$"
)

_TOPIC_AFTER = re.compile(r"\s+(?:in\s+it|as\s+(?:a\s+|the\s+)?(?:setting|backdrop|theme))\b")


def _parse_years(text: str, latest_year: int | None) -> tuple[list[tuple[int | None, int | None, str]], str, list[str]]:
    """Year constraints in ``text`` as (min, max, phrase); the text with them blanked; notes."""
    found: list[tuple[int | None, int | None, str]] = []
    notes: list[str] = []
    out = text

    def blank(m: re.Match[str]) -> str:
        return " " * (m.end() - m.start())

    patterns: list[tuple[str, Callable[[re.Match[str]], tuple[int | None, int | None]]]] = [
        (
            rf"\b(?:between|from)\s+{_POINT_RE}\s+(?:and|to|through|till|until|-)\s+{_POINT_RE}",
            lambda m: (_point(m, 1)[0], _point(m, 4)[1]),
        ),
        (rf"\b{_YEAR_RE}\s*[-–]\s*{_YEAR_RE}\b", lambda m: (int(m.group(1)), int(m.group(2)))),
        (rf"\b(?:after|post|later than|newer than)[\s-]+{_POINT_RE}", lambda m: (_point(m, 1)[1] + 1, None)),
        (
            rf"\b(?:since|from)\s+{_POINT_RE}\s+(?:on|onwards?|or later|and later|and up|forward)",
            lambda m: (_point(m, 1)[0], None),
        ),  # noqa: E501
        (rf"\b(?:since|starting)\s+(?:in\s+)?{_POINT_RE}", lambda m: (_point(m, 1)[0], None)),
        (rf"{_POINT_RE}\s+(?:or|and)\s+(?:later|newer|after)", lambda m: (_point(m, 1)[0], None)),
        (rf"\b(?:before|pre|earlier than|older than|prior to)[\s-]+{_POINT_RE}", lambda m: (None, _point(m, 1)[0] - 1)),  # noqa: E501
        (rf"\b(?:until|till|up to|through|no later than)\s+{_POINT_RE}", lambda m: (None, _point(m, 1)[1])),
        (rf"{_POINT_RE}\s+(?:or|and)\s+(?:earlier|older|before)", lambda m: (None, _point(m, 1)[1])),
        (rf"\b{_DECADE_RE}", lambda m: _decade_range(m.group(2), m.group(1)) or (None, None)),
        (rf"\b(?:in|from|of|year)\s+{_YEAR_RE}\b", lambda m: (int(m.group(1)), int(m.group(1)))),
        (rf"\b{_YEAR_RE}\b", lambda m: (int(m.group(1)), int(m.group(1)))),
    ]
    for pattern, fn in patterns:
        rx, pos = re.compile(pattern), 0
        while (m := rx.search(out, pos)) is not None:
            pos = m.end()
            lo, hi = fn(m)
            phrase = m.group(0).strip()
            if (
                _TOPIC_BEFORE.search(out[: m.start()])
                or _TOPIC_AFTER.match(out, m.end())
                or (
                    phrase.startswith("in ")
                    and re.search(r"\b(?:set|takes?\s+place|taking\s+place)\s*$", out[: m.start()])
                )
            ):
                note = f"I read '{phrase}' as what the film is about, not as when it was made."
                if note not in notes:
                    notes.append(note)
                continue  # kept in the text: the search looks for it
            if _negated_near(out, m.start()):
                notes.append(f"I can't exclude a period ('{phrase}'); I only filter to a single year range.")
            else:
                found.append((lo, hi, phrase))
            out = out[: m.start()] + blank(m) + out[m.end() :]
    if latest_year is not None:
        for pattern, rng in (
            (
                rf"\b(?:recent|recently released|latest|newest|(?:new|newer|modern|current){_AGE_NOUN})\b",
                (latest_year - 4, None),
            ),
            (rf"\b(?:oldies|vintage|(?:old|older){_AGE_NOUN})\b", (None, 1979)),
        ):
            m = re.search(pattern, out)
            topic = m is not None and (_TOPIC_BEFORE.search(out[: m.start()]) or _TOPIC_AFTER.match(out, m.end()))
            if m and not topic and not _negated_near(out, m.start()):
                found.append((rng[0], rng[1], m.group(0)))
                out = out[: m.start()] + blank(m) + out[m.end() :]
    return found, out, notes
