"""Item-to-item similarity for "something like X": what people who liked X also liked, specifically.

Raw co-like counts rank the blockbusters first for every seed (everyone liked Forrest Gump). The scorer
normalises them instead: an asymmetric cosine of two items' liker sets,
``co / (deg_seed ** (1 - alpha) * deg_item ** alpha)`` (``alpha = 0.5`` is the cosine, larger values damp
popular items harder, ``1`` is lift), times a significance factor ``co / (co + shrink)`` so that a single
shared user does not make an obscure item the best neighbour. It blends that with IDF-weighted genre / tag
overlap and text-embedding similarity to the seed. Titles play no part: no word of the seed's title is
ever matched.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from agentrec.types import Candidate, Catalog, Item

__all__ = ["SimilarItems", "SimilarityWeights", "rerank_by_similarity"]


@dataclass(frozen=True)
class SimilarityWeights:
    """How the similarity signals are blended (each signal is scaled to [0, 1] first).

    Attributes:
        co: normalised co-interaction (cosine of liker sets, significance-weighted).
        attributes: IDF-weighted Jaccard overlap of genres, tags and multi-valued attributes (categories).
        text: cosine of text embeddings (0 when the catalogue has none).
        quality: a small pull towards well-regarded items (the quality prior, when given).
        shrink: significance shrinkage of co-interaction counts (``co / (co + shrink)``).
        alpha: popularity damping of the candidate item in the asymmetric cosine (0.5: plain cosine).
    """

    co: float = 0.5
    attributes: float = 0.25
    text: float = 0.2
    quality: float = 0.05
    shrink: float = 5.0
    alpha: float = 0.8

    def __post_init__(self) -> None:
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"SimilarityWeights.alpha must be in [0, 1], got {self.alpha}")
        for name in ("co", "attributes", "text", "quality", "shrink"):
            if getattr(self, name) < 0:
                raise ValueError(f"SimilarityWeights.{name} must be >= 0, got {getattr(self, name)}")


@dataclass
class SimilarItems:
    """Scores every item by its similarity to a set of seed items.

    Args:
        x_csc: binary ``(num_users, num_items)`` training matrix, CSC (column slices are items' likers).
        catalog: the items (genres and tags feed the attribute overlap).
        text_embeddings: optional ``(num_items, d)`` text embeddings.
        quality: optional ``(num_items,)`` prior in [0, 1] (see :class:`agentrec.retrieve.quality.QualityPrior`).
        weights: the blend.
    """

    x_csc: sp.csc_matrix
    catalog: Catalog
    text_embeddings: np.ndarray | None = None
    quality: np.ndarray | None = None
    weights: SimilarityWeights = field(default_factory=SimilarityWeights)

    def __post_init__(self) -> None:
        n = len(self.catalog)
        if self.x_csc.shape[1] != n:
            raise ValueError(f"x_csc has {self.x_csc.shape[1]} item columns; the catalogue has {n} items")
        self.x_csc = sp.csc_matrix(self.x_csc, dtype=np.float32)
        self._x_csr = self.x_csc.tocsr()
        self.degree = np.diff(self.x_csc.indptr).astype(np.float64)
        if self.text_embeddings is not None:
            emb = np.asarray(self.text_embeddings, dtype=np.float32)
            if emb.shape[0] != n:
                raise ValueError(f"text_embeddings has {emb.shape[0]} rows; the catalogue has {n} items")
            self.text_embeddings = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
        # Attribute incidence matrix with IDF weights: a shared rare tag says more than a shared "Drama".
        vocab: dict[str, int] = {}
        rows, cols = [], []
        for i, it in enumerate(self.catalog.items):
            for a in _attributes(it):
                rows.append(i)
                cols.append(vocab.setdefault(a, len(vocab)))
        a = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n, max(len(vocab), 1)))
        df = np.asarray(a.sum(axis=0)).ravel()
        self._idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
        self._attrs = a.multiply(self._idf.reshape(1, -1)).tocsr().astype(np.float64)
        self._attr_mass = np.asarray(self._attrs.sum(axis=1)).ravel()

    def co_scores(self, seeds: Sequence[int]) -> np.ndarray:
        """``(num_items,)`` significance-weighted asymmetric liker-set cosine, averaged over the seeds."""
        out = np.zeros(len(self.catalog))
        for s in seeds:
            likers = self.x_csc.indices[self.x_csc.indptr[s] : self.x_csc.indptr[s + 1]]
            if not len(likers):
                continue
            co = np.asarray(self._x_csr[likers].sum(axis=0)).ravel().astype(np.float64)
            a = self.weights.alpha
            cos = co / (max(self.degree[s], 1.0) ** (1 - a) * np.maximum(self.degree, 1.0) ** a)
            out += cos * co / (co + self.weights.shrink)
        return out / max(len(seeds), 1)

    def attribute_scores(self, seeds: Sequence[int]) -> np.ndarray:
        """``(num_items,)`` IDF-weighted Jaccard of genres + tags with the seeds (mean over seeds)."""
        out = np.zeros(len(self.catalog))
        for s in seeds:
            inter = np.asarray(self._attrs @ (self._attrs[s] > 0).T.toarray()).ravel()  # shared mass per item
            union = self._attr_mass + self._attr_mass[s] - inter
            out += np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)
        return out / max(len(seeds), 1)

    def text_scores(self, seeds: Sequence[int]) -> np.ndarray:
        """``(num_items,)`` text-embedding cosine to the seeds' mean direction (zeros without embeddings)."""
        if self.text_embeddings is None:
            return np.zeros(len(self.catalog))
        centre = self.text_embeddings[np.asarray(seeds, dtype=np.int64)].mean(axis=0)
        norm = float(np.linalg.norm(centre))
        return np.zeros(len(self.catalog)) if norm == 0 else np.asarray(self.text_embeddings @ (centre / norm), float)

    def scores(self, seeds: Sequence[int]) -> np.ndarray:
        """``(num_items,)`` blended similarity to ``seeds``; the seeds themselves score ``-inf``.

        Each signal is divided by its maximum over the other items, so the weights compare like with like.

        Raises:
            ValueError: a seed that is not an item index.
        """
        seeds = [int(s) for s in seeds]
        n = len(self.catalog)
        bad = [s for s in seeds if not 0 <= s < n]
        if bad:
            raise ValueError(f"seeds: item indices {bad} do not exist; valid item indices are 0..{n - 1}")
        if not seeds:
            return np.zeros(n)
        w = self.weights
        parts: Mapping[str, tuple[float, np.ndarray]] = {
            "co": (w.co, self.co_scores(seeds)),
            "attributes": (w.attributes, self.attribute_scores(seeds)),
            "text": (w.text, np.clip(self.text_scores(seeds), 0.0, None)),
        }
        others = np.ones(n, dtype=bool)
        others[seeds] = False
        total = np.zeros(n)
        for weight, values in parts.values():
            top = float(values[others].max(initial=0.0))
            if weight > 0 and top > 0 and math.isfinite(top):
                total += weight * values / top
        if self.quality is not None and w.quality > 0:
            total += w.quality * self.quality
        total[seeds] = -np.inf
        return total


def _attributes(item: Item) -> set[str]:
    """Genres, tags and multi-valued categorical attributes (a product's category path) of an item."""
    out = {f"g:{g.lower()}" for g in item.genres} | {f"t:{t.lower()}" for t in item.tags}
    for key, raw in item.attributes.items():
        if isinstance(raw, tuple | list):
            out |= {f"a:{key}:{str(v).lower()}" for v in raw}
    return out


def rerank_by_similarity(candidates: Sequence[Candidate], similarity: np.ndarray, *, weight: float) -> list[Candidate]:
    """Candidates reordered by ``(1 - weight) * retrieval rank + weight * similarity``, both scaled to [0, 1].

    Args:
        candidates: retrieved candidates, best first.
        similarity: ``(num_items,)`` similarity to the seeds (e.g. :meth:`SimilarItems.scores`).
        weight: the similarity's share in [0, 1].
    """
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight must be in [0, 1], got {weight}")
    n = max(len(candidates), 1)
    sims = np.array([similarity[c.item_index] for c in candidates], dtype=np.float64)
    sims = np.where(np.isfinite(sims), sims, 0.0)
    top = float(sims.max(initial=0.0))
    scaled = sims / top if top > 0 else sims
    blend = [((1 - weight) * (1 - r / n) + weight * s, -r) for r, s in enumerate(scaled.tolist())]
    order = sorted(range(len(candidates)), key=lambda r: blend[r], reverse=True)
    return [candidates[r] for r in order]
