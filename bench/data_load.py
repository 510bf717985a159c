"""Data-layer load times on the real datasets: raw parse (``load_dataset``), first ``prepare_dataset``
(parse + split + write Parquet) and the cached ``prepare_dataset`` (read Parquet, no re-parse).

Each figure is the median of ``--repeats`` runs in this process (the first run also pays imports and the
OS file cache). Usage: ``AGENTREC_DATA_DIR=../shared/data .venv/bin/python bench/data_load.py [--repeats 3]``
Writes ``bench/results/data_load.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import torch

from agentrec.data import load_dataset, prepare_dataset
from agentrec.data.splits import split_sizes

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ("ml-latest-small", "ml-100k", "gowalla")


def _time(fn: object, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data-dir", default=os.environ.get("AGENTREC_DATA_DIR", str(ROOT.parent / "shared" / "data")))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as art:
        for name in DATASETS:
            load_s, ds = _time(lambda n=name: load_dataset(n, args.data_dir), args.repeats)
            first_s, prepared = _time(
                lambda n=name: prepare_dataset(n, data_dir=args.data_dir, artifacts_dir=art, force=True), args.repeats
            )
            cached_s, _ = _time(
                lambda n=name: prepare_dataset(n, data_dir=args.data_dir, artifacts_dir=art), args.repeats
            )
            summary = ds.summary()  # type: ignore[attr-defined]
            row = {
                "dataset": name,
                "users": summary["users"],
                "items": summary["items"],
                "interactions": summary["interactions"],
                "load_dataset_s": round(load_s, 3),
                "prepare_first_s": round(first_s, 3),
                "prepare_cached_s": round(cached_s, 3),
                "split": prepared.split.name,  # type: ignore[attr-defined]
                "split_sizes": split_sizes(prepared.split),  # type: ignore[attr-defined]
            }
            rows.append(row)
            print(json.dumps(row))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout
    result = {
        "benchmark": "data_load",
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": commit.strip(),
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "torch": torch.__version__,
            "python": platform.python_version(),
        },  # fmt: skip
        "repeats": args.repeats,
        "note": "median wall seconds; shared 2-core machine, other processes were running",
        "rows": rows,
    }
    out = ROOT / "bench" / "results" / "data_load.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
