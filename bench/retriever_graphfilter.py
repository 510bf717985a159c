"""Graph-filter benchmark: the training-free spectral retriever on gowalla or MovieLens, tuned on validation.

1. ``--tune``: settings are chosen on validation only — gowalla ships none, so a seeded 10 % of each user's
   training interactions is held out (the reference codes of GF-CF, BSPM and ChebyCF tune on test; we do not).
   MovieLens (random split) uses its own validation part.
2. The chosen settings are then run ONCE on test in a fresh process, timed phase by phase (load, fit =
   normalisation + SVD, score = the existing evaluator ranking every item for every test user), with its peak
   RSS and the load average (other jobs share the machine; the load says how quiet it was).
3. Online latency, warm, one thread: personal scores of a history vector (a test user's training history,
   and a chat user's five likes) via ``GraphFilter.score_history``.

    python bench/retriever_graphfilter.py --dataset gowalla --tune --out bench/results/retriever_graphfilter.json
    python bench/retriever_graphfilter.py --dataset ml-latest-small --tune \
        --out bench/results/retriever_graphfilter_ml.json
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
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _split(dataset: str, data_dir: str, seed: int) -> Any:
    """Gowalla: the shipped LightGCN split (train/test); others: the random split of ``agentrec train``."""
    if dataset == "gowalla":
        from agentrec.data import load_dataset

        split = load_dataset("gowalla", data_dir, download=False).split
        assert split is not None
        return split
    from agentrec.data import prepare_dataset

    art = tempfile.mkdtemp(prefix="gf-bench-")
    return prepare_dataset(dataset, data_dir=data_dir, artifacts_dir=art, split="random", seed=seed).split


def _latency(model: Any, split: Any, repeats: int, seed: int) -> dict[str, Any]:
    """Median / p95 milliseconds of ``score_history`` with one thread, after a warm-up call."""
    torch.set_num_threads(1)
    rng = np.random.default_rng(seed)
    users = rng.choice(np.unique(split.test.user_index), size=repeats, replace=True)
    histories = [model.graph.seen_items(np.array([u]))[0] for u in users]
    likes = [rng.choice(model.num_items, size=5, replace=False) for _ in range(repeats)]
    out: dict[str, Any] = {"threads": 1, "repeats": repeats}
    for name, batch in (("dataset_user", histories), ("chat_likes_5", likes)):
        model.score_history(batch[0])  # warm-up
        times = []
        for items in batch:
            t = time.perf_counter()
            scores = model.score_history(items)
            torch.topk(scores, 20)
            times.append((time.perf_counter() - t) * 1e3)
        out[name] = {
            "median_ms": round(float(np.median(times)), 2),
            "p95_ms": round(float(np.percentile(times, 95)), 2),
            "mean_history_len": round(float(np.mean([len(h) for h in batch])), 1),
        }
    return out


def run_test(a: argparse.Namespace) -> dict[str, Any]:
    """The timed phase: load, fit, score every test user, latency. Runs in its own process."""
    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    from agentrec.evaluate import evaluate
    from agentrec.graph import build_graph
    from agentrec.models.graphfilter import GraphFilter, GraphFilterConfig

    split = _split(a.dataset, a.data_dir, a.seed)
    graph = build_graph(split.train)
    t1 = time.perf_counter()
    cfg = GraphFilterConfig(**json.loads(a.config_json))
    model = GraphFilter(graph, cfg)
    t2 = time.perf_counter()
    metrics = evaluate(model, split, ks=(20,), show_progress=not a.quiet).to_dict()
    t3 = time.perf_counter()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    latency = _latency(model, split, a.latency_repeats, a.seed)
    return {
        "config": cfg.to_dict(),
        "device": str(model.device),
        "test_metrics": metrics,
        "load_s": round(t1 - t0, 2),
        "fit_s": round(t2 - t1, 2),
        "score_s": round(t3 - t2, 2),
        "total_wall_s": round(t3 - t0, 2),
        "peak_rss_mb": round(rss_mb, 1),
        "tail_line": {"q0": model.q0, "q1": model.q1, "lowest_kept_eigenvalue": float(model.eigenvalues[-1])},
        "latency": latency,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="gowalla")
    p.add_argument("--data-dir", default=os.environ.get("AGENTREC_DATA_DIR", str(REPO.parent / "shared" / "data")))
    p.add_argument("--tune", action="store_true", help="choose settings on validation first (else: the defaults)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=JSON", help="a GraphFilterConfig field")
    p.add_argument("--grid", default=None, help="JSON {setting: [values]} to search (default: DEFAULT_GRID)")
    p.add_argument("--max-valid-users", type=int, default=5000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--latency-repeats", type=int, default=50)
    p.add_argument("--out", default=str(REPO / "bench" / "results" / "retriever_graphfilter.json"))
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--phase", default="all", choices=["all", "test"], help=argparse.SUPPRESS)
    p.add_argument("--config-json", default="{}", help=argparse.SUPPRESS)
    p.add_argument("--result-file", default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)
    if a.phase == "test":
        result = run_test(a)
        Path(a.result_file).write_text(json.dumps(result))
        return result

    from agentrec.models.graphfilter import GraphFilterConfig

    torch.set_num_threads(a.threads)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO)
    overrides = {k: json.loads(v) for k, _, v in (s.partition("=") for s in a.set)}
    base = GraphFilterConfig(**overrides)
    record: dict[str, Any] = {
        "benchmark": "retriever_graphfilter",
        "dataset": a.dataset,
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": head.stdout.strip(),
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "torch": torch.__version__,
            "threads": a.threads,
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        },
        "uptime_start": _uptime(),
    }
    if a.tune:
        from agentrec.models.graphfilter_tune import tune_graph_filter

        split = _split(a.dataset, a.data_dir, a.seed)
        grid = json.loads(a.grid) if a.grid else None
        result = tune_graph_filter(
            split.train, valid=split.valid, base=base, grid=grid, seed=a.seed, max_users=a.max_valid_users
        )
        record["tuning"] = {
            "protocol": (
                f"validation carved from train (10 % per user, seed {a.seed}); test unseen"
                if split.valid is None
                else "the split's own validation part; test unseen"
            ),
            **result.to_dict(),
        }
        base = result.config
        record["uptime_after_tuning"] = _uptime()
    with tempfile.TemporaryDirectory() as tmp:
        res_file = Path(tmp) / "test.json"
        cmd = [sys.executable, __file__, "--phase", "test", "--dataset", a.dataset, "--data-dir", a.data_dir]
        cmd += ["--threads", str(a.threads), "--seed", str(a.seed), "--latency-repeats", str(a.latency_repeats)]
        cmd += ["--config-json", json.dumps(asdict(base)), "--result-file", str(res_file)]
        cmd += ["--quiet"] if a.quiet else []
        subprocess.run(cmd, check=True, cwd=REPO)
        record["test"] = json.loads(res_file.read_text())
    record["uptime_end"] = _uptime()
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(record, indent=2) + "\n")
    t = record["test"]
    m = t["test_metrics"]
    print(
        f"{a.dataset}: recall@20 {m['recall@20']:.4f} ndcg@20 {m['ndcg@20']:.4f} coverage@20 {m['coverage@20']:.3f} | "
        f"load {t['load_s']} s, fit {t['fit_s']} s, score {t['score_s']} s, total {t['total_wall_s']} s, "
        f"peak RSS {t['peak_rss_mb']:.0f} MB | latency {t['latency']} | {record['uptime_end']}"
    )
    return record


if __name__ == "__main__":
    main()
