"""20 concurrent gradio_client sessions x 5 turns against the real app: no errors, no shared memory.

Each session states its own year range (all 20 differ) and dislikes one of its own cards; every later
turn must show only that session's constraint in the memory panel, only cards inside its range, never its
disliked card, and a chat history holding only its own messages. Latency p50 / p95 are printed.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

pytest.importorskip("gradio_client")

from app_helpers import AppServer, make_agent, serve_app  # noqa: E402

SESSIONS = 20
TURNS = 5
FOLLOW_UPS = ("more please", "any others?", "show me more", "more")


@pytest.fixture(scope="module")
def server() -> Iterator[AppServer]:
    with serve_app(make_agent(), concurrency_limit=8) as srv:
        yield srv


def _text(message: dict[str, Any]) -> str:
    content = message["content"]
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def run_session(url: str, i: int, start: threading.Barrier) -> dict[str, Any]:
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False, analytics_enabled=False)
    lo, hi = 1970 + i, 2000 + i
    sent: list[str] = []
    latencies: list[float] = []
    problems: list[str] = []
    disliked: str | None = None
    start.wait()
    for turn in range(TURNS):
        message = f"movies between {lo} and {hi}" if turn == 0 else FOLLOW_UPS[turn - 1]
        sent.append(message)
        t0 = time.perf_counter()
        out = client.predict(message, "new user", api_name="/respond")
        latencies.append(time.perf_counter() - t0)
        state = out[4]  # the finished turn's session_state JSON
        users = [_text(m) for m in out[1] if m["role"] == "user"]
        if users != sent:
            problems.append(f"session {i} turn {turn}: history has user messages {users}, sent {sent}")
        ranges = re.findall(r"year (\d{4})-(\d{4})", state["memory"])
        if ranges != [(str(lo), str(hi))]:
            problems.append(f"session {i} turn {turn}: memory shows {ranges}, expected only ({lo}, {hi})")
        recs = state["recommendations"]
        if not recs:
            problems.append(f"session {i} turn {turn}: no recommendations ({_text(out[1][-1])!r})")
        for rec in recs:
            if rec["year"] is None or not lo <= rec["year"] <= hi:
                problems.append(f"session {i} turn {turn}: {rec['title']} is outside {lo}-{hi}")
            if rec["item_id"] == disliked:
                problems.append(f"session {i} turn {turn}: disliked {rec['title']} shown again")
        if turn == 0 and recs:
            disliked = recs[0]["item_id"]
            client.predict(disliked, False, api_name="/feedback")
    return {"latencies": latencies, "problems": problems}


@pytest.mark.slow
def test_twenty_concurrent_sessions_never_share_memory(server: AppServer) -> None:
    start = threading.Barrier(SESSIONS)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(SESSIONS) as pool:
        results = list(pool.map(lambda i: run_session(server.url, i, start), range(SESSIONS)))
    wall = time.perf_counter() - t0
    problems = [p for r in results for p in r["problems"]]
    assert not problems, "\n".join(problems[:20])
    lat = np.array([x for r in results for x in r["latencies"]])
    assert len(lat) == SESSIONS * TURNS
    p50, p95 = np.percentile(lat, [50, 95])
    print(f"\n{SESSIONS} sessions x {TURNS} turns in {wall:.1f} s: turn latency p50 {p50:.2f} s, p95 {p95:.2f} s")
