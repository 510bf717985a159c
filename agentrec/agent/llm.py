"""The LLM agent: LangChain ``create_agent`` + ``ChatOpenAI`` against any OpenAI-compatible endpoint.

One turn (:meth:`LLMAgent.run`): the model calls the tools (:mod:`agentrec.agent.lctools`), then ends with a
structured ``RecommendationList``. The guard (a ``validate`` callable from the core) checks every proposal;
when some are rejected the model gets ONE repair attempt with the rejection reasons. Whatever is still
missing afterwards is filled by the core's deterministic ranking. HTTP 429 / 5xx / timeouts are retried
with exponential backoff by the OpenAI client (``AgentConfig.max_retries``); when the LLM stays unusable,
:class:`LLMUnavailable` says why and the core falls back to the offline planner.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentrec.agent.llm_client import FINAL_TOOL_NAME, LLMUnavailable, describe_failure, final_schema, make_chat_model
from agentrec.agent.types import GuardReport, Proposal, StreamEvent, TraceEvent
from agentrec.config import AgentConfig
from agentrec.types import Recommendation

if TYPE_CHECKING:
    from agentrec.agent.session import ConversationState
    from agentrec.agent.toolbox import Toolbox

__all__ = ["FINAL_TOOL_NAME", "LLMAgent", "LLMResult", "LLMUnavailable", "make_chat_model"]

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 8000  # longer user messages are cut before they reach the LLM
MAX_HISTORY_MESSAGES = 12  # earlier turns kept in the LLM's context
MAX_MALFORMED_ROUNDS = 2  # times a turn is resumed after tool calls whose arguments are not JSON


@dataclass
class LLMResult:
    """One LLM turn after the guard.

    Attributes:
        text: the model's message to the user.
        accepted: guard-approved recommendations, in the model's order (may be fewer than ``k``; the core
            fills the rest deterministically).
        trace: tool calls, tool results, model calls, guard verdicts and the repair attempt, in order.
        usage: summed token counts (``input_tokens``, ``output_tokens``, ``total_tokens``, ``llm_calls``).
        repaired: True when a repair attempt was made.
        rejected: proposals the guard rejected in the last attempt, with its reasons.
    """

    text: str
    accepted: list[Recommendation]
    trace: list[TraceEvent]
    usage: dict[str, int]
    repaired: bool
    rejected: list[tuple[Proposal, str]] = field(default_factory=list)


def _add_usage(usage: dict[str, int], message: Any) -> None:
    meta = getattr(message, "usage_metadata", None) or {}
    for key in ("input_tokens", "output_tokens", "total_tokens"):
        usage[key] = usage.get(key, 0) + int(meta.get(key, 0) or 0)
    usage["llm_calls"] = usage.get("llm_calls", 0) + 1


def _proposals(structured: Any) -> list[Proposal]:
    out: list[Proposal] = []
    seen: set[str] = set()
    for item in getattr(structured, "items", None) or []:
        item_id = str(item.item_id).strip()
        if not item_id or item_id in seen:
            continue
        seen.add(item_id)
        out.append(Proposal(item_id=item_id, reason=str(item.reason).strip(), evidence=tuple(item.evidence)))
    return out


def _repair_message(rejected: Sequence[tuple[Proposal, str]], missing: int) -> str:
    lines = [f"- {p.item_id}: {why}" for p, why in rejected]
    return (
        "The application rejected these recommendations:\n"
        + "\n".join(lines)
        + f"\nPropose up to {missing} replacement(s): only item_ids that appeared in tool results this turn, "
        "not seen or rejected, satisfying every constraint, each citing evidence you were shown (call "
        f"`explain` if needed). Then call {FINAL_TOOL_NAME} again with ONLY the replacements."
    )


class LLMAgent:
    """A tool-calling LLM agent over a :class:`~agentrec.agent.toolbox.Toolbox`.

    Args:
        config: the LLM settings (``AgentConfig.from_env()``).
        toolbox: the six tools as plain Python (shared with the offline planner).
        chat_model: a LangChain chat model to use instead of ``ChatOpenAI`` built from ``config``.
        catalog_name: the catalogue's name, shown to the model.
        max_steps: graph steps allowed per attempt (each model call and each tool round is one or two).
        render_state: turns a ``ConversationState`` into the text the system prompt shows the model;
            defaults to :func:`agentrec.agent.lctools.render_state`.
    """

    def __init__(
        self,
        config: AgentConfig,
        toolbox: Toolbox,
        *,
        chat_model: Any = None,
        catalog_name: str = "catalogue",
        max_steps: int = 24,
        render_state: Callable[[ConversationState], str] | None = None,
    ) -> None:
        if max_steps < 4:
            raise ValueError(f"max_steps must be at least 4, got {max_steps}")
        self.config = config
        self.toolbox = toolbox
        self.catalog_name = catalog_name
        self.max_steps = max_steps
        self._chat_model = chat_model
        self._render_state = render_state
        self._graph: Any = None

    @property
    def model_name(self) -> str:
        """The configured model name (``"llm:<model>"`` is the reply mode)."""
        return self.config.model or getattr(self._chat_model, "model_name", None) or "custom"

    def _build(self) -> Any:
        if self._graph is not None:
            return self._graph
        from langchain.agents import create_agent
        from langchain.agents.middleware import ModelRequest, dynamic_prompt
        from langchain.agents.structured_output import ToolStrategy

        from agentrec.agent.lctools import make_langchain_tools

        model = self._chat_model if self._chat_model is not None else make_chat_model(self.config)

        @dynamic_prompt
        def prompt(request: ModelRequest) -> str:
            context: dict[str, Any] = request.runtime.context or {}
            return str(context.get("system_prompt", ""))

        self._graph = create_agent(
            model,
            tools=make_langchain_tools(self.toolbox),
            middleware=[prompt],
            response_format=ToolStrategy(final_schema(), handle_errors=True),
        )
        return self._graph

    def system_prompt(self, state: ConversationState) -> str:
        """The system prompt for a turn in ``state``."""
        from agentrec.agent.lctools import render_state
        from agentrec.agent.prompts import system_prompt

        render = self._render_state or (lambda s: render_state(s, self.toolbox))
        return system_prompt(catalog=self.catalog_name, k=int(getattr(state, "k", 10)), state=render(state))

    def run(
        self,
        message: str,
        state: ConversationState,
        *,
        validate: Callable[[list[Proposal]], GuardReport],
        on_event: Callable[[StreamEvent], None] | None = None,
    ) -> LLMResult:
        """Answer one user message.

        Args:
            message: what the user said this turn.
            state: the conversation so far (history, likes, rejections, constraints, last list, k).
            validate: the guard; returns accepted recommendations and rejected proposals with reasons.
            on_event: receives ``"token"`` events (model text) and ``"tool"`` events as they happen.

        Returns:
            The model's text, the accepted recommendations, the trace, token usage and whether a repair
            attempt was made.

        Raises:
            LLMUnavailable: the model could not be reached, rejected the request, or did not finish.
        """
        from langchain_core.messages import HumanMessage

        from agentrec.agent.lctools import history_messages

        k = int(getattr(state, "k", 10))
        text = message.strip()
        if len(text) > MAX_MESSAGE_CHARS:
            text = text[:MAX_MESSAGE_CHARS] + " [message cut]"
        trace: list[TraceEvent] = []
        usage: dict[str, int] = {}
        graph = self._build()  # LLMUnavailable when no usable client can be configured
        context = {"system_prompt": self.system_prompt(state)}
        messages: list[Any] = [
            *history_messages(state, MAX_HISTORY_MESSAGES, current=message),
            HumanMessage(text or "(empty)"),
        ]

        messages, structured = self._attempt(graph, messages, context, trace, usage, on_event)
        final_text = str(getattr(structured, "message", "") or "") if structured is not None else ""
        if structured is None:
            final_text = _last_ai_text(messages)
        report = validate(_proposals(structured))
        self._trace_guard(trace, report, attempt=1)
        accepted = list(report.accepted)
        rejected = list(report.rejected)
        repaired = False
        if rejected and len(accepted) < k:
            repaired = True
            trace.append(TraceEvent("note", "repair", f"asking the model to replace {len(rejected)} rejected item(s)"))
            messages.append(HumanMessage(_repair_message(rejected, k - len(accepted))))
            try:
                messages, structured2 = self._attempt(graph, messages, context, trace, usage, on_event)
            except LLMUnavailable as exc:
                trace.append(TraceEvent("error", "repair", f"repair attempt failed: {exc.reason}"))
                structured2 = None
            report2 = validate(_proposals(structured2))
            self._trace_guard(trace, report2, attempt=2)
            have = {r.item_index for r in accepted}
            accepted += [r for r in report2.accepted if r.item_index not in have]
            rejected = list(report2.rejected)
        accepted = accepted[:k]
        if on_event is not None and final_text:
            on_event(StreamEvent("token", final_text))
        return LLMResult(
            text=final_text, accepted=accepted, trace=trace, usage=usage, repaired=repaired, rejected=rejected
        )

    @staticmethod
    def _trace_guard(trace: list[TraceEvent], report: GuardReport, *, attempt: int) -> None:
        detail = f"attempt {attempt}: accepted {len(report.accepted)}, rejected {len(report.rejected)}"
        data = {
            "attempt": attempt,
            "accepted": [r.item_id for r in report.accepted],
            "rejected": {p.item_id: why for p, why in report.rejected},
        }
        trace.append(TraceEvent("guard", "guard", detail, data))

    def _attempt(
        self,
        graph: Any,
        messages: list[Any],
        context: dict[str, Any],
        trace: list[TraceEvent],
        usage: dict[str, int],
        on_event: Callable[[StreamEvent], None] | None,
    ) -> tuple[list[Any], Any]:
        """Run the graph; returns the full message list and the structured response (or None).

        LangChain's loop ends when the model's only tool calls are malformed (arguments that are not JSON);
        the graph is then resumed, up to ``MAX_MALFORMED_ROUNDS`` times, so the model reads the "malformed
        arguments" message that LangChain adds and can try again.
        """
        all_messages = list(messages)
        structured: Any = None
        started = time.perf_counter()
        for _ in range(MAX_MALFORMED_ROUNDS + 1):
            structured = self._stream_once(graph, all_messages, context, trace, usage, on_event)
            if structured is not None:
                break
            last = next((m for m in reversed(all_messages) if getattr(m, "type", "") == "ai"), None)
            if last is None or last.tool_calls or not getattr(last, "invalid_tool_calls", None):
                break
            trace.append(TraceEvent("note", "malformed", "resuming so the model can fix its malformed tool call"))
        logger.debug("LLM attempt took %.3f s", time.perf_counter() - started)
        return all_messages, structured

    def _stream_once(
        self,
        graph: Any,
        all_messages: list[Any],
        context: dict[str, Any],
        trace: list[TraceEvent],
        usage: dict[str, int],
        on_event: Callable[[StreamEvent], None] | None,
    ) -> Any:
        """Stream the graph once from ``all_messages`` (extended in place); the structured response or None."""
        from langgraph.errors import GraphRecursionError

        structured: Any = None
        try:
            stream = graph.stream(
                {"messages": list(all_messages)},
                context=context,
                config={"recursion_limit": self.max_steps},
                stream_mode=["messages", "updates"],
            )
            for mode, payload in stream:
                if mode == "messages":
                    chunk, meta = payload
                    content = getattr(chunk, "content", "")
                    if on_event is not None and meta.get("langgraph_node") == "model" and isinstance(content, str):
                        if content:
                            on_event(StreamEvent("token", content))
                    continue
                for node, update in (payload or {}).items():
                    if not isinstance(update, dict):
                        continue
                    known = {getattr(m, "id", None) for m in all_messages} - {None}
                    # LangChain re-emits earlier messages it patched (malformed calls); count each once.
                    fresh = [m for m in update.get("messages") or [] if getattr(m, "id", None) not in known]
                    all_messages.extend(fresh)
                    for msg in fresh:
                        self._trace_message(node, msg, trace, usage, on_event)
                    if update.get("structured_response") is not None:
                        structured = update["structured_response"]
        except GraphRecursionError as exc:
            reason = f"the model did not finish its answer within {self.max_steps} steps (it kept calling tools)"
            trace.append(TraceEvent("error", "llm", reason))
            raise LLMUnavailable(reason) from exc
        except Exception as exc:
            failure = describe_failure(exc, self.config)
            if failure is None:
                raise
            trace.append(TraceEvent("error", "llm", failure, {"error": type(exc).__name__}))
            raise LLMUnavailable(failure) from exc
        return structured

    @staticmethod
    def _trace_message(
        node: str,
        msg: Any,
        trace: list[TraceEvent],
        usage: dict[str, int],
        on_event: Callable[[StreamEvent], None] | None,
    ) -> None:
        kind = getattr(msg, "type", "")
        if kind == "ai":
            _add_usage(usage, msg)
            calls = list(getattr(msg, "tool_calls", None) or [])
            invalid = list(getattr(msg, "invalid_tool_calls", None) or [])
            names = ", ".join(c["name"] for c in calls) or ("malformed tool call" if invalid else "text")
            trace.append(TraceEvent("llm", "model", f"model answered: {names}", dict(msg.usage_metadata or {})))
            for bad in invalid:
                detail = f"malformed tool call {bad.get('name')!r}: {bad.get('error') or 'arguments are not JSON'}"
                trace.append(TraceEvent("error", str(bad.get("name") or "unknown"), detail, {"args": bad.get("args")}))
            for call in calls:
                if call["name"] == FINAL_TOOL_NAME:
                    continue
                trace.append(TraceEvent("tool_call", call["name"], _call_text(call), {"args": dict(call["args"])}))
                if on_event is not None:
                    on_event(
                        StreamEvent("tool", f"calling {call['name']}", {"name": call["name"], "args": call["args"]})
                    )
        elif kind == "tool":
            name = str(getattr(msg, "name", "") or "tool")
            if name == FINAL_TOOL_NAME and node == "model":
                return
            content = str(msg.content)
            failed = getattr(msg, "status", "success") == "error" or content.startswith("Error")
            data = {"item_ids": _artifact_ids(getattr(msg, "artifact", None)), "artifact": msg.artifact}
            trace.append(TraceEvent("error" if failed else "tool_result", name, _first_line(content), data))
            if on_event is not None:
                on_event(StreamEvent("tool", f"{name} {'failed' if failed else 'returned'}", {"name": name}))


def _call_text(call: dict[str, Any]) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in call["args"].items() if v is not None)
    return f"{call['name']}({args})"


def _first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _artifact_ids(artifact: Any) -> list[str]:
    if isinstance(artifact, Iterable) and not isinstance(artifact, str | bytes | dict):
        return [str(a.item_id) for a in artifact if hasattr(a, "item_id")]
    return []


def _last_ai_text(messages: Sequence[Any]) -> str:
    for msg in reversed(messages):
        if getattr(msg, "type", "") == "ai" and isinstance(msg.content, str) and msg.content.strip():
            return msg.content.strip()
    return ""
