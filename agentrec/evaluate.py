"""Full-ranking evaluation: every item is ranked for every test user, training items masked.

Metrics follow the LightGCN reference code: Recall@K = hits / |test items|, NDCG@K with the ideal DCG
over ``min(|test items|, K)`` positions, Precision@K = hits / K, HitRate@K = share of users with at
least one hit, Coverage@K = share of the catalogue that appears in some user's top K. Breakdowns:
``tail_*`` counts only tail items (the least popular ``tail_fraction`` of items by training degree) and
``cold_*`` only cold items, each averaged over the users with at least one such test item.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from tqdm.auto import tqdm

from agentrec.models.base import Recommender
from agentrec.types import Interactions, Split

__all__ = ["EvalPartial", "Metrics", "combine", "evaluate", "evaluate_distributed", "evaluate_partial"]

logger = logging.getLogger(__name__)


@dataclass
class Metrics:
    """Evaluation results.

    Attributes:
        values: metric name -> value, e.g. ``"recall@20"``, ``"ndcg@20"``, ``"tail_recall@20"``.
        num_users: users evaluated (those with at least one test item).
        counts: users behind each breakdown (``"tail"``, ``"cold"``).
    """

    values: dict[str, float]
    num_users: int
    counts: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, key: str) -> float:
        if key not in self.values:
            raise KeyError(f"no metric {key!r}; available: {sorted(self.values)}")
        return self.values[key]

    def __contains__(self, key: object) -> bool:
        return key in self.values

    def to_dict(self) -> dict[str, Any]:
        """Plain dict: metrics plus ``num_users``."""
        return {**self.values, "num_users": self.num_users, **{f"num_users_{k}": v for k, v in self.counts.items()}}


def _csr(part: Interactions) -> sp.csr_matrix:
    m = sp.csr_matrix(
        (np.ones(len(part), dtype=np.float32), (part.user_index, part.item_index)),
        shape=(part.num_users, part.num_items),
    )
    m.sum_duplicates()
    m.sort_indices()
    return m


def _resolve(
    data: Split | tuple[Interactions, Interactions] | tuple[Interactions, Interactions, Interactions],
    part: str,
) -> tuple[Interactions, Interactions, list[Interactions], np.ndarray | None]:
    """(train, target, extra parts to mask, cold items) from a Split or a tuple."""
    if isinstance(data, Split):
        if part == "valid":
            if data.valid is None:
                raise ValueError("part='valid' but the split has no validation interactions; use part='test'")
            return data.train, data.valid, [], data.cold_items
        if part != "test":
            raise ValueError(f"part must be 'test' or 'valid', got {part!r}")
        # Validation items are known history when testing: mask them like training items.
        return data.train, data.test, ([data.valid] if data.valid is not None else []), data.cold_items
    if isinstance(data, tuple) and len(data) in (2, 3) and all(isinstance(x, Interactions) for x in data):
        return data[0], data[1], list(data[2:]), None
    raise ValueError("data must be a Split or a (train, test) / (train, test, also_mask) tuple of Interactions")


@dataclass
class EvalPartial:
    """One contiguous block of users' metric values, before averaging (what a rank sends to be combined).

    Attributes:
        values: metric name -> one float64 value per user of the block, in user order (``tail_*`` /
            ``cold_*``: one per user of the block with such a test item).
        covered: ``k`` -> which items appear in some top ``k`` of the block.
        counts: users of the block behind each breakdown.
        num_users: users of the block.
        ks: the cut-offs.
    """

    values: dict[str, np.ndarray]
    covered: dict[int, np.ndarray]
    counts: dict[str, int]
    num_users: int
    ks: tuple[int, ...]


def combine(parts: Sequence[EvalPartial]) -> Metrics:
    """The :class:`Metrics` of the blocks ``parts`` together (given in user order).

    The per-user values are concatenated and summed once, so blocks cut anywhere on batch boundaries
    give exactly the metrics of one pass over all users.

    Raises:
        ValueError: when ``parts`` is empty or the blocks used different cut-offs.
    """
    if not parts:
        raise ValueError("combine needs at least one EvalPartial")
    ks = parts[0].ks
    if any(p.ks != ks for p in parts):
        raise ValueError("every EvalPartial must use the same ks")
    n = sum(p.num_users for p in parts)
    counts = {g: sum(p.counts.get(g, 0) for p in parts) for g in parts[0].counts}
    values: dict[str, float] = {}
    for key in parts[0].values:
        arr = np.concatenate([p.values[key] for p in parts])
        group = key.split("_", 1)[0] if "_" in key else None
        denom = counts[group] if group in counts else n
        values[key] = float(arr.sum()) / denom if denom else 0.0
    for k in ks:
        covered = np.logical_or.reduce([p.covered[k] for p in parts])
        values[f"coverage@{k}"] = float(covered.mean())
    return Metrics(values=dict(sorted(values.items())), num_users=n, counts=counts)


def evaluate(
    model: Recommender,
    data: Split | tuple[Interactions, Interactions] | tuple[Interactions, Interactions, Interactions],
    ks: tuple[int, ...] | list[int] = (20,),
    batch_size: int = 2048,
    tail_fraction: float = 0.8,
    cold_items: np.ndarray | list[int] | None = None,
    part: str = "test",
    show_progress: bool = False,
) -> Metrics:
    """Rank all items for every user with test items and compute top-K metrics.

    Args:
        model: any :class:`~agentrec.models.base.Recommender`.
        data: a :class:`~agentrec.types.Split` (evaluates ``part``; validation interactions are masked
            when testing) or a ``(train, test)`` tuple (optionally a third part to mask as well).
        ks: cut-offs, each in ``[1, num_items]``.
        batch_size: users scored per batch (memory ~ ``batch_size * num_items * 4`` bytes, twice).
        tail_fraction: share of items, least popular first by training degree, counted as tail.
        cold_items: item indices for the cold breakdown; defaults to ``Split.cold_items``.
        part: ``"test"`` or ``"valid"`` when ``data`` is a Split.
        show_progress: show a tqdm bar.

    Returns:
        :class:`Metrics` with ``recall@K``, ``ndcg@K``, ``precision@K``, ``hit@K``, ``coverage@K`` and
        ``tail_recall@K`` / ``tail_ndcg@K`` (and ``cold_*`` when cold items are known).

    Raises:
        ValueError: on a bad ``k``, ``batch_size``, ``tail_fraction``, cold item index, or data whose
            size does not match the model.
    """
    args = (model, data, ks, batch_size, tail_fraction, cold_items, part, show_progress)
    return combine([evaluate_partial(*args)])


def evaluate_partial(
    model: Recommender,
    data: Split | tuple[Interactions, Interactions] | tuple[Interactions, Interactions, Interactions],
    ks: tuple[int, ...] | list[int] = (20,),
    batch_size: int = 2048,
    tail_fraction: float = 0.8,
    cold_items: np.ndarray | list[int] | None = None,
    part: str = "test",
    show_progress: bool = False,
    rank: int = 0,
    world_size: int = 1,
) -> EvalPartial:
    """:func:`evaluate` for block ``rank`` of ``world_size``: the batches of users are cut into contiguous blocks.

    :func:`combine` of the blocks of every rank, in rank order, equals :func:`evaluate` with the same
    ``batch_size`` exactly (every batch is scored as it would be in one process). Arguments and errors
    as for :func:`evaluate`; ``rank`` must lie in ``[0, world_size)``.
    """
    train, target, also_mask, split_cold = _resolve(data, part)
    ni = model.num_items
    ks = tuple(ks)
    if not ks or any(not isinstance(k, int | np.integer) or k <= 0 or k > ni for k in ks):
        raise ValueError(f"every k must be an integer in [1, {ni}] (the catalogue size), got ks={ks!r}")
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if not 0.0 <= tail_fraction <= 1.0:
        raise ValueError(f"tail_fraction must be in [0, 1], got {tail_fraction}")
    if world_size <= 0 or not 0 <= rank < world_size:
        raise ValueError(f"rank must be in [0, world_size), got rank={rank}, world_size={world_size}")
    if train.num_items != ni or train.num_users != model.num_users:
        raise ValueError(
            f"data has {train.num_users} users x {train.num_items} items but the model has "
            f"{model.num_users} x {ni}; evaluate on the split the model was trained on"
        )
    cold = split_cold if cold_items is None else np.asarray(cold_items, dtype=np.int64)
    if cold is not None and len(cold) and (cold.min() < 0 or cold.max() >= ni):
        raise ValueError(f"cold_items must be item indices in [0, {ni}), got values {cold.min()}..{cold.max()}")
    kmax = max(ks)

    mask = _csr(train)
    for extra in also_mask:
        mask = mask + _csr(extra)
    mask = mask.tocsr()
    truth = _csr(target)
    degree = np.bincount(train.item_index, minlength=ni)
    n_tail = int(round(tail_fraction * ni))
    is_tail = np.zeros(ni, dtype=bool)
    is_tail[np.argsort(degree, kind="stable")[:n_tail]] = True
    groups: dict[str, torch.Tensor] = {"tail": torch.from_numpy(is_tail)}
    if cold is not None and len(cold):
        is_cold = np.zeros(ni, dtype=bool)
        is_cold[cold] = True
        groups["cold"] = torch.from_numpy(is_cold)

    all_users = np.flatnonzero(np.diff(truth.indptr) > 0)
    b0, b1 = _block(len(all_users), batch_size, rank, world_size)
    users = all_users[b0 * batch_size : b1 * batch_size]
    discount = 1.0 / torch.log2(torch.arange(2, kmax + 2, dtype=torch.float64))  # (kmax,)
    cum_discount = torch.cat([torch.zeros(1, dtype=torch.float64), discount.cumsum(0)])
    keys = [f"{m}@{k}" for k in ks for m in ("recall", "precision", "hit", "ndcg")]
    keys += [f"{g}_{m}@{k}" for g in groups for k in ks for m in ("recall", "ndcg")]
    pieces: dict[str, list[np.ndarray]] = {key: [] for key in keys}
    counts = {g: 0 for g in groups}
    covered = {k: torch.zeros(ni, dtype=torch.bool) for k in ks}
    fast = getattr(model, "score_device", None)

    def score_fn(batch: np.ndarray) -> torch.Tensor:
        # ``score`` may hand back a model's cached tensor: copy it before masking in place.
        return fast(batch).float() if fast is not None else model.score(batch).float().clone()

    def add(key: str, value: torch.Tensor) -> None:
        pieces[key].append(value.numpy())

    starts = range(0, len(users), batch_size)
    for start in tqdm(starts, desc="evaluate", disable=not show_progress, leave=False):
        batch = users[start : start + batch_size]
        scores = score_fn(batch)
        device = scores.device
        # Exclude training items: they are known history, not predictions.
        sub = mask[batch]
        rows = torch.from_numpy(np.repeat(np.arange(len(batch)), np.diff(sub.indptr))).to(device)
        scores[rows, torch.from_numpy(sub.indices.astype(np.int64)).to(device)] = -torch.inf
        top = torch.topk(scores, kmax, dim=1).indices.cpu()  # (batch, kmax)
        del scores
        tsub = truth[batch]
        trows = torch.from_numpy(np.repeat(np.arange(len(batch)), np.diff(tsub.indptr)))
        tcols = torch.from_numpy(tsub.indices.astype(np.int64))
        relevant = torch.zeros(len(batch), ni, dtype=torch.bool)
        relevant[trows, tcols] = True
        hits = relevant.gather(1, top).double()  # (batch, kmax)
        n_rel = torch.from_numpy(np.diff(tsub.indptr)).double()
        for k in ks:
            h = hits[:, :k]
            nh = h.sum(1)
            add(f"recall@{k}", nh / n_rel)
            add(f"precision@{k}", nh / k)
            add(f"hit@{k}", (nh > 0).double())
            dcg = (h * discount[:k]).sum(1)
            add(f"ndcg@{k}", dcg / cum_discount[n_rel.clamp(max=k).long()])
            covered[k][top[:, :k].reshape(-1)] = True
        for g, in_group in groups.items():
            grel = relevant & in_group
            g_n = grel.sum(1).double()
            has = g_n > 0
            counts[g] += int(has.sum())
            ghits = grel.gather(1, top).double()[has]
            for k in ks:
                h = ghits[:, :k]
                add(f"{g}_recall@{k}", h.sum(1) / g_n[has])
                dcg = (h * discount[:k]).sum(1)
                add(f"{g}_ndcg@{k}", dcg / cum_discount[g_n[has].clamp(max=k).long()])

    values = {key: np.concatenate(v) if v else np.zeros(0, dtype=np.float64) for key, v in pieces.items()}
    return EvalPartial(
        values=values, covered={k: c.numpy() for k, c in covered.items()}, counts=counts, num_users=len(users), ks=ks
    )


def _block(n_users: int, batch_size: int, rank: int, world_size: int) -> tuple[int, int]:
    """``[first, last)`` batch of block ``rank``: the batches are shared out in contiguous runs."""
    n_batches = math.ceil(n_users / batch_size)
    return rank * n_batches // world_size, (rank + 1) * n_batches // world_size


def evaluate_distributed(
    model: Recommender,
    data: Split | tuple[Interactions, Interactions] | tuple[Interactions, Interactions, Interactions],
    ks: tuple[int, ...] | list[int] = (20,),
    batch_size: int = 2048,
    tail_fraction: float = 0.8,
    cold_items: np.ndarray | list[int] | None = None,
    part: str = "test",
    show_progress: bool = False,
) -> Metrics:
    """:func:`evaluate` with the users shared out over the ranks of the process group (``torchrun``).

    Each rank scores its block of users, the blocks are gathered in rank order and combined, so every
    rank gets the same :class:`Metrics`, equal exactly to :func:`evaluate` with the batch size used.
    That is ``batch_size``, lowered to ``ceil(users / world_size)`` when there are fewer batches than ranks
    (so that every rank gets work). Without a process group this is :func:`evaluate`.
    """
    from agentrec.distributed import all_gather_objects, context

    ctx = context()
    if not ctx.distributed:
        return evaluate(model, data, ks, batch_size, tail_fraction, cold_items, part, show_progress)
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    target = _resolve(data, part)[1]
    n_users = len(np.unique(target.user_index))
    batch_size = max(1, min(batch_size, math.ceil(n_users / ctx.world_size)))
    mine = evaluate_partial(
        model, data, ks, batch_size, tail_fraction, cold_items, part, show_progress, ctx.rank, ctx.world_size
    )
    return combine(all_gather_objects(mine))
