"""Streaming one turn: run it in a worker thread and yield its events as they happen."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from typing import Any

from agentrec.agent.types import Reply, StreamEvent

__all__ = ["stream_turn"]

logger = logging.getLogger(__name__)


def stream_turn(agent: Any, message: str, session: str, user: str | None) -> Iterator[StreamEvent]:
    """The events of one turn of ``agent`` (see :meth:`agentrec.agent.core.Agent.stream`)."""
    events: queue.Queue[StreamEvent | None] = queue.Queue()
    box: dict[str, Reply] = {}
    state = agent.sessions.get(session)  # bound now: a reset while the worker starts must not receive this turn

    def work() -> None:
        try:
            with agent._session_lock(session):
                box["reply"] = agent._turn(state, message, user, on_event=events.put)
        except Exception as exc:  # the stream reports it; the caller's loop must not hang
            logger.exception("agent turn failed")
            events.put(StreamEvent("error", f"The turn failed: {exc}"))
        finally:
            events.put(None)

    threading.Thread(target=work, daemon=True).start()
    streamed_tokens = streamed_tools = False
    while (event := events.get()) is not None:
        streamed_tokens = streamed_tokens or event.kind == "token"
        streamed_tools = streamed_tools or (event.kind == "tool" and event.text != "guard")
        yield event
    reply = box.get("reply")
    if reply is None:
        return
    if not streamed_tools:  # offline mode: the planner's tool calls, in order
        for ev in reply.trace:
            if ev.kind in ("tool_call", "fallback", "guard"):
                yield StreamEvent("tool", ev.name, data=ev)
    if not streamed_tokens:
        for word in reply.text.split(" "):
            yield StreamEvent("token", word + " ")
    yield StreamEvent("recommendations", data=reply.recommendations)
    yield StreamEvent("done", data=reply)
