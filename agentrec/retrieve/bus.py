"""The candidate bus: run every applicable source, fuse them, and enforce hard constraints exactly."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from agentrec.retrieve.lexical import LexicalIndex
from agentrec.retrieve.quality import QualityPrior, descriptive_words, request_weights, tilt
from agentrec.retrieve.semantic import LocalSemanticIndex
from agentrec.retrieve.similar import SimilarItems
from agentrec.retrieve.sources import (
    SOURCES,
    Ranked,
    co_interaction_source,
    gnn_source,
    item2item_source,
    popularity_source,
    scored_source,
    semantic_source,
)
from agentrec.schema import CatalogSchema, FacetIndex
from agentrec.types import Candidate, Catalog, Interactions, Query

__all__ = ["DEFAULT_WEIGHTS", "RetrievalResult", "Retriever", "RetrieverConfig"]

logger = logging.getLogger(__name__)

# Tuned by grid search on 150 TUNE users of ml-latest-small (random split seed 0), disjoint from the
# benchmark's EVAL users (bench/retrieval.py --tune). Semantic carries the most weight so that a stated
# text intent matters; item2item (GNN embedding neighbours) did not add hits over gnn + co-interaction
# there, so it is off by default (give it a weight to turn it on). "quality" (the prior of
# agentrec.retrieve.quality) and "semantic" are rescaled per request by how descriptive it is; "similar" runs
# only for items the user named ("something like X").
DEFAULT_WEIGHTS: Mapping[str, float] = {
    "gnn": 1.0,
    "semantic": 2.0,
    "lexical": 1.0,
    "item2item": 0.0,
    "co_interaction": 1.0,
    "popularity": 0.1,
    "quality": 1.5,
    "similar": 2.0,
}
# A pure description's quality source ranks only among this many best text matches, and only among those that
# contain the request's words when at least LEXICAL_POOL of them do (see Retriever._quality_pool).
QUALITY_POOL = 50
LEXICAL_POOL = 10
SEMANTIC_KEEP = 5
# Semantic hits are re-ordered by cosine + SEMANTIC_TILT * quality prior: among items that match the words about
# equally, the well-regarded ones come first (bench/answer_quality.py, descriptive requests). Only when the
# "quality" source has a weight.
SEMANTIC_TILT = 0.1


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
    start"`` or ``"no item satisfies the filters: genre Western, year 2030-2040"``.
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
        schema: the catalogue's facets (what filters may name); derived from ``catalog`` when None.
        known: every interaction of the users, in the same index space (e.g. all parts of the split): a known
            user's items in it are never shown as new. None: ``train`` only (offline evaluation, where the
            held-out items are the targets).
        text_embeddings: optional ``(num_items, d)`` item text embeddings ("like X" text similarity).
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
        schema: CatalogSchema | None = None,
        known: Interactions | None = None,
        text_embeddings: np.ndarray | None = None,
    ) -> None:
        if len(catalog) != train.num_items:
            raise ValueError(
                f"catalog has {len(catalog)} items but train has {train.num_items}; they must share one index space"
            )
        self.catalog = catalog
        self.schema = schema if schema is not None else CatalogSchema.from_catalog(catalog)
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
        self._known = x if known is None else self._known_matrix(known)
        self.item_degree = np.asarray(x.sum(axis=0)).ravel().astype(np.int64)
        num_ratings = np.bincount(train.item_index, minlength=train.num_items).astype(np.int64)
        self.filter_index = FacetIndex.build(self.schema, catalog, num_ratings)
        self.quality = QualityPrior.from_interactions(train)
        self.similar = SimilarItems(self._x_csc, catalog, text_embeddings=text_embeddings, quality=self.quality.score)
        self._item_emb: np.ndarray | None = None
        if model is not None:
            try:
                emb = model.item_embeddings().detach().cpu().numpy().astype(np.float32)
            except NotImplementedError:
                emb = None
            if emb is not None:
                self._item_emb = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
        self.lexical = LexicalIndex(catalog) if self.config.weights.get("lexical", 0) > 0 else None
        self.semantic_index: LocalSemanticIndex | None = None
        if store is not None and in_memory_semantic:
            self.semantic_index = LocalSemanticIndex.for_store(store, len(catalog))

    def _known_matrix(self, known: Interactions) -> sp.csr_matrix:
        if known.user_ids != self.train.user_ids or known.item_ids != self.train.item_ids:
            raise ValueError("known interactions must share train's user and item ids (the same index space)")
        m = sp.csr_matrix(
            (np.ones(len(known), dtype=np.float32), (known.user_index, known.item_index)),
            shape=(self.train.num_users, self.train.num_items),
        )
        m.sum_duplicates()
        return m

    def known_items(self, user_index: int) -> np.ndarray:
        """Every item a known user has interacted with (``known``, else the training items): never shown as new."""
        ptr = self._known.indptr
        return self._known.indices[ptr[user_index] : ptr[user_index + 1]].astype(np.int64)

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
        self.schema.validate(query.filters)

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
        """Item indices that must never come back: seen, rejected, liked and everything the user interacted with."""
        parts = [np.asarray(query.seen, np.int64), np.asarray(query.rejected, np.int64)]
        parts.append(np.asarray(query.liked_items, np.int64))
        if user_index is not None:
            parts.append(self.known_items(user_index))
        return np.unique(np.concatenate(parts))

    # ------------------------------------------------------------------ retrieval
    def retrieve(self, query: Query) -> RetrievalResult:
        """Fused, filtered candidates for ``query``.

        Returns:
            A :class:`RetrievalResult` with at most ``query.k`` candidates, best first. Each candidate
            carries its fused ``score`` and, per source that ranked it, that source's score and 0-based rank.

        Raises:
            ValueError: ``k`` out of range, an unknown facet or value, or an item index that does not exist.
        """
        self._validate(query)
        notes: list[str] = []
        user_index = self._resolve_user(query, notes)
        conflicts = self.schema.conflicts(query.filters)
        if conflicts:
            notes.append("contradictory filters: " + "; ".join(conflicts))
            return RetrievalResult([], tuple(notes), cold_start=user_index is None and not query.liked_items)
        eligible = self.filter_index.mask(query.filters)
        if not eligible.any():
            notes.append(f"no item satisfies the filters: {self.schema.describe(query.filters)}")
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
        weights = request_weights(
            self.config.weights,
            query.text,
            query.filters,
            personal=user_index is not None,
            seeded=bool(query.liked_items),
        )
        ranked = self._run_sources(query, user_index, seeds, eligible, notes)
        candidates = self._fuse(ranked, query.k, weights)
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
                strength = SEMANTIC_TILT if w.get("quality", 0) > 0 else 0.0  # no prior configured: pure meaning
                out["semantic"] = tilt(self._semantic(query, eligible, depth), self.quality.score, strength)
        words = descriptive_words(query.text, query.filters)
        if w.get("lexical", 0) > 0 and self.lexical is not None and words:
            out["lexical"] = self.lexical.search(words, eligible, depth)
        if w.get("item2item", 0) > 0 and self._item_emb is not None:
            out["item2item"] = item2item_source(self._item_emb, seeds, eligible, depth)
        if w.get("co_interaction", 0) > 0:
            out["co_interaction"] = co_interaction_source(
                self._x, self._x_csc, seeds, self.item_degree, eligible, depth, alpha=self.config.co_alpha
            )
        if w.get("quality", 0) > 0:
            out["quality"] = scored_source(self.quality.score, self._quality_pool(query, out, eligible, seeds), depth)
        if w.get("similar", 0) > 0 and query.liked_items:
            out["similar"] = scored_source(self.similar.scores(query.liked_items), eligible, depth)
        if w.get("popularity", 0) > 0 or not any(v is not None and len(v[0]) for v in out.values()):
            # Popularity is the cold fallback: it always runs when nothing else produced a candidate.
            out["popularity"] = popularity_source(self.item_degree, eligible, depth)
        return {k: v for k, v in out.items() if v is not None and len(v[0])}

    def _quality_pool(
        self, query: Query, out: Mapping[str, Ranked | None], eligible: np.ndarray, seeds: np.ndarray
    ) -> np.ndarray:
        """Where the quality prior ranks: the eligible items, or only the best text matches of a description.

        A request that is only a description (no facet value, no seed, no history) makes items relevant
        through its words alone: well-regarded items elsewhere in the catalogue are not answers ("a gift for
        someone who brews beer" is not answered by a popular electrical tape), so the prior ranks among the
        semantic source's first ``QUALITY_POOL`` hits; of those, only among the ones that contain the request's
        words when at least ``LEXICAL_POOL`` do (a popular filament near "epoxy" in meaning is not an epoxy), plus
        the ``SEMANTIC_KEEP`` closest in meaning.
        """
        hits = out.get("semantic")
        if hits is None or not len(hits[0]) or len(seeds) or query.filters.include:
            return eligible
        pool = np.zeros_like(eligible)
        pool[hits[0][:QUALITY_POOL]] = True
        lexical = out.get("lexical")
        if lexical is not None:
            worded = np.zeros_like(eligible)
            worded[lexical[0]] = True
            if int((pool & worded).sum()) >= LEXICAL_POOL:
                pool &= worded
                pool[hits[0][:SEMANTIC_KEEP]] = True  # the closest meanings stay (synonyms: "eyewear")
        return pool & eligible

    def _semantic(self, query: Query, eligible: np.ndarray, depth: int) -> Ranked | None:
        index = self.semantic_index
        # The in-memory index serves only the store it was built for (a caller may swap ``self.store``).
        if index is not None and index.store is self.store:
            ranked = index.search(query.text, eligible, depth)
            if ranked is not None:
                return ranked
        return semantic_source(self.store, query.text, query.filters, eligible, depth)

    def _fuse(self, ranked: Mapping[str, Ranked], k: int, weights: Mapping[str, float]) -> list[Candidate]:
        fused: dict[int, float] = {}
        per_score: dict[int, dict[str, float]] = {}
        per_rank: dict[int, dict[str, int]] = {}
        for name, (idx, score) in ranked.items():
            weight = weights.get(name, 0.0) or 1e-6  # a forced fallback still orders items
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
        "in the user's history" (every interaction given as ``known``). Raises ``ValueError`` for an item index
        that does not exist.
        """
        self._check_item("item_index", item_index)
        i = int(item_index)
        out = self.filter_index.violations(query.filters, i)
        out += self.schema.conflicts(query.filters)
        if i in set(query.seen):
            out.append("already seen")
        if i in set(query.rejected):
            out.append("rejected by the user")
        if i in set(query.liked_items):
            out.append("stated as liked (already known)")
        if query.user_id is not None:
            u = self.train.user_id_to_index.get(str(query.user_id))
            if u is not None and i in set(self.known_items(u).tolist()):
                out.append("in the user's history")
        return out
