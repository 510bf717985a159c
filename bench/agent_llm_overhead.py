"""The LLM agent loop's own overhead per turn, and its context size, against the scripted OpenAI-compatible server.

Each turn is a typical tool-using turn: the model calls ``search_catalog``, then ``explain`` for one item,
then answers with a structured ``RecommendationList`` (3 model calls, 2 tool calls, guard check), all
through the real ``ChatOpenAI`` client over HTTP on 127.0.0.1 and LangChain's ``create_agent`` graph.
Input tokens are the server's estimate: a quarter of the characters of each request's messages and tool
schemas in compact JSON (``tests/openai_server.py``: ``estimate_tokens``), summed over the turn's calls.
Overhead = wall time of ``LLMAgent.run`` minus the time the server spent answering (the server runs in a
thread of the same process, so the two share the GIL; its time is measured inside its handlers). The toolbox runs over
the tiny test catalogue, so tool time is negligible and the number is the agent machinery itself
(LangChain graph, message conversion, HTTP client, SSE parsing, guard bookkeeping).

Usage: ``.venv/bin/python bench/agent_llm_overhead.py [--turns 200] [--warmup 10]``
Writes ``bench/results/agent_llm_overhead.json``; the targets are at most 3 model calls and 6k input tokens per
typical turn, and at most 50 ms of the agent's own time per model call.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # this checkout, not an installed agentrec

from agent_llm_helpers import make_toolbox, make_validate  # noqa: E402
from openai_server import ScriptedOpenAIServer, final, tool_calls  # noqa: E402

from agentrec.agent.llm import LLMAgent  # noqa: E402
from agentrec.agent.session import ConversationState  # noqa: E402
from agentrec.config import AgentConfig  # noqa: E402
from agentrec.types import Catalog, Interactions, Item  # noqa: E402


def tiny() -> tuple[Catalog, Interactions]:
    items = (
        Item("0", "Alien", 1979, ("Horror", "Sci-Fi"), ("space",), "A crew meets a deadly alien."),
        Item("1", "Aliens", 1986, ("Action", "Sci-Fi"), ("space",), "Marines fight aliens."),
        Item("2", "The Thing", 1982, ("Horror", "Sci-Fi"), ("antarctica",), "A shape-shifter in the ice."),
        Item("3", "Toy Story", 1995, ("Animation", "Comedy"), ("pixar",), "Toys come alive."),
        Item("4", "Shrek", 2001, ("Animation", "Comedy"), ("fairy tale",), "An ogre rescues a princess."),
        Item("5", "Finding Nemo", 2003, ("Animation", "Adventure"), ("pixar",), "A fish finds his son."),
    )
    rows = [(u, i) for u in range(4) for i in range(3)] + [(u, i) for u in range(4, 8) for i in range(3, 6)]
    users, its = zip(*rows, strict=True)
    return Catalog(items=items), Interactions.from_arrays(np.array(users), np.array(its), num_users=8, num_items=6)


def script_turn(server: ScriptedOpenAIServer) -> None:
    server.push(
        tool_calls(("search_catalog", {"description": "pixar toys", "k": 5}), content="Searching."),
        tool_calls(("explain", {"item": "3"})),
        final(
            {
                "message": "Two picks for you.",
                "items": [
                    {"item_id": "3", "reason": "Toys come alive.", "evidence": ["p1"]},
                    {"item_id": "5", "reason": "Also Pixar.", "evidence": ["genre: Animation"]},
                ],
            }
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "agent_llm_overhead.json")
    args = parser.parse_args()

    load = os.getloadavg()[0]
    catalog, train = tiny()
    with ScriptedOpenAIServer(models=("bench-model",)) as server:
        config = AgentConfig(model="bench-model", base_url=server.base_url, api_key="x", timeout_s=10, max_retries=0)
        agent = LLMAgent(config, make_toolbox(catalog, train), catalog_name="tiny")
        walls, servers, overheads, calls, tokens_in, tokens_out = [], [], [], [], [], []
        for n in range(args.warmup + args.turns):
            state = ConversationState(k=2)
            script_turn(server)
            turn = agent.toolbox.begin_turn(state, text="pixar toys")  # the toolbox's own turn: make_validate reads it
            before = server.handling_s
            started = time.perf_counter()
            result = agent.run("pixar toys", state, validate=make_validate(agent.toolbox, state), turn=turn)
            wall = time.perf_counter() - started
            served = server.handling_s - before
            assert [r.item_id for r in result.accepted] == ["3", "5"], result.trace
            if n >= args.warmup:
                walls.append(wall)
                servers.append(served)
                overheads.append((wall - served) / result.usage["llm_calls"])
                calls.append(result.usage["llm_calls"])
                tokens_in.append(result.usage["input_tokens"])
                tokens_out.append(result.usage["output_tokens"])

    out = {
        "name": "agent_llm_overhead",
        "what": "LLMAgent.run per typical turn (search, explain, final answer): model calls, estimated input tokens, "
        "and wall time minus scripted-server time per model call",
        "turns": args.turns,
        "warmup": args.warmup,
        "model_calls_per_turn": {"max": int(max(calls)), "mean": float(np.mean(calls))},
        "input_tokens_per_turn": {"max": int(max(tokens_in)), "mean": float(np.mean(tokens_in))},
        "output_tokens_per_turn": {"max": int(max(tokens_out)), "mean": float(np.mean(tokens_out))},
        "overhead_per_model_call_ms": {
            "p50": ms(overheads, 50),
            "p95": ms(overheads, 95),
            "mean": round(float(np.mean(overheads)) * 1000, 2),
        },
        "targets": {"model_calls_per_turn": 3, "input_tokens_per_turn": 6000, "overhead_per_model_call_ms": 50},
        "wall_ms": {"p50": ms(walls, 50), "p95": ms(walls, 95)},
        "server_ms": {"p50": ms(servers, 50), "p95": ms(servers, 95)},
        "load_1min_at_start": load,
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "torch": _version("torch"),
            "langchain": _version("langchain"),
            "langchain_openai": _version("langchain_openai"),
            "openai": _version("openai"),
        },
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


def ms(values: list[float], q: float) -> float:
    return round(float(np.percentile(np.array(values) * 1000, q)), 2)


def _version(module: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module.replace("_", "-"))
    except PackageNotFoundError:
        return None


if __name__ == "__main__":
    main()
