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
    """A recommender with given scores (a test double for the metric code, not product code)."""

    name = "fixed"

    def __init__(self, scores: np.ndarray, train: Interactions) -> None:
        self.scores = torch.tensor(scores, dtype=torch.float32)
        self.num_users, self.num_items = self.scores.shape
        self.train = train

    def score(self, user_index: np.ndarray | torch.Tensor) -> torch.Tensor:
        return self.scores[torch.as_tensor(np.asarray(user_index), dtype=torch.long)]

    def seen_items(self, user_index: np.ndarray) -> list[np.ndarray]:
        return [self.train.item_index[self.train.user_index == u] for u in np.asarray(user_index)]

    def save(self, path: str | Path) -> None:
        raise NotImplementedError


def _tiny() -> tuple[FixedScores, Split]:
    # 2 users, 6 items. Item degrees in train: item0=2, item1=1, others 0.
    train = Interactions.from_arrays([0, 1, 1], [0, 0, 1], num_users=2, num_items=6)
    test = Interactions.from_arrays([0, 0, 0, 1], [2, 3, 5, 4], num_users=2, num_items=6)
    scores = np.array(
        [
            [9.0, 0.5, 3.0, 1.0, 2.0, 0.0],  # masked 0 -> ranking 2,4,3,1,5 : hits at ranks 1 and 3
            [9.0, 8.0, 1.0, 3.0, 0.5, 2.0],  # masked 0,1 -> ranking 3,5,2,4 : hit at rank 4
        ]
    )
    return FixedScores(scores, train), Split(train=train, test=test)


def test_hand_computed_metrics() -> None:
    model, split = _tiny()
    m = evaluate(model, split, ks=(2, 3))
    d = lambda r: 1 / math.log2(r + 1)  # noqa: E731
    # user 0: test {2,3,5}; top3 = 2,4,3 -> hits at ranks 1, 3. user 1: test {4}; top3 = 3,5,2 -> none.
    assert m["recall@3"] == pytest.approx((2 / 3 + 0) / 2)
    assert m["precision@3"] == pytest.approx((2 / 3 + 0) / 2)
    assert m["hit@3"] == pytest.approx(0.5)
    assert m["ndcg@3"] == pytest.approx(((d(1) + d(3)) / (d(1) + d(2) + d(3)) + 0) / 2)
    # K=2: ideal DCG over min(|test|, K) = 2 positions for user 0.
    assert m["recall@2"] == pytest.approx((1 / 3) / 2)
    assert m["ndcg@2"] == pytest.approx((d(1) / (d(1) + d(2))) / 2)
    assert m["precision@2"] == pytest.approx((1 / 2) / 2)
    # coverage@2: {2,4} U {3,5} = 4 of 6 items.
    assert m["coverage@2"] == pytest.approx(4 / 6)
    assert m.num_users == 2


def test_tail_and_cold_breakdowns() -> None:
    model, split = _tiny()
    # tail_fraction 0.5 -> the 3 least popular items by (stable) degree: items 2, 3, 4 (degree 0).
    m = evaluate(model, split, ks=(3,), tail_fraction=0.5, cold_items=[5])
    # user 0 tail test {2,3}: both in top3 -> recall 1; user 1 tail test {4}: not in top3 -> 0.
    assert m["tail_recall@3"] == pytest.approx(0.5)
    assert m.counts["tail"] == 2
    # cold item 5: only user 0 has it; ranked 5th -> not in top 3.
    assert m["cold_recall@3"] == 0.0 and m.counts["cold"] == 1
    m5 = evaluate(model, split, ks=(5,), cold_items=[5])
    assert m5["cold_recall@5"] == 1.0
    assert m5["cold_ndcg@5"] == pytest.approx(1 / math.log2(6))


def test_tuple_input_and_batches_agree() -> None:
    model, split = _tiny()
    a = evaluate(model, split, ks=(3,), batch_size=1)
    b = evaluate(model, (split.train, split.test), ks=(3,), batch_size=7)
    assert a.values == b.values


def test_agrees_with_torchmetrics_on_random_data() -> None:
    tm = pytest.importorskip("torchmetrics.functional.retrieval")
    rng = np.random.default_rng(0)
    nu, ni, k = 30, 40, 10
    train = Interactions.from_arrays(np.arange(nu), rng.integers(0, ni, nu), num_users=nu, num_items=ni)
    tu, ti = np.repeat(np.arange(nu), 4), rng.integers(0, ni, nu * 4)
    keep = ti != train.item_index[tu]
    test = Interactions.from_arrays(tu[keep], ti[keep], num_users=nu, num_items=ni)
    scores = rng.standard_normal((nu, ni))
    m = evaluate(FixedScores(scores, train), (train, test), ks=(k,))
    rec, prec, hit, ndcg = [], [], [], []
    for u in range(nu):
        s = torch.tensor(scores[u], dtype=torch.float32)
        s[train.item_index[u]] = -torch.inf
        target = torch.zeros(ni, dtype=torch.bool)
        target[test.item_index[test.user_index == u]] = True
        if not target.any():
            continue
        rec.append(float(tm.retrieval_recall(s, target, top_k=k)))
        prec.append(float(tm.retrieval_precision(s, target, top_k=k)))
        hit.append(float(tm.retrieval_hit_rate(s, target, top_k=k)))
        # LightGCN's NDCG (ideal DCG over min(|test|, K)) equals torchmetrics' for binary relevance.
        ndcg.append(float(tm.retrieval_normalized_dcg(s, target.float(), top_k=k)))
    assert m[f"recall@{k}"] == pytest.approx(np.mean(rec), abs=1e-6)
    assert m[f"precision@{k}"] == pytest.approx(np.mean(prec), abs=1e-6)
    assert m[f"hit@{k}"] == pytest.approx(np.mean(hit), abs=1e-6)
    assert m[f"ndcg@{k}"] == pytest.approx(np.mean(ndcg), abs=1e-5)


@pytest.mark.parametrize("ks", [(0,), (7,), (-1,), ()])
def test_bad_k_is_rejected(ks: tuple[int, ...]) -> None:
    model, split = _tiny()
    with pytest.raises(ValueError, match=r"every k must be an integer in \[1, 6\]"):
        evaluate(model, split, ks=ks)


def test_bad_arguments() -> None:
    model, split = _tiny()
    with pytest.raises(ValueError, match="cold_items must be item indices"):
        evaluate(model, split, cold_items=[6], ks=(2,))
    with pytest.raises(ValueError, match="no validation interactions"):
        evaluate(model, split, part="valid", ks=(2,))
    with pytest.raises(ValueError, match="tail_fraction"):
        evaluate(model, split, ks=(2,), tail_fraction=1.5)
    with pytest.raises(ValueError, match="evaluate on the split the model was trained on"):
        other = Interactions.from_arrays([0], [0], num_users=3, num_items=6)
        evaluate(model, (other, other), ks=(2,))
