"""What the LLM agent does with the graph's stream: the model's text to the reply gate, its messages to the trace.

Kept apart from :mod:`agentrec.agent.llm` (the loop) so each stays small.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agentrec.agent.llm_client import FINAL_TOOL_NAME
from agentrec.agent.llm_reply import add_usage, artifact_ids, call_text, first_line
from agentrec.agent.llm_text import ReplyGate, partial_json_string
from agentrec.agent.types import StreamEvent, TraceEvent

__all__ = ["StreamChunks", "trace_message"]


class StreamChunks:
    """The model's streamed chunks, fed to the reply gate.

    Its plain text, and the ``message`` argument of its final answer as the JSON arguments arrive (tool payloads
    themselves are never shown).
    """

    def __init__(self, gate: ReplyGate | None) -> None:
        self.gate = gate
        self.texts: dict[str, str] = {}
        self.calls: dict[tuple[str, int], list[str]] = {}

    def add(self, chunk: Any) -> None:
        """Feed one streamed chunk of the model node."""
        if self.gate is None or getattr(chunk, "type", "") not in ("ai", "AIMessageChunk"):
            return  # the model node also emits the final answer's tool message: never shown
        key = str(getattr(chunk, "id", "") or "")
        content = getattr(chunk, "content", "")
        if isinstance(content, str) and content:
            self.texts[key] = self.texts.get(key, "") + content
            self.gate.set_text(f"text:{key}", self.texts[key])
        for part in getattr(chunk, "tool_call_chunks", None) or []:
            entry = self.calls.setdefault((key, int(part.get("index") or 0)), ["", ""])
            entry[0] = part.get("name") or entry[0]
            entry[1] += part.get("args") or ""
            if entry[0] == FINAL_TOOL_NAME:
                said = partial_json_string(entry[1], "message")
                if said:
                    self.gate.set_text("final", said)


def trace_message(
    node: str,
    msg: Any,
    trace: list[TraceEvent],
    usage: dict[str, int],
    on_event: Callable[[StreamEvent], None] | None,
) -> None:
    """Add one new graph message to the trace and usage, and tell ``on_event`` about tool calls and results."""
    kind = getattr(msg, "type", "")
    if kind == "ai":
        add_usage(usage, msg)
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
            trace.append(TraceEvent("tool_call", call["name"], call_text(call), {"args": dict(call["args"])}))
            if on_event is not None:
                on_event(StreamEvent("tool", f"calling {call['name']}", {"name": call["name"], "args": call["args"]}))
    elif kind == "tool":
        name = str(getattr(msg, "name", "") or "tool")
        if name == FINAL_TOOL_NAME and node == "model":
            return
        content = str(msg.content)
        failed = getattr(msg, "status", "success") == "error" or content.startswith("Error")
        data = {"item_ids": artifact_ids(getattr(msg, "artifact", None)), "artifact": msg.artifact}
        trace.append(TraceEvent("error" if failed else "tool_result", name, first_line(content), data))
        if on_event is not None:
            on_event(StreamEvent("tool", f"{name} {'failed' if failed else 'returned'}", {"name": name}))
