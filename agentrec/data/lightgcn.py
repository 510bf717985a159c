"""LightGCN / NGCF benchmark splits: ``train.txt`` / ``test.txt`` with one line per user, ``user item item ...``."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from agentrec.data._io import BadRows, DataFormatError
from agentrec.data.base import Dataset
from agentrec.types import Catalog, Interactions, Item, Split

logger = logging.getLogger(__name__)

__all__ = ["load_lightgcn_split", "read_adjacency_file"]


def read_adjacency_file(path: str | Path, *, strict: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Read one ``user item item ...`` file.

    Args:
        path: the file.
        strict: raise on the first malformed line; False skips bad lines and warns with a count.

    Returns:
        ``(users, items)``: two ``(num_pairs,)`` int64 arrays, one row per (user, item) pair.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; a LightGCN split folder holds train.txt and test.txt")
    data = path.read_bytes()
    if not data.strip():
        raise DataFormatError(path, None, "the file is empty", "one line per user: 'user item item ...'")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        bad_line = data.count(b"\n", 0, exc.start) + 1
        if strict:
            raise DataFormatError(path, bad_line, "non-ASCII bytes", "whole numbers separated by spaces") from exc
        text = data.decode("ascii", errors="replace")
    lines = text.splitlines()
    counts = np.fromiter((len(line.split()) for line in lines), dtype=np.int64, count=len(lines))
    try:
        # Fast path: every token a non-negative integer and no user-only lines.
        flat = np.array(text.split(), dtype=np.int64)
        ok = bool((flat >= 0).all())
    except ValueError:
        ok = False
    seen_users = set()
    if ok:
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        nonblank = counts > 0
        users_per_line = flat[starts[nonblank]]
        ok = len(np.unique(users_per_line)) == len(users_per_line)
    if ok:
        users = np.repeat(users_per_line, counts[nonblank] - 1)
        keep = np.ones(len(flat), dtype=bool)
        keep[starts[nonblank]] = False
        return users, flat[keep]
    # Slow path: find and name the bad lines.
    bad = BadRows(path, strict)
    u_out: list[int] = []
    i_out: list[int] = []
    for lineno, line in enumerate(lines, start=1):
        tokens = line.split()
        if not tokens:
            continue
        try:
            nums = [int(t) for t in tokens]
        except ValueError:
            wrong = next(t for t in tokens if not t.lstrip("-").isdigit())
            bad.bad(lineno, f"token {wrong!r} is not a whole number", "'user item item ...' as whole numbers")
            continue
        if min(nums) < 0:
            bad.bad(lineno, "a negative id", "non-negative remapped ids")
            continue
        if nums[0] in seen_users:
            bad.bad(lineno, f"user {nums[0]} appears on an earlier line", "each user on one line")
            continue
        seen_users.add(nums[0])
        u_out.extend([nums[0]] * (len(nums) - 1))
        i_out.extend(nums[1:])
    bad.report()
    return np.asarray(u_out, dtype=np.int64), np.asarray(i_out, dtype=np.int64)


def _id_list(path: Path) -> dict[int, str]:
    """``org_id remap_id`` lines (with a header) -> {remap_id: org_id}."""
    out: dict[int, str] = {}
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            parts = line.split()
            if not parts or (lineno == 1 and not parts[-1].isdigit()):
                continue
            if len(parts) != 2 or not parts[1].isdigit():
                raise DataFormatError(path, lineno, f"found {line.strip()!r}", "'org_id remap_id'")
            out[int(parts[1])] = parts[0]
    return out


def load_lightgcn_split(
    path: str | Path, *, name: str | None = None, strict: bool = True, item_prefix: str = "Location"
) -> Dataset:
    """Load a LightGCN-format benchmark (``train.txt``, ``test.txt``; optional ``item_list.txt``).

    User and item ids are the remapped ids of the files, as strings (user index ``u`` has id ``str(u)``).
    Items are titled ``"<item_prefix> <org_id>"`` from ``item_list.txt`` when present.

    Args:
        path: folder with ``train.txt`` and ``test.txt``.
        name: dataset name; defaults to the folder name.
        strict: raise on the first malformed line; False skips bad lines and warns with a count.
        item_prefix: word before the original id in generated item titles.

    Returns:
        The Dataset: all interactions (train then test) and ``split`` = the fixed train/test split.
    """
    path = Path(path)
    tr_u, tr_i = read_adjacency_file(path / "train.txt", strict=strict)
    te_u, te_i = read_adjacency_file(path / "test.txt", strict=strict)
    item_org = _id_list(path / "item_list.txt") if (path / "item_list.txt").is_file() else {}
    user_org = _id_list(path / "user_list.txt") if (path / "user_list.txt").is_file() else {}
    num_users = int(max(tr_u.max(initial=-1), te_u.max(initial=-1), max(user_org, default=-1))) + 1
    num_items = int(max(tr_i.max(initial=-1), te_i.max(initial=-1), max(item_org, default=-1))) + 1
    user_ids = tuple(str(u) for u in range(num_users))
    item_ids = tuple(str(i) for i in range(num_items))
    train = Interactions(tr_u, tr_i, user_ids, item_ids)
    test = Interactions(te_u, te_i, user_ids, item_ids)
    everything = Interactions(np.concatenate([tr_u, te_u]), np.concatenate([tr_i, te_i]), user_ids, item_ids)
    items = tuple(
        Item(
            item_id=iid,
            title=f"{item_prefix} {item_org.get(i, iid)}",
            attributes={"org_id": item_org[i]} if i in item_org else {},
        )
        for i, iid in enumerate(item_ids)
    )
    split = Split(train=train, test=test, name="fixed")
    ds = Dataset(name=name or path.name, interactions=everything, catalog=Catalog(items=items), split=split)
    logger.info(
        "loaded %s: %d users, %d items, %d train + %d test", ds.name, num_users, num_items, len(train), len(test)
    )
    return ds
