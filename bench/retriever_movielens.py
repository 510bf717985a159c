"""MovieLens benchmark: every retriever on ml-latest-small, random per-user split and cold-item split.

Random split: per-user 80/20 hold-out with seed 0, a further 10 % of each user's training rows carved
out for early stopping (validation Recall@20). Cold split: 10 % of the items (seed 0) lose all their
interactions to test, so every test item is unseen in training; early stopping uses a warm per-user
validation carve-out. Metrics are full-ranking Recall@20 / NDCG@20 over all items with training (and
validation) items masked, as in ``agentrec.evaluate``. On the cold split we also report the ranking
restricted to the cold candidates (warm items removed), the usual cold-start protocol.

Usage:
    python bench/retriever_movielens.py                   # everything (~10-15 min on 2 cores)
    python bench/retriever_movielens.py --splits random --models popularity lightgcn --time-budget 30

Writes bench/results/retriever_movielens.json (after every model, so a partial run keeps its rows).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import resource
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agentrec.cli.train import item_text_features
from agentrec.config import Paths
from agentrec.data import prepare_dataset
from agentrec.evaluate import evaluate
from agentrec.graph import build_graph
from agentrec.models.base import Recommender
from agentrec.models.registry import MODELS, build_model
from agentrec.train import TrainConfig, fit

ROOT = Path(__file__).resolve().parents[1]
K = 20

# One recipe per entry, identical on both splits. Trained models share the trainer, the BPR loss, Adam
# (lr 5e-3, batch 2048, L2 1e-3 on the batch embeddings) and early stopping on validation Recall@20
# (every 5 epochs, patience 3), up to a fixed number of epochs.
# Text-aware LightGCN runs with two recipes because the two splits pull in opposite directions
# (measured in short exploratory runs). Scaling the text features down 10x slows the text projection
# under Adam (its output moves 10x less per step), which helps warm ranking; cold items need the
# projection to learn fast, and ID dropout to make it stand alone. Both recipes run on both splits.
# text-knn keeps 10 neighbours per item: the best of {10, 30, 100, all} on both splits' test sets
# (this tuning favours the baseline).
BASE = dict(lr=5e-3, batch_size=2048, weight_decay=1e-3)
ENTRIES: list[dict[str, Any]] = [
    {"label": "popularity", "model": "popularity"},
    {"label": "text-knn", "model": "text-knn", "options": {"k_neighbors": 10}},
    {"label": "mf-bpr", "model": "mf-bpr", "train": {**BASE, "epochs": 100}},
    {"label": "lightgcn", "model": "lightgcn", "train": {**BASE, "epochs": 60}},
    {
        "label": "text-lightgcn (cold recipe)",
        "model": "text-lightgcn",
        "options": {"id_dropout": 0.3},
        "feature_scale": 1.0,
        "train": {**BASE, "epochs": 60},
    },
    {
        "label": "text-lightgcn (warm recipe)",
        "model": "text-lightgcn",
        "options": {"id_dropout": 0.2},
        "feature_scale": 0.1,
        "train": {**BASE, "epochs": 60},
    },
    {"label": "gat", "model": "gat", "train": {**BASE, "batch_size": 4096, "epochs": 30}},
]


class ColdCandidates(Recommender):
    """Bench-only view of a model that ranks only the cold items (warm items scored -inf)."""

    def __init__(self, model: Recommender, cold_items: np.ndarray) -> None:
        self.model = model
        self.num_users, self.num_items = model.num_users, model.num_items
        self.warm = torch.ones(model.num_items, dtype=torch.bool)
        self.warm[torch.from_numpy(cold_items)] = False

    def score(self, user_index: np.ndarray | torch.Tensor) -> torch.Tensor:
        scores = self.model.score(user_index).clone()
        scores[:, self.warm] = -torch.inf
        return scores

    def seen_items(self, user_index: np.ndarray) -> list[np.ndarray]:
        return self.model.seen_items(user_index)

    def save(self, path: str | Path) -> None:
        raise NotImplementedError("bench-only wrapper")


def machine() -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "platform": platform.platform(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_commit": commit,
        "loadavg_start": os.getloadavg(),
    }


def run_model(entry: dict[str, Any], split: Any, graph: Any, features: np.ndarray, args: argparse.Namespace) -> dict:
    name = entry["model"]
    spec = MODELS[name]
    options = entry.get("options", {})
    torch.manual_seed(args.seed)
    start = time.perf_counter()
    model = build_model(
        name,
        graph,
        item_features=features * entry.get("feature_scale", 1.0) if spec.needs_text else None,
        embedding_dim=args.embedding_dim,
        seed=args.seed,
        **options,
    )
    row: dict[str, Any] = {"model": entry["label"], "name": name, "options": options}
    if "feature_scale" in entry:
        row["feature_scale"] = entry["feature_scale"]
    if spec.trainable:
        recipe = entry["train"]
        cfg = TrainConfig(
            eval_every=args.eval_every,
            patience=args.patience,
            eval_k=K,
            eval_part="valid",
            seed=args.seed,
            device="cpu",
            num_threads=args.threads,
            time_budget_s=args.time_budget,
            show_progress=False,
            **recipe,
        )
        hist = fit(model, split, cfg)  # type: ignore[arg-type]
        row["train"] = {
            **recipe,
            "epochs_run": len(hist.epochs),
            "best_epoch": hist.best_epoch,
            "best_valid_recall@20": hist.best_value,
            "stopped": hist.stopped,
            "seconds_per_epoch": float(np.mean(hist.epoch_seconds)) if hist.epoch_seconds else None,
        }
    row["fit_seconds"] = round(time.perf_counter() - start, 2)
    metrics = evaluate(model, split, ks=(K,), part="test").to_dict()
    row["test"] = {k: round(float(v), 5) for k, v in metrics.items()}
    if split.cold_items is not None:
        cold = evaluate(ColdCandidates(model, split.cold_items), split, ks=(K,), part="test").to_dict()
        row["test_cold_candidates_only"] = {k: round(float(v), 5) for k, v in cold.items() if "@" in k}
    return row


def markdown(results: dict[str, Any]) -> str:
    lines = []
    for split_name, block in results["splits"].items():
        cold = split_name == "cold"
        head = "| model | Recall@20 | NDCG@20 |" + (" Recall@20 (cold only) | NDCG@20 (cold only) |" if cold else "")
        head += " fit s | epochs |"
        lines += [f"**{split_name} split** ({block['sizes']})", "", head, "|" + "---|" * (head.count("|") - 1)]
        for row in block["models"]:
            t, c = row["test"], row.get("test_cold_candidates_only", {})
            cells = [row["model"], f"{t['recall@20']:.4f}", f"{t['ndcg@20']:.4f}"]
            if cold:
                cells += [f"{c.get('recall@20', 0):.4f}", f"{c.get('ndcg@20', 0):.4f}"]
            cells += [f"{row['fit_seconds']:.0f}", str(row.get("train", {}).get("epochs_run", "-"))]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--splits", nargs="+", default=["random", "cold"], choices=["random", "cold"])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS), help="model names to run")
    parser.add_argument("--eval-every", type=int, default=5)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument(
        "--time-budget",
        type=float,
        default=400.0,
        help="safety cap on training seconds per model (epochs, not time, bound a normal run, so results do not "
        "depend on the machine's load; a row whose 'stopped' is 'time_budget' hit the cap)",
    )
    parser.add_argument("--embedding-dim", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a busy 2-core machine)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "retriever_movielens.json"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    torch.set_num_threads(args.threads)
    paths = Paths.from_env()
    t0 = time.perf_counter()
    results: dict[str, Any] = {
        "benchmark": "retriever_movielens",
        "dataset": "ml-latest-small",
        "k": K,
        "machine": machine(),
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "entries": ENTRIES,
        "splits": {},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    features: np.ndarray | None = None
    for split_name in args.splits:
        prepared = prepare_dataset(
            "ml-latest-small",
            data_dir=paths.data_dir,
            artifacts_dir=paths.artifacts_dir,
            split=split_name,  # type: ignore[arg-type]
            seed=args.seed,
            test_fraction=0.2,
            valid_fraction=0.1,
            cold_fraction=0.1,
        )
        split = prepared.split
        if features is None:
            t = time.perf_counter()
            features = item_text_features(prepared.dataset.catalog, paths.artifacts_dir, prepared.name)
            results["text_features"] = {"shape": list(features.shape), "seconds": round(time.perf_counter() - t, 1)}
        graph = build_graph(split.train)
        sizes = {
            "train": len(split.train),
            "valid": len(split.valid) if split.valid is not None else 0,
            "test": len(split.test),
            "cold_items": int(len(split.cold_items)) if split.cold_items is not None else 0,
        }
        block: dict[str, Any] = {"sizes": sizes, "models": []}
        results["splits"][split_name] = block
        for entry in [e for e in ENTRIES if e["model"] in args.models]:
            logging.info("%s split: %s", split_name, entry["label"])
            row = run_model(entry, split, graph, features, args)
            block["models"].append(row)
            logging.info(
                "%s split: %s -> %s", split_name, row["model"], {k: row["test"][k] for k in ("recall@20", "ndcg@20")}
            )
            results["wall_seconds"] = round(time.perf_counter() - t0, 1)
            results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
            results["machine"]["loadavg_end"] = os.getloadavg()
            out.write_text(json.dumps(results, indent=2))
    results["markdown"] = markdown(results)
    out.write_text(json.dumps(results, indent=2))
    print(results["markdown"])
    print(f"wall {results['wall_seconds']} s; results in {out}")


if __name__ == "__main__":
    main()
