"""Text item-item similarity blended into the graph filter, so that items nobody chose yet can be reached.

The interaction filter gives an item without training interactions no score at all (its degree is 0, and so
is its row of the item-item graph). With item text embeddings, a second item-item graph ``T`` keeps each
item's ``text_neighbors`` most text-similar items (cosine, clipped at 0, the item itself left out); a
history ``x`` is scored by both graphs and the two rows are blended on one scale::

    score(x) = (1 - w) f(x) / max|f(x)| + w c (x T) / max(x T) ,   w = text_weight

with ``c = text_cold_boost`` on items without training interactions (they have no filter score) and 1 on
the others, so a user's ranking of warm items keeps the filter's order when ``w`` is small, and a cold item
enters the list when its text is close to what the user chose. ``w`` and ``c`` are chosen on a validation
split carved from the training data in which a share of the items is made cold (:func:`tune_text_weight`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from agentrec.types import Interactions

__all__ = ["DEFAULT_TEXT_COLD_BOOST", "DEFAULT_TEXT_WEIGHT", "blend_text", "text_knn_graph", "tune_text_weight"]

logger = logging.getLogger(__name__)

# ``text_weight`` and ``text_cold_boost`` of the ``text-graph-filter`` model: what tune_text_weight chose on
# ml-latest-small's training part (BENCHMARKS.md); tune them on your own data with tune_text_weight.
DEFAULT_TEXT_WEIGHT = 0.2
DEFAULT_TEXT_COLD_BOOST = 2.0


def text_knn_graph(features: np.ndarray | torch.Tensor, k: int, block_size: int = 1024) -> sp.csr_matrix:
    """``(n, n)`` sparse text graph linking each item to its ``k`` most text-similar items, both ways.

    ``i`` and ``j`` are linked when either is among the other's ``k`` nearest (cosine >= 0, no self links).

    Args:
        features: ``(n, d)`` item text embeddings (rows of zeros, items without text, get no neighbours).
        k: neighbours kept per item.
        block_size: items compared per block (memory ``block_size * n`` floats).

    Raises:
        ValueError: for a matrix that is not 2-D or holds NaN / inf, or a ``k`` below 1.
    """
    e = torch.as_tensor(np.asarray(features) if not isinstance(features, torch.Tensor) else features)
    e = e.detach().to(dtype=torch.float32, device="cpu")
    if e.dim() != 2:
        raise ValueError(f"item_features must be a 2-D (num_items, dim) matrix, got shape {tuple(e.shape)}")
    if not bool(torch.isfinite(e).all()):
        raise ValueError("item_features holds NaN or inf; embed the catalogue again")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"text_neighbors must be a positive integer, got {k!r}")
    n = e.shape[0]
    e = e / e.norm(dim=1, keepdim=True).clamp(min=1e-12)
    k = min(int(k), n - 1)
    if k < 1:
        return sp.csr_matrix((n, n), dtype=np.float32)
    rows, cols, vals = [], [], []
    for s in range(0, n, block_size):
        sims = e[s : s + block_size] @ e.T  # (b, n)
        b = sims.shape[0]
        sims[torch.arange(b), torch.arange(s, s + b)] = -torch.inf
        v, i = torch.topk(sims, k, dim=1)
        rows.append(np.repeat(np.arange(s, s + b), k))
        cols.append(i.reshape(-1).numpy())
        vals.append(v.clamp(min=0.0).reshape(-1).numpy())
    out = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    out.eliminate_zeros()
    # Symmetrised (as text-knn's): a cold item is scored through its own neighbours too, not only as theirs.
    return sp.csr_matrix(out.maximum(out.T), dtype=np.float32)


def blend_text(
    out: torch.Tensor, history: sp.csr_matrix, text_graph: sp.csr_matrix, weight: float, cold_scale: torch.Tensor
) -> None:
    """Blend the text scores of ``history`` rows into the filter scores ``out`` ``(B, n)`` in place.

    ``cold_scale`` ``(n,)`` multiplies each item's text score (``text_cold_boost`` on items without training
    interactions, which have no filter score to add it to; 1 elsewhere).
    """
    t = torch.from_numpy((history @ text_graph).toarray().astype(np.float32)).to(out.device)
    f_max = out.abs().amax(dim=1, keepdim=True).clamp(min=1e-12)
    t_max = t.amax(dim=1, keepdim=True).clamp(min=1e-12)
    out.mul_((1.0 - weight) / f_max).add_(t.mul_(cold_scale.to(out.device)).mul_(weight / t_max))


def _concat(a: Interactions, b: Interactions) -> Interactions:
    return Interactions(
        user_index=np.concatenate([a.user_index, b.user_index]),
        item_index=np.concatenate([a.item_index, b.item_index]),
        user_ids=a.user_ids,
        item_ids=a.item_ids,
    )


def tune_text_weight(
    train: Interactions,
    item_features: np.ndarray,
    config: Any,
    *,
    weights: Sequence[float] = (0.0, 0.1, 0.2, 0.3, 0.5),
    boosts: Sequence[float] = (1.0, 2.0, 4.0),
    cold_fraction: float = 0.1,
    valid_fraction: float = 0.1,
    seed: int = 0,
    k: int = 20,
) -> tuple[tuple[float, float], list[dict[str, Any]]]:
    """Choose ``text_weight`` on a validation split carved from ``train`` (never on test).

    A seeded ``cold_fraction`` of the items loses all its training interactions (they become validation
    targets, as on a cold-item split) and a seeded ``valid_fraction`` of each user's remaining interactions is
    held out too; the weight with the best Recall@``k`` over both kinds of targets wins, so a weight that
    reaches cold items by pushing warm ones out of the list does not.

    Args:
        train: the training interactions.
        item_features: ``(num_items, d)`` item text embeddings.
        config: the :class:`~agentrec.models.graphfilter.GraphFilterConfig` to start from.
        weights: the ``text_weight`` values to try.
        boosts: the ``text_cold_boost`` values to try with each non-zero weight.
        cold_fraction: share of interacted items made cold.
        valid_fraction: per-user share of the remaining interactions held out.
        seed: seed of both carve-outs.
        k: cut-off of the recall compared.

    Returns:
        ``(best (text_weight, text_cold_boost), trials)``; each trial holds the two settings and their recall
        on all, cold and warm targets.
    """
    from dataclasses import replace

    from agentrec.data.splits import cold_item_split, random_split
    from agentrec.evaluate import evaluate
    from agentrec.graph import build_graph
    from agentrec.models.graphfilter import GraphFilter

    if not weights or any(not 0.0 <= float(w) <= 1.0 for w in weights):
        raise ValueError(f"weights must be a non-empty list of values in [0, 1], got {list(weights)!r}")
    if not boosts or any(not float(b) > 0 for b in boosts):
        raise ValueError(f"boosts must be a non-empty list of positive values, got {list(boosts)!r}")
    start = time.perf_counter()
    cold = cold_item_split(train, item_fraction=cold_fraction, seed=seed)
    warm = random_split(cold.train, test_fraction=valid_fraction, seed=seed, min_test=1)
    inner = warm.train
    first = replace(config, text_weight=float(max(weights)))
    model = GraphFilter(build_graph(inner), first, item_features=item_features)
    trials: list[dict[str, Any]] = []
    settings = [(float(w), float(b)) for w in weights for b in (boosts if w > 0 else boosts[:1])]
    for w, b in settings:
        trial = model.with_config(text_weight=w, text_cold_boost=b)
        row: dict[str, Any] = {"text_weight": w, "text_cold_boost": b}
        for name, targets in (("all", _concat(cold.test, warm.test)), ("cold", cold.test), ("warm", warm.test)):
            row[name] = float(evaluate(trial, (inner, targets), ks=(k,)).values[f"recall@{k}"])
        trials.append(row)
        logger.info("graph filter text: recall@%d %s", k, row)
    best = max(trials, key=lambda r: (r["all"], -r["text_weight"], -r["text_cold_boost"]))
    chosen = (float(best["text_weight"]), float(best["text_cold_boost"]))
    logger.info("graph filter: text_weight, text_cold_boost %s chosen in %.1f s", chosen, time.perf_counter() - start)
    return chosen, trials
