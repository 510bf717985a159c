"""The six agent tools as plain Python, shared by the offline planner and the LLM tools.

Each tool returns a :class:`ToolResult` (short text for an LLM, a typed artifact for the application) or
raises :class:`ToolError` with a message that says what to try next. The toolbox also keeps the
bookkeeping of one turn: every item index any tool returned (``allowed_item_indices``, which the guard
requires) and every explanation path handed out, by reference (``"p1"``, ``"p2"``, ...).

That bookkeeping is a :class:`~agentrec.agent.turn.Turn`, passed explicitly: :meth:`Toolbox.new_turn` makes one
and :meth:`Toolbox.bind` gives a view of the toolbox whose tools record into it (views share everything else, so
they cost a shallow copy). Turns of different conversations thus run at the same time on one toolbox without
seeing each other's results, and tool calls that an LLM framework runs in worker threads record into the turn
they were bound to, under its lock. :meth:`Toolbox.begin_turn` is the single-threaded shorthand: it makes the
new turn this toolbox object's own.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from agentrec.agent.compose import describe_query
from agentrec.agent.rows import rows_json
from agentrec.agent.titles import TitleIndex, normalize_title
from agentrec.agent.toolbox_base import ToolboxBase
from agentrec.agent.types import Components, TitleMatch, ToolError, ToolResult, UserProfile
from agentrec.filters_types import overlay
from agentrec.schema_args import filters_from_args
from agentrec.types import Candidate, Filters, Query

__all__ = ["Components", "TitleIndex", "Toolbox", "normalize_title"]

logger = logging.getLogger(__name__)

MAX_K = 100


class Toolbox(ToolboxBase):
    """The agent's tools over one dataset's components.

    Args:
        components: an ``agentrec.artifacts.Components`` (catalog, train, retriever, explainer).
        max_paths: explanation paths kept per item.
        pack: the domain's words (default: the components' pack, else generic).
    """

    # ----------------------------------------------------------------- helpers
    def _resolve_value(self, facet: str, value: str) -> tuple[str, ...]:
        """Catalogue values a user-facing value stands for: the value itself or a phrase of the domain's lexicon."""
        found = self.schema.canonical(facet, value)
        if found is not None:
            return (found,)
        ref = self.lexicon.lookup(str(value))
        return tuple(ref.values) if ref is not None and ref.facet == facet else ()

    def make_filters(self, filters: Mapping[str, Any] | None = None) -> Filters:
        """A tool's ``filters`` argument merged with the conversation's standing constraints.

        ``filters`` is the flat facet object of :mod:`agentrec.schema_args` (``{"genre": ["Comedy"],
        "year_min": 1990}``); a facet it names replaces the standing wish for that facet, exclusions add up.

        Raises:
            ToolError: for an unknown filter or value (naming the valid ones) or filters that can never be met.
        """
        base = self._ctx.filters
        try:
            stated = filters_from_args(self.schema, filters, resolve=self._resolve_value)
        except ValueError as exc:
            raise ToolError(f"{exc}. Fix the filters argument and call the tool again.") from None
        out = overlay(base, stated)
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
            raise ToolError(f"Empty item reference; pass an item id from a tool result or a {self.pack.item} title.")
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
        """Candidates as JSON rows (id, title, facets, snippet, tags, interactions, mean rating), best first."""
        return rows_json([self.rows.row(c.item_index) for c in candidates])

    def retrieve(self, query: Query, *, tool: str = "retrieve") -> ToolResult:
        """Run the retriever on a full query (conversation exclusions added); record the results for the guard."""
        query = replace(
            query,
            seen=tuple(dict.fromkeys([*query.seen, *self._ctx.seen])),
            rejected=tuple(dict.fromkeys([*query.rejected, *self._ctx.blocked])),
        )
        self._record("tool_call", tool, describe_query(query, self.schema), {"k": query.k})
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
    # Each tool below is defined once: its signature and Google docstring are also what the LLM sees
    # (agentrec.agent.lctools builds the LangChain tools from them; ``filters`` gets the schema's model).
    def search_catalog(self, description: str, filters: Mapping[str, Any] | None = None, k: int = 10) -> ToolResult:
        """Search the catalogue by meaning, with optional hard filters, for requests described in words.

        Returns JSON rows (id, title, facets, snippet, tags, interactions, mean_rating).

        Args:
            description: what the person wants in their own words, e.g. "slow-burn space horror".
            filters: hard constraints every result must meet, keyed by the catalogue's facets.
            k: how many results (1-50).
        """
        k = self._check_k(k)
        query = Query(text=str(description or ""), filters=self.make_filters(filters), k=k)
        return self.retrieve(query, tool="search_catalog")

    def recommend_for_user(
        self, user_id: str, description: str = "", filters: Mapping[str, Any] | None = None, k: int = 10
    ) -> ToolResult:
        """Personalised picks for a known user from their history (graph model); rows like search_catalog.

        Args:
            user_id: the user's id as given in the conversation state.
            description: optional words about what they want now, e.g. "something light".
            filters: hard constraints every result must meet, keyed by the catalogue's facets.
            k: how many results (1-50).
        """
        k = self._check_k(k)
        uid = str(user_id).strip()
        if not self.is_known_user(uid):
            raise ToolError(
                f"Unknown user id {uid!r}; call search_catalog instead, or similar_items with a title the user likes."
            )
        stated = self.make_filters(filters)
        query = Query(text=str(description or ""), user_id=uid, liked_items=self._ctx.liked, filters=stated, k=k)
        return self.retrieve(query, tool="recommend_for_user")

    def similar_items(self, title_or_id: str, filters: Mapping[str, Any] | None = None, k: int = 10) -> ToolResult:
        """Items people who liked one item also liked, for "more like <title>"; rows like search_catalog.

        Args:
            title_or_id: the item's id (preferred) or its title.
            filters: hard constraints every result must meet, keyed by the catalogue's facets.
            k: how many results (1-50).
        """
        k = self._check_k(k)
        idx = self.resolve_item(title_or_id)
        query = Query(liked_items=(idx,), filters=self.make_filters(filters), seen=(idx,), k=k)
        return self.retrieve(query, tool="similar_items")

    def explain(self, item: str, user_id: str | None = None, liked: list[str] | None = None) -> ToolResult:
        """Evidence why an item suits the person: paths through the data, each with a reference ("p3") to cite.

        Args:
            item: the item's id (preferred) or title.
            user_id: the known user's id, if any.
            liked: ids or titles the person said they like, if no user id.
        """
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
                f"No explanation path found for {it.display_title}; cite one of its facts instead, "
                f"e.g. {', '.join(repr(f) for f in self.schema.facts(it)[:2]) or 'none (it has no facets)'}.",
                paths,
            )
        return ToolResult(f"{it.display_title} (id={it.item_id}):\n" + "\n".join(lines), paths)

    def user_profile(self, user_id: str, k: int = 10) -> ToolResult:
        """What a known user liked most and their favourite values of the main facet (e.g. genres).

        Args:
            user_id: the user's id as given in the conversation state.
            k: how many favourite items (1-50).
        """
        uid = str(user_id).strip()
        if not self.is_known_user(uid):
            raise ToolError(
                f"Unknown user id {uid!r}; ask the user which {self.pack.items} they like, then lookup_title."
            )
        u = self.train.user_id_to_index[uid]
        rows = self._rows_by_user[self._user_starts[u] : self._user_starts[u + 1]]
        items = self.train.item_index[rows]
        if self.train.rating is not None:
            order = np.lexsort((items, -self.train.rating[rows]))
            items = items[order]
        main = next((f.name for f in self.schema.categorical if f.name not in self.lexicon.soft), None)
        values = (self.schema.item_values(self.catalog[int(i)], main) if main else None for i in items)
        genres = Counter(v for vs in values if isinstance(vs, tuple) for v in vs)
        liked = tuple(
            TitleMatch(int(i), self.catalog[int(i)].item_id, self.catalog[int(i)].display_title, 1.0) for i in items[:k]
        )
        profile = UserProfile(uid, int(len(rows)), liked, tuple(genres.most_common(5)))
        self._record("tool_call", "user_profile", f"user {uid}: {len(rows)} interactions")
        top = {f"top_{main or 'values'}": [f"{g} ({n})" for g, n in profile.top_genres]}
        text = rows_json([self.rows.row(m.item_index) for m in liked], user=uid, interactions=len(rows), **top)
        return ToolResult(text, profile)

    def lookup_title(self, title: str, k: int = 5) -> ToolResult:
        """Find items by approximate title (typos, no year): to get ids, and to verify titles you thought of.

        Args:
            title: a title, e.g. "the matrix" or "Toy Story 1995".
            k: how many matches (1-50).
        """
        k = self._check_k(k)
        hits = self.titles.lookup(str(title or ""), k=k)
        self._record("tool_call", "lookup_title", f"{title!r}: {len(hits)} matches")
        if not hits:
            raise ToolError(f"No title matches {title!r}; try fewer words or the original title.")
        self.turn.allow(h.item_index for h in hits)
        return ToolResult(rows_json([self.rows.row(h.item_index, match=round(h.score, 2)) for h in hits]), hits)
