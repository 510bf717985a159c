"""Candidate sources: each ranks the eligible items and returns ``(item_index, score)``, best first.

Every source receives ``eligible`` (``(num_items,)`` bool after hard filters, seen and rejected items),
so ranks are positions among items that may actually be recommended.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from agentrec.types import Filters

__all__ = [
    "SOURCES",
    "co_interaction_source",
    "gnn_source",
    "item2item_source",
    "popularity_source",
    "scored_source",
    "semantic_source",
    "top_eligible",
]

logger = logging.getLogger(__name__)

SOURCES = ("gnn", "semantic", "lexical", "item2item", "co_interaction", "popularity", "quality", "similar")

Ranked = tuple[np.ndarray, np.ndarray]  # (item_index int64 (n,), score float64 (n,)), best first


def top_eligible(scores: np.ndarray, eligible: np.ndarray, depth: int) -> Ranked:
    """The ``depth`` best eligible items of a dense ``(num_items,)`` score vector (ties: lower index)."""
    idx = np.flatnonzero(eligible & np.isfinite(scores))
    if not len(idx):
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    s = scores[idx]
    if len(idx) > depth:
        part = np.argpartition(-s, depth - 1)[:depth]
        idx, s = idx[part], s[part]
    order = np.lexsort((idx, -s))
    return idx[order].astype(np.int64), s[order].astype(np.float64)


def gnn_source(
    model: Any | None,
    user_index: int | None,
    liked: Sequence[int],
    eligible: np.ndarray,
    depth: int,
    history_model: Any | None = None,
) -> Ranked | None:
    """Personalised model scores: ``model.score`` for a known user, else scores computed from liked items.

    For liked items alone (a chat user without a trained embedding) the order of preference is
    ``history_model.score_history`` (a training-free graph filter), ``model.score_history``, then the mean
    embedding of the liked items (``model.user_from_items``). ``history_model`` also scores known users when
    there is no ``model``.

    Returns None when the source does not apply (no user and no liked items, or no model that can score them).
    """
    import torch

    with torch.no_grad():
        scorer = model if model is not None else history_model
        if user_index is not None and scorer is not None:
            scores = scorer.score(np.array([user_index], dtype=np.int64))[0]
        elif len(liked) and history_model is not None:
            scores = history_model.score_history(list(liked))
        elif len(liked) and model is not None and hasattr(model, "score_history"):
            scores = model.score_history(list(liked))
        elif len(liked) and model is not None and hasattr(model, "user_from_items"):
            user_emb = model.user_from_items(list(liked))
            user_emb = torch.as_tensor(user_emb).reshape(-1)
            scores = model.item_embeddings() @ user_emb
        else:
            return None
    return top_eligible(np.asarray(torch.as_tensor(scores).float().numpy(), dtype=np.float64), eligible, depth)


def item2item_source(
    normed_item_emb: np.ndarray, seeds: Sequence[int] | np.ndarray, eligible: np.ndarray, depth: int
) -> Ranked | None:
    """Embedding neighbours of the seed items: cosine similarity to the seeds' mean direction.

    Args:
        normed_item_emb: ``(num_items, embedding_dim)`` L2-normalised item embeddings.
        seeds: the user's training items or stated liked items.
        eligible: ``(num_items,)`` bool mask.
        depth: how many to return.
    """
    if not len(seeds):
        return None
    centre = normed_item_emb[np.asarray(seeds, dtype=np.int64)].mean(axis=0)
    norm = float(np.linalg.norm(centre))
    if norm == 0.0:
        return None
    return top_eligible(normed_item_emb @ (centre / norm), eligible, depth)


def co_interaction_source(
    x_csr: sp.csr_matrix,
    x_csc: sp.csc_matrix,
    seeds: Sequence[int] | np.ndarray,
    item_degree: np.ndarray,
    eligible: np.ndarray,
    depth: int,
    *,
    alpha: float,
) -> Ranked | None:
    """Items co-liked with the seeds: ``X.T @ X[:, seeds] 1`` divided by ``degree ** alpha``.

    ``x_csr`` / ``x_csc`` are the binary ``(num_users, num_items)`` training matrix in both layouts (column
    slices of the seeds, row slices of their likers); ``alpha`` damps popular items (0 = raw co-like counts).
    """
    if not len(seeds):
        return None
    # Users who liked any seed, weighted by how many seeds they liked; only those rows are touched.
    w = np.asarray(x_csc[:, np.asarray(seeds, dtype=np.int64)].sum(axis=1)).ravel()
    users = np.flatnonzero(w)
    if not len(users):
        return None
    counts = np.asarray(x_csr[users].T @ w[users]).ravel().astype(np.float64)
    scores = np.where(counts > 0, counts / np.maximum(item_degree, 1) ** alpha, -np.inf)
    return top_eligible(scores, eligible, depth)


def scored_source(scores: np.ndarray, eligible: np.ndarray, depth: int) -> Ranked | None:
    """The best eligible items of a dense score vector (the quality prior, "like X" similarity)."""
    ranked = top_eligible(scores, eligible, depth)
    return ranked if len(ranked[0]) else None


def popularity_source(item_degree: np.ndarray, eligible: np.ndarray, depth: int) -> Ranked:
    """Most-interacted items in training (the cold-start fallback)."""
    return top_eligible(item_degree.astype(np.float64), eligible, depth)


def _accepts(store: Any, name: str) -> bool:
    try:
        return name in inspect.signature(store.search).parameters
    except (TypeError, ValueError):
        return False


def semantic_source(store: Any, text: str, filters: Filters, eligible: np.ndarray, depth: int) -> Ranked | None:
    """Vector-store hits for the query text, restricted to eligible items.

    The eligible items (the catalogue-wide mask of every hard filter) are passed to the store when its
    ``search`` accepts them, else the filters are, so a narrow filter still yields ``depth`` hits; the mask is
    re-applied here either way.
    """
    if not text.strip():
        return None
    if _accepts(store, "allowed") and not eligible.all():
        hits = store.search(text, k=depth, allowed=np.flatnonzero(eligible))
    elif not filters.is_empty() and _accepts(store, "filters"):
        hits = store.search(text, k=depth, filters=filters)
    else:
        hits = store.search(text, k=depth)
    idx = np.array([h.item_index for h in hits], dtype=np.int64)
    score = np.array([h.score for h in hits], dtype=np.float64)
    if len(idx):
        keep = eligible[idx]
        idx, score = idx[keep], score[keep]
        # Stores may return duplicates (one hit per text chunk): keep each item's first (best) hit.
        _, first = np.unique(idx, return_index=True)
        first.sort()
        idx, score = idx[first], score[first]
    return idx, score
