"""Training in stages: one model, several :class:`~agentrec.train.TrainConfig` in turn.

The recipe this exists for: the exact full softmax (``loss="full"``) gets a LightGCN close to its best in a
few epochs, but its ranking at the very top of the list levels off; BPR with hard negatives
(``hard_negatives``) started from those weights then sharpens the top of the list. Each stage starts
from the weights the previous one ended with (its best evaluated ones, with ``restore_best``), and the
histories are joined into one, on one clock and one epoch count.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import torch

from agentrec.models.lightgcn import LightGCN
from agentrec.train import TrainConfig, TrainHistory, fit
from agentrec.types import Split

__all__ = ["fit_stages", "next_stage"]


def next_stage(first: TrainConfig, **changes: Any) -> TrainConfig:
    """A later stage's config: ``first`` with ``changes``, where a ``None`` change keeps ``first``'s value.

    The stage gets no warm-up and no time budget of its own (pass one budget for all stages to
    :func:`fit_stages`).
    """
    kept = {k: v for k, v in changes.items() if v is not None}
    return replace(first, **{"warmup_steps": 0, "time_budget_s": None, **kept})


def fit_stages(
    model: LightGCN,
    split: Split,
    stages: Sequence[TrainConfig],
    time_budget_s: float | None = None,
    callback: Callable[[int, dict[str, float]], None] | None = None,
) -> TrainHistory:
    """Train ``model`` with each config of ``stages`` in turn; return one joined history.

    Args:
        model: as for :func:`~agentrec.train.fit`.
        split: as for :func:`~agentrec.train.fit`.
        stages: the configs, in order. Each one's own ``time_budget_s`` still applies to it.
        time_budget_s: a limit for all stages together: a stage gets what its predecessors left (or its own
            budget, if smaller); stages that find no time left are skipped.
        callback: called after every epoch with the joined epoch number and the stage's info (``wall_s``
            on the joined clock).

    Returns:
        A :class:`~agentrec.train.TrainHistory` whose epochs, wall times and evaluations run on across the
        stages. With ``restore_best`` (in the last stage) the model ends with the best
        evaluated weights of any stage, and ``best_epoch`` says which.

    Raises:
        ValueError: when ``stages`` is empty, when stages monitor different metrics, or on anything
            :func:`~agentrec.train.fit` rejects.
    """
    if not stages:
        raise ValueError("fit_stages needs at least one TrainConfig in stages")
    if len({(c.eval_k, c.eval_part) for c in stages}) > 1:
        raise ValueError("all stages must monitor the same metric: give them the same eval_k and eval_part")
    if len(stages) > 1 and any(c.resume for c in stages):
        raise ValueError("resume is not supported across stages; resume a single fit instead")
    if time_budget_s is not None and time_budget_s <= 0:
        raise ValueError(f"time_budget_s must be > 0 or None, got {time_budget_s}")
    joined: TrainHistory | None = None
    best_state: dict[str, torch.Tensor] | None = None
    epoch_offset, wall_offset = 0, 0.0
    for cfg in stages:
        budget = cfg.time_budget_s
        if time_budget_s is not None:
            left = time_budget_s - wall_offset
            if left <= 0:
                break
            budget = left if budget is None else min(budget, left)
        e0, w0 = epoch_offset, wall_offset

        def on_epoch(epoch: int, info: dict[str, float], e0: int = e0, w0: float = w0) -> None:
            if callback is not None:
                callback(e0 + epoch, {**info, "wall_s": w0 + info["wall_s"]})

        hist = fit(model, split, replace(cfg, time_budget_s=budget), callback=on_epoch)
        joined = _join(joined, hist, epoch_offset, wall_offset)
        if cfg.restore_best and joined.best_epoch is not None and joined.best_epoch >= epoch_offset:
            # this stage beat every earlier one; fit left the model at this stage's best weights
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        epoch_offset += len(hist.epochs)
        wall_offset += hist.wall_seconds[-1] if hist.wall_seconds else 0.0
    assert joined is not None  # the first stage always runs: wall_offset starts at 0 < time_budget_s
    if best_state is not None and stages[-1].restore_best:
        model.load_state_dict(best_state)
        model.invalidate_cache()
        model.eval()
    return joined


def _join(prev: TrainHistory | None, hist: TrainHistory, epoch_offset: int, wall_offset: float) -> TrainHistory:
    """``prev`` followed by ``hist``, whose epochs and wall times are shifted onto the joined scale."""
    shifted = replace(
        hist,
        epochs=[e + epoch_offset for e in hist.epochs],
        wall_seconds=[w + wall_offset for w in hist.wall_seconds],
        evals=[{**ev, "epoch": ev["epoch"] + epoch_offset, "wall_s": ev["wall_s"] + wall_offset} for ev in hist.evals],
        best_epoch=None if hist.best_epoch is None else hist.best_epoch + epoch_offset,
    )
    if prev is None:
        return shifted
    better = shifted.best_value is not None and (prev.best_value is None or shifted.best_value > prev.best_value)
    return TrainHistory(
        epochs=prev.epochs + shifted.epochs,
        loss=prev.loss + shifted.loss,
        epoch_seconds=prev.epoch_seconds + shifted.epoch_seconds,
        wall_seconds=prev.wall_seconds + shifted.wall_seconds,
        lr=prev.lr + shifted.lr,
        evals=prev.evals + shifted.evals,
        best_epoch=shifted.best_epoch if better else prev.best_epoch,
        best_value=shifted.best_value if better else prev.best_value,
        metric=shifted.metric,
        eval_part=shifted.eval_part,
        stopped=shifted.stopped,
        device=shifted.device,
    )
