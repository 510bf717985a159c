"""Known datasets and ``load_dataset``: find (or download) a dataset by name and load it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agentrec.config import Paths
from agentrec.data.base import Dataset
from agentrec.data.download import GROUPLENS_URL, fetch_movielens
from agentrec.data.lightgcn import load_lightgcn_split
from agentrec.data.movielens import load_ml1m, load_ml100k, load_movielens
from agentrec.data.recbole import load_recbole

logger = logging.getLogger(__name__)

__all__ = ["DATASETS", "DatasetInfo", "load_dataset", "dataset_path"]

_ML_TERMS = "GroupLens research licence: non-commercial research use, cite Harper & Konstan 2015, no redistribution"


@dataclass(frozen=True)
class DatasetInfo:
    """What agentrec knows about a named dataset.

    Attributes:
        name: the name (also the folder name under the data directory).
        format: which loader reads it.
        description: one line for humans.
        downloadable: whether agentrec can fetch it from GroupLens.
        licence: the terms of use, in short.
        loader_options: keyword arguments of the format's loader (e.g. RecBole's ``text_layout``).
        prepare_options: defaults of ``prepare_dataset`` for this dataset (e.g. ``dedup=False`` to keep a
            shipped leave-one-out split exactly as published).
        files_hint: what to place in the dataset's folder when it is missing (for datasets not downloaded).
        pack: the domain pack the agent speaks with (``agentrec.packs``): "movies", "products" or "generic".
    """

    name: str
    format: Literal["movielens", "ml-100k", "ml-1m", "lightgcn", "recbole"]
    description: str
    downloadable: bool
    licence: str
    loader_options: Mapping[str, Any] = field(default_factory=dict)
    prepare_options: Mapping[str, Any] = field(default_factory=dict)
    files_hint: str = "place train.txt/test.txt/item_list.txt from the LightGCN repository (data/gowalla) there"
    pack: str = "generic"


DATASETS: dict[str, DatasetInfo] = {
    "ml-latest-small": DatasetInfo(
        "ml-latest-small",
        "movielens",
        "MovieLens latest small: 100,836 ratings, 610 users, 9,742 movies",
        True,
        _ML_TERMS,
        pack="movies",
    ),
    "ml-latest": DatasetInfo(
        "ml-latest",
        "movielens",
        "MovieLens latest full (~33M ratings; changes over time)",
        True,
        _ML_TERMS,
        pack="movies",
    ),
    "ml-25m": DatasetInfo(
        "ml-25m", "movielens", "MovieLens 25M: 25M ratings, 162k users, 62k movies", True, _ML_TERMS, pack="movies"
    ),
    "ml-32m": DatasetInfo(
        "ml-32m", "movielens", "MovieLens 32M: 32M ratings, 200k users, 87k movies", True, _ML_TERMS, pack="movies"
    ),
    "ml-100k": DatasetInfo(
        "ml-100k", "ml-100k", "MovieLens 100K: 100,000 ratings, 943 users, 1,682 movies", True, _ML_TERMS, pack="movies"
    ),  # fmt: skip
    "ml-1m": DatasetInfo(
        "ml-1m", "ml-1m", "MovieLens 1M: 1,000,209 ratings, 6,040 users, 3,706 movies", True, _ML_TERMS, pack="movies"
    ),  # fmt: skip
    "gowalla": DatasetInfo(
        "gowalla",
        "lightgcn",
        "Gowalla check-ins, LightGCN/NGCF split: 29,858 users, 40,981 locations, 810,128 train + 217,242 test",
        False,
        "SNAP Gowalla data as preprocessed by NGCF/LightGCN (train.txt/test.txt from the LightGCN repositories)",
    ),  # fmt: skip
    "amazon-scientific": DatasetInfo(
        "amazon-scientific",
        "recbole",
        "Amazon Industrial & Scientific (UniSRec, RecBole atomic files): 2,928 users, 1,585 products, 19,712 "
        "interactions in leave-one-out sequences; titles, category paths and brands",
        False,
        "Amazon Review Data 2018 (Ni, Li & McAuley 2019) as preprocessed by UniSRec (Hou et al. 2022); research use",
        loader_options={"dataset": "Scientific", "text_layout": ("title", "category", "brand")},
        # Some users bought an item twice; de-duplicating would move rows between the published parts.
        prepare_options={"dedup": False},
        files_hint="place the UniSRec files Scientific.{train,valid,test}.inter, .text, .item2index and "
        ".user2index there",
        pack="products",
    ),
}


def _info(name: str) -> DatasetInfo:
    if name not in DATASETS:
        raise ValueError(
            f"dataset must be one of {sorted(DATASETS)}, got {name!r}; for your own data write a dataset spec "
            f"file (a .toml; see agentrec.data.spec) or call agentrec.data.register_dataset"
        )
    return DATASETS[name]


def dataset_path(
    name: str, data_dir: str | Path | None = None, *, download: bool = True, base_url: str = GROUPLENS_URL
) -> Path:
    """The folder of a known dataset under the data directory, downloading it first when allowed and needed.

    Args:
        name: a key of ``DATASETS``.
        data_dir: the data root; None reads ``AGENTREC_DATA_DIR`` or uses the user cache directory.
        download: fetch a missing MovieLens dataset from GroupLens (checksum verified).
        base_url: where MovieLens archives are served.

    Returns:
        ``<data_dir>/<name>``.
    """
    info = _info(name)
    root = Paths.from_env(data_dir=data_dir).data_dir
    folder = root / name
    if folder.is_dir():
        return folder
    if info.downloadable and download:
        return fetch_movielens(name, root, base_url=base_url)
    how = (
        "pass download=True (or run `agentrec data prepare`) to fetch it from GroupLens"
        if info.downloadable
        else info.files_hint
    )
    raise FileNotFoundError(
        f"dataset {name!r} not found at {folder}; {how}, or point --data-dir / AGENTREC_DATA_DIR at the folder "
        f"that contains {name}/"
    )


def load_dataset(
    name: str,
    data_dir: str | Path | None = None,
    *,
    strict: bool = True,
    enrich: bool = True,
    download: bool = True,
) -> Dataset:
    """Load a known dataset by name.

    Args:
        name: one of ``DATASETS``: "ml-latest-small", "ml-latest", "ml-25m", "ml-32m", "ml-100k", "ml-1m",
            "gowalla", "amazon-scientific".
        data_dir: the data root holding ``<name>/``; None reads ``AGENTREC_DATA_DIR`` or uses
            ``<user cache>/agentrec/data``.
        strict: raise on the first malformed row; False skips bad rows and warns with a count.
        enrich: for MovieLens CSV releases, join TMDB overviews/keywords when
            ``<data_dir>/tmdb-5000/tmdb_5000_movies.csv`` exists.
        download: fetch a missing MovieLens dataset from GroupLens (checksum verified).

    Returns:
        The Dataset: all interactions, the full catalogue, and the shipped split (gowalla, amazon-scientific)
        or None.
    """
    info = _info(name)
    folder = dataset_path(name, data_dir, download=download)
    if info.format == "movielens":
        return load_movielens(folder, name=name, strict=strict, enrich=enrich)
    if info.format == "ml-100k":
        return load_ml100k(folder, name=name, strict=strict)
    if info.format == "ml-1m":
        return load_ml1m(folder, name=name, strict=strict)
    if info.format == "recbole":
        return load_recbole(folder, name=name, **dict(info.loader_options))
    return load_lightgcn_split(folder, name=name, strict=strict)
