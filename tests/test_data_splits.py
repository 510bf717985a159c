"""Splits and preparation transforms on small synthetic interactions with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from agentrec.data.prepare import deduplicate, kcore, to_implicit
from agentrec.data.splits import cold_item_split, random_split, split_sizes, temporal_split, with_validation
from agentrec.types import Interactions, Split


def _random_interactions(num_users: int = 50, num_items: int = 40, seed: int = 0) -> Interactions:
    rng = np.random.default_rng(seed)
    rows = set()
    for u in range(num_users):
        for i in rng.choice(num_items, size=rng.integers(1, 20), replace=False):
            rows.add((u, int(i)))
    users, items = map(np.array, zip(*sorted(rows), strict=True))
    n = len(users)
    return Interactions.from_arrays(
        users, items, num_users, num_items, rating=rng.integers(1, 6, n).astype(float), timestamp=rng.permutation(n)
    )


def _pairs(inter: Interactions) -> set[tuple[int, int]]:
    return set(zip(inter.user_index.tolist(), inter.item_index.tolist(), strict=True))


def _assert_partition(inter: Interactions, split: Split) -> None:
    parts = [split.train, split.test] + ([split.valid] if split.valid is not None else [])
    assert sum(len(p) for p in parts) == len(inter)
    union: set[tuple[int, int]] = set()
    for p in parts:
        assert p.user_ids == inter.user_ids and p.item_ids == inter.item_ids
        assert not (union & _pairs(p))
        union |= _pairs(p)
    assert union == _pairs(inter)


@pytest.mark.parametrize("valid_fraction", [0.0, 0.1])
@pytest.mark.parametrize("seed", [0, 1])
def test_random_split_per_user(seed: int, valid_fraction: float) -> None:
    inter = _random_interactions()
    split = random_split(inter, test_fraction=0.2, valid_fraction=valid_fraction, seed=seed)
    _assert_partition(inter, split)
    counts = np.bincount(inter.user_index, minlength=inter.num_users)
    test_counts = np.bincount(split.test.user_index, minlength=inter.num_users)
    train_counts = np.bincount(split.train.user_index, minlength=inter.num_users)
    for u in range(inter.num_users):
        n = counts[u]
        assert train_counts[u] >= 1  # every user keeps something to train on
        if n == 1:
            assert test_counts[u] == 0
        else:
            assert test_counts[u] == min(max(1, int(np.floor(0.2 * n + 0.5))), n - 1)
    assert (split.valid is not None) == (valid_fraction > 0)
    again = random_split(inter, test_fraction=0.2, valid_fraction=valid_fraction, seed=seed)
    assert _pairs(again.test) == _pairs(split.test)  # reproducible


def test_random_split_seed_changes_result() -> None:
    inter = _random_interactions()
    assert _pairs(random_split(inter, seed=0).test) != _pairs(random_split(inter, seed=1).test)


def test_temporal_split_takes_latest() -> None:
    # user 0: items 0..3 at times 40, 10, 30, 20 -> latest is item 0, then item 2
    inter = Interactions.from_arrays([0, 0, 0, 0, 1, 1, 2], [0, 1, 2, 3, 0, 1, 2], 3, 4,
                                     timestamp=[40, 10, 30, 20, 5, 5, 1])  # fmt: skip
    split = temporal_split(inter, n_last=1, n_valid=1)
    _assert_partition(inter, split)
    assert split.valid is not None
    assert (0, 0) in _pairs(split.test) and (0, 2) in _pairs(split.valid)
    assert (1, 1) in _pairs(split.test)  # tie in time: the later row counts as later
    assert (2, 2) in _pairs(split.train)  # a single interaction stays in train
    with pytest.raises(ValueError, match="timestamps"):
        temporal_split(Interactions.from_arrays([0], [0]))
    with pytest.raises(ValueError, match="n_last"):
        temporal_split(inter, n_last=0)


def test_cold_item_split_train_never_mentions_cold_items() -> None:
    inter = _random_interactions()
    split = cold_item_split(inter, item_fraction=0.2, valid_fraction=0.1, seed=3)
    _assert_partition(inter, split)
    assert split.cold_items is not None
    present = np.unique(inter.item_index)
    assert len(split.cold_items) == round(0.2 * len(present)) + round(0.1 * len(present))
    assert not np.isin(split.train.item_index, split.cold_items).any()
    assert np.isin(split.test.item_index, split.cold_items).all()
    assert split.valid is not None and np.isin(split.valid.item_index, split.cold_items).all()
    assert not set(split.test.item_index.tolist()) & set(split.valid.item_index.tolist())


def test_with_validation_keeps_test_and_cold_items() -> None:
    inter = _random_interactions()
    base = cold_item_split(inter, 0.1, seed=0)
    split = with_validation(base, valid_fraction=0.25, seed=0)
    _assert_partition(inter, split)
    assert _pairs(split.test) == _pairs(base.test)
    assert split.cold_items is base.cold_items
    assert split_sizes(split)["valid"] > 0
    with pytest.raises(ValueError, match="already has a validation"):
        with_validation(split)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"test_fraction": 0.0}, "test_fraction"),
        ({"test_fraction": 1.2}, "test_fraction"),
        ({"valid_fraction": -0.1}, "valid_fraction"),
        ({"test_fraction": 0.6, "valid_fraction": 0.5}, "< 1"),
    ],
)
def test_random_split_rejects_bad_fractions(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        random_split(_random_interactions(), **kwargs)


def test_to_implicit_threshold() -> None:
    inter = Interactions.from_arrays([0, 0, 1, 1], [0, 1, 0, 1], rating=[5, 3, 4, 1], timestamp=[1, 2, 3, 4])
    out = to_implicit(inter, 4.0)
    assert _pairs(out) == {(0, 0), (1, 0)}
    assert out.rating is None and out.timestamp is not None and out.timestamp.tolist() == [1, 3]
    assert out.num_items == 2  # index space unchanged
    with pytest.raises(ValueError, match="needs ratings"):
        to_implicit(Interactions.from_arrays([0], [0]), 4.0)


@pytest.mark.parametrize(("keep", "rating"), [("last", 2.0), ("first", 5.0)])
def test_deduplicate_by_time(keep: str, rating: float) -> None:
    # (0, 1) three times: ratings 5 @ t=1, 2 @ t=9, 3 @ t=4 -> first by time is 5, last is 2
    inter = Interactions.from_arrays([0, 0, 0, 0], [1, 1, 0, 1], rating=[5, 2, 1, 3], timestamp=[1, 9, 2, 4])
    out = deduplicate(inter, keep=keep)
    assert len(out) == 2
    assert out.rating is not None
    ratings = dict(zip(out.item_index.tolist(), out.rating.tolist(), strict=True))
    assert ratings == {0: 1.0, 1: rating}
    with pytest.raises(ValueError, match="keep must be one of"):
        deduplicate(inter, keep="middle")


def test_kcore_iterates_and_reindexes() -> None:
    # items 0,1 are liked by users 0,1,2; item 2 only by user 3, who has one interaction.
    # 2-core: user 3 and item 2 go; then all remaining have >= 2.
    inter = Interactions.from_arrays([0, 0, 1, 1, 2, 2, 3], [0, 1, 0, 1, 0, 1, 2], 4, 3)
    out = kcore(inter, 2, 2)
    assert out.user_ids == ("0", "1", "2") and out.item_ids == ("0", "1")
    assert len(out) == 6
    # needs three rounds: user 3 goes, so item 2 falls to one, so user 2 falls to one
    chain = Interactions.from_arrays([0, 0, 1, 1, 2, 2, 3], [0, 1, 0, 1, 1, 2, 2], 4, 3)
    out = kcore(chain, 2, 2)
    assert out.item_ids == ("0", "1") and out.user_ids == ("0", "1") and len(out) == 4
    with pytest.raises(ValueError, match="k_user"):
        kcore(inter, -1, 2)
