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

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from agentrec.agent.toolbox import normalize_title
from agentrec.agent.types import TitleMatch

__all__ = ["GENRE_SYNONYMS", "ParsedRequest", "canonical_genres", "parse_request"]

# concept -> (phrases that name it, catalogue genre names it maps to, first present wins unless "all")
GENRE_SYNONYMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Action": (("action", "action-packed", "action packed", "shoot em up", "explosions"), ("Action",)),
    "Adventure": (("adventure", "adventures", "adventurous", "quest"), ("Adventure",)),
    "Animation": (("animation", "animated", "cartoon", "cartoons", "anime", "pixar"), ("Animation",)),
    "Children": (
        ("children", "childrens", "children's", "kids", "kid", "for kids", "family", "family-friendly", "kid-friendly"),
        ("Children", "Family"),
    ),
    "Comedy": (
        ("comedy", "comedies", "funny", "hilarious", "humor", "humour", "humorous", "comic", "laugh", "laughs"),
        ("Comedy",),
    ),
    "Crime": (
        ("crime", "gangster", "gangsters", "mafia", "mob", "heist", "heists", "criminal", "criminals"),
        ("Crime",),
    ),
    "Documentary": (("documentary", "documentaries", "docu", "non-fiction", "nonfiction"), ("Documentary",)),
    "Drama": (("drama", "dramas", "dramatic"), ("Drama",)),
    "Fantasy": (
        ("fantasy", "fantasies", "magic", "magical", "wizard", "wizards", "fairy tale", "fairytale"),
        ("Fantasy",),
    ),
    "Film-Noir": (("film noir", "film-noir", "noir"), ("Film-Noir",)),
    "Horror": (
        ("horror", "horrors", "scary", "frightening", "spooky", "terrifying", "creepy", "slasher", "gory", "gore"),
        ("Horror",),
    ),
    "IMAX": (("imax",), ("IMAX",)),
    "Musical": (("musical", "musicals", "singing"), ("Musical", "Music")),
    "Mystery": (("mystery", "mysteries", "whodunit", "whodunnit", "detective", "detectives"), ("Mystery",)),
    "Romance": (("romance", "romances", "romantic", "love story", "love stories"), ("Romance",)),
    "Sci-Fi": (
        ("sci-fi", "scifi", "sci fi", "science fiction", "science-fiction", "sf", "space opera"),
        ("Sci-Fi", "Science Fiction"),
    ),
    "Thriller": (("thriller", "thrillers", "suspense", "suspenseful", "thrilling", "tense"), ("Thriller",)),
    "War": (
        ("war", "wartime", "military", "ww2", "wwii", "world war", "cold war", "civil war", "vietnam war"),
        ("War",),
    ),
    "Western": (("western", "westerns", "cowboy", "cowboys", "wild west"), ("Western",)),
    "History": (("historical", "history", "period piece"), ("History",)),
}
# Words that name several genres at once; the mapping is stated back to the user.
_COMPOUND: dict[str, tuple[str, ...]] = {
    "rom-com": ("Romance", "Comedy"),
    "romcom": ("Romance", "Comedy"),
    "rom com": ("Romance", "Comedy"),
    "romantic comedy": ("Romance", "Comedy"),
    "romantic comedies": ("Romance", "Comedy"),
}
# Only meaningful as an exclusion ("nothing too violent"): mapped to the genres that carry violence most.
_VIOLENT = ("violent", "violence", "bloody", "brutal", "disturbing")
_VIOLENT_GENRES = ("Horror", "War")
# Topic words read as a genre ("detective" -> Mystery, "heist" -> Crime): weaker evidence than the genre's name,
# so memory gives them up first when a later wish cannot be combined with them.
_TOPIC_WORDS = frozenset(
    "explosions|shoot em up|quest|pixar|laugh|laughs|gangster|gangsters|mafia|mob|heist|heists|criminal|criminals|"
    "magic|magical|wizard|wizards|fairy tale|fairytale|slasher|gory|gore|singing|whodunit|whodunnit|detective|"
    "detectives|love story|love stories|space opera|tense|suspense|suspenseful|thrilling|military|ww2|wwii|"
    "world war|cold war|civil war|vietnam war|cowboy|cowboys|wild west|history|historical|period piece".split("|")
)
_TOPIC_CONTEXT = re.compile(r"\b(?:involv(?:es|ing)|about|featuring|with|has|have|thinking of)\b[^.;!?,]*$")
# Phrases that contain a genre word but name no genre ("live action/animation" is not an action film).
_NOT_GENRE = ("live action", "live-action")

_NEGATORS = re.compile(
    r"\b(no|not|nothing|none|without|except|excluding|exclude|avoid|skip|hate|hated|dislike|disliked|never|"
    r"neither|nor|don't|dont|do not|didn't|didnt|isn't|isnt|aren't|arent|won't|less|minus|drop|remove|"
    r"other than|apart from|rather than|instead of)\b"
)
_CLAUSE_SPLIT = re.compile(r"[.;!?,]|\b(?:but|however|though|although|and|also|plus|with|yet|just|only)\b")
_NUM_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
              "ten": 10}  # fmt: skip
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
             "ninth": 9, "tenth": 10, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "6th": 6, "7th": 7,
             "8th": 8, "9th": 9, "10th": 10}  # fmt: skip
_DECADE_WORDS = {"twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60, "seventies": 70,
                 "eighties": 80, "nineties": 90}  # fmt: skip
_FILLER = set(
    "a an the some any me i im i'm id i'd we us you please want wanna would like love recommend recommendation "
    "recommendations suggest suggestions give show find get looking look for something anything movie movies film "
    "films flick flicks watch watching to see good great nice really very more another other one ones that this "
    "it is are be can could should of in on from about with and or but too so kind sort type tonight today "
    "maybe perhaps also just only similar same stuff let lets let's my mood feel feeling need what which i've ive "
    "already seen watched saw have has had".split()
)


def canonical_genres(name: str, catalog_genres: Sequence[str]) -> tuple[str, ...]:
    """Catalogue genres a user-facing genre name stands for (empty when it names none).

    ``canonical_genres("science fiction", ["Sci-Fi", ...]) == ("Sci-Fi",)``; matching is case-insensitive.
    """
    key = name.strip().lower()
    lookup = {g.lower(): g for g in catalog_genres}
    if key in lookup:
        return (lookup[key],)
    if key in _COMPOUND:
        return tuple(g for c in _COMPOUND[key] for g in _resolve_concept(c, lookup))
    for concept, (phrases, _aliases) in GENRE_SYNONYMS.items():
        if key == concept.lower() or key in phrases:
            return _resolve_concept(concept, lookup)
    return ()


def _resolve_concept(concept: str, lookup: dict[str, str]) -> tuple[str, ...]:
    for alias in GENRE_SYNONYMS.get(concept, ((), (concept,)))[1]:
        if alias.lower() in lookup:
            return (lookup[alias.lower()],)
    return ()


@dataclass
class ParsedRequest:
    """What one message asks for. Positions (``ref_*``) are 0-based indices into the last list shown.

    Attributes:
        text: the residual free-text intent for semantic search ("" when none).
        include_genres / exclude_genres: catalogue genre names; ``genre_match`` "all" or "any".
        year_min / year_max: the stated year range (inclusive), None when open.
        like_items / dislike_items / seen_items: item indices named by title.
        ref_like / ref_reject / ref_seen: positions in the last list the user referred to.
        user_id: a user id named in the message ("for user 42").
        k: how many results were asked for.
        runtime: "shorter" or "longer" when the user asked about length.
        reset: the user asked to start over.
        switch_genres: the message replaces the earlier genre wish ("instead", "rather") rather than
            refining it.
        inferred_genres: the included genres read only from topic words ("detective" -> Mystery).
        conflicts: contradictions inside this message (the turn is answered with a question instead).
        notes: how ambiguous words were read ("violent" -> Horror, War), unsupported wishes.
        mentions: the phrases recognised, for the trace.
    """

    text: str = ""
    include_genres: tuple[str, ...] = ()
    exclude_genres: tuple[str, ...] = ()
    genre_match: str = "all"
    year_min: int | None = None
    year_max: int | None = None
    like_items: list[int] = field(default_factory=list)
    dislike_items: list[int] = field(default_factory=list)
    seen_items: list[int] = field(default_factory=list)
    ref_like: list[int] = field(default_factory=list)
    ref_reject: list[int] = field(default_factory=list)
    ref_seen: list[int] = field(default_factory=list)
    user_id: str | None = None
    k: int | None = None
    runtime: str | None = None
    reset: bool = False
    switch_genres: bool = False
    inferred_genres: tuple[str, ...] = ()
    conflicts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)

    @property
    def years_stated(self) -> bool:
        """True when the message stated a year constraint."""
        return self.year_min is not None or self.year_max is not None


def _negated(text: str, start: int) -> bool:
    """True when the clause before ``start`` carries a negation."""
    prefix = text[:start]
    cut = 0
    for m in _CLAUSE_SPLIT.finditer(prefix):
        cut = m.end()
    return bool(_NEGATORS.search(prefix[cut:]))


def _negated_near(text: str, start: int, words: int = 2) -> bool:
    """True when one of the ``words`` words right before ``start`` (same clause) is a negation."""
    before = re.findall(r"[\w']+", _clause_prefix(text, start))[-words:]
    return bool(_NEGATORS.search(" ".join(before)))


def _clause_prefix(text: str, start: int) -> str:
    cut = 0
    for m in _CLAUSE_SPLIT.finditer(text[:start]):
        cut = m.end()
    return text[cut:start]


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


_TITLE_TRIGGERS = (
    ("like", r"(?:more\s+)?(?:something\s+|anything\s+|movies?\s+|films?\s+|stuff\s+)?(?:just\s+)?like"),
    ("like", r"similar\s+to|such\s+as|in\s+the\s+(?:style|vein|spirit)\s+of|reminiscent\s+of|reminds\s+me\s+of"),
    ("like", r"along\s+the\s+lines\s+of|comparable\s+to|fans?\s+of|i\s+(?:really\s+)?(?:loved|liked|enjoyed|adored)"),
    ("like", r"i\s+(?:really\s+)?(?:love|enjoy|adore)|(?:loved|enjoyed|adored)"),
    ("dislike", r"i\s+(?:really\s+)?(?:hated|hate|disliked|dislike)|i\s+(?:didn'?t|did\s+not|don'?t)\s+(?:like|enjoy)"),
    ("seen", r"i(?:'ve|\s+have)?\s+(?:already\s+)?(?:seen|watched|saw)|already\s+(?:seen|watched)"),
)
# Where a title after a trigger can end: punctuation followed by a space ("Louis C.K.: Live at ..." goes on).
_SPAN_END = re.compile(r"[.;!?,](?=\s|$)")
_TRIGGER_RE = re.compile(r"\b(?:" + "|".join(f"(?P<t{i}>{p})" for i, (_k, p) in enumerate(_TITLE_TRIGGERS)) + r")\s+")
_NOT_TITLE_BEFORE = re.compile(r"(?:\bwould|\bi'?d|\bwe'?d|\byou'?d|\bfeel|\blooks?|\bseems?|\bdo you)\s*$")
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


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _is_filler_phrase(phrase: str) -> bool:
    words = re.findall(r"[a-z0-9'-]+", phrase.lower())
    genre_phrases = {p for phrases, _ in GENRE_SYNONYMS.values() for p in phrases} | {c.lower() for c in GENRE_SYNONYMS}
    if " ".join(words) in genre_phrases:
        return True
    return all(w in _FILLER or w in genre_phrases or w in _ORDINALS or w in _DECADE_WORDS for w in words)


def _match_title(
    span: str, titles: TitleIndexLike, orig: str | None = None, max_words: int = 16
) -> tuple[TitleMatch, int] | None:
    """The longest leading part of ``span`` that names a title: (match, characters used).

    ``orig`` is the same span as the user typed it: a one-word title ("Up", "Heat") only counts when the
    user capitalised it (or wrote "the ..."), so that "like dark stuff" does not become the film "The Dark".
    """
    words = list(re.finditer(r"\S+", span))[:max_words]
    for fuzzy in (False, True):
        for n in range(len(words), 0, -1):
            end = words[n - 1].end()
            phrase = span[:end].strip(" \"'“”‘’")
            phrase = re.sub(r"^(?:the\s+(?:movie|film)\s+|(?:movie|film)\s+)", "", phrase)
            if not phrase or (fuzzy and len(phrase) < 5):
                continue
            if _is_filler_phrase(phrase) and (fuzzy or not _title_cased(orig, words[0].start(), end)):
                continue  # "like war movies" is a wish; "I didn't like In Love and War" names a film
            if orig is not None and len(phrase.split()) == 1:
                typed = orig[words[n - 1].start() : words[n - 1].end()].lstrip("\"'“‘(")
                if typed[:1].islower():
                    continue
            hits = titles.lookup(phrase, k=1, cutoff=0.88 if fuzzy else 0.99)
            if hits and (hits[0].score >= 0.999 or (fuzzy and hits[0].score >= 0.88)):
                return hits[0], end
            if fuzzy and n >= 2 and hits and normalize_title(hits[0].title).startswith(normalize_title(phrase) + " "):
                return hits[0], end  # a whole-word prefix of a title: "star wars" -> "Star Wars: Episode IV"
    return None


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

    # Titles: quoted first, then after a trigger ("like ...", "similar to ...", "I loved ...").
    if titles is not None:
        for m in list(re.finditer(r"[\"“]([^\"”]{2,80})[\"”]", text)):
            hits = titles.lookup(m.group(1), k=1, cutoff=0.75)
            if hits:
                kind = _trigger_kind(text[: m.start()])
                _add_title(req, kind, hits[0])
                text = _blank(text, m.start(), m.end())
        pos = 0
        while True:
            m = _TRIGGER_RE.search(text, pos)
            if not m:
                break
            pos = m.end()
            kind = next(_TITLE_TRIGGERS[i][0] for i in range(len(_TITLE_TRIGGERS)) if m.group(f"t{i}"))
            if kind == "like" and _NOT_TITLE_BEFORE.search(text[: m.start()]):
                continue
            span = re.split(_SPAN_END, text[m.end() :], maxsplit=1)[0]
            found = _match_title(span, titles, cased[m.end() : m.end() + len(span)])
            if found is None:
                continue
            hit, used = found
            if kind == "like" and _negated(text, m.start()):
                kind = "dislike"
            _add_title(req, kind, hit)
            text = _blank(text, m.start(), m.end() + used)
            pos = m.end() + used
            # "I loved Heat and Alien": further titles joined by "and" / "or" / "&".
            while (more := re.match(r"\s*(?:and|or|&|plus)\s+", text[pos:])) is not None:
                start = pos + more.end()
                span = re.split(_SPAN_END, text[start:], maxsplit=1)[0]
                found = _match_title(span, titles, cased[start : start + len(span)])
                if found is None:
                    break
                _add_title(req, kind, found[0])
                end = pos + more.end() + found[1]
                text = _blank(text, pos, end)
                pos = end
        text = _titles_before_verdict(text, cased, titles, req)

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


# A title named before a verdict: "Heat was not for me", "Alien wasn't my thing", "Up was great".
_VERDICT_RE = re.compile(
    r"\s+(?:was|is|were|are)(?:\s+(?P<neg>not|n't)|(?P<negc>n't))?\s+"
    r"(?P<what>for\s+me|my\s+(?:thing|cup\s+of\s+tea)|(?:really\s+|so\s+|too\s+)?(?:boring|awful|terrible|bad|dull|"
    r"great|amazing|brilliant|fantastic|wonderful|excellent|good|fun))\b"
)
_VERDICT_NEG = re.compile(r"boring|awful|terrible|bad|dull")
_SENTENCE_START = re.compile(r"(?:^|[.;!?,:]\s+|\s-\s+)")


def _titles_before_verdict(text: str, cased: str, titles: TitleIndexLike, req: ParsedRequest) -> str:
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
            found = _match_title(span, titles, cased[start:end])
            if found is None or span[found[1] :].strip():
                continue
            _add_title(req, "dislike" if negative else "like", found[0])
            text = _blank(text, start, m.end())
            break
    return text


def _trigger_kind(prefix: str) -> str:
    tail = prefix[-40:]
    for kind, pattern in _TITLE_TRIGGERS:
        if re.search(rf"\b(?:{pattern})\s*$", tail):
            return "dislike" if kind == "like" and _NEGATORS.search(tail) else kind
    return "like"


def _add_title(req: ParsedRequest, kind: str, hit: TitleMatch) -> None:
    target = {"like": req.like_items, "dislike": req.dislike_items, "seen": req.seen_items}[kind]
    if hit.item_index not in target:
        target.append(hit.item_index)
    req.mentions.append(f"{kind} title {hit.title}")


@functools.lru_cache(maxsize=16)
def _genre_matcher(catalog_genres: tuple[str, ...]) -> tuple[re.Pattern[str], dict[str, tuple[str, ...]]]:
    """One alternation over every genre phrase (longest first, so "romantic comedy" beats "comedy")."""
    phrases: dict[str, tuple[str, ...]] = {}
    for g in catalog_genres:
        phrases.setdefault(g.lower(), (g,))
    for concept, (words, _aliases) in GENRE_SYNONYMS.items():
        phrases.setdefault(concept.lower(), (concept,))
        for w in words:
            phrases.setdefault(w, (concept,))
    for p, c in _COMPOUND.items():
        phrases[p] = c
    for v in _VIOLENT:
        phrases[v] = ("__violent__",)
    for p in _NOT_GENRE:
        phrases[p] = ()
    ordered = sorted(phrases, key=lambda p: -len(p))
    pattern = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(p) for p in ordered) + r")(?![\w-])")
    return pattern, phrases


def _parse_genres(text: str, catalog_genres: Sequence[str], req: ParsedRequest) -> None:
    lookup = {g.lower(): g for g in catalog_genres}
    pattern, table = _genre_matcher(tuple(catalog_genres))
    mentions: list[tuple[int, int, tuple[str, ...], bool, str]] = []
    for m in pattern.finditer(text):
        phrase, concepts = m.group(0), table[m.group(0)]
        neg = _negated(text, m.start())
        if concepts == ("__violent__",):
            if neg:
                genres = tuple(lookup[g.lower()] for g in _VIOLENT_GENRES if g.lower() in lookup)
                req.notes.append(f"I read '{phrase}' as the genres {', '.join(genres)}.")
                mentions.append((m.start(), m.end(), genres, True, phrase))
            continue
        genres = tuple(
            g for c in concepts for g in (_resolve_concept(c, lookup) if c in GENRE_SYNONYMS else
                                          ((lookup[c.lower()],) if c.lower() in lookup else ()))
        )  # fmt: skip
        if genres:
            mentions.append((m.start(), m.end(), genres, neg, phrase))
    mentions.sort()
    inc: list[str] = []
    exc: list[str] = []
    positive: list[tuple[int, int, tuple[str, ...], str]] = []
    for start, end, genres, neg, phrase in mentions:
        req.mentions.append(("not " if neg else "") + f"{phrase} -> {'/'.join(genres)}")
        for g in genres:
            target = exc if neg else inc
            if g not in target:
                target.append(g)
        if not neg:
            positive.append((start, end, genres, phrase))
    both = [g for g in inc if g in exc]
    if both:
        req.conflicts.append(f"you asked for {', '.join(both)} and also to exclude {', '.join(both)}")
    req.include_genres, req.exclude_genres = tuple(inc), tuple(exc)
    named = {g for s, e, gs, p in positive if p not in _TOPIC_WORDS and not _in_topic(text, s, e) for g in gs}
    req.inferred_genres = tuple(g for g in inc if g not in named)
    _alternatives(text, positive, req)


def _in_topic(text: str, start: int, end: int) -> bool:
    """True when a genre word sits in a topic phrase ("something with cold war in it", "it involves magic")."""
    return bool(_TOPIC_CONTEXT.search(_clause_prefix(text, start)) or _TOPIC_AFTER.match(text, end))


def _alternatives(text: str, positive: list[tuple[int, int, tuple[str, ...], str]], req: ParsedRequest) -> None:
    """Read "horror or thriller" as any-of; in a mixed wish only the genres outside the alternatives are musts.

    Two adjacent genre mentions are alternatives when "or" / "either" stands between them, a bare "/" joins
    them ("horror/thriller"), or a comma joins them inside a list that ends in "or". A filter cannot say
    "Children and (Action or Animation)", so for "a family movie, action or animation" Children stays a
    must and the alternatives only steer the ranking (they stay in the search text), with a note.
    """
    if len(positive) < 2:
        return
    links: list[str] = []
    for a, b in zip(positive, positive[1:], strict=False):
        between = text[a[1] : b[0]]
        if re.search(r"\bor\b|\beither\b", between) or between.strip() == "/":
            links.append("or")
        elif between.strip() == ",":
            links.append(",")
        else:
            links.append("and")
    for i in range(len(links) - 2, -1, -1):  # "comedy, horror or thriller": the commas belong to the "or"
        if links[i] == "," and links[i + 1] == "or":
            links[i] = "or"
    if "or" not in links:
        return
    if all(link == "or" for link in links):
        req.genre_match = "any"
        return
    in_choice = [
        (i > 0 and links[i - 1] == "or") or (i < len(links) and links[i] == "or") for i in range(len(positive))
    ]
    must = tuple(dict.fromkeys(g for (_s, _e, gs, _p), c in zip(positive, in_choice, strict=True) if not c for g in gs))
    choice = [p for (_s, _e, _g, p), c in zip(positive, in_choice, strict=True) if c]
    req.include_genres = tuple(g for g in req.include_genres if g in must)
    req.notes.append(
        f"I kept {', '.join(must)} as a must and read '{' or '.join(choice)}' as a preference, not a filter."
    )


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
