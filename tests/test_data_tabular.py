"""Generic tabular loader: CSV / TSV / Parquet, configurable columns, items table as item text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from agentrec.data import fingerprint
from agentrec.data.loaders import load_tabular
from agentrec.types import Interactions


def _write(tmp_path: Path) -> tuple[Path, Path]:
    events = tmp_path / "events.csv"
    events.write_text("user,item,score,time\n10,b,4.5,2024-01-02\n2,a,3,2024-01-01T12:00:00Z\n10,a,5,2024-01-03\n")
    items = tmp_path / "items.tsv"
    items.write_text(
        "id\ttitle\tgenres\treleased\tdescription\tauthor\n"
        "a\tApple Pie\tBaking|Dessert\t1999-05-01\tA classic pie.\tAnn\n"
        "b\tBread\tBaking\t2005\tSourdough loaf.\t\n"
        "c\tCake\t\t\t\tCid\n"
    )
    return events, items


def test_csv_with_items_table(tmp_path: Path) -> None:
    events, items = _write(tmp_path)
    ds = load_tabular(events, user_col="user", item_col="item", rating_col="score", timestamp_col="time",
                      items_path=items, item_id_col="id", genre_col="genres", year_col="released")  # fmt: skip
    inter = ds.interactions
    assert inter.user_ids == ("2", "10")  # numeric ids sort numerically
    assert inter.item_ids == ("a", "b", "c")  # items-table order; c has no interaction but is in the catalogue
    assert ds.name == "events"
    assert inter.rating is not None and inter.rating.tolist() == [4.5, 3.0, 5.0]
    assert inter.timestamp is not None
    assert inter.timestamp.tolist() == [1704153600, 1704110400, 1704240000]
    apple = ds.catalog[0]
    assert (apple.title, apple.year, apple.genres) == ("Apple Pie", 1999, ("Baking", "Dessert"))
    assert apple.overview == "A classic pie."  # "description" is picked up as item text automatically
    assert apple.attributes == {"author": "Ann"}
    assert ds.catalog[1].year == 2005 and ds.catalog[1].attributes == {}
    assert ds.catalog[2].genres == () and ds.catalog[2].overview == ""


def test_explicit_text_columns_and_separator(tmp_path: Path) -> None:
    events = tmp_path / "events.txt"
    events.write_text("u;i\nx;1\ny;2\n")
    items = tmp_path / "items.txt"
    items.write_text("i;name;a;b\n1;One;first;uno\n2;Two;second;dos\n")
    ds = load_tabular(events, user_col="u", item_col="i", items_path=items, title_col="name", text_cols=["b", "a"],
                      sep=";")  # fmt: skip
    assert ds.catalog[0].overview == "uno first"
    assert ds.catalog[1].title == "Two"
    assert ds.interactions.rating is None and ds.interactions.timestamp is None


def test_parquet_without_items(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    pd.DataFrame({"user_id": ["u1", "u2", "u1"], "item_id": [30, 4, 4], "ts": [5, 6, 7]}).to_parquet(path)
    ds = load_tabular(path, timestamp_col="ts")
    assert ds.interactions.item_ids == ("4", "30")
    assert [it.title for it in ds.catalog.items] == ["Item 4", "Item 30"]
    assert ds.interactions.timestamp is not None and ds.interactions.timestamp.tolist() == [5, 6, 7]


def test_repeated_rows_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("user_id,item_id\n1,a\n1,a\n2,a\n")
    assert len(load_tabular(path).interactions) == 3


def test_same_column_twice_rejected(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("user_id,item_id\n1,a\n")
    with pytest.raises(ValueError, match="must differ"):
        load_tabular(path, rating_col="item_id")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_tabular(tmp_path / "missing.csv")


def test_fingerprint_is_stable_and_sensitive() -> None:
    a = Interactions.from_arrays([0, 1], [1, 0], rating=[4.0, 5.0])
    b = Interactions.from_arrays(np.array([0, 1]), np.array([1, 0]), rating=[4.0, 5.0])
    assert fingerprint(a) == fingerprint(b) and len(fingerprint(a)) == 16
    assert fingerprint(a) != fingerprint(Interactions.from_arrays([0, 1], [1, 0], rating=[4.0, 4.5]))
    assert fingerprint(a) != fingerprint(Interactions.from_arrays([0, 1], [1, 0]))
    assert fingerprint(a) != fingerprint(Interactions.from_arrays([0, 1], [1, 0], rating=[4.0, 5.0], num_items=3))
