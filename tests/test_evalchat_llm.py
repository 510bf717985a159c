"""The runner with the LLM simulated user, through the real ChatOpenAI client against the scripted server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("langchain_openai")

from evalchat_helpers import tiny_components  # noqa: E402
from openai_server import ScriptedOpenAIServer, Step, text  # noqa: E402

from agentrec.config import AgentConfig  # noqa: E402
from agentrec.evalchat import build_systems, leaks, run_episodes  # noqa: E402
from agentrec.evalchat.llmsim import LLMSimulator  # noqa: E402
from agentrec.evalchat.simulator import SimUser  # noqa: E402
from agentrec.types import Catalog, Interactions  # noqa: E402


@pytest.fixture
def openai_server() -> Iterator[ScriptedOpenAIServer]:
    with ScriptedOpenAIServer() as server:
        yield server


def _echo(body: dict[str, Any]) -> Step:
    """A well-behaved user model: says what it was told (the turn's instruction), in first person."""
    instruction = [m for m in body["messages"] if m["role"] == "user"][0]["content"]
    return text("Hi! " + instruction.replace("Say ", "I'd say ").replace("Ask for", "I'm after"))


def test_runner_with_llm_simulator_regenerates_leaks(
    openai_server: ScriptedOpenAIServer, tiny_catalog: Catalog, tiny_interactions: Interactions
) -> None:
    comps = tiny_components(tiny_catalog, tiny_interactions)
    cfg = AgentConfig(model="test-model", base_url=openai_server.base_url, api_key="k", max_retries=0)
    # The first answer names the target ("The Thing"): the guard must ask again.
    openai_server.push(text("I want The Thing, the one in the ice."))
    openai_server.set_default(_echo)
    sims: list[LLMSimulator] = []

    def factory(cat: Catalog, user: SimUser, seed: int) -> LLMSimulator:
        sims.append(LLMSimulator(cat, user, cfg, seed=seed, k=2, max_regenerations=2))
        return sims[-1]

    user = SimUser("0", 0, target_index=2, liked=(0,))
    res = run_episodes(build_systems(["agent"], comps), [user], comps.catalog, turns=2, k=2, simulator=factory)
    (log,) = res.episodes["agent"]
    assert sims[0].regenerations == 1 and sims[0].fallbacks == 0
    assert all(not leaks(t["user"], "Thing, The") for t in log.transcript)
    assert log.transcript[0]["user"].startswith("Hi!")
    assert log.simulator_tokens > 0 and res.metrics()["agent"]["simulator_tokens_per_episode"] > 0
    assert log.hit_turn is not None and log.constraint_violations == 0
    # The prompt carries the target (to be avoided) and the history; the second request says what went wrong.
    system = openai_server.requests[0]["messages"][0]["content"]
    assert "The Thing" in system and "NEVER" in system and "Alien" in system
    assert "WITHOUT" in openai_server.requests[1]["messages"][-1]["content"]


def test_llm_simulator_falls_back_to_rules_after_bounded_regenerations(
    openai_server: ScriptedOpenAIServer, tiny_catalog: Catalog
) -> None:
    cfg = AgentConfig(model="test-model", base_url=openai_server.base_url, api_key="k", max_retries=0)
    openai_server.set_default(text("The Thing! Obviously The Thing."))
    sim = LLMSimulator(tiny_catalog, SimUser("0", 0, target_index=2), cfg, max_regenerations=2)
    msg = sim.opening()
    assert not leaks(msg, "Thing, The")
    assert len(openai_server.requests) == 3 and sim.fallbacks == 1 and sim.regenerations == 2
