"""LightGCN (He et al., SIGIR 2020) with optional language-model item features (text-aware LightGCN).

Propagation takes the fast path: the precomputed symmetric-normalised adjacency ``A`` as a sparse CSR
matrix, and a custom autograd function whose backward is again ``A @ grad`` (``A`` is symmetric), so
each training step costs ``num_layers`` SpMMs forward and ``num_layers`` backward and nothing is rebuilt.

Text-aware: an item's input embedding is its learned ID embedding plus a learned linear projection of
its text embedding (``feature_fusion="sum"``), or the projection alone (``"features"``). Items without
training edges (cold items) are represented by their input embedding, so they get meaningful scores
from text alone; ``id_dropout`` drops ID embeddings during training so the projection learns to carry
the signal on its own.

Users without training history get the mean final embedding of the users who have one (a
popularity-like taste profile), so they still receive sensible scores.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from agentrec.graph import BipartiteGraph
from agentrec.models.base import Recommender
from agentrec.models.checkpoint import check_fingerprint, load_checkpoint, save_checkpoint

__all__ = ["LightGCN", "LightGCNConfig", "propagate"]

FUSIONS = ("sum", "features")
SIMILARITIES = ("dot", "cosine")


@dataclass
class LightGCNConfig:
    """LightGCN hyper-parameters.

    Attributes:
        embedding_dim: size of every embedding.
        num_layers: propagation layers; the output is the weighted sum of layers ``0..num_layers``.
        layer_weights: one weight per layer ``0..num_layers``; default uniform ``1/(num_layers+1)``.
        item_features: optional ``(num_items, feature_dim)`` float matrix (e.g. language-model text
            embeddings); makes the model text-aware.
        feature_fusion: ``"sum"`` (ID embedding + projected features) or ``"features"`` (projection only).
        id_dropout: during training, probability of dropping an item's ID embedding (text-aware only),
            which teaches the projection to stand alone for cold items.
        similarity: ``"dot"`` or ``"cosine"`` (cosine is what the softmax loss is usually trained with).
        init_std: standard deviation of the normal initialisation of ID embeddings.
        seed: initialisation seed.
    """

    embedding_dim: int = 64
    num_layers: int = 3
    layer_weights: tuple[float, ...] | None = None
    item_features: np.ndarray | None = field(default=None, repr=False)
    feature_fusion: Literal["sum", "features"] = "sum"
    id_dropout: float = 0.0
    similarity: Literal["dot", "cosine"] = "dot"
    init_std: float = 0.1
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly config (without the feature matrix)."""
        d = asdict(self)
        d.pop("item_features")
        d["layer_weights"] = list(self.weights())
        d["text_aware"] = self.item_features is not None
        return d

    def weights(self) -> tuple[float, ...]:
        """The layer weights actually used."""
        if self.layer_weights is None:
            return tuple([1.0 / (self.num_layers + 1)] * (self.num_layers + 1))
        return tuple(float(w) for w in self.layer_weights)


def _check_features(features: np.ndarray | torch.Tensor, rows: int | None, dim: int | None, what: str) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(features) if not isinstance(features, torch.Tensor) else features)
    if t.ndim != 2:
        raise ValueError(f"{what} must be a 2-D [rows, feature_dim] matrix, got shape {tuple(t.shape)}")
    if rows is not None and t.shape[0] != rows:
        raise ValueError(f"{what} has {t.shape[0]} rows but the catalogue has {rows} items; give one row per item")
    if dim is not None and t.shape[1] != dim:
        raise ValueError(f"{what} has dimension {t.shape[1]} but the model was trained with dimension {dim}")
    t = t.to(torch.float32)
    if not torch.isfinite(t).all():
        bad = int((~torch.isfinite(t)).any(dim=1).nonzero()[0, 0])
        raise ValueError(f"{what} contains NaN or inf values (first in row {bad}); clean or re-embed those items")
    return t


def _spmm(adj: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``adj @ x`` into a fresh buffer (``beta=0`` skips zero-filling the output first)."""
    out = torch.empty(adj.shape[0], x.shape[1], dtype=x.dtype, device=x.device)
    return torch.addmm(out, adj, x.contiguous(), beta=0.0, out=out)


class _Propagate(torch.autograd.Function):
    """``out = sum_l w_l A^l x`` (+ optional XSimGCL noise per layer), optional extra output ``A^k x``."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any, x: torch.Tensor, adj: torch.Tensor, weights: tuple[float, ...], eps: float, view_layer: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        ctx.adj, ctx.weights, ctx.view_layer = adj, weights, view_layer
        out = x * weights[0]
        h, view = x, x.new_zeros(0)
        for layer, w in enumerate(weights[1:], start=1):
            h = _spmm(adj, h)
            if eps > 0:
                # XSimGCL: a random direction, sign-aligned with h, of length eps (a constant for autograd).
                noise = torch.nn.functional.normalize(torch.rand_like(h), dim=-1)
                h = h + torch.sign(h) * noise * eps
            out.add_(h, alpha=w)
            if layer == view_layer:
                view = h
        return out, view

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor, grad_view: torch.Tensor | None) -> Any:  # type: ignore[override]
        weights, adj, k = ctx.weights, ctx.adj, ctx.view_layer
        gv = grad_view if grad_view is not None and grad_view.numel() > 0 else None
        # Horner scheme: sum_l w_l A^l g + A^k g_view with only num_layers SpMMs (A is symmetric).
        acc = grad_out * weights[-1]
        if gv is not None and k == len(weights) - 1:
            acc = acc + gv
        for layer in range(len(weights) - 2, -1, -1):
            acc = _spmm(adj, acc)
            acc.add_(grad_out, alpha=weights[layer])
            if gv is not None and layer == k and layer > 0:
                acc.add_(gv)
        return acc, None, None, None, None


def propagate(
    x: torch.Tensor, adj: torch.Tensor, weights: tuple[float, ...], eps: float = 0.0, view_layer: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """LightGCN propagation ``sum_l weights[l] * A^l x`` with a backward of ``A @ grad``.

    Args:
        x: ``(N, d)`` float32 input embeddings.
        adj: ``(N, N)`` symmetric sparse CSR adjacency.
        weights: one weight per layer ``0..L``.
        eps: XSimGCL noise magnitude added after each layer (0 = none).
        view_layer: when in ``1..L``, also return layer ``view_layer``'s embeddings (for contrastive
            learning); else the second output is empty.

    Returns:
        ``(out, view)``: ``(N, d)`` and ``(N, d)`` or ``(0,)``.
    """
    return _Propagate.apply(x, adj, tuple(weights), float(eps), int(view_layer))  # type: ignore[no-any-return]


class LightGCN(Recommender, nn.Module):
    """LightGCN over a :class:`~agentrec.graph.BipartiteGraph`, optionally text-aware."""

    name = "lightgcn"
    cold_item_mask: torch.Tensor
    cold_user_mask: torch.Tensor
    item_features: torch.Tensor

    def __init__(self, graph: BipartiteGraph, config: LightGCNConfig | None = None) -> None:
        nn.Module.__init__(self)
        config = config or LightGCNConfig()
        if config.embedding_dim <= 0 or config.num_layers < 0:
            raise ValueError(
                f"embedding_dim must be > 0 and num_layers >= 0, got {config.embedding_dim} and {config.num_layers}"
            )
        if len(config.weights()) != config.num_layers + 1:
            raise ValueError(
                f"layer_weights needs num_layers + 1 = {config.num_layers + 1} values, got {config.layer_weights}"
            )
        if config.feature_fusion not in FUSIONS:
            raise ValueError(f"feature_fusion must be one of {FUSIONS}, got {config.feature_fusion!r}")
        if config.similarity not in SIMILARITIES:
            raise ValueError(f"similarity must be one of {SIMILARITIES}, got {config.similarity!r}")
        if not 0.0 <= config.id_dropout < 1.0:
            raise ValueError(f"id_dropout must be in [0, 1), got {config.id_dropout}")
        if config.feature_fusion == "features" and config.item_features is None:
            raise ValueError("feature_fusion='features' needs item_features (a [num_items, d] matrix)")
        self.graph = graph
        self.config = config
        self.num_users, self.num_items = graph.num_users, graph.num_items
        gen = torch.Generator().manual_seed(config.seed)
        d = config.embedding_dim
        self.user_emb = nn.Parameter(torch.randn(self.num_users, d, generator=gen) * config.init_std)
        item = torch.randn(self.num_items, d, generator=gen) * config.init_std
        self.item_emb: nn.Parameter | None = None if config.feature_fusion == "features" else nn.Parameter(item)
        self.proj: nn.Linear | None = None
        if config.item_features is not None:
            feats = _check_features(config.item_features, self.num_items, None, "item_features")
            self.register_buffer("item_features", feats)
            self.proj = nn.Linear(feats.shape[1], d, bias=False)
            with torch.no_grad():
                w = torch.randn(d, feats.shape[1], generator=gen)
                self.proj.weight.copy_(w * config.init_std / max(float(feats.norm(dim=1).mean()), 1e-6))
        self.register_buffer("cold_item_mask", torch.from_numpy(graph.item_degree == 0))
        self.register_buffer("cold_user_mask", torch.from_numpy(graph.user_degree == 0))
        self._cache: tuple[torch.Tensor, torch.Tensor] | None = None

    # -- embeddings ----------------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        """Where the parameters live."""
        return self.user_emb.device

    @property
    def text_aware(self) -> bool:
        """True when the model fuses item features."""
        return self.proj is not None

    def item_input(self, drop_ids: bool = False, generator: torch.Generator | None = None) -> torch.Tensor:
        """Layer-0 item embeddings ``(num_items, d)``: ID embedding and/or projected features."""
        parts = []
        if self.item_emb is not None:
            ids: torch.Tensor = self.item_emb
            if drop_ids and self.proj is not None and self.config.id_dropout > 0:
                keep = torch.rand(self.num_items, 1, device=ids.device, generator=generator) >= self.config.id_dropout
                ids = ids * keep
            parts.append(ids)
        if self.proj is not None:
            parts.append(self.proj(self.item_features))
        return parts[0] if len(parts) == 1 else parts[0] + parts[1]

    def propagate_all(
        self, drop_ids: bool = False, eps: float = 0.0, view_layer: int = 0
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Differentiable final embeddings.

        Returns:
            ``(final, ego, view)``: ``(N, d)`` final and layer-0 embeddings of all nodes (users first),
            and the layer-``view_layer`` embeddings (or an empty tensor).
        """
        ego = torch.cat([self.user_emb, self.item_input(drop_ids)]).float()
        adj = self.graph.norm_adj_on(ego.device)
        final, view = propagate(ego, adj, self.config.weights(), eps, view_layer)
        return final, ego, view

    def invalidate_cache(self) -> None:
        """Forget cached final embeddings (call after changing parameters)."""
        self._cache = None

    def train(self, mode: bool = True) -> LightGCN:
        """Switch mode; also drops the cached embeddings."""
        self._cache = None
        return nn.Module.train(self, mode)

    @torch.no_grad()
    def final_embeddings(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(users (num_users, d), items (num_items, d))`` on the model's device, cached until changed."""
        if self._cache is None:
            final, ego, _ = self.propagate_all()
            users, items = final[: self.num_users].clone(), final[self.num_users :].clone()
            # Cold items have no edges: their input embedding (text projection) stands for them.
            cold = self.cold_item_mask
            items[cold] = ego[self.num_users :][cold]
            if self.config.similarity == "cosine":
                items = torch.nn.functional.normalize(items, dim=-1)
            # Users with no history: the average taste of users who have one.
            cu = self.cold_user_mask
            if bool(cu.any()) and bool((~cu).any()):
                users[cu] = users[~cu].mean(dim=0)
            self._cache = (users, items)
        return self._cache

    def user_embeddings(self) -> torch.Tensor:
        """``(num_users, embedding_dim)`` final user embeddings on the CPU."""
        return self.final_embeddings()[0].cpu()

    def item_embeddings(self) -> torch.Tensor:
        """``(num_items, embedding_dim)`` final item embeddings on the CPU (unit norm with cosine)."""
        return self.final_embeddings()[1].cpu()

    # -- scoring ---------------------------------------------------------------------------------------
    def _users(self, user_index: np.ndarray | torch.Tensor | list[int]) -> torch.Tensor:
        users = torch.as_tensor(np.asarray(user_index), dtype=torch.long).reshape(-1)
        if len(users) and (int(users.min()) < 0 or int(users.max()) >= self.num_users):
            bad = users[(users < 0) | (users >= self.num_users)][0]
            raise ValueError(f"unknown user index {int(bad)}; valid user indices are 0..{self.num_users - 1}")
        return users

    @torch.no_grad()
    def score_device(self, user_index: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Scores of all items for a batch of users, ``(batch, num_items)`` on the model's device."""
        users, items = self.final_embeddings()
        return users[self._users(user_index).to(users.device)] @ items.T

    def score(self, user_index: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Scores of all items for a batch of users: ``(batch, num_items)`` float32 on the CPU."""
        return self.score_device(user_index).float().cpu()

    def seen_items(self, user_index: np.ndarray) -> list[np.ndarray]:
        """Training items of each user (excluded by ``recommend``)."""
        return self.graph.seen_items(self._users(user_index).numpy())

    # -- inductive (text-aware) ------------------------------------------------------------------------
    @torch.no_grad()
    def embed_items_from_features(self, features: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Embeddings ``(n, d)`` (CPU) of new items from their feature rows alone (inductive cold start).

        Raises:
            ValueError: when the model is not text-aware, or the features have the wrong dimension or
                contain NaN/inf.
        """
        if self.proj is None:
            raise ValueError("this LightGCN has no item_features; build it with LightGCNConfig(item_features=...)")
        feats = _check_features(features, None, self.proj.in_features, "features").to(self.device)
        emb = self.proj(feats)
        if self.config.similarity == "cosine":
            emb = torch.nn.functional.normalize(emb, dim=-1)
        return emb.cpu()

    @torch.no_grad()
    def user_from_items(self, item_index: list[int] | np.ndarray) -> torch.Tensor:
        """A new user's embedding ``(d,)`` (CPU) from a few liked items: the mean of their final embeddings."""
        idx = np.asarray(item_index, dtype=np.int64).reshape(-1)
        if len(idx) == 0:
            raise ValueError("item_index is empty; give at least one liked item index")
        if idx.min() < 0 or idx.max() >= self.num_items:
            bad = idx[(idx < 0) | (idx >= self.num_items)][0]
            raise ValueError(f"unknown item index {int(bad)}; valid item indices are 0..{self.num_items - 1}")
        return self.final_embeddings()[1][torch.from_numpy(idx).to(self.device)].mean(dim=0).cpu()

    @torch.no_grad()
    def score_vector(self, user_vector: torch.Tensor, item_vectors: torch.Tensor | None = None) -> torch.Tensor:
        """Scores ``(num_items,)`` (or ``(n,)`` for ``item_vectors``) of one user vector, on the CPU."""
        items = self.final_embeddings()[1].cpu() if item_vectors is None else item_vectors.cpu()
        return items @ user_vector.cpu().float()

    @torch.no_grad()
    def score_cold(self, user_index: np.ndarray | list[int], features: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Scores ``(batch, n)`` of known users for ``n`` new items given only their feature rows."""
        users = self.final_embeddings()[0][self._users(user_index).to(self.device)].cpu()
        return users @ self.embed_items_from_features(features).T

    # -- persistence ------------------------------------------------------------------------------------
    def checkpoint_payload(self, metrics: dict[str, float] | None = None) -> dict[str, Any]:
        """What :meth:`save` writes (trainers add optimizer state to it)."""
        r = self.graph.interaction
        return {
            "model": self.name,
            "config": self.config.to_dict(),
            "state_dict": {k: v.detach().cpu() for k, v in self.state_dict().items()},
            "fingerprint": self.graph.fingerprint,
            "metrics": dict(metrics or {}),
            "num_users": self.num_users,
            "num_items": self.num_items,
            "interaction": (torch.from_numpy(r.indptr.astype(np.int64)), torch.from_numpy(r.indices.astype(np.int64))),
        }

    def save(self, path: str | Path, metrics: dict[str, float] | None = None) -> None:
        """Write weights, config, dataset fingerprint and metrics to ``path`` atomically."""
        save_checkpoint(path, self.checkpoint_payload(metrics))

    @classmethod
    def load(cls, path: str | Path, graph: BipartiteGraph | None = None) -> LightGCN:
        """Load a model saved by :meth:`save`.

        Args:
            path: the checkpoint.
            graph: the training graph; when omitted it is rebuilt from the interactions stored in the
                checkpoint.

        Raises:
            ValueError: when ``graph`` belongs to a different dataset (fingerprints differ).
        """
        payload = load_checkpoint(path)
        return cls.from_payload(payload, graph, source=str(path))

    @classmethod
    def from_payload(cls, payload: dict[str, Any], graph: BipartiteGraph | None = None, source: str = "") -> LightGCN:
        """Rebuild a model from a checkpoint payload."""
        if payload.get("model") != cls.name:
            raise ValueError(f"{source or 'checkpoint'} holds a {payload.get('model')!r} model, not {cls.name!r}")
        if graph is None:
            from agentrec.graph import build_graph
            from agentrec.types import Interactions

            indptr, indices = (t.numpy() for t in payload["interaction"])
            users = np.repeat(np.arange(payload["num_users"]), np.diff(indptr))
            graph = build_graph(Interactions.from_arrays(users, indices, payload["num_users"], payload["num_items"]))
            graph.fingerprint = payload["fingerprint"]
        else:
            check_fingerprint(payload.get("fingerprint"), graph.fingerprint, source=source or "checkpoint")
        cfg = dict(payload["config"])
        cfg.pop("text_aware", None)
        cfg["layer_weights"] = tuple(cfg["layer_weights"])
        state = payload["state_dict"]
        if "item_features" in state:
            cfg["item_features"] = state["item_features"].numpy()
        model = cls(graph, LightGCNConfig(**cfg))
        model.load_state_dict(state)
        return model
