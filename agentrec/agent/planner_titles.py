"""Titles in a request: quoted, after a trigger ("like Alien", "I loved Heat") or before a verdict.

A recognised title is blanked so that its words lend the request no genre or period ("Star Wars: Episode IV -
A New Hope was not for me" asks for nothing new).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Protocol

from agentrec.agent.lexicon import Lexicon
from agentrec.agent.planner_text import _FILLER, _NEGATORS, _ORDINALS, ParsedRequest, _blank, _negated
from agentrec.agent.quantities import _DECADE_WORDS
from agentrec.agent.toolbox import normalize_title
from agentrec.agent.types import TitleMatch

# A fuzzy match at least this close is a typo ("jurasic park"); a looser one or a bare prefix is asked back.
CONFIDENT = 0.93

_TITLE_TRIGGERS = (
    ("like", r"(?:more\s+)?(?:something\s+|anything\s+|stuff\s+|NOUNS)?(?:just\s+)?like"),
    ("like", r"similar\s+to|such\s+as|in\s+the\s+(?:style|vein|spirit)\s+of|reminiscent\s+of|reminds\s+me\s+of"),
    ("like", r"along\s+the\s+lines\s+of|comparable\s+to|fans?\s+of|i\s+(?:really\s+)?(?:loved|liked|enjoyed|adored)"),
    ("like", r"i\s+(?:really\s+)?(?:love|enjoy|adore)|(?:loved|enjoyed|adored)"),
    ("dislike", r"i\s+(?:really\s+)?(?:hated|hate|disliked|dislike)|i\s+(?:didn'?t|did\s+not|don'?t)\s+(?:like|enjoy)"),
    ("seen", r"i(?:'ve|\s+have)?\s+(?:already\s+)?(?:seen|watched|saw)|already\s+(?:seen|watched)"),
)
# Where a title after a trigger can end: punctuation followed by a space ("Louis C.K.: Live at ..." goes on).
_SPAN_END = re.compile(r"[.;!?,](?=\s|$)")


@functools.lru_cache(maxsize=16)
def _trigger_re(nouns: tuple[str, ...]) -> re.Pattern[str]:
    """The trigger alternation, with the domain's nouns ("movies like", "products like")."""
    noun_alt = "".join(f"{re.escape(n)}\\s+|" for n in sorted(nouns, key=len, reverse=True))
    alts = [p.replace("NOUNS", noun_alt) for _k, p in _TITLE_TRIGGERS]
    return re.compile(r"\b(?:" + "|".join(f"(?P<t{i}>{p})" for i, p in enumerate(alts)) + r")\s+")


@dataclass(frozen=True)
class TitleWords:
    """What title parsing needs besides the titles: the catalogue's value phrases and the domain's nouns."""

    titles: TitleIndexLike
    lexicon: Lexicon

    @property
    def nouns(self) -> tuple[str, ...]:
        """The domain's request nouns (they never start a title on their own)."""
        return tuple(self.lexicon.pack.nouns)


_NOT_TITLE_BEFORE = re.compile(r"(?:\bwould|\bi'?d|\bwe'?d|\byou'?d|\bfeel|\blooks?|\bseems?|\bdo you)\s*$")


def _is_filler_phrase(phrase: str, words_ctx: TitleWords) -> bool:
    """True when ``phrase`` is a wish rather than a title: value phrases, nouns and filler words only."""
    words = re.findall(r"[a-z0-9'-]+", phrase.lower())
    lexicon = words_ctx.lexicon

    def wish(p: str) -> bool:
        # Free tags and keywords name nearly everything ("alien", "heat"): only the catalogue's firm facets make a
        # phrase a wish rather than a title.
        ref = lexicon.lookup(p)
        return ref is not None and ref.facet not in lexicon.soft

    if wish(" ".join(words)):
        return True
    nouns = set(words_ctx.nouns)
    return all(w in _FILLER or w in nouns or wish(w) or w in _ORDINALS or w in _DECADE_WORDS for w in words)


def _match_title(span: str, ctx: TitleWords, orig: str | None = None, max_words: int = 16) -> _Found | None:
    """The longest leading part of ``span`` that names a title: (match, characters used, confident).

    ``orig`` is the same span as the user typed it: a one-word title ("Up", "Heat") only counts when the
    user capitalised it (or wrote "the ..."), so that "like dark stuff" does not become the film "The Dark".
    A loose fuzzy match or a bare prefix of a longer title is not confident: it is asked back.
    """
    words = list(re.finditer(r"\S+", span))[:max_words]
    nouns = "|".join(re.escape(n) for n in ctx.nouns) or "(?!)"
    for fuzzy in (False, True):
        for n in range(len(words), 0, -1):
            end = words[n - 1].end()
            phrase = span[:end].strip(" \"'“”‘’")
            phrase = re.sub(rf"^(?:the\s+(?:{nouns})\s+|(?:{nouns})\s+)", "", phrase)
            if not phrase or (fuzzy and len(phrase) < 5):
                continue
            if _is_filler_phrase(phrase, ctx) and (fuzzy or not _title_cased(orig, words[0].start(), end)):
                continue  # "like war movies" is a wish; "I didn't like In Love and War" names a film
            if orig is not None and len(phrase.split()) == 1:
                typed = orig[words[n - 1].start() : words[n - 1].end()].lstrip("\"'“‘(")
                if typed[:1].islower():
                    continue
            hits = ctx.titles.lookup(phrase, k=1, cutoff=0.88 if fuzzy else 0.99)
            if hits and (hits[0].score >= 0.999 or (fuzzy and hits[0].score >= 0.88)):
                return hits[0], end, hits[0].score >= CONFIDENT
            if fuzzy and n >= 2 and hits and normalize_title(hits[0].title).startswith(normalize_title(phrase) + " "):
                # A whole-word prefix of a title: "star wars" -> "Star Wars: Episode IV"; confident only when the
                # prefix is most of the title.
                share = len(normalize_title(phrase)) / max(len(normalize_title(hits[0].title)), 1)
                return hits[0], end, share >= 0.6
    return None


_Found = tuple[TitleMatch, int, bool]


def _title_cased(orig: str | None, start: int, end: int) -> bool:
    """True when the user typed the span like a title: several words, every word of 4+ letters capitalised."""
    if orig is None:
        return False
    words = re.findall(r"[^\W\d_][\w'-]*", orig[start:end])
    long = [w for w in words if len(w) >= 4]
    return len(words) >= 2 and bool(long) and all(w[0].isupper() for w in long) and words[0][0].isupper()


class TitleIndexLike(Protocol):
    """Anything with ``lookup(title, k, cutoff) -> list[TitleMatch]`` (``agentrec.agent.toolbox.TitleIndex``)."""

    def lookup(self, title: str, k: int = 5, cutoff: float = 0.6) -> list[TitleMatch]:
        """Best matching titles, best first."""
        ...


def _parse_titles(text: str, cased: str, ctx: TitleWords, req: ParsedRequest) -> str:
    """Record the titles ``text`` names and return it with them blanked.

    Quoted titles first, then titles after a trigger ("like ...", "I loved ...", "I didn't like ..."), then
    titles before a verdict ("Heat was not for me").
    """
    for q in list(re.finditer(r"[\"“]([^\"”]{2,80})[\"”]", text)):
        hits = ctx.titles.lookup(q.group(1), k=1, cutoff=0.75)
        if hits:
            kind = _trigger_kind(text[: q.start()])
            _add_title(req, kind, hits[0], hits[0].score >= CONFIDENT)
            text = _blank(text, q.start(), q.end())
    pos = 0
    trigger = _trigger_re(ctx.nouns)
    while (m := trigger.search(text, pos)) is not None:
        pos = m.end()
        kind = next(_TITLE_TRIGGERS[i][0] for i in range(len(_TITLE_TRIGGERS)) if m.group(f"t{i}"))
        if kind == "like" and _NOT_TITLE_BEFORE.search(text[: m.start()]):
            continue
        span = re.split(_SPAN_END, text[m.end() :], maxsplit=1)[0]
        found = _match_title(span, ctx, cased[m.end() : m.end() + len(span)])
        if found is None:
            continue
        hit, used, sure = found
        if kind == "like" and _negated(text, m.start()):
            kind = "dislike"
        _add_title(req, kind, hit, sure)
        text = _blank(text, m.start(), m.end() + used)
        pos = m.end() + used
        # "I loved Heat and Alien": further titles joined by "and" / "or" / "&".
        while (more := re.match(r"\s*(?:and|or|&|plus)\s+", text[pos:])) is not None:
            start = pos + more.end()
            span = re.split(_SPAN_END, text[start:], maxsplit=1)[0]
            found = _match_title(span, ctx, cased[start : start + len(span)])
            if found is None:
                break
            _add_title(req, kind, found[0], found[2])
            end = pos + more.end() + found[1]
            text = _blank(text, pos, end)
            pos = end
    text = _titles_before_verdict(text, cased, ctx, req)
    return text


# A title named before a verdict: "Heat was not for me", "Alien wasn't my thing", "Up was great".
_VERDICT_RE = re.compile(
    r"\s+(?:was|is|were|are)(?:\s+(?P<neg>not|n't)|(?P<negc>n't))?\s+"
    r"(?P<what>for\s+me|my\s+(?:thing|cup\s+of\s+tea)|(?:really\s+|so\s+|too\s+)?(?:boring|awful|terrible|bad|dull|"
    r"great|amazing|brilliant|fantastic|wonderful|excellent|good|fun))\b"
)
_VERDICT_NEG = re.compile(r"boring|awful|terrible|bad|dull")
_SENTENCE_START = re.compile(r"(?:^|[.;!?,:]\s+|\s-\s+)")


def _titles_before_verdict(text: str, cased: str, ctx: TitleWords, req: ParsedRequest) -> str:
    """Recognise titles that come before a verdict; returns ``text`` with title and verdict blanked.

    The subject must be a whole title from a clause start (the farthest start first, so that "The Talented
    Mr. Ripley was not for me" is not read as "Ripley"). Blanking the title keeps its words out of the genre
    and year parsing: "Star Wars: Episode IV - A New Hope was not for me" asks for nothing new.
    """
    for m in list(_VERDICT_RE.finditer(text)):
        negative = bool(m.group("neg") or m.group("negc")) != bool(_VERDICT_NEG.search(m.group("what")))
        if m.group("what").startswith(("for", "my")) and not (m.group("neg") or m.group("negc")):
            continue  # "X is for me" is not a verdict on X
        end = m.start()
        starts = [s.end() for s in _SENTENCE_START.finditer(text, 0, end) if s.end() < end]
        for start in starts:
            span = text[start:end]
            if len(span.split()) > 16 or not span.strip():
                continue
            found = _match_title(span, ctx, cased[start:end])
            if found is None or span[found[1] :].strip():
                continue
            _add_title(req, "dislike" if negative else "like", found[0], found[2])
            text = _blank(text, start, m.end())
            break
    return text


def _trigger_kind(prefix: str) -> str:
    tail = prefix[-40:]
    for kind, pattern in _TITLE_TRIGGERS:
        if re.search(rf"\b(?:{pattern})\s*$", tail):
            return "dislike" if kind == "like" and _NEGATORS.search(tail) else kind
    return "like"


def _add_title(req: ParsedRequest, kind: str, hit: TitleMatch, sure: bool = True) -> None:
    if not sure:
        if all(c.item_index != hit.item_index for c in req.confirm):
            req.confirm.append(hit)
        req.mentions.append(f"{kind} title? {hit.title} (asked back)")
        return
    target = {"like": req.like_items, "dislike": req.dislike_items, "seen": req.seen_items}[kind]
    if hit.item_index not in target:
        target.append(hit.item_index)
    req.mentions.append(f"{kind} title {hit.title}")
