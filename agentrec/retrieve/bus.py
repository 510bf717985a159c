"""The candidate bus: run every applicable source, fuse them, and enforce hard constraints exactly."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from agentrec.retrieve.filters import FilterIndex, filter_conflicts, item_violations, validate_filters
from agentrec.retrieve.semantic import LocalSemanticIndex
from agentrec.retrieve.sources import (
    SOURCES,
    Ranked,
    co_interaction_source,
    gnn_source,
    item2item_source,
    popularity_source,
    semantic_source,
)
from agentrec.types import Candidate, Catalog, Interactions, Query

__all__ = ["DEFAULT_WEIGHTS", "RetrievalResult", "Retriever", "RetrieverConfig"]

logger = logging.getLogger(__name__)

# Tuned by grid search on 150 TUNE users of ml-latest-small (random split seed 0), disjoint from the
# benchmark's EVAL users (bench/retrieval.py --tune). Semantic carries the most weight so that a stated
# text intent matters; item2item (GNN embedding neighbours) did not add hits over gnn + co-interaction
# there, so it is off by default (give it a weight to turn it on).
DEFAULT_WEIGHTS: Mapping[str, float] = {
    "gnn": 1.0,
    "semantic": 2.0,
    "item2item": 0.0,
    "co_interaction": 1.0,
    "popularity": 0.1,
}


@dataclass(frozen=True)
class RetrieverConfig:
    """Settings of the candidate bus.

    Attributes:
        weights: per-source fusion weight (missing source = weight 0 = not run).
        fusion: ``"rrf"`` (reciprocal-rank fusion, ``sum_s w_s / (rrf_k + rank_s + 1)``) or ``"score"``
            (weighted sum of per-source min-max normalised scores).
        rrf_k: the RRF damping constant.
        depth: how many items each source contributes before fusion (at least ``k``).
        max_k: the largest ``Query.k`` accepted.
        co_alpha: co-interaction scores are divided by ``item_degree ** co_alpha`` (damps popular items).
    """

    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    fusion: Literal["rrf", "score"] = "rrf"
    rrf_k: float = 60.0
    depth: int = 200
    max_k: int = 200
    co_alpha: float = 0.5

    def __post_init__(self) -> None:
        unknown = sorted(set(self.weights) - set(SOURCES))
        if unknown:
            raise ValueError(f"RetrieverConfig.weights: unknown source(s) {unknown}; valid sources are {SOURCES}")
        if any(w < 0 for w in self.weights.values()):
            raise ValueError(f"RetrieverConfig.weights must be >= 0, got {dict(self.weights)}")
        if self.fusion not in ("rrf", "score"):
            raise ValueError(f"RetrieverConfig.fusion must be 'rrf' or 'score', got {self.fusion!r}")
        if self.rrf_k < 0 or self.depth < 1 or self.max_k < 1:
            raise ValueError("RetrieverConfig: rrf_k must be >= 0, depth and max_k >= 1")


@dataclass(frozen=True)
class RetrievalResult:
    """What the bus returns: fused candidates (best first), notes for the caller, and cold-start flag.

    ``notes`` explains fallbacks and empty results, e.g. ``"unknown user 'x': falling back to cold
    start"`` or ``"no item satisfies the filters: genre Western AND year 2030-2040"``.
    """

    candidates: list[Candidate]
    notes: tuple[str, ...] = ()
    cold_start: bool = False


class Retriever:
    """Fuses personalised, semantic, item-to-item, co-interaction and popularity candidates.

    Args:
        catalog: the items, in item-index order (same index space as ``train``).
        train: training interactions: the graph, the users' histories and the rating counts.
        model: a trained :class:`~agentrec.models.base.Recommender` (enables "gnn" and "item2item").
        history_model: a model with ``score_history(items)``, e.g. a training-free
            :class:`~agentrec.models.graphfilter.GraphFilter`: the "gnn" source for users known only by their
            liked items (and for every user when ``model`` is None).
        store: a vector store with ``search(text, k[, filters]) -> list[SearchHit]`` (enables "semantic").
            An embedded (local) :class:`agentrec.text.VectorStore` is searched exactly in memory over its own
            vectors, re-read after every write to the store (see :mod:`agentrec.retrieve.semantic`).
        config: fusion settings.
        in_memory_semantic: search a local store in memory (False: always query the store).
    """

    def __init__(
        self,
        catalog: Catalog,
        train: Interactions,
        *,
        model: Any | None = None,
        history_model: Any | None = None,
        store: Any | None = None,
        config: RetrieverConfig | None = None,
        in_memory_semantic: bool = True,
    ) -> None:
        if len(catalog) != train.num_items:
            raise ValueError(
                f"catalog has {len(catalog)} items but train has {train.num_items}; they must share one index space"
            )
        self.catalog = catalog
        self.train = train
        self.model = model
        self.history_model = history_model
        self.store = store
        self.config = config or RetrieverConfig()
        x = sp.csr_matrix(
            (np.ones(len(train), dtype=np.float32), (train.user_index, train.item_index)),
            shape=(train.num_users, train.num_items),
        )
        x.sum_duplicates()
        x.data[:] = 1.0
        self._x = x
        self._x_csc = x.tocsc()
        self.item_degree = np.asarray(x.sum(axis=0)).ravel().astype(np.int64)
        num_ratings = np.bincount(train.item_index, minlength=train.num_items).astype(np.int64)
        self.filter_index = FilterIndex.build(catalog, num_ratings)
        self._item_emb: np.ndarray | None = None
        if model is not None:
            try:
                emb = model.item_embeddings().detach().cpu().numpy().astype(np.float32)
            except NotImplementedError:
                emb = None
            if emb is not None:
                self._item_emb = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
        self.semantic_index: LocalSemanticIndex | None = None
        if store is not None and in_memory_semantic:
            self.semantic_index = LocalSemanticIndex.for_store(store, len(catalog))

    @property
    def num_items(self) -> int:
        """Catalogue size."""
        return len(self.catalog)

    def history(self, user_index: int) -> np.ndarray:
        """The training items of a known user (item indices)."""
        ptr = self._x.indptr
        return self._x.indices[ptr[user_index] : ptr[user_index + 1]].astype(np.int64)

    # ------------------------------------------------------------------ validation
    def _check_item(self, name: str, i: int) -> None:
        if not isinstance(i, int | np.integer) or not 0 <= int(i) < self.num_items:
            raise ValueError(f"{name}: item index {i!r} does not exist; valid item indices are 0..{self.num_items - 1}")

    def _validate(self, query: Query) -> None:
        k = query.k
        # k above the catalogue size is fine (fewer come back); only nonsense values are errors.
        top = self.config.max_k
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= top:
            raise ValueError(f"query.k must be an integer in [1, {top}], got {k!r}")
        for name in ("liked_items", "seen", "rejected"):
            for i in getattr(query, name):
                self._check_item(f"query.{name}", i)
        validate_filters(query.filters, self.catalog)

    def _resolve_user(self, query: Query, notes: list[str]) -> int | None:
        if query.user_id is None:
            return None
        u = self.train.user_id_to_index.get(str(query.user_id))
        if u is None or not len(self.history(u)):
            what = "unknown user" if u is None else "user without training history"
            fallback = "using the stated liked items" if query.liked_items else "falling back to cold start"
            notes.append(f"{what} {query.user_id!r}: {fallback}")
            return None
        return u

    def excluded(self, query: Query, user_index: int | None = None) -> np.ndarray:
        """Item indices that must never come back: seen, rejected, liked and the user's train items."""
        parts = [np.asarray(query.seen, np.int64), np.asarray(query.rejected, np.int64)]
        parts.append(np.asarray(query.liked_items, np.int64))
        if user_index is not None:
            parts.append(self.history(user_index))
        return np.unique(np.concatenate(parts))

    # ------------------------------------------------------------------ retrieval
    def retrieve(self, query: Query) -> RetrievalResult:
        """Fused, filtered candidates for ``query``.

        Returns:
            A :class:`RetrievalResult` with at most ``query.k`` candidates, best first. Each candidate
            carries its fused ``score`` and, per source that ranked it, that source's score and 0-based rank.

        Raises:
            ValueError: ``k`` out of range, an unknown genre, or an item index that does not exist.
        """
        self._validate(query)
        notes: list[str] = []
        user_index = self._resolve_user(query, notes)
        conflicts = filter_conflicts(query.filters)
        if conflicts:
            notes.append("contradictory filters: " + "; ".join(conflicts))
            return RetrievalResult([], tuple(notes), cold_start=user_index is None and not query.liked_items)
        eligible = self.filter_index.mask(query.filters)
        if not eligible.any():
            notes.append(f"no item satisfies the filters: {self.filter_index.describe(query.filters)}")
            return RetrievalResult([], tuple(notes), cold_start=user_index is None and not query.liked_items)
        eligible[self.excluded(query, user_index)] = False
        if not eligible.any():
            notes.append("every item that satisfies the filters is already seen, rejected or in the user's history")
            return RetrievalResult([], tuple(notes), cold_start=user_index is None and not query.liked_items)
        seeds = np.unique(
            np.concatenate(
                [np.asarray(query.liked_items, np.int64)]
                + ([self.history(user_index)] if user_index is not None else [])
            )
        )
        cold = not len(seeds)
        ranked = self._run_sources(query, user_index, seeds, eligible, notes)
        candidates = self._fuse(ranked, query.k)
        if not candidates:
            notes.append("no source returned a candidate")
        return RetrievalResult(candidates, tuple(notes), cold_start=cold)

    def candidates(self, query: Query) -> list[Candidate]:
        """Same as ``retrieve(query).candidates``."""
        return self.retrieve(query).candidates

    def _run_sources(
        self, query: Query, user_index: int | None, seeds: np.ndarray, eligible: np.ndarray, notes: list[str]
    ) -> dict[str, Ranked]:
        w = self.config.weights
        depth = max(self.config.depth, query.k)
        out: dict[str, Ranked | None] = {}
        if w.get("gnn", 0) > 0 and (self.model is not None or self.history_model is not None):
            out["gnn"] = gnn_source(self.model, user_index, query.liked_items, eligible, depth, self.history_model)
        if w.get("semantic", 0) > 0 and query.text.strip():
            if self.store is None:
                notes.append("no vector store: the text request was not used for semantic search")
            else:
                out["semantic"] = self._semantic(query, eligible, depth)
        if w.get("item2item", 0) > 0 and self._item_emb is not None:
            out["item2item"] = item2item_source(self._item_emb, seeds, eligible, depth)
        if w.get("co_interaction", 0) > 0:
            out["co_interaction"] = co_interaction_source(
                self._x, self._x_csc, seeds, self.item_degree, eligible, depth, alpha=self.config.co_alpha
            )
        if w.get("popularity", 0) > 0 or not any(v is not None and len(v[0]) for v in out.values()):
            # Popularity is the cold fallback: it always runs when nothing else produced a candidate.
            out["popularity"] = popularity_source(self.item_degree, eligible, depth)
        return {k: v for k, v in out.items() if v is not None and len(v[0])}

    def _semantic(self, query: Query, eligible: np.ndarray, depth: int) -> Ranked | None:
        index = self.semantic_index
        # The in-memory index serves only the store it was built for (a caller may swap ``self.store``).
        if index is not None and index.store is self.store:
            ranked = index.search(query.text, eligible, depth)
            if ranked is not None:
                return ranked
        return semantic_source(self.store, query.text, query.filters, eligible, depth)

    def _fuse(self, ranked: Mapping[str, Ranked], k: int) -> list[Candidate]:
        fused: dict[int, float] = {}
        per_score: dict[int, dict[str, float]] = {}
        per_rank: dict[int, dict[str, int]] = {}
        for name, (idx, score) in ranked.items():
            weight = self.config.weights.get(name, 0.0) or 1e-6  # a forced fallback still orders items
            if self.config.fusion == "rrf":
                contrib = weight / (self.config.rrf_k + np.arange(len(idx)) + 1.0)
            else:
                lo, hi = float(score.min()), float(score.max())
                contrib = weight * ((score - lo) / (hi - lo) if hi > lo else np.ones_like(score))
            for rank, (i, s, c) in enumerate(zip(idx.tolist(), score.tolist(), contrib.tolist(), strict=True)):
                fused[i] = fused.get(i, 0.0) + c
                per_score.setdefault(i, {})[name] = s
                per_rank.setdefault(i, {})[name] = rank
        order = sorted(fused, key=lambda i: (-fused[i], i))[:k]
        return [
            Candidate(
                item_index=i,
                item_id=self.catalog[i].item_id,
                title=self.catalog[i].display_title,
                score=fused[i],
                sources=per_score[i],
                source_ranks=per_rank[i],
            )
            for i in order
        ]

    def check(self, item_index: int, query: Query) -> list[str]:
        """Constraints of ``query`` that ``item_index`` violates (empty when it may be recommended).

        Covers the hard filters plus "already seen", "rejected", "stated as liked" and, for a known user,
        "in the user's training history". Raises ``ValueError`` for an item index that does not exist.
        """
        self._check_item("item_index", item_index)
        i = int(item_index)
        out = item_violations(
            query.filters,
            self.catalog[i],
            num_ratings=int(self.filter_index.num_ratings[i]),
            item_index=i,
        )
        out += filter_conflicts(query.filters)
        if i in set(query.seen):
            out.append("already seen")
        if i in set(query.rejected):
            out.append("rejected by the user")
        if i in set(query.liked_items):
            out.append("stated as liked (already known)")
        if query.user_id is not None:
            u = self.train.user_id_to_index.get(str(query.user_id))
            if u is not None and i in set(self.history(u).tolist()):
                out.append("in the user's history")
        return out
