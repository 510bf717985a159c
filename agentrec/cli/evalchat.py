"""``agentrec eval-chat``: simulated conversations on a dataset's held-out split, scored for every system."""

from __future__ import annotations

import argparse
import sys

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``eval-chat`` sub-command."""
    p = subparsers.add_parser(
        "eval-chat",
        help="evaluate the agent and baselines with a simulated user (JSON, Markdown report, plot)",
    )
    p.add_argument(
        "--dataset",
        default="ml-latest-small",
        help="dataset name, dataset spec (.toml) or artifacts folder (default: ml-latest-small)",
    )
    p.add_argument("--episodes", type=int, default=200, help="simulated users, one conversation each (default: 200)")
    p.add_argument("--turns", type=int, default=5, help="most turns per conversation, 1..10 (default: 5)")
    p.add_argument("--k", type=int, default=10, help="list length; a hit is the target in the top k (default: 10)")
    p.add_argument("--simulator", default="rules", help="'rules' (default) or 'llm' (needs AGENTREC_LLM_MODEL)")
    p.add_argument(
        "--systems", nargs="+", default=None,
        help="systems to compare: popularity semantic gnn agent agent-llm (default: all available)",
    )  # fmt: skip
    p.add_argument("--out", default="eval-chat", help="output directory (default: ./eval-chat)")
    p.add_argument("--name", default="eval_chat", help="file stem of the report (default: eval_chat)")
    p.add_argument("--seed", type=int, default=0, help="seed of the user sampling and the simulator (default: 0)")
    p.add_argument("--time-budget", type=float, default=None, help="stop after this many seconds (report INCOMPLETE)")
    p.add_argument("--data-dir", default=None, help="data root (default: AGENTREC_DATA_DIR)")
    p.add_argument("--artifacts-dir", default=None, help="artifacts root (default: AGENTREC_ARTIFACTS_DIR)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from agentrec.config import AgentConfig
    from agentrec.evalchat.pipeline import check_arguments, evaluate_chat
    from agentrec.evalchat.report import markdown_table

    config = AgentConfig.from_env()
    # Fail on bad arguments before anything is loaded or built.
    check_arguments(
        turns=args.turns, k=args.k, simulator=args.simulator, systems=args.systems, config=config, dataset=args.dataset
    )
    result, paths = evaluate_chat(
        args.dataset, episodes=args.episodes, turns=args.turns, k=args.k, simulator=args.simulator,
        systems=args.systems, out_dir=args.out, seed=args.seed, config=config, data_dir=args.data_dir,
        artifacts_dir=args.artifacts_dir, show_progress=sys.stderr.isatty(), time_budget_s=args.time_budget,
        name=args.name,
    )  # fmt: skip
    print(markdown_table(result.metrics(), result.turns))
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    if not result.complete:
        print(
            "agentrec: warning: the run stopped early (time budget); the report is marked INCOMPLETE", file=sys.stderr
        )
        return 3
    return 0
