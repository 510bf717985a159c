"""Bad input: each case gets a clear error naming the file, the line and what was expected; with
strict=False a counted skip reported as a warning. Nothing is dropped silently."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from agentrec.data import DataFormatError, DataWarning, load_dataset
from agentrec.data.loaders import load_lightgcn_split, load_ml1m, load_ml100k, load_movielens, load_tabular

RATINGS = "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,2,3.5,964981247\n2,1,5.0,964982224\n"
MOVIES = 'movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n2,"Heat, The (1995)",Action|Crime\n'


def _movielens(root: Path, ratings: str | bytes = RATINGS, movies: str | bytes = MOVIES) -> Path:
    folder = root / "ml-mini"
    folder.mkdir(exist_ok=True)
    for name, content in (("ratings.csv", ratings), ("movies.csv", movies)):
        data = content.encode() if isinstance(content, str) else content
        (folder / name).write_bytes(data)
    return folder


def test_good_mini_movielens_crlf(tmp_path: Path) -> None:
    folder = _movielens(tmp_path, RATINGS.replace("\n", "\r\n"), MOVIES.replace("\n", "\r\n"))
    ds = load_movielens(folder)
    assert (ds.num_users, ds.num_items, len(ds.interactions)) == (2, 2, 3)
    assert ds.catalog[1].title == "Heat, The" and ds.catalog[1].year == 1995
    assert ds.catalog[1].genres == ("Action", "Crime")


def test_malformed_row_names_file_and_line(tmp_path: Path) -> None:
    folder = _movielens(tmp_path, RATINGS + "2,2,3.0\n" + "3,1,1.0,964982224\n")
    with pytest.raises(DataFormatError) as info:
        load_movielens(folder)
    err = info.value
    assert err.path == folder / "ratings.csv" and err.line == 5
    assert "found 3 field(s)" in str(err) and "4 comma-separated fields" in str(err)
    with pytest.warns(DataWarning, match=r"skipped 1 malformed row"):
        ds = load_movielens(folder, strict=False)
    assert len(ds.interactions) == 4  # the good row after the bad one is kept


def test_too_many_fields(tmp_path: Path) -> None:
    folder = _movielens(tmp_path, RATINGS + "2,2,3.0,964982224,extra\n")
    with pytest.raises(DataFormatError, match=r"ratings.csv, line 5: found 5 field\(s\)"):
        load_movielens(folder)


def test_missing_or_misnamed_column(tmp_path: Path) -> None:
    folder = _movielens(tmp_path, RATINGS.replace("userId", "user"))
    with pytest.raises(DataFormatError, match=r"ratings.csv, line 1: missing column\(s\) \['userId'\]") as info:
        load_movielens(folder)
    assert "'user'" in str(info.value)  # shows what the header has
    with pytest.raises(DataFormatError, match="missing column"):
        load_movielens(folder, strict=False)  # a wrong header cannot be skipped


def test_wrong_delimiter_is_recognised(tmp_path: Path) -> None:
    folder = _movielens(tmp_path, RATINGS.replace(",", ";"))
    with pytest.raises(DataFormatError, match=r"looks ';'-separated"):
        load_movielens(folder)
    # header-less format (ml-100k u.data is tab-separated) given commas
    ml = tmp_path / "ml-100k"
    ml.mkdir()
    (ml / "u.item").write_bytes(b"1|Toy Story (1995)|01-Jan-1995||http://x|" + b"|".join([b"0"] * 19) + b"\n")
    (ml / "u.data").write_text("1\t1\t4\t881250949\n1,1,4,881250949\n")
    with pytest.raises(DataFormatError, match=r"u.data, line 2: found 1 field\(s\).*looks comma-separated"):
        load_ml100k(ml)


def test_wrong_encoding(tmp_path: Path) -> None:
    movies = MOVIES.encode() + "3,Amélie (2001),Comedy\n".encode("latin-1")
    folder = _movielens(tmp_path, movies=movies)
    with pytest.raises(DataFormatError, match=r"movies.csv, line 4: byte b'\\xe9'.*not valid utf-8") as info:
        load_movielens(folder)
    assert "encoding" in str(info.value)
    with pytest.warns(DataWarning, match="skipped 1"):
        ds = load_movielens(folder, strict=False)
    assert ds.num_items == 2


@pytest.mark.parametrize("content", ["", "userId,movieId,rating,timestamp\n"])
def test_empty_files(tmp_path: Path, content: str) -> None:
    folder = _movielens(tmp_path, content)
    with pytest.raises(DataFormatError, match=r"ratings.csv: the file (is empty|has no data rows)"):
        load_movielens(folder)


def test_empty_lightgcn_file(tmp_path: Path) -> None:
    (tmp_path / "train.txt").write_text("")
    (tmp_path / "test.txt").write_text("0 1\n")
    with pytest.raises(DataFormatError, match=r"train.txt: the file is empty"):
        load_lightgcn_split(tmp_path)


def test_duplicate_item_ids(tmp_path: Path) -> None:
    folder = _movielens(tmp_path, movies=MOVIES + "1,Toy Story again (1995),Comedy\n")
    with pytest.raises(DataFormatError, match=r"movies.csv, line 4: duplicate movieId.*already on line 2"):
        load_movielens(folder)
    with pytest.warns(DataWarning, match="skipped 1"):
        ds = load_movielens(folder, strict=False)
    assert ds.catalog[0].title == "Toy Story"  # the first occurrence wins


def test_duplicate_rating_rows(tmp_path: Path) -> None:
    folder = _movielens(tmp_path, RATINGS + "1,1,2.0,964990000\n")
    with pytest.raises(DataFormatError, match=r"ratings.csv, line 5: duplicate rating .*already on line 2"):
        load_movielens(folder)


def test_duplicate_user_line_in_lightgcn(tmp_path: Path) -> None:
    (tmp_path / "train.txt").write_text("0 1 2\n1 0\n0 3\n")
    (tmp_path / "test.txt").write_text("0 0\n")
    with pytest.raises(DataFormatError, match=r"train.txt, line 3: user 0 appears on an earlier line"):
        load_lightgcn_split(tmp_path)


@pytest.mark.parametrize("bad", ["four", "", "nan"])
def test_non_numeric_rating(tmp_path: Path, bad: str) -> None:
    folder = _movielens(tmp_path, RATINGS + f"3,2,{bad},964982224\n")
    with pytest.raises(DataFormatError, match=r"ratings.csv, line 5: column 'rating'") as info:
        load_movielens(folder)
    assert "number in column 'rating'" in str(info.value)
    with pytest.warns(DataWarning, match="skipped 1"):
        ds = load_movielens(folder, strict=False)
    assert len(ds.interactions) == 3


def test_non_numeric_token_in_lightgcn(tmp_path: Path) -> None:
    (tmp_path / "train.txt").write_text("0 1 2\n1 0 x7\n2 2\n")
    (tmp_path / "test.txt").write_text("0 0\n")
    with pytest.raises(DataFormatError, match=r"train.txt, line 2: token 'x7' is not a whole number"):
        load_lightgcn_split(tmp_path)
    with pytest.warns(DataWarning, match="skipped 1"):
        ds = load_lightgcn_split(tmp_path, strict=False)
    assert ds.split is not None and len(ds.split.train) == 3


def test_rating_of_unknown_movie(tmp_path: Path) -> None:
    folder = _movielens(tmp_path, RATINGS + "2,99,4.0,964982224\n")
    with pytest.raises(DataFormatError, match=r"ratings.csv, line 5: item id '99' is not in the item file"):
        load_movielens(folder)
    with pytest.warns(DataWarning, match="skipped 1"):
        assert len(load_movielens(folder, strict=False).interactions) == 3


def test_unknown_dataset_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"dataset must be one of \[.*'gowalla'.*'ml-latest-small'.*\], got 'ml-2m'"):
        load_dataset("ml-2m", tmp_path)


def test_missing_dataset_without_download(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"dataset 'ml-100k' not found at .*AGENTREC_DATA_DIR"):
        load_dataset("ml-100k", tmp_path, download=False)
    with pytest.raises(FileNotFoundError, match="LightGCN"):
        load_dataset("gowalla", tmp_path)


def test_tabular_bad_inputs(tmp_path: Path) -> None:
    inter = tmp_path / "events.csv"
    inter.write_text("uid,iid,score\nu1,a,4\nu2,b,high\n")
    with pytest.raises(DataFormatError, match=r"missing column\(s\) \['user_id', 'item_id'\]"):
        load_tabular(inter)
    with pytest.raises(DataFormatError, match=r"events.csv, line 3: column 'score' has 'high'"):
        load_tabular(inter, user_col="uid", item_col="iid", rating_col="score")
    items = tmp_path / "items.csv"
    items.write_text("iid,title\na,Apple\na,Avocado\n")
    with pytest.raises(DataFormatError, match=r"items.csv, line 3: duplicate item id 'a', already on line 2"):
        load_tabular(inter, user_col="uid", item_col="iid", items_path=items)
    items.write_text("iid,title\na,Apple\n")
    with pytest.raises(DataFormatError, match=r"events.csv, line 3: item 'b' is not in"):
        load_tabular(inter, user_col="uid", item_col="iid", items_path=items)
    with pytest.warns(DataWarning, match="skipped 1"):
        ds = load_tabular(inter, user_col="uid", item_col="iid", items_path=items, strict=False)
    assert len(ds.interactions) == 1 and ds.catalog[0].title == "Apple"


def test_tabular_parquet_missing_column_and_nulls(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    pd.DataFrame({"user_id": ["u1", None, "u3"], "item_id": ["a", "b", "c"]}).to_parquet(path)
    with pytest.raises(DataFormatError, match=r"missing column\(s\) \['rating'\]"):
        load_tabular(path, rating_col="rating")
    with pytest.raises(DataFormatError, match=r"events.parquet: data row 2 has no value in column 'user_id'"):
        load_tabular(path)
    with pytest.warns(DataWarning, match="skipped 1"):
        assert len(load_tabular(path, strict=False).interactions) == 2


def test_ml1m_bad_row(tmp_path: Path) -> None:
    (tmp_path / "movies.dat").write_bytes("1::Toy Story (1995)::Animation\n".encode("latin-1"))
    (tmp_path / "ratings.dat").write_bytes(b"1::1::5::978300760\n1::1\n")
    with pytest.raises(DataFormatError, match=r"ratings.dat, line 2: found 2 field\(s\).*'::'-separated"):
        load_ml1m(tmp_path)


def test_tabular_bad_date_names_line(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("user_id,item_id,when\n1,a,2024-01-01\n\n2,b,yesterday\n")  # a blank line shifts the count
    with pytest.raises(DataFormatError, match=r"e.csv, line 4: column 'when' has 'yesterday'.*unix seconds or a date"):
        load_tabular(path, timestamp_col="when")
    with pytest.warns(DataWarning, match="skipped 1"):
        assert len(load_tabular(path, timestamp_col="when", strict=False).interactions) == 1
