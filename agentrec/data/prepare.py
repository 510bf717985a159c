"""Preparation: implicit feedback, de-duplication, k-core filtering, and ``prepare_dataset`` (split + persist)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from agentrec.config import Paths
from agentrec.data.base import Dataset, catalog_fingerprint, fingerprint
from agentrec.data.registry import dataset_path, load_dataset
from agentrec.data.spec import SPLIT_KINDS, DatasetSpec, describe_split, record_spec, resolve_dataset, split_options
from agentrec.data.splits import cold_item_split, random_split, temporal_split, with_validation
from agentrec.data.store import load_prepared, params_key, save_prepared, source_signature
from agentrec.types import Catalog, Interactions, Split

logger = logging.getLogger(__name__)

__all__ = [
    "PreparedDataset",
    "SPLIT_KINDS",
    "deduplicate",
    "kcore",
    "prepare_dataset",
    "split_dataset",
    "split_options",
    "to_implicit",
    "transform",
]

SplitKind = Literal["auto", "fixed", "random", "temporal", "cold"]


@dataclass(frozen=True, eq=False)
class PreparedDataset:
    """A dataset after preparation, with its split, and where it is persisted.

    Attributes:
        name: dataset name.
        dataset: the (transformed) dataset; its ``interactions`` are the union of the split's parts.
        split: train / valid / test (and ``cold_items`` for a cold split).
        path: the folder holding the Parquet files and ``manifest.json``.
        split_note: which split was used and where that choice came from (the argument, the spec's
            ``[split]``, the split the data ships with, or the default).
    """

    name: str
    dataset: Dataset
    split: Split
    path: Path
    split_note: str = ""


def _implicit_mask(interactions: Interactions, threshold: float) -> np.ndarray:
    if interactions.rating is None:
        raise ValueError(
            f"implicit_threshold={threshold} needs ratings but these interactions have none; pass None instead"
        )
    return interactions.rating >= threshold


def to_implicit(interactions: Interactions, threshold: float) -> Interactions:
    """Keep interactions rated ``>= threshold`` and drop the ratings (implicit feedback).

    Args:
        interactions: rated interactions.
        threshold: the lowest rating that counts as a positive (e.g. 4.0 on a 5-star scale).

    Returns:
        Interactions in the same index space, ``rating=None``, timestamps kept.
    """
    out = interactions.subset(_implicit_mask(interactions, threshold))
    return Interactions(out.user_index, out.item_index, out.user_ids, out.item_ids, None, out.timestamp)


def _dedup_mask(interactions: Interactions, keep: str) -> np.ndarray:
    if keep not in ("first", "last"):
        raise ValueError(f"keep must be one of ['first', 'last'], got {keep!r}")
    n = len(interactions)
    pair = interactions.user_index * max(interactions.num_items, 1) + interactions.item_index
    # "first"/"last" by time when there are timestamps, else by row order.
    when = interactions.timestamp if interactions.timestamp is not None else np.zeros(n, dtype=np.int64)
    order = np.lexsort((np.arange(n), when, pair))
    sorted_pair = pair[order]
    if keep == "first":
        chosen = np.r_[True, sorted_pair[1:] != sorted_pair[:-1]] if n else np.zeros(0, bool)
    else:
        chosen = np.r_[sorted_pair[1:] != sorted_pair[:-1], True] if n else np.zeros(0, bool)
    mask = np.zeros(n, dtype=bool)
    mask[order[chosen]] = True
    return mask


def deduplicate(interactions: Interactions, keep: str = "last") -> Interactions:
    """Keep one row per (user, item).

    Args:
        interactions: possibly repeated interactions.
        keep: ``"last"`` or ``"first"`` occurrence, by timestamp when present, else by row order.

    Returns:
        Interactions in the same index space and row order, without repeats.
    """
    return interactions.subset(_dedup_mask(interactions, keep))


def _kcore_mask(interactions: Interactions, k_user: int, k_item: int) -> np.ndarray:
    for name, k in (("k_user", k_user), ("k_item", k_item)):
        if k < 0:
            raise ValueError(f"{name} must be >= 0, got {k}")
    mask = np.ones(len(interactions), dtype=bool)
    while True:
        u, i = interactions.user_index[mask], interactions.item_index[mask]
        ucount = np.bincount(u, minlength=interactions.num_users)
        icount = np.bincount(i, minlength=interactions.num_items)
        drop = (ucount[interactions.user_index] < k_user) | (icount[interactions.item_index] < k_item)
        new = mask & ~drop
        if new.sum() == mask.sum():
            return mask
        mask = new


def _compact(interactions: Interactions) -> tuple[Interactions, np.ndarray, np.ndarray]:
    """Re-index to the users and items that occur; returns (interactions, kept user idx, kept item idx)."""
    users = np.unique(interactions.user_index)
    items = np.unique(interactions.item_index)
    umap = np.full(interactions.num_users, -1, dtype=np.int64)
    umap[users] = np.arange(len(users))
    imap = np.full(interactions.num_items, -1, dtype=np.int64)
    imap[items] = np.arange(len(items))
    out = Interactions(
        user_index=umap[interactions.user_index],
        item_index=imap[interactions.item_index],
        user_ids=tuple(interactions.user_ids[u] for u in users.tolist()),
        item_ids=tuple(interactions.item_ids[i] for i in items.tolist()),
        rating=interactions.rating,
        timestamp=interactions.timestamp,
    )
    return out, users, items


def kcore(interactions: Interactions, k_user: int, k_item: int) -> Interactions:
    """Iteratively drop users with fewer than ``k_user`` and items with fewer than ``k_item`` interactions.

    Re-indexes: the result's id space holds only the surviving users and items (in their old order).

    Args:
        interactions: what to filter.
        k_user: minimum interactions per user.
        k_item: minimum interactions per item.

    Returns:
        The k-core, with new contiguous indices.
    """
    return _compact(interactions.subset(_kcore_mask(interactions, k_user, k_item)))[0]


def transform(
    dataset: Dataset,
    *,
    implicit_threshold: float | None = None,
    dedup: bool = True,
    kcore_k: int = 0,
) -> tuple[Dataset, np.ndarray]:
    """Apply implicit conversion, de-duplication and a k-core to a dataset, keeping catalogue and split aligned.

    Args:
        dataset: the loaded dataset.
        implicit_threshold: keep ratings ``>=`` this and drop ratings; None keeps explicit ratings.
        dedup: keep the last interaction per (user, item).
        kcore_k: k for users and items (0 = no filtering). Re-indexes users and items, and the catalogue
            keeps only the surviving items.

    Returns:
        ``(dataset, kept_rows)``: the new dataset and the ``(num_kept,)`` row positions of the original
        interactions it keeps (in order).
    """
    inter = dataset.interactions
    rows = np.arange(len(inter))
    if implicit_threshold is not None:
        m = _implicit_mask(inter, implicit_threshold)
        inter, rows = inter.subset(m), rows[m]
        inter = Interactions(inter.user_index, inter.item_index, inter.user_ids, inter.item_ids, None, inter.timestamp)
    if dedup:
        m = _dedup_mask(inter, "last")
        inter, rows = inter.subset(m), rows[m]
    catalog = dataset.catalog
    if kcore_k > 0:
        m = _kcore_mask(inter, kcore_k, kcore_k)
        if not m.any():
            raise ValueError(f"kcore={kcore_k} removes every interaction of {dataset.name}; use a smaller k")
        inter, _, items = _compact(inter.subset(m))
        rows = rows[m]
        catalog = Catalog(items=tuple(dataset.catalog.items[i] for i in items.tolist()))
    shipped = None
    if dataset.split is not None and len(rows) == len(dataset.interactions):
        shipped = dataset.split
    return Dataset(dataset.name, inter, catalog, shipped), rows


def _shipped_labels(dataset: Dataset) -> np.ndarray | None:
    """Per-row part labels of the shipped split (0 train, 1 valid, 2 test), when its parts are the rows in order."""
    split = dataset.split
    if split is None:
        return None
    parts = [split.train] + ([split.valid] if split.valid is not None else []) + [split.test]
    labels = [0] + ([1] if split.valid is not None else []) + [2]
    if sum(len(p) for p in parts) != len(dataset.interactions):
        return None
    return np.concatenate([np.full(len(p), lab, dtype=np.int8) for p, lab in zip(parts, labels, strict=True)])


def _make_split(
    ds: Dataset, kind: str, labels: np.ndarray | None, *, seed: int, test_fraction: float, valid_fraction: float,
    cold_fraction: float,
) -> Split:  # fmt: skip
    inter = ds.interactions
    if kind == "fixed":
        assert labels is not None
        split = Split(inter.subset(labels == 0), inter.subset(labels == 2),
                      inter.subset(labels == 1) if (labels == 1).any() else None, name="fixed")  # fmt: skip
        return with_validation(split, valid_fraction, seed) if valid_fraction > 0 and split.valid is None else split
    if kind == "random":
        return random_split(inter, test_fraction=test_fraction, valid_fraction=valid_fraction, seed=seed)
    if kind == "temporal":
        return temporal_split(inter, n_last=1, n_valid=1 if valid_fraction > 0 else 0)
    split = cold_item_split(inter, item_fraction=cold_fraction, seed=seed)
    return with_validation(split, valid_fraction, seed) if valid_fraction > 0 else split


def split_dataset(
    dataset: Dataset,
    *,
    split: SplitKind = "auto",
    seed: int = 0,
    test_fraction: float = 0.2,
    valid_fraction: float = 0.1,
    cold_fraction: float = 0.1,
    implicit_threshold: float | None = None,
    kcore: int = 0,
    dedup: bool = True,
) -> tuple[Dataset, Split]:
    """Transform and split a loaded dataset in memory (what ``prepare_dataset`` does, without persisting).

    Args:
        dataset: the loaded dataset.
        split: ``"auto"``, ``"fixed"``, ``"random"``, ``"temporal"`` or ``"cold"`` (see ``prepare_dataset``).
        seed: random seed.
        test_fraction: per-user test share of the random split.
        valid_fraction: validation share (0 for none).
        cold_fraction: share of items held out by the cold split.
        implicit_threshold: keep ratings ``>=`` this as implicit positives (None keeps ratings).
        kcore: k-core filter for users and items (0 = none).
        dedup: keep the last interaction per (user, item).

    Returns:
        ``(dataset, split)``: the transformed dataset and its split.
    """
    if split not in SPLIT_KINDS:
        raise ValueError(f"split must be one of {list(SPLIT_KINDS)}, got {split!r}")
    if kcore < 0:
        raise ValueError(f"kcore must be >= 0, got {kcore}")
    labels = _shipped_labels(dataset)
    kind = ("fixed" if labels is not None else "random") if split == "auto" else split
    if kind == "fixed" and labels is None:
        raise ValueError(f"split='fixed' but {dataset.name} ships no split; use 'random', 'temporal' or 'cold'")
    ds, rows = transform(dataset, implicit_threshold=implicit_threshold, dedup=dedup, kcore_k=kcore)
    sp = _make_split(ds, kind, None if labels is None else labels[rows], seed=seed, test_fraction=test_fraction,
                     valid_fraction=valid_fraction, cold_fraction=cold_fraction)  # fmt: skip
    return ds, sp


def _source_key(source: str | Dataset | DatasetSpec, data_dir: str | Path | None, download: bool
                ) -> tuple[dict[str, object], dict[str, object]]:  # fmt: skip
    """``(extra cache-key parameters, raw-source signature)`` of a source."""
    if isinstance(source, Dataset):
        # Everything that shapes the result: the interactions and the whole catalogue (its text, loader options).
        return {"source_fingerprint": fingerprint(source.interactions),
                "catalog_fingerprint": catalog_fingerprint(source.catalog)}, {}  # fmt: skip
    if isinstance(source, DatasetSpec):
        return {"spec": source.key()}, source.signature()
    return {}, source_signature(dataset_path(source, data_dir, download=download))


def prepare_dataset(
    name: str | Path | Dataset | DatasetSpec,
    *,
    data_dir: str | Path | None = None,
    artifacts_dir: str | Path | None = None,
    split: SplitKind = "auto",
    seed: int | None = None,
    test_fraction: float | None = None,
    valid_fraction: float | None = None,
    cold_fraction: float | None = None,
    implicit_threshold: float | None = None,
    kcore: int | None = None,
    dedup: bool | None = None,
    force: bool = False,
    strict: bool = True,
    enrich: bool = True,
    download: bool = True,
) -> PreparedDataset:
    """Load, transform, split and persist a dataset; later calls with the same parameters load the Parquet copy.

    The cache key covers everything that shapes the result: the preparation parameters, and for a built-in
    dataset its raw files (sizes and times), for a spec the spec's files, columns and options (and the files'
    sizes and times), for a loaded Dataset the content of its interactions and of its whole catalogue.

    Args:
        name: a built-in dataset name (see ``DATASETS``), a registered name, a dataset spec (or the path of its
            ``.toml``), an artifacts folder, or an already-loaded Dataset (e.g. from ``load_tabular``).
        data_dir: the raw-data root (None: ``AGENTREC_DATA_DIR`` or the user cache).
        artifacts_dir: the artifacts root (None: ``AGENTREC_ARTIFACTS_DIR`` or the user cache).
        split: ``"fixed"`` (the shipped split), ``"random"`` (per-user hold-out), ``"temporal"`` (leave last
            one out; the one before goes to validation when ``valid_fraction > 0``), ``"cold"`` (cold items),
            or ``"auto"``: the spec's ``[split] kind`` when there is one, else the shipped split, else random
            (logged, and reported as ``split_note``).
        seed: random seed of the random and cold splits and of validation carving (None: the spec's, else 0).
        test_fraction: per-user test share of the random split (None: the spec's, else 0.2).
        valid_fraction: validation share (per user, carved from train); 0 for none (None: the spec's, else 0.1).
        cold_fraction: share of items held out by the cold split (None: the spec's, else 0.1).
        implicit_threshold: turn ratings ``>=`` this into implicit positives (None: the spec's, else keep ratings).
        kcore: k-core filter for users and items (0 = none; re-indexes; None: the spec's, else 0).
        dedup: keep one (the last) interaction per (user, item) (None: the spec's or dataset's default, else True).
        force: rebuild even when a persisted copy exists.
        strict: parse raw files strictly (see ``load_dataset``).
        enrich: join TMDB text into MovieLens catalogues.
        download: fetch a missing MovieLens dataset from GroupLens.

    Returns:
        The PreparedDataset; files live in ``<artifacts_dir>/<name>/data/<params-hash>/``.
    """
    if split not in SPLIT_KINDS:
        raise ValueError(f"split must be one of {list(SPLIT_KINDS)}, got {split!r}")
    if kcore is not None and kcore < 0:
        raise ValueError(f"kcore must be >= 0, got {kcore}")
    source, root = resolve_dataset(name, Paths.from_env(data_dir, artifacts_dir).artifacts_dir)
    ds_name = source.name if isinstance(source, Dataset | DatasetSpec) else source
    opts, origin = split_options(source, split, seed=seed, test_fraction=test_fraction, valid_fraction=valid_fraction,
                                 cold_fraction=cold_fraction, implicit_threshold=implicit_threshold, kcore=kcore,
                                 dedup=dedup)  # fmt: skip
    params: dict[str, object] = {**opts, "strict": strict, "enrich": enrich}
    extra, signature = _source_key(source, data_dir, download)
    params.update(extra)
    paths = Paths.from_env(data_dir=data_dir, artifacts_dir=root or artifacts_dir)
    folder = paths.dataset_artifacts(ds_name) / "data" / params_key(params)
    cached = None if force else load_prepared(folder, signature)
    if cached is not None:
        ds, sp = cached
        logger.info("loaded prepared %s from %s", ds_name, folder)
    else:
        if isinstance(source, Dataset):
            raw = source
        elif isinstance(source, DatasetSpec):
            raw = source.load(strict=strict)
        else:
            raw = load_dataset(source, data_dir, strict=strict, enrich=enrich, download=download)
        ds, sp = split_dataset(raw, **opts)  # type: ignore[arg-type]
        save_prepared(folder, ds, sp, params=params, signature=signature)
        logger.info("prepared %s (%s split) in %s", ds_name, sp.name, folder)
    if isinstance(source, DatasetSpec):  # once it loads: later processes find the catalogue by name
        record_spec(source, paths.dataset_artifacts(ds_name))
    note = describe_split(sp, origin, opts)
    logger.info("%s: split %s", ds_name, note)
    return PreparedDataset(ds_name, ds, sp, folder, note)
