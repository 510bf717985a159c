"""First-answer quality of the offline agent: would a knowledgeable person accept the first answer?

For every anonymous slice request (a genre and/or period the answer must respect) it reports constraint
satisfaction, results returned, the median interaction count and the mean shrunk rating (Bayesian average,
``m`` = 20, towards the catalogue mean) of the top-10, next to two references computed from the data: the
slice's 10 most-interacted items and the slice's top-10 by shrunk rating. For "like <title>" requests it
reports diversity (distinct items over the union of the top-10s) and each list's mean genre/tag overlap
(Jaccard) with its seed against the seed's average overlap with the whole catalogue. ``--personal N`` also
measures hit / recall@20 of the candidate bus (default weights) against the GNN source alone on the split's
held-out items of N users.

Usage: python bench/answer_quality.py [--dataset ml-latest-small] [--personal 200] [--label baseline]
Writes bench/results/answer_quality_<dataset>_<label>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # measure this checkout's agentrec, whatever is installed
M = 20.0  # shrinkage strength of the Bayesian average


@dataclass(frozen=True)
class Slice:
    """A request and the constraint an answer must satisfy (``genres``: all of these values of ``facet``;
    ``exclude``: none of them; ``facet`` is ``genre`` or a categorical item attribute such as ``category``)."""

    text: str
    genres: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    year_min: int | None = None
    year_max: int | None = None
    facet: str = "genre"

    def values(self, item: object) -> tuple[str, ...]:
        if self.facet == "genre":
            return tuple(item.genres)  # type: ignore[attr-defined]
        raw = item.attributes.get(self.facet)  # type: ignore[attr-defined]
        return tuple(raw) if isinstance(raw, tuple | list) else ((str(raw),) if raw else ())

    def ok(self, genres: tuple[str, ...], year: int | None) -> bool:
        g = {x.lower() for x in genres}
        if any(x.lower() not in g for x in self.genres) or any(x.lower() in g for x in self.exclude):
            return False
        if self.year_min is not None and (year is None or year < self.year_min):
            return False
        return not (self.year_max is not None and (year is None or year > self.year_max))


def _dec(text: str, genre: str | None, start: int) -> Slice:
    return Slice(text, (genre,) if genre else (), (), start, start + 9)


SLICES: tuple[Slice, ...] = (
    _dec("sci-fi from the 90s", "Sci-Fi", 1990),
    _dec("80s action movies", "Action", 1980),
    _dec("a horror movie from the 1980s", "Horror", 1980),
    _dec("westerns from the 60s", "Western", 1960),
    _dec("a thriller from the 2010s", "Thriller", 2010),
    _dec("crime movies from the 70s", "Crime", 1970),
    _dec("a mystery from the 2000s", "Mystery", 2000),
    _dec("a drama from the 50s", "Drama", 1950),
    _dec("children's movies from the 90s", "Children", 1990),
    _dec("adventure movies from the 80s", "Adventure", 1980),
    _dec("horror from the 2000s", "Horror", 2000),
    _dec("action movies from the 2010s", "Action", 2010),
    _dec("a romance from the 90s", "Romance", 1990),
    _dec("an animated movie from the 2000s", "Animation", 2000),
    _dec("a war film from the 70s", "War", 1970),
    _dec("a comedy from the 80s", "Comedy", 1980),
    _dec("a drama from the 2010s", "Drama", 2010),
    _dec("fantasy movies from the 2000s", "Fantasy", 2000),
    _dec("a thriller from the 90s", "Thriller", 1990),
    _dec("a documentary from the 2000s", "Documentary", 2000),
    _dec("movies from the 70s", None, 1970),
    _dec("a classic movie from the 40s", None, 1940),
    _dec("a comedy from the 2000s", "Comedy", 2000),
    _dec("sci-fi from the 2010s", "Sci-Fi", 2010),
    Slice("a comedy", ("Comedy",)),
    Slice("a war movie", ("War",)),
    Slice("animated movies", ("Animation",)),
    Slice("a documentary", ("Documentary",)),
    Slice("film noir", ("Film-Noir",)),
    Slice("a fantasy movie", ("Fantasy",)),
    Slice("musicals", ("Musical",)),
    Slice("a western", ("Western",)),
    Slice("a mystery movie", ("Mystery",)),
    Slice("a sci-fi movie, no horror", ("Sci-Fi",), ("Horror",)),
    Slice("a comedy but no romance", ("Comedy",), ("Romance",)),
    Slice("a movie from 1994", (), (), 1994, 1994),
    Slice("sci-fi movies before 1980", ("Sci-Fi",), (), None, 1979),
    Slice("a horror movie, nothing before 2000", ("Horror",), (), 2000, None),
    Slice("an action movie from 1995 to 2005", ("Action",), (), 1995, 2005),
    Slice("a crime movie, no thriller", ("Crime",), ("Thriller",)),
)

# Requests that are mostly description (no checkable slice): reported for reading, with quality figures.
DESCRIPTIVE = (
    "a movie to watch with my grandparents",
    "a space movie",
    "animated films for adults",
    "dark dreamlike sci-fi about memory",
    "a feel-good movie",
    "a war movie about the navy",
    "a heist movie with a clever twist",
    "a funny animated movie for the whole family, nothing before 1995",
)

LIKE_TITLES = (
    "Amelie",
    "Pulp Fiction",
    "The Shawshank Redemption",
    "Toy Story",
    "The Matrix",
    "Alien",
    "Fargo",
    "Spirited Away",
    "The Godfather",
    "Groundhog Day",
    "Die Hard",
    "The Notebook",
    "Eternal Sunshine of the Spotless Mind",
    "Blade Runner",
    "Finding Nemo",
    "The Silence of the Lambs",
    "Annie Hall",
    "The Big Lebowski",
    "Casablanca",
    "Mad Max: Fury Road",
)


def item_stats(dataset: object, num_items: int, item_index_of: dict[str, int]) -> tuple[np.ndarray, np.ndarray, float]:
    """(interaction count, shrunk mean rating, catalogue mean rating) per item, from all the data's interactions."""
    inter = dataset.interactions  # type: ignore[attr-defined]
    to_index = np.array([item_index_of.get(iid, -1) for iid in inter.item_ids])[inter.item_index]
    keep = to_index >= 0  # items the prepared split dropped are not in the catalogue
    idx = to_index[keep]
    count = np.bincount(idx, minlength=num_items).astype(np.float64)
    if inter.rating is None:
        return count, np.full(num_items, np.nan), float("nan")
    r = inter.rating[keep].astype(np.float64)
    mean = float(r.mean())
    total = np.bincount(idx, weights=r, minlength=num_items)
    return count, (total + M * mean) / (count + M), mean


def attrs(item: object) -> set[str]:
    """Genres, tags and multi-valued categorical attributes (e.g. a product's category path) of an item."""
    out = {f"g:{g.lower()}" for g in item.genres} | {f"t:{t.lower()}" for t in item.tags}  # type: ignore[attr-defined]
    for key, raw in item.attributes.items():  # type: ignore[attr-defined]
        if isinstance(raw, tuple | list):
            out |= {f"a:{key}:{str(v).lower()}" for v in raw}
    return out


def catalogue_requests(catalog: object, count: np.ndarray) -> tuple[tuple[Slice, ...], tuple[str, ...]]:
    """Slices and "like" titles for a catalogue without genres: its categorical facet's common values.

    The slices are the 20 values of the first multi-valued attribute held by 20-50 % of the items at most
    (the catalogue's own words as the request); the seeds are the 20 most-interacted distinct titles.
    """
    items = catalog.items  # type: ignore[attr-defined]
    key = next((k for k, v in items[0].attributes.items() if isinstance(v, tuple | list)), None)
    slices: list[Slice] = []
    if key is not None:
        freq: dict[str, int] = {}
        for it in items:
            for v in set(it.attributes.get(key) or ()):
                freq[v] = freq.get(v, 0) + 1
        common = [v for v, n in sorted(freq.items(), key=lambda kv: -kv[1]) if 20 <= n <= 0.5 * len(items)][:20]
        slices = [Slice(v.lower(), (v,), facet=key) for v in common]
    seeds: list[str] = []
    for i in np.argsort(-count, kind="stable"):
        # Variants of one product often share a title: one seed per title, else the lists repeat each other.
        if items[i].title.lower() not in {t.lower() for t in seeds}:
            seeds.append(items[i].title)
        if len(seeds) == 20:
            break
    return tuple(slices), tuple(seeds)


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def top_of(values: np.ndarray, mask: np.ndarray, k: int = 10) -> np.ndarray:
    idx = np.flatnonzero(mask)
    return idx[np.lexsort((idx, -values[idx]))][:k]


def run_slices(
    agent: object, count: np.ndarray, shrunk: np.ndarray, slices: tuple[Slice, ...]
) -> list[dict[str, object]]:
    catalog = agent.components.catalog  # type: ignore[attr-defined]
    years = [it.year for it in catalog.items]
    rated = not np.isnan(shrunk).all()
    rows = []
    for s in slices:
        mask = np.array([s.ok(s.values(it), y) for it, y in zip(catalog.items, years, strict=True)])
        recs = agent.recommend(s.text, k=10)  # type: ignore[attr-defined]
        got = np.array([r.item_index for r in recs], dtype=np.int64)
        pop_ref, rating_ref = top_of(count, mask), top_of(shrunk if rated else count, mask)
        row: dict[str, object] = {
            "text": s.text,
            "slice_size": int(mask.sum()),
            "results": len(recs),
            "satisfied": float(np.mean([mask[i] for i in got])) if len(got) else 1.0,
            "median_count": float(np.median(count[got])) if len(got) else 0.0,
            "counts": [int(c) for c in count[got]],
            "ref_pop_median_count": float(np.median(count[pop_ref])),
            "top": [f"{r.title} [{int(count[r.item_index])}]" for r in recs[:5]],
            "reason_1": recs[0].reason if recs else "",
        }
        if rated:
            row |= {
                "mean_shrunk": float(shrunk[got].mean()) if len(got) else float("nan"),
                "ref_pop_shrunk": float(shrunk[pop_ref].mean()),
                "ref_rating_shrunk": float(shrunk[rating_ref].mean()),
            }
        rows.append(row)
    return rows


def run_like(agent: object, count: np.ndarray, titles: tuple[str, ...]) -> dict[str, object]:
    catalog = agent.components.catalog  # type: ignore[attr-defined]
    all_attrs = [attrs(it) for it in catalog.items]
    lists, rows = [], []
    for title in titles:
        hits = agent.toolbox.titles.lookup(title, k=1)  # type: ignore[attr-defined]
        if not hits:
            rows.append({"title": title, "missing": True})
            continue
        seed = hits[0].item_index
        recs = agent.recommend(f"something like {title}", k=10)  # type: ignore[attr-defined]
        got = [r.item_index for r in recs]
        lists.append(got)
        sa = all_attrs[seed]
        cat_avg = float(np.mean([jaccard(sa, a) for a in all_attrs]))
        overlap = float(np.mean([jaccard(sa, all_attrs[i]) for i in got])) if got else 0.0
        rows.append({
            "title": title,
            "seed": catalog[seed].display_title,
            "results": len(got),
            "overlap": round(overlap, 4),
            "catalogue_overlap": round(cat_avg, 4),
            "above_catalogue": overlap > cat_avg,
            "median_count": float(np.median(count[got])) if got else 0.0,
            "top": [catalog[i].display_title for i in got[:5]],
            "reason_1": recs[0].reason if recs else "",
        })  # fmt: skip
    union = {i for g in lists for i in g}
    total = sum(len(g) for g in lists)
    return {
        "requests": rows,
        "distinct_share": len(union) / total if total else 0.0,
        "above_catalogue_share": float(np.mean([r.get("above_catalogue", False) for r in rows])),
    }


def run_descriptive(agent: object, count: np.ndarray, shrunk: np.ndarray) -> list[dict[str, object]]:
    rows = []
    for text in DESCRIPTIVE:
        recs = agent.recommend(text, k=10)  # type: ignore[attr-defined]
        got = np.array([r.item_index for r in recs], dtype=np.int64)
        rows.append({
            "text": text,
            "results": len(recs),
            "median_count": float(np.median(count[got])) if len(got) else 0.0,
            "mean_shrunk": float(np.nanmean(shrunk[got])) if len(got) and not np.isnan(shrunk).all() else None,
            "top": [f"{r.title} [{int(count[r.item_index])}]" for r in recs[:6]],
            "reason_1": recs[0].reason if recs else "",
        })  # fmt: skip
    return rows


def run_personal(agent: object, users: int, seed: int = 0) -> dict[str, object]:
    """Hit / recall@20 on held-out items: the bus with its default weights vs the GNN source alone."""
    from agentrec.retrieve import Retriever, RetrieverConfig
    from agentrec.types import Query

    comps = agent.components  # type: ignore[attr-defined]
    test = comps.split.test
    held: dict[str, set[int]] = {}
    for u, i in zip(test.user_index.tolist(), test.item_index.tolist(), strict=True):
        held.setdefault(test.user_ids[u], set()).add(i)
    rng = np.random.default_rng(seed)
    ids = sorted(u for u in held if comps.train.user_id_to_index.get(u) is not None)
    ids = [ids[j] for j in rng.permutation(len(ids))[:users]]
    # Both retrievers know the training part only (the agent's own one also hides held-out items as "known").
    bus = Retriever(comps.catalog, comps.train, model=comps.model, store=comps.store,
                    text_embeddings=comps.item_text_embeddings)  # fmt: skip
    gnn_only = Retriever(comps.catalog, comps.train, model=comps.model, config=RetrieverConfig(weights={"gnn": 1.0}))
    out: dict[str, object] = {"users": len(ids)}
    for name, retr in (("bus", bus), ("gnn", gnn_only)):
        hits, recalls = [], []
        for uid in ids:
            got = {c.item_index for c in retr.candidates(Query(text="", user_id=uid, k=20))}
            n = len(got & held[uid])
            hits.append(n > 0)
            recalls.append(n / min(len(held[uid]), 20))
        out[name] = {"hit@20": round(float(np.mean(hits)), 4), "recall@20": round(float(np.mean(recalls)), 4)}
    return out


def summarise(rows: list[dict[str, object]]) -> dict[str, object]:
    def col(name: str) -> list[float]:
        return [float(r[name]) for r in rows if name in r]  # type: ignore[arg-type]

    out: dict[str, object] = {
        "requests": len(rows),
        "all_satisfied_share": float(np.mean([r["satisfied"] == 1.0 for r in rows])),
        "mean_satisfied": float(np.mean(col("satisfied"))),
        "min_results": int(min(col("results"))),
        "median_count_all_items": float(np.median([c for r in rows for c in r["counts"]])),  # type: ignore[attr-defined]
        "median_of_median_count": statistics.median(col("median_count")),
        "ref_pop_median_of_median_count": statistics.median(col("ref_pop_median_count")),
    }
    if col("mean_shrunk"):
        shrunk = [x for x in col("mean_shrunk") if not np.isnan(x)]
        out |= {
            "mean_shrunk": float(np.mean(shrunk)),
            "ref_pop_shrunk": float(np.mean(col("ref_pop_shrunk"))),
            "ref_rating_shrunk": float(np.mean(col("ref_rating_shrunk"))),
            "share_at_or_above_pop_ref": float(
                np.mean([r["mean_shrunk"] >= r["ref_pop_shrunk"] for r in rows if "mean_shrunk" in r])
            ),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="ml-latest-small")
    ap.add_argument("--artifacts-dir", default=None)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--personal", type=int, default=200, help="users for the personalised check (0: skip)")
    ap.add_argument("--label", default="current")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    from agentrec import Agent
    from agentrec.config import AgentConfig

    agent = Agent.load(args.dataset, data_dir=args.data_dir, artifacts_dir=args.artifacts_dir, config=AgentConfig())
    comps = agent.components
    index_of = {iid: i for i, iid in enumerate(comps.train.item_ids)}
    count, shrunk, mean = item_stats(comps.dataset, len(comps.catalog), index_of)
    t0 = time.perf_counter()
    movies = any(it.genres for it in comps.catalog.items[:500])
    requests, titles = (SLICES, LIKE_TITLES) if movies else catalogue_requests(comps.catalog, count)
    slices = run_slices(agent, count, shrunk, requests)
    like = run_like(agent, count, titles)
    descriptive = run_descriptive(agent, count, shrunk) if movies else []
    personal = run_personal(agent, args.personal) if args.personal else None
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    result = {
        "dataset": args.dataset,
        "label": args.label,
        "date": dt.date.today().isoformat(),
        "commit": commit.stdout.strip(),
        "load_avg": os.getloadavg(),
        "seconds": round(time.perf_counter() - t0, 1),
        "catalogue_mean_rating": mean,
        "m": M,
        "slices_summary": summarise(slices),
        "like_summary": {k: v for k, v in like.items() if k != "requests"},
        "personal": personal,
        "slices": slices,
        "like": like["requests"],
        "descriptive": descriptive,
    }
    out = Path(args.out or ROOT / "bench" / "results" / f"answer_quality_{args.dataset}_{args.label}.json")
    out.write_text(json.dumps(result, indent=1, default=float) + "\n")
    print(json.dumps({k: result[k] for k in ("slices_summary", "like_summary", "personal", "load_avg")}, indent=1))


if __name__ == "__main__":
    main()
