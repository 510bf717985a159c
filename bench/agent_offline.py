"""Offline-mode agent benchmark on any catalogue (ml-latest-small, amazon-scientific, gowalla).

Measures ``Agent.load`` from built artifacts (target <= 10 s), warm offline ``recommend()`` latency p50 / p95
over the visible request set (target p95 <= 150 ms), and the held-out target hit rate of requests phrased
from a held-out item's genres and decade (personalised for its user).

The request set follows the catalogue: the film set (tests/planner_requests.py) on MovieLens, the product set
(tests/requests_products.py) on amazon-scientific, and requests a person can make of an ids-only catalogue
(references, counts, a user id, free words) on gowalla.

Usage: .venv/bin/python bench/agent_offline.py [--dataset NAME] [--artifacts-dir DIR] [--repeats 3] [--users 100]
[--sessions 4]
(``--sessions N``: also N concurrent conversations, turns/s and turn latency.)
Writes bench/results/agent_offline.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from planner_requests import REQUESTS as FILM_REQUESTS  # noqa: E402
from requests_products import PRODUCT_REQUESTS  # noqa: E402

# What a person can ask of a catalogue of ids only (no text, no facets): the words stay search text and the
# reply says the catalogue cannot use them.
IDS_ONLY_REQUESTS = [
    {"text": t}
    for t in (
        "something popular", "5 picks", "recommend something", "places like the ones everyone visits",
        "a quiet cafe", "90s rock bands", "nothing too crowded", "not pop", "top 10", "3 suggestions please",
        "anything new", "somewhere to eat", "a museum", "no bars", "surprise me",
    )
] + [{"text": "something for me", "user": str(u)} for u in range(0, 60, 3)]  # fmt: skip


def request_set(dataset: str) -> list[dict[str, object]]:
    """The requests to time on ``dataset``."""
    if dataset.startswith("ml-"):
        return FILM_REQUESTS
    if dataset == "amazon-scientific":
        return PRODUCT_REQUESTS
    return IDS_ONLY_REQUESTS


REQUESTS = FILM_REQUESTS


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs), q))


def concurrent(agent: object, sessions: int) -> dict[str, object]:
    """``sessions`` threads at the same time, each sending the request set, one new conversation per request."""
    from concurrent.futures import ThreadPoolExecutor

    index = getattr(agent.components.retriever, "semantic_index", None)  # type: ignore[attr-defined]

    def run(n: int) -> list[float]:
        out = []
        for i, spec in enumerate(REQUESTS):
            if index is not None:
                index.clear_query_cache()
            t = time.perf_counter()
            agent.chat(spec["text"], session=f"bench-{n}-{i}", user=spec.get("user"))  # type: ignore[attr-defined]
            out.append((time.perf_counter() - t) * 1000)
        return out

    t0 = time.perf_counter()
    with ThreadPoolExecutor(sessions) as pool:
        lat = [x for xs in pool.map(run, range(sessions)) for x in xs]
    wall = time.perf_counter() - t0
    return {
        "sessions": sessions,
        "turns": len(lat),
        "wall_s": round(wall, 2),
        "turns_per_s": round(len(lat) / wall, 1),
        "turn_p50_ms": round(pct(lat, 50), 1),
        "turn_p95_ms": round(pct(lat, 95), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="ml-latest-small")
    ap.add_argument("--artifacts-dir", default=None)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--repeats", type=int, default=3, help="passes over the request set")
    ap.add_argument("--users", type=int, default=100, help="held-out targets to try")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "agent_offline.json"))
    ap.add_argument(
        "--sessions",
        type=int,
        default=0,
        help="also run the request set as this many concurrent conversations (threads; 0: skip)",
    )
    args = ap.parse_args()
    global REQUESTS
    REQUESTS = request_set(args.dataset)

    from agentrec.artifacts import load_components

    # Make sure the artifacts exist (build once) so that the timed load below really loads.
    load_components(args.dataset, data_dir=args.data_dir, artifacts_dir=args.artifacts_dir, show_progress=False)

    from agentrec.agent import Agent
    from agentrec.config import AgentConfig

    # Agent.load in a fresh process (imports included), as a user sees it.
    code = (
        "import time; t = time.perf_counter(); from agentrec.agent import Agent; "
        "from agentrec.config import AgentConfig; "
        f"Agent.load({args.dataset!r}, data_dir={args.data_dir!r}, artifacts_dir={args.artifacts_dir!r}, "
        "config=AgentConfig(), build_missing=False); print(time.perf_counter() - t)"
    )
    fresh = float(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()[-1]
    )

    loads = []
    agent = None
    for _ in range(2):
        t = time.perf_counter()
        agent = Agent.load(
            args.dataset,
            data_dir=args.data_dir,
            artifacts_dir=args.artifacts_dir,
            config=AgentConfig(),
            build_missing=False,
        )
        loads.append(time.perf_counter() - t)
    assert agent is not None

    retrieval_ms: list[float] = []

    class TimedRetriever:
        """Delegates to the real retriever and records the time spent in retrieve()."""

        def __init__(self, inner: object) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

        def retrieve(self, query: object) -> object:
            t = time.perf_counter()
            try:
                return self.inner.retrieve(query)  # type: ignore[attr-defined]
            finally:
                retrieval_ms.append((time.perf_counter() - t) * 1000)

    agent.toolbox.retriever = TimedRetriever(agent.toolbox.retriever)
    agent.guard.retriever = agent.toolbox.retriever
    for spec in REQUESTS[:5]:  # warm-up
        agent.recommend(spec["text"], user=spec.get("user"), k=10)
    lat: list[float] = []
    empty: list[str] = []
    own: list[float] = []
    retr: list[float] = []
    by_kind: dict[str, list[float]] = {}
    index = getattr(agent.components.retriever, "semantic_index", None)
    for _ in range(args.repeats):
        for spec in REQUESTS:
            if index is not None:
                index.clear_query_cache()  # time every request as a new one, also on repeats
            retrieval_ms.clear()
            t = time.perf_counter()
            recs = agent.recommend(spec["text"], user=spec.get("user"), k=10)
            ms = (time.perf_counter() - t) * 1000
            lat.append(ms)
            own.append(ms - sum(retrieval_ms))
            retr.append(sum(retrieval_ms))
            kind = "like" if spec.get("like") else "user" if spec.get("user") else "constraints"
            by_kind.setdefault(kind, []).append(ms)
            if not recs:
                empty.append(spec["text"])

    # The held-out check needs an agent that may show held-out items (a served agent hides everything a user
    # interacted with, in every part of the split).
    comps = load_components(
        args.dataset, data_dir=args.data_dir, artifacts_dir=args.artifacts_dir, build_missing=False, exclude="train"
    )
    agent = Agent(comps, config=AgentConfig())
    test, catalog = comps.split.test, comps.catalog
    rng = np.random.default_rng(0)
    users = rng.choice(np.unique(test.user_index), size=min(args.users, len(np.unique(test.user_index))), replace=False)
    hits = total = 0
    for u in users:
        rows = np.flatnonzero(test.user_index == u)
        item_index = int(test.item_index[rng.choice(rows)])
        item = catalog[item_index]
        if not item.genres or item.year is None:
            continue
        text = f"{' '.join(item.genres[:2]).lower()} from the {item.year // 10 * 10}s"
        recs = agent.recommend(text, user=test.user_ids[int(u)], k=10)
        total += 1
        hits += int(item_index in {r.item_index for r in recs})

    import torch

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout
    result = {
        "benchmark": "agent_offline",
        "dataset": args.dataset,
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_commit": commit.strip(),
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "torch": torch.__version__,
            "loadavg": os.getloadavg(),
            "torch_threads": torch.get_num_threads(),
        },
        "agent_load_s": {
            "fresh_process": round(fresh, 3),
            "in_process": round(loads[0], 3),
            "in_process_again": round(loads[1], 3),
            "target": 10.0,
        },
        "recommend_ms": {
            "n": len(lat),
            "p50": round(pct(lat, 50), 1),
            "p95": round(pct(lat, 95), 1),
            "max": round(max(lat), 1),
            "target_p95": 150.0,
            "by_kind_p50_p95": {k: [round(pct(v, 50), 1), round(pct(v, 95), 1)] for k, v in by_kind.items()},
        },
        "agent_own_ms_excluding_retriever": {"p50": round(pct(own, 50), 1), "p95": round(pct(own, 95), 1)},
        "retriever_ms_inside_recommend": {"p50": round(pct(retr, 50), 1), "p95": round(pct(retr, 95), 1)},
        "held_out_hit_at_10": {"hits": hits, "requests": total, "rate": round(hits / max(total, 1), 4)},
        "requests_without_results": sorted(set(empty)),
        "k": 10,
    }
    if args.sessions > 0:
        result["concurrent_sessions"] = concurrent(agent, args.sessions)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print()
    print("| metric | value | target |")
    print("|---|---|---|")
    print(f"| Agent.load (built artifacts, fresh process) | {fresh:.2f} s (in process: {loads[0]:.2f} s) | <= 10 s |")
    print(f"| offline recommend() p50 / p95 (k=10, n={len(lat)}) | {pct(lat, 50):.0f} / {pct(lat, 95):.0f} ms | "
          "p95 <= 150 ms |")  # fmt: skip
    print(f"| agent own time excl. retriever p50 / p95 | {pct(own, 50):.1f} / {pct(own, 95):.1f} ms | - |")
    print(f"| held-out target hit@10 ({total} requests) | {hits / max(total, 1):.3f} | - |")


if __name__ == "__main__":
    main()
