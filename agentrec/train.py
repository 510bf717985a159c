"""Training for the LightGCN family.

BPR or sampled-softmax loss, XSimGCL-style contrastive term, Adam with an optional warm-up + cosine
schedule, early stopping on validation Recall@K, seeds, automatic device, mixed precision on GPU,
checkpoints and resume.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from tqdm.auto import tqdm

from agentrec import distributed as dist
from agentrec.device import resolve_device
from agentrec.evaluate import evaluate_distributed
from agentrec.graph import interactions_fingerprint
from agentrec.models.checkpoint import load_checkpoint, save_checkpoint
from agentrec.models.lightgcn import LightGCN
from agentrec.train_history import TrainHistory
from agentrec.train_step import Sampler, StepModule, step_loss, units
from agentrec.train_step import Sampler as _Sampler  # noqa: F401  (kept importable under its old name)
from agentrec.train_step import hardest as _hardest  # noqa: F401
from agentrec.types import Split

__all__ = ["TrainConfig", "TrainHistory", "fit"]

logger = logging.getLogger(__name__)

LOSSES = ("bpr", "softmax", "full")
SCHEDULES = ("constant", "cosine")
EVAL_PARTS = ("auto", "valid", "test", "none")


@dataclass
class TrainConfig:
    """Training settings.

    Attributes:
        epochs: maximum passes over the training interactions.
        batch_size: positive (user, item) pairs per step; users per step for ``loss="full"``.
        lr: Adam learning rate (peak, when a schedule is used).
        weight_decay: L2 on the layer-0 embeddings of the batch (LightGCN style), per example.
        loss: ``"bpr"`` (pairwise, ``num_negatives`` per positive) or ``"softmax"`` (sampled softmax over
            in-batch positives plus ``num_negatives`` shared uniform negatives).
            ``"full"``: the exact softmax over every item for each user of the batch, averaged over
            the user's training items (multinomial likelihood; no sampling noise, and one score row
            serves all of a user's positives, so an epoch is a pass over users — the fastest to
            converge when ``batch_size x num_items`` scores fit in memory).
        num_negatives: see ``loss``.
        hard_negatives: ``loss="bpr"`` only: draw this many candidates per negative and keep the one the
            current model scores highest (dynamic negative sampling, Zhang et al. 2013); 0 or 1 = uniform.
            Once random negatives are easy (a warm-started model) this keeps BPR's gradient alive.
        temperature: softmax temperature.
        user_balance: ``loss="full"`` only: a pair weighs ``(user's pairs in the batch) ** -user_balance``;
            0 weighs pairs alike, 1 users alike.
        max_in_batch: at most this many in-batch positives serve as softmax negatives (cost control).
        mask_hits: drop softmax candidates equal to the row's own positive (costs two passes over the
            ``(batch, candidates)`` logits; without it such a hit only adds a bounded constant).
        logq_correction: subtract the log of each softmax candidate's sampling probability from its logit
            (in-batch candidates are drawn in proportion to popularity; without the correction popular
            items are over-penalised). ``max_in_batch=0`` gives uniform negatives only.
        cl_weight: weight of the XSimGCL contrastive term (0 = off).
        cl_eps: XSimGCL noise magnitude.
        cl_temperature: contrastive temperature.
        cl_layer: which layer's embeddings form the second view.
        cl_sample: at most this many unique users and items enter the contrastive term per step.
        lr_schedule: ``"constant"`` or ``"cosine"`` (decays to ``min_lr_ratio * lr`` at the end of
            training, measured in steps or, when ``time_budget_s`` is set, in time — whichever is further).
        warmup_steps: linear warm-up steps.
        min_lr_ratio: floor of the cosine schedule.
        eval_every: evaluate every this many epochs (and at the end).
        patience: stop after this many evaluations without improvement (0 = never).
        eval_k: K of the early-stopping metric ``recall@K``.
        eval_part: ``"valid"``, ``"test"`` (explicitly evaluate on the test part, as the LightGCN
            reference code does on benchmark splits), ``"none"``, or ``"auto"`` (valid when the split has
            one, else none).
        eval_batch_size: users per evaluation batch.
        restore_best: load the best evaluated weights at the end.
        seed: seed for shuffling, sampling and dropout.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        amp: bfloat16 autocast for the loss on CUDA (ignored on CPU).
        num_threads: torch CPU threads (None = leave as is).
        time_budget_s: stop training after this many seconds (None = no limit).
        checkpoint_dir: write ``last.pt`` (every evaluation) and ``best.pt`` here.
        resume: continue from ``checkpoint_dir/last.pt`` when it exists.
        show_progress: tqdm progress bar.
    """

    epochs: int = 100
    batch_size: int = 8192
    lr: float = 5e-3
    weight_decay: float = 1e-4
    loss: Literal["bpr", "softmax", "full"] = "bpr"
    num_negatives: int = 1
    hard_negatives: int = 0
    temperature: float = 0.1
    user_balance: float = 0.0
    max_in_batch: int = 2048
    mask_hits: bool = True
    logq_correction: bool = False
    cl_weight: float = 0.0
    cl_eps: float = 0.2
    cl_temperature: float = 0.2
    cl_layer: int = 1
    cl_sample: int = 2048
    lr_schedule: Literal["constant", "cosine"] = "constant"
    warmup_steps: int = 0
    min_lr_ratio: float = 0.05
    eval_every: int = 5
    patience: int = 0
    eval_k: int = 20
    eval_part: Literal["auto", "valid", "test", "none"] = "auto"
    eval_batch_size: int = 2048
    restore_best: bool = True
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    num_threads: int | None = None
    time_budget_s: float | None = None
    checkpoint_dir: str | Path | None = None
    resume: bool = False
    show_progress: bool = True

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad setting."""
        positive = ("epochs", "batch_size", "num_negatives", "eval_every", "eval_k", "eval_batch_size", "cl_sample")
        for name in positive:
            if int(getattr(self, name)) <= 0:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        for name in ("lr", "temperature", "cl_temperature"):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if not 0.0 <= self.user_balance <= 1.0:
            raise ValueError(
                f"user_balance must be in [0, 1] (0: pairs alike, 1: users alike), got {self.user_balance!r}"
            )
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if self.lr_schedule not in SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {SCHEDULES}, got {self.lr_schedule!r}")
        if self.eval_part not in EVAL_PARTS:
            raise ValueError(f"eval_part must be one of {EVAL_PARTS}, got {self.eval_part!r}")
        if self.max_in_batch < 0:
            raise ValueError(f"max_in_batch must be >= 0 (0 = uniform negatives only), got {self.max_in_batch}")
        if self.hard_negatives < 0:
            raise ValueError(f"hard_negatives must be >= 0 (0 = uniform negatives), got {self.hard_negatives}")
        if self.weight_decay < 0 or self.cl_weight < 0 or self.patience < 0 or self.warmup_steps < 0:
            raise ValueError("weight_decay, cl_weight, patience and warmup_steps must be >= 0")
        if self.time_budget_s is not None and self.time_budget_s <= 0:
            raise ValueError(f"time_budget_s must be > 0 or None, got {self.time_budget_s}")
        if self.resume and self.checkpoint_dir is None:
            raise ValueError("resume=True needs checkpoint_dir (where last.pt was written)")


def _lr_factor(cfg: TrainConfig, step: int, total_steps: int, elapsed: float) -> float:
    if cfg.warmup_steps and step < cfg.warmup_steps:
        return (step + 1) / cfg.warmup_steps
    if cfg.lr_schedule == "constant":
        return 1.0
    progress = (step - cfg.warmup_steps) / max(1, total_steps - cfg.warmup_steps)
    if cfg.time_budget_s:
        progress = max(progress, elapsed / cfg.time_budget_s)
    progress = min(max(progress, 0.0), 1.0)
    return cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def _rng_state(gen: torch.Generator) -> dict[str, Any]:
    return {"gen": gen.get_state(), "torch": torch.get_rng_state()}


def _log_epoch(
    epoch: int, info: dict[str, float], lr: float, hist: TrainHistory, part: str, metric: str, k: int
) -> None:
    logger.info(
        "epoch %d loss %.4f lr %.2e %.1fs wall %.0fs%s",
        epoch,
        info["loss"],
        lr,
        hist.epoch_seconds[-1],
        info["wall_s"],
        f" {part} {metric} {info[metric]:.4f} ndcg@{k} {info[f'ndcg@{k}']:.4f}" if metric in info else "",
    )


def fit(
    model: LightGCN,
    split: Split,
    config: TrainConfig | None = None,
    callback: Callable[[int, dict[str, float]], None] | None = None,
) -> TrainHistory:
    """Train ``model`` on ``split.train`` (the graph the model was built on).

    Args:
        model: a :class:`~agentrec.models.lightgcn.LightGCN` built on ``build_graph(split.train)``.
        split: the data; ``split.valid`` (or ``split.test`` with ``eval_part="test"``) drives early stopping.
        config: training settings.
        callback: called after every epoch with ``(epoch, info)``; ``info`` has ``loss``, ``wall_s`` and,
            after an evaluation, the metrics.

    Returns:
        The :class:`TrainHistory`. With ``restore_best`` the model ends with its best evaluated weights.

    Raises:
        ValueError: on a bad config, a split that does not match the model's graph, or
            ``eval_part="valid"`` for a split without validation interactions.

    Under ``torchrun`` (a process group initialised, e.g. by :func:`agentrec.distributed.init_from_env`) the
    model is wrapped in DistributedDataParallel: every rank draws the same shuffled order of training
    pairs, takes its own contiguous slice of each global batch of ``batch_size`` pairs and samples its own
    negatives; the gradients are averaged so one step follows the whole batch. Evaluation is sharded over
    the ranks (:func:`~agentrec.evaluate.evaluate_distributed`), every decision to stop is rank 0's, and
    only rank 0 writes checkpoints. Every rank ends with the same weights.
    """
    cfg = config or TrainConfig()
    cfg.validate()
    if split.train.num_users != model.num_users or split.train.num_items != model.num_items:
        raise ValueError(
            f"split has {split.train.num_users} users x {split.train.num_items} items but the model has "
            f"{model.num_users} x {model.num_items}; build the model on build_graph(split.train)"
        )
    if interactions_fingerprint(split.train) != model.graph.fingerprint:
        raise ValueError("split.train is not the data the model's graph was built from; use build_graph(split.train)")
    part = cfg.eval_part
    if part == "auto":
        part = "valid" if split.valid is not None else "none"
        if part == "none":
            logger.warning("split has no validation part: no evaluation or early stopping (pass eval_part='test')")
    if part == "valid" and split.valid is None:
        raise ValueError("eval_part='valid' but the split has no validation interactions; pass eval_part='test'")
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    ctx = dist.context()
    device = resolve_device(cfg.device)
    if ctx.backend == "nccl" and device.type == "cuda" and device.index is None:
        device = torch.device("cuda", ctx.local_rank)
    model.to(device)
    gen = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed + ctx.rank)
    # Fused Adam: one kernel per step instead of a dozen passes over every embedding table (large tables).
    params = list(model.parameters())
    opt = torch.optim.Adam(params, lr=cfg.lr, fused=sum(p.numel() for p in params) >= 1_000_000)
    metric = f"recall@{cfg.eval_k}"
    hist = TrainHistory(metric=metric, eval_part=part, device=str(device))
    start_epoch, step, wall_offset = 0, 0, 0.0
    best_state: dict[str, torch.Tensor] | None = None
    ckpt_dir = Path(cfg.checkpoint_dir) if cfg.checkpoint_dir is not None else None
    if cfg.resume and ckpt_dir is not None and (ckpt_dir / "last.pt").is_file():
        payload = load_checkpoint(ckpt_dir / "last.pt", expected_fingerprint=model.graph.fingerprint)
        model.load_state_dict(payload["state_dict"])
        opt.load_state_dict(payload["optimizer"])
        gen.set_state(payload["rng"]["gen"])
        torch.set_rng_state(payload["rng"]["torch"])
        hist = TrainHistory(**payload["history"])
        start_epoch, step = payload["epoch"] + 1, payload["step"]
        wall_offset = hist.wall_seconds[-1] if hist.wall_seconds else 0.0
        best_state = payload.get("best_state")
        logger.info("resumed from %s at epoch %d", ckpt_dir / "last.pt", start_epoch)

    r = model.graph.interaction.tocoo()
    pairs_u = torch.from_numpy(r.row.astype(np.int64))
    pairs_i = torch.from_numpy(r.col.astype(np.int64))
    n_pairs = len(pairs_u)
    if n_pairs == 0:
        raise ValueError("split.train has no interactions to train on")
    # One process: one generator for the order and the samples (as before). Several: the order is shared
    # (the same seed on every rank), the negatives are each rank's own.
    sample_gen = gen
    if ctx.distributed:
        sample_gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + 7919 * ctx.rank + start_epoch)
    sampler = Sampler(model, sample_gen)
    if cfg.loss == "full":  # an epoch is a pass over the users with training items
        pairs_u = torch.from_numpy(np.flatnonzero(np.diff(model.graph.interaction.indptr) > 0).astype(np.int64))
        pairs_i = pairs_u
        n_pairs = len(pairs_u)
    step_module = StepModule(model, cfg, sampler, sample_gen)
    ddp: torch.nn.Module | None = None
    if ctx.distributed:
        from torch.nn.parallel import DistributedDataParallel

        # device_ids=None: DDP leaves the inputs where they are (the sampler indexes CPU tensors with them);
        # the module lives on one device, this rank's GPU or the CPU. Buffers are constant: no syncing.
        ddp = DistributedDataParallel(step_module, device_ids=None, forward_sync_buffers=False)
    steps_per_epoch = math.ceil(n_pairs / cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    t0 = time.perf_counter() - wall_offset
    bad_evals = 0
    bar = tqdm(range(start_epoch, cfg.epochs), desc="train", disable=not cfg.show_progress or not ctx.is_main)
    for epoch in bar:
        model.train()
        te = time.perf_counter()
        perm = torch.randperm(n_pairs, generator=gen)
        total, seen = 0.0, 0
        out_of_time = False
        for s in range(steps_per_epoch):
            idx = perm[s * cfg.batch_size : (s + 1) * cfg.batch_size]
            lr = cfg.lr * _lr_factor(cfg, step, total_steps, time.perf_counter() - t0)
            for group in opt.param_groups:
                group["lr"] = lr
            if ddp is None:
                loss = step_loss(model, cfg, pairs_u[idx], pairs_i[idx], sampler, gen)
            else:
                lo, hi = dist.shard_range(len(idx), ctx.rank, ctx.world_size)
                mine = idx[lo:hi]
                scale = ctx.world_size * units(cfg, sampler, pairs_u[mine]) / units(cfg, sampler, pairs_u[idx])
                loss = ddp(pairs_u[mine], pairs_i[mine], scale)
            opt.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            step += 1
            # The ranks' scaled losses sum to world_size x the batch's mean loss: recorded as one process would.
            total += float(loss.detach()) * len(idx) / ctx.world_size
            seen += len(idx)
            if cfg.time_budget_s is not None:
                out_of_time = dist.any_rank(time.perf_counter() - t0 >= cfg.time_budget_s)
                if out_of_time:
                    break
        total = dist.all_reduce_sum([total])[0]
        model.invalidate_cache()
        model.eval()
        info: dict[str, float] = {"loss": total / max(seen, 1), "lr": lr}
        hist.epochs.append(epoch)
        hist.loss.append(info["loss"])
        hist.lr.append(lr)
        hist.epoch_seconds.append(time.perf_counter() - te)
        last = epoch == cfg.epochs - 1 or out_of_time
        improved = False
        if part != "none" and ((epoch + 1) % cfg.eval_every == 0 or last):
            m = evaluate_distributed(model, split, ks=(cfg.eval_k,), batch_size=cfg.eval_batch_size, part=part)
            info.update({k: v for k, v in m.values.items() if not k.startswith(("tail_", "cold_"))})
            ev = {"epoch": float(epoch), "wall_s": time.perf_counter() - t0, **info}
            hist.evals.append(ev)
            # Every rank gets the same metrics; the decision is still rank 0's, so the ranks cannot part ways.
            if dist.agree(hist.best_value is None or m[metric] > hist.best_value):
                hist.best_value, hist.best_epoch, improved, bad_evals = m[metric], epoch, True, 0
                if cfg.restore_best:
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                bad_evals += 1
        hist.wall_seconds.append(time.perf_counter() - t0)
        info["wall_s"] = hist.wall_seconds[-1]
        if ctx.is_main:
            _log_epoch(epoch, info, lr, hist, part, metric, cfg.eval_k)
        bar.set_postfix({k: f"{info[k]:.4f}" for k in ("loss", metric) if k in info})
        if ckpt_dir is not None and metric in info and ctx.is_main:
            payload = model.checkpoint_payload({k: v for k, v in info.items() if k != "lr"})
            if improved:
                save_checkpoint(ckpt_dir / "best.pt", payload)
            extra = {"optimizer": opt.state_dict(), "epoch": epoch, "step": step, "rng": _rng_state(gen)}
            save_checkpoint(
                ckpt_dir / "last.pt", {**payload, **extra, "history": hist.to_dict(), "best_state": best_state}
            )
        if callback is not None:
            callback(epoch, info)
        if out_of_time:
            hist.stopped = "time_budget"
            break
        if dist.agree(bool(cfg.patience) and bad_evals >= cfg.patience):
            hist.stopped = "early_stopping"
            logger.info(
                "early stopping at epoch %d: best %s %.4f at epoch %s",
                epoch,
                metric,
                hist.best_value or 0,
                hist.best_epoch,
            )
            break
    bar.close()
    if cfg.restore_best and best_state is not None:
        model.load_state_dict(best_state)
    model.invalidate_cache()
    model.eval()
    return hist
