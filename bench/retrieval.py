"""Candidate bus + explanation benchmark: hybrid-intent hit@20 per source vs fused, path faithfulness and
coverage, and latency of candidates + explanations per query.

    python bench/retrieval.py                      # ml-latest-small (hit@20, faithfulness, latency)
    python bench/retrieval.py --tune               # also grid-search fusion weights on tuning users
    python bench/retrieval.py --dataset gowalla    # latency + faithfulness only (no item text)

Hybrid-intent set: ml-latest-small, random split seed 0. Users are shuffled with seed 0 and cut into
disjoint TUNE and EVAL groups; for each user one held-out test item is the target and its genres plus up
to three of its tags / TMDB keywords (never the title) become the text intent. Weights are only ever tuned
on the TUNE users.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from agentrec.artifacts import load_components
from agentrec.retrieve import DEFAULT_WEIGHTS, SOURCES, Retriever, RetrieverConfig
from agentrec.types import Item, Query

RESULTS = Path(__file__).resolve().parent / "results"


def intent_text(item: Item, rng: np.random.Generator) -> str:
    terms = list(dict.fromkeys([*item.tags, *item.attributes.get("keywords", ())]))
    picked = [terms[i] for i in sorted(rng.choice(len(terms), size=min(3, len(terms)), replace=False))] if terms else []
    genres = " ".join(g.lower() for g in item.genres if g != "(no genres listed)")
    return f"{genres} movie" + (f" about {', '.join(picked)}" if picked else "")


def build_cases(comps, n_users: int, seed: int) -> list[tuple[str, int, str]]:
    rng = np.random.default_rng(seed)
    test = comps.split.test
    by_user: dict[int, list[int]] = {}
    for u, i in zip(test.user_index.tolist(), test.item_index.tolist(), strict=True):
        by_user.setdefault(u, []).append(i)
    users = sorted(by_user)
    rng.shuffle(users)
    cases = []
    for u in users[:n_users]:
        target = int(rng.choice(sorted(set(by_user[u]))))
        cases.append((comps.train.user_ids[u], target, intent_text(comps.catalog[target], rng)))
    return cases


def hit_rate(retriever: Retriever, cases, k: int = 20) -> float:
    hits = 0
    for user_id, target, text in cases:
        got = retriever.candidates(Query(text=text, user_id=user_id, k=k))
        hits += any(c.item_index == target for c in got)
    return hits / max(len(cases), 1)


class MemoStore:
    """Caches search results of the real store so the weight grid does not re-encode the same texts."""

    def __init__(self, store) -> None:
        self.store, self.memo = store, {}

    def search(self, text, k=20, filters=None):
        key = (text, k, filters)
        if key not in self.memo:
            self.memo[key] = self.store.search(text, k=k, filters=filters)
        return self.memo[key]


def tune(comps, cases) -> tuple[dict[str, float], float, list[dict]]:
    grid = {
        "gnn": [1.0],
        "semantic": [1.0, 2.0, 3.0],
        "item2item": [0.0, 0.5],
        "co_interaction": [0.0, 0.5, 1.0],
        "popularity": [0.0, 0.1],
    }
    best, best_hr, rows = None, -1.0, []
    real = comps.retriever.store
    comps.retriever.store = MemoStore(real)
    for values in itertools.product(*grid.values()):
        weights = dict(zip(grid, values, strict=True))
        comps.retriever.config = replace(comps.retriever.config, weights=weights)
        hr = hit_rate(comps.retriever, cases)
        rows.append({"weights": weights, "hit@20": hr})
        if hr > best_hr:
            best, best_hr = weights, hr
    comps.retriever.store = real
    assert best is not None
    return best, best_hr, rows


def latency(comps, queries: list[Query], explain: bool) -> dict[str, float]:
    times, cpu, n_paths, faithful, covered, total = [], [], 0, 0, 0, 0
    index = comps.retriever.semantic_index
    for q in queries:
        if index is not None:
            index.clear_query_cache()  # every query is timed as a new request (the hit@20 runs saw these texts)
        t0, c0 = time.perf_counter(), time.process_time()
        cands = comps.retriever.candidates(q)
        paths_per_item = [comps.explainer.explain(q.user_id, c.item_index, q) for c in cands] if explain else []
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        for paths in paths_per_item:
            total += 1
            covered += bool(paths)
            for p in paths:
                n_paths += 1
                faithful += comps.explainer.verify(p)
    t = np.array(times) * 1000
    return {
        "queries": len(queries),
        "p50_ms": round(float(np.percentile(t, 50)), 2),
        "p95_ms": round(float(np.percentile(t, 95)), 2),
        "mean_ms": round(float(t.mean()), 2),
        # CPU time of this process per query: what the query costs when the shared CPU is not contended.
        "cpu_p50_ms": round(float(np.percentile(np.array(cpu) * 1000, 50)), 2),
        "cpu_p95_ms": round(float(np.percentile(np.array(cpu) * 1000, 95)), 2),
        "paths": n_paths,
        "faithfulness": faithful / n_paths if n_paths else None,
        "coverage": covered / total if total else None,
        "recommended_items": total,
    }


def _pcts(seconds: list[float]) -> dict[str, float]:
    t = np.array(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(t, 50)), 2), "p95_ms": round(float(np.percentile(t, 95)), 2)}


def semantic_breakdown(comps, queries: list[Query]) -> dict:
    """Where the semantic source's time goes: the vector-store query (encoder + Chroma) and, for a local
    store, the in-memory index the retriever uses instead (encoder + one matrix product), plus how far the
    two agree (Chroma's HNSW search is approximate, the in-memory one exact)."""
    depth = comps.retriever.config.depth
    index = comps.retriever.semantic_index
    store_s, mem_s, encode_s, overlap = [], [], [], []
    everything = np.ones(comps.retriever.num_items, dtype=bool)
    for q in queries:
        t1 = time.perf_counter()
        hits = comps.store.search(q.text, k=depth)
        store_s.append(time.perf_counter() - t1)
        t1 = time.perf_counter()
        comps.store.encoder.encode([q.text], use_cache=False)
        encode_s.append(time.perf_counter() - t1)
        if index is not None:
            index.clear_query_cache()  # time the encoder too, as for a new request
            t1 = time.perf_counter()
            idx, _ = index.search(q.text, everything, depth)
            mem_s.append(time.perf_counter() - t1)
            overlap.append(len(set(idx[:20].tolist()) & {h.item_index for h in hits[:20]}) / 20)
    out: dict = {"latency_semantic_search_only": _pcts(store_s), "latency_query_encoder_only": _pcts(encode_s)}
    out["semantic_in_memory"] = index is not None
    if index is not None:
        out["latency_semantic_in_memory"] = _pcts(mem_s)
        out["semantic_top20_overlap_in_memory_vs_store"] = round(float(np.mean(overlap)), 4)
    return out


def machine() -> dict:
    import torch

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "loadavg": os.getloadavg(),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": commit,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="ml-latest-small")
    ap.add_argument("--eval-users", type=int, default=300)
    ap.add_argument("--tune-users", type=int, default=150)
    ap.add_argument("--latency-queries", type=int, default=200)
    ap.add_argument("--tune", action="store_true", help="grid-search fusion weights on the tuning users")
    ap.add_argument("--out", default=None)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: the CPU is shared)")
    args = ap.parse_args()

    t0 = time.perf_counter()
    # Held-out items are the targets: exclude only training items from the candidates.
    comps = load_components(args.dataset, show_progress=False, torch_threads=args.threads, exclude="train")
    load_s = time.perf_counter() - t0
    out: dict = {"dataset": args.dataset, "components_load_s": round(load_s, 1), "machine": machine()}
    out["machine"]["torch_threads"] = args.threads
    has_text = comps.store is not None
    if has_text:
        cases = build_cases(comps, args.tune_users + args.eval_users, seed=0)
        tune_cases, eval_cases = cases[: args.tune_users], cases[args.tune_users :]
        out["hybrid_intent"] = {"eval_users": len(eval_cases), "tune_users": len(tune_cases), "k": 20}
        out["hybrid_intent"]["examples"] = [c[2] for c in eval_cases[:5]]
        if args.tune:
            best, best_hr, rows = tune(comps, tune_cases)
            out["tuning"] = {"best_weights": best, "best_tune_hit@20": best_hr, "grid": rows}
            print("best weights on tune users:", best, round(best_hr, 4))
        table = {}
        for src in SOURCES:
            comps.retriever.config = RetrieverConfig(weights={src: 1.0})
            table[src] = hit_rate(comps.retriever, eval_cases)
        comps.retriever.config = RetrieverConfig(weights=dict(DEFAULT_WEIGHTS))
        table["fused (default weights)"] = hit_rate(comps.retriever, eval_cases)
        if args.tune:
            comps.retriever.config = RetrieverConfig(weights=out["tuning"]["best_weights"])
            table["fused (tuned on tune users)"] = hit_rate(comps.retriever, eval_cases)
            comps.retriever.config = RetrieverConfig(weights=dict(DEFAULT_WEIGHTS))
        out["hybrid_intent"]["hit@20"] = table
        out["hybrid_intent"]["default_weights"] = dict(DEFAULT_WEIGHTS)
        for name, hr in table.items():
            print(f"hit@20 {name:30s} {hr:.4f}")
        queries = [Query(text=t, user_id=u, k=20) for u, _, t in eval_cases[: args.latency_queries]]
    else:
        rng = np.random.default_rng(0)
        users = rng.choice(comps.train.num_users, size=args.latency_queries, replace=False)
        queries = [Query(user_id=comps.train.user_ids[u], k=20) for u in users]
    # Warm up (first encoder call, lazy caches), then measure.
    latency(comps, queries[:3], explain=True)
    out["latency_candidates_only"] = latency(comps, queries, explain=False)
    out["latency_with_explanations"] = latency(comps, queries, explain=True)
    if has_text:
        out.update(semantic_breakdown(comps, queries))
    out["machine"]["loadavg_end"] = os.getloadavg()
    out["sources_used"] = sorted({s for q in queries[:20] for c in comps.retriever.candidates(q) for s in c.sources})
    print(json.dumps({k: v for k, v in out.items() if k not in ("tuning",)}, indent=1, default=str)[:3000])
    path = Path(args.out) if args.out else RESULTS / f"retrieval-{args.dataset}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
