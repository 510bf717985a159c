"""Model names -> constructors, so every retriever is one flag away (``agentrec train --model NAME``).

``build_model(name, graph, ...)`` makes an untrained model; ``load_model(path)`` reads any checkpoint
written by a model's ``save`` and rebuilds the right class.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agentrec.graph import BipartiteGraph
from agentrec.models.base import Recommender

__all__ = ["MODELS", "ModelSpec", "build_model", "load_model", "model_names"]


@dataclass(frozen=True)
class ModelSpec:
    """What the pipeline needs to know about a model name.

    Attributes:
        name: the CLI name.
        description: one line for ``--help``.
        trainable: trained with :func:`agentrec.train.fit` (else ready as built).
        needs_text: needs item text embeddings (``item_features``).
        checkpoint_kind: the ``"model"`` value its checkpoints carry.
    """

    name: str
    description: str
    trainable: bool
    needs_text: bool
    checkpoint_kind: str


MODELS: dict[str, ModelSpec] = {
    s.name: s
    for s in (
        ModelSpec("popularity", "most-interacted items for everyone", False, False, "popularity"),
        ModelSpec("mf-bpr", "matrix factorisation trained with BPR", True, False, "mf-bpr"),
        ModelSpec("text-knn", "item-kNN over item text embeddings", False, True, "text-knn"),
        ModelSpec("lightgcn", "LightGCN (He et al. 2020) on ID embeddings", True, False, "lightgcn"),
        ModelSpec("text-lightgcn", "LightGCN whose items fuse ID and text embeddings", True, True, "lightgcn"),
        ModelSpec("gat", "graph attention network (PyG GATConv) on ID embeddings", True, False, "gat"),
        ModelSpec(
            "graph-filter", "training-free spectral graph filter (ChebyCF / BSPM / GF-CF)", False, False, "graph-filter"
        ),
        ModelSpec(
            "text-graph-filter",
            "the graph filter blended with a text item-item graph (reaches items without interactions)",
            False,
            True,
            "graph-filter",
        ),
    )
}


def model_names() -> tuple[str, ...]:
    """Every valid model name."""
    return tuple(MODELS)


def _spec(name: str) -> ModelSpec:
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; valid models are: {', '.join(MODELS)}")
    return MODELS[name]


def build_model(
    name: str,
    graph: BipartiteGraph,
    item_features: np.ndarray | torch.Tensor | None = None,
    embedding_dim: int = 64,
    num_layers: int | None = None,
    seed: int = 0,
    **options: Any,
) -> Recommender:
    """Make an untrained model by name.

    Args:
        name: one of :func:`model_names` (``popularity``, ``mf-bpr``, ``text-knn``, ``lightgcn``,
            ``text-lightgcn``, ``gat``, ``graph-filter``, ``text-graph-filter``).
        graph: the training graph.
        item_features: ``(num_items, d)`` item text embeddings; required by ``text-knn``, ``text-lightgcn``
            and ``text-graph-filter`` (and by ``graph-filter`` given ``text_weight > 0``), ignored by the others.
        embedding_dim: embedding size of the embedding models (the graph filter ignores it; see ``rank``).
        num_layers: propagation layers of the GNNs (default: 3 for LightGCN, 2 for GAT).
        seed: initialisation seed (the graph filter's randomized SVD).
        **options: further fields of the model's config (``LightGCNConfig``, ``GATConfig``,
            ``MFConfig``, ``GraphFilterConfig``) or ``TextKNN`` arguments, e.g. ``id_dropout=0.3``,
            ``k_neighbors=50`` or ``response="bspm"``.

    Returns:
        A :class:`~agentrec.models.base.Recommender`.

    Raises:
        ValueError: for an unknown name, missing item features, or an unknown option.
    """
    spec = _spec(name)
    if spec.needs_text and item_features is None:
        raise ValueError(
            f"model {name!r} needs item text embeddings (item_features, a [num_items, d] matrix); "
            "embed the catalogue first (agentrec.text) or pick an ID-only model"
        )

    def config(cls: Callable[..., Any], **fields: Any) -> Any:
        known = set(getattr(cls, "__dataclass_fields__", {}))
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValueError(f"unknown option(s) {unknown} for model {name!r}; valid options are {sorted(known)}")
        return cls(**{**fields, **options})

    if name == "popularity":
        from agentrec.models.baselines import Popularity

        if options:
            raise ValueError(f"model 'popularity' takes no options, got {sorted(options)}")
        return Popularity(graph)
    if name == "text-knn":
        from agentrec.models.baselines import TextKNN

        unknown = sorted(set(options) - {"k_neighbors", "batch_size"})
        if unknown:
            raise ValueError(
                f"unknown option(s) {unknown} for model 'text-knn'; valid options are k_neighbors, batch_size"
            )
        assert item_features is not None
        return TextKNN(graph, item_features, **options)
    if name == "mf-bpr":
        from agentrec.models.baselines import MFBPR, MFConfig

        return MFBPR(graph, config(MFConfig, embedding_dim=embedding_dim, seed=seed))
    if name in ("lightgcn", "text-lightgcn"):
        from agentrec.models.lightgcn import LightGCN, LightGCNConfig

        feats = None
        if name == "text-lightgcn":
            feats = item_features.detach().cpu().numpy() if isinstance(item_features, torch.Tensor) else item_features
        cfg = config(
            LightGCNConfig,
            embedding_dim=embedding_dim,
            num_layers=3 if num_layers is None else num_layers,
            item_features=None if feats is None else np.asarray(feats, dtype=np.float32),
            seed=seed,
        )
        return LightGCN(graph, cfg)
    if name == "gat":
        from agentrec.models.gat import GAT, GATConfig

        return GAT(
            graph,
            config(
                GATConfig, embedding_dim=embedding_dim, num_layers=2 if num_layers is None else num_layers, seed=seed
            ),
        )
    if name in ("graph-filter", "text-graph-filter"):
        from agentrec.models.graphfilter import GraphFilter, GraphFilterConfig
        from agentrec.models.graphfilter_text import DEFAULT_TEXT_COLD_BOOST, DEFAULT_TEXT_WEIGHT

        text = {"text_weight": DEFAULT_TEXT_WEIGHT, "text_cold_boost": DEFAULT_TEXT_COLD_BOOST}
        cfg = config(GraphFilterConfig, seed=seed, **(text if name == "text-graph-filter" else {}))
        return GraphFilter(graph, cfg, item_features=item_features if cfg.text_weight > 0 else None)
    raise AssertionError(f"model {name!r} is registered but has no constructor")  # pragma: no cover


def load_model(path: str | Path, graph: BipartiteGraph | None = None) -> Recommender:
    """Load any agentrec model checkpoint, whichever model wrote it.

    Args:
        path: a checkpoint written by a model's ``save`` (or the trainer).
        graph: the training graph; when omitted, the graph stored in the checkpoint is rebuilt.

    Returns:
        The model, ready to score.

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        ValueError: when the file is not an agentrec checkpoint, holds an unknown model, or ``graph``
            belongs to a different dataset.
    """
    from agentrec.models.checkpoint import load_checkpoint

    payload = load_checkpoint(path)
    kind = payload.get("model")
    source = str(path)
    if kind == "lightgcn":
        from agentrec.models.lightgcn import LightGCN

        model: Recommender = LightGCN.from_payload(payload, graph, source=source)
    elif kind == "gat":
        from agentrec.models.gat import GAT

        model = GAT.from_payload(payload, graph, source=source)
    elif kind == "popularity":
        from agentrec.models.baselines import Popularity

        model = Popularity.load(path, graph)
    elif kind == "text-knn":
        from agentrec.models.baselines import TextKNN

        model = TextKNN.load(path, graph)
    elif kind == "graph-filter":
        from agentrec.models.graphfilter import GraphFilter

        model = GraphFilter.load(path, graph)
    elif kind == "mf-bpr":
        from agentrec.models.baselines import MFBPR

        model = MFBPR.load(path, graph)
    else:
        raise ValueError(f"checkpoint {source!r} holds an unknown model {kind!r}; known: {sorted(_kinds())}")
    if isinstance(model, torch.nn.Module):
        model.eval()
    return model


def _kinds() -> set[str]:
    return {s.checkpoint_kind for s in MODELS.values()}
