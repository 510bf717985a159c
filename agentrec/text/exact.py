"""Exact filtered search over an in-memory copy of a store's vectors and metadata.

Chroma evaluates a metadata ``where`` clause through its SQLite metadata segment on every query (tens of
milliseconds at ~10k items), then searches the survivors. For catalogues of this size a NumPy mask plus one
matrix-vector product answers the same question exactly in about a millisecond. The copy is tagged with
the collection's write revision (``rev`` in the collection metadata, bumped by every
:class:`~agentrec.text.store.VectorStore` write, in any process or through a server), so a copy older
than the collection is reloaded before it is used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from agentrec.text.filters import SearchFilters, genre_field

__all__ = ["ExactIndex"]

_PAGE = 5000


@dataclass(frozen=True)
class ExactIndex:
    """Vectors and filterable fields of every item in a collection, at one write revision."""

    rev: int
    ids: tuple[str, ...]
    vectors: np.ndarray  # (n, dim) float32, unit rows
    metadatas: tuple[Mapping[str, Any], ...]
    year: np.ndarray  # (n,) float64, NaN where unknown
    popularity: np.ndarray  # (n,) float64, NaN where unknown
    item_index: np.ndarray  # (n,) int64
    genre_flags: Mapping[str, np.ndarray]  # genre field -> (n,) bool

    @classmethod
    def load(cls, collection: Any, rev: int) -> ExactIndex:
        """Read every item of a Chroma collection (vectors and metadata), page by page."""
        ids: list[str] = []
        vecs: list[np.ndarray] = []
        metas: list[Mapping[str, Any]] = []
        offset = 0
        while True:
            page = collection.get(include=["embeddings", "metadatas"], limit=_PAGE, offset=offset)
            got = list(page["ids"])
            if not got:
                break
            ids.extend(got)
            vecs.append(np.asarray(page["embeddings"], dtype=np.float32).reshape(len(got), -1))
            metas.extend(dict(m or {}) for m in page["metadatas"] or [{}] * len(got))
            offset += len(got)
            if len(got) < _PAGE:
                break
        vectors = np.concatenate(vecs) if vecs else np.zeros((0, 0), dtype=np.float32)
        fields: dict[str, np.ndarray] = {}
        for n, meta in enumerate(metas):
            for key, value in meta.items():
                if key.startswith("g_") and value is True:
                    fields.setdefault(key, np.zeros(len(metas), dtype=bool))[n] = True

        def numeric(key: str) -> np.ndarray:
            return np.array([float(m[key]) if m.get(key) is not None else np.nan for m in metas], dtype=np.float64)

        return cls(
            rev=rev,
            ids=tuple(ids),
            vectors=vectors,
            metadatas=tuple(metas),
            year=numeric("year"),
            popularity=numeric("popularity"),
            item_index=np.array([int(m.get("item_index", -1)) for m in metas], dtype=np.int64),
            genre_flags=fields,
        )

    def __len__(self) -> int:
        return len(self.ids)

    def _flag(self, genre: str) -> np.ndarray:
        flag = self.genre_flags.get(genre_field(genre))
        return flag if flag is not None else np.zeros(len(self), dtype=bool)

    def mask(self, filters: SearchFilters, valid_genres: Sequence[str]) -> np.ndarray:
        """Items passing ``filters``; the same semantics as :meth:`SearchFilters.to_where` in Chroma.

        Raises:
            ValueError: for a genre not in ``valid_genres`` (listing them).
        """
        filters.to_where(valid_genres)  # validates genres with the same error as the Chroma path
        canonical = {g.lower(): g for g in valid_genres}
        keep = np.ones(len(self), dtype=bool)
        include = [self._flag(canonical[g.strip().lower()]) for g in filters.include_genres]
        if include:
            if filters.genre_match == "any":
                keep &= np.logical_or.reduce(include)
            else:
                keep &= np.logical_and.reduce(include)
        for genre in filters.exclude_genres:
            keep &= ~self._flag(canonical[genre.strip().lower()])
        # A comparison with NaN is False: items without a year fail a year bound, as in Chroma.
        with np.errstate(invalid="ignore"):
            if filters.year_from is not None:
                keep &= self.year >= int(filters.year_from)
            if filters.year_to is not None:
                keep &= self.year <= int(filters.year_to)
            if filters.min_popularity:
                keep &= self.popularity >= int(filters.min_popularity)
        if filters.exclude_items:
            keep &= ~np.isin(self.item_index, np.asarray(filters.exclude_items, dtype=np.int64))
        return keep

    def top_k(self, vector: np.ndarray, k: int, keep: np.ndarray) -> list[tuple[str, Mapping[str, Any], float]]:
        """The ``k`` items of ``keep`` closest to ``vector`` by cosine, as ``(id, metadata, cosine)``, best first."""
        rows = np.flatnonzero(keep)
        if not len(rows) or not k:
            return []
        # One product over all rows is cheaper than gathering the kept rows (a copy of the matrix) first.
        scores = (self.vectors @ np.asarray(vector, dtype=np.float32))[rows]
        if len(rows) > k:
            part = np.argpartition(-scores, k - 1)[:k]
        else:
            part = np.arange(len(rows))
        order = part[np.lexsort((rows[part], -scores[part]))]
        return [(self.ids[rows[j]], self.metadatas[rows[j]], float(scores[j])) for j in order]
