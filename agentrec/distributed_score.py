"""Batch scoring: the top-k items of every user written to Parquet, one file per rank plus a manifest.

Rank ``r`` of ``w`` (``torchrun``; one process is rank 0 of 1) scores the contiguous block ``r`` of the
users (:func:`agentrec.distributed.shard_range`) and writes ``part-<r>-of-<w>.parquet``; rank 0 then
writes ``manifest.json``, naming every file, its users and rows. Reading the files in manifest order
gives every user once, in user order. Columns: ``user_index``, ``user_id``, ``rank`` (1 = best),
``item_index``, ``item_id``, ``score``.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agentrec.distributed import all_gather_objects, barrier, context, shard_range
from agentrec.models.base import Recommender

__all__ = ["MANIFEST", "MANIFEST_FORMAT", "read_recommendations", "recommend_all", "write_shard"]

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "agentrec-recommendations/1"
COLUMNS = ("user_index", "user_id", "rank", "item_index", "item_id", "score")


def _part_name(rank: int, world_size: int) -> str:
    return f"part-{rank:05d}-of-{world_size:05d}.parquet"


def write_shard(
    model: Recommender,
    out_dir: str | Path,
    k: int,
    user_ids: Sequence[str],
    item_ids: Sequence[str],
    rank: int = 0,
    world_size: int = 1,
    batch_size: int = 1024,
    exclude_seen: bool = True,
) -> dict[str, Any]:
    """Score block ``rank`` of ``world_size`` of the users and write its Parquet file.

    Returns:
        The file's manifest entry: ``path`` (relative to ``out_dir``), ``rank``, ``first_user``,
        ``end_user`` (exclusive), ``users`` and ``rows``.

    Raises:
        ValueError: on a bad ``k`` or ``batch_size``, or ids that do not match the model's size.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not isinstance(k, int | np.integer) or not 0 < k <= model.num_items:
        raise ValueError(f"k must be an integer in [1, {model.num_items}] (the catalogue size), got {k!r}")
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if len(user_ids) != model.num_users or len(item_ids) != model.num_items:
        raise ValueError(
            f"{len(user_ids)} user ids and {len(item_ids)} item ids given for a model of {model.num_users} users x "
            f"{model.num_items} items; pass the ids of the data the model was trained on"
        )
    first, end = shard_range(model.num_users, rank, world_size)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = _part_name(rank, world_size)
    schema = pa.schema(
        [
            ("user_index", pa.int64()),
            ("user_id", pa.string()),
            ("rank", pa.int32()),
            ("item_index", pa.int64()),
            ("item_id", pa.string()),
            ("score", pa.float32()),
        ]
    )
    uid, iid = np.asarray(user_ids, dtype=object), np.asarray(item_ids, dtype=object)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=out)
    os.close(fd)
    rows = 0
    try:
        with pq.ParquetWriter(tmp, schema) as writer:
            for start in range(first, end, batch_size):
                users = np.arange(start, min(start + batch_size, end), dtype=np.int64)
                scores, items = model.recommend(users, int(k), exclude_seen=exclude_seen)
                u = np.repeat(users, k)
                it = items.reshape(-1).astype(np.int64)
                table = pa.table(
                    {
                        "user_index": u,
                        "user_id": uid[u].tolist(),
                        "rank": np.tile(np.arange(1, k + 1, dtype=np.int32), len(users)),
                        "item_index": it,
                        "item_id": iid[it].tolist(),
                        "score": scores.reshape(-1).astype(np.float32),
                    },
                    schema=schema,
                )
                writer.write_table(table)
                rows += table.num_rows
            if first == end:
                writer.write_table(schema.empty_table())
        os.replace(tmp, out / name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return {"path": name, "rank": rank, "first_user": first, "end_user": end, "users": end - first, "rows": rows}


def recommend_all(
    model: Recommender,
    out_dir: str | Path,
    k: int,
    user_ids: Sequence[str],
    item_ids: Sequence[str],
    batch_size: int = 1024,
    exclude_seen: bool = True,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Top-``k`` of every user to ``out_dir``, the users shared out over the ranks of the process group.

    Every rank writes its file; rank 0 removes files of an earlier run first and writes the manifest
    last (``meta`` is added to it, e.g. the checkpoint and dataset).

    Returns:
        The manifest (on every rank).
    """
    ctx = context()
    out = Path(out_dir)
    if ctx.is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / MANIFEST).unlink(missing_ok=True)
        for old in out.glob("part-*.parquet"):
            old.unlink()
    barrier()
    t0 = time.perf_counter()
    entry = write_shard(model, out, k, user_ids, item_ids, ctx.rank, ctx.world_size, batch_size, exclude_seen)
    entry["seconds"] = round(time.perf_counter() - t0, 3)
    files = all_gather_objects(entry)
    manifest = {
        "format": MANIFEST_FORMAT,
        **(meta or {}),
        "k": int(k),
        "exclude_seen": exclude_seen,
        "num_users": model.num_users,
        "num_items": model.num_items,
        "world_size": ctx.world_size,
        "columns": list(COLUMNS),
        "rows": sum(f["rows"] for f in files),
        "files": files,
    }
    if ctx.is_main:
        tmp = out / f".{MANIFEST}.tmp"
        tmp.write_text(json.dumps(manifest, indent=2))
        os.replace(tmp, out / MANIFEST)
    barrier()
    return manifest


def read_recommendations(out_dir: str | Path) -> Any:
    """Every file named by ``out_dir/manifest.json`` as one pandas DataFrame, in manifest order.

    Raises:
        FileNotFoundError: when the manifest or one of its files is missing.
        ValueError: when the manifest is not one :func:`recommend_all` wrote.
    """
    import pandas as pd

    out = Path(out_dir)
    path = out / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} does not exist; write recommendations with agentrec recommend-all")
    manifest = json.loads(path.read_text())
    if manifest.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"{str(path)!r} is not a recommendations manifest (expected format {MANIFEST_FORMAT!r})")
    frames = []
    for f in manifest["files"]:
        part = out / f["path"]
        if not part.is_file():
            raise FileNotFoundError(f"{str(part)!r}, named in {MANIFEST}, is missing; rerun agentrec recommend-all")
        frames.append(pd.read_parquet(part))
    return pd.concat(frames, ignore_index=True)
