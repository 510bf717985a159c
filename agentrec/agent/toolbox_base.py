"""What the agent's tools stand on: the components, caches built once, and the turn a toolbox records into.

See :mod:`agentrec.agent.toolbox` (the tools themselves) for how turns are passed explicitly.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from typing import Any, Self

import numpy as np

from agentrec.agent.lexicon import Lexicon
from agentrec.agent.rows import ItemRows
from agentrec.agent.session import ConversationState
from agentrec.agent.titles import TitleIndex
from agentrec.agent.turn import Turn, TurnContext
from agentrec.agent.types import Components, TraceEvent
from agentrec.packs import DomainPack, load_pack
from agentrec.schema import CatalogSchema, FacetIndex
from agentrec.types import Candidate, Catalog, Filters, GraphPath, Interactions

__all__ = ["ToolboxBase"]


class ToolboxBase:
    """The components, shared caches and turn bookkeeping of :class:`~agentrec.agent.toolbox.Toolbox`.

    Args:
        components: an ``agentrec.artifacts.Components`` (catalog, train, retriever, explainer).
        max_paths: explanation paths kept per item.
    """

    def __init__(self, components: Components, *, max_paths: int = 3, pack: DomainPack | None = None) -> None:
        self.components = components
        self.pack = pack if pack is not None else load_pack(getattr(components, "pack", None) or "generic")
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
        self._turn = Turn()  # this object's turn: see begin_turn and bind
        self._shared: dict[str, Any] = {}  # built on first use, shared by every bound view
        self._shared_lock = threading.RLock()

    def _cached(self, key: str, build: Any) -> Any:
        with self._shared_lock:
            if key not in self._shared:
                self._shared[key] = build()
            return self._shared[key]

    @property
    def lexicon(self) -> Lexicon:
        """The catalogue's facet phrases in the domain's words (built on first use)."""

        def build() -> Lexicon:
            enc = getattr(getattr(self.retriever, "store", None), "encoder", None)  # words by meaning, with text
            encode = (lambda texts: enc.encode(texts, use_cache=False)) if enc is not None else None
            return Lexicon.for_catalog(self.schema, self.catalog.items, self.pack, encode=encode)

        return self._cached("lexicon", build)  # type: ignore[no-any-return]

    @property
    def facet_index(self) -> FacetIndex:
        """Vectorised facet matching over the catalogue (the retriever's, when it has one)."""
        index = getattr(self.retriever, "filter_index", None)
        if isinstance(index, FacetIndex):
            return index
        counts = np.bincount(self.train.item_index, minlength=len(self.catalog)).astype(np.int64)
        return self._cached("facets", lambda: FacetIndex.build(self.schema, self.catalog, counts))  # type: ignore[no-any-return]

    @property
    def rows(self) -> ItemRows:
        """Rows for a language model (see :mod:`agentrec.agent.rows`)."""

        def build() -> ItemRows:
            degree = getattr(self.retriever, "item_degree", None)
            if degree is None:
                degree = np.bincount(self.train.item_index, minlength=len(self.catalog))
            quality = getattr(self.retriever, "quality", None)
            mean = getattr(quality, "mean_rating", None)
            if mean is None and self.train.rating is not None:
                n = np.bincount(self.train.item_index, minlength=len(self.catalog))
                total = np.bincount(self.train.item_index, weights=self.train.rating, minlength=len(self.catalog))
                mean = total / np.maximum(n, 1)
            return ItemRows(self.catalog, self.schema, degree=degree, mean_rating=mean, soft=self.lexicon.soft)

        return self._cached("rows", build)  # type: ignore[no-any-return]

    def ids_titled(self, title: str) -> list[str]:
        """Ids of the items whose title is ``title`` exactly, once normalised (case, articles, a year)."""
        from agentrec.agent.titles import normalize_title

        def build() -> dict[str, list[str]]:
            table: dict[str, list[str]] = {}
            for it in self.catalog.items:
                table.setdefault(normalize_title(it.title), []).append(it.item_id)
            return table

        table: dict[str, list[str]] = self._cached("ids_titled", build)
        return table.get(normalize_title(title), [])

    # ----------------------------------------------------------------- turn bookkeeping
    def new_turn(
        self, state: ConversationState | None = None, *, text: str = "", filters: Filters | None = None
    ) -> Turn:
        """A new turn that takes the conversation's memory as its context (this toolbox is not changed).

        Every search of a view bound to it (:meth:`bind`) excludes the conversation's rejected, disliked and
        seen items and adds its standing constraints (``filters`` when given: an LLM turn passes only what the
        user stated); ``explain`` personalises for its user or liked items.
        """
        if state is None:
            ctx = TurnContext(text=text, filters=filters if filters is not None else Filters())
        else:
            ctx = TurnContext(
                user_id=state.user_id,
                liked=tuple(state.liked),
                seen=tuple(state.seen),
                blocked=state.blocked,
                filters=state.filters if filters is None else filters,
                text=text,
            )
        return Turn(ctx=ctx)

    def bind(self, turn: Turn) -> Self:
        """A view of this toolbox whose tools record into ``turn`` (everything else is shared)."""
        view = copy.copy(self)
        view._turn = turn
        return view

    def begin_turn(self, state: ConversationState | None = None, *, text: str = "") -> Turn:
        """Start a new turn on this toolbox object: forget the previous turn's results and paths.

        A shorthand for one thread: turns that may run at the same time use :meth:`new_turn` and :meth:`bind`.

        Returns:
            The new :class:`~agentrec.agent.turn.Turn` (also what :attr:`turn` gives from now on).
        """
        self._turn = self.new_turn(state, text=text)
        return self._turn

    @property
    def turn(self) -> Turn:
        """The turn this toolbox (or view) records into."""
        return self._turn

    @property
    def allowed_item_indices(self) -> set[int]:
        """Item indices any tool returned in this turn (the guard accepts only these)."""
        return self.turn.allowed_item_indices

    @property
    def candidates(self) -> dict[int, Candidate]:
        """Candidates retrieved in this turn, by item index (first retrieval wins)."""
        return self.turn.candidates

    @property
    def paths(self) -> dict[str, GraphPath]:
        """Explanation paths handed out in this turn, by reference (``"p1"``, ...)."""
        return self.turn.paths

    @property
    def trace(self) -> list[TraceEvent]:
        """Tool calls and results of this turn, in order."""
        return self.turn.trace

    @property
    def notes(self) -> list[str]:
        """Notes from the retriever in this turn (fallbacks, empty results)."""
        return self.turn.notes

    @property
    def _ctx(self) -> TurnContext:
        return self.turn.ctx

    def _record(self, kind: str, name: str, detail: str, data: dict[str, Any] | None = None) -> None:
        self.turn.record(kind, name, detail, data)

    def is_known_user(self, user_id: str | None) -> bool:
        """True when ``user_id`` is a user of the training data."""
        return user_id is not None and str(user_id) in self.train.user_id_to_index

    def count(self, filters: Filters, *, skip: Iterable[int] = (), limit: int | None = None) -> int:
        """How many items meet ``filters``, leaving out ``skip``; counting stops at ``limit`` when given."""
        mask = self.facet_index.mask(filters)
        skipped = np.fromiter((int(i) for i in skip), dtype=np.int64)
        mask[skipped[(skipped >= 0) & (skipped < len(mask))]] = False
        n = int(mask.sum())
        return n if limit is None else min(n, limit)
