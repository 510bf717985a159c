"""Opt-in per-user profiles: likes, dislikes, rejections and standing facet exclusions, in SQL.

SQLite (embedded) by default; PostgreSQL (or any SQLAlchemy URL) when app replicas must share them.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ProfileStore", "StoredProfile", "profiles_url", "restore_profile", "stored_profile"]


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
    """Opt-in per-user persistence of likes, dislikes, rejections and standing exclusions, in a SQL database.

    SQLite (a file, embedded) is the default; any database SQLAlchemy reaches by URL works, and PostgreSQL
    (``postgresql://user:password@host:5432/db``, through psycopg) is the one to share between app replicas:
    each save is one atomic upsert of the user's row, so every replica sees the last one.

    Args:
        target: a SQLite file path (its parent directory is created) or a SQLAlchemy database URL
            (``sqlite:///profiles.db``, ``postgresql://...``; ``postgresql://`` uses psycopg 3).

    Raises:
        ValueError: when the URL is not one SQLAlchemy understands, its driver is not installed, or the
            database cannot be reached.
    """

    def __init__(self, target: str | Path) -> None:
        from sqlalchemy import Column, Float, MetaData, Table, Text, create_engine
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

        self.url = profiles_url(target)
        self.path = Path(self.url.split(":///", 1)[1]) if self.url.startswith("sqlite:///") else None
        sqlite = self.url.startswith("sqlite")
        try:
            self._engine = create_engine(
                self.url,
                pool_pre_ping=not sqlite,
                connect_args={"timeout": 10.0, "check_same_thread": False} if sqlite else {},
            )
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise ValueError(
                f"profiles database {_shown(target)!r} is not a database URL SQLAlchemy can use ({exc}); give a "
                "file path, sqlite:///profiles.db or postgresql://user:password@host:5432/db (pip install "
                "'psycopg[binary]' for PostgreSQL)"
            ) from exc
        self._shown = self._engine.url.render_as_string(hide_password=True)
        self._table = Table(
            "profiles",
            MetaData(),
            Column("user_id", Text, primary_key=True),
            Column("data", Text, nullable=False),
            Column("updated", Float, nullable=False),
        )
        # SQLite writers take turns in this process (one file lock); a server database needs no lock here.
        self._lock: threading.Lock | contextlib.nullcontext[None] = (
            threading.Lock() if sqlite else contextlib.nullcontext()
        )
        for attempt in range(3):
            try:
                self._table.metadata.create_all(self._engine, checkfirst=True)
                break
            except SQLAlchemyError as exc:
                # Replicas starting together may race to create the table; the loser finds it on the next try.
                if attempt == 2 or _unreachable(exc):
                    raise ValueError(
                        f"cannot use the profiles database {self._shown}: {_first_line(exc)}; check the URL "
                        "(--profiles or AGENTREC_PROFILES_URL) and that the database server is running"
                    ) from exc

    def close(self) -> None:
        """Release the database connections."""
        self._engine.dispose()

    def load(self, user_id: str) -> StoredProfile | None:
        """The stored profile of a user, or None when there is none."""
        from sqlalchemy import select

        t = self._table
        with self._lock, self._engine.connect() as conn:
            row = conn.execute(select(t.c.data).where(t.c.user_id == user_id)).first()
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
        """Insert or replace a user's profile (one atomic upsert)."""
        data = json.dumps(
            {
                "liked": list(profile.liked),
                "disliked": list(profile.disliked),
                "rejected": list(profile.rejected),
                "exclude_genres": list(profile.exclude_genres),
                "exclude": {k: list(v) for k, v in profile.exclusions().items()},
            }
        )
        row = {"user_id": profile.user_id, "data": data, "updated": time.time() / 86400.0 + 2440587.5}  # julian day
        t = self._table
        dialect = self._engine.dialect.name
        with self._lock, self._engine.begin() as conn:
            if dialect in ("postgresql", "sqlite"):
                mod = importlib.import_module(f"sqlalchemy.dialects.{dialect}")
                stmt = mod.insert(t).values(**row)
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[t.c.user_id], set_={c: stmt.excluded[c] for c in ("data", "updated")}
                    )
                )
            elif conn.execute(t.update().where(t.c.user_id == profile.user_id).values(**row)).rowcount == 0:
                conn.execute(t.insert().values(**row))

    def delete(self, user_id: str) -> None:
        """Forget a user's profile."""
        t = self._table
        with self._lock, self._engine.begin() as conn:
            conn.execute(t.delete().where(t.c.user_id == user_id))

    def users(self) -> list[str]:
        """Every user id with a stored profile, sorted."""
        from sqlalchemy import select

        with self._lock, self._engine.connect() as conn:
            return sorted(r[0] for r in conn.execute(select(self._table.c.user_id)))


def profiles_url(target: str | Path) -> str:
    """The SQLAlchemy URL of a profiles target: a file path becomes ``sqlite:///<absolute path>``.

    ``postgresql://`` and ``postgres://`` without a driver get psycopg 3 (``postgresql+psycopg://``).
    """
    text = str(target).strip()
    if "://" in text:
        scheme, rest = text.split("://", 1)
        if scheme in ("postgresql", "postgres"):
            return f"postgresql+psycopg://{rest}"
        return text
    if not text:
        raise ValueError("the profiles target is empty; give a SQLite file path or a database URL")
    path = Path(text).expanduser().absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _shown(target: str | Path) -> str:
    """``target`` with any password replaced by ``***``."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", str(target))


def _first_line(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


def _unreachable(exc: Exception) -> bool:
    from sqlalchemy.exc import InterfaceError, OperationalError

    return isinstance(exc, OperationalError | InterfaceError)


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
