"""Warm start: load what the first chat turn would otherwise load, before the server accepts anyone.

The text encoder and the query-side indexes load on the first query that needs them, and the language model's
client on the first LLM turn; without a warm-up the first person to ask waits for all of it (about 6 s on a
small machine). :func:`warm_up` runs one offline query and builds the client, reporting each step.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from agentrec.types import Query

__all__ = ["warm_up"]

logger = logging.getLogger(__name__)

WARM_UP_SESSION = "agentrec-warm-up"


def warm_up(agent: Any, *, controller: Any = None, progress: Callable[[str], None] | None = None) -> dict[str, float]:
    """Load the encoder, indexes, card statistics and the LLM client of ``agent``; return seconds per step.

    Args:
        agent: an ``agentrec.agent.Agent``.
        controller: the app's ``AppController`` (its card statistics are built too), or None.
        progress: called with a line per step ("Loading the text encoder and indexes…"); default: the log.

    A step that fails is reported and skipped: the app still starts, and that part loads on first use.
    """
    say = progress or logger.info
    timings: dict[str, float] = {}
    pack = getattr(getattr(agent, "toolbox", None), "pack", None)
    example = next(iter(getattr(pack, "examples", ()) or ()), "something good")

    def step(name: str, words: str, fn: Callable[[], Any]) -> None:
        say(f"{words}…")
        start = time.perf_counter()
        try:
            fn()
        except Exception as exc:  # a failed warm-up must not stop the app: the first turn loads it instead
            logger.warning("warm-up step %r failed (%s: %s); it will load on first use", name, type(exc).__name__, exc)
        timings[name] = round(time.perf_counter() - start, 3)

    # One offline query: the text encoder, the vector store, the facet index and the explainer's caches.
    step("query", "Loading the text encoder and indexes", lambda: agent.recommend(Query(text=example, k=3)))
    if controller is not None:
        step("cards", "Reading catalogue statistics for the cards", lambda: controller.card_facts)
    config = getattr(agent, "config", None)
    llm = bool(getattr(config, "llm_enabled", False))
    if controller is not None and not llm:
        # A whole offline turn on a throwaway session (planner vocabularies, answer and card rendering), forgotten.
        step("turn", "Answering a first request", lambda: _throwaway_turn(controller, example))
    elif llm:
        step("planner", "Loading the request parser", lambda: _parse(agent, example))
    if llm and hasattr(agent, "_llm_agent"):
        # The client only (no request is sent): the first LLM turn then starts at once.
        step("llm_client", "Setting up the language model client", lambda: _llm_client(agent))
    say(f"Ready ({sum(timings.values()):.1f} s of warm-up).")
    return timings


def _throwaway_turn(controller: Any, text: str) -> None:
    try:
        for _ in controller.respond(WARM_UP_SESSION, text):
            pass
    finally:
        controller.forget(WARM_UP_SESSION)


def _parse(agent: Any, text: str) -> None:
    from agentrec.agent.planner import parse_request

    toolbox = agent.toolbox
    parse_request(text, toolbox.lexicon, toolbox.titles, last_shown=0)


def _llm_client(agent: Any) -> None:
    """Build the agent's LLM agent and its LangChain graph (imports LangChain, makes the client; sends nothing)."""
    llm = agent._llm_agent()
    build = getattr(llm, "_build", None)
    if callable(build):
        build()
