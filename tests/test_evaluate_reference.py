"""``agentrec.evaluate`` against independent implementations and hand-computed values.

References: ``torch_geometric.metrics`` (LinkPredRecall / LinkPredNDCG / LinkPredPrecision) and
torchmetrics' retrieval metrics. Definitions, checked to agree with LightGCN's reference code:

- Recall@K = hits in the top K / number of test items of the user (PyG: same; torchmetrics: same).
- Precision@K = hits / K (PyG: same; torchmetrics with ``adaptive_k=False``: same).
- NDCG@K uses binary gains and the ideal DCG over ``min(|test items|, K)`` positions (LightGCN's
  definition). PyG's unweighted LinkPredNDCG uses exactly that; torchmetrics sorts the true relevances
  and keeps the top K, which is the same thing for binary relevance.
- All three average over users with at least one test item. Training items are masked before ranking:
  for PyG we rank ourselves with a dense argsort; torchmetrics only receives the unmasked items, so it
  checks the masking too.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from agentrec.evaluate import evaluate
from agentrec.models.base import Recommender
from agentrec.types import Interactions, Split


class FixedScores(Recommender):
    """Test double: a recommender whose score matrix is given."""

    name = "fixed"

    def __init__(self, scores: np.ndarray, train: Interactions) -> None:
        self.scores = torch.as_tensor(scores, dtype=torch.float32)
        self.num_users, self.num_items = self.scores.shape
        self.train = train

    def score(self, user_index: np.ndarray | torch.Tensor) -> torch.Tensor:
        return self.scores[torch.as_tensor(np.asarray(user_index), dtype=torch.long)].clone()

    def seen_items(self, user_index: np.ndarray) -> list[np.ndarray]:
        return [self.train.item_index[self.train.user_index == u] for u in np.asarray(user_index)]

    def save(self, path: str | Path) -> None:
        torch.save(self.scores, path)


def random_case(seed: int, num_users: int = 60, num_items: int = 120) -> tuple[np.ndarray, Split]:
    rng = np.random.default_rng(seed)
    pairs = rng.random((num_users, num_items)) < 0.12
    pairs[:3] = False  # users without any interaction
    pairs[3, :70] = True  # a user with far more test items than K
    u, i = np.nonzero(pairs)
    is_test = rng.random(len(u)) < 0.3
    train = Interactions.from_arrays(u[~is_test], i[~is_test], num_users, num_items)
    test = Interactions.from_arrays(u[is_test], i[is_test], num_users, num_items)
    # Continuous random scores: no ties, so every implementation sees the same ranking.
    return rng.standard_normal((num_users, num_items)), Split(train=train, test=test)


def pyg_reference(scores: np.ndarray, split: Split, k: int, items: np.ndarray | None = None) -> dict[str, float]:
    from torch_geometric.metrics import LinkPredNDCG, LinkPredPrecision, LinkPredRecall

    masked = scores.copy()
    masked[split.train.user_index, split.train.item_index] = -np.inf
    top = torch.from_numpy(np.argsort(-masked, axis=1, kind="stable")[:, :k].copy())
    keep = np.ones(len(split.test), dtype=bool) if items is None else np.isin(split.test.item_index, items)
    label = (torch.from_numpy(split.test.user_index[keep]), torch.from_numpy(split.test.item_index[keep]))
    out = {}
    for name, cls in (("recall", LinkPredRecall), ("ndcg", LinkPredNDCG), ("precision", LinkPredPrecision)):
        metric = cls(k)
        metric.update(top, label)
        out[name] = float(metric.compute())
    return out


def torchmetrics_reference(scores: np.ndarray, split: Split, k: int) -> dict[str, float]:
    from torchmetrics.retrieval import RetrievalNormalizedDCG, RetrievalPrecision, RetrievalRecall

    n_users, n_items = scores.shape
    truth = np.zeros((n_users, n_items), dtype=bool)
    truth[split.test.user_index, split.test.item_index] = True
    allowed = np.ones((n_users, n_items), dtype=bool)
    allowed[split.train.user_index, split.train.item_index] = False
    # Only users with test items and only items that are not masked enter the reference.
    allowed &= truth.any(axis=1, keepdims=True)
    u, i = np.nonzero(allowed)
    preds, target, indexes = torch.from_numpy(scores[u, i]), torch.from_numpy(truth[u, i]), torch.from_numpy(u)
    return {
        "recall": float(RetrievalRecall(top_k=k)(preds, target, indexes=indexes)),
        "ndcg": float(RetrievalNormalizedDCG(top_k=k)(preds, target, indexes=indexes)),
        "precision": float(RetrievalPrecision(top_k=k, adaptive_k=False)(preds, target, indexes=indexes)),
    }


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_torch_geometric_and_torchmetrics_on_random_data(seed: int) -> None:
    scores, split = random_case(seed)
    model = FixedScores(scores, split.train)
    ks = (1, 5, 20)
    ours = evaluate(model, split, ks=ks, batch_size=7)  # batches that do not divide the users
    for k in ks:
        for ref in (pyg_reference(scores, split, k), torchmetrics_reference(scores, split, k)):
            for name, value in ref.items():
                assert ours[f"{name}@{k}"] == pytest.approx(value, abs=1e-6), (name, k)


def test_tail_breakdown_matches_pyg_on_tail_labels() -> None:
    scores, split = random_case(5)
    model = FixedScores(scores, split.train)
    ours = evaluate(model, split, ks=(10,), tail_fraction=0.8)
    degree = np.bincount(split.train.item_index, minlength=model.num_items)
    tail = np.argsort(degree, kind="stable")[: int(round(0.8 * model.num_items))]
    ref = pyg_reference(scores, split, 10, items=tail)
    assert ours["tail_recall@10"] == pytest.approx(ref["recall"], abs=1e-6)
    assert ours["tail_ndcg@10"] == pytest.approx(ref["ndcg"], abs=1e-6)


def tiny_case() -> tuple[FixedScores, Split]:
    # user 0: train {0}, test {1, 3}; ranking after masking: 1, 2, 3, 4, 5
    # user 1: train {1}, test {5};    ranking after masking: 5, 0, 2, 3, 4
    # user 2: train {2}, no test items (not evaluated)
    # user 3: no train,  test {4};    ranking: 0, 1, 2, 3, 5, 4
    train = Interactions.from_arrays([0, 1, 2], [0, 1, 2], num_users=4, num_items=6)
    test = Interactions.from_arrays([0, 0, 1, 3], [1, 3, 5, 4], num_users=4, num_items=6)
    scores = np.array(
        [
            [9, 6, 5, 4, 3, 2],
            [5, 9, 4, 3, 2, 6],
            [1, 2, 3, 4, 5, 6],
            [6, 5, 4, 3, 1, 2],
        ],
        dtype=np.float32,
    )
    return FixedScores(scores, train), Split(train=train, test=test)


def test_hand_computed_tiny_case() -> None:
    model, split = tiny_case()
    m = evaluate(model, split, ks=(2,))
    assert m.num_users == 3
    # top-2: user 0 -> [1, 2] (1 hit of 2), user 1 -> [5, 0] (1 hit of 1), user 3 -> [0, 1] (0 of 1)
    assert m["recall@2"] == pytest.approx((1 / 2 + 1 + 0) / 3)
    assert m["precision@2"] == pytest.approx((1 / 2 + 1 / 2 + 0) / 3)
    assert m["hit@2"] == pytest.approx(2 / 3)
    # user 0: DCG 1, IDCG over min(2, 2) = 2 positions; user 1: DCG 1, IDCG over min(1, 2) = 1 position.
    ndcg_user0 = 1.0 / (1.0 + 1.0 / math.log2(3))
    assert m["ndcg@2"] == pytest.approx((ndcg_user0 + 1.0 + 0.0) / 3)
    assert m["coverage@2"] == pytest.approx(4 / 6)  # items 0, 1, 2, 5 appear in some top 2


def test_ndcg_uses_lightgcn_ideal_dcg_not_k_positions() -> None:
    # One test item ranked first is a perfect list for LightGCN's definition (IDCG over min(1, K)),
    # whereas an IDCG over all K positions would give 1 / (1 + 1/log2(3) + ...) < 1.
    model, split = tiny_case()
    m = evaluate(model, (split.train, Interactions.from_arrays([1], [5], num_users=4, num_items=6)), ks=(3,))
    assert m["ndcg@3"] == pytest.approx(1.0)
    assert m["recall@3"] == pytest.approx(1.0)
    assert m["precision@3"] == pytest.approx(1 / 3)


def test_training_items_never_count_as_hits() -> None:
    model, split = tiny_case()
    # The test part repeats user 0's training item 0 (scored highest): masked, so it cannot be a hit.
    test = Interactions.from_arrays([0], [0], num_users=4, num_items=6)
    m = evaluate(model, (split.train, test), ks=(5,))
    assert m["recall@5"] == 0.0 and m["hit@5"] == 0.0
