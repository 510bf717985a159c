"""Run simulated conversations through every system and score them.

Metrics per system: hit rate within ``T`` turns (``T = 1..turns``), average turns to a hit (misses count as
``turns + 1``), items recommended again after the user turned them down, recommendations breaking a constraint
the user stated earlier (checked against the catalogue, not against the system's own reading of the
conversation), latency per turn, and LLM tokens per episode.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agentrec.evalchat.simulator import RuleSimulator, SimUser
from agentrec.evalchat.systems import System
from agentrec.types import Catalog

__all__ = ["MAX_K", "MAX_TURNS", "EpisodeLog", "EvalResult", "run_episodes", "summarise"]

logger = logging.getLogger(__name__)

MAX_TURNS = 10
MAX_K = 50
SimulatorFactory = Callable[[Catalog, SimUser, int], RuleSimulator]


@dataclass
class EpisodeLog:
    """One conversation: the transcript, the turn of the hit (None for a miss) and the counted faults."""

    system: str
    user_id: str
    target: str
    hit_turn: int | None = None
    transcript: list[dict[str, Any]] = field(default_factory=list)
    repeated_rejections: int = 0
    constraint_violations: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    tokens: int = 0
    simulator_tokens: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass
class EvalResult:
    """Every episode of every system plus the run's settings; ``complete`` is False when the run was cut short."""

    turns: int
    k: int
    episodes: dict[str, list[EpisodeLog]]
    complete: bool = True
    first_answer: dict[str, dict[str, Any]] = field(default_factory=dict)

    def metrics(self) -> dict[str, dict[str, Any]]:
        """Per system: see :func:`summarise`, plus ``first_answer`` quality when it was measured."""
        out = {name: summarise(logs, self.turns) for name, logs in self.episodes.items()}
        for name, quality in self.first_answer.items():
            out[name]["first_answer"] = quality
        return out


def summarise(logs: Sequence[EpisodeLog], turns: int) -> dict[str, Any]:
    """Aggregate episodes of one system.

    Returns:
        ``{"episodes", "hit_rate": {T: rate}, "avg_turns", "repeated_rejections", "constraint_violations",
        "latency_ms": {"mean", "p50", "p95"}, "tokens_per_episode", "input_tokens_per_episode",
        "output_tokens_per_episode", "simulator_tokens_per_episode"}`` (tokens: the system's LLM, in total and
        split into input and output; simulator tokens: the LLM simulated user's, 0 with the rules).
    """
    n = len(logs)
    lat = [x for lg in logs for x in lg.latencies_ms]
    return {
        "episodes": n,
        "hit_rate": {
            t: (sum(1 for lg in logs if lg.hit_turn is not None and lg.hit_turn <= t) / n if n else 0.0)
            for t in range(1, turns + 1)
        },
        "avg_turns": float(np.mean([lg.hit_turn or turns + 1 for lg in logs])) if n else 0.0,
        "repeated_rejections": sum(lg.repeated_rejections for lg in logs),
        "constraint_violations": sum(lg.constraint_violations for lg in logs),
        "latency_ms": {
            "mean": float(np.mean(lat)) if lat else 0.0,
            "p50": float(np.percentile(lat, 50)) if lat else 0.0,
            "p95": float(np.percentile(lat, 95)) if lat else 0.0,
        },
        "tokens_per_episode": float(np.mean([lg.tokens for lg in logs])) if n else 0.0,
        "input_tokens_per_episode": float(np.mean([lg.input_tokens for lg in logs])) if n else 0.0,
        "output_tokens_per_episode": float(np.mean([lg.output_tokens for lg in logs])) if n else 0.0,
        "simulator_tokens_per_episode": float(np.mean([lg.simulator_tokens for lg in logs])) if n else 0.0,
    }


def _check_range(name: str, value: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= hi:
        raise ValueError(f"{name} must be an integer between 1 and {hi}, got {value!r}")


def run_episodes(
    systems: Sequence[System],
    users: Sequence[SimUser],
    catalog: Catalog,
    *,
    turns: int = 5,
    k: int = 10,
    seed: int = 0,
    simulator: SimulatorFactory | None = None,
    show_progress: bool = False,
    time_budget_s: float | None = None,
) -> EvalResult:
    """Play one conversation per user with every system and log everything.

    Args:
        systems: the systems to compare (each conversation starts fresh).
        users: the simulated users (see :func:`agentrec.evalchat.simulator.select_users`).
        catalog: the catalogue the items index into.
        turns: the most turns per conversation (1..10).
        k: a hit is the target within the first ``k`` items shown (1..50).
        seed: the simulators' seed (same seed, same transcripts).
        simulator: ``(catalog, user, seed) -> simulator`` (default: :class:`RuleSimulator`); each system gets its
            own simulator instance with the same seed, so its wording depends only on what that system showed.
        show_progress: a progress bar over episodes.
        time_budget_s: stop starting new episodes after this many seconds; the result is then marked
            ``complete=False`` and only finished episodes are scored.

    Returns:
        The :class:`EvalResult`.
    """
    _check_range("turns", turns, MAX_TURNS)
    _check_range("k", k, MAX_K)
    if not systems:
        raise ValueError("systems must name at least one system")
    if not users:
        raise ValueError("users is empty; select at least one simulated user")
    make = simulator or (lambda cat, user, s: RuleSimulator(cat, user, seed=s, k=k))
    from tqdm.auto import tqdm

    logs: dict[str, list[EpisodeLog]] = {s.name: [] for s in systems}
    start = time.perf_counter()
    complete = True
    for ep, user in enumerate(tqdm(users, desc="episodes", disable=not show_progress)):
        if time_budget_s is not None and time.perf_counter() - start > time_budget_s:
            logger.warning("time budget of %.0f s spent after %d episode(s); the run is incomplete", time_budget_s, ep)
            complete = False
            break
        for system in systems:
            logs[system.name].append(_episode(system, make(catalog, user, seed), user, ep, catalog, turns, k))
    return EvalResult(turns=turns, k=k, episodes=logs, complete=complete)


def _episode(
    system: System, sim: RuleSimulator, user: SimUser, ep: int, catalog: Catalog, turns: int, k: int
) -> EpisodeLog:
    log = EpisodeLog(system.name, user.user_id, catalog[user.target_index].item_id)
    system.start(user, ep)
    rejected: set[int] = set()
    message: str | None = sim.opening()
    for turn in range(1, turns + 1):
        assert message is not None
        t0 = time.perf_counter()
        out = system.respond(message, k)
        log.latencies_ms.append((time.perf_counter() - t0) * 1000)
        log.tokens += out.tokens
        log.input_tokens += out.input_tokens
        log.output_tokens += out.output_tokens
        shown = out.items[:k]
        log.repeated_rejections += sum(1 for i in shown if i in rejected)
        log.constraint_violations += sum(1 for i in shown if sim.stated.violations(catalog[i]))
        reaction = sim.react(shown)
        log.transcript.append(
            {"turn": turn, "user": message, "shown": [catalog[i].item_id for i in shown], "hit": reaction.hit}
        )
        if reaction.hit:
            log.hit_turn = turn
            break
        rejected.update(reaction.rejected)
        message = reaction.message
    log.simulator_tokens = int(getattr(sim, "tokens", 0))
    return log
