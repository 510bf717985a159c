"""Chat-app concurrency benchmark: N concurrent gradio_client sessions x T turns against `agentrec serve`.

The app runs as a real `agentrec serve` subprocess on a free 127.0.0.1 port (its own process, so the clients
do not share its interpreter). Each session states its own year range, dislikes one of its cards and asks
for more; every turn is checked for isolation (memory shows only its own range, cards inside it, the
disliked card never again, history holding only its own messages). Writes bench/results/app_concurrency.json.

    AGENTREC_DATA_DIR=../shared/data .venv/bin/python bench/app_concurrency.py --dataset ml-latest-small
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FOLLOW_UPS = ("more please", "any others?", "show me more", "more")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def text_of(message: dict[str, Any]) -> str:
    content = message["content"]
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return str(content)


def session(url: str, i: int, turns: int, start: threading.Barrier) -> dict[str, Any]:
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False, analytics_enabled=False)
    lo, hi = 1970 + i, 2000 + i
    sent: list[str] = []
    lat: list[float] = []
    by_turn: list[tuple[int, float]] = []
    problems: list[str] = []
    errors: list[str] = []
    disliked = None
    start.wait()
    for turn in range(turns):
        message = f"movies between {lo} and {hi}" if turn == 0 else FOLLOW_UPS[(turn - 1) % len(FOLLOW_UPS)]
        sent.append(message)
        t0 = time.perf_counter()
        try:
            out = client.predict(message, "new user", api_name="/respond")
        except Exception as exc:  # counted, not fatal: the benchmark reports errors
            errors.append(f"session {i} turn {turn}: {type(exc).__name__}: {exc}")
            continue
        lat.append(time.perf_counter() - t0)
        by_turn.append((turn, lat[-1]))
        state = out[4]
        if [text_of(m) for m in out[1] if m["role"] == "user"] != sent:
            problems.append(f"session {i} turn {turn}: history holds another session's messages")
        if re.findall(r"years (\d{4})–(\d{4})", state["memory"]) != [(str(lo), str(hi))]:
            problems.append(f"session {i} turn {turn}: memory {state['memory']!r}")
        for rec in state["recommendations"]:
            if rec["year"] is None or not lo <= rec["year"] <= hi:
                problems.append(f"session {i} turn {turn}: {rec['title']} outside {lo}-{hi}")
            if rec["item_id"] == disliked:
                problems.append(f"session {i} turn {turn}: disliked {rec['title']} shown again")
        if not state["recommendations"]:
            problems.append(f"session {i} turn {turn}: no recommendations")
        if turn == 0 and state["recommendations"]:
            disliked = state["recommendations"][0]["item_id"]
            client.predict(disliked, False, api_name="/feedback")
    return {"latencies": lat, "by_turn": by_turn, "problems": problems, "errors": errors}


def wait_up(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"agentrec serve exited with {proc.returncode}; see its log above")
        try:
            with urllib.request.urlopen(url + "config", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"agentrec serve did not answer at {url} within {timeout:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="ml-latest-small")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8, help="the app's --concurrency")
    parser.add_argument("--startup-timeout", type=float, default=900.0)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "app_concurrency.json"))
    args = parser.parse_args()

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    env.pop("AGENTREC_LLM_MODEL", None)  # the offline planner: measures the app, not an LLM endpoint
    cmd = [sys.executable, "-m", "agentrec", "serve", "--dataset", args.dataset, "--port", str(port)]
    cmd += ["--concurrency", str(args.concurrency)]
    t_start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    try:
        wait_up(url, proc, args.startup_timeout)
        startup_s = time.perf_counter() - t_start
        load_before = os.getloadavg()
        barrier = threading.Barrier(args.sessions)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.sessions) as pool:
            results = list(pool.map(lambda i: session(url, i, args.turns, barrier), range(args.sessions)))
        wall = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    lat = np.array([x for r in results for x in r["latencies"]])
    problems = [p for r in results for p in r["problems"]]
    errors = [e for r in results for e in r["errors"]]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    import torch

    result = {
        "benchmark": "app_concurrency",
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_commit": commit.stdout.strip(),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "torch": torch.__version__,
            "load_average_before": [round(x, 2) for x in load_before],
        },
        "config": {
            "dataset": args.dataset,
            "sessions": args.sessions,
            "turns": args.turns,
            "app_concurrency": args.concurrency,
            "mode": "offline",
        },
        "server_startup_s": round(startup_s, 1),
        "wall_s": round(wall, 2),
        "turns_done": int(len(lat)),
        "turns_per_s": round(len(lat) / wall, 2),
        "latency_s": {
            "p50": round(float(np.percentile(lat, 50)), 3),
            "p95": round(float(np.percentile(lat, 95)), 3),
            "max": round(float(lat.max()), 3),
            "mean": round(float(lat.mean()), 3),
        }
        if len(lat)
        else {},
        # Turn 0 of every session arrives at once and each needs fresh retrieval (the Agent runs one turn at
        # a time), so the first wave queues; later turns are mostly app overhead.
        "latency_by_turn_s": {
            str(t): {
                "p50": round(float(np.percentile(v, 50)), 3),
                "p95": round(float(np.percentile(v, 95)), 3),
            }
            for t in range(args.turns)
            if (v := [x for r in results for (tt, x) in r["by_turn"] if tt == t])
        },
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "errors": len(errors),
        "isolation_violations": len(problems),
        "examples": (errors + problems)[:10],
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if not errors and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
