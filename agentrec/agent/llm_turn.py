"""The language model's part of a turn, with the offline planner as the fallback."""

from __future__ import annotations

import logging
from typing import Any

from agentrec.agent.session import ConversationState
from agentrec.agent.types import TraceEvent
from agentrec.types import Query, Recommendation

__all__ = ["llm_phase"]

logger = logging.getLogger(__name__)


def llm_phase(
    agent: Any,
    state: ConversationState,
    text: str,
    seeds: list[int],
    query: Query,
    trace: list[TraceEvent],
    notes: list[str],
    on_event: Any,
) -> tuple[list[Recommendation], dict[str, int], str, str]:
    """The language model's part of a turn: (accepted recommendations, usage, its text, mode).

    Offline, or when the model cannot be used, nothing is accepted and the mode stays ``"offline"`` (with a
    note and a trace event saying why); the deterministic ranking then answers.
    """
    if not agent.config.llm_enabled:
        return [], {}, "", "offline"
    from agentrec.agent.llm import LLMUnavailable

    llm_turn = agent.toolbox.begin_turn(state, text=query.text)
    guard_query = agent._query(state, query.text, seeds, fresh=False)  # the LLM may bring back a shown item
    try:
        result = agent._llm_agent().run(
            text,
            state,
            validate=lambda ps: agent.guard.validate(ps, guard_query, turn=llm_turn),
            on_event=on_event,
        )
    except LLMUnavailable as exc:
        trace += agent.toolbox.trace
        trace.append(TraceEvent("fallback", "planner", f"LLM unavailable: {exc.reason}"))
        notes.append(f"The language model could not be used ({exc.reason}); answering in offline mode.")
        return [], {}, "", "offline"
    except Exception as exc:  # a bug or an unexpected reply in the LLM path: the user still gets an answer
        logger.exception("LLM turn failed; falling back to the offline planner")
        trace += agent.toolbox.trace
        trace.append(TraceEvent("fallback", "planner", f"LLM turn failed: {type(exc).__name__}: {exc}"))
        notes.append("The language model's answer could not be used; answering in offline mode.")
        return [], {}, "", "offline"
    trace += list(result.trace)
    agent.toolbox.trace.clear()  # the LLM's trace already holds its tool calls
    recs = list(result.accepted)[: query.k]
    if len(recs) < query.k:
        trace.append(TraceEvent("fallback", "fill", f"{query.k - len(recs)} filled deterministically"))
    return recs, dict(result.usage), result.text, agent.mode
