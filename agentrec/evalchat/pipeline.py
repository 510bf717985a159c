"""One call from a dataset name to a written report: what ``agentrec eval-chat`` runs."""

from __future__ import annotations

import datetime as dt
import logging
import platform
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agentrec.config import AgentConfig
from agentrec.evalchat.quality import first_answer_quality
from agentrec.evalchat.report import write_report
from agentrec.evalchat.runner import MAX_K, MAX_TURNS, EvalResult, run_episodes
from agentrec.evalchat.simulator import RuleSimulator, select_users
from agentrec.evalchat.systems import SYSTEMS, build_systems
from agentrec.retrieve.quality import QualityPrior

__all__ = ["SIMULATORS", "check_arguments", "evaluate_chat"]

logger = logging.getLogger(__name__)

SIMULATORS = ("rules", "llm")


def check_arguments(
    *, turns: int, k: int, simulator: str, systems: Sequence[str] | None, config: AgentConfig, dataset: Any = None
) -> list[str]:
    """Validate everything that can be checked before loading data; return the systems to run.

    Raises:
        ValueError: naming the bad argument, its value and the valid choices.
    """
    for name, value, hi in (("turns", turns, MAX_TURNS), ("k", k, MAX_K)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= hi:
            raise ValueError(f"{name} must be an integer between 1 and {hi}, got {value!r}")
    if simulator not in SIMULATORS:
        raise ValueError(f"simulator must be one of {SIMULATORS}, got {simulator!r}")
    if simulator == "llm":
        from agentrec.evalchat.llmsim import check_llm_config

        check_llm_config(config)
    if isinstance(dataset, str):
        from agentrec.config import Paths
        from agentrec.data import DATASETS, resolve_dataset

        try:  # a built-in or registered name, a dataset spec (.toml) or an artifacts folder
            resolve_dataset(dataset, Paths.from_env().artifacts_dir)
        except ValueError as exc:
            raise ValueError(
                f"dataset {dataset!r} is unknown; valid datasets are {sorted(DATASETS)}, a dataset spec (.toml) or "
                "an artifacts folder"
            ) from exc
    names = list(systems) if systems else [s for s in SYSTEMS if s != "agent-llm" or config.llm_enabled]
    bad = [n for n in names if n not in SYSTEMS]
    if bad:
        raise ValueError(f"systems: unknown {bad}; valid systems are {SYSTEMS}")
    if "agent-llm" in names and not config.llm_enabled:
        raise ValueError(
            "systems: 'agent-llm' needs an LLM; set AGENTREC_LLM_MODEL (and OPENAI_BASE_URL for a local server) "
            "or leave 'agent-llm' out"
        )
    return names


def evaluate_chat(
    dataset: str | Any = "ml-latest-small",
    *,
    episodes: int = 200,
    turns: int = 5,
    k: int = 10,
    simulator: str = "rules",
    systems: Sequence[str] | None = None,
    out_dir: str | Path | None = None,
    seed: int = 0,
    min_history: int = 5,
    config: AgentConfig | None = None,
    components: Any = None,
    data_dir: str | Path | None = None,
    artifacts_dir: str | Path | None = None,
    show_progress: bool = False,
    time_budget_s: float | None = None,
    name: str = "eval_chat",
) -> tuple[EvalResult, dict[str, Path]]:
    """Evaluate systems in simulated conversations on a dataset's held-out split and write the report.

    Args:
        dataset: a dataset name (``agentrec.data.DATASETS``) or a loaded dataset.
        episodes: simulated users (one conversation each, per system).
        turns: the most turns per conversation (1..10).
        k: list length; a hit is the target in the top ``k`` (1..50).
        simulator: ``"rules"`` or ``"llm"`` (needs ``config`` with a model).
        systems: a subset of :data:`~agentrec.evalchat.systems.SYSTEMS` (default: all available).
        out_dir: where ``<name>.json`` / ``.md`` / ``.png`` go (None: nothing is written).
        seed: the simulators' and the user sampling's seed.
        min_history: training interactions a simulated user needs.
        config: LLM settings (default ``AgentConfig.from_env()``), used by ``agent-llm`` and ``simulator="llm"``.
        components: ready ``agentrec.artifacts.Components`` (loaded from ``dataset`` when None).
        data_dir: raw data root.
        artifacts_dir: artifacts root.
        show_progress: progress bars.
        time_budget_s: stop starting episodes after this long; the report is then marked INCOMPLETE.
        name: the report's file stem.

    Returns:
        The result and the written paths (empty without ``out_dir``).
    """
    config = config if config is not None else AgentConfig.from_env()
    names = check_arguments(
        turns=turns, k=k, simulator=simulator, systems=systems, config=config,
        dataset=dataset if components is None else None,
    )  # fmt: skip
    start = time.perf_counter()
    commit = _git_commit()  # the code that runs, even if the tree moves on during a long run
    if components is None:
        from agentrec.artifacts import load_components

        # The simulated users' targets are their held-out items: only training items count as already seen.
        components = load_components(
            dataset, data_dir=data_dir, artifacts_dir=artifacts_dir, show_progress=show_progress, exclude="train"
        )
    users = select_users(components.split, components.catalog, episodes, seed=seed, min_history=min_history)
    agent = llm_agent = None
    if "agent" in names or "agent-llm" in names:
        from agentrec.agent import Agent

        agent = Agent(components, config=AgentConfig())
        if "agent-llm" in names:
            llm_agent = Agent(components, config=config)
    built = build_systems(names, components, agent=agent, llm_agent=llm_agent)
    factory = None
    if simulator == "llm":
        from agentrec.agent.llm_client import make_chat_model
        from agentrec.evalchat.llmsim import LLMSimulator

        model = make_chat_model(config)

        def factory(cat: Any, user: Any, s: int) -> RuleSimulator:
            return LLMSimulator(cat, user, config, chat_model=model, seed=s, k=k)

    load_s = time.perf_counter() - start
    result = run_episodes(
        built, users, components.catalog, turns=turns, k=k, seed=seed, simulator=factory,
        show_progress=show_progress, time_budget_s=time_budget_s,
    )  # fmt: skip
    prior = QualityPrior.from_interactions(components.train)
    ids = components.catalog.id_to_index
    result.first_answer = {name: first_answer_quality(logs, prior, ids) for name, logs in result.episodes.items()}
    paths: dict[str, Path] = {}
    if out_dir is not None:
        meta = {
            "dataset": getattr(components, "name", str(dataset)),
            "simulator": simulator if simulator == "rules" else f"llm:{config.model}",
            "episodes_requested": episodes,
            "seed": seed,
            "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "git_commit": commit,
            "load_s": round(load_s, 1),
            "total_s": round(time.perf_counter() - start, 1),
            "machine": _machine(),
        }
        paths = write_report(result, out_dir, name=name, meta=meta)
    return result, paths


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _machine() -> dict[str, Any]:
    import os

    info: dict[str, Any] = {"platform": platform.platform(), "cpu_count": os.cpu_count()}
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:  # pragma: no cover
        info["torch"] = None
    return info
