"""First-turn latency of the chat app, as a person sees it: start `agentrec serve`, open the page in headless
Chromium, send the first message, time until the answer is complete; then a few more turns.

Runs the app twice, each a real `agentrec serve` subprocess on a free 127.0.0.1 port: warm (the default: text
encoder, indexes and card statistics load before the server listens) and `--no-warm` (they load on the first
query). Offline mode (no LLM). Needs Debian's Chromium (`make browser-deps`). Writes
bench/results/app_first_turn.json.

    AGENTREC_DATA_DIR=../shared/data .venv/bin/python bench/app_first_turn.py --dataset ml-latest-small
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
]
# Done: a new bot message exists and the status line no longer says "Answering".
_DONE_JS = """(before) => {
  const bots = document.querySelectorAll('[data-testid="bot"]');
  const status = document.querySelector('#agentrec-status');
  return bots.length > before && !(status && status.innerText.includes('Answering'));
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"agentrec serve exited with {proc.returncode}; see its log above")
        try:
            with urllib.request.urlopen(url + "config", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"agentrec serve did not answer at {url} within {timeout:.0f} s")


def turn(page: Any, message: str) -> float:
    """Send ``message`` like a person (type, Enter); seconds until the answer is complete."""
    before = page.locator('[data-testid="bot"]').count()
    box = page.locator("#agentrec-message textarea")
    box.fill(message)
    t0 = time.perf_counter()
    box.press("Enter")
    page.wait_for_function(_DONE_JS, arg=before, polling="raf", timeout=120_000)
    return time.perf_counter() - t0


def run(dataset: str, warm: bool, messages: list[str], startup_timeout: float) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("AGENTREC_LLM_MODEL", None)  # offline: measures the app, not an LLM endpoint
    cmd = [sys.executable, "-m", "agentrec", "serve", "--dataset", dataset, "--port", str(port)]
    cmd += [] if warm else ["--no-warm"]
    t_start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    try:
        wait_up(url, proc, startup_timeout)
        startup = time.perf_counter() - t_start
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            t0 = time.perf_counter()
            page.goto(url, wait_until="load")
            page.locator("#agentrec-message textarea").wait_for(state="visible", timeout=60_000)
            page_ready = time.perf_counter() - t0
            times = [turn(page, m) for m in messages]
            cards = page.locator(".agentrec-card").count()
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {
        "warm_start": warm,
        "server_startup_s": round(startup, 2),
        "page_ready_s": round(page_ready, 2),
        "first_turn_s": round(times[0], 3),
        "next_turns_s": [round(t, 3) for t in times[1:]],
        "cards_after_last_turn": cards,
    }


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The runs of one mode and the median / max of their first turns and later turns."""
    first = [r["first_turn_s"] for r in runs]
    later = [t for r in runs for t in r["next_turns_s"]]
    return {
        "first_turn_s_median": round(statistics.median(first), 3),
        "first_turn_s_max": max(first),
        "next_turns_s_median": round(statistics.median(later), 3) if later else None,
        "runs": runs,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="ml-latest-small")
    parser.add_argument("--startup-timeout", type=float, default=900.0)
    parser.add_argument("--repeats", type=int, default=2, help="fresh servers per mode (warm, cold)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "app_first_turn.json"))
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} not found: run `make browser-deps`")

    from agentrec.packs import load_pack

    pack_name = "products" if "amazon" in args.dataset else "movies" if "ml-" in args.dataset else "generic"
    pack = load_pack(pack_name)
    messages = [pack.examples[0], *pack.demo[1:4]]
    load_before = os.getloadavg()
    warm_runs, cold_runs = [], []
    for _ in range(args.repeats):  # interleaved, so that a change of load hits both modes alike
        warm_runs.append(run(args.dataset, True, messages, args.startup_timeout))
        cold_runs.append(run(args.dataset, False, messages, args.startup_timeout))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    warm, cold = summary(warm_runs), summary(cold_runs)
    result = {
        "benchmark": "app_first_turn",
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_commit": commit.stdout.strip(),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "config": {"dataset": args.dataset, "mode": "offline", "messages": messages, "browser": "chromium headless"},
        "warm": warm,
        "cold": cold,
        "first_turn_ratio_cold_over_warm": round(
            cold["first_turn_s_median"] / max(warm["first_turn_s_median"], 1e-6), 1
        ),
        "target_first_turn_s": 1.0,
        "meets_target": warm["first_turn_s_max"] <= 1.0,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
