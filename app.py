"""The agentrec chat app: ``python app.py [--dataset ml-latest-small] [--port 7860]`` (= ``agentrec serve``).

Builds an Agent for the dataset (building missing artifacts), warms it up (text encoder, indexes, LLM client;
progress is logged), lays out the Gradio UI
(``agentrec.ui.layout.build_demo``, which wires the events to a per-session controller) and serves it on
127.0.0.1 with analytics off.
"""

from __future__ import annotations

import argparse
import logging
import sys

from agentrec.cli.app import add_serve_arguments, parse_auth, profiles_target, set_torch_threads, user_choices


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="agentrec chat app")
    add_serve_arguments(parser)
    args = parser.parse_args(argv)
    auth = parse_auth(args.auth)  # fail fast, before loading anything
    threads = set_torch_threads(args.torch_threads)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from agentrec.agent import Agent
    from agentrec.ui.layout import build_demo, launch

    log = logging.getLogger("agentrec.app")
    log.info("Loading %s (building what is missing)…", args.dataset)
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
        dataset=args.dataset,
        user_choices=user_choices(agent, args.max_users),
        max_cards=args.max_cards,
        concurrency_limit=args.concurrency,
        warm=not args.no_warm,  # encoder, indexes and LLM client load now: the first turn is as quick as the next
        progress=log.info,
    )
    log.info("agentrec app (%s) on http://%s:%d", agent.mode, args.host, args.port)
    launch(demo, host=args.host, port=args.port, auth=auth, block=True, warm_request=not args.no_warm)
    return 0


if __name__ == "__main__":
    sys.exit(main())
