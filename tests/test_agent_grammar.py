"""The request grammar over facets: negation scope, unions, ranges on any numeric facet, soft wishes, modes.

The schemas here are small hand-written ones (a film catalogue, a shop, a names-only catalogue) so that each
phenomenon is checked on its own; the request sets run end to end on the real catalogues elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from agentrec.agent.grammar import Request, parse
from agentrec.agent.lexicon import Lexicon
from agentrec.agent.quantities import find_quantities
from agentrec.packs import available_packs, load_pack
from agentrec.schema import Facet as _Facet


@dataclass
class _Schema:
    facets: tuple[_Facet, ...]


GENRES = ("Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
          "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western")  # fmt: skip
FILMS = _Schema((_Facet("genre", "categorical", values=GENRES), _Facet("year", "numeric", bounds=(1902, 2018),
                                                                        integer=True)))  # fmt: skip
SHOP = _Schema(
    (
        _Facet("category", "categorical", values=("Adhesives", "Caulk", "Filament", "Lab Supplies", "Tapes")),
        _Facet("brand", "categorical", values=("Gorilla", "HATCHBOX", "3M", "DAP", "Loctite"), multi=False),
        _Facet("price", "numeric", unit="$", bounds=(1.0, 500.0)),
    )
)
NAMES = _Schema(())


@pytest.fixture(scope="module")
def films() -> Lexicon:
    return Lexicon(FILMS, load_pack("movies"))


@pytest.fixture(scope="module")
def shop() -> Lexicon:
    return Lexicon(SHOP, load_pack("products"))


@pytest.fixture(scope="module")
def names() -> Lexicon:
    return Lexicon(NAMES, load_pack("generic"))


def test_negation_scope_stays_in_its_clause(films: Lexicon) -> None:
    r = parse("some science fiction, but nothing with horror in it", films)
    assert r.include == {"genre": ["Sci-Fi"]} and r.exclude == {"genre": ["Horror"]}
    r = parse("no horror and no romance, a comedy", films)
    assert r.exclude == {"genre": ["Horror", "Romance"]} and r.include == {"genre": ["Comedy"]}
    r = parse("dark sci-fi from the 80s, no horror", films)
    assert r.include == {"genre": ["Sci-Fi"]} and r.exclude == {"genre": ["Horror"]} and r.text == "dark"


@pytest.mark.parametrize(
    ("message", "spans"),
    [
        ("a war movie from the 60s or 70s", [(1960, 1969), (1970, 1979)]),
        ("80s or 90s", [(1980, 1989), (1990, 1999)]),
        ("films from the 60s and 70s", [(1960, 1969), (1970, 1979)]),
        ("90s movies after 1995", [(1996, 1999)]),
        ("between 1995 and 2005", [(1995, 2005)]),
        ("after 2005", [(2006, None)]),
        ("2000+ please", [(2000, None)]),
    ],
)
def test_periods_unions_and_intersections(films: Lexicon, message: str, spans: list[tuple[int, int | None]]) -> None:
    r = parse(message, films)
    assert r.ranges == {"year": spans} and not r.conflicts


def test_excluded_periods_are_exclusions_not_leaks(films: Lexicon) -> None:
    r = parse("westerns, but not from the 60s", films)
    assert r.include == {"genre": ["Western"]} and r.exclude_ranges == {"year": [(1960, 1969)]} and not r.ranges
    r = parse("nothing before 1990", films)
    assert r.exclude_ranges == {"year": [(None, 1989)]}


def test_or_is_a_union_and_mixed_lists_keep_the_must(films: Lexicon) -> None:
    r = parse("comedy or drama", films)
    assert r.include == {"genre": ["Comedy", "Drama"]} and r.match == {"genre": "any"}
    r = parse("a family movie, action or animation", films)
    assert r.include == {"genre": ["Children"]} and r.prefer == {"genre": ["Action", "Animation"]}
    assert any("preference" in n for n in r.notes)


def test_soft_negation_is_a_preference_not_a_contradiction(films: Lexicon) -> None:
    r = parse("scary but not gory", films)
    assert r.include == {"genre": ["Horror"]} and not r.exclude and not r.conflicts
    assert r.avoid_terms == ["gory"] and any("gory" in n for n in r.notes)
    r = parse("nothing too violent", films)
    assert r.avoid_terms == ["violent"] and not r.exclude and not r.exclude_terms
    r = parse("a heist, but not too scary", films)
    assert r.avoid == {"genre": ["Horror"]} and not r.exclude
    assert any("genre Horror" in n and "preference" in n for n in r.notes)  # said, not applied silently


def test_the_same_word_both_ways_is_a_real_contradiction(films: Lexicon) -> None:
    assert parse("horror but not horror", films).conflicts


def test_topic_words_are_inferred_and_compounds_stated(films: Lexicon) -> None:
    r = parse("a detective story", films)
    assert r.include == {"genre": ["Mystery"]} and r.inferred == {"genre": ["Mystery"]} and r.notes
    r = parse("a rom-com from the 90s", films)
    assert r.include == {"genre": ["Romance", "Comedy"]} and "Romance and Comedy" in r.notes[0]


@pytest.mark.parametrize(
    ("message", "form", "mode"),
    [
        ("a funny crime movie after 2000", "head", None),
        ("I want a comedy", "head", None),
        ("only 90s please", "refine", None),
        ("no, I meant horror", "refine", "correct"),
        ("now something completely different: a documentary", "bare", "switch"),
        ("horror instead", "bare", "instead"),
        ("ok, thanks!", "none", None),
    ],
)
def test_forms_and_modes(films: Lexicon, message: str, form: str, mode: str | None) -> None:
    r = parse(message, films)
    assert (r.form, r.mode) == (form, mode)


def test_products_brands_categories_prices(shop: Lexicon) -> None:
    r = parse("glue, no Gorilla", shop)
    assert r.exclude == {"brand": ["Gorilla"]} and r.text == "glue"
    r = parse("filament but not HATCHBOX", shop)
    assert r.include == {"category": ["Filament"]} and r.exclude == {"brand": ["HATCHBOX"]}
    r = parse("adhesives under $20", shop)
    assert r.ranges == {"price": [(None, 20.0)]} and r.include == {"category": ["Adhesives"]}
    r = parse("5 products between $10 and $30", shop)
    assert r.ranges == {"price": [(10.0, 30.0)]} and "products" not in r.text
    r = parse("3M or Loctite tape", shop)
    assert r.include == {"brand": ["3M", "Loctite"], "category": ["Tapes"]} and r.match["brand"] == "any"
    r = parse("tape from 3M", shop)
    assert r.match["brand"] == "any"  # a single-valued facet: one brand can never be "all" of two


def test_negated_words_without_a_facet_become_text_exclusions(shop: Lexicon) -> None:
    r = parse("caulk but nothing latex", shop)
    assert r.include == {"category": ["Caulk"]} and r.exclude_terms == ["latex"]
    assert any("latex" in n for n in r.notes)


def test_names_only_catalogue_keeps_words_it_cannot_filter(names: Lexicon) -> None:
    r = parse("90s rock bands", names)
    assert not r.ranges and "90s" in r.text and "rock" in r.text
    assert r.unapplied and "no years" in r.unapplied[0]
    r = parse("not pop", names)
    assert r.exclude_terms == ["pop"] and r.notes
    r = parse("nothing too heavy", names)
    assert r.avoid_terms == ["heavy"] and r.notes


def test_price_words_on_a_catalogue_without_prices_are_said(films: Lexicon) -> None:
    r = parse("a comedy under $10", films)
    assert r.include == {"genre": ["Comedy"]} and not r.ranges and "prices" in r.unapplied[0]


def test_quantities_units_and_shapes() -> None:
    units = load_pack("generic").units
    found = {s.phrase: (s.kind, s.low, s.high) for s in find_quantities("under 2 hours, 4 stars or more", units)}
    assert found == {"under 2 hours": ("min", None, 120.0), "4 stars or more": ("star", 4.0, None)}
    assert find_quantities("1984 was great", units) == []  # a bare number may be a title word
    assert [(s.low, s.high) for s in find_quantities("a 1995 film", units)] == [(1995, 1995)]
    assert [(s.low, s.high) for s in find_quantities("from the early 80s", units)] == [(1980, 1983)]


def test_empty_and_hostile_messages(films: Lexicon, names: Lexicon) -> None:
    assert parse("", films).is_empty() and parse("", films).form == "none"
    r = parse("{F.B.R} <script>alert(1)</script> `rm` *bold*", names)
    assert isinstance(r, Request) and not r.conflicts


def test_packs_ship_and_extend() -> None:
    assert {"generic", "movies", "products"} <= set(available_packs())
    movies = load_pack("movies")
    assert movies.item == "film" and "$" in movies.units.values()  # units come from the generic pack
    assert movies.examples and movies.demo and load_pack("products").demo[0] == "3D printer filament"
    assert load_pack(None).name == "generic"


def test_pack_errors_say_what_to_fix(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="unknown domain pack 'books'.*shipped packs"):
        load_pack("books")
    with pytest.raises(ValueError, match="does not exist"):
        load_pack(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = 'x'\n[synonyms]\ngenre = 3\n")
    with pytest.raises(ValueError, match=r"\[synonyms"):
        load_pack(bad)
    broken = tmp_path / "broken.toml"
    broken.write_text("name = \n")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_pack(broken)
    own = tmp_path / "books.toml"
    own.write_text('name = "books"\nextends = "generic"\n[words]\nitem = "book"\nverb = "read"\n'
                   '[synonyms.genre]\n"Science Fiction" = ["sf"]\n')  # fmt: skip
    pack = load_pack(own)
    lex = Lexicon(_Schema((_Facet("genre", "categorical", values=("Science Fiction", "Poetry")),)), pack)
    assert pack.verb == "read" and parse("sf but no poetry", lex).exclude == {"genre": ["Poetry"]}


def test_head_nouns_name_any_of_their_values() -> None:
    schema = _Schema(
        (
            _Facet("category", "categorical", values=("3D Printing Filament", "Duct Tape", "Electrical Tape", "Caulk")),
            _Facet("brand", "categorical", values=("HATCHBOX", "3M"), multi=False),
        )
    )
    lex = Lexicon(schema, load_pack("products"))
    r = parse("filament but not HATCHBOX", lex)
    assert r.include == {"category": ["3D Printing Filament"]} and r.exclude == {"brand": ["HATCHBOX"]}
    r = parse("some tape from 3M", lex)
    assert r.include["category"] == ["Duct Tape", "Electrical Tape"] and r.match["category"] == "any"
    assert parse("duct tape", lex).include == {"category": ["Duct Tape"]}  # the whole name beats the head noun
    assert parse("no tapes", lex).exclude == {"category": ["Duct Tape", "Electrical Tape"]}


def test_values_that_never_meet_are_a_compound_or_a_union() -> None:
    from agentrec.agent.lexicon import value_pairs

    values = ("3D Printers", "3D Printing Filament", "Exam Gloves", "Stethoscopes", "Crime", "Drama")
    items = [("3D Printers",), ("3D Printing Filament",), ("Exam Gloves",), ("Stethoscopes",), ("Crime", "Drama")]
    lex = Lexicon(
        _Schema((_Facet("category", "categorical", values=values),)),
        load_pack("products"),
        together={"category": value_pairs(items)},
    )
    r = parse("3D printer filament", lex)
    assert r.include == {"category": ["3D Printing Filament"]} and r.prefer == {"category": ["3D Printers"]}
    r = parse("exam gloves and stethoscopes", lex)
    assert r.match == {"category": "any"} and r.include == {"category": ["Exam Gloves", "Stethoscopes"]}
    r = parse("crime drama", lex)
    assert r.include == {"category": ["Crime", "Drama"]} and r.match == {"category": "all"}


def test_for_my_marks_what_a_value_is_for() -> None:
    from agentrec.agent.lexicon import value_pairs

    values = ("3D Printers", "3D Printer Extruders")
    lex = Lexicon(
        _Schema((_Facet("category", "categorical", values=values),)),
        load_pack("products"),
        together={"category": value_pairs([("3D Printers",), ("3D Printer Extruders",)])},
    )
    r = parse("an extruder for my 3D printer", lex)
    assert r.include == {"category": ["3D Printer Extruders"]} and r.prefer == {"category": ["3D Printers"]}


def test_a_negation_of_a_value_does_not_reach_a_later_period(films: Lexicon) -> None:
    r = parse("adventure without animation from the 80s", films)
    assert r.exclude == {"genre": ["Animation"]} and r.ranges == {"year": [(1980, 1989)]} and not r.exclude_ranges
    assert parse("westerns, not from the 60s", films).exclude_ranges == {"year": [(1960, 1969)]}


def test_something_different_is_a_switch_only_with_a_new_wish_or_an_intensifier(films: Lexicon) -> None:
    assert parse("Show me something different.", films).mode is None  # other items, same wish
    assert parse("now something completely different", films).mode == "switch"
    assert parse("something different: a documentary", films).mode == "switch"


def test_firm_facets_are_read_before_free_tags() -> None:
    schema = _Schema(
        (
            _Facet("genre", "categorical", values=("Sci-Fi", "Thriller")),
            _Facet("keywords", "categorical", values=("sci-fi thriller", "dinosaur")),
        )
    )
    lex = Lexicon(schema, load_pack("movies"), soft=frozenset({"keywords"}))
    r = parse("a sci-fi thriller movie involving dinosaur", lex)
    assert r.include == {"genre": ["Sci-Fi", "Thriller"]} and r.prefer == {"keywords": ["dinosaur"]}


def test_age_words_before_a_value_speak_of_the_items(films: Lexicon) -> None:
    assert parse("old westerns", films).ranges == {"year": [(None, 1979)]}
    assert parse("new comedies", films).ranges == {"year": [(2014, None)]}
    assert not parse("a new toy", films).ranges  # a keyword, not a period
