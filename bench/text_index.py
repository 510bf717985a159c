"""Text stage benchmark on ml-latest-small: embedding throughput, index build (cold / warm), query latency,
and a retrieval sanity check (overview first sentence -> the movie in the top 10?).

Usage: .venv/bin/python bench/text_index.py [--dataset ml-latest-small] [--device cpu] [--out FILE]
Needs AGENTREC_DATA_DIR (or ../shared/data). Everything is built in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import re
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

QUERIES = [
    "dark sci-fi about dreams",
    "a mind-bending thriller where nothing is what it seems",
    "funny animated movie for kids about toys",
    "romantic comedy set in New York",
    "gritty crime drama about the mafia",
    "space adventure with aliens and epic battles",
    "a heist movie with a clever twist",
    "slow-burning horror in an isolated house",
    "world war two drama about soldiers",
    "coming of age story about friendship",
    "a western with a lone gunslinger",
    "musical with great songs and dancing",
    "documentary about nature and animals",
    "superhero action with lots of explosions",
    "a courtroom drama about justice",
    "time travel paradox film",
    "zombie apocalypse survival",
    "a quiet French film about love",
    "sports underdog story",
    "psychological thriller with an unreliable narrator",
]


def percentile_ms(samples: list[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(samples) * 1000.0, q)), 2)


def first_sentence(text: str) -> str:
    match = re.match(r"(.+?[.!?])(\s|$)", text.strip())
    return (match.group(1) if match else text).strip()


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", default="ml-latest-small")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    parser.add_argument("--bulk-threads", type=int, default=2, help="torch threads while embedding the catalogue")
    parser.add_argument("--query-threads", type=int, default=1, help="torch threads while timing queries")
    parser.add_argument("--query-reps", type=int, default=5, help="each of the 20 queries is run this many times")
    parser.add_argument("--sanity-limit", type=int, default=0, help="0: every movie with an overview")
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "text_index.json"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("AGENTREC_DATA_DIR", str(REPO.parent / "shared" / "data"))

    load_start = os.getloadavg()
    t = time.perf_counter()
    import torch

    from agentrec.config import Paths
    from agentrec.data import load_dataset
    from agentrec.text import TextEncoder, VectorStore, embed_catalog, item_popularity, item_text
    from agentrec.types import Filters, Range

    import_s = time.perf_counter() - t
    torch.set_num_threads(args.bulk_threads)
    dataset = load_dataset(args.dataset, Paths.from_env().data_dir)
    catalog = dataset.catalog
    train = dataset.split.train if dataset.split is not None else dataset.interactions
    popularity = item_popularity(train)
    texts = [item_text(it) for it in catalog.items]
    lengths = [len(s.split()) for s in texts]

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        cache = tmp_path / "cache"
        # Cold: empty cache, empty store.
        t = time.perf_counter()
        encoder = TextEncoder.from_name(
            device=args.device,
            batch_size=args.batch_size,
            cache_dir=cache,
            show_progress=False,
            precision=args.precision,
        )
        vectors = embed_catalog(catalog, encoder)
        embed_s = time.perf_counter() - t
        t = time.perf_counter()
        store = VectorStore.open(tmp_path / "chroma", encoder=encoder)
        stats = store.build(catalog, popularity=popularity)
        index_s = time.perf_counter() - t
        assert stats.num_embedded == 0 and stats.num_upserted == len(catalog)

        # Warm, same store (a re-run of `agentrec index`): nothing changed, nothing re-embedded or re-written.
        t = time.perf_counter()
        warm_encoder = TextEncoder.from_name(
            device=args.device, cache_dir=cache, show_progress=False, precision=args.precision
        )
        warm_store = VectorStore.open(tmp_path / "chroma", encoder=warm_encoder)
        warm_stats = warm_store.build(catalog, popularity=popularity)
        warm_same_s = time.perf_counter() - t
        assert warm_stats.num_embedded == 0 and warm_stats.num_upserted == 0

        # Warm cache, new store: vectors from the cache, every item written to Chroma again.
        t = time.perf_counter()
        fresh_encoder = TextEncoder.from_name(
            device=args.device, cache_dir=cache, show_progress=False, precision=args.precision
        )
        fresh_store = VectorStore.open(tmp_path / "chroma2", encoder=fresh_encoder)
        fresh_stats = fresh_store.build(catalog, popularity=popularity)
        warm_new_store_s = time.perf_counter() - t
        assert fresh_stats.num_embedded == 0 and fresh_stats.num_upserted == len(catalog)
        assert np.allclose(fresh_store.item_vectors([0, len(catalog) - 1]), vectors[[0, -1]], atol=1e-5)

        # Query latency (encode + Chroma), k=20.
        filters = [
            Filters(
                include={"genre": ("Sci-Fi",)}, ranges={"year": (Range(1990, 2005),)}, exclude={"genre": ("Horror",)}
            ),
            Filters(include={"genre": ("Comedy", "Romance")}, match={"genre": "any"}, min_ratings=10),
            Filters(include={"genre": ("Drama",)}, ranges={"year": (Range(2000, None),)}),
        ]
        torch.set_num_threads(args.query_threads)  # one small forward pass: more threads only add overhead
        for query in QUERIES[:3]:  # warm-up
            store.search(query, k=20)
        plain: list[float] = []
        filtered: list[float] = []
        chroma_only: list[float] = []
        for rep in range(args.query_reps):
            for n, query in enumerate(QUERIES):
                t = time.perf_counter()
                store.search(query, k=20)
                plain.append(time.perf_counter() - t)
                f = filters[(n + rep) % len(filters)]
                t = time.perf_counter()
                store.search(query, k=20, filters=f)
                filtered.append(time.perf_counter() - t)
        qvec = encoder.encode(["dark sci-fi about dreams"], use_cache=False)[0]
        for rep in range(args.query_reps * len(QUERIES)):
            t = time.perf_counter()
            store.search_by_vector(qvec, k=20, filters=filters[rep % len(filters)])
            chroma_only.append(time.perf_counter() - t)

        # Retrieval sanity: overview's first sentence -> is the movie in the top 10?
        with_overview = [i for i, it in enumerate(catalog.items) if it.overview.strip()]
        if args.sanity_limit:
            with_overview = random.Random(0).sample(with_overview, min(args.sanity_limit, len(with_overview)))
        sentences = [first_sentence(catalog[i].overview) for i in with_overview]
        t = time.perf_counter()
        qvecs = encoder.encode(sentences, use_cache=False)
        ranks = []
        for i, qv in zip(with_overview, qvecs, strict=True):
            hits = store.search_by_vector(qv, k=10)
            idx = [h.item_index for h in hits]
            ranks.append(idx.index(i) + 1 if i in idx else None)
        sanity_s = time.perf_counter() - t
        hits10 = sum(r is not None for r in ranks)
        hits1 = sum(r == 1 for r in ranks)

    result = {
        "name": "text_index",
        "dataset": args.dataset,
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_commit": git_commit(),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpu_count": os.cpu_count(),
            "torch": torch.__version__,
            "torch_threads_bulk": args.bulk_threads,
            "torch_threads_query": args.query_threads,
            "device": args.device,
            "loadavg_start": [round(x, 2) for x in load_start],
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        },
        "model_id": encoder.model_id,
        "precision": encoder.precision,
        "dim": encoder.dim,
        "num_items": len(catalog),
        "text_words_mean": round(float(np.mean(lengths)), 1),
        "import_s": round(import_s, 2),
        "cold": {
            "embed_s": round(embed_s, 2),
            "throughput_texts_per_s": round(len(catalog) / embed_s, 1),
            "index_build_s": round(index_s, 2),
            "total_s": round(embed_s + index_s, 2),
        },
        "warm_same_store_s": round(warm_same_s, 2),
        "warm_cache_new_store_s": round(warm_new_store_s, 2),
        "query_k20": {
            "n": len(plain),
            "unfiltered_p50_ms": percentile_ms(plain, 50),
            "unfiltered_p95_ms": percentile_ms(plain, 95),
            "filtered_p50_ms": percentile_ms(filtered, 50),
            "filtered_p95_ms": percentile_ms(filtered, 95),
            "filtered_chroma_only_p50_ms": percentile_ms(chroma_only, 50),
            "filtered_chroma_only_p95_ms": percentile_ms(chroma_only, 95),
        },
        "retrieval_sanity": {
            "queries": len(ranks),
            "hit_at_10": round(hits10 / max(len(ranks), 1), 4),
            "hit_at_1": round(hits1 / max(len(ranks), 1), 4),
            "seconds": round(sanity_s, 2),
        },
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
