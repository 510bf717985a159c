"""The LLM agent: LangChain ``create_agent`` + ``ChatOpenAI`` against any OpenAI-compatible endpoint.

One turn (:meth:`LLMAgent.run`): the model calls the tools (:mod:`agentrec.agent.lctools`, bound to this turn
through the graph's runtime context), then ends with a structured ``RecommendationList`` (or a question). The
guard (a ``validate`` callable from the core) checks every proposal; when some are rejected the model gets ONE
repair attempt with the reasons. Tool calls and tokens per turn are capped (:mod:`agentrec.agent.llm_budget`).
Only the model's own text reaches the user, through :class:`~agentrec.agent.llm_text.ReplyGate`: no
``<think>`` block, no tool payload, no item the guard refused. HTTP 429 / 5xx / timeouts are retried by the
OpenAI client (``AgentConfig.max_retries``); when the LLM stays unusable, :class:`LLMUnavailable` says why and
carries the turn's trace and token usage, and the core answers with the offline planner.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from agentrec.agent.llm_budget import TurnBudget, budget_middleware
from agentrec.agent.llm_client import FINAL_TOOL_NAME, LLMUnavailable, describe_failure, final_schema, make_chat_model
from agentrec.agent.llm_reply import (
    LLMResult,
    answered_only,
    decide_fill,
    last_ai_text,
    proposals,
    repair_message,
    usage_event,
)
from agentrec.agent.llm_stream import StreamChunks, trace_message
from agentrec.agent.llm_text import ReplyGate
from agentrec.agent.turn import Turn
from agentrec.agent.types import GuardReport, Proposal, StreamEvent, TraceEvent
from agentrec.config import AgentConfig

if TYPE_CHECKING:
    from agentrec.agent.session import ConversationState
    from agentrec.agent.toolbox import Toolbox

__all__ = ["FINAL_TOOL_NAME", "LLMAgent", "LLMResult", "LLMUnavailable", "make_chat_model"]

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 8000  # longer user messages are cut before they reach the LLM
MAX_HISTORY_MESSAGES = 12  # earlier turns kept in the LLM's context
MAX_MALFORMED_ROUNDS = 2  # times a turn is resumed after tool calls whose arguments are not JSON
FINAL_ACK = "Final answer received."  # the tool message after the final answer (never its payload)


class LLMAgent:
    """A tool-calling LLM agent over a :class:`~agentrec.agent.toolbox.Toolbox`.

    Args:
        config: the LLM settings (``AgentConfig.from_env()``); ``max_tool_calls`` and ``max_turn_tokens`` cap a turn.
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
        self._filters_spec: str | None = None

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
            tools=make_langchain_tools(self.toolbox),  # generated once; each call runs on context["tools"]
            middleware=[prompt, *budget_middleware(FINAL_TOOL_NAME)],
            response_format=ToolStrategy(final_schema(), handle_errors=True, tool_message_content=FINAL_ACK),
        )
        return self._graph

    def system_prompt(self, state: ConversationState) -> str:
        """The system prompt for a turn in ``state``."""
        from agentrec.agent.lctools import filters_spec, render_state
        from agentrec.agent.prompts import system_prompt

        if self._filters_spec is None:
            self._filters_spec = filters_spec(self.toolbox.schema)
        render = self._render_state or (lambda s: render_state(s, self.toolbox))
        return system_prompt(
            catalog=self.catalog_name,
            k=int(getattr(state, "k", 10)),
            state=render(state),
            items=self.toolbox.pack.items,
            filters=self._filters_spec,
            max_tool_calls=self.config.max_tool_calls,
        )

    def run(
        self,
        message: str,
        state: ConversationState,
        *,
        validate: Callable[[list[Proposal]], GuardReport],
        on_event: Callable[[StreamEvent], None] | None = None,
        turn: Turn | None = None,
    ) -> LLMResult:
        """Answer one user message.

        Args:
            message: what the user said this turn.
            state: the conversation so far (history, likes, rejections, constraints, last list, k).
            validate: the guard; returns accepted recommendations and rejected proposals with reasons.
            on_event: receives ``"token"`` events (the model's checked text) and ``"tool"`` events as they happen.
            turn: the turn the tools record into (and the guard checks against); a new one when None.

        Returns:
            The model's checked text, the accepted recommendations, the trace, token usage, whether a repair
            attempt was made, and whether the application should fill up deterministically.

        Raises:
            LLMUnavailable: the model could not be reached, rejected the request, or did not finish; its
                ``trace`` and ``usage`` say what the turn did and spent before that.
        """
        turn = turn if turn is not None else self.toolbox.new_turn(state, text=message)
        tools = self.toolbox.bind(turn)
        trace: list[TraceEvent] = []
        usage: dict[str, int] = {}
        budget = TurnBudget(self.config.max_tool_calls, self.config.max_turn_tokens)
        try:
            return self._run(message, state, tools, validate, on_event, trace, usage, budget)
        except LLMUnavailable as exc:
            usage["tool_calls"] = budget.tool_calls
            trace.append(usage_event(usage))
            exc.trace, exc.usage = trace, usage
            raise

    def _run(
        self,
        message: str,
        state: ConversationState,
        tools: Toolbox,
        validate: Callable[[list[Proposal]], GuardReport],
        on_event: Callable[[StreamEvent], None] | None,
        trace: list[TraceEvent],
        usage: dict[str, int],
        budget: TurnBudget,
    ) -> LLMResult:
        from langchain_core.messages import HumanMessage

        from agentrec.agent.lctools import TOOL_NAMES, USER_TOOLS, history_messages

        k = int(getattr(state, "k", 10))
        text = message.strip()
        if len(text) > MAX_MESSAGE_CHARS:
            text = text[:MAX_MESSAGE_CHARS] + " [message cut]"
        graph = self._build()  # LLMUnavailable when no usable client can be configured
        shown = [n for n in TOOL_NAMES if state.user_id is not None or n not in USER_TOOLS]
        context = {"system_prompt": self.system_prompt(state), "tools": tools, "budget": budget, "tool_names": shown}
        catalog = tools.catalog
        liked = " ".join(catalog[i].title for i in (*state.liked, *state.last_shown) if 0 <= i < len(catalog))

        def turn_titles() -> dict[str, str]:
            return {catalog[i].item_id: catalog[i].title for i in list(tools.turn.allowed_item_indices)}

        emit = (lambda piece: on_event(StreamEvent("token", piece))) if on_event is not None else None
        gate = ReplyGate(emit, turn_titles, safe_text=f"{message} {liked}", catalog_ids=tools.ids_titled)
        messages: list[Any] = [
            *history_messages(state, MAX_HISTORY_MESSAGES, current=message),
            HumanMessage(text or "(empty)"),
        ]
        messages, structured = self._attempt(graph, messages, context, trace, usage, on_event, gate)
        report = validate(proposals(structured, tools))
        self._trace_guard(trace, report, attempt=1)
        accepted, rejected, repaired = list(report.accepted), list(report.rejected), False
        if rejected and len(accepted) < k and not budget.should_stop():
            repaired = True
            trace.append(TraceEvent("note", "repair", f"asking the model to replace {len(rejected)} rejected item(s)"))
            messages = [*answered_only(messages), HumanMessage(repair_message(rejected, k - len(accepted)))]
            try:
                messages, structured2 = self._attempt(graph, messages, context, trace, usage, on_event, None)
            except LLMUnavailable as exc:
                trace.append(TraceEvent("error", "repair", f"repair attempt failed: {exc.reason}"))
                structured2 = None
            report2 = validate(proposals(structured2, tools))
            self._trace_guard(trace, report2, attempt=2)
            have = {r.item_index for r in accepted}
            accepted += [r for r in report2.accepted if r.item_index not in have]
            rejected = list(report2.rejected)
        if budget.stopped:
            trace.append(TraceEvent("note", "budget", f"stopped early: {budget.stopped}"))
        accepted = accepted[:k]
        final = str(getattr(structured, "message", "") or "") if structured is not None else last_ai_text(messages)
        segments = [("final", final)] if structured is not None else []
        reply = gate.finish({r.item_id: catalog[r.item_index].title for r in accepted}, segments)
        accepted = self._clean_reasons(accepted, turn_titles, gate)
        if gate.removed:
            trace.append(
                TraceEvent("note", "reply", f"removed {len(gate.removed)} sentence(s)", {"removed": gate.removed})
            )
        usage["tool_calls"] = budget.tool_calls
        trace.append(usage_event(usage))
        fill = decide_fill(structured, accepted, rejected, reply)
        question = not accepted and not fill and reply.endswith("?")
        return LLMResult(reply, accepted, trace, usage, repaired, rejected, fill=fill, question=question)

    @staticmethod
    def _clean_reasons(accepted: list[Any], turn_titles: Callable[[], dict[str, str]], gate: ReplyGate) -> list[Any]:
        """Each accepted item's reason without sentences naming other items of the turn or instruction-like text."""
        out = []
        titles = {r.item_id: r.title for r in accepted}  # a reason may compare with another accepted item
        for rec in accepted:
            check = ReplyGate(None, turn_titles, safe_text=gate._safe_text, catalog_ids=gate._catalog_ids)
            reason = check.finish(titles, [("reason", rec.reason)])
            out.append(rec if reason == rec.reason else replace(rec, reason=reason or "It fits what you asked for."))
        return out

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
        gate: ReplyGate | None,
    ) -> tuple[list[Any], Any]:
        """Run the graph; returns the full message list and the structured response (or None).

        LangChain's loop ends when the model's only tool calls are malformed (arguments that are not JSON);
        the graph is then resumed, up to ``MAX_MALFORMED_ROUNDS`` times, so the model reads the "malformed
        arguments" message that LangChain adds and can try again.
        """
        all_messages = list(messages)
        structured: Any = None
        for _ in range(MAX_MALFORMED_ROUNDS + 1):
            structured = self._stream_once(graph, all_messages, context, trace, usage, on_event, gate)
            if structured is not None or context["budget"].stopped:
                break
            last = next((m for m in reversed(all_messages) if getattr(m, "type", "") == "ai"), None)
            if last is None or last.tool_calls or not getattr(last, "invalid_tool_calls", None):
                break
            trace.append(TraceEvent("note", "malformed", "resuming so the model can fix its malformed tool call"))
        return all_messages, structured

    def _stream_once(
        self,
        graph: Any,
        all_messages: list[Any],
        context: dict[str, Any],
        trace: list[TraceEvent],
        usage: dict[str, int],
        on_event: Callable[[StreamEvent], None] | None,
        gate: ReplyGate | None,
    ) -> Any:
        """Stream the graph once from ``all_messages`` (extended in place); the structured response or None."""
        from langgraph.errors import GraphRecursionError

        structured: Any = None
        chunks = StreamChunks(gate)
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
                    if meta.get("langgraph_node") == "model":
                        chunks.add(chunk)
                    continue
                for node, update in (payload or {}).items():
                    if not isinstance(update, dict):
                        continue
                    known = {getattr(m, "id", None) for m in all_messages} - {None}
                    # LangChain re-emits earlier messages it patched (malformed calls); count each once.
                    fresh = [m for m in update.get("messages") or [] if getattr(m, "id", None) not in known]
                    all_messages.extend(fresh)
                    for msg in fresh:
                        trace_message(node, msg, trace, usage, on_event)
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
