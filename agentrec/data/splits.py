"""Train / validation / test splits. Every part shares the full user and item index space.

All functions are vectorised (no Python loop per user) and reproducible given ``seed``.
"""

from __future__ import annotations

import numpy as np

from agentrec.types import Interactions, Split

__all__ = ["random_split", "temporal_split", "cold_item_split", "with_validation", "split_sizes"]


def _check_fraction(name: str, value: float, *, allow_zero: bool = True) -> None:
    low_ok = value >= 0 if allow_zero else value > 0
    if not (low_ok and value < 1):
        lo = "[0, 1)" if allow_zero else "(0, 1)"
        raise ValueError(f"{name} must lie in {lo}, got {value!r}")


def _rank_within_user(user_index: np.ndarray, *keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rank of each row among its user's rows by ``keys`` (most significant first; rank 0 = smallest).

    Returns:
        ``(rank, count)``: both ``(num_interactions,)``; ``count`` is the row's user's number of rows.
    """
    order = np.lexsort((*reversed(keys), user_index))
    sorted_users = user_index[order]
    n = len(user_index)
    starts = np.flatnonzero(np.r_[True, sorted_users[1:] != sorted_users[:-1]]) if n else np.empty(0, np.int64)
    group_start = np.repeat(starts, np.diff(np.r_[starts, n]))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - group_start
    counts = np.bincount(user_index, minlength=int(user_index.max()) + 1 if n else 0)
    return rank, counts[user_index]


def _holdout_counts(count: np.ndarray, fraction: float, minimum: int) -> np.ndarray:
    """Rows to hold out per row's user: round(fraction * n), at least ``minimum``, leaving >= 1 in train."""
    want = np.maximum(np.floor(fraction * count + 0.5).astype(np.int64), minimum if fraction > 0 else 0)
    return np.clip(want, 0, np.maximum(count - 1, 0))


def _parts(inter: Interactions, part: np.ndarray, name: str, cold: np.ndarray | None = None) -> Split:
    """Build a Split from per-row labels 0 = train, 1 = valid, 2 = test."""
    valid = inter.subset(part == 1) if (part == 1).any() else None
    return Split(train=inter.subset(part == 0), test=inter.subset(part == 2), valid=valid, cold_items=cold, name=name)


def random_split(
    interactions: Interactions,
    test_fraction: float = 0.2,
    valid_fraction: float = 0.0,
    seed: int = 0,
    min_test: int = 1,
) -> Split:
    """Per-user random hold-out.

    Each user with at least two interactions gives ``round(test_fraction * n)`` (at least ``min_test``) of
    them to test and ``round(valid_fraction * n)`` to validation, always keeping one in train; users with one
    interaction keep it in train.

    Args:
        interactions: what to split.
        test_fraction: share of each user's interactions held out for test, in (0, 1).
        valid_fraction: share held out for validation, in [0, 1).
        seed: random seed.
        min_test: fewest test interactions per user (when the user has two or more).

    Returns:
        A Split named ``"random"``.
    """
    _check_fraction("test_fraction", test_fraction, allow_zero=False)
    _check_fraction("valid_fraction", valid_fraction)
    if test_fraction + valid_fraction >= 1:
        raise ValueError(f"test_fraction + valid_fraction must be < 1, got {test_fraction} + {valid_fraction}")
    if min_test < 0:
        raise ValueError(f"min_test must be >= 0, got {min_test}")
    rng = np.random.default_rng(seed)
    rank, count = _rank_within_user(interactions.user_index, rng.random(len(interactions)))
    n_test = _holdout_counts(count, test_fraction, min_test)
    n_valid = np.minimum(_holdout_counts(count, valid_fraction, 0), np.maximum(count - 1 - n_test, 0))
    part = np.where(rank < n_test, 2, np.where(rank < n_test + n_valid, 1, 0))
    return _parts(interactions, part, "random")


def temporal_split(interactions: Interactions, n_last: int = 1, n_valid: int = 0) -> Split:
    """Leave-last-N-out by timestamp: each user's latest ``n_last`` interactions go to test.

    The ``n_valid`` interactions before those go to validation. Users always keep at least one interaction in
    train (a user with two interactions and ``n_last=1`` gives one to test; with one, none). Ties in time keep
    file order.

    Args:
        interactions: what to split; must carry timestamps.
        n_last: test interactions per user (>= 1).
        n_valid: validation interactions per user (>= 0).

    Returns:
        A Split named ``"temporal"``.
    """
    if interactions.timestamp is None:
        raise ValueError(
            "temporal_split needs timestamps but these interactions have none; use a random split instead "
            "(random_split, split='random', --split random)"
        )
    if n_last < 1:
        raise ValueError(f"n_last must be >= 1, got {n_last}")
    if n_valid < 0:
        raise ValueError(f"n_valid must be >= 0, got {n_valid}")
    # Reverse rank: 0 = latest. Later rows win ties (file order), so negate the row position too.
    rank, count = _rank_within_user(
        interactions.user_index, -interactions.timestamp.astype(np.int64), -np.arange(len(interactions))
    )
    n_test = np.minimum(n_last, np.maximum(count - 1, 0))
    n_val = np.minimum(n_valid, np.maximum(count - 1 - n_test, 0))
    part = np.where(rank < n_test, 2, np.where(rank < n_test + n_val, 1, 0))
    return _parts(interactions, part, "temporal")


def cold_item_split(
    interactions: Interactions, item_fraction: float = 0.1, valid_fraction: float = 0.0, seed: int = 0
) -> Split:
    """Hold out whole items: every interaction of a cold item leaves train.

    ``item_fraction`` of the items that have interactions become test-cold (all their interactions go to
    test); another, disjoint ``valid_fraction`` of them become validation-cold. ``cold_items`` lists both.

    Args:
        interactions: what to split.
        item_fraction: share of interacted items held out for test, in (0, 1).
        valid_fraction: share of interacted items held out for validation, in [0, 1).
        seed: random seed.

    Returns:
        A Split named ``"cold"`` with ``cold_items`` = ``(num_cold,)`` sorted int64 item indices.
    """
    _check_fraction("item_fraction", item_fraction, allow_zero=False)
    _check_fraction("valid_fraction", valid_fraction)
    if item_fraction + valid_fraction >= 1:
        raise ValueError(f"item_fraction + valid_fraction must be < 1, got {item_fraction} + {valid_fraction}")
    present = np.unique(interactions.item_index)
    rng = np.random.default_rng(seed)
    shuffled = rng.permutation(present)
    n_test = max(1, int(round(item_fraction * len(present))))
    n_valid = int(round(valid_fraction * len(present)))
    if n_test + n_valid >= len(present):
        raise ValueError(
            f"item_fraction={item_fraction} and valid_fraction={valid_fraction} would leave no item in train "
            f"(only {len(present)} items have interactions)"
        )
    label = np.zeros(interactions.num_items, dtype=np.int8)
    label[shuffled[:n_test]] = 2
    label[shuffled[n_test : n_test + n_valid]] = 1
    part = label[interactions.item_index]
    return _parts(interactions, part, "cold", cold=np.sort(shuffled[: n_test + n_valid]).astype(np.int64))


def with_validation(split: Split, valid_fraction: float = 0.1, seed: int = 0) -> Split:
    """Carve a per-user validation set out of a split's train part (for early stopping).

    Each user with two or more training interactions gives ``round(valid_fraction * n)`` (at least one) of
    them to validation. Test and ``cold_items`` are unchanged.

    Args:
        split: a split without validation.
        valid_fraction: share of each user's training interactions moved to validation, in (0, 1).
        seed: random seed.

    Returns:
        A new Split with the same name.
    """
    _check_fraction("valid_fraction", valid_fraction, allow_zero=False)
    if split.valid is not None:
        raise ValueError(f"split {split.name!r} already has a validation part; pass a split without one")
    inner = random_split(split.train, test_fraction=valid_fraction, seed=seed, min_test=1)
    return Split(train=inner.train, test=split.test, valid=inner.test, cold_items=split.cold_items, name=split.name)


def split_sizes(split: Split) -> dict[str, int]:
    """Interaction counts of each part (and the number of cold items when there are any)."""
    out = {"train": len(split.train), "valid": len(split.valid) if split.valid is not None else 0}
    out["test"] = len(split.test)
    if split.cold_items is not None:
        out["cold_items"] = int(len(split.cold_items))
    return out
