"""Exact filtered search over an in-memory copy of a store's vectors and metadata.

Chroma evaluates a metadata ``where`` clause through its SQLite metadata segment on every query (tens of
milliseconds at ~10k items), then searches the survivors. For catalogues of this size a NumPy mask plus one
matrix-vector product answers the same question exactly in about a millisecond. The copy is tagged with
the collection's write revision (``rev`` in the collection metadata, bumped by every
:class:`~agentrec.text.store.VectorStore` write, in any process or through a server), so a copy older
than the collection is reloaded before it is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agentrec.filters_types import mentions_word
from agentrec.schema import CatalogSchema, flag_key
from agentrec.types import Filters, Range

__all__ = ["ExactIndex"]

_PAGE = 5000


@dataclass(frozen=True)
class ExactIndex:
    """Vectors and filterable fields of every item in a collection, at one write revision."""

    rev: int
    ids: tuple[str, ...]
    vectors: np.ndarray  # (n, dim) float32, unit rows
    metadatas: tuple[Mapping[str, Any], ...]
    documents: tuple[str, ...]
    popularity: np.ndarray  # (n,) float64, NaN where unknown
    item_index: np.ndarray  # (n,) int64
    flags: Mapping[str, np.ndarray]  # "<facet>=<value>" -> (n,) bool
    _numbers: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _words: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, collection: Any, rev: int) -> ExactIndex:
        """Read every item of a Chroma collection (vectors and metadata), page by page."""
        ids: list[str] = []
        vecs: list[np.ndarray] = []
        metas: list[Mapping[str, Any]] = []
        docs: list[str] = []
        offset = 0
        while True:
            page = collection.get(include=["embeddings", "metadatas", "documents"], limit=_PAGE, offset=offset)
            got = list(page["ids"])
            if not got:
                break
            ids.extend(got)
            vecs.append(np.asarray(page["embeddings"], dtype=np.float32).reshape(len(got), -1))
            metas.extend(dict(m or {}) for m in page["metadatas"] or [{}] * len(got))
            docs.extend(str(d or "") for d in page.get("documents") or [""] * len(got))
            offset += len(got)
            if len(got) < _PAGE:
                break
        vectors = np.concatenate(vecs) if vecs else np.zeros((0, 0), dtype=np.float32)
        flags: dict[str, np.ndarray] = {}
        for n, meta in enumerate(metas):
            for key, value in meta.items():
                if value is True and "=" in key:
                    flags.setdefault(key, np.zeros(len(metas), dtype=bool))[n] = True
        return cls(
            rev=rev,
            ids=tuple(ids),
            vectors=vectors,
            metadatas=tuple(metas),
            documents=tuple(docs),
            popularity=_numeric(metas, "popularity"),
            item_index=np.array([int(m.get("item_index", -1)) for m in metas], dtype=np.int64),
            flags=flags,
        )

    def __len__(self) -> int:
        return len(self.ids)

    def _flag(self, facet: str, value: str) -> np.ndarray:
        flag = self.flags.get(flag_key(facet, value))
        return flag if flag is not None else np.zeros(len(self), dtype=bool)

    def _in(self, facet: str, r: Range) -> np.ndarray:
        col = self._numbers.get(facet)
        if col is None:
            col = self._numbers[facet] = _numeric(self.metadatas, facet)
        inside = ~np.isnan(col)  # items without a value are in no range
        with np.errstate(invalid="ignore"):
            if r.low is not None:
                inside &= col >= r.low
            if r.high is not None:
                inside &= col <= r.high
        return inside

    def _mentions(self, word: str) -> np.ndarray:
        """Items whose stored text mentions ``word`` (the rule of :func:`agentrec.filters_types.mentions_word`)."""
        hit = self._words.get(word)
        if hit is None:
            hit = self._words[word] = np.array([mentions_word(d, word) for d in self.documents], dtype=bool)
        return hit

    def mask(self, filters: Filters, schema: CatalogSchema) -> np.ndarray:
        """Items passing ``filters``; the same semantics as :func:`agentrec.text.filters.where_clause` in Chroma.

        Raises:
            ValueError: for filters ``schema`` rejects (naming the valid choices).
        """
        schema.validate(filters)
        keep = np.ones(len(self), dtype=bool)
        for facet, values in filters.include.items():
            include = [self._flag(facet, v) for v in values]
            any_of = schema.match_mode(filters, facet) == "any"
            keep &= np.logical_or.reduce(include) if any_of else np.logical_and.reduce(include)
        for facet, values in filters.exclude.items():
            for v in values:
                keep &= ~self._flag(facet, v)
        for facet, ranges in filters.ranges.items():
            keep &= np.logical_or.reduce([self._in(facet, r) for r in ranges])
        for facet, ranges in filters.exclude_ranges.items():
            for r in ranges:
                keep &= ~self._in(facet, r)
        if filters.min_ratings:
            with np.errstate(invalid="ignore"):
                keep &= self.popularity >= int(filters.min_ratings)
        if filters.exclude_items:
            keep &= ~np.isin(self.item_index, np.asarray(filters.exclude_items, dtype=np.int64))
        for word in filters.exclude_words:
            keep &= ~self._mentions(word)
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


def _numeric(metas: tuple[Mapping[str, Any], ...] | list[Mapping[str, Any]], key: str) -> np.ndarray:
    """``(n,)`` float64 of one numeric metadata field, NaN where absent."""
    return np.array([float(m[key]) if m.get(key) is not None else np.nan for m in metas], dtype=np.float64)
