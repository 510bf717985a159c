"""Baselines for honest comparison: popularity, matrix factorisation with BPR, and item-kNN on text.

All three implement :class:`agentrec.models.base.Recommender` over a :class:`agentrec.graph.BipartiteGraph`
(the training interactions), so evaluation and the CLI treat them exactly like the GNNs.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from agentrec.graph import BipartiteGraph
from agentrec.models.base import Recommender
from agentrec.models.checkpoint import check_fingerprint, load_checkpoint, save_checkpoint

__all__ = [
    "MFBPR",
    "Popularity",
    "TextKNN",
    "check_item_features",
    "graph_from_payload",
    "interaction_payload",
    "load_payload",
]

logger = logging.getLogger(__name__)


def interaction_payload(graph: BipartiteGraph) -> dict[str, Any]:
    """The training interactions of ``graph`` in checkpoint form (so a model can be loaded on its own)."""
    r = graph.interaction
    return {
        "num_users": graph.num_users,
        "num_items": graph.num_items,
        "interaction": (torch.from_numpy(r.indptr.astype(np.int64)), torch.from_numpy(r.indices.astype(np.int64))),
        "fingerprint": graph.fingerprint,
    }


def graph_from_payload(payload: dict[str, Any], graph: BipartiteGraph | None, source: str) -> BipartiteGraph:
    """The training graph of a checkpoint: ``graph`` after a fingerprint check, or rebuilt from the payload.

    Raises:
        ValueError: when ``graph`` belongs to a different dataset, or the payload stores no interactions.
    """
    if graph is not None:
        check_fingerprint(payload.get("fingerprint"), graph.fingerprint, source=source)
        return graph
    if "interaction" not in payload:
        raise ValueError(f"{source} stores no training interactions; pass the training graph (graph=...) to load it")
    from agentrec.graph import build_graph
    from agentrec.types import Interactions

    indptr, indices = (t.numpy() for t in payload["interaction"])
    users = np.repeat(np.arange(payload["num_users"]), np.diff(indptr))
    rebuilt = build_graph(Interactions.from_arrays(users, indices, payload["num_users"], payload["num_items"]))
    rebuilt.fingerprint = payload["fingerprint"]
    return rebuilt


def load_payload(
    path: str | Path, kind: str, graph: BipartiteGraph | None = None
) -> tuple[dict[str, Any], BipartiteGraph]:
    """Read a checkpoint of a ``kind`` model and its training graph (``graph``, or rebuilt from the file).

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        ValueError: when the file holds another kind of model or comes from a different dataset.
    """
    payload = load_checkpoint(path)
    if payload.get("model") != kind:
        raise ValueError(f"checkpoint {str(path)!r} holds a {payload.get('model')!r} model, expected {kind!r}")
    return payload, graph_from_payload(payload, graph, str(path))


def check_item_features(features: np.ndarray | torch.Tensor, num_items: int) -> torch.Tensor:
    """Validate an item feature matrix and return it as float32 ``(num_items, dim)``.

    Raises:
        ValueError: when the matrix is not 2-D, its row count is not ``num_items``, or it holds NaN/inf.
    """
    t = torch.as_tensor(np.asarray(features) if not isinstance(features, torch.Tensor) else features)
    t = t.detach().to(dtype=torch.float32, device="cpu")
    if t.dim() != 2:
        raise ValueError(f"item_features must be a 2-D (num_items, dim) matrix, got shape {tuple(t.shape)}")
    if t.shape[0] != num_items:
        raise ValueError(
            f"item_features has {t.shape[0]} rows but the catalogue has {num_items} items; "
            "embed every item of the catalogue, in item-index order"
        )
    if not torch.isfinite(t).all():
        bad = int((~torch.isfinite(t)).any(dim=1).nonzero()[0, 0])
        raise ValueError(f"item_features contains NaN or inf (first in row {bad}); clean or re-embed those items")
    return t


class _GraphRecommender(Recommender):
    """Shared plumbing: the training graph supplies sizes and the items to exclude."""

    def __init__(self, graph: BipartiteGraph) -> None:
        self.graph = graph
        self.num_users = graph.num_users
        self.num_items = graph.num_items

    def seen_items(self, user_index: np.ndarray) -> list[np.ndarray]:
        """Training items of each user of the batch (excluded by ``recommend``)."""
        return self.graph.seen_items(np.asarray(user_index))

    def _users(self, user_index: np.ndarray | torch.Tensor) -> np.ndarray:
        users = np.asarray(
            user_index.cpu().numpy() if isinstance(user_index, torch.Tensor) else user_index, dtype=np.int64
        ).reshape(-1)
        if len(users) and (users.min() < 0 or users.max() >= self.num_users):
            bad = users[(users < 0) | (users >= self.num_users)][0]
            raise ValueError(f"unknown user index {int(bad)}; valid user indices are 0..{self.num_users - 1}")
        return users


class Popularity(_GraphRecommender):
    """Every user gets the items with the most training interactions (train degree).

    Args:
        graph: the training graph.
    """

    name = "popularity"

    def __init__(self, graph: BipartiteGraph) -> None:
        super().__init__(graph)
        self.item_score = torch.as_tensor(graph.item_degree, dtype=torch.float32)  # (num_items,)

    def score(self, user_index: np.ndarray | torch.Tensor) -> torch.Tensor:
        """``(batch, num_items)``: the item's training degree, the same row for every user."""
        users = self._users(user_index)
        return self.item_score.unsqueeze(0).expand(len(users), -1).clone()

    def save(self, path: str | Path) -> None:
        """Write the model (only the fingerprint: degrees come back from the graph)."""
        save_checkpoint(path, {"model": self.name, **interaction_payload(self.graph), "config": {}})

    @classmethod
    def load(cls, path: str | Path, graph: BipartiteGraph | None = None) -> Popularity:
        """Rebuild from ``path`` (with ``graph`` omitted, the training graph stored in the checkpoint is used)."""
        _, graph = load_payload(path, cls.name, graph)
        return cls(graph)


class TextKNN(_GraphRecommender):
    """Item-kNN over text embeddings: works for items nobody has interacted with.

    The similarity of two items is the cosine of their text embeddings; each item keeps its
    ``k_neighbors`` most similar items (positive similarities only). A user's score for item ``j`` is the
    sum of the similarities between ``j`` and the user's training items, so cold items are ranked by how
    close their text is to what the user liked.

    Args:
        graph: the training graph.
        item_features: ``(num_items, dim)`` text embeddings, item-index order.
        k_neighbors: neighbours kept per item (``None`` keeps all: dense, fine for small catalogues).
        batch_size: items per block when computing neighbours.
    """

    name = "text-knn"

    def __init__(
        self,
        graph: BipartiteGraph,
        item_features: np.ndarray | torch.Tensor,
        k_neighbors: int | None = 100,
        batch_size: int = 2048,
    ) -> None:
        super().__init__(graph)
        if k_neighbors is not None and (not isinstance(k_neighbors, int) or k_neighbors <= 0):
            raise ValueError(f"k_neighbors must be a positive integer or None, got {k_neighbors!r}")
        self.k_neighbors = k_neighbors
        feats = check_item_features(item_features, graph.num_items)
        self.item_features = feats
        self.similarity = self._neighbours(feats, k_neighbors, batch_size)  # csr (num_items, num_items)

    @staticmethod
    def _neighbours(feats: torch.Tensor, k: int | None, batch_size: int) -> sp.csr_matrix:
        unit = torch.nn.functional.normalize(feats, dim=1)
        n = unit.shape[0]
        kk = n - 1 if k is None else min(k, n - 1)
        rows, cols, vals = [], [], []
        for start in range(0, n, batch_size):
            block = unit[start : start + batch_size] @ unit.T  # (block, num_items)
            idx = torch.arange(start, min(start + batch_size, n))
            block[idx - start, idx] = -torch.inf  # an item is not its own neighbour
            if kk <= 0:
                continue
            top = torch.topk(block, kk, dim=1)
            keep = top.values > 0
            rows.append(idx.unsqueeze(1).expand(-1, kk)[keep].numpy())
            cols.append(top.indices[keep].numpy())
            vals.append(top.values[keep].numpy())
        if not rows:
            return sp.csr_matrix((n, n), dtype=np.float32)
        sim = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n), dtype=np.float32
        )
        # Neighbourhoods are symmetrised so "j is close to i" counts whichever side kept the pair.
        return sim.maximum(sim.T).tocsr()

    def score(self, user_index: np.ndarray | torch.Tensor) -> torch.Tensor:
        """``(batch, num_items)``: summed text similarity to each user's training items."""
        users = self._users(user_index)
        history = self.graph.interaction[users]  # (batch, num_items) binary
        return torch.from_numpy(np.asarray((history @ self.similarity).todense(), dtype=np.float32))

    def save(self, path: str | Path) -> None:
        """Write the features and settings; neighbours are recomputed on load."""
        save_checkpoint(
            path,
            {
                "model": self.name,
                **interaction_payload(self.graph),
                "config": {"k_neighbors": self.k_neighbors},
                "item_features": self.item_features,
            },
        )

    @classmethod
    def load(cls, path: str | Path, graph: BipartiteGraph | None = None) -> TextKNN:
        """Rebuild from ``path`` (with ``graph`` omitted, the training graph stored in the checkpoint is used)."""
        payload, graph = load_payload(path, cls.name, graph)
        return cls(graph, payload["item_features"], **payload["config"])


@dataclass
class MFConfig:
    """MF-BPR hyper-parameters.

    Attributes:
        embedding_dim: size of the user and item vectors.
        similarity: ``"dot"`` (the trainer reads it; MF scores are inner products).
        init_std: standard deviation of the normal initialisation.
        seed: initialisation seed.
    """

    embedding_dim: int = 64
    similarity: Literal["dot"] = "dot"
    init_std: float = 0.1
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly config."""
        return asdict(self)


class MFBPR(_GraphRecommender, nn.Module):
    """Plain matrix factorisation: ``score(u, i) = <p_u, q_i>``, trained with BPR.

    It exposes the GNNs' training surface (``propagate_all`` returns the raw embeddings: no
    propagation), so :func:`agentrec.train.fit` trains it exactly like LightGCN (same BPR loss, negative
    sampling, early stopping and checkpoints), which keeps the comparison fair.

    Args:
        graph: the training graph.
        config: hyper-parameters.
    """

    name = "mf-bpr"

    def __init__(self, graph: BipartiteGraph, config: MFConfig | None = None) -> None:
        nn.Module.__init__(self)
        _GraphRecommender.__init__(self, graph)
        config = config or MFConfig()
        if not isinstance(config.embedding_dim, int) or config.embedding_dim <= 0:
            raise ValueError(f"embedding_dim must be a positive integer, got {config.embedding_dim!r}")
        if config.similarity != "dot":
            raise ValueError(f"similarity must be 'dot' for MF-BPR, got {config.similarity!r}")
        self.config = config
        gen = torch.Generator().manual_seed(config.seed)
        d = config.embedding_dim
        self.user_emb = nn.Parameter(torch.randn(graph.num_users, d, generator=gen) * config.init_std)
        self.item_emb = nn.Parameter(torch.randn(graph.num_items, d, generator=gen) * config.init_std)

    @property
    def device(self) -> torch.device:
        """Where the parameters live."""
        return self.user_emb.device

    def propagate_all(
        self, drop_ids: bool = False, eps: float = 0.0, view_layer: int = 0
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The trainer's view of the model: ``(final, ego, view)`` with ``final == ego`` (users first).

        Args:
            drop_ids: ignored (MF has no features to fall back on).
            eps: ignored (no layers to perturb).
            view_layer: ignored; the view is always empty, so keep the contrastive weight at 0.

        Returns:
            ``(N, d)``, ``(N, d)`` and an empty tensor, ``N = num_users + num_items``.
        """
        ego = torch.cat([self.user_emb, self.item_emb])
        return ego, ego, ego.new_zeros(0)

    def invalidate_cache(self) -> None:
        """Nothing is cached (kept for the trainer)."""

    def user_embeddings(self) -> torch.Tensor:
        """``(num_users, embedding_dim)``."""
        return self.user_emb.detach().cpu()

    def item_embeddings(self) -> torch.Tensor:
        """``(num_items, embedding_dim)``."""
        return self.item_emb.detach().cpu()

    @torch.no_grad()
    def score_device(self, user_index: np.ndarray | torch.Tensor) -> torch.Tensor:
        """``(batch, num_items)`` inner products on the model's device."""
        users = torch.from_numpy(self._users(user_index)).to(self.device)
        return self.user_emb[users] @ self.item_emb.T

    def score(self, user_index: np.ndarray | torch.Tensor) -> torch.Tensor:
        """``(batch, num_items)`` inner products, float32 on the CPU."""
        return self.score_device(user_index).float().cpu()

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
        """Write weights, config, the training interactions and metrics atomically."""
        save_checkpoint(path, self.checkpoint_payload(metrics))

    @classmethod
    def load(cls, path: str | Path, graph: BipartiteGraph | None = None) -> MFBPR:
        """Rebuild from ``path`` (with ``graph`` omitted, the training graph stored in the checkpoint is used)."""
        payload, graph = load_payload(path, cls.name, graph)
        model = cls(graph, MFConfig(**payload["config"]))
        model.load_state_dict(payload["state_dict"])
        model.eval()
        return model
