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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from agentrec.device import resolve_device
from agentrec.evaluate import evaluate
from agentrec.graph import interactions_fingerprint
from agentrec.losses import full_softmax_nll, info_nce
from agentrec.models.checkpoint import load_checkpoint, save_checkpoint
from agentrec.models.lightgcn import LightGCN
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


@dataclass
class TrainHistory:
    """What happened during :func:`fit`.

    ``wall_seconds[e]`` is the time since the start of training at the end of epoch ``epochs[e]``
    (evaluation included); ``evals`` holds one dict per evaluation with ``epoch``, ``wall_s`` and the
    metrics.
    """

    epochs: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    wall_seconds: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    evals: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int | None = None
    best_value: float | None = None
    metric: str = "recall@20"
    eval_part: str = "none"
    stopped: str = "epochs"
    device: str = "cpu"

    def time_to(self, metric: str, value: float) -> float | None:
        """Seconds of training until ``metric`` first reached ``value`` at an evaluation (None if never)."""
        for ev in self.evals:
            if ev.get(metric, -math.inf) >= value:
                return float(ev["wall_s"])
        return None

    def best_within(self, metric: str, seconds: float) -> float | None:
        """Best ``metric`` over the evaluations finished within ``seconds``."""
        vals = [ev[metric] for ev in self.evals if metric in ev and ev["wall_s"] <= seconds]
        return max(vals) if vals else None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-friendly)."""
        return asdict(self)


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


class _Sampler:
    """Vectorised negative sampling among items with training edges, excluding the user's positives."""

    def __init__(self, model: LightGCN, gen: torch.Generator) -> None:
        r = model.graph.interaction
        self.num_items = model.num_items
        self.warm = torch.from_numpy(np.flatnonzero(model.graph.item_degree > 0))
        users = np.repeat(np.arange(r.shape[0], dtype=np.int64), np.diff(r.indptr))
        self.keys = torch.from_numpy(np.sort(users * self.num_items + r.indices))
        self.indptr = torch.from_numpy(r.indptr.astype(np.int64))
        self.indices = torch.from_numpy(r.indices.astype(np.int64))
        self.gen = gen
        degree = torch.from_numpy(model.graph.item_degree.astype(np.float64))
        self.pop = (degree / degree.sum()).to(torch.float32)  # in-batch positives follow this distribution

    def log_q(self, cand: torch.Tensor, in_batch: int, uniform: int) -> torch.Tensor:
        """Log-probability that one candidate slot draws each of ``cand`` (in-batch + uniform mixture)."""
        q = (in_batch * self.pop[cand] + uniform / len(self.warm)) / (in_batch + uniform)
        return torch.log(q.clamp_min(1e-12))

    def positives(self, users: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(row, item)``: every training item of ``users``, ``row`` indexing into ``users``."""
        start, end = self.indptr[users], self.indptr[users + 1]
        counts = end - start
        rows = torch.repeat_interleave(torch.arange(len(users)), counts)
        offsets = torch.arange(int(counts.sum())) - torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)
        return rows, self.indices[start[rows] + offsets]

    def uniform(self, n: int) -> torch.Tensor:
        return self.warm[torch.randint(len(self.warm), (n,), generator=self.gen)]

    def excluding(self, users: torch.Tensor, n: int) -> torch.Tensor:
        """``(len(users), n)`` negatives, none of them a training positive of its user."""
        neg = self.uniform(len(users) * n).view(len(users), n)
        for _ in range(20):
            keys = users[:, None] * self.num_items + neg
            pos = torch.searchsorted(self.keys, keys).clamp(max=len(self.keys) - 1)
            bad = self.keys[pos] == keys
            if not bool(bad.any()):
                break
            neg[bad] = self.uniform(int(bad.sum()))
        return neg


def _sample_unique(idx: torch.Tensor, cap: int, gen: torch.Generator) -> torch.Tensor:
    u = torch.unique(idx)
    if len(u) > cap:
        u = u[torch.randperm(len(u), generator=gen)[:cap].to(u.device)]
    return u


def _hardest(
    u_emb: torch.Tensor, items: torch.Tensor, sampler: _Sampler, users: torch.Tensor, n: int, pool: int
) -> torch.Tensor:
    """``(B, n)`` negatives: for each, the highest-scoring of ``pool`` candidates (none a positive)."""
    cand = sampler.excluding(users, n * pool).to(u_emb.device).view(len(users), n, pool)
    with torch.no_grad():
        s = torch.einsum("bd,bnpd->bnp", u_emb.detach(), items.detach()[cand])
    return cand.gather(2, s.argmax(dim=2, keepdim=True)).squeeze(2)


def _step_loss(
    model: LightGCN, cfg: TrainConfig, users: torch.Tensor, pos: torch.Tensor, sampler: _Sampler, gen: torch.Generator
) -> torch.Tensor:
    nu = model.num_users
    dev = model.device
    cl = cfg.cl_weight > 0
    final, ego, view = model.propagate_all(
        drop_ids=True, eps=cfg.cl_eps if cl else 0.0, view_layer=cfg.cl_layer if cl else 0
    )
    amp = cfg.amp and dev.type == "cuda"
    with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=amp):
        u_d, p_d = users.to(dev), pos.to(dev)
        if cfg.loss == "bpr":
            u_emb, p_emb = final[u_d], final[nu + p_d]
            if cfg.hard_negatives > 1:
                neg = _hardest(u_emb, final[nu:], sampler, users, cfg.num_negatives, cfg.hard_negatives)
            else:
                neg = sampler.excluding(users, cfg.num_negatives).to(dev)  # (B, n)
            n_emb = final[nu + neg]  # (B, n, d)
            pos_s = (u_emb * p_emb).sum(-1, keepdim=True)
            neg_s = torch.einsum("bd,bnd->bn", u_emb, n_emb)
            loss = F.softplus(neg_s - pos_s).mean()
            reg_idx = torch.cat([u_d, nu + p_d, nu + neg.reshape(-1)])
        elif cfg.loss == "full":
            rows, items = sampler.positives(users)
            rows, items = rows.to(dev), items.to(dev)
            u_emb, i_emb = final[u_d], final[nu:]
            if model.config.similarity == "cosine":
                u_emb, i_emb = F.normalize(u_emb, dim=-1), F.normalize(i_emb, dim=-1)
            loss = full_softmax_nll(u_emb, i_emb, rows, items, cfg.temperature, cfg.user_balance)
            reg_idx = torch.cat([u_d, nu + torch.unique(items)])
            p_d = items
        else:
            b, m = len(users), min(cfg.max_in_batch, len(users))
            in_batch = p_d[torch.randperm(b, generator=gen)[:m].to(dev)]
            cand = torch.cat([in_batch, sampler.uniform(cfg.num_negatives).to(dev)])  # (C,)
            # One gather for users, positives and candidates: a single scatter in the backward pass.
            rows = final[torch.cat([u_d, nu + p_d, nu + cand])]
            if model.config.similarity == "cosine":
                rows = F.normalize(rows, dim=-1)
            u_emb, p_emb, c_emb = rows.split([b, b, len(cand)])
            u_emb = u_emb / cfg.temperature  # scale (B, d) rather than the (B, C) logits
            pos_s = (u_emb * p_emb).sum(-1)  # (B,)
            neg_s = u_emb @ c_emb.T  # (B, C)
            if cfg.logq_correction:
                neg_s = neg_s - sampler.log_q(cand.cpu(), m, cfg.num_negatives).to(dev, neg_s.dtype)[None, :]
            if cfg.mask_hits:
                # A candidate equal to the row's positive is not a negative.
                neg_s = neg_s.masked_fill(cand[None, :] == p_d[:, None], -torch.inf)
            pos_s = pos_s.float()
            loss = (torch.logaddexp(pos_s, torch.logsumexp(neg_s.float(), dim=1)) - pos_s).mean()
            reg_idx = torch.cat([u_d, nu + p_d])
        if cfg.weight_decay > 0:
            loss = loss + cfg.weight_decay * 0.5 * ego[reg_idx].pow(2).sum() / len(p_d)
        if cl:
            cu = _sample_unique(u_d, cfg.cl_sample, gen)
            ci = nu + _sample_unique(p_d, cfg.cl_sample, gen)
            loss = loss + cfg.cl_weight * (
                info_nce(final[cu], view[cu], cfg.cl_temperature) + info_nce(final[ci], view[ci], cfg.cl_temperature)
            )
    return loss


def _rng_state(gen: torch.Generator) -> dict[str, Any]:
    return {"gen": gen.get_state(), "torch": torch.get_rng_state()}


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
    device = resolve_device(cfg.device)
    model.to(device)
    gen = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)
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
    sampler = _Sampler(model, gen)
    if cfg.loss == "full":  # an epoch is a pass over the users with training items
        pairs_u = torch.from_numpy(np.flatnonzero(np.diff(model.graph.interaction.indptr) > 0).astype(np.int64))
        pairs_i = pairs_u
        n_pairs = len(pairs_u)
    steps_per_epoch = math.ceil(n_pairs / cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    t0 = time.perf_counter() - wall_offset
    bad_evals = 0
    bar = tqdm(range(start_epoch, cfg.epochs), desc="train", disable=not cfg.show_progress)
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
            loss = _step_loss(model, cfg, pairs_u[idx], pairs_i[idx], sampler, gen)
            opt.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            step += 1
            total += float(loss.detach()) * len(idx)
            seen += len(idx)
            if cfg.time_budget_s is not None and time.perf_counter() - t0 >= cfg.time_budget_s:
                out_of_time = True
                break
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
            m = evaluate(model, split, ks=(cfg.eval_k,), batch_size=cfg.eval_batch_size, part=part)
            info.update({k: v for k, v in m.values.items() if not k.startswith(("tail_", "cold_"))})
            ev = {"epoch": float(epoch), "wall_s": time.perf_counter() - t0, **info}
            hist.evals.append(ev)
            if hist.best_value is None or m[metric] > hist.best_value:
                hist.best_value, hist.best_epoch, improved, bad_evals = m[metric], epoch, True, 0
                if cfg.restore_best:
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                bad_evals += 1
        hist.wall_seconds.append(time.perf_counter() - t0)
        info["wall_s"] = hist.wall_seconds[-1]
        logger.info(
            "epoch %d loss %.4f lr %.2e %.1fs wall %.0fs%s",
            epoch,
            info["loss"],
            lr,
            hist.epoch_seconds[-1],
            info["wall_s"],
            f" {part} {metric} {info[metric]:.4f} ndcg@{cfg.eval_k} {info[f'ndcg@{cfg.eval_k}']:.4f}"
            if metric in info
            else "",
        )
        bar.set_postfix({k: f"{info[k]:.4f}" for k in ("loss", metric) if k in info})
        if ckpt_dir is not None and metric in info:
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
        if cfg.patience and bad_evals >= cfg.patience:
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
