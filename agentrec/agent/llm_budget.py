"""Per-turn limits of the LLM agent: tool calls and tokens, enforced as LangChain middleware.

A :class:`TurnBudget` travels in the graph's runtime context (one per turn, so turns of different conversations
never share one). Tool calls beyond ``max_tool_calls`` are not run: the model is told to give its final answer
with what it has. Once the turn has used ``max_tokens`` tokens, or the model insists on tools after being told
to stop, the loop ends without another model call; the caller then fills the answer deterministically.
A context's ``"tool_names"`` narrows the tools the model is shown (a turn without a known user leaves out the
per-user tools: fewer tokens per call).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TurnBudget", "budget_middleware"]


@dataclass
class TurnBudget:
    """What one turn may still spend, and what it has spent (thread-safe: tool calls run in parallel).

    Attributes:
        max_tool_calls: tool calls allowed in the turn (the final answer is not one).
        max_tokens: input + output tokens allowed in the turn.
        tool_calls: tool calls run so far.
        refused: tool calls refused so far.
        tokens: tokens used so far.
        stopped: why the loop was ended early ("" when it was not).
    """

    max_tool_calls: int = 6
    max_tokens: int = 30000
    tool_calls: int = 0
    refused: int = 0
    tokens: int = 0
    stopped: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take_tool_call(self) -> bool:
        """Count one tool call; False (and counted as refused) when the limit is reached."""
        with self._lock:
            if self.tool_calls >= self.max_tool_calls:
                self.refused += 1
                return False
            self.tool_calls += 1
            return True

    def add_tokens(self, n: int) -> None:
        """Count ``n`` tokens of one model call."""
        with self._lock:
            self.tokens += max(0, int(n))

    def should_stop(self) -> str:
        """Why the next model call must not happen, or ""."""
        with self._lock:
            if self.tokens >= self.max_tokens:
                self.stopped = f"the turn used {self.tokens} tokens, over its limit of {self.max_tokens}"
            elif self.refused > self.max_tool_calls:
                self.stopped = f"the model kept calling tools after its limit of {self.max_tool_calls} per turn"
            return self.stopped


def budget_middleware(final_tool: str) -> list[Any]:
    """The middleware enforcing a context's ``"budget"`` (a :class:`TurnBudget`) and ``"tool_names"``."""
    from langchain.agents.middleware import after_model, before_model, wrap_model_call, wrap_tool_call
    from langchain_core.messages import ToolMessage

    def budget_of(runtime: Any) -> TurnBudget | None:
        context = getattr(runtime, "context", None) or {}
        budget = context.get("budget") if isinstance(context, dict) else None
        return budget if isinstance(budget, TurnBudget) else None

    @before_model(can_jump_to=["end"])
    def stop_when_spent(state: Any, runtime: Any) -> dict[str, Any] | None:
        budget = budget_of(runtime)
        return {"jump_to": "end"} if budget is not None and budget.should_stop() else None

    @after_model
    def count_tokens(state: Any, runtime: Any) -> dict[str, Any] | None:
        budget = budget_of(runtime)
        messages = state.get("messages") or []
        if budget is not None and messages:
            meta = getattr(messages[-1], "usage_metadata", None) or {}
            budget.add_tokens(int(meta.get("input_tokens", 0) or 0) + int(meta.get("output_tokens", 0) or 0))
        return None

    @wrap_tool_call
    def cap_tool_calls(request: Any, handler: Any) -> Any:
        budget = budget_of(request.runtime)
        if budget is None or budget.take_tool_call():
            return handler(request)
        call = request.tool_call
        return ToolMessage(
            content=(
                f"Error: the limit of {budget.max_tool_calls} tool calls per turn is reached; this call was not run. "
                f"Call {final_tool} now with the items you have (or ask the person a question)."
            ),
            tool_call_id=call["id"],
            name=call["name"],
            status="error",
        )

    @wrap_model_call
    def narrow_tools(request: Any, handler: Any) -> Any:
        context = getattr(request.runtime, "context", None) or {}
        names = context.get("tool_names") if isinstance(context, dict) else None
        if names:
            request = request.override(tools=[t for t in request.tools if getattr(t, "name", None) in names])
        return handler(request)

    return [stop_when_spent, count_tokens, cap_tool_calls, narrow_tools]
