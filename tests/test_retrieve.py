"""Candidate bus: fusion and provenance, exact hard filters, exclusions, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from agentrec.graph import build_graph
from agentrec.models.lightgcn import LightGCN, LightGCNConfig
from agentrec.retrieve import SOURCES, Retriever, RetrieverConfig, item_passes
from agentrec.retrieve.quality import request_weights
from agentrec.text.store import SearchHit
from agentrec.types import Catalog, Filters, Interactions, Query, Range


class KeywordStore:
    """A tiny in-memory store for tests: scores items by word overlap with title, genres and tags."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.calls: list[tuple[str, int, object]] = []

    def search(self, text: str, k: int = 20, filters: object = None) -> list[SearchHit]:
        self.calls.append((text, k, filters))
        words = set(text.lower().split())
        hits = []
        for i, it in enumerate(self.catalog.items):
            bag = set(f"{it.title} {' '.join(it.genres)} {' '.join(it.tags)}".lower().split())
            overlap = len(words & bag)
            if overlap:
                hits.append(SearchHit(it.item_id, i, it.title, overlap / len(words)))
        return sorted(hits, key=lambda h: (-h.score, h.item_index))[:k]


@pytest.fixture
def model(tiny_interactions: Interactions) -> LightGCN:
    return LightGCN(build_graph(tiny_interactions), LightGCNConfig(embedding_dim=8, num_layers=2, seed=0)).eval()


@pytest.fixture
def retriever(tiny_catalog: Catalog, tiny_interactions: Interactions, model: LightGCN) -> Retriever:
    return Retriever(tiny_catalog, tiny_interactions, model=model, store=KeywordStore(tiny_catalog))


def test_known_user_never_gets_history_seen_or_rejected(retriever: Retriever) -> None:
    res = retriever.retrieve(Query(user_id="0", k=5, seen=(3,), rejected=(4,)))
    got = {c.item_index for c in res.candidates}
    assert got and not got & {0, 1, 2, 3, 4}
    assert not res.cold_start and res.notes == ()


def test_fusion_merges_duplicates_and_keeps_provenance(retriever: Retriever) -> None:
    res = retriever.retrieve(Query(text="pixar animation", user_id="5", k=4))
    ids = [c.item_index for c in res.candidates]
    assert len(ids) == len(set(ids))
    multi = [c for c in res.candidates if len(c.sources) > 1]
    assert multi, "an item ranked by several sources must merge into one candidate"
    for c in res.candidates:
        assert set(c.sources) == set(c.source_ranks)
        assert set(c.sources) <= set(SOURCES)
    scores = [c.score for c in res.candidates]
    assert scores == sorted(scores, reverse=True)
    # RRF: the fused score is exactly the weighted sum over the sources that ranked the item, with the
    # request's weights (semantic and quality rescaled by how descriptive the request is).
    cfg = retriever.config
    weights = request_weights(cfg.weights, "pixar animation", Filters(), personal=True, seeded=False)
    for c in res.candidates:
        expect = sum(weights[s] / (cfg.rrf_k + r + 1) for s, r in c.source_ranks.items())
        assert c.score == pytest.approx(expect)


def test_semantic_weight_makes_text_intent_matter(tiny_catalog: Catalog, tiny_interactions: Interactions) -> None:
    r = Retriever(tiny_catalog, tiny_interactions, store=KeywordStore(tiny_catalog))
    # A cold user asking for dreams/heist gets Inception (the only unseen, unpopular item) first.
    res = r.retrieve(Query(text="dreams heist", k=3))
    assert res.cold_start and res.candidates[0].item_index == 6
    assert "semantic" in res.candidates[0].sources


def test_score_fusion(tiny_catalog: Catalog, tiny_interactions: Interactions, model: LightGCN) -> None:
    r = Retriever(tiny_catalog, tiny_interactions, model=model, config=RetrieverConfig(fusion="score"))
    res = r.retrieve(Query(liked_items=(0,), k=3))
    assert res.candidates and 0 not in {c.item_index for c in res.candidates}
    # Co-interaction from Alien: Aliens and The Thing are co-liked; they must lead.
    assert {c.item_index for c in res.candidates[:2]} == {1, 2}


FILTER_CASES = [
    Filters(include={"genre": ("Sci-Fi",)}),
    Filters(include={"genre": ("sci-fi", "horror")}),
    Filters(include={"genre": ("Comedy", "Horror")}, match={"genre": "any"}),
    Filters(exclude={"genre": ("Animation",)}),
    Filters(ranges={"year": (Range(1986, 2001),)}),
    Filters(ranges={"year": (Range(2003, None),)}),
    Filters(min_ratings=4),
    Filters(exclude_items=(1, 3)),
    Filters(include={"genre": ("Action",)}, ranges={"year": (Range(None, 1990),)}, exclude_items=(6,)),
]


@pytest.mark.parametrize("filters", FILTER_CASES)
def test_every_hard_filter_is_exact(retriever: Retriever, tiny_catalog: Catalog, filters: Filters) -> None:
    res = retriever.retrieve(Query(text="space pixar", filters=filters, k=7))
    counts = retriever.filter_index.num_ratings
    expected = {
        i
        for i, it in enumerate(tiny_catalog.items)
        if item_passes(filters, it, num_ratings=int(counts[i]), item_index=i)
    }
    assert {c.item_index for c in res.candidates} == expected
    for c in res.candidates:
        assert retriever.check(c.item_index, Query(filters=filters)) == []


def test_check_reports_violations(retriever: Retriever) -> None:
    q = Query(
        user_id="0", filters=Filters(include={"genre": ("Comedy",)}, ranges={"year": (Range(1990, None),)}), seen=(6,)
    )
    assert retriever.check(4, q) == []
    assert "already seen" in retriever.check(6, q)
    v = retriever.check(0, q)
    assert any("Comedy" in s for s in v) and any("1979" in s for s in v) and "in the user's history" in v


def test_unknown_user_falls_back_to_cold_start(retriever: Retriever) -> None:
    res = retriever.retrieve(Query(user_id="nobody", k=3))
    assert res.cold_start and len(res.candidates) == 3
    assert any("unknown user 'nobody'" in n and "cold start" in n for n in res.notes)


def test_filters_excluding_everything_give_empty_with_reason(retriever: Retriever) -> None:
    res = retriever.retrieve(
        Query(filters=Filters(include={"genre": ("Animation",)}, ranges={"year": (Range(None, 1990),)}))
    )
    assert res.candidates == []
    assert any("no item satisfies" in n and "Animation" in n and "up to 1990" in n for n in res.notes)


@pytest.mark.parametrize(
    ("filters", "reason"),
    [
        (Filters(ranges={"year": (Range(2005, 1990),)}), "year range 2005-1990 is empty"),
        (Filters(include={"genre": ("Comedy",)}, exclude={"genre": ("comedy",)}), "Comedy both wanted and excluded"),
    ],
)
def test_contradictory_filters_give_empty_with_reason(retriever: Retriever, filters: Filters, reason: str) -> None:
    res = retriever.retrieve(Query(user_id="0", filters=filters))
    assert res.candidates == [] and any(reason in n for n in res.notes)


@pytest.mark.parametrize("k", [0, -1, 201, 2.5, True])
def test_k_out_of_range(retriever: Retriever, k: object) -> None:
    with pytest.raises(ValueError, match="query.k must be an integer in \\[1, 200\\]"):
        retriever.retrieve(Query(k=k))  # type: ignore[arg-type]


@pytest.mark.parametrize("field", ["liked_items", "seen", "rejected"])
def test_nonexistent_item_index(retriever: Retriever, field: str) -> None:
    with pytest.raises(ValueError, match=f"query.{field}: item index 99 does not exist"):
        retriever.retrieve(Query(**{field: (99,)}))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="item index 7 does not exist"):
        retriever.check(7, Query())


def test_unknown_genre_names_valid_choices(retriever: Retriever) -> None:
    with pytest.raises(
        ValueError, match="genre 'Western' is not in this catalogue; valid genre values are: Action, Adventure"
    ):
        retriever.retrieve(Query(filters=Filters(include={"genre": ("Western",)})))
    with pytest.raises(ValueError, match="exclude_items: item index 12"):
        retriever.retrieve(Query(filters=Filters(exclude_items=(12,))))
    with pytest.raises(ValueError, match="unknown facet 'brand'; this catalogue's facets are: genre, year, tag"):
        retriever.retrieve(Query(filters=Filters(exclude={"brand": ("3M",)})))


def test_everything_seen_gives_empty_with_reason(retriever: Retriever) -> None:
    res = retriever.retrieve(Query(user_id="0", seen=(3, 4, 5, 6)))
    assert res.candidates == [] and any("already seen" in n for n in res.notes)


def test_text_without_store_is_noted(tiny_catalog: Catalog, tiny_interactions: Interactions) -> None:
    res = Retriever(tiny_catalog, tiny_interactions).retrieve(Query(text="space", k=2))
    assert len(res.candidates) == 2 and any("no vector store" in n for n in res.notes)


def test_bad_config_and_mismatched_catalog(tiny_catalog: Catalog, tiny_interactions: Interactions) -> None:
    with pytest.raises(ValueError, match="unknown source"):
        RetrieverConfig(weights={"magic": 1.0})
    with pytest.raises(ValueError, match="fusion"):
        RetrieverConfig(fusion="max")  # type: ignore[arg-type]
    small = Interactions.from_arrays(np.array([0]), np.array([0]), num_users=1, num_items=3)
    with pytest.raises(ValueError, match="share one index space"):
        Retriever(tiny_catalog, small)


def test_item2item_source_ranks_by_embedding_similarity(
    tiny_catalog: Catalog, tiny_interactions: Interactions, model: LightGCN
) -> None:
    r = Retriever(tiny_catalog, tiny_interactions, model=model, config=RetrieverConfig(weights={"item2item": 1.0}))
    res = r.retrieve(Query(liked_items=(3,), k=6))
    emb = model.item_embeddings().numpy()
    emb = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    expected = sorted((i for i in range(7) if i != 3), key=lambda i: -float(emb[i] @ emb[3]))
    assert [c.item_index for c in res.candidates] == expected
    assert [c.source_ranks["item2item"] for c in res.candidates] == list(range(6))
