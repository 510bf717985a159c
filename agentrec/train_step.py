"""One training step of the LightGCN family: negative sampling and the loss, and its DistributedDataParallel form.

:func:`step_loss` computes the loss of one batch; :class:`StepModule` wraps it as a module's ``forward`` so
that :class:`torch.nn.parallel.DistributedDataParallel` can average the gradients over the ranks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from agentrec.losses import full_softmax_nll, info_nce
from agentrec.models.lightgcn import LightGCN

if TYPE_CHECKING:
    from agentrec.train import TrainConfig

__all__ = ["Sampler", "StepModule", "hardest", "step_loss", "units"]


class Sampler:
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
        """``n`` items drawn uniformly among those with training edges."""
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


def hardest(
    u_emb: torch.Tensor, items: torch.Tensor, sampler: Sampler, users: torch.Tensor, n: int, pool: int
) -> torch.Tensor:
    """``(B, n)`` negatives: for each, the highest-scoring of ``pool`` candidates (none a positive)."""
    cand = sampler.excluding(users, n * pool).to(u_emb.device).view(len(users), n, pool)
    with torch.no_grad():
        s = torch.einsum("bd,bnpd->bnp", u_emb.detach(), items.detach()[cand])
    return cand.gather(2, s.argmax(dim=2, keepdim=True)).squeeze(2)


def step_loss(
    model: LightGCN, cfg: TrainConfig, users: torch.Tensor, pos: torch.Tensor, sampler: Sampler, gen: torch.Generator
) -> torch.Tensor:
    """The loss of one batch of ``(users, pos)`` pairs (``loss="full"``: ``users`` only), a mean over its pairs."""
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
                neg = hardest(u_emb, final[nu:], sampler, users, cfg.num_negatives, cfg.hard_negatives)
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


def units(cfg: TrainConfig, sampler: Sampler, users: torch.Tensor) -> int:
    """What the loss of a batch of ``users`` averages over: its pairs (``loss="full"``: the users' positives)."""
    if cfg.loss == "full":
        return int((sampler.indptr[users + 1] - sampler.indptr[users]).sum())
    return len(users)


class StepModule(nn.Module):
    """One batch's loss as a module's ``forward``, for :class:`~torch.nn.parallel.DistributedDataParallel`.

    Each rank holds a slice of the global batch; its loss (a mean over its slice) is scaled by
    ``world_size * local_units / global_units`` so that DDP's average of the ranks' gradients is the
    gradient of the mean over the whole batch, as one process would compute it.
    """

    def __init__(self, model: LightGCN, cfg: TrainConfig, sampler: Sampler, gen: torch.Generator) -> None:
        super().__init__()
        self.model = model
        self.cfg, self.sampler, self.gen = cfg, sampler, gen

    def forward(self, users: torch.Tensor, pos: torch.Tensor, scale: float) -> torch.Tensor:
        """``scale *`` the loss of ``(users, pos)``; an empty slice gives a zero that still reaches every weight."""
        if len(users) == 0:
            # Every rank must take part in each gradient all-reduce, with a gradient for every parameter.
            return sum((p.sum() for p in self.model.parameters()), torch.zeros((), device=self.model.device)) * 0.0
        return step_loss(self.model, self.cfg, users, pos, self.sampler, self.gen) * scale
