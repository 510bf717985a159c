"""Persist a prepared dataset as Parquet plus a JSON manifest, and load it back without re-parsing raw files.

Layout of ``<artifacts_dir>/<name>/data/<params-hash>/``:

- ``interactions.parquet``: ``user_index``, ``item_index``, ``rating``?, ``timestamp``?, ``part`` (0 train,
  1 valid, 2 test) and ``shipped`` (the shipped split's part, when the dataset kept one), in row order.
- ``users.parquet``: ``user_id`` in user-index order.
- ``items.parquet``: the catalogue in item-index order (``attributes`` as JSON) and a ``cold`` flag.
- ``manifest.json``: parameters, content fingerprints, counts and the raw files' sizes and times.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agentrec.data.base import Dataset, fingerprint
from agentrec.types import Catalog, Interactions, Item, Split

logger = logging.getLogger(__name__)

__all__ = ["FORMAT_VERSION", "READER_VERSION", "load_prepared", "params_key", "save_prepared", "source_signature"]

FORMAT_VERSION = 1
# How the loaders read raw files (e.g. how run-together category paths are split into levels). Bumped when the
# same files would now give a different catalogue, so prepared copies made by older code are not reused.
READER_VERSION = 2


def params_key(params: dict[str, Any]) -> str:
    """A short stable hash of preparation parameters (the folder name)."""
    blob = json.dumps({"format": FORMAT_VERSION, "reader": READER_VERSION, **params}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def source_signature(folder: Path) -> dict[str, object]:
    """Size and modification time of each raw file (and the TMDB file next door), to notice changed sources."""
    files = sorted(p for p in folder.iterdir() if p.is_file())
    tmdb = folder.parent / "tmdb-5000" / "tmdb_5000_movies.csv"
    if tmdb.is_file():
        files.append(tmdb)
    return {p.name: [p.stat().st_size, p.stat().st_mtime_ns] for p in files}


def _jsonable(value: object) -> object:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _from_json(value: object) -> object:
    return tuple(_from_json(v) for v in value) if isinstance(value, list) else value


def save_prepared(folder: Path, dataset: Dataset, split: Split, *, params: dict[str, Any], signature: dict) -> None:
    """Write a prepared dataset to ``folder`` atomically (a temp folder renamed into place)."""
    inter = dataset.interactions
    n = len(inter)
    part = np.full(n, -1, dtype=np.int8)
    _label_rows(inter, split, part)
    if (part < 0).any():
        raise ValueError("the split's parts must cover every interaction of the dataset exactly once")
    cols: dict[str, np.ndarray] = {"user_index": inter.user_index, "item_index": inter.item_index, "part": part}
    if inter.rating is not None:
        cols["rating"] = inter.rating
    if inter.timestamp is not None:
        cols["timestamp"] = inter.timestamp
    if dataset.split is not None:
        shipped = np.full(n, -1, dtype=np.int8)
        _label_rows(inter, dataset.split, shipped)
        cols["shipped"] = shipped
    cold = np.zeros(inter.num_items, dtype=bool)
    if split.cold_items is not None:
        cold[split.cold_items] = True
    items = dataset.catalog.items
    items_df = pd.DataFrame(
        {
            "item_id": [it.item_id for it in items],
            "title": [it.title for it in items],
            "year": pd.array([it.year for it in items], dtype="Int64"),
            "genres": [list(it.genres) for it in items],
            "tags": [list(it.tags) for it in items],
            "overview": [it.overview for it in items],
            "attributes": [json.dumps({k: _jsonable(v) for k, v in it.attributes.items()}) for it in items],
            "cold": cold,
        }
    )
    manifest = {
        "format": FORMAT_VERSION,
        "name": dataset.name,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "params": params,
        "source": signature,
        "fingerprint": fingerprint(inter),
        "split_name": split.name,
        "has_shipped_split": dataset.split is not None,
        "counts": {
            "users": inter.num_users,
            "items": inter.num_items,
            "interactions": n,
            "train": int((part == 0).sum()),
            "valid": int((part == 1).sum()),
            "test": int((part == 2).sum()),
        },  # fmt: skip
    }
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        pd.DataFrame(cols).to_parquet(tmp / "interactions.parquet", index=False)
        pd.DataFrame({"user_id": list(inter.user_ids)}).to_parquet(tmp / "users.parquet", index=False)
        items_df.to_parquet(tmp / "items.parquet", index=False)
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        try:
            os.replace(tmp, folder)
        except OSError:
            # Another process finished the same preparation first: keep its (identical) copy.
            if not (folder / "manifest.json").is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _label_rows(inter: Interactions, split: Split, out: np.ndarray) -> None:
    """Mark each row of ``inter`` with the part of ``split`` it belongs to (parts are row subsets, in order)."""
    pair = inter.user_index * max(inter.num_items, 1) + inter.item_index
    order = np.argsort(pair, kind="stable")
    sorted_pair = pair[order]
    taken = np.zeros(len(inter), dtype=bool)
    for label, sub in ((0, split.train), (1, split.valid), (2, split.test)):
        if sub is None or not len(sub):
            continue
        sp = sub.user_index * max(inter.num_items, 1) + sub.item_index
        # Rows of repeated pairs: assign the k-th occurrence in the part to the k-th free row of that pair.
        for pos_in_sorted in _match(sorted_pair, sp, taken, order):
            out[order[pos_in_sorted]] = label


def _match(sorted_pair: np.ndarray, wanted: np.ndarray, taken: np.ndarray, order: np.ndarray) -> list[int]:
    left = np.searchsorted(sorted_pair, wanted, side="left")
    right = np.searchsorted(sorted_pair, wanted, side="right")
    if (left == right).any():
        raise ValueError("a split part holds an interaction that the dataset does not have")
    if (right - left == 1).all() and not taken[order[left]].any():
        taken[order[left]] = True
        return left.tolist()
    out: list[int] = []
    for lo, hi in zip(left.tolist(), right.tolist(), strict=True):
        for p in range(lo, hi):
            if not taken[order[p]]:
                taken[order[p]] = True
                out.append(p)
                break
        else:
            raise ValueError("a split part repeats an interaction more often than the dataset has it")
    return out


def load_prepared(folder: Path, signature: dict) -> tuple[Dataset, Split] | None:
    """Load what ``save_prepared`` wrote; None when absent, from an older format, or the raw files changed."""
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        return None
    try:
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("format") != FORMAT_VERSION:
            return None
        if json.loads(json.dumps(signature)) != manifest.get("source"):
            logger.info("raw files of %s changed since %s was written; rebuilding", manifest.get("name"), folder)
            return None
        df = pd.read_parquet(folder / "interactions.parquet")
        user_ids = tuple(pd.read_parquet(folder / "users.parquet")["user_id"].astype(str))
        items_df = pd.read_parquet(folder / "items.parquet")
    except (OSError, ValueError, KeyError) as exc:
        logger.warning("could not read %s (%s); rebuilding", folder, exc)
        return None
    columns = ("item_id", "title", "year", "genres", "tags", "overview")
    # One JSON parse for all items' attributes (per-item json.loads dominated the load time).
    all_attrs = json.loads("[" + ",".join(items_df["attributes"].tolist()) + "]")
    items = tuple(
        Item(
            item_id=str(item_id),
            title=str(title),
            year=None if year is None or pd.isna(year) else int(year),
            genres=tuple(genres.tolist()) if len(genres) else (),
            tags=tuple(tags.tolist()) if len(tags) else (),
            overview=str(overview),
            attributes={k: _from_json(v) for k, v in attributes.items()} if attributes else {},
        )
        for item_id, title, year, genres, tags, overview, attributes in zip(
            *(items_df[c].tolist() for c in columns), all_attrs, strict=True
        )
    )
    inter = Interactions(
        user_index=df["user_index"].to_numpy(dtype=np.int64),
        item_index=df["item_index"].to_numpy(dtype=np.int64),
        user_ids=user_ids,
        item_ids=tuple(it.item_id for it in items),
        rating=df["rating"].to_numpy(dtype=np.float32) if "rating" in df else None,
        timestamp=df["timestamp"].to_numpy(dtype=np.int64) if "timestamp" in df else None,
    )
    if fingerprint(inter) != manifest.get("fingerprint"):
        logger.warning("%s does not match its manifest fingerprint; rebuilding", folder)
        return None
    part = df["part"].to_numpy()
    cold_mask = items_df["cold"].to_numpy(dtype=bool)
    split = Split(
        train=inter.subset(part == 0),
        test=inter.subset(part == 2),
        valid=inter.subset(part == 1) if (part == 1).any() else None,
        cold_items=np.flatnonzero(cold_mask).astype(np.int64) if manifest.get("split_name") == "cold" else None,
        name=str(manifest.get("split_name", "split")),
    )
    shipped = None
    if "shipped" in df:
        sp = df["shipped"].to_numpy()
        shipped = Split(train=inter.subset(sp == 0), test=inter.subset(sp == 2),
                        valid=inter.subset(sp == 1) if (sp == 1).any() else None, name="fixed")  # fmt: skip
    return Dataset(str(manifest["name"]), inter, Catalog(items=items), shipped), split
