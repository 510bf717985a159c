"""Opt-in per-user profiles persisted in SQLite: likes, dislikes, rejections and standing genre exclusions."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProfileStore", "StoredProfile"]


@dataclass(frozen=True)
class StoredProfile:
    """A user's persisted preferences; items are raw item ids so they survive a rebuilt index."""

    user_id: str
    liked: tuple[str, ...] = ()
    disliked: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()
    exclude_genres: tuple[str, ...] = ()


class ProfileStore:
    """Opt-in per-user persistence of likes, dislikes, rejections and standing genre exclusions (SQLite).

    Args:
        path: the SQLite file; its parent directory is created.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS profiles (user_id TEXT PRIMARY KEY, data TEXT NOT NULL, "
                "updated REAL NOT NULL DEFAULT (julianday('now')))"
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=10.0)
        try:
            with conn:  # commits on success, rolls back on error
                yield conn
        finally:
            conn.close()

    def load(self, user_id: str) -> StoredProfile | None:
        """The stored profile of a user, or None when there is none."""
        with self._lock, self._connect() as conn:
            row = conn.execute("SELECT data FROM profiles WHERE user_id = ?", (user_id,)).fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        return StoredProfile(
            user_id=user_id,
            liked=tuple(data.get("liked", ())),
            disliked=tuple(data.get("disliked", ())),
            rejected=tuple(data.get("rejected", ())),
            exclude_genres=tuple(data.get("exclude_genres", ())),
        )

    def save(self, profile: StoredProfile) -> None:
        """Insert or replace a user's profile."""
        data = json.dumps(
            {
                "liked": list(profile.liked),
                "disliked": list(profile.disliked),
                "rejected": list(profile.rejected),
                "exclude_genres": list(profile.exclude_genres),
            }
        )
        with self._lock, self._connect() as conn:
            conn.execute(
                "INSERT INTO profiles (user_id, data) VALUES (?, ?) "
                "ON CONFLICT(user_id) DO UPDATE SET data = excluded.data, updated = julianday('now')",
                (profile.user_id, data),
            )

    def delete(self, user_id: str) -> None:
        """Forget a user's profile."""
        with self._lock, self._connect() as conn:
            conn.execute("DELETE FROM profiles WHERE user_id = ?", (user_id,))

    def users(self) -> list[str]:
        """Every user id with a stored profile, sorted."""
        with self._lock, self._connect() as conn:
            return sorted(r[0] for r in conn.execute("SELECT user_id FROM profiles"))
