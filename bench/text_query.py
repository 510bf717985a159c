"""Query latency of an existing vector index at k=20, with and without filters, per torch thread count.

Usage: .venv/bin/python bench/text_query.py --artifacts-dir DIR [--dataset ml-latest-small] [--threads 1 2]
The index must exist (``agentrec index --dataset NAME --artifacts-dir DIR``); it is only read.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

from text_index import QUERIES  # noqa: E402


def ms(samples: list[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(samples) * 1000.0, q)), 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--artifacts-dir", required=True)
    parser.add_argument("--dataset", default="ml-latest-small")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "text_query.json"))
    args = parser.parse_args()

    import torch

    from agentrec.text import TextEncoder, VectorStore, default_cache_dir, default_store_path
    from agentrec.types import Filters, Range

    load_start = os.getloadavg()
    encoder = TextEncoder.from_name(device="cpu", cache_dir=default_cache_dir(args.artifacts_dir), show_progress=False)
    store = VectorStore.open(default_store_path(args.artifacts_dir, args.dataset), encoder=encoder, create=False)
    filters = [
        Filters(include={"genre": ("Sci-Fi",)}, ranges={"year": (Range(1990, 2005),)}, exclude={"genre": ("Horror",)}),
        Filters(include={"genre": ("Comedy", "Romance")}, match={"genre": "any"}, min_ratings=10),
        Filters(include={"genre": ("Drama",)}, ranges={"year": (Range(2000, None),)}),
    ]
    runs = {}
    for threads in args.threads:
        torch.set_num_threads(threads)
        for q in QUERIES[:3]:
            store.search(q, k=20)
        plain, filtered, encode_only, chroma_only = [], [], [], []
        for rep in range(args.reps):
            for n, q in enumerate(QUERIES):
                t = time.perf_counter()
                store.search(q, k=20)
                plain.append(time.perf_counter() - t)
                t = time.perf_counter()
                vec = encoder.encode([q], use_cache=False)[0]
                encode_only.append(time.perf_counter() - t)
                t = time.perf_counter()
                store.search_by_vector(vec, k=20, filters=filters[(n + rep) % 3])
                chroma_only.append(time.perf_counter() - t)
                t = time.perf_counter()
                store.search(q, k=20, filters=filters[(n + rep) % 3])
                filtered.append(time.perf_counter() - t)
        runs[f"threads_{threads}"] = {
            "n": len(plain),
            "unfiltered_p50_ms": ms(plain, 50),
            "unfiltered_p95_ms": ms(plain, 95),
            "filtered_p50_ms": ms(filtered, 50),
            "filtered_p95_ms": ms(filtered, 95),
            "encode_p50_ms": ms(encode_only, 50),
            "encode_p95_ms": ms(encode_only, 95),
            "filtered_chroma_only_p50_ms": ms(chroma_only, 50),
            "filtered_chroma_only_p95_ms": ms(chroma_only, 95),
        }
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout
    result = {
        "name": "text_query",
        "dataset": args.dataset,
        "items": store.count(),
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_commit": commit.strip(),
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "torch": torch.__version__,
            "loadavg_start": [round(x, 2) for x in load_start],
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        },
        "k": 20,
        "runs": runs,
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
