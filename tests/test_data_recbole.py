"""RecBole atomic files: sequence form with a leave-one-out split, plain .inter/.item/.user, product text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agentrec.data import DataFormatError, load_dataset, prepare_dataset
from agentrec.data.category import category_levels, level_stats, split_product_texts
from agentrec.data.loaders import load_recbole

_TEXTS = {
    "A1": "Gorilla Glue, 8 oz. Bottle. Shop & Lab Tapes, Adhesives & Sealants Urethane Adhesives. Gorilla. ",
    "A2": "Latex caulk. Shop & Lab Tapes, Adhesives & Sealants Caulk Latex Caulk. DAP. ",
    "A3": "Silicone caulk. Shop & Lab Tapes, Adhesives & Sealants Caulk Silicone Caulk. GE. ",
    "A4": "Any caulk. Shop & Lab Tapes, Adhesives & Sealants Caulk. DAP. ",
    "A5": "A filament. Shop & Lab Printing Supplies Filament. S.O.L. Survive Outdoors Longer. ",
    "A6": "No category here. . Acme. ",
}


def _sequence_folder(tmp_path: Path) -> Path:
    """Users u0: A1 A2 A3 A4 (valid A3, test A4); u1: A5 A2 A6 (valid A2, test A6), as indices."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    ids = list(_TEXTS)
    (tmp_path / "Toy.item2index").write_text("".join(f"{a}\t{i}\n" for i, a in enumerate(ids)))
    (tmp_path / "Toy.user2index").write_text("u0\t0\nu1\t1\n")
    head = "user_id:token\titem_id_list:token_seq\titem_id:token\n"
    (tmp_path / "Toy.train.inter").write_text(head + "0\t0 1\t2\n0\t0\t1\n1\t4\t1\n")
    (tmp_path / "Toy.valid.inter").write_text(head + "0\t0 1\t2\n1\t4\t1\n")
    (tmp_path / "Toy.test.inter").write_text(head + "0\t0 1 2\t3\n1\t4 1\t5\n")
    (tmp_path / "Toy.text").write_text(
        "item_id:token\ttext:token_seq\n" + "".join(f"{k}\t{v}\n" for k, v in _TEXTS.items())
    )
    return tmp_path


def _items_of(part, user: str) -> list[str]:  # type: ignore[no-untyped-def]
    u = part.user_ids.index(user)
    return [part.item_ids[i] for i in part.item_index[part.user_index == u]]


def test_sequence_form_reproduces_the_leave_one_out_split(tmp_path: Path) -> None:
    ds = load_recbole(_sequence_folder(tmp_path), text_layout=("title", "category", "brand"))
    assert ds.name == "Toy" and ds.interactions.user_ids == ("u0", "u1")
    assert ds.interactions.item_ids == tuple(_TEXTS)  # item2index order, raw ids
    sp = ds.split
    assert sp is not None and sp.valid is not None and sp.name == "fixed"
    assert _items_of(sp.train, "u0") == ["A1", "A2"] and _items_of(sp.valid, "u0") == ["A3"]
    assert _items_of(sp.test, "u0") == ["A4"]
    assert _items_of(sp.train, "u1") == ["A5"] and _items_of(sp.valid, "u1") == ["A2"]
    assert _items_of(sp.test, "u1") == ["A6"]
    assert len(ds.interactions) == 7 and ds.interactions.timestamp is None
    glue = ds.catalog[0]
    assert glue.title == "Gorilla Glue, 8 oz. Bottle" and glue.genres == ()
    assert glue.attributes["brand"] == "Gorilla"
    assert glue.overview.startswith("Gorilla Glue, 8 oz. Bottle. Shop & Lab")  # the whole text stays item text
    assert ds.catalog[1].attributes["category"] == ("Shop & Lab", "Tapes, Adhesives & Sealants", "Caulk", "Latex Caulk")
    assert ds.catalog[3].attributes["category"] == ("Shop & Lab", "Tapes, Adhesives & Sealants", "Caulk")
    assert ds.catalog[4].attributes["brand"] == "S.O.L. Survive Outdoors Longer"  # a brand with ". " inside
    assert ds.catalog[5].title == "No category here" and "category" not in ds.catalog[5].attributes


def test_prepared_split_keeps_the_shipped_parts(tmp_path: Path) -> None:
    ds = load_recbole(_sequence_folder(tmp_path / "src"), text_layout=("title", "category", "brand"))
    prepared = prepare_dataset(ds, artifacts_dir=tmp_path / "art", dedup=False)
    assert prepared.split.name == "fixed" and "ships with" in prepared.split_note
    assert _items_of(prepared.split.test, "u1") == ["A6"] and _items_of(prepared.split.valid, "u0") == ["A3"]
    again = prepare_dataset(ds, artifacts_dir=tmp_path / "art", dedup=False)
    assert again.path == prepared.path
    assert again.dataset.catalog[1].attributes["category"][-1] == "Latex Caulk"  # tuples survive Parquet


def test_inconsistent_sequences_are_reported(tmp_path: Path) -> None:
    folder = _sequence_folder(tmp_path)
    (folder / "Toy.test.inter").write_text(
        "user_id:token\titem_id_list:token_seq\titem_id:token\n0\t0 2\t3\n1\t4 1\t5\n"
    )
    with pytest.raises(DataFormatError, match=r"Toy.test.inter, line 2: user '0'.*validation row"):
        load_recbole(folder)


def test_plain_inter_item_and_user_files(tmp_path: Path) -> None:
    (tmp_path / "ml.inter").write_text(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t10\t4\t881250949\n2\t10\t3\t881250950\n"
        "2\t20\t5\t881250951\n"
    )
    (tmp_path / "ml.item").write_text(
        "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n10\tToy Story\t1995\tAnimation "
        "Comedy\n20\tHeat\t1995\tCrime\n30\tUnseen\t\t\n"
    )
    (tmp_path / "ml.user").write_text("user_id:token\tage:token\n1\t24\n2\t53\n3\t23\n")
    ds = load_recbole(tmp_path)
    assert ds.split is None and ds.name == "ml"
    assert ds.interactions.user_ids == ("1", "2", "3")  # user 3 has no interaction but keeps an id
    assert ds.interactions.item_ids == ("10", "20", "30")
    assert ds.interactions.rating is not None and ds.interactions.rating.tolist() == [4.0, 3.0, 5.0]
    assert ds.interactions.timestamp is not None and ds.interactions.timestamp[0] == 881250949
    toy = ds.catalog[0]
    assert (toy.title, toy.year, toy.genres) == ("Toy Story", 1995, ("Animation", "Comedy"))
    assert ds.catalog[2].title == "Unseen" and ds.catalog[2].year is None


def test_bad_atomic_files(tmp_path: Path) -> None:
    (tmp_path / "x.inter").write_text("user_id\titem_id\n1\t2\n")
    with pytest.raises(DataFormatError, match="name:type"):
        load_recbole(tmp_path)
    (tmp_path / "x.inter").write_text("user_id:token\tthing:token\n1\t2\n")
    with pytest.raises(DataFormatError, match=r"missing field\(s\) \['item_id'\]"):
        load_recbole(tmp_path)
    (tmp_path / "x.inter").write_text("user_id:token\titem_id:token\n")
    with pytest.raises(DataFormatError, match="no interactions"):
        load_recbole(tmp_path)
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_recbole(tmp_path / "missing")


def test_category_levels_are_learned_from_the_whole_file() -> None:
    paths = [
        "Root & Co Lab Products Lab Instruments & Equipment Pipettes",
        "Root & Co Lab Products Lab Instruments & Equipment Microscopes",
        "Root & Co Lab Products Lab Supplies Beakers",
        "Root & Co Lab Products",
        "Root & Co Fasteners Nuts Hex Nuts",
        "Root & Co Fasteners",
        "",
    ]
    levels = category_levels(paths)
    assert levels[0] == ("Root & Co", "Lab Products", "Lab Instruments & Equipment", "Pipettes")
    assert levels[3] == ("Root & Co", "Lab Products")
    assert levels[4] == ("Root & Co", "Fasteners", "Nuts", "Hex Nuts")
    assert levels[6] == ()
    assert level_stats(levels)["levels>=3"] == 4


def test_product_text_without_enough_sentences() -> None:
    (only,) = split_product_texts(["Just a title"])
    assert (only.title, only.category, only.brand) == ("Just a title", "", "")


def test_amazon_scientific_is_a_built_in_dataset(shared_data: Path) -> None:
    if not (shared_data / "amazon-scientific").is_dir():
        pytest.skip("amazon-scientific not in the shared data")
    ds = load_dataset("amazon-scientific", shared_data)
    sp = ds.split
    assert sp is not None and sp.valid is not None
    assert (ds.num_users, ds.num_items, len(ds.interactions)) == (2928, 1585, 19712)
    assert (len(sp.train), len(sp.valid), len(sp.test)) == (19712 - 2 * 2928, 2928, 2928)
    # The test rows' history + target is each user's whole sequence, in order: train, valid, test.
    rows = [
        line.split("\t")
        for line in (shared_data / "amazon-scientific" / "Scientific.test.inter").read_text().splitlines()[1:4]
    ]
    raw = {
        int(v): k
        for k, v in (
            ln.split("\t")
            for ln in (shared_data / "amazon-scientific" / "Scientific.item2index").read_text().splitlines()
        )
    }
    user_raw = [
        ln.split("\t")[0]
        for ln in (shared_data / "amazon-scientific" / "Scientific.user2index").read_text().splitlines()
    ]
    for user, hist, target in rows:
        seq = [raw[int(i)] for i in [*hist.split(), target]]
        uid = user_raw[int(user)]
        assert _items_of(sp.train, uid) + _items_of(sp.valid, uid) + _items_of(sp.test, uid) == seq
    glue = ds.catalog[ds.catalog.id_to_index["B0000223UV"]]
    assert glue.title == "Gorilla Original Gorilla Glue, Waterproof Polyurethane Glue, 8 ounce Bottle, Brown"
    assert glue.attributes["brand"] == "Gorilla"
    assert glue.attributes["category"] == (
        "Industrial & Scientific",
        "Tapes, Adhesives & Sealants",
        "Urethane Adhesives",
    )
    caulk = ds.catalog[ds.catalog.id_to_index["B00002ND6L"]]
    assert caulk.attributes["category"] == (
        "Industrial & Scientific",
        "Tapes, Adhesives & Sealants",
        "Caulk",
        "Latex Caulk",
    )
    assert all(not it.genres for it in ds.catalog.items)
    stats = level_stats([tuple(it.attributes.get("category", ())) for it in ds.catalog.items])
    # Measured: 1,541 items with a category path, 1,501 of them with >= 2 levels below the root.
    assert stats["with_category"] == 1541 and stats["levels>=3"] >= 1450
    assert sum(1 for it in ds.catalog.items if it.attributes.get("brand")) == 1580  # 5 texts name no brand
    assert np.unique(ds.interactions.item_index).size == 1585
