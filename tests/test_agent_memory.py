"""Memory over facets: how each message changes the conversation's wish (new request, refinement, correction,
switch), with a note for everything that changed."""

from __future__ import annotations

import numpy as np
import pytest

from agentrec.agent.grammar import Request, parse
from agentrec.agent.head_fit import head_fit, topic_fit
from agentrec.agent.lexicon import Lexicon
from agentrec.agent.memory import Wish, merge
from agentrec.packs import load_pack
from agentrec.schema import CatalogSchema, FacetIndex, Filters, Range
from agentrec.types import Catalog, Item

_ITEMS = [
    ("Alien", 1979, ("Horror", "Sci-Fi")),
    ("The Matrix", 1999, ("Action", "Sci-Fi")),
    ("Gattaca", 1997, ("Drama", "Sci-Fi")),
    ("Hot Fuzz", 2007, ("Action", "Comedy", "Crime")),
    ("In Bruges", 2008, ("Comedy", "Crime", "Drama")),
    ("Airplane!", 1980, ("Comedy",)),
    ("The Shining", 1980, ("Horror",)),
    ("Bowling for Columbine", 2002, ("Documentary",)),
    ("Moon", 2009, ("Drama", "Sci-Fi")),
    ("Heat", 1995, ("Action", "Crime", "Drama")),
]


@pytest.fixture(scope="module")
def world() -> tuple[Lexicon, FacetIndex]:
    catalog = Catalog(tuple(Item(str(i), t, y, g) for i, (t, y, g) in enumerate(_ITEMS)))
    schema = CatalogSchema.from_catalog(catalog)
    return Lexicon(schema, load_pack("movies")), FacetIndex.build(schema, catalog, np.ones(len(catalog)))


def _talk(world: tuple[Lexicon, FacetIndex], *messages: str) -> tuple[Wish, list[list[str]]]:
    lexicon, index = world
    wish, notes = Wish(), []
    for message in messages:
        wish, said = merge(wish, parse(message, lexicon), count=index.count)
        notes.append(said)
    return wish, notes


def test_a_new_full_request_replaces_the_earlier_wish(world: tuple[Lexicon, FacetIndex]) -> None:
    wish, notes = _talk(world, "sci-fi from the 90s", "a funny crime movie after 2000")
    assert dict(wish.filters.include) == {"genre": ("Comedy", "Crime")}
    assert dict(wish.filters.ranges) == {"year": (Range(2001, None),)}
    assert "dropped the earlier wish" in notes[1][0]


def test_something_completely_different_starts_over_but_keeps_exclusions(world: tuple[Lexicon, FacetIndex]) -> None:
    wish, notes = _talk(world, "sci-fi from the 90s, no horror", "now something completely different: a documentary")
    assert dict(wish.filters.include) == {"genre": ("Documentary",)} and not wish.filters.ranges
    assert dict(wish.filters.exclude) == {"genre": ("Horror",)} and "still leaving out" in notes[1][0]


def test_a_correction_takes_back_the_previous_message(world: tuple[Lexicon, FacetIndex]) -> None:
    wish, notes = _talk(world, "a comedy", "no, I meant horror")
    assert dict(wish.filters.include) == {"genre": ("Horror",)}
    assert notes[1] == ["Changed genre Comedy to Horror."]


def test_a_refinement_adds_and_a_new_period_replaces(world: tuple[Lexicon, FacetIndex]) -> None:
    wish, notes = _talk(world, "sci-fi from the 90s", "no horror", "after 2005")
    f = wish.filters
    assert dict(f.include) == {"genre": ("Sci-Fi",)} and dict(f.exclude) == {"genre": ("Horror",)}
    assert dict(f.ranges) == {"year": (Range(2006, None),)} and "replaced your earlier year" in notes[2][0]
    wish, _ = _talk(world, "a drama", "something funny")
    assert dict(wish.filters.include) == {"genre": ("Drama", "Comedy")}


def test_a_refinement_that_leaves_nothing_keeps_the_stated_wish(world: tuple[Lexicon, FacetIndex]) -> None:
    wish, notes = _talk(world, "a documentary", "something scary")
    assert dict(wish.filters.include) == {"genre": ("Documentary",)} and dict(wish.prefer) == {"genre": ("Horror",)}
    assert "kept genre Documentary" in notes[1][0] and "'Horror instead'" in notes[1][0]
    wish, _ = _talk(world, "a documentary", "something scary", "horror instead")
    assert dict(wish.filters.include) == {"genre": ("Horror",)}


def test_instead_switches_the_named_facet(world: tuple[Lexicon, FacetIndex]) -> None:
    wish, notes = _talk(world, "a comedy from the 80s", "horror instead")
    assert dict(wish.filters.include) == {"genre": ("Horror",)} and wish.filters.ranges
    assert "Switched genre Comedy to Horror" in notes[1][0]


def test_asking_for_an_excluded_value_lifts_the_exclusion(world: tuple[Lexicon, FacetIndex]) -> None:
    wish, notes = _talk(world, "no horror", "ok, something scary then")
    assert dict(wish.filters.include) == {"genre": ("Horror",)} and not wish.filters.exclude
    assert any("dropped your earlier exclusion" in n for n in notes[1])
    wish, notes = _talk(world, "a comedy", "actually no comedy")
    assert not wish.filters.include and dict(wish.filters.exclude) == {"genre": ("Comedy",)}


def test_unions_and_text_exclusions_are_remembered(world: tuple[Lexicon, FacetIndex]) -> None:
    wish, _ = _talk(world, "a war movie from the 60s or 70s", "nothing with aliens")
    assert dict(wish.filters.ranges) == {"year": (Range(1960, 1969), Range(1970, 1979))}
    assert wish.filters.exclude_words == ("aliens",) and not wish.filters.exclude


def test_a_head_noun_that_leaves_nothing_falls_back_to_text() -> None:
    catalog = Catalog(
        (
            Item("1", "TEKTON Bench Vise", None, (), attributes={"brand": "TEKTON", "category": ("Vises",)}),
            Item("2", "Neiko Cutter", None, (), attributes={"brand": "Neiko", "category": ("Cutting Tools",)}),
            Item("3", "Neiko Saw", None, (), attributes={"brand": "Neiko", "category": ("Milling Tools",)}),
            Item("4", "TEKTON Mirror", None, (), attributes={"brand": "TEKTON", "category": ("Mirrors",)}),
            *(
                Item(f"x{i}", f"Tape {i}", None, (), attributes={"brand": "3M", "category": ("Tapes",)})
                for i in range(6)
            ),
        )
    )
    schema = CatalogSchema.from_catalog(catalog, {"brand": {"kind": "categorical", "multi": False}})
    lexicon = Lexicon.for_catalog(schema, catalog.items, load_pack("products"))
    index = FacetIndex.build(schema, catalog, np.ones(len(catalog)))
    wish, notes = merge(Wish(), parse("TEKTON tools", lexicon), count=index.count)
    assert dict(wish.filters.include) == {"brand": ("TEKTON",)} and "item text" in notes[0]
    wish, _ = merge(Wish(), parse("Neiko tools", lexicon), count=index.count)
    assert set(wish.filters.include["category"]) == {"Cutting Tools", "Milling Tools"}


def test_a_correction_after_a_turn_that_added_nothing_still_replaces(world: tuple[Lexicon, FacetIndex]) -> None:
    wish, notes = _talk(world, "a comedy", "more like the second one", "no, I meant horror")
    assert dict(wish.filters.include) == {"genre": ("Horror",)} and notes[2] == ["Changed genre Comedy to Horror."]


def test_a_head_noun_that_does_not_fit_the_rest_is_searched_as_text() -> None:
    req = Request(include={"category": ["Hand Tools", "Cutting Tools"]}, match={"category": "any"})
    req.weak = {"category": ["Hand Tools", "Cutting Tools"]}
    req.weak_terms = ["tool"]
    req.text = "tool measure beer gravity"
    seen: list[tuple[object, object]] = []

    def fits(with_heads: Filters, without: Filters) -> bool:
        seen.append((with_heads.include, without.include))
        return False

    wish, notes = merge(Wish(), req, count=lambda f: 10, fits=fits)
    assert not wish.filters.include and seen == [({"category": ("Hand Tools", "Cutting Tools")}, {})]
    assert any("did not limit the list to Hand Tools, Cutting Tools" in n and "'tool'" in n for n in notes)
    kept, notes = merge(Wish(), req, count=lambda f: 10, fits=lambda a, b: True)
    assert kept.filters.include == {"category": ("Hand Tools", "Cutting Tools")} and not notes


class _Hit:
    def __init__(self, item_index: int, score: float) -> None:
        self.item_index, self.score = item_index, score


class _Store:
    """Items 0-9 score 0.9 - 0.05 * i for any text; ``search`` keeps the allowed ones, best first."""

    def search(self, text: str, k: int = 20, allowed: np.ndarray | None = None) -> list[_Hit]:
        pool = range(10) if allowed is None else sorted(int(i) for i in allowed)
        return [_Hit(i, 0.9 - 0.05 * i) for i in pool][:k]


def test_head_fit_judges_by_the_best_text_matches() -> None:
    inside = {"few": {8, 9}, "close": {1}, "many": {3, 5, 7}}

    def mask_of(name: str):  # noqa: ANN202
        def mask(f: Filters) -> np.ndarray:
            keep = np.ones(10, dtype=bool)
            if f.include:
                keep[:] = False
                keep[sorted(inside[name])] = True
            return keep

        return mask

    with_heads, without = Filters(include={"category": ("X",)}), Filters()
    assert head_fit(None, mask_of("few"), "tool for beer", ["tool"]) is None  # no text index
    assert head_fit(_Store(), mask_of("few"), "tools", ["tool", "tools"]) is None  # nothing but the head noun
    for name, fits in (("few", False), ("close", True), ("many", True)):
        check = head_fit(_Store(), mask_of(name), "a tool to measure beer", ["tool"])
        assert check is not None and check(with_heads, without) is fits, name


def test_words_that_fit_nothing_of_the_standing_wish_start_a_new_request() -> None:
    standing = Wish(filters=Filters(include={"category": ("Filament",)}, exclude={"brand": ("Acme",)}))
    req = Request(text="glue")
    wish, notes = merge(standing, req, count=lambda f: 10, subject=lambda wish, fresh: False)
    assert not wish.filters.include and wish.filters.exclude == {"brand": ("Acme",)}  # exclusions stay
    assert any("Nothing you asked for before fits 'glue'" in n and "Filament" in n for n in notes)
    kept, notes = merge(standing, req, count=lambda f: 10, subject=lambda wish, fresh: True)
    assert kept.filters.include == {"category": ("Filament",)} and not notes  # a refinement: "thicker ones"


def test_a_words_only_wish_keeps_its_words_across_refinements() -> None:
    glue = Wish(text="glue", filters=Filters(exclude={"brand": ("Acme",)}))
    wish, notes = merge(glue, Request(text="waterproof"), count=lambda f: 10, topic=lambda standing, words: True)
    assert wish.text == "glue waterproof" and wish.filters.exclude == {"brand": ("Acme",)}
    assert notes == ["I kept 'glue' from before: searching for 'glue waterproof'."]
    same, notes = merge(glue, Request(text="glue"), count=lambda f: 10)  # nothing new: nothing to say
    assert same.text == "glue" and not notes
    quiet, notes = merge(glue, Request(form="refine"), count=lambda f: 10)  # "cheaper ones", "not the first one"
    assert quiet.text == "glue" and not notes
    other, notes = merge(glue, Request(text="safety glasses"), count=lambda f: 10, topic=lambda s, w: False)
    assert other.text == "safety glasses" and other.filters.exclude == {"brand": ("Acme",)}
    assert notes == ["'safety glasses' is not about 'glue', so this is a new request: I no longer search for 'glue'."]
    fixed, notes = merge(glue, Request(text="epoxy", mode="correct"), count=lambda f: 10)
    assert fixed.text == "epoxy" and notes == ["Searching for 'epoxy' instead of 'glue'."]
    fresh, _ = merge(Wish(), Request(text="glue"), count=lambda f: 10)
    assert fresh.text == "glue"
    long = Wish(text=" ".join(f"w{i}" for i in range(30)))
    capped, _ = merge(long, Request(text="last"), count=lambda f: 10)
    assert capped.text.split()[-1] == "last" and len(capped.text.split()) == 24


def test_a_wish_of_facet_values_carries_no_words_but_a_words_only_wish_keeps_them_under_a_facet() -> None:
    genre = Request(text="funny", include={"genre": ["Comedy"]}, form="head")
    wish, _ = merge(Wish(), genre, count=lambda f: 10)
    assert wish.text == ""  # the facet values carry the request (its words are searched that turn only)
    brand = Request(include={"brand": ["Gorilla"]}, form="refine")  # "only Gorilla" after "glue"
    kept, _ = merge(Wish(text="glue"), brand, count=lambda f: 10)
    assert kept.text == "glue" and kept.filters.include == {"brand": ("Gorilla",)}
    switch, notes = merge(kept, Request(text="a documentary", mode="switch"), count=lambda f: 10)
    assert switch.text == "a documentary" and not switch.filters.include and notes


def test_topic_fit_judges_follow_up_words_by_the_wishs_own_matches() -> None:
    class Words:
        """ "glue" finds items 0-4; "waterproof" finds 9, 3, 8 (3 is a glue); "gloves" finds 7, 8, 9 only."""

        found = {"glue": [0, 1, 2, 3, 4], "waterproof": [9, 3, 8], "gloves": [7, 8, 9], "sticky": [8, 9]}

        def search(self, text: str, k: int = 20, allowed: np.ndarray | None = None) -> list[_Hit]:
            keep = None if allowed is None else {int(i) for i in allowed}
            order = self.found[text] if keep is None or len(keep) == 10 else [i for i in range(10) if i in keep]
            score = {"sticky": 0.5, "gloves": 0.6}.get(text, 0.7)
            hits = [_Hit(i, score - (0.05 if text == "sticky" else 0.2) * (keep is not None and len(keep) < 10))
                    for i in order if keep is None or i in keep]  # fmt: skip
            return hits[:k]

    everything = lambda f: np.ones(10, dtype=bool)  # noqa: E731
    assert topic_fit(None, everything) is None  # no text index: no judgement
    fits = topic_fit(Words(), everything)
    assert fits is not None
    assert fits("glue", "waterproof")  # one of its best matches is a glue
    assert not fits("glue", "gloves")  # none is, and the best glue trails by 0.2
    assert fits("glue", "sticky")  # none is, but the best glue trails by 0.05 only
    assert fits("glue", "the")  # no content words: nothing to judge
