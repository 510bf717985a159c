"""LangChain glue: the toolbox's six tools as LangChain tools, and the conversation state as LLM context.

Each tool returns ``(content, artifact)`` (``response_format="content_and_artifact"``): short text for the
LLM and the typed value (candidates, paths, a profile, title matches) for the application. A
:class:`~agentrec.agent.types.ToolError` becomes content telling the LLM what to try next. A tool's
docstring IS its prompt: it is written once, on the :class:`~agentrec.agent.toolbox.Toolbox` method that the
offline planner calls too, and describes every argument.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from agentrec.agent.types import ToolError, ToolResult
from agentrec.types import Filters

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage
    from langchain_core.tools import BaseTool

    from agentrec.agent.session import ConversationState
    from agentrec.agent.toolbox import Toolbox
    from agentrec.schema import CatalogSchema

__all__ = [
    "TOOL_NAMES",
    "USER_TOOLS",
    "filters_spec",
    "history_messages",
    "make_langchain_tools",
    "parse_google_docstring",
    "render_state",
    "stated_filters",
    "suggestions",
    "tool_from_method",
]

TOOL_NAMES = ("search_catalog", "recommend_for_user", "similar_items", "explain", "user_profile", "lookup_title")
USER_TOOLS = ("recommend_for_user", "user_profile")  # shown to the model only when the user is known
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


def parse_google_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """(description, argument -> description) from a Google-style docstring; the description stops at ``Args:``.

    Raises:
        ValueError: when the docstring has no ``Args:`` entries at all.
    """
    text = inspect.cleandoc(doc or "")
    head, _, rest = text.partition("\nArgs:\n")
    args: dict[str, str] = {}
    current = ""
    for line in rest.splitlines():
        if line and not line.startswith(" "):
            break  # the next section (Returns:, Raises:)
        m = re.match(r"^ {4}(\w+)(?: \([^)]*\))?: (.*)$", line)
        if m:
            current = m.group(1)
            args[current] = m.group(2).strip()
        elif current and line.strip():
            args[current] += " " + line.strip()
    return head.strip(), args


FILTERS_DOC = "hard constraints: the Filters object of the system prompt"


def tool_from_method(toolbox: Toolbox, name: str) -> BaseTool:
    """A LangChain tool from one of the toolbox's methods: its signature and docstring ARE the tool's.

    The ``filters`` argument is the one shared Filters object (described once, in the system prompt, by
    :func:`filters_spec`; checked by the toolbox, whose errors name the valid keys and values); ``k`` is clamped to
    1-50; a :class:`~agentrec.agent.types.ToolError` becomes advice for the LLM. The tool runs on the toolbox view
    in the graph's runtime context (``context["tools"]``, bound to the running turn), else on ``toolbox``.

    Raises:
        ValueError: when an argument of the method is not described in its docstring.
    """
    from langchain.tools import ToolRuntime
    from langchain_core.tools import StructuredTool
    from pydantic import Field, create_model

    method = getattr(toolbox, name)
    description, docs = parse_google_docstring(method.__doc__ or "")
    hints = typing.get_type_hints(method)
    fields: dict[str, Any] = {}
    for arg, param in inspect.signature(method).parameters.items():
        if arg not in docs:
            raise ValueError(f"Toolbox.{name}: argument {arg!r} is not described in the docstring (the LLM's prompt)")
        kind = dict[str, Any] | None if arg == "filters" else hints[arg]
        default = ... if param.default is inspect.Parameter.empty else param.default
        doc = FILTERS_DOC if arg == "filters" else docs[arg]  # described once, in the system prompt
        fields[arg] = (kind, Field(default=default, description=doc))

    def call(runtime: ToolRuntime = None, **kwargs: Any) -> tuple[str, Any]:  # type: ignore[assignment]
        context = getattr(runtime, "context", None)
        tools = context.get("tools") if isinstance(context, dict) else None
        if "filters" in kwargs:
            kwargs["filters"] = _filters_arg(kwargs["filters"])
        if "k" in kwargs:
            kwargs["k"] = _clamp_k(kwargs["k"])
        return _run(getattr(tools if tools is not None else toolbox, name), **kwargs)

    # Real objects, not the strings of postponed annotations: LangGraph reads them to inject the runtime.
    call.__annotations__ = {"runtime": ToolRuntime, "kwargs": Any, "return": tuple[str, Any]}

    return StructuredTool.from_function(
        func=call,
        name=name,
        description=description,
        args_schema=create_model(f"{name}_args", **fields),
        response_format="content_and_artifact",
        handle_validation_error=_validation_error,
    )


def filters_spec(schema: CatalogSchema, *, show_all: int = 30) -> str:
    """The shared Filters object for the system prompt, one line per facet (its keys, values or span)."""
    lines = []
    for f in schema.categorical:
        values = f.values if len(f.values) <= show_all else (*f.values[:6], f"... {len(f.values)} values")
        shown = f": {', '.join(values)}" if values else ""
        lines.append(f"- `{f.name}` [values], `{f.name}_match` ('all'|'any'), `exclude_{f.name}` [values]{shown}")
    for f in schema.numeric:
        span = f"; spans {f.format_number(f.bounds[0])} to {f.format_number(f.bounds[1])}" if f.bounds else ""
        unit = f" in {f.unit}" if f.unit else ""
        lines.append(
            f"- `{f.name}_min`, `{f.name}_max`, `{f.name}_ranges` [[min, max], ...] (either/or), "
            f"`exclude_{f.name}_min`, `exclude_{f.name}_max`{unit}{span}"
        )
    return "\n".join(lines)


def make_langchain_tools(toolbox: Toolbox) -> list[BaseTool]:
    """The toolbox's six tools for a LangChain agent, built from the toolbox's own methods.

    Args:
        toolbox: the plain-Python tools (shared with the offline planner, so both behave the same).

    Returns:
        Six tools, in the order of :data:`TOOL_NAMES`; each returns ``(content, artifact)``.
    """
    return [tool_from_method(toolbox, name) for name in TOOL_NAMES]


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
    f = stated_filters(state)
    constraints = [toolbox.schema.describe(f)] if f.facet_names() or f.min_ratings or f.exclude_words else []
    if constraints:
        lines.append("- Hard constraints the person stated (still in force): " + "; ".join(constraints))
    hints = suggestions(state)
    if hints:
        lines.append("- Suggestions read from the request (not stated; use them or not): " + "; ".join(hints))
    return "\n".join(lines)


def stated_filters(state: ConversationState) -> Filters:
    """The conversation's hard constraints as the person stated them.

    Exclusions and ranges stay hard. A wanted value stays hard only when the person used its own words (a word of
    the value, or one sharing its first letters: "animated" for Animation, "sci-fi please" for Sci-Fi); a value
    the planner read from a synonym or a topic word ("for my kids" -> Children, "funny" -> Comedy) is left to
    the model as a suggestion (:func:`suggestions`).
    """
    f = state.filters
    said = _said_words(state)
    inferred = state.wish.inferred
    include = {
        k: tuple(v for v in vals if v not in inferred.get(k, ()) and _named(v, said)) for k, vals in f.include.items()
    }
    include = {k: v for k, v in include.items() if v}
    if include == dict(f.include):
        return f
    return replace(f, include=include, match={k: m for k, m in f.match.items() if k in include})


def _said_words(state: ConversationState) -> set[str]:
    text = " ".join(str(m.get("content", "")) for m in state.messages if m.get("role") == "user")
    return set(re.findall(r"[a-z0-9]+", text.casefold()))


def _named(value: str, said: set[str]) -> bool:
    """True when one of ``value``'s words (3+ letters) is one of ``said`` or shares its first five letters."""
    for word in re.findall(r"[a-z0-9]+", value.casefold()):
        if len(word) < 3 and word not in said:
            continue
        stem = word[:5]
        if any(w == word or (len(w) >= 3 and (w.startswith(stem) or word.startswith(w[:5]))) for w in said):
            return True
    return False


def suggestions(state: ConversationState) -> list[str]:
    """What the planner read into the request without the person stating it: inferred values and soft wishes."""
    wish, stated = state.wish, stated_filters(state)
    demoted = {k: [v for v in vals if v not in stated.include.get(k, ())] for k, vals in state.filters.include.items()}
    out = [f"{facet} {', '.join(vals)}" for facet, vals in demoted.items() if vals]
    out += [f"prefer {facet} {', '.join(vals)}" for facet, vals in wish.prefer.items() if vals]
    out += [f"rather not {facet} {', '.join(vals)}" for facet, vals in wish.avoid.items() if vals]
    out += [f"rather not {', '.join(wish.avoid_terms)}"] if wish.avoid_terms else []
    return out


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
