"""Conversation memory, the bounded session store, and SQLite profiles."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from agentrec.agent.memory import Wish
from agentrec.agent.session import ConversationState, ProfileStore, SessionStore, StoredProfile
from agentrec.types import Filters


def test_state_like_dislike_reject_are_exclusive() -> None:
    s = ConversationState()
    s.like(3)
    s.reject(3)
    assert s.liked == [] and s.rejected == [3] and s.blocked == (3,)
    s.like(3)
    assert s.liked == [3] and s.rejected == []
    s.dislike(3)
    assert s.liked == [] and s.disliked == [3]


def test_to_query_carries_memory() -> None:
    s = ConversationState(user_id="7", k=4, wish=Wish(filters=Filters(exclude={"genre": ("Horror",)})))
    s.like(1)
    s.reject(2)
    s.mark_seen(5)
    q = s.to_query("space")
    assert (q.text, q.user_id, q.k, q.liked_items, q.rejected, q.seen) == ("space", "7", 4, (1,), (2,), (5,))
    assert q.filters.exclude.get("genre", ()) == ("Horror",)


def test_snapshot_is_independent() -> None:
    s = ConversationState()
    s.add_message("user", "hi")
    snap = s.snapshot()
    s.add_message("user", "again")
    s.like(1)
    assert len(snap.messages) == 1 and snap.liked == []


def test_session_store_is_bounded_and_lru() -> None:
    store = SessionStore(max_sessions=2)
    store.get("a").like(1)
    store.get("b")
    store.get("a")  # a is now most recent
    store.get("c")  # evicts b
    assert "a" in store and "b" not in store and "c" in store and len(store) == 2
    assert store.get("a").liked == [1]
    store.reset("a")
    assert "a" not in store
    with pytest.raises(ValueError, match="max_sessions"):
        SessionStore(0)


def test_session_store_threads() -> None:
    store = SessionStore(max_sessions=50)

    def work(n: int) -> None:
        for i in range(200):
            store.get(f"s{(n * 7 + i) % 80}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store) == 50


def test_profile_store_roundtrip(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "profiles.sqlite"
    store = ProfileStore(path)
    assert store.load("u1") is None
    store.save(StoredProfile("u1", liked=("10", "20"), rejected=("30",), exclude_genres=("Horror",)))
    store.save(StoredProfile("u2", disliked=("5",)))
    again = ProfileStore(path)  # persists across instances (conversations, processes)
    p = again.load("u1")
    assert p is not None and p.liked == ("10", "20") and p.rejected == ("30",) and p.exclude_genres == ("Horror",)
    assert again.users() == ["u1", "u2"]
    again.save(StoredProfile("u1", liked=("11",)))
    assert again.load("u1") == StoredProfile("u1", liked=("11",))
    again.delete("u2")
    assert again.users() == ["u1"]
