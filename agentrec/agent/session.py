"""Conversation memory (per session, in process); the opt-in SQLite profiles live in :mod:`agentrec.agent.profiles`."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from agentrec.agent.genre_view import excluded_genres, genre_match, included_genres, with_genres_and_years, year_bounds
from agentrec.agent.profiles import ProfileStore, StoredProfile
from agentrec.types import Filters, Query

if TYPE_CHECKING:
    from agentrec.agent.planner import ParsedRequest
    from agentrec.agent.toolbox import Toolbox

__all__ = ["ConversationState", "ProfileStore", "SessionStore", "StoredProfile", "apply_request", "conflict_reply"]


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
        filters: the stated constraints accumulated over the conversation.
        inferred_genres: genres in ``filters.include["genre"]`` read only from topic words ("detective" ->
            Mystery); memory gives these up first when a later genre wish cannot be combined with them.
        max_runtime: a stated runtime ceiling in minutes (only when the catalogue has runtimes).
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
    filters: Filters = field(default_factory=Filters)
    inferred_genres: list[str] = field(default_factory=list)
    max_runtime: int | None = None
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

    def snapshot(self) -> ConversationState:
        """An independent copy (lists copied), used to roll back a turn that fails."""
        return replace(
            self,
            messages=[dict(m) for m in self.messages],
            liked=list(self.liked),
            disliked=list(self.disliked),
            rejected=list(self.rejected),
            seen=list(self.seen),
            inferred_genres=list(self.inferred_genres),
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
    has_runtime: bool,
    max_k: int = 50,
) -> tuple[list[int], list[str]]:
    """Merge one parsed message into the conversation's memory.

    A new genre wish refines the earlier one when some item carries all of them and replaces it only when the
    user switches ("instead", "rather"); otherwise the earlier wish stays and the new genre only steers the
    ranking, with a note (what the user stated is never dropped unasked); a new period replaces the earlier
    one; exclusions accumulate;
    where a new wish contradicts a remembered one, the newest statement wins and a note says so.
    References resolve against the last list shown.

    Returns:
        (the item indices the user pointed to positively this turn (seeds), user-facing notes).
    """
    from agentrec.agent.guard import runtime_of

    notes: list[str] = []
    catalog = toolbox.catalog
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

    for pos in parsed.ref_like:
        idx = resolve(pos)
        if idx is not None:
            state.like(idx)
            seeds.append(idx)
            state.focus = idx
    for pos in parsed.ref_reject:
        idx = resolve(pos)
        if idx is not None:
            state.reject(idx)
    for pos in parsed.ref_seen:
        idx = resolve(pos)
        if idx is not None:
            state.mark_seen(idx)
    for idx in parsed.like_items:
        state.like(idx)
        seeds.append(idx)
        state.focus = idx
    for idx in parsed.dislike_items:
        state.dislike(idx)
    for idx in parsed.seen_items:
        state.mark_seen(idx)

    f = state.filters
    include, match = included_genres(f), genre_match(f)
    exclude = list(excluded_genres(f))
    f_years = year_bounds(f)
    inferred = [g for g in state.inferred_genres if g in include]
    if parsed.include_genres:
        merged = tuple(dict.fromkeys([*include, *parsed.include_genres]))
        # A new genre refines the earlier wish when some item carries all of them (a user who asked for a
        # drama and then says "something funny" wants a funny drama); it replaces the earlier wish only when
        # the user switches ("instead").
        years = (parsed.year_min, parsed.year_max) if parsed.years_stated else f_years
        combinable = not parsed.switch_genres and parsed.genre_match == "all" and match == "all"
        blocked = set(state.blocked)
        n_merged = _count_with_all(toolbox, merged, *years, skip=blocked, limit=state.k) if combinable else 0
        refine = bool(include) and combinable and n_merged > 0
        narrows = match == "any" and parsed.genre_match == "all" and set(parsed.include_genres) <= set(include)
        firm = tuple(g for g in include if g not in inferred)
        relaxed = tuple(dict.fromkeys([*firm, *parsed.include_genres]))
        # A genre read only from a topic word ("detective" -> Mystery) gives way when, with it, no film (or
        # fewer than a list's worth of films not turned down yet) would be left and without it more would.
        relax = (
            combinable
            and len(firm) < len(include)
            and n_merged < state.k
            and _count_with_all(toolbox, relaxed, *years, skip=blocked, limit=state.k) > n_merged
        )
        if relax:
            gone = [g for g in include if g in inferred]
            include = relaxed
            few = "No film" if n_merged == 0 else f"Only {n_merged} film(s) not turned down yet"
            notes.append(
                f"{few}{_period_words(parsed, f_years)} {'is' if n_merged == 0 else 'are'} {' and '.join(merged)}, "
                "so I "
                f"dropped {', '.join(gone)}, which I had only read from a topic word."
            )
        elif refine:
            include = merged
        elif include and not parsed.switch_genres and not narrows:
            # A wish that no item can meet together with the earlier one (or that one filter cannot combine
            # with it): never drop what the user asked for earlier without being told to ("instead"); the new
            # genre only steers the ranking (it stays in the search text).
            new = ", ".join(g for g in parsed.include_genres if g not in include)
            kept = (" or " if match == "any" else ", ").join(include)
            why = (
                f"I can't combine {kept} with {new} in one filter"
                if "any" in (match, parsed.genre_match)
                else f"No film{_period_words(parsed, f_years)} is {' and '.join(merged)}"
            )
            notes.append(f"{why}, so I kept {kept} and looked for {new} among those; say '{new} instead' to switch.")
        else:
            if include and tuple(include) != tuple(parsed.include_genres):
                old, new = ", ".join(include), ", ".join(parsed.include_genres)
                notes.append(f"I replaced your earlier genre wish ({old}) with {new}.")
            include, match = parsed.include_genres, parsed.genre_match  # type: ignore[assignment]
        dropped = [g for g in exclude if g in include]
        if dropped:
            exclude = [g for g in exclude if g not in include]
            notes.append(f"You asked for {', '.join(dropped)} now, so I dropped your earlier exclusion of it.")
    for g in parsed.exclude_genres:
        if g in include:
            include = tuple(x for x in include if x != g)
            notes.append(f"You now exclude {g}, so I dropped your earlier wish for it.")
        if g not in exclude:
            exclude.append(g)
    y0, y1 = f_years
    if parsed.years_stated:
        if (y0 is not None or y1 is not None) and (y0, y1) != (parsed.year_min, parsed.year_max):
            new = _period(parsed.year_min, parsed.year_max)
            notes.append(f"I replaced your earlier period ({_period(y0, y1)}) with the new one ({new}).")
        y0, y1 = parsed.year_min, parsed.year_max
    # A genre is inferred while the user has only ever spoken of it through a topic word: named once, it stays
    # firm ("a war drama", later "I'm thinking of war crimes").
    named = {g for g in included_genres(f) if g not in inferred} | {
        g for g in parsed.include_genres if g not in parsed.inferred_genres
    }
    inferred = [g for g in dict.fromkeys([*inferred, *parsed.inferred_genres]) if g in include and g not in named]
    state.inferred_genres = inferred
    state.filters = with_genres_and_years(
        f, include=tuple(include), exclude=tuple(exclude), match=match, year_min=y0, year_max=y1
    )

    if parsed.runtime is not None:
        if not has_runtime:
            notes.append(
                "This dataset has no runtime information (MovieLens lists none), so I can't pick shorter or "
                "longer films; the list below ignores length."
            )
        elif parsed.runtime == "shorter":
            shown = [rt for i in state.last_shown if (rt := runtime_of(catalog[i].attributes))]
            ceiling = sorted(shown)[len(shown) // 2] - 1 if shown else 100
            if state.max_runtime is not None:
                ceiling = min(ceiling, state.max_runtime - 1)
            state.max_runtime = max(ceiling, 30)
            notes.append(f"Keeping to films of at most {state.max_runtime} minutes.")
        else:
            state.max_runtime = None
            notes.append("I dropped the runtime limit.")
    return seeds, notes


def _period_words(parsed: ParsedRequest, years: tuple[int | None, int | None]) -> str:
    lo, hi = (parsed.year_min, parsed.year_max) if parsed.years_stated else years
    return "" if lo is None and hi is None else f" ({_period(lo, hi)})"


def _period(lo: int | None, hi: int | None) -> str:
    if lo is not None and hi is not None:
        return f"{lo}-{hi}"
    return f"from {lo}" if lo is not None else f"up to {hi}"


def _count_with_all(
    toolbox: Toolbox,
    genres: tuple[str, ...],
    year_min: int | None,
    year_max: int | None,
    *,
    skip: set[int],
    limit: int,
) -> int:
    """How many catalogue items in the year range carry every genre, counting up to ``limit``.

    Items in ``skip`` (turned down in this conversation) do not count.
    """
    wanted = with_genres_and_years(Filters(), include=genres, exclude=(), year_min=year_min, year_max=year_max)
    index = getattr(toolbox, "facet_index", None)
    if index is None:  # a toolbox-like object without an index: match the catalogue directly
        from agentrec.schema import CatalogSchema, FacetIndex

        catalog = toolbox.catalog
        index = FacetIndex.build(CatalogSchema.from_catalog(catalog), catalog, np.zeros(len(catalog), dtype=np.int64))
    mask = index.mask(wanted)
    if skip:
        mask[[i for i in skip if 0 <= i < len(mask)]] = False
    return min(int(mask.sum()), limit)
