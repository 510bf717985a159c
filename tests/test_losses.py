from __future__ import annotations

import numpy as np
import pytest
import torch

from agentrec.losses import full_softmax_nll, info_nce
from agentrec.train import _hardest, _Sampler


def _case() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    users = torch.randn(5, 4, dtype=torch.float64, generator=gen, requires_grad=True)
    items = torch.randn(7, 4, dtype=torch.float64, generator=gen, requires_grad=True)
    rows = torch.tensor([0, 0, 1, 3, 4, 4, 4])
    cols = torch.tensor([1, 2, 3, 0, 6, 5, 1])
    return users, items, rows, cols


def test_full_softmax_matches_log_softmax_reference() -> None:
    users, items, rows, cols = _case()
    ours = full_softmax_nll(users, items, rows, cols, temperature=0.5)
    ref = -torch.log_softmax(users @ items.T / 0.5, dim=1)[rows, cols].mean()
    torch.testing.assert_close(ours, ref)
    g_ours = torch.autograd.grad(ours, (users, items))
    g_ref = torch.autograd.grad(ref, (users, items))
    for a, b in zip(g_ours, g_ref, strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("balance", [0.5, 1.0])
def test_full_softmax_user_balance_matches_weighted_reference(balance: float) -> None:
    users, items, rows, cols = _case()
    ours = full_softmax_nll(users, items, rows, cols, temperature=0.5, user_balance=balance)
    counts = torch.bincount(rows, minlength=len(users)).double()
    w = counts[rows] ** -balance
    nll = -torch.log_softmax(users @ items.T / 0.5, dim=1)[rows, cols]
    ref = (nll * w).sum() / w.sum()
    torch.testing.assert_close(ours, ref)
    # balance 1: every user with positives counts alike, so user 1 (one pair) weighs as much as user 4 (three)
    if balance == 1.0:
        per_user = [nll[rows == u].mean() for u in (0, 1, 3, 4)]
        torch.testing.assert_close(ours, torch.stack(per_user).mean())
    g_ours = torch.autograd.grad(ours, (users, items))
    g_ref = torch.autograd.grad(ref, (users, items))
    for a, b in zip(g_ours, g_ref, strict=True):
        torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="user_balance"):
        full_softmax_nll(users, items, rows, cols, 0.5, user_balance=2.0)


def test_full_softmax_gradcheck_and_float32() -> None:
    users, items, rows, cols = _case()
    assert torch.autograd.gradcheck(lambda u, i: full_softmax_nll(u, i, rows, cols, 0.3), (users, items))
    loss32 = full_softmax_nll(users.detach().float(), items.detach().float(), rows, cols, 0.3)
    assert loss32.dtype == torch.float32 and torch.isfinite(loss32)


def test_full_softmax_is_stable_for_large_scores_and_rejects_empty() -> None:
    users, items, rows, cols = _case()
    loss = full_softmax_nll(users.detach() * 1e3, items.detach(), rows, cols, temperature=0.01)
    assert torch.isfinite(loss)
    with pytest.raises(ValueError, match="at least one positive"):
        full_softmax_nll(users, items, rows[:0], cols[:0], 0.1)


def test_info_nce_prefers_matching_rows() -> None:
    a = torch.eye(4)
    assert info_nce(a, a, 0.1) < info_nce(a, a.roll(1, dims=0), 0.1)


def test_sampler_positives_lists_every_training_item() -> None:
    from agentrec.graph import build_graph
    from agentrec.models.lightgcn import LightGCN
    from agentrec.types import Interactions

    train = Interactions.from_arrays(
        np.array([0, 0, 1, 2, 2, 2]), np.array([1, 3, 0, 0, 2, 3]), num_users=3, num_items=4
    )
    model = LightGCN(build_graph(train))
    rows, items = _Sampler(model, torch.Generator().manual_seed(0)).positives(torch.tensor([2, 0]))
    assert rows.tolist() == [0, 0, 0, 1, 1]
    assert items.tolist() == [0, 2, 3, 1, 3]


def test_hard_negatives_pick_the_best_scored_non_positive() -> None:
    from agentrec.graph import build_graph
    from agentrec.models.lightgcn import LightGCN
    from agentrec.types import Interactions

    # User 0 likes items 0 and 1; items 2..5 are its possible negatives, scored 2, 3, 5, 4.
    train = Interactions.from_arrays(
        np.array([0, 0, 1, 1, 1, 1]), np.array([0, 1, 2, 3, 4, 5]), num_users=2, num_items=6
    )
    sampler = _Sampler(LightGCN(build_graph(train)), torch.Generator().manual_seed(0))
    u_emb = torch.tensor([[1.0, 0.0]])
    items = torch.tensor([[9.0, 0.0], [8.0, 0.0], [2.0, 0.0], [3.0, 0.0], [5.0, 0.0], [4.0, 0.0]])
    neg = _hardest(u_emb, items, sampler, torch.tensor([0]), 50, 64)
    assert neg.shape == (1, 50)
    # With 64 draws from 4 candidates the best one (item 4) is almost surely among them; never a positive.
    assert set(neg.flatten().tolist()) == {4}
    uniform = _hardest(u_emb, items, sampler, torch.tensor([0]), 200, 1)
    assert set(uniform.flatten().tolist()) == {2, 3, 4, 5}
