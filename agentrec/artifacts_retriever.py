"""The default retriever of :func:`agentrec.artifacts.load_components`, chosen for quality on validation.

On first use three candidates are built on the training part and compared on the split's validation part
(Recall@20, the evaluator of :mod:`agentrec.evaluate`):

- the training-free graph filter (:class:`~agentrec.models.graphfilter.GraphFilter`), its settings chosen on
  that validation part by one pass of a short coordinate search (:data:`DEFAULT_FILTER_GRID`, about ten
  trials of :func:`~agentrec.models.graphfilter_tune.tune_graph_filter`);
- LightGCN (text-aware when the catalogue has text: text features x 0.1, ID dropout 0.2) trained by two
  recipes, each **to convergence within a stated budget**: BPR (:data:`RECIPE`: Adam lr 5e-3, batch 2048,
  L2 1e-3, up to 400 epochs, early stopping on validation Recall@20 every 5 epochs, patience 3) and the exact
  softmax over all items (:data:`SOFTMAX_RECIPE`: about 20 steps per epoch, lr 2e-2 cosine, L2 0.1, up to 60
  epochs, early stopping every 2 epochs, patience 3), the best weights restored, each with at most
  ``AGENTREC_TRAIN_BUDGET_S`` seconds of training (default :data:`DEFAULT_BUDGET_S`, 900). The softmax
  converges in seconds to a minute and wins on MovieLens; BPR wins on amazon-scientific (BENCHMARKS.md,
  "Retriever tables").

The best on validation becomes the default (a tie goes to the graph filter, which needs no training);
a split without a validation part gets the graph filter. The log and ``components.json`` say which won and by
how much, and ``agentrec data info`` shows it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from agentrec.graph import BipartiteGraph
from agentrec.types import Split

__all__ = [
    "BUDGET_ENV",
    "DEFAULT_BUDGET_S",
    "DEFAULT_FILTER_GRID",
    "RECIPE",
    "SOFTMAX_RECIPE",
    "build_default_retriever",
    "choose_default",
    "converging_train_config",
    "describe_default",
    "recipe_model",
    "softmax_train_config",
    "train_candidate",
    "training_budget",
    "tune_default_filter",
]

logger = logging.getLogger(__name__)

BUDGET_ENV = "AGENTREC_TRAIN_BUDGET_S"
# The budget of bench/retriever_tables.py, so that its tables show what the default would be.
DEFAULT_BUDGET_S = 900.0
# The settings that moved validation most on MovieLens, amazon-scientific and gowalla (BENCHMARKS.md),
# searched in one pass from the defaults.
DEFAULT_FILTER_GRID: Mapping[str, tuple[Any, ...]] = {
    "flatness": (1.0, 2.5, 4.0),
    "ideal_weight": (0.0, 0.2),
    "degree_power": (0.2, 0.3, 0.4),
    "order": (8, 16),
}


def training_budget(value: float | None = None) -> float:
    """Seconds of training allowed to the recipe: ``value``, else ``AGENTREC_TRAIN_BUDGET_S``, else 900.

    Raises:
        ValueError: for a budget that is not a positive number (naming the variable when it came from it).
    """
    source = "time_budget_s"
    if value is None:
        raw = os.environ.get(BUDGET_ENV)
        if raw is None or raw.strip() == "":
            return DEFAULT_BUDGET_S
        source = BUDGET_ENV
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"{BUDGET_ENV} must be a number of seconds, e.g. 600; got {raw!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{source} must be a positive number of seconds, got {value!r}")
    return float(value)


# The recipe's training settings (TrainConfig fields); bench/retriever_tables.py trains its LightGCN rows with it.
RECIPE: Mapping[str, Any] = {
    "loss": "bpr",
    "batch_size": 2048,
    "lr": 5e-3,
    "weight_decay": 1e-3,
    "epochs": 400,
    "eval_every": 5,
    "patience": 3,
}


# The second recipe, tried beside it: the exact softmax over all items, lr 2e-2 with a cosine decay over 60
# epochs, L2 0.1, users per step = users / 20 (32 to 1024), evaluated every 2 epochs, patience 3. Faster, and
# better on MovieLens; BPR is better on amazon-scientific (BENCHMARKS.md, "Retriever tables").
SOFTMAX_RECIPE: Mapping[str, Any] = {
    "loss": "full",
    "temperature": 1.0,
    "lr": 2e-2,
    "lr_schedule": "cosine",
    "weight_decay": 0.1,
    "epochs": 60,
    "eval_every": 2,
    "patience": 3,
}


def converging_train_config(show_progress: bool = True, time_budget_s: float | None = None) -> Any:
    """The LightGCN recipe (:data:`RECIPE`), to convergence (validation early stopping) within the budget."""
    from agentrec.train import TrainConfig

    return TrainConfig(
        **RECIPE,
        eval_part="auto",
        time_budget_s=training_budget(time_budget_s),
        device="cpu",
        show_progress=show_progress,
    )


def recipe_model(graph: BipartiteGraph, item_features: np.ndarray | None) -> Any:
    """The recipe's untrained LightGCN: text-aware (features x 0.1, ID dropout 0.2) when there is text."""
    from agentrec.models.lightgcn import LightGCN, LightGCNConfig

    if item_features is None:
        return LightGCN(graph, LightGCNConfig())
    feats = np.asarray(item_features, dtype=np.float32) * 0.1
    return LightGCN(graph, LightGCNConfig(item_features=feats, id_dropout=0.2))


def choose_default(valid_recall: Mapping[str, float | None]) -> str:
    """The candidate with the best validation Recall@20; a tie, or no usable figure, goes to the graph filter.

    Args:
        valid_recall: candidate name -> validation Recall@20 (None: not measured, e.g. no validation part).

    Raises:
        ValueError: when ``valid_recall`` names no candidate.
    """
    if not valid_recall:
        raise ValueError("choose_default needs at least one candidate")
    scored = {k: float(v) for k, v in valid_recall.items() if v is not None and np.isfinite(v)}
    if not scored:
        return "graph-filter" if "graph-filter" in valid_recall else next(iter(valid_recall))
    best = max(scored.values())
    winners = [k for k, v in scored.items() if v >= best - 1e-12]
    return "graph-filter" if "graph-filter" in winners else winners[0]


def tune_default_filter(split: Split, k: int = 20) -> Any:
    """The default's graph-filter search on ``split``'s validation part (a ``TuneResult``)."""
    from agentrec.models.graphfilter_tune import tune_graph_filter

    return tune_graph_filter(
        split.train, valid=split.valid, grid=DEFAULT_FILTER_GRID, rounds=1, max_users=5000, metric=f"ndcg@{k}"
    )


def _valid_recall(model: Any, split: Split, k: int) -> float:
    from agentrec.evaluate import evaluate

    return float(evaluate(model, split, ks=(k,), part="valid").values[f"recall@{k}"])


def softmax_train_config(num_users: int, show_progress: bool = True, time_budget_s: float | None = None) -> Any:
    """The second LightGCN recipe (:data:`SOFTMAX_RECIPE`): the exact softmax, about 20 steps per epoch."""
    from agentrec.train import TrainConfig

    batch = int(min(1024, max(32, num_users // 20)))
    return TrainConfig(
        **{**SOFTMAX_RECIPE, "batch_size": batch},
        eval_part="auto",
        time_budget_s=training_budget(time_budget_s),
        device="cpu",
        show_progress=show_progress,
    )


def train_candidate(
    graph: BipartiteGraph, split: Split, item_features: np.ndarray | None, cfg: Any, k: int
) -> tuple[Any, dict[str, Any]]:
    """The recipe's LightGCN trained with ``cfg`` and what the default's record says of it (validation Recall@k)."""
    from agentrec.train import fit

    cfg = replace(cfg, eval_k=min(cfg.eval_k, graph.num_items))
    net = recipe_model(graph, item_features)
    t1 = time.perf_counter()
    history = fit(net, split, cfg)
    net.eval()
    return net, {
        "valid_recall": round(_valid_recall(net, split, k), 5),
        "loss": cfg.loss,
        "epochs_run": len(history.epochs),
        "best_epoch": history.best_epoch,
        "stopped": history.stopped,
        "time_budget_s": cfg.time_budget_s,
        "seconds": round(time.perf_counter() - t1, 1),
    }


def build_default_retriever(
    graph: BipartiteGraph,
    split: Split,
    item_features: np.ndarray | None,
    train_config: Any | None = None,
    show_progress: bool = True,
) -> tuple[Any, str, dict[str, Any]]:
    """Build the candidates, keep the best on validation.

    Args:
        graph: the training graph.
        split: the split (its validation part decides).
        item_features: item text embeddings (the recipe is text-aware with them), or None.
        train_config: the one LightGCN recipe to train (a ``TrainConfig``); default: both
            :func:`converging_train_config` (BPR) and :func:`softmax_train_config` (the exact softmax).
        show_progress: progress bars.

    Returns:
        ``(model, name, record)``: the chosen model, its model name (``"graph-filter"``, ``"lightgcn"`` or
        ``"text-lightgcn"``), and what the choice read (validation recall of each candidate, each recipe's epochs,
        stop reason and budget; ``record["chosen"]`` names the candidate, e.g. ``"text-lightgcn (softmax)"``).
    """
    from agentrec.models.graphfilter import GraphFilter

    recipe = "text-lightgcn" if item_features is not None else "lightgcn"
    recipes = {recipe: train_config or converging_train_config(show_progress)}
    if train_config is None:
        recipes[f"{recipe} (softmax)"] = softmax_train_config(graph.num_users, show_progress)
    k = min(20, graph.num_items)  # Recall@20, or @ the catalogue size when it is smaller
    record: dict[str, Any] = {"candidates": ["graph-filter", *recipes], "k": k}
    t0 = time.perf_counter()
    if split.valid is None or len(split.valid) == 0:
        gf = GraphFilter(graph)
        record.update(chosen="graph-filter", reason="the split has no validation part: the training-free filter")
        record["graph-filter"] = {"config": gf.config.to_dict(), "seconds": round(time.perf_counter() - t0, 1)}
        logger.info("default retriever: graph-filter (%s)", record["reason"])
        return gf, "graph-filter", record
    tuned = tune_default_filter(split, k)
    models: dict[str, Any] = {"graph-filter": GraphFilter(graph, tuned.config)}
    record["graph-filter"] = {
        "valid_recall": round(_valid_recall(models["graph-filter"], split, k), 5),
        "config": tuned.config.to_dict(),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    for name, cfg in recipes.items():
        models[name], record[name] = train_candidate(graph, split, item_features, cfg, k)
    chosen = choose_default({name: record[name]["valid_recall"] for name in record["candidates"]})
    record.update(chosen=chosen, reason="best validation Recall@20")
    read = ", ".join(
        f"{name} {record[name]['valid_recall']:.4f}"
        + (f" after {record[name]['epochs_run']} epochs ({record[name]['stopped']})" if name != "graph-filter" else "")
        for name in record["candidates"]
    )
    logger.info("default retriever: %s (validation Recall@%d: %s; training budget %s s per recipe)",
                chosen, k, read, training_budget())  # fmt: skip
    return models[chosen], chosen.split(" (")[0], record


def describe_default(manifest: Mapping[str, Any]) -> str:
    """One line saying which retriever a dataset's ``components.json`` (``manifest``) serves, and why."""
    record = manifest.get("default")
    if record and record.get("chosen"):
        chosen, k = record["chosen"], record.get("k", 20)
        scores = [
            f"{name} {record[name]['valid_recall']:.4f}"
            for name in record.get("candidates", ())
            if isinstance(record.get(name), Mapping) and "valid_recall" in record[name]
        ]
        if not scores:
            return f"{chosen} ({record.get('reason', 'chosen when built')})"
        return f"{chosen} (chosen on validation Recall@{k}: " + ", ".join(scores) + ")"
    if manifest.get("model"):
        return f"{manifest['model']} (built before the default was chosen on validation)"
    budget = training_budget()
    return (
        "not built yet: on first use, the graph filter or the LightGCN recipe (trained to convergence within "
        f"{budget:g} s), whichever is better on the validation split"
    )
