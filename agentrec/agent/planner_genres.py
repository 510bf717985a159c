"""Genres in a request: names and synonyms, exclusions, alternatives, and genres read only from topic words."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from agentrec.agent.planner_text import ParsedRequest, _clause_prefix, _negated
from agentrec.agent.planner_years import _TOPIC_AFTER

__all__ = ["GENRE_SYNONYMS", "canonical_genres"]

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
