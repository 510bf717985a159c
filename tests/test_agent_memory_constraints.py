"""Conversation memory never drops a stated constraint unasked: one test per class of violation found by eval-chat.

Each class was seen in the conversational evaluation (issue #7): a message that names a title or a tag made
the planner read a genre or a period the user never asked for, and memory then dropped a wish the user had
stated. Parsing is checked on the message; memory through :func:`apply_request` over a small catalogue.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from agentrec.agent.lexicon import Lexicon
from agentrec.agent.planner import ParsedRequest, parse_request
from agentrec.agent.session import ConversationState, apply_request
from agentrec.agent.toolbox import TitleIndex, normalize_title
from agentrec.packs import load_pack
from agentrec.schema import CatalogSchema, FacetIndex, Range
from agentrec.types import Catalog, Filters, Item

GENRES = (
    "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Drama", "Fantasy", "Horror", "Musical",
    "Mystery", "Romance", "Sci-Fi", "Thriller", "War",
)  # fmt: skip


@pytest.fixture
def catalog() -> Catalog:
    return Catalog(
        items=(
            Item("1", "Children of the Night", 1991, ("Horror",)),
            Item("2", "Others, The", 2001, ("Drama", "Horror", "Mystery", "Thriller")),
            Item("3", "Star Wars: Episode IV - A New Hope", 1977, ("Action", "Adventure", "Sci-Fi")),
            Item("4", "In Love and War", 1996, ("Romance", "War")),
            Item("5", "Talented Mr. Ripley, The", 1999, ("Drama", "Mystery", "Thriller")),
            Item("6", "Legend of 1900, The (Leggenda del pianista sull'oceano)", 1998, ("Drama",)),
            Item("7", "American Drug War: The Last White Hope", 2007, ("Crime", "Documentary")),
            Item("8", "Date and Switch", 2014, ("Comedy",)),
            Item("9", "Louis C.K.: Live at the Comedy Store", 2015, ("Comedy",)),
            Item("10", "Stir of Echoes", 1999, ("Horror", "Mystery", "Thriller")),
            Item("11", "Who Framed Roger Rabbit?", 1988, ("Adventure", "Animation", "Children", "Comedy", "Fantasy")),
            Item("12", "Swan Princess, The", 1994, ("Animation", "Children")),
            Item("13", "Heat", 1995, ("Action", "Crime", "Thriller")),
            Item("14", "Sneakers", 1992, ("Action", "Comedy", "Crime", "Drama", "Sci-Fi")),
            Item("15", "Congo", 1995, ("Action", "Adventure", "Mystery", "Sci-Fi")),
            Item("16", "Fight Club", 1999, ("Action", "Crime", "Drama", "Thriller")),
            Item("17", "Very Bad Things", 1998, ("Comedy", "Crime", "Drama", "Thriller")),
        )
    )


def _world(catalog: Catalog) -> tuple[Lexicon, FacetIndex]:
    # The catalogue's genres and years, plus one item of 2018 (the newest year, as in ml-latest-small).
    full = Catalog((*catalog.items, Item("99", "Newest", 2018, tuple(GENRES))))
    schema = CatalogSchema.from_catalog(full)
    lexicon = Lexicon.for_catalog(schema, full.items, load_pack("movies"))
    return lexicon, FacetIndex.build(schema, full, np.ones(len(full)))


def _parse(text: str, catalog: Catalog, last_shown: int = 10) -> ParsedRequest:
    return parse_request(text, _world(catalog)[0], TitleIndex(catalog), last_shown=last_shown)


def _talk(catalog: Catalog, *messages: str) -> tuple[ConversationState, list[str]]:
    state, notes = ConversationState(), []
    lexicon, index = _world(catalog)
    newest = len(catalog)  # the extra 2018 item carries every genre: it never counts as a match here

    def count(f: Filters, *, skip: object = (), limit: int | None = None) -> int:
        mask = index.mask(f)
        mask[newest] = False
        return int(mask.sum()) if limit is None else min(int(mask.sum()), limit)

    toolbox = SimpleNamespace(catalog=catalog, is_known_user=lambda _u: True, count=count)
    for msg in messages:
        parsed = parse_request(msg, lexicon, TitleIndex(catalog), last_shown=len(state.last_shown))
        assert not parsed.conflicts, (msg, parsed.conflicts)
        notes += apply_request(state, parsed, toolbox)[1]  # type: ignore[arg-type]
        state.last_shown = [2]  # a list the user can turn down ("none of those") without blocking the answers
    return state, notes


def _genres(req: ParsedRequest) -> tuple[str, ...]:
    return tuple(req.request.include.get("genre", ()))


def _years(req: ParsedRequest) -> tuple[float | None, float | None]:
    spans = req.request.ranges.get("year", [])
    return spans[0] if spans else (None, None)


@pytest.mark.parametrize(
    ("message", "disliked"),
    [
        ("Hmm, none of those are quite it. Children of the Night was not for me.", "1"),
        ("Nope, not quite. Star Wars: Episode IV - A New Hope was not for me.", "3"),
        ("None of these, sorry. The Talented Mr. Ripley wasn't my thing.", "5"),
        ("I didn't like In Love and War.", "4"),
        ("I really disliked American Drug War: The Last White Hope.", "7"),
        ("None of these, sorry. Date and Switch was not for me.", "8"),
        ("I didn't like Louis C.K.: Live at the Comedy Store.", "9"),
        ("The Legend of 1900 was not for me.", "6"),
    ],
)
def test_a_title_lends_no_genre_or_period(message: str, disliked: str, catalog: Catalog) -> None:
    req = _parse(message, catalog)
    assert [catalog[i].item_id for i in req.dislike_items] == [disliked]
    assert _genres(req) == () and "year" not in req.request.facets_stated and req.request.mode is None
    assert req.ref_like == []  # "The Last White Hope" is not "the last one"


def test_a_title_before_a_good_verdict_is_liked(catalog: Catalog) -> None:
    req = _parse("Heat was great", catalog)
    assert [catalog[i].item_id for i in req.like_items] == ["13"]
    assert _genres(_parse("Action is for me", catalog)) == ("Action",)  # not a verdict on a title


def test_article_last_titles_with_alternatives_normalise() -> None:
    assert normalize_title("Legend of 1900, The (Leggenda del pianista sull'oceano)") == "legend of 1900"


def test_live_action_is_not_the_action_genre(catalog: Catalog) -> None:
    req = _parse("Recommend me a family movie that has live action/animation in it.", catalog)
    assert set(_genres(req)) == {"Children", "Animation"} and req.request.match["genre"] == "all"


@pytest.mark.parametrize(
    ("message", "include", "match"),
    [
        ("horror/thriller", {"Horror", "Thriller"}, "any"),
        ("comedy, horror or thriller", {"Comedy", "Horror", "Thriller"}, "any"),
        ("a family movie, action or animation", {"Children"}, "all"),  # Children is a must either way
    ],
)
def test_alternatives_only_where_they_are_said(message: str, include: set[str], match: str, catalog: Catalog) -> None:
    req = _parse(message, catalog)
    assert set(_genres(req)) == include and req.request.match["genre"] == match
    if message.startswith("a family"):
        assert any("preference" in n for n in req.request.notes)
        assert req.request.prefer == {"genre": ["Action", "Animation"]}


@pytest.mark.parametrize(
    "message",
    ["Ideally it involves new toy.", "I'm thinking of old man.", "Something with 1970s in it.",
     "Ideally it involves 1970s.", "a drama set in the sixties"],
)  # fmt: skip
def test_words_that_are_not_a_release_period(message: str, catalog: Catalog) -> None:
    req = _parse(message, catalog)
    assert "year" not in req.request.facets_stated and req.text  # kept as what it is about


@pytest.mark.parametrize(
    ("message", "lo", "hi"),
    [("something new", 2014, None), ("old movies", None, 1979), ("a comedy from the 1970s", 1970, 1979)],
)
def test_release_periods_still_read(message: str, lo: int | None, hi: int | None, catalog: Catalog) -> None:
    assert _years(_parse(message, catalog)) == (lo, hi)


def test_memory_keeps_the_stated_genre_through_a_disliked_title(catalog: Catalog) -> None:
    state, _ = _talk(
        catalog,
        "I feel like watching a horror film from the nineties.",
        "Hmm, none of those are quite it. Children of the Night was not for me. I really enjoyed The Others.",
        "Not these, I'm afraid. A bit of mystery too.",
    )
    assert set(state.filters.include.get("genre", ())) == {"Horror", "Mystery"}
    assert state.filters.ranges["year"] == (Range(1990, 1999),)


def test_an_unmatched_genre_never_drops_the_earlier_wish(catalog: Catalog) -> None:
    state, notes = _talk(catalog, "a horror movie from the 90s", "it should also be a musical")
    assert state.filters.include.get("genre", ()) == ("Horror",)
    assert any("kept genre Horror" in n and "'Musical instead'" in n for n in notes)
    state, notes = _talk(catalog, "a horror movie from the 90s", "a musical instead")
    assert state.filters.include.get("genre", ()) == ("Musical",)
    assert any("Switched genre Horror to Musical" in n for n in notes)


def test_a_topic_reading_gives_way_to_a_named_genre(catalog: Catalog) -> None:
    # "detective" was read as Mystery; no 90s film is Action, Comedy and Mystery: the topic reading goes.
    state, notes = _talk(catalog, "an action movie from the 90s", "It should have detective.", "Make it comedy too.")
    assert set(state.filters.include.get("genre", ())) == {"Action", "Comedy"}
    assert any("dropped Mystery" in n for n in notes)
    # Named outright, the genre stays a must.
    state, _ = _talk(catalog, "an action movie from the 90s", "It should be a mystery.", "Make it comedy too.")
    assert set(state.filters.include.get("genre", ())) == {"Action", "Mystery"}


@pytest.mark.parametrize(
    ("message", "inferred"),
    [
        ("Something with cold war in it.", ("War",)),
        ("Ideally it involves detective.", ("Mystery",)),
        ("a war movie", ()),
        ("It should also be a mystery.", ()),
    ],
)
def test_genres_read_from_topics_are_marked(message: str, inferred: tuple[str, ...], catalog: Catalog) -> None:
    req = _parse(message, catalog)
    assert _genres(req) and tuple(req.request.inferred.get("genre", ())) == inferred


def test_a_topic_war_gives_way_to_a_named_genre(catalog: Catalog) -> None:
    state, _ = _talk(
        catalog, "an action movie from the 90s", "Something with cold war in it.", "It should also be comedy."
    )
    assert set(state.filters.include.get("genre", ())) == {"Action", "Comedy"}


def test_a_topic_reading_gives_way_when_it_leaves_too_few_films(catalog: Catalog) -> None:
    # "dark comedy" read Comedy from a topic; only one 90s film is Crime, Thriller, Comedy and Drama, less than
    # a list's worth, so adding Drama drops the topic reading (the named genres stay).
    state, notes = _talk(
        catalog, "a crime thriller movie about dark comedy", "It should be from the 1990s.", "It should also be drama."
    )
    assert not state.wish.inferred and set(state.filters.include.get("genre", ())) == {"Crime", "Thriller", "Drama"}
    assert any("Only 1 item(s)" in n and "dropped Comedy" in n for n in notes)


def test_a_named_genre_stays_firm_when_a_topic_word_repeats_it(catalog: Catalog) -> None:
    # War is named first; "war crimes" later speaks of it through a topic, which must not make it droppable.
    state, _ = _talk(catalog, "a romance war movie", "I'm thinking of war crimes.", "It should be from the 90s.")
    assert not state.wish.inferred and set(state.filters.include.get("genre", ())) == {"Romance", "War"}
    state, _ = _talk(catalog, "a romance war movie", "I'm thinking of war crimes.", "A bit of drama too.")
    assert {"Romance", "War"} <= set(state.filters.include.get("genre", ()))
