"""The offline planner: deterministic parsing of one message, for any catalogue.

No LLM is involved. :func:`parse_request` first takes out what is about the conversation rather than the
catalogue — starting over, a user id, references to the last list shown ("more like the second one", "not that
one", "not the last two"), titles ("like Alien", "I loved Heat"; loose matches are asked back, never assumed),
how many results — and then reads the rest with the request grammar (:mod:`agentrec.agent.grammar`) over the
catalogue's facets. The words of the domain ("movies", "products") come from its pack; no genre, unit or noun
is written here.
"""

from __future__ import annotations

import functools
import re

from agentrec.agent.grammar import parse
from agentrec.agent.lexicon import Lexicon
from agentrec.agent.planner_text import (
    _NEGATORS,
    _NUM_WORDS,
    _ORDINALS,
    ParsedRequest,
    _blank,
    _clause_prefix,
)
from agentrec.agent.planner_titles import TitleIndexLike, TitleWords, _parse_titles
from agentrec.agent.request import Request, add

__all__ = ["ParsedRequest", "TitleIndexLike", "parse_request"]

_GENERIC = r"one|ones|pick|picks|suggestion|suggestions|recommendation|recommendations|title|titles|option|options"


@functools.lru_cache(maxsize=16)
def _patterns(nouns: tuple[str, ...]) -> dict[str, re.Pattern[str]]:
    """The reference and count patterns, with the domain's nouns ("the second movie", "5 products")."""
    alt = "|".join(re.escape(n) for n in sorted({*nouns, *_GENERIC.split("|")}, key=len, reverse=True))
    return {
        "plural": re.compile(
            rf"\b(?:the\s+)?(first|last|top|bottom)\s+(two|three|four|five|2|3|4|5)\b(?:\s+(?:{alt}))?"
        ),
        "single": re.compile(
            r"\b(?:(?:the|that)\s+)?(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|1st|2nd|3rd|4th|"
            rf"5th|6th|7th|8th|9th|10th|last|final)(\s+(?:{alt}))?\b|\b(?:number|no\.|#)\s*(\d{{1,2}})\b"
        ),
        "that": re.compile(rf"\b(?:that|this)\s+(?:{alt})\b"),
        "k": re.compile(
            r"\b(?:top\s+)?(\d{1,3}|two|three|four|five|six|seven|eight|nine|ten)\s+(?:more\s+|other\s+|good\s+|"
            rf"great\s+)?(?:[\w-]+\s+)?(?:{alt})\b|\btop\s+(\d{{1,3}})\b"
        ),
    }


# Turning the whole last list down: its items count as rejected and never come back.
_REF_ALL_NEG = re.compile(
    r"\bnone\s+of\s+(?:them|these|those)\b|\b(?:not|no)\s+(?:these|those|any of (?:them|these))\b"
    r"|\bnot\s+quite(?:\s+it)?\s*(?:[.,!]|$)|\bnot\s+what\s+i'?m\s+(?:after|looking\s+for)\b"
    r"|\bany\s+of\s+(?:them|these|those)\s+(?:fit|work)s?\b|\b(?:don'?t|do\s+not)\s+like\s+any\s+of\s+(?:them|these|those)\b"
)
_SEEN_WORDS = re.compile(r"\b(seen|watched|saw|tried|bought|own|have\s+(?:it|that|one))\b")
_SUFFIX_NEG = re.compile(r"\b(not for me|no thanks|boring|hate|hated|don'?t like|didn'?t like|not interested)\b")
_USER_RE = re.compile(r"\b(?:user[\s_-]*id|user)\s*[#:=]?\s*([A-Za-z0-9_-]*\d[A-Za-z0-9_-]*)\b")
_RESET = re.compile(
    r"\b(start\s+over|reset|forget\s+(?:everything|it\s+all|what\s+i\s+said)|new\s+search|clear\s+all)\b"
)
_YES = re.compile(r"^\W*(?:yes|yeah|yep|yup|correct|right|exactly|that'?s\s+(?:it|the\s+one|right))\b")


def parse_request(
    message: str,
    lexicon: Lexicon,
    titles: TitleIndexLike | None = None,
    *,
    last_shown: int = 0,
) -> ParsedRequest:
    """Parse one user message deterministically.

    Args:
        message: what the user wrote.
        lexicon: the catalogue's facet phrases and its domain pack.
        titles: a title index for "like <title>"; None disables title parsing.
        last_shown: the length of the last list shown (references beyond it are ignored with a note).

    Returns:
        The parsed request; ``conflicts`` lists contradictions inside the message.
    """
    req = ParsedRequest()
    cased = " " + re.sub(r"\s+", " ", message.replace("’", "'")) + " "
    cased = re.sub(r"\b(anything|everything|all)\s+but\b", r"\1 except", cased, flags=re.IGNORECASE)
    text = cased.lower()
    if len(text) != len(cased):  # a few Unicode letters change length when lower-cased
        cased = text
    req.yes = bool(_YES.match(text))
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
    pats = _patterns(tuple(lexicon.pack.nouns))
    text = _references(text, cased, req, pats, last_shown)
    if titles is not None:
        text = _parse_titles(text, cased, TitleWords(titles, lexicon), req)
    text = _count(text, req, pats["k"], lexicon)
    req.request = parse(text, lexicon)
    _by_meaning(req.request, lexicon)
    req.mentions.extend(req.request.mentions)
    return req


_NUMBER_WORD = re.compile(r"\b(\d{1,2}|two|three|four|five|six|seven|eight|nine|ten)\s+([a-z][\w-]*)")


def _count(text: str, req: ParsedRequest, pattern: re.Pattern[str], lexicon: Lexicon) -> str:
    """Record how many results were asked for ("5 products", "top 10", "3 comedies"); returns ``text`` without it."""
    m = pattern.search(text)
    if m:
        raw = m.group(1) or m.group(2)
        req.k = int(raw) if raw.isdigit() else _NUM_WORDS[raw]
        return _blank(text, m.start(1) if m.group(1) else m.start(), (m.end(1) if m.group(1) else m.end()))
    for m in _NUMBER_WORD.finditer(text):
        # A number before a value, up to three words on: "3 comedies", "7 digital calipers".
        words = [m.group(2), *re.findall(r"[a-z][\w-]*", text[m.end() :])[:2]]
        if any(lexicon.lookup(" ".join(words[i:j])) for i in range(len(words)) for j in range(i + 1, len(words) + 1)):
            req.k = int(m.group(1)) if m.group(1).isdigit() else _NUM_WORDS[m.group(1)]
            return _blank(text, m.start(1), m.end(1))
    return text


def _by_meaning(request: Request, lexicon: Lexicon) -> None:
    """Words of the search text read as a firm facet value by meaning ("spooky" -> Horror): preferences only."""
    words = [w for w in request.text.split() if len(w) > 2 and not any(ch.isdigit() for ch in w)]
    for m in lexicon.read_by_meaning(words):
        said = {*request.include.get(m.facet, ()), *request.exclude.get(m.facet, ()), *request.prefer.get(m.facet, ())}
        if m.value not in said:
            add(request.prefer, m.facet, [m.value])
            request.notes.append(
                f"I read '{m.phrase}' as {m.facet} {m.value} (the closest in meaning); it only steers the ranking."
            )
            request.mentions.append(f"{m.phrase} ~ {m.facet}: {m.value}")


def _references(text: str, cased: str, req: ParsedRequest, pats: dict[str, re.Pattern[str]], last_shown: int) -> str:
    """Record references to the last list shown and return ``text`` with them blanked."""

    def polarity(start: int, end: int) -> str:
        prefix = _clause_prefix(text, start)
        suffix = re.split(r"[.;!?,]|\bbut\b", text[end:], maxsplit=1)[0]
        if _SEEN_WORDS.search(prefix) or _SEEN_WORDS.search(suffix):
            return "seen"
        if _NEGATORS.search(prefix) or _SUFFIX_NEG.search(suffix):
            return "reject"
        return "like"

    def add(positions: list[int], pol: str, phrase: str) -> None:
        valid = [p for p in positions if 0 <= p < last_shown or (p == -1 and last_shown)]
        if len(valid) < len(positions):
            req.notes.append(
                f"'{phrase.strip()}' refers to a list of {last_shown} item(s); "
                + ("there is no earlier list yet." if not last_shown else "I used what exists.")
            )
        target = {"like": req.ref_like, "reject": req.ref_reject, "seen": req.ref_seen}[pol]
        target.extend(p for p in valid if p not in target)
        req.mentions.append(f"{pol} {phrase.strip()}")

    for m in list(_REF_ALL_NEG.finditer(text)):
        add(list(range(last_shown)), "reject", m.group(0))
        text = _blank(text, m.start(), m.end())
    for m in list(pats["plural"].finditer(text)):
        n = int(m.group(2)) if m.group(2).isdigit() else _NUM_WORDS[m.group(2)]
        first = m.group(1) in ("first", "top")
        positions = list(range(n)) if first else list(range(max(0, last_shown - n), last_shown))
        add(positions if last_shown or first else [n - 1], polarity(m.start(), m.end()), m.group(0))
        text = _blank(text, m.start(), m.end())
    for m in list(pats["single"].finditer(text)):
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
        add([pos], polarity(m.start(), m.end()), m.group(0))
        text = _blank(text, m.start(), m.end())
    for m in list(pats["that"].finditer(text)):
        add([-1], polarity(m.start(), m.end()), m.group(0))  # -1: "the item in focus"
        text = _blank(text, m.start(), m.end())
    return text
