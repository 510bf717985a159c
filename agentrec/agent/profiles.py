"""Opt-in per-user profiles persisted in SQLite: likes, dislikes, rejections and standing facet exclusions."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ProfileStore", "StoredProfile", "restore_profile", "stored_profile"]


@dataclass(frozen=True)
class StoredProfile:
    """A user's persisted preferences; items are raw item ids so they survive a rebuilt index.

    ``exclude`` holds standing exclusions by facet (``{"genre": ("Horror",), "brand": ("Duck",)}``);
    ``exclude_genres`` is the genre part, kept for profiles written before facets.
    """

    user_id: str
    liked: tuple[str, ...] = ()
    disliked: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()
    exclude_genres: tuple[str, ...] = ()
    exclude: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def exclusions(self) -> dict[str, tuple[str, ...]]:
        """Every standing exclusion by facet (the old genre list included)."""
        out = {k: tuple(v) for k, v in self.exclude.items()}
        if self.exclude_genres:
            out["genre"] = tuple(dict.fromkeys([*out.get("genre", ()), *self.exclude_genres]))
        return out


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
            exclude={str(k): tuple(v) for k, v in data.get("exclude", {}).items()},
        )

    def save(self, profile: StoredProfile) -> None:
        """Insert or replace a user's profile."""
        data = json.dumps(
            {
                "liked": list(profile.liked),
                "disliked": list(profile.disliked),
                "rejected": list(profile.rejected),
                "exclude_genres": list(profile.exclude_genres),
                "exclude": {k: list(v) for k, v in profile.exclusions().items()},
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


def restore_profile(profile: StoredProfile, state: Any, catalog: Any, schema: Any) -> None:
    """Bring a stored profile into a conversation: likes, dislikes, rejections and standing exclusions.

    Items no longer in the catalogue and values the catalogue no longer has are skipped.
    """
    ids = catalog.id_to_index
    for raw, fn in ((profile.liked, state.like), (profile.disliked, state.dislike), (profile.rejected, state.reject)):
        for item_id in raw:
            if item_id in ids:
                fn(ids[item_id])
    f = state.filters
    exclude = {k: tuple(v) for k, v in f.exclude.items()}
    for facet, values in profile.exclusions().items():
        known = [c for v in values if schema.has(facet) and (c := schema.canonical(facet, v)) is not None]
        if known:
            exclude[facet] = tuple(dict.fromkeys([*exclude.get(facet, ()), *known]))
    if exclude != dict(f.exclude):
        from dataclasses import replace

        state.filters = replace(f, exclude=exclude)


def stored_profile(state: Any, catalog: Any) -> StoredProfile:
    """What of a conversation is kept for its user: liked, disliked and rejected items, standing exclusions."""
    items = catalog.items
    return StoredProfile(
        user_id=state.user_id,
        liked=tuple(items[i].item_id for i in state.liked),
        disliked=tuple(items[i].item_id for i in state.disliked),
        rejected=tuple(items[i].item_id for i in state.rejected),
        exclude={k: tuple(v) for k, v in state.filters.exclude.items()},
    )
