"""The quality prior (shrunk rating + confidence; damped popularity without ratings) and request weights."""

from __future__ import annotations

import numpy as np
import pytest

from agentrec.retrieve import Retriever
from agentrec.retrieve.quality import QualityPrior, descriptive_share, descriptive_words, request_weights, tilt
from agentrec.types import Catalog, Filters, Interactions, Item, Query


def _interactions(rows: list[tuple[int, int, float]], num_users: int, num_items: int, *, rated: bool) -> Interactions:
    u, i, r = (np.array(c) for c in zip(*rows, strict=True))
    return Interactions(
        user_index=u.astype(np.int64),
        item_index=i.astype(np.int64),
        user_ids=tuple(str(x) for x in range(num_users)),
        item_ids=tuple(str(x) for x in range(num_items)),
        rating=r.astype(np.float32) if rated else None,
    )


def test_one_perfect_rating_does_not_beat_many_good_ones() -> None:
    # item 0: one 5.0; item 1: forty 4.5; item 2: forty 2.0; item 3: nobody.
    rows = [(0, 0, 5.0)] + [(u, 1, 4.5) for u in range(40)] + [(u, 2, 2.0) for u in range(40)]
    prior = QualityPrior.from_interactions(_interactions(rows, 40, 4, rated=True), m=20.0)
    assert prior.score[1] > prior.score[0] > prior.score[2] > prior.score[3] == 0.0
    mean = (5.0 + 40 * 4.5 + 40 * 2.0) / 81
    assert prior.global_mean == pytest.approx(mean)
    assert prior.shrunk is not None
    assert prior.shrunk[0] == pytest.approx((5.0 + 20 * mean) / 21)  # Bayesian average, hand-computed
    assert prior.rating_fact(1) == (pytest.approx(4.5), 40)
    assert prior.rating_fact(3) is None


def test_implicit_data_ranks_by_damped_popularity() -> None:
    rows = [(u, 0, 1.0) for u in range(9)] + [(u, 1, 1.0) for u in range(3)] + [(0, 2, 1.0), (0, 2, 1.0)]
    prior = QualityPrior.from_interactions(_interactions(rows, 9, 4, rated=False))
    assert prior.shrunk is None and prior.rating_fact(0) is None
    assert list(prior.count) == [9, 3, 1, 0]  # duplicate interactions count one person once
    np.testing.assert_allclose(prior.score, np.log1p([9, 3, 1, 0]) / np.log1p(9))


@pytest.mark.parametrize(("kwargs", "name"), [({"m": -1.0}, "m"), ({"confidence_weight": 1.5}, "confidence_weight")])
def test_bad_settings_name_the_argument(kwargs: dict[str, float], name: str) -> None:
    data = _interactions([(0, 0, 4.0)], 1, 1, rated=True)
    with pytest.raises(ValueError, match=name):
        QualityPrior.from_interactions(data, **kwargs)  # type: ignore[arg-type]


def test_facet_words_are_not_description() -> None:
    f = Filters(include={"genre": ("Sci-Fi",)}, ranges={"year": ((1990, 1999),)})
    assert descriptive_words("sci-fi from the 90s", f) == []
    assert descriptive_share("sci-fi from the 90s movies", f) == 0.0
    assert descriptive_words("dark dreamlike sci-fi about memory", f) == ["dark", "dreamlike", "about", "memory"]
    assert descriptive_words("animated films", Filters(include={"genre": ("Animation",)})) == []
    assert descriptive_share("dark dreamlike memory", f) == pytest.approx(0.75)


def test_request_weights_trust_meaning_only_for_descriptive_requests() -> None:
    base = {"semantic": 2.0, "quality": 1.0, "gnn": 1.0}
    facets = request_weights(base, "horror", Filters(include={"genre": ("Horror",)}), personal=False, seeded=False)
    assert facets["quality"] == 1.0 and facets["semantic"] == pytest.approx(0.2) and facets["gnn"] == 1.0
    words = request_weights(base, "slow melancholy road trip", Filters(), personal=False, seeded=False)
    assert words["semantic"] > 1.5 and words["quality"] < 0.3
    personal = request_weights(base, "", Filters(), personal=True, seeded=False)
    assert personal["quality"] < facets["quality"]


def test_tilt_reorders_near_equal_matches_only_among_the_hits() -> None:
    idx, score = np.array([4, 7, 9]), np.array([0.50, 0.49, 0.30])
    prior = np.zeros(10)
    prior[7], prior[1] = 1.0, 1.0  # item 1 is famous but not a hit: it must not come in
    out = tilt((idx, score), prior, 0.25)
    assert out is not None
    assert out[0].tolist() == [7, 4, 9] and out[1][0] == pytest.approx(0.74)
    assert tilt(None, prior, 0.25) is None
    same = tilt((idx, score), prior, 0.0)
    assert same is not None and same[0].tolist() == [4, 7, 9]


def test_an_ids_only_catalogue_gets_the_prior_and_similar_items(tiny_interactions: Interactions) -> None:
    bare = Catalog(tuple(Item(str(i), f"place {i}") for i in range(tiny_interactions.num_items)))
    r = Retriever(bare, tiny_interactions)
    assert r.quality.shrunk is None  # no ratings: damped popularity
    cold = r.retrieve(Query(k=3)).candidates
    assert cold and all("quality" in c.sources for c in cold) and cold[0].item_index != 6  # 6: nobody chose it
    like = r.retrieve(Query(liked_items=(0,), k=2)).candidates
    assert {c.item_index for c in like} == {1, 2}  # the items co-liked with 0, not the other cluster
    assert all("similar" in c.sources for c in like)


def test_a_pure_description_ranks_quality_only_among_its_text_matches(tiny_interactions: Interactions) -> None:
    from test_retrieve import KeywordStore

    n = tiny_interactions.num_items
    titles = ["harbour view", "harbour lights"] + [f"place {i}" for i in range(2, n)]
    catalog = Catalog(tuple(Item(str(i), t) for i, t in enumerate(titles)))
    r = Retriever(catalog, tiny_interactions, store=KeywordStore(catalog))
    described = r.retrieve(Query(text="harbour view", k=5)).candidates
    assert {c.item_index for c in described if "quality" in c.sources} <= {0, 1}  # never an unrelated famous item
    assert described[0].item_index == 0
    everything = r.retrieve(Query(k=5)).candidates  # no words: the prior ranks the whole catalogue
    assert any(c.item_index > 1 and "quality" in c.sources for c in everything)
