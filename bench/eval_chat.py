"""Conversational evaluation benchmark: simulated users on ml-latest-small, every system, 5 turns, k = 10.

Usage: .venv/bin/python bench/eval_chat.py [--episodes 200] [--time-budget 1500] [--artifacts-dir DIR]
Writes bench/results/eval_chat.json, .md and .png (the same as ``agentrec eval-chat --out bench/results``).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="ml-latest-small")
    ap.add_argument("--episodes", type=int, default=200)
    ap.add_argument("--turns", type=int, default=5)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-budget", type=float, default=None, help="seconds; the report says INCOMPLETE if hit")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--artifacts-dir", default=None)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from agentrec.config import AgentConfig
    from agentrec.evalchat.pipeline import evaluate_chat
    from agentrec.evalchat.report import markdown_table

    result, paths = evaluate_chat(
        args.dataset, episodes=args.episodes, turns=args.turns, k=args.k, seed=args.seed, out_dir=args.out,
        config=AgentConfig(), data_dir=args.data_dir, artifacts_dir=args.artifacts_dir, show_progress=True,
        time_budget_s=args.time_budget,
    )  # fmt: skip
    print(markdown_table(result.metrics(), result.turns))  # noqa: T201
    print({k: str(v) for k, v in paths.items()}, "complete" if result.complete else "INCOMPLETE")  # noqa: T201


if __name__ == "__main__":
    main()
