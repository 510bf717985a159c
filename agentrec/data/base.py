"""The ``Dataset`` value every loader returns, and helpers to build one from raw id columns."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agentrec.types import Catalog, Interactions, Item, Split

__all__ = ["Dataset", "catalog_fingerprint", "fingerprint", "index_ids", "natural_sort"]


@dataclass(frozen=True, eq=False)
class Dataset:
    """A loaded dataset.

    Attributes:
        name: dataset name (``"ml-latest-small"``, ``"gowalla"``, or the name given to a custom dataset).
        interactions: ALL interactions of the source, with rating / timestamp when the source has them.
        catalog: every item of the source (including items nobody interacted with), in item-index order:
            ``catalog.items[i].item_id == interactions.item_ids[i]``.
        split: the split the dataset ships with (gowalla's train/test), or None.
    """

    name: str
    interactions: Interactions
    catalog: Catalog
    split: Split | None = None

    def __post_init__(self) -> None:
        if len(self.catalog) != self.interactions.num_items:
            raise ValueError(
                f"catalog has {len(self.catalog)} items but interactions have {self.interactions.num_items} item ids"
            )
        for i, item in enumerate(self.catalog.items):
            if item.item_id != self.interactions.item_ids[i]:
                raise ValueError(
                    f"catalog item {i} has id {item.item_id!r} but interactions.item_ids[{i}] is "
                    f"{self.interactions.item_ids[i]!r}; they must be in the same order"
                )

    @property
    def num_users(self) -> int:
        """Number of users."""
        return self.interactions.num_users

    @property
    def num_items(self) -> int:
        """Number of items (catalogue size)."""
        return self.interactions.num_items

    def summary(self) -> dict[str, object]:
        """Users, items, interactions, density, rating range and shipped-split sizes, as plain values."""
        inter = self.interactions
        out: dict[str, object] = {
            "name": self.name,
            "users": inter.num_users,
            "items": inter.num_items,
            "interactions": len(inter),
            "density": inter.density,
            "items_with_interactions": int(np.unique(inter.item_index).size),
        }
        if inter.rating is not None and len(inter):
            out["rating_min"] = float(inter.rating.min())
            out["rating_max"] = float(inter.rating.max())
        if inter.timestamp is not None and len(inter):
            out["timestamp_min"] = int(inter.timestamp.min())
            out["timestamp_max"] = int(inter.timestamp.max())
        return out


def fingerprint(interactions: Interactions) -> str:
    """A stable content hash of interactions: 16 hex characters of a sha256.

    Covers the index arrays, ratings, timestamps and both raw-id maps, so any change to the data changes it.
    """
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(interactions.user_index, dtype="<i8").tobytes())
    h.update(np.ascontiguousarray(interactions.item_index, dtype="<i8").tobytes())
    for col in (interactions.rating, interactions.timestamp):
        h.update(b"|none|" if col is None else np.ascontiguousarray(col).astype("<f8").tobytes())
    h.update("\x1f".join(interactions.user_ids).encode())
    h.update(b"\x1e")
    h.update("\x1f".join(interactions.item_ids).encode())
    return h.hexdigest()[:16]


def catalog_fingerprint(catalog: Catalog) -> str:
    """A stable content hash of a catalogue: 16 hex characters of a sha256.

    Covers every field of every item (id, title, year, genres, tags, overview, attributes), so a changed items
    table, other text columns or other loader options change it.
    """
    h = hashlib.sha256()
    for it in catalog.items:
        row = [it.item_id, it.title, it.year, list(it.genres), list(it.tags), it.overview, dict(it.attributes)]
        h.update(json.dumps(row, sort_keys=True, default=str).encode())
        h.update(b"\x1e")
    return h.hexdigest()[:16]


def natural_sort(ids: Sequence[str]) -> list[str]:
    """Sort raw ids numerically when they are all integers, else as strings."""
    try:
        return sorted(ids, key=int)
    except ValueError:
        return sorted(ids)


def index_ids(raw: np.ndarray, known: Sequence[str] | None = None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Map a column of raw ids to contiguous indices.

    Args:
        raw: ``(n,)`` raw ids (any dtype; compared as strings).
        known: the id order to use; every value of ``raw`` must be in it. None: the distinct values,
            sorted numerically when possible.

    Returns:
        ``(index, ids)``: ``(n,)`` int64 positions into ``ids``.
    """
    arr = np.asarray(raw)
    if np.issubdtype(arr.dtype, np.integer):
        # Integer ids: unique on the integers (fast), already in numeric order.
        uniq_int, inverse = np.unique(arr, return_inverse=True)
        uniq = [str(int(x)) for x in uniq_int.tolist()]
        natural = uniq
    else:
        uniq_str, inverse = np.unique(arr.astype(str), return_inverse=True)
        uniq = uniq_str.tolist()
        natural = natural_sort(uniq)
    ids = tuple(natural) if known is None else tuple(known)
    pos = {v: i for i, v in enumerate(ids)}
    lookup = np.array([pos.get(u, -1) for u in uniq], dtype=np.int64)
    return lookup[inverse.reshape(-1)], ids


def bare_catalog(item_ids: Sequence[str], prefix: str = "Item") -> Catalog:
    """A catalogue with only ids and generated titles (``"<prefix> <id>"``), for sources without item data."""
    return Catalog(items=tuple(Item(item_id=i, title=f"{prefix} {i}") for i in item_ids))
