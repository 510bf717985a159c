"""Personal scores for a chat user (likes only, no trained embedding): which scorer serves them best?

Every test user of a retriever-tables split is treated as if their training items were likes told to the chat:
LightGCN (the default's recipe) scores them by the mean embedding of the liked items (``user_from_items``),
the graph filter by ``score_history``; LightGCN's trained user embeddings are the reference. Test is scored
with the existing evaluator (full ranking, training and validation items masked).

    python bench/history_scorers.py --dataset amazon-scientific [--recipe bpr|softmax]

Writes bench/results/history_scorers_<dataset>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]


class FromLikes:
    """Scores of users computed from their training items alone, through ``scorer(items) -> (num_items,)``."""

    def __init__(self, scorer, history: list[np.ndarray], num_users: int, num_items: int) -> None:  # noqa: ANN001
        self.scorer, self.history, self.num_users, self.num_items = scorer, history, num_users, num_items

    def score(self, users: np.ndarray) -> torch.Tensor:
        return torch.stack([torch.as_tensor(self.scorer(list(self.history[int(u)]))).float() for u in users])


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--dataset", default="amazon-scientific", choices=["ml-latest-small", "ml-100k", "amazon-scientific"]
    )
    p.add_argument("--recipe", default="bpr", choices=["bpr", "softmax"])
    p.add_argument("--out", default=None)
    a = p.parse_args(argv)

    sys.path.insert(0, str(REPO / "bench"))
    import retriever_tables as rt

    from agentrec.artifacts_retriever import (
        converging_train_config,
        softmax_train_config,
        train_candidate,
        tune_default_filter,
    )
    from agentrec.cli.train import item_text_features
    from agentrec.config import Paths
    from agentrec.evaluate import evaluate
    from agentrec.graph import build_graph
    from agentrec.models.graphfilter import GraphFilter
    from agentrec.text.profile import has_item_text

    t0 = time.perf_counter()
    paths = Paths.from_env(None)
    prepared = rt._split(a.dataset, str(paths.data_dir), str(paths.artifacts_dir), 0, False)
    split = prepared.split
    graph = build_graph(split.train)
    catalog = prepared.dataset.catalog
    feats = (
        item_text_features(catalog, paths.artifacts_dir, prepared.name, show_progress=False)
        if has_item_text(catalog)
        else None
    )
    cfg = softmax_train_config(graph.num_users, False) if a.recipe == "softmax" else converging_train_config(False)
    net, record = train_candidate(graph, split, feats, cfg, 20)
    gf = GraphFilter(graph, tune_default_filter(split).config)
    history = [np.sort(split.train.item_index[split.train.user_index == u]) for u in range(graph.num_users)]

    def mean_of_likes(items: list[int]) -> torch.Tensor:
        return net.item_embeddings() @ net.user_from_items(items)

    scorers = {
        "lightgcn, trained user embedding (reference)": net,
        "lightgcn, mean of the liked items": FromLikes(mean_of_likes, history, graph.num_users, graph.num_items),
        "graph filter, score_history": FromLikes(gf.score_history, history, graph.num_users, graph.num_items),
    }
    rows = {}
    for name, model in scorers.items():
        v = evaluate(model, split, ks=(20,), part="test").values
        rows[name] = {"recall@20": round(float(v["recall@20"]), 4), "ndcg@20": round(float(v["ndcg@20"]), 4)}
        print(f"{name:46s} recall@20 {rows[name]['recall@20']:.4f}  ndcg@20 {rows[name]['ndcg@20']:.4f}")
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO)
    result = {
        "benchmark": "history_scorers",
        "dataset": a.dataset,
        "recipe": a.recipe,
        "lightgcn": record,
        "text_aware": feats is not None,
        "date_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": sha.stdout.strip(),
        "load_avg": os.getloadavg(),
        "rows": rows,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    out = Path(a.out or REPO / "bench" / "results" / f"history_scorers_{a.dataset}.json")
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"-> {out}")
    return result


if __name__ == "__main__":
    main()
