"""One turn's bookkeeping: what the tools handed out, which the guard then checks against.

A :class:`Turn` is returned by :meth:`agentrec.agent.toolbox.Toolbox.begin_turn`. Tools of one turn may run at
the same time (an LLM's parallel tool calls run in worker threads), so everything a tool adds goes through a
method that holds the turn's lock: two ``explain`` calls never hand out the same path reference.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from agentrec.agent.types import TraceEvent
from agentrec.types import Candidate, Filters, GraphPath

__all__ = ["Turn", "TurnContext"]


@dataclass
class TurnContext:
    """The conversation's memory a turn's tools apply: who, seeds, exclusions, standing constraints, the text."""

    user_id: str | None = None
    liked: tuple[int, ...] = ()
    seen: tuple[int, ...] = ()
    blocked: tuple[int, ...] = ()
    filters: Filters = field(default_factory=Filters)
    text: str = ""


@dataclass
class Turn:
    """What one turn's tools have handed out so far.

    Attributes:
        allowed_item_indices: item indices any tool returned (the guard accepts only these).
        candidates: retrieved candidates by item index (the first retrieval wins).
        paths: explanation paths by reference (``"p1"``, ``"p2"``, ...).
        trace: tool calls and results, in order.
        notes: notes from the retriever (fallbacks, empty results).
        ctx: the conversation's memory for this turn.
    """

    allowed_item_indices: set[int] = field(default_factory=set)
    candidates: dict[int, Candidate] = field(default_factory=dict)
    paths: dict[str, GraphPath] = field(default_factory=dict)
    trace: list[TraceEvent] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ctx: TurnContext = field(default_factory=TurnContext)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add_paths(self, paths: Iterable[GraphPath]) -> list[str]:
        """Hand out ``paths`` under fresh references (consecutive, never reused in this turn), returned in order."""
        with self._lock:
            refs = []
            for p in paths:
                ref = f"p{len(self.paths) + 1}"
                self.paths[ref] = p
                refs.append(ref)
            return refs

    def add_candidates(self, candidates: Iterable[Candidate]) -> None:
        """Record retrieved candidates (their items become recommendable this turn)."""
        with self._lock:
            for c in candidates:
                self.allowed_item_indices.add(c.item_index)
                self.candidates.setdefault(c.item_index, c)

    def allow(self, item_indices: Iterable[int]) -> None:
        """Make items recommendable this turn (e.g. title matches)."""
        with self._lock:
            self.allowed_item_indices.update(int(i) for i in item_indices)

    def add_notes(self, notes: Iterable[str]) -> None:
        """Record notes, each once."""
        with self._lock:
            self.notes.extend(n for n in dict.fromkeys(notes) if n not in self.notes)

    def record(self, kind: str, name: str, detail: str, data: dict[str, Any] | None = None) -> None:
        """Append a trace event."""
        with self._lock:
            self.trace.append(TraceEvent(kind, name, detail, data))  # type: ignore[arg-type]
