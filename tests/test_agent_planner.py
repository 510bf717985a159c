"""The offline request parser over a film catalogue: genres and synonyms, exclusions, years, titles, references,
conflicts (the grammar itself is tested on its own in test_agent_grammar.py)."""

from __future__ import annotations

from functools import cache

import pytest

from agentrec.agent.lexicon import Lexicon
from agentrec.agent.planner import ParsedRequest, parse_request
from agentrec.agent.toolbox import TitleIndex, normalize_title
from agentrec.packs import load_pack
from agentrec.schema import CatalogSchema
from agentrec.types import Catalog, Item

GENRES = (
    "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
    "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip


@cache
def _lexicon(genres: tuple[str, ...] = GENRES) -> Lexicon:
    items = tuple(Item(str(i), g, 1902 + (i * 7) % 117, (g,)) for i, g in enumerate(genres)) + (
        Item("last", "Newest", 2018, ()),
    )
    catalog = Catalog(items)
    return Lexicon.for_catalog(CatalogSchema.from_catalog(catalog), catalog.items, load_pack("movies"))


def parse(text: str, titles: TitleIndex | None = None, last_shown: int = 0) -> ParsedRequest:
    return parse_request(text, _lexicon(), titles, last_shown=last_shown)


def inc(req: ParsedRequest) -> set[str]:
    return set(req.request.include.get("genre", ()))


def exc(req: ParsedRequest) -> set[str]:
    return set(req.request.exclude.get("genre", ()))


def years(req: ParsedRequest) -> tuple[int | None, int | None]:
    spans = req.request.ranges.get("year", [])
    assert len(spans) <= 1
    lo, hi = spans[0] if spans else (None, None)
    return (None if lo is None else int(lo)), (None if hi is None else int(hi))


@pytest.mark.parametrize(
    ("text", "genres"),
    [
        ("some sci-fi please", ("Sci-Fi",)),
        ("scifi", ("Sci-Fi",)),
        ("a science fiction film", ("Sci-Fi",)),
        ("something funny", ("Comedy",)),
        ("a scary movie", ("Horror",)),
        ("a cartoon", ("Animation",)),
        ("romantic comedy", ("Romance", "Comedy")),
        ("a rom-com", ("Romance", "Comedy")),
        ("film noir", ("Film-Noir",)),
        ("Westerns", ("Western",)),
    ],
)
def test_genre_synonyms(text: str, genres: tuple[str, ...]) -> None:
    req = parse(text)
    assert inc(req) == set(genres)
    assert exc(req) == set()


@pytest.mark.parametrize(
    ("text", "include", "exclude"),
    [
        ("no horror", (), ("Horror",)),
        ("funny movies but no romance", ("Comedy",), ("Romance",)),
        ("not romantic", (), ("Romance",)),
        ("anything but horror", (), ("Horror",)),
        ("a thriller without romance", ("Thriller",), ("Romance",)),
        ("nothing scary, just comedy", ("Comedy",), ("Horror",)),
        ("no horror or war", (), ("Horror", "War")),
    ],
)
def test_exclusions(text: str, include: tuple[str, ...], exclude: tuple[str, ...]) -> None:
    req = parse(text)
    assert inc(req) == set(include)
    assert exc(req) == set(exclude)


def test_not_too_violent_is_a_preference_with_a_note() -> None:
    req = parse("nothing too violent")
    assert req.request.avoid_terms == ["violent"] and not exc(req)
    assert any("violent" in n for n in req.request.notes)


@pytest.mark.parametrize(
    ("text", "lo", "hi"),
    [
        ("from the 90s", 1990, 1999),
        ("1990s movies", 1990, 1999),
        ("from the eighties", 1980, 1989),
        ("only 90s", 1990, 1999),
        ("between 1995 and 2005", 1995, 2005),
        ("from 1995 to 2005", 1995, 2005),
        ("after 2010", 2011, None),
        ("before 1980", None, 1979),
        ("since 2000", 2000, None),
        ("early 2000s", 2000, 2003),
        ("late 80s", 1986, 1989),
        ("in 1994", 1994, 1994),
        ("recent", 2014, None),
    ],
)
def test_years(text: str, lo: int | None, hi: int | None) -> None:
    req = parse(text)
    assert years(req) == (lo, hi)
    assert not req.conflicts


@pytest.mark.parametrize("text", ["only horror but no horror", "from the 90s after 2010", "comedy and no comedy"])
def test_conflicts_inside_one_message(text: str) -> None:
    assert parse(text).conflicts


def test_or_means_any() -> None:
    req = parse("horror or thriller")
    assert req.request.match["genre"] == "any"
    assert parse("horror thriller").request.match["genre"] == "all"


@pytest.mark.parametrize(
    ("text", "like", "reject", "seen"),
    [
        ("more like the second one", [1], [], []),
        ("not the first one", [], [0], []),
        ("not the last two", [], [3, 4], []),
        ("none of these", [], [0, 1, 2, 3, 4], []),
        ("Nope, not quite.", [], [0, 1, 2, 3, 4], []),
        ("No, that's not what I'm after", [], [0, 1, 2, 3, 4], []),
        ("I don't think any of those fit", [], [0, 1, 2, 3, 4], []),
        ("not quite as violent please", [], [], []),
        ("I've already seen the third one", [], [], [2]),
        ("not that one", [], [-1], []),
        ("number 4 looks great", [3], [], []),
    ],
)
def test_references(text: str, like: list[int], reject: list[int], seen: list[int]) -> None:
    req = parse(text, last_shown=5)
    assert (req.ref_like, sorted(req.ref_reject), req.ref_seen) == (like, reject, seen)


def test_reference_without_a_list_is_noted() -> None:
    req = parse("more like the second one", last_shown=0)
    assert req.ref_like == [] and req.notes


def test_titles(tiny_catalog: Catalog) -> None:
    titles = TitleIndex(tiny_catalog)
    req = parse("something like Alien but from the 80s", titles)
    assert req.like_items == [0] and years(req) == (1980, 1989)
    assert parse("similar to toy story", titles).like_items == [3]
    assert parse("I loved Shrek and Finding Nemo", titles).like_items == [4, 5]
    assert parse("I hated Inception", titles).dislike_items == [6]
    assert parse("I've seen The Thing", titles).seen_items == [2]
    assert parse("I'd like a comedy", titles).like_items == []  # "like" as a verb, not a title
    assert parse("movies like Incepton", titles).like_items == [6]  # fuzzy, close enough to be a typo


def test_loose_title_matches_are_asked_back(tiny_catalog: Catalog) -> None:
    titles = TitleIndex(tiny_catalog)
    req = parse("something like the Shrek I watched last year", titles)
    assert req.like_items == [4]  # the whole title, exactly
    cat = Catalog(items=(Item("1", "Gorilla Gripper Panel Carrier", None), Item("2", "Duct Tape", None)))
    req = parse("something like the Gorilla Glue I bought", TitleIndex(cat))
    assert req.like_items == [] and [c.title for c in req.confirm] == ["Gorilla Gripper Panel Carrier"]


def test_user_and_k_and_lengths() -> None:
    req = parse("give me 5 comedies for user 42, something shorter")
    assert req.user_id == "42" and req.k == 5 and "Comedy" in inc(req)
    # No runtimes in this catalogue: "shorter" is said to be unavailable, never dropped silently.
    assert any("no lengths" in n and "shorter" in n for n in req.request.unapplied)


def test_residual_text_drops_exclusions() -> None:
    req = parse("space adventure with robots, no horror")
    assert "horror" not in req.text and "space" in req.text and "robots" in req.text


def test_genre_phrases_and_titles() -> None:
    lex = _lexicon()
    assert lex.lookup("science fiction").values == ("Sci-Fi",)  # type: ignore[union-attr]
    assert _lexicon(("Science Fiction", "Drama")).lookup("sci-fi").values == ("Science Fiction",)  # type: ignore[union-attr]
    assert _lexicon(("Family", "Drama")).lookup("for kids").values == ("Family",)  # type: ignore[union-attr]
    assert lex.lookup("nonsense") is None
    assert normalize_title("Matrix, The (1999)") == normalize_title("the matrix") == "matrix"


def test_title_index_year_disambiguates() -> None:
    cat = Catalog(items=(Item("1", "Heat", 1986), Item("2", "Heat", 1995), Item("3", "Heathers", 1989)))
    hits = TitleIndex(cat).lookup("Heat (1995)")
    assert hits[0].item_id == "2" and hits[0].score == 1.0


def test_short_titles_and_titles_with_numbers() -> None:
    cat = Catalog(items=(Item("1", "Up", 2009, ("Animation",)), Item("2", "2001: A Space Odyssey", 1968, ("Sci-Fi",))))
    titles = TitleIndex(cat)
    assert parse("something like Up", titles).like_items == [0]
    req = parse("like 2001: a space odyssey, after 1990", titles)
    assert req.like_items == [1] and years(req) == (1991, None)


def test_reset_words_are_not_search_text() -> None:
    req = parse("start over: sci-fi from the 90s")
    assert req.reset and "start" not in req.text and inc(req) == {"Sci-Fi"}


def test_one_word_titles_need_the_users_capital() -> None:
    cat = Catalog(items=(Item("1", "The Dark", 2005, ("Horror",)), Item("2", "Heat", 1995, ("Crime",))))
    titles = TitleIndex(cat)
    assert parse("something like dark stuff", titles).like_items == []
    assert parse("something like The Dark", titles).like_items == [0]
    assert parse("something like the dark", titles).like_items == [0]  # "the ..." reads as a title
    assert parse("i loved heat", titles).like_items == []
    assert parse("I loved Heat", titles).like_items == [1]
    assert parse('i loved "heat"', titles).like_items == [1]  # quoted: a title whatever the case
