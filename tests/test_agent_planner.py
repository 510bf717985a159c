"""The offline request parser: genres and synonyms, exclusions, years, titles, references, conflicts."""

from __future__ import annotations

import pytest

from agentrec.agent.planner import canonical_genres, parse_request
from agentrec.agent.toolbox import TitleIndex, normalize_title
from agentrec.types import Catalog, Item

GENRES = (
    "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
    "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip


def parse(text: str, titles: TitleIndex | None = None, last_shown: int = 0):
    return parse_request(text, GENRES, titles, last_shown=last_shown, latest_year=2018)


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
    assert set(req.include_genres) == set(genres)
    assert req.exclude_genres == ()


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
    assert set(req.include_genres) == set(include)
    assert set(req.exclude_genres) == set(exclude)


def test_violent_maps_to_genres_with_a_note() -> None:
    req = parse("nothing too violent")
    assert set(req.exclude_genres) == {"Horror", "War"}
    assert any("violent" in n for n in req.notes)


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
    assert (req.year_min, req.year_max) == (lo, hi)
    assert not req.conflicts


@pytest.mark.parametrize("text", ["only horror but no horror", "from the 90s after 2010", "comedy and no comedy"])
def test_conflicts_inside_one_message(text: str) -> None:
    assert parse(text).conflicts


def test_or_means_any() -> None:
    req = parse("horror or thriller")
    assert req.genre_match == "any"
    assert parse("horror thriller").genre_match == "all"


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
    assert req.like_items == [0] and (req.year_min, req.year_max) == (1980, 1989)
    assert parse("similar to toy story", titles).like_items == [3]
    assert parse("I loved Shrek and Finding Nemo", titles).like_items == [4, 5]
    assert parse("I hated Inception", titles).dislike_items == [6]
    assert parse("I've seen The Thing", titles).seen_items == [2]
    assert parse("I'd like a comedy", titles).like_items == []  # "like" as a verb, not a title
    assert parse("movies like Incepton", titles).like_items == [6]  # fuzzy


def test_user_and_k_and_runtime() -> None:
    req = parse("give me 5 comedies for user 42, something shorter")
    assert req.user_id == "42" and req.k == 5 and req.runtime == "shorter"
    assert "Comedy" in req.include_genres


def test_residual_text_drops_exclusions() -> None:
    req = parse("space adventure with robots, no horror")
    assert "horror" not in req.text and "space" in req.text and "robots" in req.text


def test_canonical_genres_and_titles() -> None:
    assert canonical_genres("science fiction", GENRES) == ("Sci-Fi",)
    assert canonical_genres("Science Fiction", ("Science Fiction", "Drama")) == ("Science Fiction",)
    assert canonical_genres("kids", ("Family",)) == ("Family",)
    assert canonical_genres("nonsense", GENRES) == ()
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
    assert req.like_items == [1] and req.year_min == 1991


def test_reset_words_are_not_search_text() -> None:
    req = parse("start over: sci-fi from the 90s")
    assert req.reset and "start" not in req.text and req.include_genres == ("Sci-Fi",)


def test_one_word_titles_need_the_users_capital() -> None:
    cat = Catalog(items=(Item("1", "The Dark", 2005, ("Horror",)), Item("2", "Heat", 1995, ("Crime",))))
    titles = TitleIndex(cat)
    assert parse("something like dark stuff", titles).like_items == []
    assert parse("something like The Dark", titles).like_items == [0]
    assert parse("something like the dark", titles).like_items == [0]  # "the ..." reads as a title
    assert parse("i loved heat", titles).like_items == []
    assert parse("I loved Heat", titles).like_items == [1]
    assert parse('i loved "heat"', titles).like_items == [1]  # quoted: a title whatever the case
