"""``agentrec serve``: start the Gradio chat app (binds 127.0.0.1 unless told otherwise)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

__all__ = ["parse_auth", "profiles_target", "register", "serve", "set_torch_threads", "user_choices"]

logger = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    """Add the ``serve`` sub-command."""
    p = subparsers.add_parser(
        "serve",
        help="start the chat app in the browser",
        description="Start the Gradio chat app: streaming chat, recommendation cards with evidence paths, "
        "like / dislike, the agent's tool trace. Analytics are off; there is no public share link.",
    )
    add_serve_arguments(p)
    p.set_defaults(func=serve)


def add_serve_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``agentrec serve`` (also used by the repository's ``app.py``)."""
    p.add_argument(
        "--dataset",
        default="ml-latest-small",
        help="dataset name, dataset spec (.toml) or artifacts folder (ml-latest-small)",
    )
    p.add_argument("--data-dir", default=None, help="raw data root (default: $AGENTREC_DATA_DIR)")
    p.add_argument("--artifacts-dir", default=None, help="artifacts root (default: $AGENTREC_ARTIFACTS_DIR)")
    p.add_argument("--no-build", action="store_true", help="fail instead of building missing artifacts")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860, help="TCP port (7860)")
    p.add_argument("--auth", default=None, metavar="USER:PASS", help="require this login in the browser")
    p.add_argument("--concurrency", type=int, default=8, help="chat turns answered at the same time (8)")
    p.add_argument("--max-cards", type=int, default=10, help="recommendation cards shown at most (10)")
    p.add_argument("--max-users", type=int, default=200, help="user ids listed in the user picker (200)")
    p.add_argument(
        "--profiles",
        default=None,
        help="remember users across conversations and replicas: a SQLite file or a database URL such as "
        "postgresql://user:password@host:5432/agentrec (default: $AGENTREC_PROFILES_URL, else nothing is kept)",
    )
    p.add_argument(
        "--no-warm",
        action="store_true",
        help="start serving before the text encoder, indexes and LLM client are loaded (the first turn loads them)",
    )
    p.add_argument(
        "--torch-threads",
        type=int,
        default=None,
        help="PyTorch threads for answering (default: $AGENTREC_TORCH_THREADS or 1: many small requests on few "
        "cores stay fast under load; 0: keep PyTorch's default)",
    )


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``"user:pass"`` -> ``("user", "pass")``; None stays None.

    Raises:
        ValueError: when the value has no ``:`` or an empty user or password (the password is not echoed).
    """
    if value is None:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ValueError("--auth must be USER:PASSWORD with a non-empty user and password, e.g. --auth me:secret")
    return user, password


def profiles_target(args: argparse.Namespace) -> str | None:
    """Where the app keeps user profiles: ``--profiles``, else ``AGENTREC_PROFILES_URL``, else None (nowhere)."""
    from agentrec.config import profiles_url_from_env

    return getattr(args, "profiles", None) or profiles_url_from_env()


def set_torch_threads(n: int | None) -> int:
    """Use ``n`` PyTorch intra-op threads (None: ``AGENTREC_TORCH_THREADS`` or 1; 0 leaves PyTorch's default).

    Each chat turn runs small tensor ops (one query embedding, one score vector); on a few busy cores the
    default thread pool spins and waits, and one thread per request was 4-5x faster in our measurements.

    Returns:
        The thread count to pass on to ``Agent.load(torch_threads=...)`` so that loading keeps it.

    Raises:
        ValueError: when ``n`` is negative or ``AGENTREC_TORCH_THREADS`` is not a whole number >= 0.
    """
    from agentrec.config import apply_torch_threads, torch_threads_from_env

    if n is not None and n < 0:
        raise ValueError(f"--torch-threads must be 0 (keep the default) or a positive number, got {n}")
    n = torch_threads_from_env() if n is None else n
    apply_torch_threads(n)
    return n


def user_choices(agent: Any, limit: int = 200) -> list[str]:
    """Raw ids of the most active training users (for the user picker), most active first."""
    import numpy as np

    train = agent.components.train
    if limit <= 0 or train.num_users == 0:
        return []
    counts = np.bincount(train.user_index, minlength=train.num_users)
    order = np.argsort(-counts, kind="stable")[:limit]
    return [train.user_ids[int(u)] for u in order if counts[u] > 0]


def serve(args: argparse.Namespace) -> int:
    """Load the agent for ``args.dataset`` and serve the app until interrupted."""
    auth = parse_auth(args.auth)  # fail fast, before loading anything
    threads = set_torch_threads(args.torch_threads)
    from agentrec.agent import Agent

    try:
        from agentrec.ui.layout import build_demo, launch
    except ImportError as exc:
        raise RuntimeError(f"the chat app needs Gradio ({exc}); install it with: pip install 'agentrec[app]'") from exc
    if args.host not in ("127.0.0.1", "localhost", "::1") and auth is None:
        logger.warning("serving on %s without --auth: anyone who can reach this address can use the app", args.host)
    logger.info("Loading %s (building what is missing)…", args.dataset)
    agent = Agent.load(
        args.dataset,
        data_dir=args.data_dir,
        artifacts_dir=args.artifacts_dir,
        build_missing=not args.no_build,
        torch_threads=threads,
        profiles_path=profiles_target(args),
    )
    demo = build_demo(
        agent,
        dataset=str(args.dataset),
        user_choices=user_choices(agent, args.max_users),
        max_cards=args.max_cards,
        concurrency_limit=args.concurrency,
        warm=not args.no_warm,  # encoder, indexes and LLM client load now: the first turn is as quick as the next
        progress=logger.info,
    )
    logger.info("agentrec app (%s) on http://%s:%d", agent.mode, args.host, args.port)
    launch(demo, host=args.host, port=args.port, auth=auth, block=True, warm_request=not args.no_warm)
    return 0
