"""The language model's part of a turn, with the offline planner as the fallback.

The model owns the turn: only the constraints the user stated are hard (its tools apply them and the guard
enforces them); what the planner merely inferred reaches the model as a suggestion. It may ask a question and
recommend nothing; the deterministic fill runs only when the model failed or asked for it, with a note.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from agentrec.agent.llm_reply import usage_event
from agentrec.agent.session import ConversationState
from agentrec.agent.types import TraceEvent
from agentrec.types import Query, Recommendation

if TYPE_CHECKING:
    from agentrec.agent.toolbox import Toolbox

__all__ = ["LLMPhase", "llm_phase"]

logger = logging.getLogger(__name__)


@dataclass
class LLMPhase:
    """What the language model's part of a turn produced.

    Attributes:
        recs: the accepted recommendations (may be empty).
        usage: token counts of the turn (kept after a fallback too).
        text: the model's checked text ("" offline).
        mode: ``"llm:<model>"`` or ``"offline"``.
        tools: the toolbox view bound to the turn that the deterministic fill continues in.
        fill: whether to fill up to ``k`` deterministically.
    """

    recs: list[Recommendation]
    usage: dict[str, int]
    text: str
    mode: str
    tools: Toolbox
    fill: bool = True


def llm_phase(
    agent: Any,
    state: ConversationState,
    text: str,
    seeds: list[int],
    query: Query,
    trace: list[TraceEvent],
    notes: list[str],
    on_event: Any,
) -> LLMPhase:
    """The language model's part of a turn.

    Offline, or when the model cannot be used, nothing is accepted and the mode stays ``"offline"`` (with a
    note and a trace event saying why, and the model's trace and usage so far); the deterministic ranking
    then answers in a fresh turn.
    """
    toolbox = agent.toolbox
    offline = LLMPhase([], {}, "", "offline", toolbox.bind(toolbox.new_turn(state, text=query.text)))
    if not agent.config.llm_enabled:
        return offline
    from agentrec.agent.lctools import stated_filters
    from agentrec.agent.llm import LLMUnavailable

    stated = stated_filters(state)
    turn = toolbox.new_turn(state, text=query.text, filters=stated)
    guard_query = replace(agent._query(state, query.text, seeds, fresh=False), filters=stated)  # shown may return
    try:
        result = agent._llm_agent().run(
            text,
            state,
            validate=lambda ps: agent.guard.validate(ps, guard_query, turn=turn),
            on_event=on_event,
            turn=turn,
        )
    except LLMUnavailable as exc:
        trace += [*exc.trace, *turn.trace]
        trace.append(TraceEvent("fallback", "planner", f"LLM unavailable: {exc.reason}"))
        notes.append(f"The language model could not be used ({exc.reason}); answering in offline mode.")
        offline.usage = dict(exc.usage)
        return offline
    except Exception as exc:  # a bug or an unexpected reply in the LLM path: the user still gets an answer
        logger.exception("LLM turn failed; falling back to the offline planner")
        trace += turn.trace
        trace.append(TraceEvent("fallback", "planner", f"LLM turn failed: {type(exc).__name__}: {exc}"))
        trace.append(usage_event({}))
        notes.append("The language model's answer could not be used; answering in offline mode.")
        return offline
    trace += list(result.trace)
    turn.trace.clear()  # the LLM's trace already holds its tool calls
    recs = list(result.accepted)[: query.k]
    fill = result.fill and len(recs) < query.k
    if fill:
        n = query.k - len(recs)
        trace.append(TraceEvent("fallback", "fill", f"{n} filled deterministically"))
        notes.append(f"{n} more picked by the catalogue ranking to complete the list.")
    return LLMPhase(recs, dict(result.usage), result.text, agent.mode, toolbox.bind(turn), fill=fill)
