"""prepare_dataset: transform, split, persist as Parquet, and load back without re-parsing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import agentrec.data.prepare as prepare_mod
from agentrec.data import Dataset, fingerprint, load_dataset, prepare_dataset
from agentrec.data.loaders import load_lightgcn_split, load_tabular
from agentrec.types import Interactions


def _lightgcn_folder(root: Path) -> Path:
    folder = root / "mini"
    folder.mkdir()
    (folder / "train.txt").write_text("0 0 1 2\n1 1 2 3\n2 0 3\n3 2 4\n")
    (folder / "test.txt").write_text("0 3\n1 0\n2 1 2\n3 0\n")
    (folder / "item_list.txt").write_text("org_id remap_id\n100 0\n101 1\n102 2\n103 3\n104 4\n105 5\n")
    return folder


def _pairs(inter: Interactions) -> set[tuple[int, int]]:
    return set(zip(inter.user_index.tolist(), inter.item_index.tolist(), strict=True))


def test_fixed_split_roundtrip_without_reparsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ds = load_lightgcn_split(_lightgcn_folder(tmp_path))
    assert ds.num_items == 6 and ds.catalog[5].title == "Location 105"  # item 5 has no interaction
    assert ds.split is not None
    first = prepare_dataset(ds, artifacts_dir=tmp_path / "art", split="auto", valid_fraction=0.0)
    assert first.split.name == "fixed"
    assert _pairs(first.split.train) == _pairs(ds.split.train)
    assert _pairs(first.split.test) == _pairs(ds.split.test)
    manifest = json.loads((first.path / "manifest.json").read_text())
    assert manifest["counts"]["train"] == 10 and manifest["counts"]["test"] == 5
    assert manifest["fingerprint"] == fingerprint(first.dataset.interactions)
    assert first.path.parent == tmp_path / "art" / "mini" / "data"

    def fail(*args: object, **kwargs: object) -> Dataset:
        raise AssertionError("should have loaded the persisted copy")

    monkeypatch.setattr(prepare_mod, "split_dataset", fail)
    second = prepare_dataset(ds, artifacts_dir=tmp_path / "art", split="auto", valid_fraction=0.0)
    assert second.path == first.path
    assert fingerprint(second.dataset.interactions) == fingerprint(first.dataset.interactions)
    assert _pairs(second.split.test) == _pairs(first.split.test)
    assert second.dataset.catalog[5].attributes == {"org_id": "105"}
    assert second.dataset.split is not None  # the shipped split survives the round trip


def test_fixed_split_needs_a_shipped_split(tmp_path: Path) -> None:
    inter = tmp_path / "i.csv"
    inter.write_text("user_id,item_id\na,x\na,y\nb,x\nb,y\n")
    ds = load_tabular(inter)
    with pytest.raises(ValueError, match="ships no split"):
        prepare_dataset(ds, artifacts_dir=tmp_path, split="fixed")
    with pytest.raises(ValueError, match="split must be one of"):
        prepare_dataset(ds, artifacts_dir=tmp_path, split="weird")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown dataset .no-such-set.: not a built-in dataset"):
        prepare_dataset("no-such-set", artifacts_dir=tmp_path)


@pytest.mark.data
def test_prepare_ml_latest_small_cold_implicit_kcore(shared_data: Path, tmp_path: Path) -> None:
    kwargs = {"data_dir": shared_data, "artifacts_dir": tmp_path, "split": "cold", "implicit_threshold": 4.0}
    prepared = prepare_dataset("ml-latest-small", kcore=5, **kwargs)  # type: ignore[arg-type]
    ds, split = prepared.dataset, prepared.split
    assert ds.interactions.rating is None
    assert split.cold_items is not None and len(split.cold_items) > 0
    assert not np.isin(split.train.item_index, split.cold_items).any()
    # k-core re-indexed users/items and the catalogue follows the item ids
    assert [it.item_id for it in ds.catalog.items] == list(ds.interactions.item_ids)
    assert np.bincount(ds.interactions.item_index).min() >= 5
    assert np.bincount(ds.interactions.user_index).min() >= 5
    again = prepare_dataset("ml-latest-small", kcore=5, **kwargs)  # type: ignore[arg-type]
    assert again.split.cold_items is not None
    assert again.split.cold_items.tolist() == split.cold_items.tolist()
    toy = again.dataset.catalog[again.dataset.catalog.id_to_index["1"]]
    assert toy.title == "Toy Story" and "toy" in toy.attributes["keywords"]
    assert isinstance(toy.attributes["keywords"], tuple)


@pytest.mark.data
def test_prepare_default_random_split_and_raw_change(shared_data: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "ml-100k").mkdir(parents=True)
    for f in ("u.data", "u.item", "u.genre"):
        (data / "ml-100k" / f).write_bytes((shared_data / "ml-100k" / f).read_bytes())
    prepared = prepare_dataset("ml-100k", data_dir=data, artifacts_dir=tmp_path / "art")
    assert prepared.split.name == "random" and prepared.split.valid is not None
    assert len(prepared.split.train) + len(prepared.split.valid) + len(prepared.split.test) == 100_000
    total = load_dataset("ml-100k", data)
    assert fingerprint(prepared.dataset.interactions) == fingerprint(total.interactions)
    # Changing a raw file invalidates the persisted copy.
    lines = (data / "ml-100k" / "u.data").read_text().splitlines()
    (data / "ml-100k" / "u.data").write_text("\n".join(lines[:-1]) + "\n")
    rebuilt = prepare_dataset("ml-100k", data_dir=data, artifacts_dir=tmp_path / "art")
    assert len(rebuilt.dataset.interactions) == 99_999


def test_corrupt_persisted_copy_is_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ds = load_lightgcn_split(_lightgcn_folder(tmp_path))
    first = prepare_dataset(ds, artifacts_dir=tmp_path / "art", split="random", test_fraction=0.3)
    (first.path / "interactions.parquet").write_bytes(b"not parquet")
    with caplog.at_level("WARNING"):
        again = prepare_dataset(ds, artifacts_dir=tmp_path / "art", split="random", test_fraction=0.3)
    assert "rebuilding" in caplog.text
    assert _pairs(again.split.test) == _pairs(first.split.test)
    assert len(list((tmp_path / "art" / "mini" / "data").iterdir())) == 1  # replaced in place, no temp left
    other = prepare_dataset(ds, artifacts_dir=tmp_path / "art", split="random", test_fraction=0.4)
    assert other.path != first.path  # different parameters, different folder
