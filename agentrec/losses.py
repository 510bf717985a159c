"""Loss functions for the LightGCN family that need more than a line of torch.

``full_softmax_nll`` is the exact softmax over every item for each user of a batch (the multinomial
likelihood), written as one autograd function so that the ``(users, items)`` score matrix is allocated
once and turned into the softmax in place: the forward pass is one matrix product and one
exponential pass, the backward two matrix products. ``torch.log_softmax`` + indexing needs about
three times the memory traffic for the same result.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

__all__ = ["full_softmax_nll", "info_nce"]


class _FullSoftmaxNLL(torch.autograd.Function):
    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        users: torch.Tensor,
        items: torch.Tensor,
        rows: torch.Tensor,
        cols: torch.Tensor,
        inv_temperature: float,
        user_weight: torch.Tensor,
    ) -> torch.Tensor:
        with torch.autocast(device_type=users.device.type, enabled=False):  # exp needs float32 on GPU too
            probs = (users * inv_temperature) @ items.T  # (B, I) scores, turned into the softmax in place
        row_max = probs.max(dim=1, keepdim=True).values
        probs.sub_(row_max).exp_()
        denom = probs.sum(dim=1, keepdim=True)
        probs.div_(denom)
        lse = (row_max + denom.log()).squeeze(1)  # log-sum-exp of each row's scores
        pos = (users[rows] * items[cols]).sum(-1) * inv_temperature
        w = user_weight[rows]  # each pair weighs its user's weight; the loss is the weighted mean
        total = w.sum()  # kept as a tensor: no device sync per step
        ctx.save_for_backward(probs, users, items, rows, cols, user_weight, total)
        ctx.inv_temperature = inv_temperature
        return ((lse[rows] - pos) * w).sum() / total

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> Any:  # type: ignore[override]
        probs, users, items, rows, cols, user_weight, total = ctx.saved_tensors
        scale = grad / total
        # d loss / d score[u, i] = w_u * (count_u * softmax[u, i] - [i is a positive of u]) / sum of weights
        counts = torch.bincount(rows, minlength=probs.shape[0]).to(probs.dtype)
        g = probs * (counts * user_weight * scale)[:, None]
        g.index_put_((rows, cols), -(user_weight[rows] * scale).to(g.dtype), accumulate=True)
        t = ctx.inv_temperature
        grad_users = (g @ items) * t if ctx.needs_input_grad[0] else None
        grad_items = (g.T @ users) * t if ctx.needs_input_grad[1] else None
        return grad_users, grad_items, None, None, None, None


def full_softmax_nll(
    users: torch.Tensor,
    items: torch.Tensor,
    rows: torch.Tensor,
    cols: torch.Tensor,
    temperature: float,
    user_balance: float = 0.0,
) -> torch.Tensor:
    """Mean negative log-likelihood of the positives under a softmax over all items.

    Args:
        users: ``(B, d)`` user embeddings.
        items: ``(I, d)`` embeddings of every item.
        rows: ``(n,)`` positive pairs' row into ``users``.
        cols: ``(n,)`` positive pairs' item index.
        temperature: scores are ``users @ items.T / temperature``.
        user_balance: each pair weighs ``count_u ** -user_balance`` (``count_u``: the user's pairs in the
            batch): 0 weighs every pair alike (heavy users dominate), 1 every user alike (as the per-user
            averaged ranking metrics do).

    Returns:
        ``sum_k w_k [logsumexp_i s[rows_k, i] - s[rows_k, cols_k]] / sum_k w_k`` (a scalar).
    """
    if len(rows) == 0:
        raise ValueError("full_softmax_nll needs at least one positive pair")
    if not 0.0 <= user_balance <= 1.0:
        raise ValueError(f"user_balance must be in [0, 1], got {user_balance}")
    dtype = torch.float64 if users.dtype == torch.float64 else torch.float32
    counts = torch.bincount(rows, minlength=len(users)).to(dtype).clamp_min(1.0)
    weight = counts.pow(-user_balance)
    return _FullSoftmaxNLL.apply(users.to(dtype), items.to(dtype), rows, cols, 1.0 / temperature, weight)  # type: ignore[no-any-return]


def info_nce(a: torch.Tensor, b: torch.Tensor, temperature: float) -> torch.Tensor:
    """InfoNCE between two views: row ``k`` of ``a`` should match row ``k`` of ``b`` (cosine)."""
    a, b = F.normalize(a, dim=-1), F.normalize(b, dim=-1)
    logits = a @ b.T / temperature
    return F.cross_entropy(logits, torch.arange(len(a), device=a.device))
