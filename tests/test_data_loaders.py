"""Loaders on the real datasets: the published statistics must come out exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agentrec.data import load_dataset
from agentrec.data.movielens import split_title


@pytest.mark.data
def test_gowalla_published_stats(shared_data: Path) -> None:
    ds = load_dataset("gowalla", shared_data)
    assert ds.num_users == 29_858
    assert ds.num_items == 40_981
    assert ds.split is not None
    assert len(ds.split.train) == 810_128
    assert len(ds.split.test) == 217_242
    assert len(ds.interactions) == 810_128 + 217_242
    assert ds.catalog[0].item_id == "0" and ds.catalog[0].title == "Location 8975"
    assert ds.interactions.item_ids[40_980] == "40980"
    # train and test of one user never overlap in the published split
    train_keys = ds.split.train.user_index * ds.num_items + ds.split.train.item_index
    test_keys = ds.split.test.user_index * ds.num_items + ds.split.test.item_index
    assert len(np.intersect1d(train_keys, test_keys)) == 0
    assert len(np.unique(train_keys)) == len(train_keys)


@pytest.mark.data
def test_ml_latest_small_published_stats(shared_data: Path) -> None:
    ds = load_dataset("ml-latest-small", shared_data)
    assert ds.num_users == 610
    assert ds.num_items == 9_742
    assert len(ds.interactions) == 100_836
    assert ds.split is None
    inter = ds.interactions
    assert inter.rating is not None and inter.timestamp is not None
    assert float(inter.rating.min()) == 0.5 and float(inter.rating.max()) == 5.0
    assert len(np.unique(inter.item_index)) == 9_724  # 18 movies have no rating but stay in the catalogue
    toy = ds.catalog[ds.catalog.id_to_index["1"]]
    assert (toy.title, toy.year) == ("Toy Story", 1995)
    assert toy.genres == ("Adventure", "Animation", "Children", "Comedy", "Fantasy")
    assert toy.tags[0] == "pixar"
    assert toy.attributes["tmdb_id"] == "862"
    assert "toy" in toy.attributes["keywords"]
    assert "Woody" in toy.overview
    assert all(it.item_id == iid for it, iid in zip(ds.catalog.items, inter.item_ids, strict=True))
    enriched = sum(1 for it in ds.catalog.items if it.overview)
    assert enriched == 3_537  # as measured in tmdb-5000/PROVENANCE.md


@pytest.mark.data
def test_ml_latest_small_without_enrichment(shared_data: Path) -> None:
    ds = load_dataset("ml-latest-small", shared_data, enrich=False)
    assert not any(it.overview for it in ds.catalog.items)


@pytest.mark.data
def test_ml100k_published_stats(shared_data: Path) -> None:
    ds = load_dataset("ml-100k", shared_data)
    assert (ds.num_users, ds.num_items, len(ds.interactions)) == (943, 1_682, 100_000)
    assert ds.interactions.rating is not None
    assert abs(float(ds.interactions.rating.mean()) - 3.52986) < 1e-5
    toy = ds.catalog[0]
    assert (toy.item_id, toy.title, toy.year) == ("1", "Toy Story", 1995)
    assert toy.genres == ("Animation", "Children's", "Comedy")


@pytest.mark.parametrize(
    ("raw", "title", "year"),
    [
        ("Toy Story (1995)", "Toy Story", 1995),
        ("Babylon 5", "Babylon 5", None),
        ("Stranger Things (2016-)", "Stranger Things", 2016),
        ("Fawlty Towers (1975\u20131979) ", "Fawlty Towers", 1975),
        ("Big Fish (2003) ", "Big Fish", 2003),
        ("2001: A Space Odyssey (1968)", "2001: A Space Odyssey", 1968),
    ],
)
def test_split_title(raw: str, title: str, year: int | None) -> None:
    assert split_title(raw) == (title, year)


def test_ml1m_fixture_in_exact_format(tmp_path: Path) -> None:
    folder = tmp_path / "ml-1m"
    folder.mkdir()
    movies = (
        "1::Toy Story (1995)::Animation|Children's|Comedy\n"
        "2::Jumanji (1995)::Adventure|Children's|Fantasy\n"
        "3::Misérables, Les (1995)::Drama|Musical\n"
        "4::Unrated Movie (2000)::Drama\n"
    )
    (folder / "movies.dat").write_bytes(movies.encode("latin-1"))
    ratings = "1::1::5::978300760\n1::3::3::978302109\n2::1::4::978298413\n6040::2::1::956703954\n"
    (folder / "ratings.dat").write_bytes(ratings.encode("latin-1"))
    (folder / "users.dat").write_bytes(b"1::F::1::10::48067\n2::M::56::16::70072\n6040::M::25::6::11106\n")
    ds = load_dataset("ml-1m", tmp_path)
    assert (ds.num_users, ds.num_items, len(ds.interactions)) == (3, 4, 4)
    assert ds.interactions.user_ids == ("1", "2", "6040")
    assert ds.interactions.item_ids == ("1", "2", "3", "4")  # movies.dat order, unrated movie included
    les = ds.catalog[2]
    assert (les.title, les.year, les.genres) == ("Misérables, Les", 1995, ("Drama", "Musical"))
    assert ds.interactions.rating is not None and ds.interactions.rating.tolist() == [5.0, 3.0, 4.0, 1.0]
    assert ds.interactions.timestamp is not None and int(ds.interactions.timestamp[0]) == 978300760
