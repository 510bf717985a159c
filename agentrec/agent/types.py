"""Typed values of the agent layer: replies, trace events, stream events, proposals, tool results.

These are shared by the offline planner, the LLM agent, the guard and the consumers (app, CLI, eval).
None of them imports torch or langchain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from agentrec.types import Catalog, Interactions, Query, Recommendation

__all__ = [
    "Components",
    "GuardReport",
    "Proposal",
    "Reply",
    "StreamEvent",
    "ToolError",
    "ToolResult",
    "TraceEvent",
    "TitleMatch",
    "UserProfile",
]

TraceKind = Literal["tool_call", "tool_result", "llm", "guard", "fallback", "error", "note"]
StreamKind = Literal["token", "tool", "recommendations", "done", "error"]


@dataclass(frozen=True)
class TraceEvent:
    """One step of a turn, for the tool trace shown to users and developers.

    Attributes:
        kind: ``"tool_call"``, ``"tool_result"``, ``"llm"``, ``"guard"``, ``"fallback"``, ``"error"`` or ``"note"``.
        name: the tool, guard rule or component concerned (e.g. ``"search_catalog"``).
        detail: one human-readable line.
        data: optional structured payload (arguments, counts, ...).
    """

    kind: TraceKind
    name: str
    detail: str
    data: Mapping[str, Any] | None = None


@dataclass
class Reply:
    """What ``Agent.chat`` returns for one turn.

    Attributes:
        text: the answer shown to the user.
        recommendations: the validated recommendations (possibly empty).
        trace: the tool calls, guard decisions and fallbacks of this turn, in order.
        mode: ``"offline"`` for the planner, ``"llm:<model>"`` when an LLM answered.
        notes: user-facing caveats (unknown user, unavailable attribute, conflicting constraints, ...).
        query: the structured query the turn was answered with, or None when nothing was retrieved.
        usage: token counts reported by the LLM (empty offline).
    """

    text: str
    recommendations: list[Recommendation]
    trace: list[TraceEvent]
    mode: str
    notes: list[str] = field(default_factory=list)
    query: Query | None = None
    usage: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class StreamEvent:
    """One event of ``Agent.stream``: a text token, a tool event, the final recommendations, done, or an error."""

    kind: StreamKind
    text: str = ""
    data: Any = None


@dataclass(frozen=True)
class Proposal:
    """A recommendation proposed by the LLM (or the planner) before the guard checks it.

    ``evidence`` cites support for the reason. Each entry is one of: a path reference handed out by the
    ``explain`` tool in this turn (``"p3"``), the exact text of such a path, or an attribute fact about the
    item written ``"genre: Comedy"``, ``"year: 1995"`` or ``"tag: pixar"``.
    """

    item_id: str
    reason: str
    evidence: tuple[str, ...] = ()


@dataclass
class GuardReport:
    """The guard's verdict: accepted recommendations and rejected proposals with the reason for each."""

    accepted: list[Recommendation] = field(default_factory=list)
    rejected: list[tuple[Proposal, str]] = field(default_factory=list)


@dataclass(frozen=True)
class ToolResult:
    """What a tool returns: short text for an LLM and a typed artifact for the application.

    ``artifact`` is a ``list[Candidate]`` (search / recommend / similar), a ``list[GraphPath]`` (explain), a
    ``UserProfile`` (user_profile) or a ``list[TitleMatch]`` (lookup_title).
    """

    content: str
    artifact: Any = None


class ToolError(Exception):
    """A tool could not do what was asked; the message says what to try next (it is shown to the LLM)."""


@dataclass(frozen=True)
class TitleMatch:
    """A fuzzy title lookup hit; ``score`` in [0, 1], 1 for an exact (normalised) match."""

    item_index: int
    item_id: str
    title: str
    score: float


@dataclass(frozen=True)
class UserProfile:
    """What a known user liked in the training data (their highest-rated items first) and their top genres."""

    user_id: str
    num_interactions: int
    liked: tuple[TitleMatch, ...]
    top_genres: tuple[tuple[str, int], ...]


class Components(Protocol):
    """What the toolbox needs from ``agentrec.artifacts.Components``."""

    catalog: Catalog
    train: Interactions
    retriever: Any  # agentrec.retrieve.Retriever: retrieve(query), check(item_index, query)
    explainer: Any  # agentrec.graph.paths.Explainer: explain(user, item_index, query), verify(path)
