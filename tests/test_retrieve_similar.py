"""The "like X" scorer on known-answer tiny data: specific neighbours beat blockbusters; titles never match."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from agentrec.retrieve.similar import SimilarItems, SimilarityWeights, rerank_by_similarity
from agentrec.types import Candidate, Catalog, Item


def _matrix(pairs: list[tuple[int, int]], num_users: int, num_items: int) -> sp.csc_matrix:
    u, i = zip(*pairs, strict=True)
    return sp.csc_matrix((np.ones(len(u)), (u, i)), shape=(num_users, num_items))


def _catalog() -> Catalog:
    return Catalog(
        (
            Item("0", "Amelie", genres=("Comedy", "Romance"), tags=("quirky",)),
            Item("1", "Delicatessen", genres=("Comedy",), tags=("quirky",)),
            Item("2", "Blockbuster", genres=("Action",)),
            Item("3", "Amelie's Return", genres=("Horror",)),  # shares title words only
            Item("4", "Obscure", genres=("Drama",)),
        )
    )


def _data() -> sp.csc_matrix:
    # Users 0-5 liked the seed (item 0) and item 1; everybody (0-29) liked the blockbuster (item 2);
    # user 6 liked item 3 and user 0 liked item 4 (one shared liker with the seed).
    pairs = [(u, 0) for u in range(6)] + [(u, 1) for u in range(6)] + [(u, 2) for u in range(30)]
    return _matrix(pairs + [(6, 3), (0, 4)], 30, 5)


def test_specific_neighbour_beats_blockbuster_and_lone_co_liker() -> None:
    only_co = SimilarityWeights(attributes=0.0, text=0.0, quality=0.0, alpha=0.5)
    scorer = SimilarItems(_data(), _catalog(), weights=only_co)
    co = scorer.co_scores([0])
    # cosine 6 / sqrt(6 * 6) = 1 with significance 6 / 11; blockbuster 6 / sqrt(6 * 30) * 6 / 11.
    assert co[1] == pytest.approx(6 / 11)
    assert co[2] == pytest.approx(6 / np.sqrt(180) * 6 / 11)
    assert co[4] == pytest.approx(1 / np.sqrt(6) * 1 / 6)
    s = scorer.scores([0])
    assert np.argsort(-s)[:2].tolist() == [1, 2] and s[0] == -np.inf


def test_title_words_play_no_part() -> None:
    scorer = SimilarItems(_data(), _catalog())
    s = scorer.scores([0])
    assert s[3] < s[1] and s[3] == pytest.approx(0.0)  # "Amelie's Return" shares nothing but title words


def test_attributes_and_text_count_when_nobody_co_liked() -> None:
    pairs = [(0, 0), (1, 1), (2, 2)]
    emb = np.array([[1, 0], [0.9, 0.1], [0, 1], [0, 1], [0, 1]], dtype=np.float32)
    scorer = SimilarItems(_matrix(pairs, 3, 5), _catalog(), text_embeddings=emb)
    s = scorer.scores([0])
    assert int(np.argmax(s)) == 1  # same genre + rare shared tag + close text


def test_bad_seed_and_weights_are_reported() -> None:
    scorer = SimilarItems(_data(), _catalog())
    with pytest.raises(ValueError, match="seeds"):
        scorer.scores([9])
    with pytest.raises(ValueError, match="co"):
        SimilarityWeights(co=-1.0)
    with pytest.raises(ValueError, match="5 items"):
        SimilarItems(_matrix([(0, 0)], 1, 2), _catalog())


def test_rerank_blends_rank_and_similarity() -> None:
    cands = [Candidate(i, str(i), str(i), 1.0) for i in (2, 4, 1)]
    sims = np.array([0.0, 1.0, 0.0, 0.0, 0.2])
    assert [c.item_index for c in rerank_by_similarity(cands, sims, weight=0.0)] == [2, 4, 1]
    assert [c.item_index for c in rerank_by_similarity(cands, sims, weight=0.9)] == [1, 4, 2]
    with pytest.raises(ValueError, match="weight"):
        rerank_by_similarity(cands, sims, weight=2.0)


def test_category_paths_count_as_attributes() -> None:
    cat = Catalog(
        (
            Item("0", "Glue", attributes={"category": ("Tools", "Adhesives")}),
            Item("1", "Tape", attributes={"category": ("Tools", "Adhesives")}),
            Item("2", "Gloves", attributes={"category": ("Tools", "Safety")}),
        )
    )
    scorer = SimilarItems(_matrix([(0, 0), (1, 1), (2, 2)], 3, 3), cat)
    s = scorer.attribute_scores([0])
    assert s[1] == pytest.approx(1.0) and 0 < s[2] < s[1]
