"""The runner with the LLM simulated user, through the real ChatOpenAI client against the scripted server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("langchain_openai")

from agent_llm_helpers import propose_from_tools  # noqa: E402
from evalchat_helpers import tiny_components  # noqa: E402
from openai_server import ScriptedOpenAIServer, Step, estimate_tokens, text, tool_calls  # noqa: E402

from agentrec.config import AgentConfig  # noqa: E402
from agentrec.evalchat import build_systems, leaks, run_episodes  # noqa: E402
from agentrec.evalchat.llmsim import LLMSimulator  # noqa: E402
from agentrec.evalchat.pipeline import evaluate_chat  # noqa: E402
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


def _well_behaved_agent_model(body: dict[str, Any]) -> Step:
    """A well-behaved recommender model: searches with the user's words, then recommends from the rows."""
    if body["messages"][-1]["role"] == "tool":
        return propose_from_tools(2, "Two picks for you.")(body)
    said = [m for m in body["messages"] if m["role"] == "user"][-1]["content"]
    return tool_calls(("search_catalog", {"description": said[:200], "k": 5}))


def test_eval_chat_with_the_scripted_well_behaved_model_reports_tokens_per_episode(
    openai_server: ScriptedOpenAIServer, tiny_catalog: Catalog, tiny_interactions: Interactions, tmp_path: Path
) -> None:
    comps = tiny_components(tiny_catalog, tiny_interactions)
    cfg = AgentConfig(model="test-model", base_url=openai_server.base_url, api_key="k", max_retries=0)
    openai_server.set_default(_well_behaved_agent_model)
    res, paths = evaluate_chat(
        "tiny", components=comps, episodes=2, turns=2, k=2, systems=["agent-llm"], out_dir=tmp_path,
        seed=0, min_history=2, config=cfg,
    )  # fmt: skip
    m = res.metrics()["agent-llm"]
    calls = len(openai_server.chat_requests)
    assert calls >= 2 * 2 and m["episodes"] == 2 and m["constraint_violations"] == 0
    # Every model call is accounted for: input and output tokens per episode, summed by the runner.
    assert m["input_tokens_per_episode"] > m["output_tokens_per_episode"] > 0
    assert m["tokens_per_episode"] == m["input_tokens_per_episode"] + m["output_tokens_per_episode"]
    total_in = sum(lg.input_tokens for lg in res.episodes["agent-llm"])
    assert total_in == sum(estimate_tokens(body) for body in openai_server.chat_requests)
    assert all(t["shown"] for lg in res.episodes["agent-llm"] for t in lg.transcript)  # the model's picks were shown
    data = json.loads(paths["json"].read_text())
    assert data["metrics"]["agent-llm"]["input_tokens_per_episode"] == m["input_tokens_per_episode"]
    row = next(line for line in paths["markdown"].read_text().splitlines() if line.startswith("| agent-llm |"))
    assert f"({m['input_tokens_per_episode']:.0f} / {m['output_tokens_per_episode']:.0f})" in row
