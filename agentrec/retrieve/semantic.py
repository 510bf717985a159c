"""Exact in-memory semantic search over an embedded (local) vector store's own vectors.

A query to the embedded Chroma store costs tens of milliseconds (more with metadata filters), while the
catalogue's vectors fit in memory many times over (ml-latest-small: 9,742 x 384 float32 = 15 MB). This
index reads the store's vectors once, answers a query with one matrix-vector product restricted to the
retriever's eligible mask (so hard filters, seen and rejected items are applied exactly, before the top-k),
and re-reads the vectors whenever the store has been written to since (upsert, delete, rebuild).

Change detection reads the write-ahead log sequence numbers that the embedded Chroma keeps in its SQLite
file (``chroma.sqlite3``: ``embeddings_queue``, ``max_seq_id``), read-only. Every write advances them. If
they cannot be read (a Chroma server, a different Chroma layout, a store without a local path) the index
declines and the retriever queries the store as before, so results never go stale silently.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from agentrec.retrieve.sources import Ranked, top_eligible

__all__ = ["LocalSemanticIndex"]

logger = logging.getLogger(__name__)

_DB_FILE = "chroma.sqlite3"
_QUERY_CACHE = 256  # query vectors kept: a turn often searches the same text more than once
_VERSION_SQL = (
    "SELECT (SELECT MAX(seq_id) FROM embeddings_queue), (SELECT COUNT(*) FROM embeddings_queue), "
    "(SELECT group_concat(segment_id || ':' || seq_id) FROM max_seq_id)"
)


class LocalSemanticIndex:
    """Cosine search over the vectors of an embedded :class:`agentrec.text.VectorStore`, held in memory.

    Build one with :meth:`for_store` (None when the store is not an embedded Chroma store whose changes can
    be detected). Thread-safe: queries read an immutable snapshot; a reload happens under a lock.

    Args:
        store: the vector store (``collection``, ``encoder`` and ``location`` are used).
        num_items: catalogue size; vectors are placed by their ``item_index`` metadata.
        db_path: the store's ``chroma.sqlite3``.
    """

    def __init__(self, store: Any, num_items: int, db_path: Path) -> None:
        self.store = store
        self.num_items = num_items
        self.db_path = db_path
        self._db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, check_same_thread=False, timeout=10.0)
        self._db_lock = threading.Lock()
        self._load_lock = threading.Lock()
        # (version, (num_items, dim) unit-norm vectors, (num_items,) bool: the item is in the store)
        self._snapshot: tuple[Any, np.ndarray, np.ndarray] | None = None
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._queries_lock = threading.Lock()
        self.reloads = 0

    @classmethod
    def for_store(cls, store: Any, num_items: int) -> LocalSemanticIndex | None:
        """An index over ``store`` when it is an embedded Chroma store, else None (query the store instead)."""
        location = getattr(store, "location", None)
        if location is None or not hasattr(store, "collection") or not hasattr(store, "encoder"):
            return None
        db_path = Path(str(location)) / _DB_FILE
        if not db_path.is_file():  # a Chroma server (location is its URL) or an unknown layout
            return None
        try:
            index = cls(store, num_items, db_path)
            if index.version() is None:
                return None
        except sqlite3.Error as exc:
            logger.info("in-memory semantic search off for %s (%s): querying the store", location, exc)
            return None
        return index

    def version(self) -> Any | None:
        """A value that changes whenever the store is written to; None when it cannot be read."""
        try:
            with self._db_lock:
                return self._db.execute(_VERSION_SQL).fetchone()
        except sqlite3.Error as exc:
            logger.warning("cannot read the vector store's change log (%s): querying the store instead", exc)
            return None

    def _load(self, version: Any) -> tuple[Any, np.ndarray, np.ndarray]:
        got = self.store.collection.get(include=["embeddings", "metadatas"])
        embeddings = got["embeddings"]
        dim = int(getattr(self.store.encoder, "dim", 0) or (len(embeddings[0]) if len(embeddings) else 1))
        matrix = np.zeros((self.num_items, dim), dtype=np.float32)
        present = np.zeros(self.num_items, dtype=bool)
        for meta, emb in zip(got["metadatas"] or [], embeddings if embeddings is not None else [], strict=True):
            i = int((meta or {}).get("item_index", -1))
            if 0 <= i < self.num_items:
                matrix[i] = np.asarray(emb, dtype=np.float32)
                present[i] = True
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        self.reloads += 1
        logger.debug("semantic index: %d vectors loaded from %s", int(present.sum()), self.store.location)
        return version, matrix, present

    def vectors(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The store's current vectors, re-read when it was written to since the last call.

        Returns:
            ``((num_items, dim) unit-norm vectors, (num_items,) bool in-store mask)``, or None when the
            store's changes cannot be read (query the store instead).
        """
        version = self.version()
        if version is None:
            return None
        snap = self._snapshot
        if snap is None or snap[0] != version:
            with self._load_lock:
                snap = self._snapshot
                if snap is None or snap[0] != version:
                    # The version is read before the vectors: a write in between only causes one more reload.
                    snap = self._snapshot = self._load(version)
        return snap[1], snap[2]

    def search(self, text: str, eligible: np.ndarray, depth: int) -> Ranked | None:
        """The ``depth`` eligible items closest to ``text`` by cosine similarity, best first.

        Returns None when the store's changes cannot be read (the caller then queries the store).
        """
        current = self.vectors()
        if current is None:
            return None
        matrix, present = current
        query = self.encode(text)
        if query.shape[0] != matrix.shape[1]:
            raise ValueError(
                f"the encoder gives {query.shape[0]}-dimensional vectors but the store holds {matrix.shape[1]}"
            )
        scores = (matrix @ query).astype(np.float64)
        return top_eligible(scores, eligible & present, depth)

    def encode(self, text: str) -> np.ndarray:
        """The unit-norm ``(dim,)`` query vector of ``text`` (the last few are kept in memory)."""
        with self._queries_lock:
            vec = self._queries.get(text)
            if vec is not None:
                self._queries.move_to_end(text)
                return vec
        vec = np.asarray(self.store.encoder.encode([text], use_cache=False)[0], dtype=np.float32).reshape(-1)
        vec = vec / max(float(np.linalg.norm(vec)), 1e-12)
        vec.setflags(write=False)
        with self._queries_lock:
            self._queries[text] = vec
            while len(self._queries) > _QUERY_CACHE:
                self._queries.popitem(last=False)
        return vec

    def clear_query_cache(self) -> None:
        """Forget the kept query vectors (benchmarks use it to time every request as a new one)."""
        with self._queries_lock:
            self._queries.clear()

    def close(self) -> None:
        """Close the read-only connection to the store's SQLite file."""
        with self._db_lock:
            self._db.close()
