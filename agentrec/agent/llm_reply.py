"""Reading the LLM's answer: lenient proposals, the repair request, usage, trace lines, whether to fill.

Kept apart from :mod:`agentrec.agent.llm` (the loop) so each stays small. Nothing here imports LangChain.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentrec.agent.llm_client import FINAL_TOOL_NAME
from agentrec.agent.types import Proposal, TraceEvent
from agentrec.types import Recommendation

if TYPE_CHECKING:
    from agentrec.agent.toolbox import Toolbox

__all__ = [
    "LLMResult",
    "add_usage",
    "answered_only",
    "decide_fill",
    "proposals",
    "repair_message",
    "resolve_id",
    "usage_event",
]

_ID_PREFIX = re.compile(r"^\s*(?:item[_ ]?id|item|id)\s*[=:#]\s*|^\s*#", re.IGNORECASE)


@dataclass
class LLMResult:
    """One LLM turn after the guard.

    Attributes:
        text: the model's message to the user, cleaned (see :mod:`agentrec.agent.llm_text`).
        accepted: guard-approved recommendations, in the model's order.
        trace: model calls, tool calls and results, guard verdicts, the repair attempt and the usage, in order.
        usage: summed ``input_tokens``, ``output_tokens``, ``total_tokens``, ``llm_calls`` and ``tool_calls``.
        repaired: True when a repair attempt was made.
        rejected: proposals the guard rejected in the last attempt, with its reasons.
        fill: True when the application should add deterministic picks up to ``k`` (the model failed or asked).
        question: True when the model asked the person a question instead of recommending.
    """

    text: str
    accepted: list[Recommendation]
    trace: list[TraceEvent]
    usage: dict[str, int]
    repaired: bool
    rejected: list[tuple[Proposal, str]] = field(default_factory=list)
    fill: bool = True
    question: bool = False


def add_usage(usage: dict[str, int], message: Any) -> None:
    """Add one model call's token counts to ``usage``."""
    meta = getattr(message, "usage_metadata", None) or {}
    for key in ("input_tokens", "output_tokens", "total_tokens"):
        usage[key] = usage.get(key, 0) + int(meta.get(key, 0) or 0)
    usage["llm_calls"] = usage.get("llm_calls", 0) + 1


def usage_event(usage: dict[str, int]) -> TraceEvent:
    """The turn's token accounting as a trace line."""
    detail = (
        f"{usage.get('input_tokens', 0)} input + {usage.get('output_tokens', 0)} output tokens over "
        f"{usage.get('llm_calls', 0)} model call(s), {usage.get('tool_calls', 0)} tool call(s)"
    )
    return TraceEvent("note", "usage", detail, dict(usage))


def resolve_id(raw: Any, tools: Toolbox) -> str:
    """The catalogue id a model meant.

    Numbers and ``id=`` prefixes are read, and a title is looked up among the items this turn's tools handed out
    (the guard still decides; an unknown reference stays as given).
    """
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    key = _ID_PREFIX.sub("", str(raw)).strip().strip("'\"`").strip()
    catalog = tools.catalog
    if key in catalog.id_to_index or not key:
        return key
    from agentrec.agent.titles import normalize_title

    allowed = sorted(tools.turn.allowed_item_indices)
    wanted = normalize_title(key)
    for i in allowed:
        if normalize_title(catalog[i].title) == wanted or normalize_title(catalog[i].display_title) == wanted:
            return catalog[i].item_id
    hits = [h for h in tools.titles.lookup(key, k=5, cutoff=0.9) if h.item_index in tools.turn.allowed_item_indices]
    return hits[0].item_id if hits else key


def proposals(structured: Any, tools: Toolbox) -> list[Proposal]:
    """The final answer's items as proposals (ids resolved by :func:`resolve_id`, duplicates dropped)."""
    out: list[Proposal] = []
    seen: set[str] = set()
    for item in getattr(structured, "items", None) or []:
        item_id = resolve_id(item.item_id, tools)
        if not item_id or item_id in seen:
            continue
        seen.add(item_id)
        evidence = [item.evidence] if isinstance(item.evidence, str) else list(item.evidence or [])
        out.append(Proposal(item_id, str(item.reason or "").strip(), tuple(str(e) for e in evidence)))
    return out


def repair_message(rejected: Sequence[tuple[Proposal, str]], missing: int) -> str:
    """What the model is told after the guard rejected some of its items."""
    lines = [f"- {p.item_id}: {why}" for p, why in rejected]
    return (
        "The application rejected these recommendations:\n"
        + "\n".join(lines)
        + f"\nPropose up to {missing} replacement(s): only ids that tools returned this turn, not seen or "
        "rejected, meeting every hard constraint, each citing evidence you were shown (call `explain` if needed). "
        f"Then call {FINAL_TOOL_NAME} again with ONLY the replacements."
    )


def answered_only(messages: Iterable[Any]) -> list[Any]:
    """``messages`` with every tool call that got no tool message removed.

    A final answer given alongside another call leaves that call unanswered, which OpenAI-compatible servers
    refuse in a later request.
    """
    msgs = list(messages)
    answered = {getattr(m, "tool_call_id", None) for m in msgs if getattr(m, "type", "") == "tool"}
    out = []
    for m in msgs:
        calls = getattr(m, "tool_calls", None) if getattr(m, "type", "") == "ai" else None
        if calls and any(c.get("id") not in answered for c in calls):
            kept = [c for c in calls if c.get("id") in answered]
            m = m.model_copy(update={"tool_calls": kept, "invalid_tool_calls": []})
        out.append(m)
    return out


def decide_fill(structured: Any, accepted: Sequence[Recommendation], rejected: Sequence[Any], text: str) -> bool:
    """Whether the application should add deterministic picks.

    Yes when the model failed (no answer, or items the guard refused), returned nothing without asking, or asked
    for it (``fill``); never after a question.
    """
    question = not accepted and text.rstrip().endswith("?")
    if question and getattr(structured, "fill", None) is not True:
        return False
    if structured is None:
        return True
    asked = getattr(structured, "fill", None)
    if asked is not None:
        return bool(asked) or bool(rejected)
    return bool(rejected) or not accepted


def call_text(call: dict[str, Any]) -> str:
    """A tool call in one line: ``name(arg='value', ...)``."""
    args = ", ".join(f"{k}={v!r}" for k, v in (call.get("args") or {}).items() if v is not None)
    return f"{call['name']}({args})"


def first_line(text: str, limit: int = 200) -> str:
    """The first line of ``text``, cut to ``limit`` characters."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def artifact_ids(artifact: Any) -> list[str]:
    """Item ids of a tool's artifact (candidates, title matches), else []."""
    if isinstance(artifact, Iterable) and not isinstance(artifact, str | bytes | dict):
        return [str(a.item_id) for a in artifact if hasattr(a, "item_id")]
    return []


def last_ai_text(messages: Sequence[Any]) -> str:
    """The text of the last assistant message that has some."""
    for msg in reversed(messages):
        if getattr(msg, "type", "") == "ai" and isinstance(msg.content, str) and msg.content.strip():
            return str(msg.content).strip()
    return ""
