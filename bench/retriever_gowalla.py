"""Gowalla benchmark: LightGCN on the standard LightGCN split (embedding size 64).

Reports Recall@20 / NDCG@20 on the test part (the split has no validation part, so — as in the
LightGCN reference code — training is monitored on the test part; this is stated in the results),
wall time to first reach Recall@20 0.16 and 0.1830, best within 20 minutes, total wall time, seconds
per epoch, peak RSS, the config and the load average. JSON goes to bench/results/.

    .venv/bin/python bench/retriever_gowalla.py --time-budget 1500 --out bench/results/retriever_gowalla.json

``--then-loss`` adds a second stage that trains on from the first stage's best weights (``fit_stages``): the
recorded history, times and best epoch run across both stages. BENCHMARKS.md lists the recipe of record.
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
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import torch

from agentrec.data import load_dataset
from agentrec.evaluate import evaluate
from agentrec.graph import build_graph
from agentrec.models.lightgcn import LightGCN, LightGCNConfig
from agentrec.train import TrainConfig
from agentrec.train_stages import fit_stages, next_stage

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=os.environ.get("AGENTREC_DATA_DIR", str(REPO.parent / "shared" / "data")))
    p.add_argument("--device", default="auto")
    p.add_argument("--epochs", type=int, default=1000)
    p.add_argument("--time-budget", type=float, default=1500.0, help="seconds of training (default 25 min)")
    p.add_argument("--batch-size", type=int, default=8192)
    p.add_argument("--lr", type=float, default=5e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--loss", default="softmax", choices=["bpr", "softmax", "full"])
    p.add_argument("--num-negatives", type=int, default=1024)
    p.add_argument("--max-in-batch", type=int, default=1024)
    p.add_argument("--hard-negatives", type=int, default=0, help="bpr: keep the best-scored of this many draws")
    p.add_argument("--logq", action="store_true", help="logQ-correct the softmax candidates' logits")
    p.add_argument("--no-mask-hits", action="store_true", help="skip masking accidental hits (faster)")
    p.add_argument("--temperature", type=float, default=0.1)
    p.add_argument("--user-balance", type=float, default=0.0, help="full loss: pair weight count_u ** -x")
    p.add_argument("--similarity", default="cosine", choices=["dot", "cosine"])
    p.add_argument("--num-layers", type=int, default=3)
    p.add_argument("--layer-weights", default=None, help="comma-separated weights of layers 0..L (default uniform)")
    p.add_argument("--cl-weight", type=float, default=0.0)
    p.add_argument("--cl-eps", type=float, default=0.2)
    p.add_argument("--lr-schedule", default="cosine", choices=["constant", "cosine"])
    p.add_argument("--warmup-steps", type=int, default=0)
    p.add_argument("--eval-every", type=int, default=5)
    p.add_argument("--patience", type=int, default=0, help="end a stage after N evaluations without gain (0: never)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-amp", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    then = p.add_argument_group("second stage", "train on from the first stage's best weights with another loss")
    then.add_argument("--then-loss", default=None, choices=["bpr", "softmax", "full"])
    then.add_argument("--then-epochs", type=int, default=1000)
    then.add_argument("--then-lr", type=float, default=None, help="default: --lr")
    then.add_argument("--then-weight-decay", type=float, default=None, help="default: --weight-decay")
    then.add_argument("--then-batch-size", type=int, default=None, help="default: --batch-size")
    then.add_argument("--then-num-negatives", type=int, default=1)
    then.add_argument("--then-hard-negatives", type=int, default=0)
    then.add_argument("--then-lr-schedule", default="constant", choices=["constant", "cosine"])
    then.add_argument("--then-patience", type=int, default=None, help="default: --patience")
    p.add_argument("--out", default=str(REPO / "bench" / "results" / "retriever_gowalla.json"))
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout)

    t_start = time.perf_counter()
    # The commit the run starts from (the tree may move on while a long run trains).
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO)
    ds = load_dataset("gowalla", a.data_dir, download=False)
    split = ds.split
    assert split is not None
    graph = build_graph(split.train)
    weights = tuple(float(w) for w in a.layer_weights.split(",")) if a.layer_weights else None
    model_cfg = LightGCNConfig(
        embedding_dim=64, num_layers=a.num_layers, layer_weights=weights, similarity=a.similarity, seed=a.seed
    )
    model = LightGCN(graph, model_cfg)
    train_cfg = TrainConfig(
        epochs=a.epochs,
        batch_size=a.batch_size,
        lr=a.lr,
        weight_decay=a.weight_decay,
        loss=a.loss,
        num_negatives=a.num_negatives,
        hard_negatives=a.hard_negatives,
        max_in_batch=a.max_in_batch,
        mask_hits=not a.no_mask_hits,
        logq_correction=a.logq,
        temperature=a.temperature,
        user_balance=a.user_balance,
        cl_weight=a.cl_weight,
        cl_eps=a.cl_eps,
        lr_schedule=a.lr_schedule,
        warmup_steps=a.warmup_steps,
        eval_every=a.eval_every,
        patience=a.patience,
        eval_part="test",
        seed=a.seed,
        device=a.device,
        amp=not a.no_amp,
        num_threads=a.threads,
        time_budget_s=None,
        show_progress=not a.quiet,
    )
    stages = [train_cfg]
    if a.then_loss:
        stages.append(
            next_stage(
                train_cfg,
                loss=a.then_loss,
                epochs=a.then_epochs,
                lr=a.then_lr,
                weight_decay=a.then_weight_decay,
                batch_size=a.then_batch_size,
                num_negatives=a.then_num_negatives,
                hard_negatives=a.then_hard_negatives,
                lr_schedule=a.then_lr_schedule,
                patience=a.then_patience,
            )
        )
    load_before = os.getloadavg()
    t_setup = time.perf_counter() - t_start
    hist = fit_stages(model, split, stages, time_budget_s=a.time_budget)
    final = evaluate(model, split, ks=(20,), batch_size=2048)
    wall = time.perf_counter() - t_start
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO)
        sha = commit.stdout.strip()
    except OSError:
        sha = "unknown"
    train_cfg_d = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(train_cfg).items()}
    result = {
        "benchmark": "retriever_gowalla",
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": head.stdout.strip() or sha,
        "commit_at_end": sha,
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "torch": torch.__version__,
            "device": hist.device,
            "gpu": torch.cuda.get_device_name(0) if hist.device.startswith("cuda") else None,
        },
        "load_avg_before": load_before,
        "load_avg_after": os.getloadavg(),
        "eval_part": "test (gowalla ships no validation part; monitored on test as in the LightGCN reference code)",
        "recall@20": final["recall@20"],
        "ndcg@20": final["ndcg@20"],
        "final_metrics": final.to_dict(),
        "best_epoch": hist.best_epoch,
        "time_to_recall_0.16_s": hist.time_to("recall@20", 0.16),
        "time_to_recall_0.1830_s": hist.time_to("recall@20", 0.1830),
        "time_to_recall_0.19_s": hist.time_to("recall@20", 0.19),
        "best_recall_within_20min": hist.best_within("recall@20", 1200.0),
        "best_ndcg_within_20min": hist.best_within("ndcg@20", 1200.0),
        "setup_s": t_setup,
        "train_wall_s": hist.wall_seconds[-1] if hist.wall_seconds else 0.0,
        "total_wall_s": wall,
        "epochs_run": len(hist.epochs),
        "s_per_epoch": sum(hist.epoch_seconds) / max(len(hist.epoch_seconds), 1),
        "peak_rss_mb": rss_kb / 1024,
        "stopped": hist.stopped,
        "model_config": model_cfg.to_dict(),
        "train_config": train_cfg_d,
        "stage_configs": [{k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(c).items()} for c in stages],
        "history": hist.to_dict(),
    }
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(
        f"recall@20 {result['recall@20']:.4f} ndcg@20 {result['ndcg@20']:.4f} | time to 0.16: "
        f"{result['time_to_recall_0.16_s']} s, to 0.1830: {result['time_to_recall_0.1830_s']} s | "
        f"wall {wall:.0f} s, {result['s_per_epoch']:.1f} s/epoch, peak RSS {result['peak_rss_mb']:.0f} MB -> {out}"
    )
    return result


if __name__ == "__main__":
    main()
