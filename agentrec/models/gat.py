"""An attention-based GNN retriever: graph attention (PyG ``GATConv`` / ``GATv2Conv``) over the user-item graph.

Nodes carry learned ID embeddings; each layer lets a node attend over its neighbours (and itself), and
the final embedding is the mean of the layer outputs, as in LightGCN, so the two differ only in how
neighbours are weighted: fixed ``1/sqrt(d_u d_i)`` for LightGCN, learned attention here. The model
exposes the same training surface as :class:`agentrec.models.lightgcn.LightGCN`
(``propagate_all``, ``final_embeddings``, ``invalidate_cache``), so :func:`agentrec.train.fit` trains it
with BPR (or softmax) unchanged and the comparison is one flag away.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from agentrec.graph import BipartiteGraph
from agentrec.models.base import Recommender
from agentrec.models.baselines import graph_from_payload, interaction_payload
from agentrec.models.checkpoint import load_checkpoint, save_checkpoint

__all__ = ["GAT", "GATConfig"]

CONVS = ("gat", "gatv2")


@dataclass
class GATConfig:
    """GAT hyper-parameters.

    Attributes:
        embedding_dim: size of every embedding (and of each layer's output).
        num_layers: attention layers; the output is the mean of layers ``0..num_layers``.
        heads: attention heads per layer (averaged, so the width stays ``embedding_dim``).
        conv: ``"gat"`` (``GATConv``) or ``"gatv2"`` (``GATv2Conv``).
        attention_dropout: dropout on the attention coefficients during training.
        negative_slope: LeakyReLU slope inside the attention.
        similarity: ``"dot"`` or ``"cosine"`` score between final user and item embeddings.
        init_std: standard deviation of the normal initialisation of ID embeddings.
        seed: initialisation seed.
    """

    embedding_dim: int = 64
    num_layers: int = 2
    heads: int = 1
    conv: Literal["gat", "gatv2"] = "gat"
    attention_dropout: float = 0.0
    negative_slope: float = 0.2
    similarity: Literal["dot", "cosine"] = "dot"
    init_std: float = 0.1
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly config."""
        return asdict(self)


class GAT(Recommender, nn.Module):
    """Graph attention retriever over a :class:`~agentrec.graph.BipartiteGraph`.

    Args:
        graph: the training graph.
        config: hyper-parameters (defaults: 64-d, 2 layers, 1 head).
    """

    name = "gat"
    cold_user_mask: torch.Tensor
    edge_index: torch.Tensor

    def __init__(self, graph: BipartiteGraph, config: GATConfig | None = None) -> None:
        nn.Module.__init__(self)
        config = config or GATConfig()
        if config.embedding_dim <= 0 or config.num_layers < 1 or config.heads < 1:
            raise ValueError(
                "embedding_dim and heads must be > 0 and num_layers >= 1, got "
                f"{config.embedding_dim}, {config.heads} and {config.num_layers}"
            )
        if config.conv not in CONVS:
            raise ValueError(f"conv must be one of {CONVS}, got {config.conv!r}")
        if config.similarity not in ("dot", "cosine"):
            raise ValueError(f"similarity must be one of ('dot', 'cosine'), got {config.similarity!r}")
        if not 0.0 <= config.attention_dropout < 1.0:
            raise ValueError(f"attention_dropout must be in [0, 1), got {config.attention_dropout}")
        from torch_geometric.nn import GATConv, GATv2Conv

        self.graph = graph
        self.config = config
        self.num_users, self.num_items = graph.num_users, graph.num_items
        d = config.embedding_dim
        torch.manual_seed(config.seed)  # PyG layers initialise from the global generator
        gen = torch.Generator().manual_seed(config.seed)
        self.user_emb = nn.Parameter(torch.randn(self.num_users, d, generator=gen) * config.init_std)
        self.item_emb = nn.Parameter(torch.randn(self.num_items, d, generator=gen) * config.init_std)
        conv_cls = GATConv if config.conv == "gat" else GATv2Conv
        self.convs = nn.ModuleList(
            conv_cls(
                d,
                d,
                heads=config.heads,
                concat=False,
                negative_slope=config.negative_slope,
                dropout=config.attention_dropout,
                add_self_loops=True,
                bias=False,
            )
            for _ in range(config.num_layers)
        )
        self.register_buffer("edge_index", graph.edge_index(), persistent=False)
        self.register_buffer("cold_user_mask", torch.from_numpy(graph.user_degree == 0))
        self._cache: tuple[torch.Tensor, torch.Tensor] | None = None

    @property
    def device(self) -> torch.device:
        """Where the parameters live."""
        return self.user_emb.device

    @property
    def text_aware(self) -> bool:
        """Always False: this GAT uses ID embeddings only."""
        return False

    def propagate_all(
        self, drop_ids: bool = False, eps: float = 0.0, view_layer: int = 0
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Differentiable final embeddings of all nodes (users first).

        Args:
            drop_ids: accepted for interface parity with LightGCN (no effect: there are no features).
            eps: XSimGCL-style noise magnitude added after each layer (0 = none).
            view_layer: when in ``1..num_layers``, also return that layer's embeddings.

        Returns:
            ``(final, ego, view)``: ``(N, d)`` mean of the layer outputs, ``(N, d)`` layer-0 embeddings, and
            layer ``view_layer`` (or an empty tensor).
        """
        ego = torch.cat([self.user_emb, self.item_emb])
        h, out, view = ego, ego, ego.new_zeros(0)
        for layer, conv in enumerate(self.convs, start=1):
            h = conv(h, self.edge_index)
            if eps > 0:
                noise = torch.nn.functional.normalize(torch.rand_like(h), dim=-1)
                h = h + torch.sign(h).detach() * noise * eps
            out = out + h
            if layer == view_layer:
                view = h
        return out / (len(self.convs) + 1), ego, view

    def invalidate_cache(self) -> None:
        """Forget cached final embeddings (call after changing parameters)."""
        self._cache = None

    def train(self, mode: bool = True) -> GAT:
        """Switch mode; also drops the cached embeddings."""
        self._cache = None
        return nn.Module.train(self, mode)

    @torch.no_grad()
    def final_embeddings(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(users (num_users, d), items (num_items, d))`` on the model's device, cached until changed."""
        if self._cache is None:
            was_training = self.training
            nn.Module.train(self, False)  # no attention dropout at inference
            final, _, _ = self.propagate_all()
            nn.Module.train(self, was_training)
            users, items = final[: self.num_users].clone(), final[self.num_users :].clone()
            if self.config.similarity == "cosine":
                items = torch.nn.functional.normalize(items, dim=-1)
            cu = self.cold_user_mask
            if bool(cu.any()) and bool((~cu).any()):
                # Users with no history: the average taste of users who have one.
                users[cu] = users[~cu].mean(dim=0)
            self._cache = (users, items)
        return self._cache

    def user_embeddings(self) -> torch.Tensor:
        """``(num_users, embedding_dim)`` final user embeddings on the CPU."""
        return self.final_embeddings()[0].cpu()

    def item_embeddings(self) -> torch.Tensor:
        """``(num_items, embedding_dim)`` final item embeddings on the CPU."""
        return self.final_embeddings()[1].cpu()

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

    def checkpoint_payload(self, metrics: dict[str, float] | None = None) -> dict[str, Any]:
        """What :meth:`save` writes (trainers add optimizer state to it)."""
        return {
            "model": self.name,
            "config": self.config.to_dict(),
            "state_dict": {k: v.detach().cpu() for k, v in self.state_dict().items()},
            "metrics": dict(metrics or {}),
            **interaction_payload(self.graph),
        }

    def save(self, path: str | Path, metrics: dict[str, float] | None = None) -> None:
        """Write weights, config, dataset fingerprint and metrics to ``path`` atomically."""
        save_checkpoint(path, self.checkpoint_payload(metrics))

    @classmethod
    def load(cls, path: str | Path, graph: BipartiteGraph | None = None) -> GAT:
        """Load a model saved by :meth:`save` (``graph`` omitted: rebuilt from the checkpoint).

        Raises:
            FileNotFoundError: when ``path`` does not exist.
            ValueError: when the file holds another model or ``graph`` belongs to a different dataset.
        """
        return cls.from_payload(load_checkpoint(path), graph, source=str(path))

    @classmethod
    def from_payload(cls, payload: dict[str, Any], graph: BipartiteGraph | None = None, source: str = "") -> GAT:
        """Rebuild a model from a checkpoint payload."""
        source = source or "checkpoint"
        if payload.get("model") != cls.name:
            raise ValueError(f"{source} holds a {payload.get('model')!r} model, not {cls.name!r}")
        graph = graph_from_payload(payload, graph, source)
        model = cls(graph, GATConfig(**payload["config"]))
        model.load_state_dict(payload["state_dict"])
        return model
