"""``agentrec recommend``, ``agentrec chat`` (terminal) and ``agentrec demo``: talk to the agent.

All three build what is missing for the dataset first (data, embeddings, index, trained retriever), then
answer through :class:`agentrec.agent.Agent` — with the LLM from ``AGENTREC_LLM_MODEL`` /
``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` when set, else in offline mode.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

__all__ = ["DEMO_REQUESTS", "register"]

DEMO_REQUESTS = (
    "something like Toy Story",
    "more like the second one",
    "not the first one, and no animation",
    "only 90s",
    "start over: sci-fi from the 90s, nothing too violent",
    "a funny crime movie after 2000",
)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--dataset",
        default="ml-latest-small",
        help="dataset name, dataset spec (.toml) or artifacts folder (default: ml-latest-small)",
    )
    p.add_argument("--user", default=None, help="a known user id to personalise for")
    p.add_argument("--k", type=int, default=5, help="recommendations per answer (default: 5)")
    p.add_argument("--data-dir", default=None, help="data root (default: AGENTREC_DATA_DIR)")
    p.add_argument("--artifacts-dir", default=None, help="artifacts root (default: AGENTREC_ARTIFACTS_DIR)")
    p.add_argument(
        "--profiles",
        default=None,
        help="remember users across conversations (opt-in): a SQLite file or a database URL such as "
        "postgresql://user:password@host:5432/agentrec (default: $AGENTREC_PROFILES_URL, else nothing is kept)",
    )
    p.add_argument("--trace", action="store_true", help="print the tool trace of each answer")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``recommend``, ``chat`` and ``demo`` sub-commands."""
    rec = subparsers.add_parser("recommend", help="answer one request through the agent")
    rec.add_argument("request", help='what you want, e.g. "sci-fi from the 90s, no horror"')
    _add_common(rec)
    rec.set_defaults(func=_run_recommend)

    chat = subparsers.add_parser("chat", help="talk to the agent in the terminal (empty line or 'quit' ends)")
    _add_common(chat)
    chat.set_defaults(func=_run_chat)

    demo = subparsers.add_parser("demo", help="build what is missing, then answer a few example requests")
    _add_common(demo)
    demo.set_defaults(func=_run_demo)


def _load(args: argparse.Namespace) -> Any:
    from agentrec.agent import Agent
    from agentrec.config import profiles_url_from_env

    t = time.perf_counter()
    print(f"Loading {args.dataset} (building what is missing; the first time takes a few minutes)...", flush=True)
    agent = Agent.load(
        args.dataset,
        data_dir=args.data_dir,
        artifacts_dir=args.artifacts_dir,
        profiles_path=args.profiles or profiles_url_from_env(),
        show_progress=True,
    )
    print(f"Ready in {time.perf_counter() - t:.1f} s ({agent.mode} mode).", flush=True)
    return agent


def _k(args: argparse.Namespace) -> int:
    if not 1 <= args.k <= 50:
        raise ValueError(f"--k must be between 1 and 50, got {args.k}")
    return int(args.k)


def _show(reply: Any, trace: bool) -> None:
    print(reply.text)
    if trace:
        for ev in reply.trace:
            print(f"  [{ev.kind}] {ev.name}: {ev.detail}")
    print()


def _run_recommend(args: argparse.Namespace) -> int:
    k = _k(args)
    agent = _load(args)
    agent.sessions.get("cli").k = k
    _show(agent.chat(args.request, session="cli", user=args.user), args.trace)
    return 0


def _run_chat(args: argparse.Namespace) -> int:
    k = _k(args)
    agent = _load(args)
    agent.sessions.get("cli").k = k
    print('Say what you would like to watch (e.g. "comedy from the 90s"); "reset" starts over, "quit" ends.')
    while True:
        try:
            line = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not line or line.lower() in ("quit", "exit", ":q"):
            return 0
        if line.lower() == "reset":
            agent.reset("cli")
            agent.sessions.get("cli").k = k
            print("(conversation forgotten)\n")
            continue
        _show(agent.chat(line, session="cli", user=args.user), args.trace)


def _run_demo(args: argparse.Namespace) -> int:
    k = _k(args)
    agent = _load(args)
    agent.sessions.get("demo").k = k
    for request in agent.toolbox.pack.demo or DEMO_REQUESTS:
        print(f"you> {request}")
        t = time.perf_counter()
        reply = agent.chat(request, session="demo", user=args.user)
        _show(reply, args.trace)
        print(f"({(time.perf_counter() - t) * 1000:.0f} ms)\n", file=sys.stderr)
    return 0
