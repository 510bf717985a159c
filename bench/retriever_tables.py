"""Retriever tables: the graph filter against popularity, MF-BPR, LightGCN and text-LightGCN, one dataset per run.

Splits: MovieLens (ml-latest-small, ml-100k) the random per-user 80/20 hold-out with seed 0 and a further 10 %
of each user's training rows as validation (the split of ``retriever_movielens.py``); amazon-scientific its
shipped leave-one-out split (the last item of each sequence is test, the one before validation).

Every trained model follows the default retriever's recipe (``agentrec.artifacts_retriever.RECIPE``, the BPR
recipe of ``retriever_movielens.py``: Adam lr 5e-3, batch 2048, L2 1e-3 on the batch embeddings; text-LightGCN
with its warm recipe: text features x 0.1, ID dropout 0.2) and trains **to convergence**: up to
``--max-epochs`` epochs, stopped by early stopping on validation Recall@20 (evaluated every 5 epochs, patience
3), the best validation weights restored, within a stated budget of ``--time-budget`` seconds per model; a row
whose ``stopped`` is ``time_budget`` hit the cap and is flagged. The "(softmax)" rows train the exact softmax
over all items instead (``SOFTMAX``: about 20 steps per epoch, early stopping every 2 epochs, patience 3).
The graph filter's settings are chosen on the same validation part (coordinate search), then it is fitted
once on the training part. Test is scored once per model with the existing evaluator (full ranking over all
items, training and validation items masked).

Metrics: Recall@20, NDCG@20, catalogue coverage@20 (share of the catalogue that appears in at least one
test user's top 20) and tail-item recall@20: recall counting only *tail* items, the items outside the top
20 % by training degree (the 80 % least-interacted items; ``tail_fraction=0.8`` of ``agentrec.evaluate``).
Validation Recall@20 of every model is recorded too (what the default retriever's choice reads).

    python bench/retriever_tables.py --dataset ml-latest-small
    python bench/retriever_tables.py --dataset amazon-scientific
    python bench/retriever_tables.py --dataset ml-100k --models graph-filter --append

Writes bench/results/retriever_tables_<dataset>.json after every model (a partial run keeps its rows).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agentrec.artifacts_retriever import RECIPE, SOFTMAX_RECIPE

REPO = Path(__file__).resolve().parents[1]
K = 20
# The BPR recipe of retriever_movielens.py: the default retriever's (agentrec.artifacts_retriever.RECIPE), whose
# epoch cap is --max-epochs here.
BASE = {k: v for k, v in RECIPE.items() if k != "epochs"}
# The default's second recipe (agentrec.artifacts_retriever.SOFTMAX_RECIPE): the exact softmax over all items,
# users per step = users / 20 (32 to 1024).
SOFTMAX = {**SOFTMAX_RECIPE, "batch_size": "auto"}
TEXT_WARM = {"options": {"id_dropout": 0.2}, "feature_scale": 0.1}
ENTRIES: dict[str, dict[str, Any]] = {
    "popularity": {"model": "popularity"},
    "text-knn": {"model": "text-knn", "options": {"k_neighbors": 10}},
    "mf-bpr": {"model": "mf-bpr", "train": BASE},
    "lightgcn": {"model": "lightgcn", "train": BASE},
    "text-lightgcn": {"model": "text-lightgcn", **TEXT_WARM, "train": BASE},
    "lightgcn (softmax)": {"model": "lightgcn", "train": SOFTMAX},
    "text-lightgcn (softmax)": {"model": "text-lightgcn", **TEXT_WARM, "train": SOFTMAX},
    "text-lightgcn (cold recipe)": {
        "model": "text-lightgcn",
        "options": {"id_dropout": 0.3},
        "feature_scale": 1.0,
        "train": BASE,
    },
    "graph-filter": {"model": "graph-filter"},
    "text-graph-filter": {"model": "text-graph-filter"},
    # The graph filter as Agent.load's default builds it (artifacts_retriever: a shorter search).
    "graph-filter (default search)": {"model": "graph-filter", "search": "default"},
}
DEFAULT_MODELS = [
    "popularity", "text-knn", "mf-bpr", "lightgcn", "text-lightgcn", "graph-filter", "graph-filter (default search)",
]  # fmt: skip
COLD_MODELS = ["text-knn", "graph-filter", "text-graph-filter"]


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _split(dataset: str, data_dir: str, artifacts_dir: str, seed: int, cold: bool) -> Any:
    from agentrec.data import prepare_dataset

    kind = "cold" if cold else "fixed" if dataset == "amazon-scientific" else "random"
    return prepare_dataset(
        dataset, data_dir=data_dir, artifacts_dir=artifacts_dir, split=kind, seed=seed,
        test_fraction=0.2, valid_fraction=0.1, cold_fraction=0.1,
    )  # fmt: skip


def _metrics(model: Any, split: Any, part: str) -> dict[str, float]:
    from agentrec.evaluate import evaluate

    values = evaluate(model, split, ks=(K,), part=part).to_dict()
    return {k: round(float(v), 5) for k, v in values.items()}


def run_entry(label: str, split: Any, graph: Any, features: np.ndarray | None, a: argparse.Namespace) -> dict:
    """Build (train or fit) one model, then its validation and test metrics."""
    from agentrec.models.registry import MODELS, build_model
    from agentrec.train import TrainConfig, fit

    entry = ENTRIES[label]
    name = entry["model"]
    spec = MODELS[name]
    row: dict[str, Any] = {"model": label, "name": name, "options": entry.get("options", {})}
    if spec.needs_text and features is None:
        row["skipped"] = "the catalogue has no item text"
        return row
    torch.manual_seed(a.seed)
    start = time.perf_counter()
    if name in ("graph-filter", "text-graph-filter"):
        from dataclasses import replace

        from agentrec.models.graphfilter import GraphFilter
        from agentrec.models.graphfilter_tune import tune_graph_filter

        if entry.get("search") == "default":
            from agentrec.artifacts_retriever import tune_default_filter

            tuned = tune_default_filter(split)
        else:
            tuned = tune_graph_filter(split.train, valid=split.valid, seed=a.seed, max_users=None)
        row["tuning"] = {"seconds": round(tuned.seconds, 1), "trials": len(tuned.trials), "valid": tuned.metrics}
        config = tuned.config
        if name == "text-graph-filter":
            # The text blend's weight and cold boost: on a cold carve-out of the training part (never test).
            from agentrec.models.graphfilter_text import tune_text_weight

            assert features is not None
            t = time.perf_counter()
            (w, boost), trials = tune_text_weight(split.train, features, config, seed=a.seed)
            row["text_tuning"] = {"seconds": round(time.perf_counter() - t, 1), "trials": trials}
            config = replace(config, text_weight=w, text_cold_boost=boost)
        row["config"] = config.to_dict()
        fit_start = time.perf_counter()
        text = {"item_features": features} if name == "text-graph-filter" else {}
        model: Any = GraphFilter(graph, config, **text)
        row["fit_only_seconds"] = round(time.perf_counter() - fit_start, 2)
    else:
        feats = None
        if spec.needs_text:
            assert features is not None
            feats = features * entry.get("feature_scale", 1.0)
        model = build_model(name, graph, item_features=feats, embedding_dim=64, seed=a.seed, **entry.get("options", {}))
    if spec.trainable:
        recipe = {"epochs": a.max_epochs, **entry["train"]}
        if recipe["batch_size"] == "auto":
            recipe["batch_size"] = int(min(1024, max(32, split.train.num_users // 20)))
        cfg = TrainConfig(
            eval_k=K, eval_part="valid", seed=a.seed, device="cpu",
            num_threads=a.threads, time_budget_s=a.time_budget, show_progress=False, **recipe,
        )  # fmt: skip
        hist = fit(model, split, cfg)
        row["train"] = {
            **recipe,
            "epochs_run": len(hist.epochs),
            "best_epoch": hist.best_epoch,
            "stopped": hist.stopped,
            "converged": hist.stopped == "early_stopping",
            "seconds_per_epoch": round(float(np.mean(hist.epoch_seconds)), 2) if hist.epoch_seconds else None,
        }
    row["fit_seconds"] = round(time.perf_counter() - start, 2)
    row["valid"] = _metrics(model, split, "valid")
    row["test"] = _metrics(model, split, "test")
    if split.cold_items is not None:
        from retriever_movielens import ColdCandidates

        row["test_cold_candidates_only"] = _metrics(ColdCandidates(model, split.cold_items), split, "test")
    return row


def default_choice(record: dict[str, Any]) -> dict[str, Any] | None:
    """What Agent.load's default would be on this split: the best on validation of the default-search graph
    filter and the two recipes (text-lightgcn with text, else lightgcn), with its test gap to the table's best."""
    from agentrec.artifacts_retriever import choose_default

    rows = {r["model"]: r for r in record["models"] if "valid" in r}
    recipe = "text-lightgcn" if "text-lightgcn" in rows else "lightgcn"
    gf = "graph-filter (default search)"
    candidates = {"graph-filter": gf, recipe: recipe, f"{recipe} (softmax)": f"{recipe} (softmax)"}
    if any(row not in rows for row in candidates.values()):
        return None
    name = choose_default({name: rows[row]["valid"]["recall@20"] for name, row in candidates.items()})
    chosen = rows[candidates[name]]
    best = max(rows.values(), key=lambda r: r["test"]["recall@20"])
    test, top = chosen["test"]["recall@20"], best["test"]["recall@20"]
    return {
        "chosen": chosen["model"],
        "test_recall@20": test,
        "best_model": best["model"],
        "best_test_recall@20": top,
        "relative_gap": round(1.0 - test / top, 4) if top > 0 else 0.0,
    }


def markdown(record: dict[str, Any]) -> str:
    if record.get("split_kind") == "cold":
        head = "| model | Recall@20 | NDCG@20 | Recall@20 cold only | NDCG@20 cold only | coverage@20 | fit s |"
        lines = [head, "|" + "---|" * (head.count("|") - 1)]
        for row in record["models"]:
            t, c = row["test"], row["test_cold_candidates_only"]
            cells = [row["model"], f"{t['recall@20']:.4f}", f"{t['ndcg@20']:.4f}", f"{c['recall@20']:.4f}"]
            cells += [f"{c['ndcg@20']:.4f}", f"{t['coverage@20']:.3f}", f"{row['fit_seconds']:.0f}"]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)
    head = "| model | Recall@20 | NDCG@20 | coverage@20 | tail recall@20 | valid Recall@20 | fit s | stopped |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for row in record["models"]:
        if "test" not in row:
            continue
        t = row["test"]
        stop = row.get("train", {}).get("stopped", "–")
        if "train" in row:
            stop = f"{stop} ({row['train']['epochs_run']} ep.)"
        cells = [row["model"], f"{t['recall@20']:.4f}", f"{t['ndcg@20']:.4f}", f"{t['coverage@20']:.3f}"]
        cells += [f"{t['tail_recall@20']:.4f}", f"{row['valid']['recall@20']:.4f}", f"{row['fit_seconds']:.0f}", stop]
        lines.append("| " + " | ".join(cells) + " |")
    choice = record.get("default")
    if choice:
        lines.append(
            f"\nDefault retriever (Agent.load): {choice['chosen']}, test Recall@20 {choice['test_recall@20']:.4f}; "
            f"best in the table {choice['best_model']} {choice['best_test_recall@20']:.4f} "
            f"({100 * choice['relative_gap']:.1f} % below)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="ml-latest-small", choices=["ml-latest-small", "ml-100k", "amazon-scientific"])
    p.add_argument("--data-dir", default=os.environ.get("AGENTREC_DATA_DIR", str(REPO.parent / "shared" / "data")))
    p.add_argument("--models", nargs="+", default=None, choices=list(ENTRIES), help="default: the table's models")
    p.add_argument("--cold", action="store_true", help="the cold-item split (10 %% of the items, seed 0) instead")
    p.add_argument("--max-epochs", type=int, default=400, help="epoch cap of trained models (early stopping ends them)")
    p.add_argument("--time-budget", type=float, default=600.0, help="training seconds per model (the stated budget)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--append", action="store_true", help="keep the other models' rows of an existing result file")
    p.add_argument("--out", default=None, help="default: bench/results/retriever_tables_<dataset>.json")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    torch.set_num_threads(a.threads)
    from agentrec.cli.train import item_text_features
    from agentrec.config import Paths
    from agentrec.graph import build_graph
    from agentrec.text.profile import has_item_text

    a.models = a.models or (COLD_MODELS if a.cold else DEFAULT_MODELS)
    suffix = "_cold" if a.cold else ""
    out = Path(a.out or REPO / "bench" / "results" / f"retriever_tables_{a.dataset}{suffix}.json")
    paths = Paths.from_env(a.data_dir)
    prepared = _split(a.dataset, str(paths.data_dir), str(paths.artifacts_dir), a.seed, a.cold)
    split = prepared.split
    graph = build_graph(split.train)
    features = None
    if has_item_text(prepared.dataset.catalog):
        features = item_text_features(prepared.dataset.catalog, paths.artifacts_dir, prepared.name, show_progress=False)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO)
    old = json.loads(out.read_text()) if a.append and out.is_file() else {}
    record: dict[str, Any] = {
        "benchmark": "retriever_tables",
        "dataset": a.dataset,
        "split": "cold items: 10 % of the items with all their interactions in test, seed 0"
        if a.cold
        else "leave-one-out (shipped)"
        if a.dataset == "amazon-scientific"
        else "random 80/20 per user, seed 0",
        "split_kind": "cold" if a.cold else "warm",
        "sizes": {"train": len(split.train), "valid": len(split.valid or []), "test": len(split.test)},
        "tail": "items outside the top 20 % by training degree (tail_fraction 0.8)",
        "budget": {
            "max_epochs_bpr": a.max_epochs,
            "time_budget_s_per_model": a.time_budget,
            "recipes": {"bpr": BASE, "softmax": SOFTMAX},
        },  # fmt: skip
        "commit": head.stdout.strip(),
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "torch": torch.__version__,
            "threads": a.threads,
        },  # fmt: skip
        "uptime_start": _uptime(),
        "models": [r for r in old.get("models", []) if r["model"] not in a.models],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    for label in a.models:
        logging.info("%s: %s", a.dataset, label)
        row = run_entry(label, split, graph, features, a)
        row["uptime_after"] = _uptime()
        record["models"].append(row)
        record["models"].sort(key=lambda r: list(ENTRIES).index(r["model"]))
        logging.info("%s: %s -> %s", a.dataset, label, row.get("test", row.get("skipped")))
        record["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        out.write_text(json.dumps(record, indent=2) + "\n")
    record["uptime_end"] = _uptime()
    if not a.cold:
        record["default"] = default_choice(record)
    record["markdown"] = markdown(record)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(record["markdown"], file=sys.stdout)
    return record


if __name__ == "__main__":
    main()
