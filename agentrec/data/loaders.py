"""All dataset loaders in one place: MovieLens (CSV, 100K, 1M), LightGCN text splits, RecBole atomic files, tabular."""

from __future__ import annotations

from agentrec.data.lightgcn import load_lightgcn_split
from agentrec.data.movielens import load_ml1m, load_ml100k, load_movielens
from agentrec.data.recbole import load_recbole
from agentrec.data.tabular import load_tabular

__all__ = ["load_lightgcn_split", "load_ml100k", "load_ml1m", "load_movielens", "load_recbole", "load_tabular"]
