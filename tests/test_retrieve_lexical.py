"""The lexical (BM25) source: word folding, BM25 ranking, and what it changes in the candidate bus."""

from __future__ import annotations

import numpy as np
import pytest

from agentrec.retrieve import Retriever, RetrieverConfig
from agentrec.retrieve.bus import DEFAULT_WEIGHTS
from agentrec.retrieve.lexical import LexicalIndex, fold, item_words
from agentrec.text.store import SearchHit
from agentrec.types import Catalog, Interactions, Item, Query


@pytest.mark.parametrize(
    ("word", "folded"),
    [("Glasses", "glass"), ("batteries", "battery"), ("boxes", "box"), ("brushes", "brush"), ("gloves", "glove"),
     ("glass", "glass"), ("bus", "bus"), ("analysis", "analysis"), ("tools", "tool"), ("fog", "fog")],
)  # fmt: skip
def test_fold_is_a_crude_singular_applied_to_both_sides(word: str, folded: str) -> None:
    assert fold(word) == folded


def test_item_words_read_title_overview_tags_genres_and_text_facets() -> None:
    item = Item("1", "Safety Goggles", overview="Anti-fog lens", tags=("lab",), genres=("PPE",),
                attributes={"category": ("Safety", "Eye Protection"), "brand": "Acme", "price": 9.5})  # fmt: skip
    words = item_words(item)
    assert {"safety", "goggle", "anti", "fog", "len", "lab", "ppe", "eye", "protection", "acme"} <= set(words)
    assert "9" not in words and "5" not in words  # numbers of numeric facets are not words of the item


def _catalog(titles: list[str]) -> Catalog:
    return Catalog(tuple(Item(str(i), t) for i, t in enumerate(titles)))


def test_bm25_ranks_items_with_more_and_rarer_request_words_first() -> None:
    titles = ["waterproof wood glue", "wood glue", "waterproof boots", "wood chisel", "glue stick", "wood saw"]
    index = LexicalIndex(_catalog(titles))
    scores = index.scores(["waterproof", "glue"])
    assert int(np.argmax(scores)) == 0  # both words
    assert scores[3] == scores[5] == 0.0  # neither word
    assert scores[2] > scores[3] and scores[4] > 0
    # A rare word weighs more than a common one: "waterproof" (2 items) beats "wood" (4 items).
    rare, common = index.scores(["waterproof"]), index.scores(["wood"])
    assert rare[2] > common[3]
    ranked = index.search(["glues"], np.ones(len(titles), bool), depth=10)  # folded like the items
    assert ranked is not None and set(ranked[0].tolist()) == {0, 1, 4}
    keep = np.ones(len(titles), bool)
    keep[0] = False
    # Two words of similar weight: an item needs both ("safety glasses" is not every item that says "safety").
    both = index.search(["waterproof", "glue"], np.ones(len(titles), bool), depth=10)
    assert both is not None and both[0].tolist() == [0]
    assert index.search(["waterproof", "glue"], keep, depth=1) is None  # filters apply before the top-k
    loose = index.search(["waterproof", "glue"], keep, depth=1, cover=0.3)
    assert loose is not None and loose[0].tolist() != [0]
    # A rare word carries the request on its own when it holds most of the weight.
    rare_first = index.search(["waterproof", "wood"], np.ones(len(titles), bool), depth=10)
    assert rare_first is not None and {0, 2} <= set(rare_first[0].tolist()) and 3 not in rare_first[0].tolist()
    assert index.search(["zeppelin"], keep, depth=5) is None


class MeaningStore:
    """A text index that puts a popular, unrelated item among the closest meanings (as a small encoder does)."""

    def __init__(self, order: list[int], catalog: Catalog) -> None:
        self.order, self.catalog = order, catalog

    def search(self, text: str, k: int = 20, filters: object = None, allowed: object = None) -> list[SearchHit]:
        keep = None if allowed is None else set(np.asarray(allowed).tolist())
        hits = [i for i in self.order if keep is None or i in keep][:k]
        items = self.catalog.items
        return [SearchHit(items[i].item_id, i, items[i].title, 1.0 - 0.01 * r) for r, i in enumerate(hits)]


def test_the_bus_answers_a_worded_request_with_items_that_carry_the_words() -> None:
    titles = ["PLA printer filament"] + [f"epoxy resin kit {i}" for i in range(12)] + ["PETG filament", "pectic enzyme"]
    catalog = _catalog(titles)
    n = len(titles)
    # The filament (item 0) is what everybody bought; each epoxy has a few buyers.
    users, items = [u for u in range(40)], [0] * 40
    for i in range(1, 13):
        users += [100 + i, 200 + i]
        items += [i, i]
    ids = sorted(set(users))
    u_index = np.array([ids.index(u) for u in users], np.int64)
    train = Interactions(u_index, np.array(items, np.int64), tuple(map(str, ids)), tuple(map(str, range(n))))
    # Meaning: three epoxies, then the popular filament and the enzyme, then the other epoxies.
    store = MeaningStore([1, 2, 3, 0, 14, 13, *range(4, 13)], catalog)
    bus = Retriever(catalog, train, store=store)
    without = Retriever(catalog, train, store=store, config=RetrieverConfig(weights={**DEFAULT_WEIGHTS, "lexical": 0}))
    got = [c.item_index for c in bus.retrieve(Query(text="epoxy", k=10)).candidates]
    before = [c.item_index for c in without.retrieve(Query(text="epoxy", k=10)).candidates]
    assert 0 in before  # without the lexical source the popular filament is pulled in by the quality prior
    assert set(got) <= set(range(1, 13)), got  # with it: ten epoxies
    assert bus.lexical is not None and without.lexical is None
    # Words that only name facets the filters enforce are not searched ("filament" is not description here).
    plain = bus.retrieve(Query(k=5)).candidates
    assert all("lexical" not in c.sources for c in plain)
