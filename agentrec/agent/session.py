"""Conversation memory (per session, in process); the opt-in SQLite profiles live in :mod:`agentrec.agent.profiles`."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from agentrec.agent.head_fit import NEW_SUBJECT_SLACK, head_fit, text_fit, topic_fit
from agentrec.agent.memory import Wish, merge
from agentrec.agent.profiles import ProfileStore, StoredProfile
from agentrec.types import Filters, Query

if TYPE_CHECKING:
    from agentrec.agent.planner import ParsedRequest
    from agentrec.agent.toolbox import Toolbox

__all__ = [
    "ConversationState",
    "ProfileStore",
    "SessionLocks",
    "SessionStore",
    "StoredProfile",
    "apply_request",
    "conflict_reply",
]


@dataclass
class ConversationState:
    """Everything one conversation remembers between turns.

    Item references are item indices (positions in the catalogue).

    Attributes:
        messages: the conversation so far, ``{"role": "user"|"assistant", "content": str}`` dicts.
        liked: items the user said they like (seeds for later turns), oldest first.
        disliked: items the user said they dislike (never recommended again).
        rejected: items the user turned down ("not that one"; never recommended again).
        seen: items the user said they have already seen (never recommended).
        wish: what the conversation asks for: hard filters (``filters``) and soft preferences
            (:class:`agentrec.agent.memory.Wish`).
        pending: an item named only loosely ("the Gorilla Glue I bought"), asked back; "yes" confirms it.
        last_shown: the item indices of the last list shown, in display order.
        shown: every item shown in this conversation (new lists prefer items not shown yet).
        focus: the item most recently referred to ("that one"), or None.
        user_id: the raw id of the known user this conversation is for, or None.
        k: how many recommendations to show per turn.
    """

    messages: list[dict[str, str]] = field(default_factory=list)
    liked: list[int] = field(default_factory=list)
    disliked: list[int] = field(default_factory=list)
    rejected: list[int] = field(default_factory=list)
    seen: list[int] = field(default_factory=list)
    wish: Wish = field(default_factory=Wish)
    pending: int | None = None
    last_shown: list[int] = field(default_factory=list)
    shown: list[int] = field(default_factory=list)
    focus: int | None = None
    user_id: str | None = None
    k: int = 10

    def add_message(self, role: str, content: str) -> None:
        """Append one message to the history."""
        self.messages.append({"role": role, "content": content})

    def like(self, item_index: int) -> None:
        """Remember that the user likes an item (undoes an earlier dislike or rejection)."""
        for lst in (self.disliked, self.rejected):
            if item_index in lst:
                lst.remove(item_index)
        if item_index not in self.liked:
            self.liked.append(item_index)

    def dislike(self, item_index: int) -> None:
        """Remember that the user dislikes an item: it never comes back and stops being a seed."""
        if item_index in self.liked:
            self.liked.remove(item_index)
        if item_index not in self.disliked:
            self.disliked.append(item_index)

    def reject(self, item_index: int) -> None:
        """Remember that the user turned an item down: it never comes back."""
        if item_index in self.liked:
            self.liked.remove(item_index)
        if item_index not in self.rejected:
            self.rejected.append(item_index)

    def mark_seen(self, item_index: int) -> None:
        """Remember that the user has already seen an item."""
        if item_index not in self.seen:
            self.seen.append(item_index)

    @property
    def blocked(self) -> tuple[int, ...]:
        """Items that must never be recommended in this conversation (rejected and disliked)."""
        return tuple(dict.fromkeys([*self.rejected, *self.disliked]))

    @property
    def filters(self) -> Filters:
        """The stated hard constraints accumulated over the conversation."""
        return self.wish.filters

    @filters.setter
    def filters(self, value: Filters) -> None:
        self.wish = replace(self.wish, filters=value)

    def to_query(self, text: str = "", *, filters: Filters | None = None, k: int | None = None) -> Query:
        """A retrieval query carrying this conversation's memory: user, seeds, constraints, exclusions."""
        return Query(
            text=text,
            user_id=self.user_id,
            liked_items=tuple(self.liked),
            filters=self.filters if filters is None else filters,
            seen=tuple(self.seen),
            rejected=self.blocked,
            k=self.k if k is None else k,
        )

    def restore(self, before: ConversationState) -> None:
        """Become ``before`` again (a snapshot taken before a turn that failed)."""
        for name in before.__dataclass_fields__:
            setattr(self, name, getattr(before, name))

    def snapshot(self) -> ConversationState:
        """An independent copy (lists copied), used to roll back a turn that fails."""
        return replace(
            self,
            messages=[dict(m) for m in self.messages],
            liked=list(self.liked),
            disliked=list(self.disliked),
            rejected=list(self.rejected),
            seen=list(self.seen),
            last_shown=list(self.last_shown),
            shown=list(self.shown),
        )


class SessionStore:
    """Thread-safe conversation states by session id; the least recently used are evicted past ``max_sessions``."""

    def __init__(self, max_sessions: int = 1000) -> None:
        if max_sessions < 1:
            raise ValueError(f"max_sessions must be >= 1, got {max_sessions}")
        self.max_sessions = max_sessions
        self._states: OrderedDict[str, ConversationState] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session_id: str) -> ConversationState:
        """The state of a session, created empty on first use."""
        with self._lock:
            state = self._states.get(session_id)
            if state is None:
                state = ConversationState()
                self._states[session_id] = state
                while len(self._states) > self.max_sessions:
                    self._states.popitem(last=False)
            else:
                self._states.move_to_end(session_id)
            return state

    def put(self, session_id: str, state: ConversationState) -> None:
        """Store (or replace) the state of a session."""
        with self._lock:
            self._states[session_id] = state
            self._states.move_to_end(session_id)
            while len(self._states) > self.max_sessions:
                self._states.popitem(last=False)

    def reset(self, session_id: str) -> None:
        """Forget a session."""
        with self._lock:
            self._states.pop(session_id, None)

    def __contains__(self, session_id: object) -> bool:
        with self._lock:
            return session_id in self._states

    def __len__(self) -> int:
        with self._lock:
            return len(self._states)


class SessionLocks:
    """One lock per conversation, so that its turns take turns.

    The idle locks of the least recently used conversations are forgotten past ``2 * max_sessions`` (never one
    in use).
    """

    def __init__(self, max_sessions: int = 1000) -> None:
        self.max_sessions = max_sessions
        self._locks: OrderedDict[str, threading.Lock] = OrderedDict()
        self._guard = threading.Lock()

    def get(self, session: str) -> threading.Lock:
        """The lock of ``session`` (created on first use)."""
        with self._guard:
            lock = self._locks.get(session)
            if lock is not None:
                self._locks.move_to_end(session)
                return lock
            lock = self._locks[session] = threading.Lock()
            if len(self._locks) > 2 * self.max_sessions:
                for old in list(self._locks)[: len(self._locks) - self.max_sessions]:
                    if old != session and self._locks[old].acquire(blocking=False):
                        held = self._locks.pop(old)
                        held.release()
            return lock

    def __len__(self) -> int:
        with self._guard:
            return len(self._locks)


def conflict_reply(conflicts: list[str]) -> str:
    """The message shown when a request contradicts itself (nothing is changed in memory)."""
    return (
        "Your request contradicts itself: "
        + "; ".join(conflicts)
        + ". Which one did you mean? Everything you said before is still remembered."
    )


def apply_request(
    state: ConversationState,
    parsed: ParsedRequest,
    toolbox: Toolbox,
    *,
    max_k: int = 50,
) -> tuple[list[int], list[str]]:
    """Merge one parsed message into the conversation's memory.

    Starting over, a user id and how many results come first; then references to the last list shown and named
    titles (a loosely matched title is asked back and remembered as pending, and a "yes" confirms it); then the
    facet wish changes by the rules of :func:`agentrec.agent.memory.merge` (new request, refinement, correction,
    switch), each change stated in a note.

    Returns:
        (the item indices the user pointed to positively this turn (seeds), user-facing notes).
    """
    notes: list[str] = []
    if parsed.reset:
        keep_user, keep_k = state.user_id, state.k
        fresh = ConversationState(messages=state.messages, user_id=keep_user, k=keep_k)
        for name in ConversationState.__dataclass_fields__:
            setattr(state, name, getattr(fresh, name))
        notes.append("Starting over: I forgot the earlier likes, rejections and constraints.")
    if parsed.user_id is not None and parsed.user_id != state.user_id:
        if toolbox.is_known_user(parsed.user_id):
            state.user_id = parsed.user_id
        else:
            notes.append(f"Unknown user id {parsed.user_id!r}: I'm recommending without a personal history.")
    if parsed.k is not None:
        state.k = max(1, min(int(parsed.k), max_k))
        if parsed.k != state.k:
            notes.append(f"I can show between 1 and {max_k} recommendations; showing {state.k}.")
    seeds = _references(state, parsed, toolbox, notes)
    blocked = set(state.blocked)

    def count(f: Filters) -> int:
        return toolbox.count(f, skip=blocked, limit=state.k)

    def eligible(f: Filters) -> np.ndarray:
        keep = toolbox.facet_index.mask(f)
        keep[[i for i in blocked if 0 <= i < len(keep)]] = False
        return keep

    req, store = parsed.request, getattr(getattr(toolbox, "retriever", None), "store", None)
    fits = head_fit(store, eligible, req.text, req.weak_terms) if req.weak else None
    pointed = parsed.ref_like or parsed.ref_reject or parsed.ref_seen or parsed.like_items or parsed.dislike_items
    # Words beside a reference ("not these, I'm afraid") or a title are about that, never a new subject.
    subject = (
        None
        if pointed or parsed.seen_items or parsed.confirm or parsed.yes
        else text_fit(store, eligible, req.text, enough=1, slack=NEW_SUBJECT_SLACK)
    )
    topic = None if subject is None else topic_fit(store, eligible)
    state.wish, changed = merge(state.wish, req, count=count, fits=fits, subject=subject, topic=topic)
    notes += changed
    return seeds, notes


def _references(state: ConversationState, parsed: ParsedRequest, toolbox: Toolbox, notes: list[str]) -> list[int]:
    """Apply likes, rejections and "seen" from references and titles; returns this turn's seeds."""
    catalog = toolbox.catalog
    seeds: list[int] = []

    def resolve(pos: int) -> int | None:
        if pos == -1:
            if state.focus is not None:
                return state.focus
            if state.last_shown:
                notes.append(f"I took 'that one' to mean {catalog[state.last_shown[0]].display_title}.")
                return state.last_shown[0]
            return None
        return state.last_shown[pos] if 0 <= pos < len(state.last_shown) else None

    if parsed.yes and state.pending is not None:
        parsed.like_items.append(state.pending)
        notes.append(f"Thanks, I took {catalog[state.pending].display_title} as the one you meant.")
    state.pending = None
    if parsed.confirm:
        hit = parsed.confirm[0]
        state.pending = hit.item_index
        notes.append(f"Did you mean {hit.title}? Say yes, or name it more exactly; until then I did not use it.")
    for positions, act in ((parsed.ref_like, "like"), (parsed.ref_reject, "reject"), (parsed.ref_seen, "seen")):
        for pos in positions:
            idx = resolve(pos)
            if idx is not None:
                _act(state, act, idx, seeds)
    for items, act in ((parsed.like_items, "like"), (parsed.dislike_items, "dislike"), (parsed.seen_items, "seen")):
        for idx in items:
            _act(state, act, idx, seeds)
    return seeds


def _act(state: ConversationState, act: str, idx: int, seeds: list[int]) -> None:
    if act == "like":
        state.like(idx)
        seeds.append(idx)
        state.focus = idx
    elif act == "reject":
        state.reject(idx)
    elif act == "dislike":
        state.dislike(idx)
    else:
        state.mark_seen(idx)
