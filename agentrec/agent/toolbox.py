"""The six agent tools as plain Python, shared by the offline planner and the LLM tools.

Each tool returns a :class:`ToolResult` (short text for an LLM, a typed artifact for the application) or
raises :class:`ToolError` with a message that says what to try next. The toolbox also keeps the
bookkeeping of one turn: every item index any tool returned (``allowed_item_indices``, which the guard
requires) and every explanation path handed out, by reference (``"p1"``, ``"p2"``, ...).

That bookkeeping is a :class:`~agentrec.agent.turn.Turn`, returned by :meth:`Toolbox.begin_turn` (pass it to
:meth:`agentrec.agent.guard.Guard.validate`) and kept in a context variable for the tools, so turns of different
conversations run at the same time on one toolbox without seeing each other's results; tool calls that an LLM
framework runs in worker threads (which copy the context) still record into their turn, under its lock.
"""

from __future__ import annotations

import contextvars
import difflib
import itertools
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from typing import Any, Protocol

import numpy as np

from agentrec.agent.genre_view import year_bounds
from agentrec.agent.session import ConversationState
from agentrec.agent.turn import Turn, TurnContext
from agentrec.agent.types import TitleMatch, ToolError, ToolResult, TraceEvent, UserProfile
from agentrec.schema import CatalogSchema, FacetIndex
from agentrec.schema_args import filters_from_args
from agentrec.types import Candidate, Catalog, Filters, GraphPath, Interactions, Query, Range

__all__ = ["Components", "TitleIndex", "Toolbox", "normalize_title"]

logger = logging.getLogger(__name__)

MAX_K = 100


class Components(Protocol):
    """What the toolbox needs from ``agentrec.artifacts.Components``."""

    catalog: Catalog
    train: Interactions
    retriever: Any  # agentrec.retrieve.Retriever: retrieve(query), check(item_index, query)
    explainer: Any  # agentrec.graph.paths.Explainer: explain(user, item_index, query), verify(path)


_ARTICLES = ("the", "a", "an", "les", "la", "le", "el", "il", "der", "die", "das")


def normalize_title(title: str) -> str:
    """Lower-case, accent-free, punctuation-free title without a trailing year or a moved article.

    ``"Matrix, The (1999)"`` and ``"the matrix"`` both become ``"matrix"``.
    """
    t = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower().strip()
    t = re.sub(r"\s*\((?:\d{4}(?:[-–]\d{0,4})?)\)\s*$", "", t)  # trailing (1999)
    t = re.sub(r"\s*\([^)]*\)", " ", t).strip()  # alternative titles in parentheses
    m = re.match(r"^(.*),\s*(" + "|".join(_ARTICLES) + r")$", t)
    if m:
        t = m.group(1)
    t = re.sub(r"[^a-z0-9]+", " ", t).strip()
    words = t.split()
    if len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    return " ".join(words)


class TitleIndex:
    """Exact and fuzzy title lookup over a catalogue."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._norm = [normalize_title(it.title) for it in catalog.items]
        self._by_norm: dict[str, list[int]] = {}
        for i, n in enumerate(self._norm):
            self._by_norm.setdefault(n, []).append(i)
        self._keys = list(self._by_norm)
        # Fuzzy matching compares only titles that start with the same two letters (fast on 10k+ titles).
        self._by_start: dict[str, list[str]] = {}
        for key in self._keys:
            self._by_start.setdefault(key[:2], []).append(key)

    def lookup(self, title: str, k: int = 5, cutoff: float = 0.6) -> list[TitleMatch]:
        """The best matching items for a title, best first; an exact normalised match scores 1.0.

        A year in the title (``"Alien (1979)"`` or ``"Alien 1979"``) breaks ties between same-named items.
        """
        year_m = re.search(r"\b(19\d{2}|20\d{2})\)?\s*$", title.strip())
        year = int(year_m.group(1)) if year_m else None
        norm = normalize_title(title)
        if not norm:
            return []
        scored: dict[str, float] = {}
        if norm in self._by_norm:
            scored[norm] = 1.0
        if year is not None:
            stripped = normalize_title(title[: year_m.start()]) if year_m else norm
            if stripped in self._by_norm:
                scored[stripped] = 1.0
        if len(scored) >= k or cutoff >= 0.99:
            return self._hits(scored, year, k)
        pool = self._by_start.get(norm[:2], [])
        for key in difflib.get_close_matches(norm, pool, n=k * 2, cutoff=cutoff):
            scored.setdefault(key, difflib.SequenceMatcher(None, norm, key).ratio())
        if len(scored) < k and len(norm) >= 4:
            # A query that is a whole-word prefix of a title ("lord of the rings" -> "... fellowship ...").
            for key in pool:
                if key.startswith(norm + " ") and key not in scored:
                    scored[key] = 0.9 * len(norm) / len(key) + 0.1
                    if len(scored) >= 4 * k:
                        break
        return self._hits(scored, year, k)

    def _hits(self, scored: dict[str, float], year: int | None, k: int) -> list[TitleMatch]:
        hits: list[TitleMatch] = []
        for key, score in scored.items():
            for i in self._by_norm[key]:
                it = self.catalog[i]
                bonus = 0.05 if year is not None and it.year == year else 0.0
                hits.append(TitleMatch(i, it.item_id, it.display_title, min(1.0, score) + bonus))
        hits.sort(key=lambda h: (-h.score, h.item_index))
        return [TitleMatch(h.item_index, h.item_id, h.title, min(1.0, h.score)) for h in hits[:k]]


# Toolbox key -> the running turn's state, per context (thread / task). Module level: context variables are
# never garbage-collected, so there is one for all toolboxes rather than one per toolbox.
_TURNS: contextvars.ContextVar[dict[int, Turn] | None] = contextvars.ContextVar("agentrec_turns", default=None)
_KEYS = itertools.count()


class Toolbox:
    """The agent's tools over one dataset's components.

    Args:
        components: an ``agentrec.artifacts.Components`` (catalog, train, retriever, explainer).
        max_paths: explanation paths kept per item.
    """

    def __init__(self, components: Components, *, max_paths: int = 3) -> None:
        self.components = components
        self.catalog: Catalog = components.catalog
        self.train: Interactions = components.train
        self.retriever = components.retriever
        self.explainer = components.explainer
        self.max_paths = max_paths
        self.titles = TitleIndex(self.catalog)
        self.schema: CatalogSchema = (
            getattr(components, "schema", None)
            or getattr(self.retriever, "schema", None)
            or CatalogSchema.from_catalog(self.catalog)
        )
        order = np.argsort(self.train.user_index, kind="stable")
        self._rows_by_user = order
        self._user_starts = np.searchsorted(self.train.user_index[order], np.arange(self.train.num_users + 1))
        self._key = next(_KEYS)
        self._outside_turn = Turn()  # used by tool calls made before any begin_turn in this context

    @cached_property
    def facet_index(self) -> FacetIndex:
        """Vectorised facet matching over the catalogue (the retriever's, when it has one)."""
        index = getattr(self.retriever, "filter_index", None)
        if isinstance(index, FacetIndex):
            return index
        counts = np.bincount(self.train.item_index, minlength=len(self.catalog)).astype(np.int64)
        return FacetIndex.build(self.schema, self.catalog, counts)

    # ----------------------------------------------------------------- turn bookkeeping
    def begin_turn(self, state: ConversationState | None = None, *, text: str = "") -> Turn:
        """Start a new turn: forget this turn's results and paths, take the conversation's memory as context.

        Every search afterwards excludes the conversation's rejected, disliked and seen items and adds its
        standing constraints; ``explain`` personalises for its user or liked items. The turn belongs to the
        calling thread (its context): other threads' turns on this toolbox are not affected.

        Returns:
            The new :class:`~agentrec.agent.turn.Turn` (also what :attr:`turn` gives in this context).
        """
        if state is None:
            ctx = TurnContext(text=text)
        else:
            ctx = TurnContext(
                user_id=state.user_id,
                liked=tuple(state.liked),
                seen=tuple(state.seen),
                blocked=state.blocked,
                filters=state.filters,
                text=text,
            )
        turn = Turn(ctx=ctx)
        turns = dict(_TURNS.get() or {})
        turns[self._key] = turn
        _TURNS.set(turns)
        return turn

    @property
    def turn(self) -> Turn:
        """The running turn of this context (see :meth:`begin_turn`)."""
        turns = _TURNS.get()
        state = turns.get(self._key) if turns is not None else None
        return state if state is not None else self._outside_turn

    def _turn(self) -> Turn:
        return self.turn

    @property
    def allowed_item_indices(self) -> set[int]:
        """Item indices any tool returned in this turn (the guard accepts only these)."""
        return self._turn().allowed_item_indices

    @property
    def candidates(self) -> dict[int, Candidate]:
        """Candidates retrieved in this turn, by item index (first retrieval wins)."""
        return self._turn().candidates

    @property
    def paths(self) -> dict[str, GraphPath]:
        """Explanation paths handed out in this turn, by reference (``"p1"``, ...)."""
        return self._turn().paths

    @property
    def trace(self) -> list[TraceEvent]:
        """Tool calls and results of this turn, in order."""
        return self._turn().trace

    @property
    def notes(self) -> list[str]:
        """Notes from the retriever in this turn (fallbacks, empty results)."""
        return self._turn().notes

    @property
    def _ctx(self) -> TurnContext:
        return self._turn().ctx

    def _record(self, kind: str, name: str, detail: str, data: dict[str, Any] | None = None) -> None:
        self.turn.record(kind, name, detail, data)

    def is_known_user(self, user_id: str | None) -> bool:
        """True when ``user_id`` is a user of the training data."""
        return user_id is not None and str(user_id) in self.train.user_id_to_index

    # ----------------------------------------------------------------- helpers
    def resolve_genres(self, names: Iterable[str] | None, *, argument: str = "genres") -> tuple[str, ...]:
        """Catalogue genre names for user-facing names (case-insensitive, synonyms such as "sci-fi")."""
        from agentrec.agent.planner import canonical_genres

        out: list[str] = []
        for name in names or ():
            found = canonical_genres(str(name), self.catalog.genres)
            if not found:
                raise ToolError(
                    f"Unknown genre {name!r} in {argument}; valid genres are: {', '.join(self.catalog.genres)}."
                )
            out.extend(g for g in found if g not in out)
        return tuple(out)

    def _resolve_value(self, facet: str, value: str) -> tuple[str, ...]:
        if facet == "genre":
            from agentrec.agent.planner import canonical_genres

            return tuple(canonical_genres(str(value), self.catalog.genres))
        found = self.schema.canonical(facet, value)
        return (found,) if found is not None else ()

    def make_filters(
        self,
        genres: Sequence[str] | None = None,
        exclude_genres: Sequence[str] | None = None,
        year_from: int | None = None,
        year_to: int | None = None,
        filters: Mapping[str, Any] | None = None,
    ) -> Filters:
        """Tool arguments merged with the conversation's standing constraints (exclusions always kept).

        ``filters`` is the flat facet object of :mod:`agentrec.schema_args`; a facet it names replaces the
        standing wish for that facet, exclusions add up. ``genres`` / ``exclude_genres`` / ``year_from`` /
        ``year_to`` are the offline planner's shorthand for the "genre" and "year" facets.
        """
        base = self._ctx.filters
        try:
            stated = filters_from_args(self.schema, filters, resolve=self._resolve_value)
        except ValueError as exc:
            raise ToolError(f"{exc}. Fix the filters argument and call the tool again.") from None
        include = dict(base.include) | dict(stated.include)
        match = {k: v for k, v in base.match.items() if k not in stated.include} | dict(stated.match)
        if genres:
            include["genre"] = self.resolve_genres(genres)
            match.pop("genre", None)
        exclude = {f: tuple(dict.fromkeys([*base.exclude.get(f, ()), *stated.exclude.get(f, ())]))
                   for f in {*base.exclude, *stated.exclude}}  # fmt: skip
        if exclude_genres:
            exclude["genre"] = tuple(
                dict.fromkeys([*exclude.get("genre", ()), *self.resolve_genres(exclude_genres, argument="exclude")])
            )
        ranges = dict(base.ranges) | dict(stated.ranges)
        if year_from is not None or year_to is not None:
            b0, b1 = year_bounds(base)
            y0 = int(year_from) if year_from is not None else b0
            y1 = int(year_to) if year_to is not None else b1
            if y0 is not None and y1 is not None and y0 > y1:
                raise ToolError(f"year_from ({y0}) is after year_to ({y1}); swap them or drop one.")
            ranges["year"] = (Range(y0, y1),)
        out = Filters(
            include=include,
            match={k: v for k, v in match.items() if k in include},
            exclude=exclude,
            ranges=ranges,
            exclude_ranges={
                f: (*base.exclude_ranges.get(f, ()), *stated.exclude_ranges.get(f, ()))
                for f in {*base.exclude_ranges, *stated.exclude_ranges}
            },  # fmt: skip
            min_ratings=base.min_ratings,
            exclude_items=base.exclude_items,
        )
        conflicts = self.schema.conflicts(out)
        if conflicts:
            raise ToolError(
                f"These filters can never be met: {'; '.join(conflicts)}. Drop one of the clashing values, or swap "
                "the ends of the range."
            )
        return out

    def resolve_item(self, title_or_id: str | int) -> int:
        """An item index from a raw item id, or else the best fuzzy title match; ToolError when nothing fits."""
        key = str(title_or_id).strip()
        if not key:
            raise ToolError("Empty item reference; pass an item id from a tool result or a movie title.")
        if key in self.catalog.id_to_index:
            return self.catalog.id_to_index[key]
        hits = self.titles.lookup(key, k=1, cutoff=0.75)
        if not hits or hits[0].score < 0.75:
            raise ToolError(f"No item with id or title {key!r}; call lookup_title with part of the title first.")
        return hits[0].item_index

    def _check_k(self, k: int) -> int:
        try:
            k = int(k)
        except (TypeError, ValueError) as exc:
            raise ToolError(f"k must be a whole number between 1 and {MAX_K}, got {k!r}.") from exc
        if not 1 <= k <= MAX_K:
            raise ToolError(f"k must be between 1 and {MAX_K}, got {k}.")
        return k

    def _format(self, candidates: list[Candidate]) -> str:
        lines = []
        for c in candidates:
            it = self.catalog[c.item_index]
            lines.append(f"id={it.item_id} | {it.display_title} | {'/'.join(it.genres) or 'no genres'}")
        return "\n".join(lines)

    # ----------------------------------------------------------------- the engine under every tool
    def retrieve(self, query: Query, *, tool: str = "retrieve") -> ToolResult:
        """Run the retriever on a full query (conversation exclusions added); record the results for the guard."""
        query = Query(
            text=query.text,
            user_id=query.user_id,
            liked_items=query.liked_items,
            filters=query.filters,
            seen=tuple(dict.fromkeys([*query.seen, *self._ctx.seen])),
            rejected=tuple(dict.fromkeys([*query.rejected, *self._ctx.blocked])),
            k=query.k,
        )
        self._record("tool_call", tool, _describe(query, self.schema), {"k": query.k})
        try:
            result = self.retriever.retrieve(query)
        except ValueError as exc:
            raise ToolError(f"The search failed: {exc}. Fix that argument and call the tool again.") from exc
        cands: list[Candidate] = list(result.candidates)
        self.turn.add_candidates(cands)
        self.turn.add_notes(result.notes)
        self._record("tool_result", tool, f"{len(cands)} candidates", {"notes": list(result.notes)})
        if not cands:
            why = "; ".join(result.notes) or "no item satisfies these constraints"
            return ToolResult(f"No results ({why}). Try fewer constraints or a wider year range.", cands)
        return ToolResult(self._format(cands), cands)

    # ----------------------------------------------------------------- the six tools
    def search_catalog(
        self,
        description: str,
        genres: Sequence[str] | None = None,
        exclude_genres: Sequence[str] | None = None,
        year_from: int | None = None,
        year_to: int | None = None,
        k: int = 10,
        filters: Mapping[str, Any] | None = None,
    ) -> ToolResult:
        """Search the catalogue by a free-text description with optional facet filters (see :meth:`make_filters`)."""
        k = self._check_k(k)
        stated = self.make_filters(genres, exclude_genres, year_from, year_to, filters)
        query = Query(text=str(description or ""), filters=stated, k=k)
        return self.retrieve(query, tool="search_catalog")

    def recommend_for_user(
        self,
        user_id: str,
        k: int = 10,
        description: str = "",
        genres: Sequence[str] | None = None,
        exclude_genres: Sequence[str] | None = None,
        year_from: int | None = None,
        year_to: int | None = None,
        filters: Mapping[str, Any] | None = None,
    ) -> ToolResult:
        """Personalised recommendations for a known user (their training history), with optional filters."""
        k = self._check_k(k)
        uid = str(user_id).strip()
        if not self.is_known_user(uid):
            raise ToolError(
                f"Unknown user id {uid!r}; call search_catalog instead, or similar_items with a title the user likes."
            )
        stated = self.make_filters(genres, exclude_genres, year_from, year_to, filters)
        query = Query(text=str(description or ""), user_id=uid, liked_items=self._ctx.liked, filters=stated, k=k)
        return self.retrieve(query, tool="recommend_for_user")

    def similar_items(
        self,
        title_or_id: str,
        k: int = 10,
        genres: Sequence[str] | None = None,
        exclude_genres: Sequence[str] | None = None,
        year_from: int | None = None,
        year_to: int | None = None,
        filters: Mapping[str, Any] | None = None,
    ) -> ToolResult:
        """Items similar to one item (given by raw id or title): people who liked it also liked these."""
        k = self._check_k(k)
        idx = self.resolve_item(title_or_id)
        stated = self.make_filters(genres, exclude_genres, year_from, year_to, filters)
        query = Query(liked_items=(idx,), filters=stated, seen=(idx,), k=k)
        return self.retrieve(query, tool="similar_items")

    def explain(
        self,
        item: str | int,
        user_id: str | None = None,
        liked: Sequence[str | int] | None = None,
    ) -> ToolResult:
        """Explanation paths for why an item suits a user (or someone who liked ``liked``, or the request)."""
        idx = self.resolve_item(item)
        user: str | Sequence[int] | None
        if liked:
            user = [self.resolve_item(x) for x in liked]
        elif user_id is not None and self.is_known_user(str(user_id)):
            user = str(user_id)
        elif self._ctx.liked:
            user = list(self._ctx.liked)
        elif self._ctx.user_id is not None and self.is_known_user(self._ctx.user_id):
            user = self._ctx.user_id
        else:
            user = None
        query = Query(text=self._ctx.text, user_id=user if isinstance(user, str) else None)
        paths = list(self.explainer.explain(user, idx, query))[: self.max_paths]
        lines = [f"[{ref}] {p.text}" for ref, p in zip(self.turn.add_paths(paths), paths, strict=True)]
        it = self.catalog[idx]
        self._record("tool_call", "explain", f"{it.display_title}: {len(paths)} paths", {"item_id": it.item_id})
        if not lines:
            return ToolResult(
                f"No explanation path found for {it.display_title}; cite an attribute instead, "
                f"e.g. 'genre: {it.genres[0] if it.genres else '...'}'.",
                paths,
            )
        return ToolResult(f"{it.display_title} (id={it.item_id}):\n" + "\n".join(lines), paths)

    def user_profile(self, user_id: str, k: int = 10) -> ToolResult:
        """What a known user liked most in the training data, and their most watched genres."""
        uid = str(user_id).strip()
        if not self.is_known_user(uid):
            raise ToolError(f"Unknown user id {uid!r}; ask the user which movies they like and use lookup_title.")
        u = self.train.user_id_to_index[uid]
        rows = self._rows_by_user[self._user_starts[u] : self._user_starts[u + 1]]
        items = self.train.item_index[rows]
        if self.train.rating is not None:
            order = np.lexsort((items, -self.train.rating[rows]))
            items = items[order]
        genres = Counter(g for i in items for g in self.catalog[int(i)].genres)
        liked = tuple(
            TitleMatch(int(i), self.catalog[int(i)].item_id, self.catalog[int(i)].display_title, 1.0) for i in items[:k]
        )
        profile = UserProfile(uid, int(len(rows)), liked, tuple(genres.most_common(5)))
        self._record("tool_call", "user_profile", f"user {uid}: {len(rows)} interactions")
        text = (
            f"User {uid} has {len(rows)} interactions. Liked most: "
            + "; ".join(f"{m.title} (id={m.item_id})" for m in liked)
            + ". Top genres: "
            + ", ".join(f"{g} ({n})" for g, n in profile.top_genres)
        )
        return ToolResult(text, profile)

    def lookup_title(self, title: str, k: int = 5) -> ToolResult:
        """Items whose title matches (fuzzily), best first, with their ids."""
        k = self._check_k(k)
        hits = self.titles.lookup(str(title or ""), k=k)
        self._record("tool_call", "lookup_title", f"{title!r}: {len(hits)} matches")
        if not hits:
            raise ToolError(f"No title matches {title!r}; try fewer words or the original title.")
        self.turn.allow(h.item_index for h in hits)
        return ToolResult("\n".join(f"id={h.item_id} | {h.title} | match {h.score:.2f}" for h in hits), hits)


def _describe(query: Query, schema: CatalogSchema) -> str:
    parts = [f"text={query.text!r}"] if query.text else []
    if query.user_id:
        parts.append(f"user={query.user_id}")
    if query.liked_items:
        parts.append(f"seeds={len(query.liked_items)}")
    if query.filters.facet_names():
        parts.append(schema.describe(query.filters, facets_only=True))
    return ", ".join(parts) or "no constraints"
