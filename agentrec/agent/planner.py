"""The offline planner: deterministic parsing of a request into constraints, seeds and references.

No LLM is involved. :func:`parse_request` turns one message into a :class:`ParsedRequest` — genres (with
synonyms: "sci-fi", "science fiction" -> Sci-Fi; "funny" -> Comedy; "scary" -> Horror; "cartoon" ->
Animation ...), exclusions ("no horror", "not romantic", "nothing too violent"), decades and year ranges
("90s", "from the eighties", "between 1995 and 2005", "after 2010"), titles ("like Alien", "similar to
The Matrix", "I loved Heat"), references to the last list shown ("more like the second one", "not that
one", "not the last two"), a user id ("for user 42"), how many results, and runtime wishes ("something
shorter"). The agent core merges it into the conversation's memory and builds the ``Query``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from agentrec.agent.planner_genres import GENRE_SYNONYMS, _parse_genres, canonical_genres
from agentrec.agent.planner_text import (
    _FILLER,
    _NEGATORS,
    _NUM_WORDS,
    _ORDINALS,
    ParsedRequest,
    _blank,
    _clause_prefix,
    _negated,
)
from agentrec.agent.planner_titles import TitleIndexLike, _parse_titles
from agentrec.agent.planner_years import _parse_years

__all__ = ["GENRE_SYNONYMS", "ParsedRequest", "TitleIndexLike", "canonical_genres", "parse_request"]

_REF_PLURAL = re.compile(
    r"\b(?:the\s+)?(first|last|top|bottom)\s+(two|three|four|five|2|3|4|5)\b(?:\s+(?:ones|movies|films|picks))?"
)
_REF_SINGLE = re.compile(
    r"\b(?:(?:the|that)\s+)?(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|1st|2nd|3rd|4th|5th|"
    r"6th|7th|8th|9th|10th|last|final)(\s+(?:one|movie|film|pick|suggestion|recommendation|title|option))?\b"
    r"|\b(?:number|no\.|#)\s*(\d{1,2})\b"
)
_REF_THAT = re.compile(r"\b(?:that|this)\s+(?:one|movie|film|pick|title)\b")
# Turning the whole last list down: its items count as rejected and never come back.
_REF_ALL_NEG = re.compile(
    r"\bnone\s+of\s+(?:them|these|those)\b|\b(?:not|no)\s+(?:these|those|any of (?:them|these))\b"
    r"|\bnot\s+quite(?:\s+it)?\s*(?:[.,!]|$)|\bnot\s+what\s+i'?m\s+(?:after|looking\s+for)\b"
    r"|\bany\s+of\s+(?:them|these|those)\s+(?:fit|work)s?\b|\b(?:don'?t|do\s+not)\s+like\s+any\s+of\s+(?:them|these|those)\b"
)
_SEEN_WORDS = re.compile(r"\b(seen|watched|saw)\b")
_SUFFIX_NEG = re.compile(r"\b(not for me|no thanks|boring|hate|hated|don'?t like|didn'?t like|not interested)\b")
_USER_RE = re.compile(r"\b(?:user[\s_-]*id|user)\s*[#:=]?\s*([A-Za-z0-9_-]*\d[A-Za-z0-9_-]*)\b")
_K_RE = re.compile(
    r"\b(?:top\s+)?(\d{1,3}|two|three|four|five|six|seven|eight|nine|ten)\s+(?:more\s+|other\s+|good\s+|great\s+)?"
    r"(?:[\w-]+\s+)?(?:movies|films|titles|recommendations|suggestions|picks|options|ideas|comedies|dramas)\b"
    r"|\btop\s+(\d{1,3})\b"
)
_SHORTER = re.compile(
    r"\b(shorter|short\s+(?:one|movie|film)s?|something\s+short|quick\s+watch|brief|not\s+too\s+long|"
    r"under\s+(?:two|2|an?|one|1)\s+hours?|less\s+than\s+(?:two|2|an?|one|1)\s+hours?|under\s+\d{2,3}\s+min\w*)\b"
)
_LONGER = re.compile(r"\b(longer|long\s+(?:one|movie|film)s?|epic)\b")
_RESET = re.compile(
    r"\b(start\s+over|reset|forget\s+(?:everything|it\s+all|what\s+i\s+said)|new\s+search|clear\s+all)\b"
)


# Words that make a new genre wish replace the earlier one instead of refining it.
_SWITCH = re.compile(r"\b(?:instead|rather|switch|change (?:it|that) to|forget (?:the|that|about))\b")


def parse_request(
    message: str,
    catalog_genres: Sequence[str],
    titles: TitleIndexLike | None = None,
    *,
    last_shown: int = 0,
    latest_year: int | None = None,
) -> ParsedRequest:
    """Parse one user message deterministically.

    Args:
        message: what the user wrote.
        catalog_genres: the catalogue's genre names (synonyms resolve to these).
        titles: a title index for "like <title>"; None disables title parsing.
        last_shown: the length of the last list shown (references beyond it are ignored with a note).
        latest_year: the newest year in the catalogue ("recent" means its last five years); None disables.

    Returns:
        The parsed request; ``conflicts`` lists contradictions inside the message.
    """
    req = ParsedRequest()
    cased = " " + re.sub(r"\s+", " ", message.replace("’", "'")) + " "
    cased = re.sub(r"\b(anything|everything|all)\s+but\b", r"\1 except", cased, flags=re.IGNORECASE)
    text = cased.lower()
    if len(text) != len(cased):  # a few Unicode letters change length when lower-cased
        cased = text
    m = _RESET.search(text)
    if m:
        req.reset = True
        req.mentions.append("reset")
        text = _blank(text, m.start(), m.end())

    m = _USER_RE.search(text)
    if m:
        req.user_id = m.group(1)
        req.mentions.append(f"user {req.user_id}")
        text = _blank(text, m.start(), m.end())

    # References to the last list (before titles: "like the second one" is a reference, not a title).
    def ref_polarity(start: int, end: int) -> str:
        prefix = _clause_prefix(text, start)
        suffix = re.split(r"[.;!?,]|\bbut\b", text[end:], maxsplit=1)[0]
        if _SEEN_WORDS.search(prefix) or _SEEN_WORDS.search(suffix):
            return "seen"
        if _NEGATORS.search(prefix) or _SUFFIX_NEG.search(suffix):
            return "reject"
        return "like"

    def add_ref(positions: list[int], polarity: str, phrase: str) -> None:
        valid = [p for p in positions if 0 <= p < last_shown or (p == -1 and last_shown)]
        if len(valid) < len(positions):
            req.notes.append(
                f"'{phrase.strip()}' refers to a list of {last_shown} item(s); "
                + ("there is no earlier list yet." if not last_shown else "I used what exists.")
            )
        target = {"like": req.ref_like, "reject": req.ref_reject, "seen": req.ref_seen}[polarity]
        target.extend(p for p in valid if p not in target)
        req.mentions.append(f"{polarity} {phrase.strip()}")

    for m in list(_REF_ALL_NEG.finditer(text)):
        add_ref(list(range(last_shown)), "reject", m.group(0))
        text = _blank(text, m.start(), m.end())
    for m in list(_REF_PLURAL.finditer(text)):
        n = int(m.group(2)) if m.group(2).isdigit() else _NUM_WORDS[m.group(2)]
        first = m.group(1) in ("first", "top")
        positions = list(range(n)) if first else list(range(max(0, last_shown - n), last_shown))
        add_ref(positions if last_shown or first else [n - 1], ref_polarity(m.start(), m.end()), m.group(0))
        text = _blank(text, m.start(), m.end())
    for m in list(_REF_SINGLE.finditer(text)):
        word, tail, num = m.group(1), m.group(2), m.group(3)
        has_article = m.group(0).startswith(("the ", "that "))
        if word and not (tail or has_article):
            continue  # "first time", "last night": not a reference
        if word and not tail and re.match(r"\s+[A-Z]", cased[m.end() :]):
            continue  # "American Drug War: The Last White Hope": part of a title, not a reference
        if word in ("last", "final"):
            pos = last_shown - 1 if last_shown else 10**6
        else:
            pos = (int(num) if num else _ORDINALS[word]) - 1
        add_ref([pos], ref_polarity(m.start(), m.end()), m.group(0))
        text = _blank(text, m.start(), m.end())
    for m in list(_REF_THAT.finditer(text)):
        add_ref([-1], ref_polarity(m.start(), m.end()), m.group(0))  # -1: "the item in focus"
        text = _blank(text, m.start(), m.end())
    if titles is not None:
        text = _parse_titles(text, cased, titles, req)

    m = _K_RE.search(text)
    if m:
        raw = m.group(1) or m.group(2)
        req.k = int(raw) if raw.isdigit() else _NUM_WORDS[raw]
        text = _blank(text, m.start(1) if m.group(1) else m.start(), (m.end(1) if m.group(1) else m.end()))

    m = _SHORTER.search(text)
    if m:
        req.runtime = "shorter"
        text = _blank(text, m.start(), m.end())
    else:
        m = _LONGER.search(text)
        if m and not _negated(text, m.start()):
            req.runtime = "longer"
            text = _blank(text, m.start(), m.end())

    ranges, text, year_notes = _parse_years(text, latest_year)
    req.notes.extend(year_notes)
    lo = max((r[0] for r in ranges if r[0] is not None), default=None)
    hi = min((r[1] for r in ranges if r[1] is not None), default=None)
    if ranges:
        req.mentions.extend(f"years {r[2]}" for r in ranges)
        if lo is not None and hi is not None and lo > hi:
            req.conflicts.append("the periods " + " and ".join(f"'{r[2]}'" for r in ranges) + " do not overlap")
        else:
            req.year_min, req.year_max = lo, hi

    # On what is left once titles are blanked: "Date and Switch was not for me" switches nothing.
    req.switch_genres = bool(_SWITCH.search(text))
    _parse_genres(text, catalog_genres, req)
    req.text = _residual(text, req)
    return req


def _residual(text: str, req: ParsedRequest) -> str:
    """The free-text intent left after constraints are removed: positive words only."""
    kept: list[str] = []
    for clause in re.split(r"[.;!?,]|\bbut\b", text):
        neg = _NEGATORS.search(clause)
        if neg:
            clause = clause[: neg.start()]  # "no horror", "nothing too violent": never fed to semantic search
        for w in re.findall(r"[a-z0-9][a-z0-9'-]*", clause):
            if w not in _FILLER and not w.isdigit() and len(w) > 1:
                kept.append(w)
    return " ".join(dict.fromkeys(kept))
