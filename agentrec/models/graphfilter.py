"""A training-free spectral graph-filter retriever (GF-CF, ChebyCF and BSPM in one family).

The training interactions ``R`` are degree-normalised, ``R~ = D_u^-a R D_i^-b`` (scaled so that its largest
singular value is 1), and every user's history ``x`` (a row of ``R``, or any item-weight vector such as a chat
user's likes) is filtered on the item-item graph ``P = R~^T R~``::

    score(x) = D^b' [ (x D^-b') h(P) ] ,   b' = degree_power

with a response ``h`` from :mod:`agentrec.models.graphfilter_response`. ``P`` is never formed: the top
``rank`` singular vectors ``V`` of ``R~`` (a randomized SVD as in ``torch.svd_lowrank``; exact on small data)
carry the exact response on the eigenvalues that matter most (one dense GEMM), and the remaining small
eigenvalues, which lie in ``[0, lam_rank]``, get the straight-line fit ``q0 + q1 lam`` of the response there
(one pass of two sparse products ``(x R~^T) R~``)::

    x h(P) ~= x V diag(h(lam) - q0 - q1 lam) V^T + q0 x + q1 (x R~^T) R~

``tail="exact"`` evaluates the polynomial on the whole spectrum instead (Chebyshev recursion, two sparse
products per degree; what the reference codes do). "Fit" is this precomputation; nothing is learned.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from tqdm.auto import tqdm

from agentrec.device import resolve_device
from agentrec.graph import BipartiteGraph
from agentrec.models.baselines import _GraphRecommender, interaction_payload, load_payload
from agentrec.models.checkpoint import save_checkpoint
from agentrec.models.graphfilter_config import GraphFilterConfig
from agentrec.models.graphfilter_linalg import DENSE_SVD_RANK, exact_svd, power, randomized_svd, torch_csr
from agentrec.models.graphfilter_response import (
    chebyshev_coefficients,
    ideal_response,
    polynomial_response,
    tail_fit,
)
from agentrec.models.graphfilter_text import blend_text, text_knn_graph

__all__ = ["GraphFilter", "GraphFilterConfig"]

logger = logging.getLogger(__name__)


class GraphFilter(_GraphRecommender):
    """Training-free spectral graph filter over the user-item graph.

    Args:
        graph: the training graph.
        config: filter settings.
        factors: ``(V, S)`` from a previous decomposition of the same graph and powers (``(num_items, r)``
            and ``(r,)``, ``r >= config.rank``); skips the SVD (checkpoints and hyper-parameter search).
        item_features: ``(num_items, d)`` item text embeddings, needed when ``config.text_weight > 0``.
        text_graph: a text neighbour graph built before (checkpoints); replaces ``item_features``.
    """

    name = "graph-filter"

    def __init__(
        self,
        graph: BipartiteGraph,
        config: GraphFilterConfig | None = None,
        factors: tuple[torch.Tensor, torch.Tensor] | None = None,
        item_features: np.ndarray | torch.Tensor | None = None,
        text_graph: sp.csr_matrix | None = None,
    ) -> None:
        super().__init__(graph)
        config = config or GraphFilterConfig()
        config.validate()
        self.item_features, self.text_graph = item_features, text_graph
        if config.text_weight > 0 and text_graph is None:
            if item_features is None:
                raise ValueError(
                    f"text_weight={config.text_weight} blends in text similarity and needs item_features "
                    "(a (num_items, d) matrix of item text embeddings); pass them or set text_weight=0"
                )
            if len(item_features) != graph.num_items:
                raise ValueError(f"item_features has {len(item_features)} rows; the graph has {graph.num_items} items")
            self.text_graph = text_knn_graph(item_features, config.text_neighbors)
        self.config = config
        self.device = resolve_device(config.device)
        r = graph.interaction.astype(np.float32)
        rn = (
            sp.diags(power(graph.user_degree, config.user_power))
            @ r
            @ sp.diags(power(graph.item_degree, config.item_power))
        )
        rn = sp.csr_matrix(rn, dtype=np.float32)
        if factors is None:
            factors = self._decompose(rn)
        v, s = factors
        if v.dim() != 2 or v.shape[0] != graph.num_items or s.shape != (v.shape[1],) or v.shape[1] == 0:
            raise ValueError(
                f"factors of shapes {tuple(v.shape)} and {tuple(s.shape)} do not fit a graph of {graph.num_items} "
                "items: pass (V (num_items, r), S (r,)) from a decomposition of this graph (GraphFilter.factors), "
                "or None to decompose"
            )
        k = min(config.rank, v.shape[1])
        self.factors = (v.detach().cpu().float().contiguous(), s.detach().cpu().float().contiguous())
        # Scale so that the largest singular value is 1: eigenvalues of P then lie in [0, 1].
        scale = float(s[0]) if len(s) and float(s[0]) > 0 else 1.0
        self._rn = sp.csr_matrix(rn / scale, dtype=np.float32)
        self._rn_t = self._rn.T.tocsr()
        self.eigenvalues = (s[:k].double() / scale).pow(2).numpy()  # (k,) eigenvalues of P, largest first
        self.full_rank = k >= min(graph.num_users, graph.num_items)
        self._set_response(k)
        dev = self.device
        self._v = self.factors[0][:, :k].contiguous().to(dev)  # (num_items, k)
        self._a = torch_csr(self._rn, dev)  # (num_users, num_items)
        self._a_t = torch_csr(self._rn_t, dev)  # (num_items, num_users)
        bp = config.degree_power
        self._pre = power(graph.item_degree, bp).astype(np.float32)  # (num_items,)
        self._post = torch.from_numpy(np.where(graph.item_degree > 0, graph.item_degree ** float(bp), 0.0))
        self._post = self._post.float().to(dev)
        self._popularity = torch.as_tensor(graph.item_degree, dtype=torch.float32)

    # -- precomputation ---------------------------------------------------------------------------------
    def _decompose(self, rn: sp.csr_matrix) -> tuple[torch.Tensor, torch.Tensor]:
        """Top singular pairs of ``rn``: ``(V (num_items, r), S (r,))``, largest first."""
        cfg = self.config
        full = min(rn.shape)
        if full <= DENSE_SVD_RANK:
            return exact_svd(rn, cfg.rank)
        q = min(cfg.rank + cfg.svd_oversample, full)
        gen = torch.Generator(device=self.device).manual_seed(cfg.seed)
        v, s = randomized_svd(torch_csr(rn, self.device), torch_csr(rn.T, self.device), q, cfg.svd_niter, gen)
        k = min(cfg.rank, q)
        return v[:, :k].float().cpu().contiguous(), s[:k].float().cpu()

    def _set_response(self, k: int) -> None:
        cfg = self.config
        coef = chebyshev_coefficients(
            cfg.response, order=cfg.order, flatness=cfg.flatness, sharpen_time=cfg.sharpen_time,
            sharpen_steps=cfg.sharpen_steps,
        )  # fmt: skip
        lam = self.eigenvalues
        ideal = ideal_response(
            cfg.response, lam, ideal_rank=cfg.ideal_rank, ideal_weight=cfg.ideal_weight,
            sharpen_time=cfg.sharpen_time, sharpen_steps=cfg.sharpen_steps,
        )  # fmt: skip
        self.coefficients = coef
        if cfg.tail == "exact":
            # The polynomial runs on the whole spectrum; only the ideal part is low-rank.
            self.q0, self.q1 = 0.0, 0.0
            weights = ideal
        else:
            self.q0, self.q1 = tail_fit(coef, float(lam[-1]) if len(lam) else 0.0, self.full_rank)
            weights = polynomial_response(coef, lam) + ideal - self.q0 - self.q1 * lam
        self.weights = torch.from_numpy(weights).float().to(self.device)  # (k,)

    def with_config(self, **changes: Any) -> GraphFilter:
        """A filter with some settings changed, reusing this one's decomposition when it still applies.

        Changing ``user_power``, ``item_power``, ``seed`` or the SVD settings, or raising ``rank`` above the
        decomposed rank, decomposes again.
        """
        cfg = replace(self.config, **changes)
        same = all(getattr(cfg, f) == getattr(self.config, f) for f in ("user_power", "item_power", "seed"))
        same = same and (cfg.svd_niter, cfg.svd_oversample) == (self.config.svd_niter, self.config.svd_oversample)
        reuse = same and cfg.rank <= self.factors[0].shape[1]
        same_text = cfg.text_neighbors == self.config.text_neighbors
        text = self.text_graph if same_text and self.text_graph is not None else None
        return GraphFilter(self.graph, cfg, self.factors if reuse else None, self.item_features, text)

    # -- filtering --------------------------------------------------------------------------------------
    def _prepare(self, history: sp.csr_matrix) -> sp.csr_matrix:
        """History rows divided by ``item_degree ** degree_power``."""
        return sp.csr_matrix(history.multiply(self._pre[np.newaxis, :]), dtype=np.float32)

    def _graph_product(self, x: sp.csr_matrix | None, xd: torch.Tensor | None) -> torch.Tensor:
        """``P y``: ``(num_items, B)`` on the device, for a sparse block ``x`` (rows) or dense ``xd`` (columns)."""
        if x is not None and (self.device.type == "cpu" or xd is None):
            # The history is sparse: the first product stays sparse (scipy, laid out as (num_users, B) so that
            # it densifies without a transpose), the second is a CSR SpMM.
            ht = torch.from_numpy((self._rn @ x.T.tocsr()).toarray()).to(self.device)
        else:
            assert xd is not None
            ht = self._a @ xd
        return self._a_t @ ht

    def _filter_block(self, x: sp.csr_matrix, out: torch.Tensor) -> None:
        """Write the filtered scores of a block of raw history rows into ``out`` ``(B, num_items)``."""
        xs = self._prepare(x)
        xt = torch_csr(xs, self.device)
        # Work in the (num_items, B) layout: the GEMM and the SpMM are faster there, and adding contiguous
        # blocks is; one transposing copy writes the result.
        out_t = self._v @ ((xt @ self._v) * self.weights).T
        if self.config.tail == "exact":
            out_t += self._chebyshev(xt.to_dense().T.contiguous())
        else:
            if self.q1 != 0.0:
                xd = None if self.device.type == "cpu" else xt.to_dense().T.contiguous()
                out_t.add_(self._graph_product(xs, xd), alpha=self.q1)
            if self.q0 != 0.0:
                coo = xs.tocoo()
                cols = torch.from_numpy(coo.col.astype(np.int64)).to(self.device)
                rows = torch.from_numpy(coo.row.astype(np.int64)).to(self.device)
                vals = torch.from_numpy(coo.data.astype(np.float32)).to(self.device)
                out_t.index_put_((cols, rows), self.q0 * vals, accumulate=True)
        out_t *= self._post[:, None]
        out.copy_(out_t.T)
        if self.config.text_weight > 0 and self.text_graph is not None:
            cold = torch.from_numpy(np.where(self.graph.item_degree > 0, 1.0, self.config.text_cold_boost))
            blend_text(out, x, self.text_graph, float(self.config.text_weight), cold.float())
        empty = torch.from_numpy(np.diff(x.indptr) == 0).to(self.device)
        if bool(empty.any()):
            # No history: fall back to popularity (the same for every such user).
            out[empty] = self._popularity.to(self.device)

    def _chebyshev(self, y: torch.Tensor) -> torch.Tensor:
        """``p(P) y`` on the whole spectrum by the Chebyshev recursion in ``I - 2P``; ``y`` is ``(num_items, B)``."""
        coef = self.coefficients

        def lap(t: torch.Tensor) -> torch.Tensor:
            return t - 2.0 * self._graph_product(None, t)

        t0, out = y, float(coef[0]) * y
        if len(coef) == 1:
            return out
        t1 = lap(y)
        out = out + float(coef[1]) * t1
        for c in coef[2:]:
            t0, t1 = t1, 2.0 * lap(t1) - t0
            out = out + float(c) * t1
        return out

    @torch.no_grad()
    def filter_histories(self, history: sp.csr_matrix) -> torch.Tensor:
        """Scores ``(B, num_items)`` on the model's device for ``B`` history rows (item weights).

        Args:
            history: ``(B, num_items)`` sparse item weights (1 for an interaction or a like).
        """
        history = sp.csr_matrix(history, dtype=np.float32)
        if history.shape[1] != self.num_items:
            raise ValueError(f"history has {history.shape[1]} columns but the catalogue has {self.num_items} items")
        # A GPU wants wider products than the CPU, whose SpMM is fastest while a block stays in cache.
        bs = self.config.block_size * (1 if self.device.type == "cpu" else 16)
        out = torch.empty(history.shape[0], self.num_items, device=self.device)
        for i in range(0, history.shape[0], bs):
            self._filter_block(history[i : i + bs], out[i : i + bs])
        return out

    @torch.no_grad()
    def score_device(self, user_index: np.ndarray | torch.Tensor) -> torch.Tensor:
        """``(batch, num_items)`` scores on the model's device (the evaluator's fast path)."""
        users = self._users(user_index)
        return self.filter_histories(self.graph.interaction[users])

    def item_embeddings(self) -> torch.Tensor:
        """``(num_items, d)`` spectral item coordinates ``V S`` on the top ``d <= 64`` singular directions.

        Their dot products approximate the normalised item-item graph ``P``: item-to-item neighbours and
        explanation similarities of the candidate bus (items without interactions sit at the origin).
        """
        v, s = self.factors
        d = min(self.config.rank, v.shape[1], 64)
        return v[:, :d] * s[:d]

    def score(self, user_index: np.ndarray | torch.Tensor) -> torch.Tensor:
        """``(batch, num_items)`` float32 scores on the CPU; users without history get item popularity."""
        return self.score_device(user_index).float().cpu()

    def score_batches(
        self,
        user_index: np.ndarray | None = None,
        batch_size: int = 2048,
        show_progress: bool = True,
        callback: Callable[[int, int], None] | None = None,
    ) -> Iterator[tuple[np.ndarray, torch.Tensor]]:
        """Score many users batch by batch: yields ``(users (b,), scores (b, num_items) on the device)``.

        Args:
            user_index: users to score (default: all).
            batch_size: users per yielded batch.
            show_progress: show a tqdm bar.
            callback: called as ``callback(done, total)`` after each batch.
        """
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        users = np.arange(self.num_users) if user_index is None else self._users(user_index)
        for start in tqdm(range(0, len(users), batch_size), desc="graph filter", disable=not show_progress):
            batch = users[start : start + batch_size]
            yield batch, self.score_device(batch)
            if callback is not None:
                callback(min(start + batch_size, len(users)), len(users))

    def score_history(
        self, item_index: Sequence[int] | np.ndarray, weights: Sequence[float] | None = None
    ) -> torch.Tensor:
        """Personal scores ``(num_items,)`` (CPU) for any history, e.g. the items a chat user said they liked.

        No training is involved: the history is filtered like a dataset user's row. An empty history gets
        item popularity. The history items themselves score high; exclude them before ranking.

        Raises:
            ValueError: for an unknown item index, or weights of another length or not finite.
        """
        idx = np.asarray(item_index, dtype=np.int64).reshape(-1)
        if len(idx) and (idx.min() < 0 or idx.max() >= self.num_items):
            bad = idx[(idx < 0) | (idx >= self.num_items)][0]
            raise ValueError(f"unknown item index {int(bad)}; valid item indices are 0..{self.num_items - 1}")
        w = np.ones(len(idx), dtype=np.float32) if weights is None else np.asarray(weights, dtype=np.float32)
        if w.shape != idx.shape:
            raise ValueError(f"weights has {w.size} values but there are {len(idx)} items; give one weight per item")
        if not np.isfinite(w).all():
            raise ValueError("weights must be finite numbers (no NaN or inf)")
        row = sp.csr_matrix((w, (np.zeros(len(idx), dtype=np.int64), idx)), shape=(1, self.num_items))
        return self.filter_histories(row)[0].float().cpu()

    # -- persistence ------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the config, the singular factors and the training interactions atomically."""
        v, s = self.factors
        text = None
        if self.config.text_weight > 0 and self.text_graph is not None:
            t = self.text_graph
            text = {k: torch.from_numpy(getattr(t, k).copy()) for k in ("indptr", "indices", "data")}
        save_checkpoint(
            path,
            {
                "model": self.name,
                **interaction_payload(self.graph),
                "config": self.config.to_dict(),
                "factors": {"V": v, "S": s},
                "text_graph": text,
            },
        )

    @classmethod
    def load(cls, path: str | Path, graph: BipartiteGraph | None = None, device: str | None = None) -> GraphFilter:
        """Rebuild from ``path`` without decomposing again (``graph`` omitted: the stored interactions).

        Args:
            path: a checkpoint written by :meth:`save`.
            graph: the training graph (checked against the stored fingerprint).
            device: where to filter (default: the stored setting, or the CPU when it names a missing GPU).
        """
        payload, graph = load_payload(path, cls.name, graph)
        cfg = GraphFilterConfig(**payload["config"])
        if device is not None:
            cfg.device = device
        elif cfg.device.startswith("cuda") and not torch.cuda.is_available():
            logger.warning("%s was built for %s but CUDA is not available here: filtering on the CPU", path, cfg.device)
            cfg.device = "cpu"
        factors, text = payload["factors"], payload.get("text_graph")
        if text is not None:
            n = graph.num_items
            text = sp.csr_matrix(tuple(text[k].numpy() for k in ("data", "indices", "indptr")), shape=(n, n))
        return cls(graph, cfg, factors=(factors["V"], factors["S"]), text_graph=text)
