"""Markdown pieces of the chat app: trace, memory panel, mode banner (the cards are :mod:`agentrec.ui.cards`).

Pure functions of agentrec values (no Gradio), so they are unit-tested on their own. Everything that
comes from data or from the user is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from agentrec.schema import CatalogSchema
from agentrec.types import Catalog, Filters, GraphPath, Query
from agentrec.ui.answer import md_escape

__all__ = [
    "banner_markdown",
    "evidence_in_words",
    "memory_markdown",
    "trace_markdown",
]


class TraceLike(Protocol):
    """What the trace panel reads from an ``agentrec.agent.types.TraceEvent``."""

    kind: str
    name: str
    detail: str


def evidence_in_words(path: GraphPath) -> str:
    """One explanation path as a sentence.

    Uses the path's rendered ``text`` when it has one, else joins the node labels with the edge relations
    ("Alien -[liked by 12 users who liked]-> Aliens").
    """
    if path.text:
        return path.text
    parts = [path.nodes[0].label]
    for edge, node in zip(path.edges, path.nodes[1:], strict=True):
        parts.append(f"—{edge.relation}→ {node.label}")
    return " ".join(parts)


def trace_markdown(trace: Sequence[TraceLike], *, max_detail_chars: int = 400) -> str:
    """The agent's tool calls and decisions of the last turn as a numbered Markdown list."""
    if not trace:
        return "_No agent steps yet: ask for something._"
    icons = {
        "tool_call": "🔧",
        "tool_result": "📦",
        "llm": "🧠",
        "guard": "🛡️",
        "fallback": "↩️",
        "error": "⚠️",
        "note": "📝",
    }
    lines = []
    for i, event in enumerate(trace, 1):
        detail = " ".join(str(event.detail).split())
        if len(detail) > max_detail_chars:
            detail = detail[: max_detail_chars - 1] + "…"
        icon = icons.get(event.kind, "•")
        name = str(event.name).replace("`", "'")
        lines.append(f"{i}. {icon} **{_md_escape(event.kind)}** `{name}` — {_md_escape(detail)}")
    return "\n".join(lines)


def banner_markdown(mode: str, *, dataset: str | None = None) -> str:
    """The banner naming the mode: the LLM model, or offline mode."""
    where = f" · dataset **{_md_escape(dataset)}**" if dataset else ""
    if mode.startswith("llm:"):
        model = mode.split(":", 1)[1]
        return f"🧠 **LLM mode** — model `{_md_escape(model)}`{where}"
    return (
        f"🔌 **Offline mode** — deterministic planner, no LLM configured{where}. "
        "Set `AGENTREC_LLM_MODEL` (and `OPENAI_BASE_URL`) to talk to an LLM."
    )


def memory_markdown(
    *,
    user_id: str | None,
    query: Query | None,
    feedback: Mapping[str, bool],
    titles: Mapping[str, str],
    catalog: Catalog | None = None,
    known_user: bool = True,
    schema: CatalogSchema | None = None,
) -> str:
    """What the conversation remembers: the user, constraints, liked and disliked items.

    Args:
        user_id: the personalised user's raw id, or None for a new user.
        query: the last turn's query (its filters are the accumulated constraints), or None.
        feedback: item id -> liked (True) / disliked (False) from the card buttons.
        titles: item id -> display title, for items the feedback refers to.
        catalog: used to name the query's liked / rejected item indices.
        known_user: False when ``user_id`` is not in the dataset (so nothing is personalised).
        schema: the catalogue's facets, for naming the constraints.
    """
    who = "new user" if user_id is None else _md_escape(user_id)
    if user_id is not None and not known_user:
        who += " (not in the dataset: not personalised)"
    lines = [f"- **User:** {who}"]
    constraints = describe_filters(query.filters, schema) if query is not None else ""
    lines.append(f"- **Constraints:** {constraints or 'none yet'}")
    liked = [titles.get(i, i) for i, v in feedback.items() if v]
    disliked = [titles.get(i, i) for i, v in feedback.items() if not v]
    if query is not None and catalog is not None:
        liked += [catalog[i].display_title for i in query.liked_items if 0 <= i < len(catalog)]
        disliked += [catalog[i].display_title for i in query.rejected if 0 <= i < len(catalog)]
    lines.append(f"- **Liked:** {_join_unique(liked) or '—'}")
    lines.append(f"- **Disliked / rejected:** {_join_unique(disliked) or '—'}")
    return "\n".join(lines)


def describe_filters(filters: Filters, schema: CatalogSchema | None = None) -> str:
    """Hard constraints in words ("genre Horror and Sci-Fi, year 1980+"), "" when there are none.

    ``schema`` gives facet labels, units and the catalogue's spelling of values; without it facet names are used.
    """
    text = (schema or CatalogSchema()).describe(filters, facets_only=True)
    if filters.min_ratings:
        text = ", ".join(p for p in (text, f"at least {filters.min_ratings} ratings") if p)
    return _md_escape(text)


def _join_unique(names: Iterable[Any]) -> str:
    seen: dict[str, None] = {}
    for n in names:
        seen.setdefault(_md_escape(str(n)), None)
    return ", ".join(seen)


def _md_escape(text: str) -> str:
    # Keep user/data text from turning into Markdown or HTML.
    return md_escape(text)
