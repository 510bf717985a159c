"""LangChain glue: the toolbox's six tools as ``@tool`` objects, and the conversation state as LLM context.

Each tool returns ``(content, artifact)`` (``response_format="content_and_artifact"``): short text for the
LLM and the typed value (candidates, paths, a profile, title matches) for the application. A
:class:`~agentrec.agent.types.ToolError` becomes content telling the LLM what to try next. A tool's
docstring IS its prompt: it is written for the LLM and describes every argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from agentrec.agent.types import ToolError, ToolResult

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage
    from langchain_core.tools import BaseTool

    from agentrec.agent.session import ConversationState
    from agentrec.agent.toolbox import Toolbox

__all__ = ["TOOL_NAMES", "history_messages", "make_langchain_tools", "render_state"]

TOOL_NAMES = ("search_catalog", "recommend_for_user", "similar_items", "explain", "user_profile", "lookup_title")
MAX_TOOL_K = 50  # the LLM may ask for more; more than this only fills its context


def _clamp_k(k: int | None, default: int = 10) -> int:
    if k is None:
        return default
    return max(1, min(int(k), MAX_TOOL_K))


def _run(fn: Any, /, **kwargs: Any) -> tuple[str, Any]:
    try:
        result: ToolResult = fn(**kwargs)
    except ToolError as exc:
        return f"Error: {exc}", None
    return result.content, result.artifact


def _filters_arg(filters: Any) -> dict[str, Any] | None:
    """The ``filters`` argument as a plain dict (LangChain passes the validated pydantic model)."""
    if filters is None:
        return None
    if hasattr(filters, "model_dump"):
        return {k: v for k, v in filters.model_dump().items() if v is not None}
    return dict(filters)


def _validation_error(exc: Exception) -> str:
    return f"Error: the arguments do not fit this tool ({exc}). Fix them and call the tool again."


_FILTERS_DOC = (
    "hard constraints every result must meet, as one object keyed by the catalogue's facets (leave out what the "
    "person did not ask for)"
)


def _search_tools(toolbox: Toolbox) -> list[BaseTool]:
    """search_catalog, recommend_for_user and similar_items with a ``filters`` object generated from the schema."""
    from langchain_core.tools import StructuredTool
    from pydantic import Field, create_model

    from agentrec.schema_args import filter_args_model

    filters_model = filter_args_model(toolbox.schema)
    k_field = (int, Field(default=10, description="how many results to return (1-50)"))
    filters_field = (filters_model | None, Field(default=None, description=_FILTERS_DOC))
    specs = {
        "search_catalog": (
            "Search the catalogue by meaning, with optional hard filters. Use it for requests described in words. "
            'Returns lines "id=<item_id> | title | facets". Only item_ids shown by tools may be recommended.',
            {
                "description": (
                    str,
                    Field(
                        description="what the person wants in their own words, e.g. 'slow-burn "
                        "space horror'; leave the filters out of this text"
                    ),
                )
            },
            lambda description, filters=None, k=10: toolbox.search_catalog(
                description=description, filters=_filters_arg(filters), k=_clamp_k(k)
            ),
        ),
        "recommend_for_user": (
            "Personalised recommendations for a known user, from their interaction history (graph model). "
            'Already-seen items are excluded. Returns lines "id=<item_id> | title | facets".',
            {
                "user_id": (
                    str,
                    Field(description='the user\'s id exactly as given in the conversation state, e.g. "42"'),
                ),
                "description": (str, Field(default="", description="optional words about what they want now")),
            },
            lambda user_id, description="", filters=None, k=10: toolbox.recommend_for_user(
                user_id=str(user_id), description=description or "", filters=_filters_arg(filters), k=_clamp_k(k)
            ),
        ),
        "similar_items": (
            'Items similar to one item: people who liked it also liked them. For "more like <title>". '
            'Returns lines "id=<item_id> | title | facets".',
            {"title_or_id": (str, Field(description="the item's item_id (preferred) or its title"))},
            lambda title_or_id, filters=None, k=10: toolbox.similar_items(
                title_or_id=str(title_or_id), filters=_filters_arg(filters), k=_clamp_k(k)
            ),
        ),
    }
    tools: list[BaseTool] = []
    for name, (doc, fields, fn) in specs.items():
        args = create_model(f"{name}_args", **fields, filters=filters_field, k=k_field)  # type: ignore[call-overload]
        tools.append(
            StructuredTool.from_function(
                func=lambda _fn=fn, **kw: _run(_fn, **kw),
                name=name,
                description=doc,
                args_schema=args,
                response_format="content_and_artifact",
                handle_validation_error=_validation_error,
            )
        )
    return tools


def make_langchain_tools(toolbox: Toolbox) -> list[BaseTool]:
    """Wrap the toolbox's tools for a LangChain agent.

    Args:
        toolbox: the plain-Python tools (shared with the offline planner, so both behave the same).

    Returns:
        Six tools, in the order of :data:`TOOL_NAMES`; each returns ``(content, artifact)``.
    """
    from langchain_core.tools import tool

    search_catalog, recommend_for_user, similar_items = _search_tools(toolbox)

    @tool(response_format="content_and_artifact", parse_docstring=True)
    def explain(item: str, user_id: str | None = None, liked: list[str] | None = None) -> tuple[str, Any]:
        """Evidence for why an item suits the person: paths through the data, each with a reference like "p3".

        Cite these references in the evidence of your final answer.

        Args:
            item: the item_id (preferred) or title of the item to explain.
            user_id: the known user's id, when there is one.
            liked: item_ids or titles the person said they like, when there is no user id.
        """
        return _run(toolbox.explain, item=str(item), user_id=user_id, liked=liked or None)

    @tool(response_format="content_and_artifact", parse_docstring=True)
    def user_profile(user_id: str) -> tuple[str, Any]:
        """What a known user liked most and their favourite genres. Use it to understand their taste.

        Args:
            user_id: the user's id exactly as given in the conversation state.
        """
        return _run(toolbox.user_profile, user_id=str(user_id))

    @tool(response_format="content_and_artifact", parse_docstring=True)
    def lookup_title(title: str) -> tuple[str, Any]:
        """Find items by (approximate) title, to get their item_id. Tolerates typos and a missing year.

        Args:
            title: the title as the person wrote it, e.g. "the matrix" or "Toy Story 1995".
        """
        return _run(toolbox.lookup_title, title=str(title))

    return [search_catalog, recommend_for_user, similar_items, explain, user_profile, lookup_title]


def _titles(toolbox: Toolbox, indices: Sequence[int], limit: int = 20) -> str:
    catalog = toolbox.catalog
    shown = [
        f"{catalog[i].item_id} ({catalog[i].display_title})" for i in list(indices)[:limit] if 0 <= i < len(catalog)
    ]
    more = len(indices) - limit
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def render_state(state: ConversationState, toolbox: Toolbox) -> str:
    """The conversation's memory as a few lines for the system prompt.

    Args:
        state: the conversation state.
        toolbox: gives the catalogue, to show ids with titles.

    Returns:
        Markdown lines, or "" when there is nothing to say.
    """
    lines = []
    if state.user_id is not None:
        lines.append(f"- Known user id: {state.user_id} (use recommend_for_user / user_profile / explain with it)")
    else:
        lines.append("- No known user id: rely on the request, the liked items and search.")
    lines.append(f"- Recommendations wanted: {state.k}")
    if state.last_shown:
        numbered = [f"{n}. {t}" for n, t in enumerate(_titles(toolbox, state.last_shown).split(", "), start=1)]
        lines.append('- Last list shown ("the second one" refers to it): ' + "; ".join(numbered))
    for label, items in (
        ("Liked", state.liked),
        ("Disliked (never recommend)", state.disliked),
        ("Rejected (never recommend)", state.rejected),
        ("Already seen (never recommend)", state.seen),
    ):
        if items:
            lines.append(f"- {label}: {_titles(toolbox, items)}")
    f = state.filters
    constraints = [toolbox.schema.describe(f)] if f.facet_names() or f.min_ratings else []
    if state.max_runtime is not None:
        constraints.append(f"runtime at most {state.max_runtime} minutes")
    if constraints:
        lines.append("- Hard constraints stated earlier (still in force): " + "; ".join(constraints))
    return "\n".join(lines)


def history_messages(state: ConversationState, limit: int, current: str | None = None) -> list[BaseMessage]:
    """Earlier turns of the conversation as LangChain messages (user and assistant text only).

    Args:
        state: the conversation state; ``state.messages`` holds ``{"role", "content"}`` dicts.
        limit: keep at most this many of the latest messages.
        current: this turn's user message; dropped from the end of the history when the caller has
            already appended it there.

    Returns:
        ``HumanMessage`` / ``AIMessage`` objects, oldest first.
    """
    from langchain_core.messages import AIMessage, HumanMessage

    history = list(state.messages)
    if current is not None and history and history[-1].get("role") == "user":
        if history[-1].get("content", "").strip() == current.strip():
            history = history[:-1]
    out: list[BaseMessage] = []
    for msg in history[-limit:] if limit > 0 else []:
        content = str(msg.get("content", ""))
        if msg.get("role") == "user":
            out.append(HumanMessage(content))
        elif msg.get("role") == "assistant":
            out.append(AIMessage(content))
    return out
