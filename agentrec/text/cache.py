"""On-disk embedding cache keyed by (model id, sha256(text)).

One SQLite file holds the vectors of every model, so re-running an index build never re-embeds a text
whose vector is already known, while a new model or a changed template (different text) misses the cache
and is embedded afresh. SQLite is in the standard library, safe for concurrent readers and atomic on
crash.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["EmbeddingCache", "text_key"]

_CHUNK = 500  # SQLite's variable limit is 32766; small chunks keep each statement cheap


def text_key(text: str) -> bytes:
    """The 32-byte sha256 digest of a text (the cache key within a model)."""
    return hashlib.sha256(text.encode("utf-8")).digest()


class EmbeddingCache:
    """Vectors of texts, per model, in ``<cache_dir>/embeddings.sqlite``.

    Args:
        cache_dir: directory for the cache file (created when missing).
    """

    def __init__(self, cache_dir: Path) -> None:
        self.path = Path(cache_dir) / "embeddings.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, timeout=30.0)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS vectors (model TEXT NOT NULL, key BLOB NOT NULL, vec BLOB NOT NULL,"
            " PRIMARY KEY (model, key)) WITHOUT ROWID"
        )
        self._conn.execute("CREATE TABLE IF NOT EXISTS models (model TEXT PRIMARY KEY, dim INTEGER NOT NULL)")
        self._conn.commit()

    def close(self) -> None:
        """Close the database connection."""
        self._conn.close()

    def model_dim(self, model_id: str) -> int | None:
        """The dimension recorded for a model, or None when the model has no vectors yet."""
        row = self._conn.execute("SELECT dim FROM models WHERE model = ?", (model_id,)).fetchone()
        return None if row is None else int(row[0])

    def get(self, model_id: str, keys: Sequence[bytes], dim: int) -> tuple[np.ndarray, np.ndarray]:
        """Look up vectors.

        Returns:
            ``(vectors, found)``: ``(n, dim)`` float32 (zeros where missing) and a ``(n,)`` bool mask.
        """
        out = np.zeros((len(keys), dim), dtype=np.float32)
        found = np.zeros(len(keys), dtype=bool)
        position: dict[bytes, list[int]] = {}
        for i, key in enumerate(keys):
            position.setdefault(key, []).append(i)
        unique = list(position)
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT key, vec FROM vectors WHERE model = ? AND key IN ({marks})", (model_id, *chunk)
            )
            for key, blob in rows:
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape[0] != dim:
                    continue  # written by a different dimension: treat as missing, it will be overwritten
                for i in position[bytes(key)]:
                    out[i] = vec
                    found[i] = True
        return out, found

    def put(self, model_id: str, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Store ``(n, dim)`` vectors under their keys (replacing old ones)."""
        if len(keys) != len(vectors):
            raise ValueError(f"{len(keys)} keys but {len(vectors)} vectors; they must match")
        if not len(keys):
            return
        vecs = np.ascontiguousarray(vectors, dtype=np.float32)
        with self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO models (model, dim) VALUES (?, ?)", (model_id, int(vecs.shape[1]))
            )
            self._conn.executemany(
                "INSERT OR REPLACE INTO vectors (model, key, vec) VALUES (?, ?, ?)",
                ((model_id, key, vec.tobytes()) for key, vec in zip(keys, vecs, strict=True)),
            )

    def count(self, model_id: str | None = None) -> int:
        """Number of cached vectors (of one model, or all)."""
        if model_id is None:
            row = self._conn.execute("SELECT COUNT(*) FROM vectors").fetchone()
        else:
            row = self._conn.execute("SELECT COUNT(*) FROM vectors WHERE model = ?", (model_id,)).fetchone()
        return int(row[0])
