"""On-topic rate of plain-text requests: the candidate bus with and without its lexical (BM25) source.

A person who types a category's name as words ("epoxy adhesives", "horror") expects items of that
category. The requests are the catalogue's own categorical facet values (every value carried by 10 to
20 % of the items at most, so that it is specific, and by at least 10 items), sent as **text only** (no
filter, anonymous, k = 10) to the candidate bus; an answer item is on topic when it carries the value. The
request list is derived from the data, not written by hand, so it cannot be tuned phrase by phrase; the same
requests run through every variant in one process:

- ``bus``: the default weights (semantic + lexical + quality + the rest);
- ``no-lexical``: the same with the lexical source's weight 0 (the bus before it existed);
- ``semantic``: the text index alone (meaning only);
- ``popularity``: the most-interacted items (a reference that ignores the words).

Reported per variant: mean precision@10 (share of the 10 items carrying the value), the share of requests
whose first item is on topic, and the median interaction count of the answers (popular answers are not the
goal, obscure ones are not either).

Usage: python bench/text_requests.py --dataset amazon-scientific [--max-requests 150]
Writes bench/results/text_requests_<dataset>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
K = 10


def requests_from_catalog(schema, facet_index, num_items: int, max_requests: int, seed: int) -> list[tuple]:
    """``(facet, value, mask)`` for the specific categorical values (10 items to 20 % of the catalogue)."""
    from agentrec.types import Filters

    out = []
    for facet in schema.facets:
        if facet.kind != "categorical" or not facet.filterable:
            continue
        for value in facet.values:
            mask = facet_index.mask(Filters(include={facet.name: (value,)}))
            n = int(mask.sum())
            if 10 <= n <= 0.2 * num_items and any(ch.isalpha() for ch in value):
                out.append((facet.name, value, mask))
    rng = np.random.default_rng(seed)
    if len(out) > max_requests:
        out = [out[i] for i in sorted(rng.choice(len(out), max_requests, replace=False))]
    return out


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="amazon-scientific")
    p.add_argument("--max-requests", type=int, default=150)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None)
    a = p.parse_args(argv)

    from agentrec.artifacts import load_components
    from agentrec.types import Query

    t0 = time.perf_counter()
    comps = load_components(a.dataset, show_progress=False)
    retriever = comps.retriever
    base = retriever.config
    reqs = requests_from_catalog(retriever.schema, retriever.filter_index, len(comps.catalog), a.max_requests, a.seed)
    degree = retriever.item_degree
    variants = {
        "bus": base,
        "no-lexical": replace(base, weights={**base.weights, "lexical": 0.0}),
        "semantic": replace(base, weights={"semantic": 1.0}),
        "popularity": replace(base, weights={"popularity": 1.0}),
    }
    rows: dict[str, dict] = {}
    examples: dict[str, list] = {}
    for name, config in variants.items():
        retriever.config = config
        precision, first, counts = [], [], []
        for i, (facet, value, mask) in enumerate(reqs):
            cands = retriever.retrieve(Query(text=value.lower(), k=K)).candidates
            idx = [c.item_index for c in cands]
            precision.append(sum(bool(mask[j]) for j in idx) / K)
            first.append(bool(idx) and bool(mask[idx[0]]))
            counts += [int(degree[j]) for j in idx]
            if i < 8:
                examples.setdefault(name, []).append(
                    {"request": value.lower(), "facet": facet, "top3": [c.title[:60] for c in cands[:3]]}
                )
        rows[name] = {
            "precision@10": round(float(np.mean(precision)), 4),
            "first_on_topic": round(float(np.mean(first)), 4),
            "median_interactions": statistics.median(counts) if counts else None,
        }
        r = rows[name]
        print(f"{name:12s} precision@10 {r['precision@10']:.3f}  first on topic {r['first_on_topic']:.3f}  "
              f"median interactions {r['median_interactions']}")  # fmt: skip
    retriever.config = base
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    result = {
        "benchmark": "text_requests",
        "dataset": a.dataset,
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": sha.stdout.strip(),
        "load_avg": os.getloadavg(),
        "requests": len(reqs),
        "facets": sorted({f for f, _, _ in reqs}),
        "k": K,
        "variants": rows,
        "examples": examples,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    out = Path(a.out or ROOT / "bench" / "results" / f"text_requests_{a.dataset}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"{len(reqs)} requests -> {out}")
    return result


if __name__ == "__main__":
    main()
