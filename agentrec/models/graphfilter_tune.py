"""Choose graph-filter settings on a validation split carved from the training data (never on test).

The reference codes of GF-CF, BSPM and ChebyCF pick their settings on the test split; here a seeded share of
each user's training interactions is held out, the filter is decomposed once on the rest, and a coordinate
search changes one setting at a time (a new response reuses the decomposition, so each trial costs only
the scoring of the validation users).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from agentrec.graph import build_graph
from agentrec.models.graphfilter import GraphFilter, GraphFilterConfig
from agentrec.types import Interactions

__all__ = ["DEFAULT_GRID", "TuneResult", "tune_graph_filter"]

logger = logging.getLogger(__name__)

DEFAULT_GRID: Mapping[str, Sequence[Any]] = {
    "flatness": (1.0, 1.5, 2.0, 2.5, 3.0, 4.0),
    "ideal_weight": (0.0, 0.1, 0.2, 0.3, 0.4),
    "ideal_rank": (128, 256, 512),
    "degree_power": (0.2, 0.3, 0.35, 0.4, 0.45, 0.5),
    "order": (8, 16),
}


@dataclass
class TuneResult:
    """What the search found.

    Attributes:
        config: the best settings.
        metrics: their validation metrics.
        trials: every setting tried, ``{"changes": ..., "metrics": ...}``, in order.
        seconds: wall time of the whole search (decomposition included).
        valid_users: validation users scored per trial.
    """

    config: GraphFilterConfig
    metrics: dict[str, float]
    trials: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    valid_users: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly result."""
        return {
            "config": self.config.to_dict(),
            "metrics": self.metrics,
            "trials": self.trials,
            "seconds": round(self.seconds, 2),
            "valid_users": self.valid_users,
        }


def _carve(
    train: Interactions, valid: Interactions | None, valid_fraction: float, seed: int, max_users: int | None
) -> tuple[Interactions, Interactions]:
    from agentrec.data.splits import random_split

    if valid is None:
        inner = random_split(train, test_fraction=valid_fraction, seed=seed, min_test=1)
        train, valid = inner.train, inner.test
    if max_users is not None:
        users = np.unique(valid.user_index)
        if len(users) > max_users:
            keep = np.random.default_rng(seed).choice(users, max_users, replace=False)
            valid = valid.subset(np.isin(valid.user_index, keep))
    return train, valid


def tune_graph_filter(
    train: Interactions,
    *,
    valid: Interactions | None = None,
    base: GraphFilterConfig | None = None,
    grid: Mapping[str, Sequence[Any]] | None = None,
    valid_fraction: float = 0.1,
    seed: int = 0,
    max_users: int | None = 5000,
    metric: str = "ndcg@20",
    rounds: int = 2,
) -> TuneResult:
    """Coordinate search of graph-filter settings on a validation split carved from ``train``.

    Args:
        train: the training interactions (test is never seen).
        valid: a validation part to use as is (a split that ships one); by default it is carved from ``train``.
        base: the starting settings (default :class:`GraphFilterConfig`).
        grid: setting name -> values to try (default :data:`DEFAULT_GRID`); any ``GraphFilterConfig`` field.
        valid_fraction: share of each user's interactions held out for validation (when ``valid`` is None).
        seed: seed of the hold-out and the user sample.
        max_users: validation users scored per trial (a seeded sample; None: all).
        metric: what to maximise, ``"recall@K"`` or ``"ndcg@K"``.
        rounds: passes over the settings (stops early when a pass changes nothing).

    Returns:
        A :class:`TuneResult`; fit the chosen ``config`` on the full training data afterwards.

    Raises:
        ValueError: for an unknown setting name, an empty value list or a bad metric.
    """
    from agentrec.evaluate import evaluate

    start = time.perf_counter()
    base = base or GraphFilterConfig()
    grid = dict(DEFAULT_GRID if grid is None else grid)
    known = set(GraphFilterConfig.__dataclass_fields__)
    unknown = sorted(set(grid) - known)
    if unknown:
        raise ValueError(f"unknown setting(s) {unknown} in grid; valid settings are {sorted(known)}")
    if any(len(v) == 0 for v in grid.values()):
        raise ValueError("every setting in grid needs at least one value to try")
    name, _, cut = metric.partition("@")
    if name not in ("recall", "ndcg") or not cut.isdigit() or int(cut) <= 0:
        raise ValueError(f"metric must look like 'recall@20' or 'ndcg@20', got {metric!r}")
    k = int(cut)
    inner, valid = _carve(train, valid, valid_fraction, seed, max_users)
    model = GraphFilter(build_graph(inner), base)
    trials: list[dict[str, Any]] = []
    cache: dict[tuple[Any, ...], dict[str, float]] = {}

    def run(cfg: GraphFilterConfig) -> dict[str, float]:
        key = tuple(sorted(cfg.to_dict().items()))
        if key not in cache:
            trial = model.with_config(**{f: getattr(cfg, f) for f in known})
            values = evaluate(trial, (inner, valid), ks=(k,)).values
            cache[key] = {m: values[f"{m}@{k}"] for m in ("recall", "ndcg", "coverage")}
            changes = {f: getattr(cfg, f) for f in known if getattr(cfg, f) != getattr(base, f)}
            trials.append({"changes": changes, "metrics": cache[key]})
            logger.info("graph filter %s: %s", changes, cache[key])
        return cache[key]

    best, best_metrics = base, run(base)
    for _ in range(max(1, rounds)):
        changed = False
        for setting, values in grid.items():
            for value in values:
                cfg = replace(best, **{setting: value})
                try:
                    cfg.validate()
                except ValueError as err:  # e.g. ideal_rank above rank: not a setting to try
                    logger.info("graph filter: skipping %s=%r (%s)", setting, value, err)
                    continue
                metrics = run(cfg)
                if metrics[name] > best_metrics[name] + 1e-9:
                    best, best_metrics, changed = cfg, metrics, True
        if not changed:
            break
    return TuneResult(
        config=best,
        metrics=best_metrics,
        trials=trials,
        seconds=time.perf_counter() - start,
        valid_users=int(len(np.unique(valid.user_index))),
    )
