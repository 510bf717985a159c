"""Dataset spec files and register_dataset: any catalogue by name or path, with clear errors and honest caching."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentrec.cli import main
from agentrec.data import (
    DataFormatError,
    DatasetSpec,
    prepare_dataset,
    register_dataset,
    resolve_dataset,
)
from agentrec.data.loaders import load_tabular
from agentrec.data.spec import SPEC_FILE

_SPEC = """
name = "books"
format = "tabular"
pack = "generic"

[files]
interactions = "events.csv"
items = "books.csv"

[columns]
user = "user"
item = "book"
timestamp = "when"
item_id = "book"
title = "name"
text = ["blurb"]
{split}
[facets]
brand = {{ kind = "categorical" }}
"""


def _files(folder: Path, split: str = '\n[split]\nkind = "temporal"\nvalid_fraction = 0.0\n') -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rows = ["user,book,when"] + [f"u{u},b{(u + k) % 6},{1000 + 10 * k}" for u in range(5) for k in range(4)]
    (folder / "events.csv").write_text("\n".join(rows) + "\n")
    (folder / "books.csv").write_text(
        "book,name,blurb,other\n"
        + "".join(f"b{i},Book {{F.B.R}} {i},A <b>story</b> about **{i}**,x{i}\n" for i in range(6))
    )
    spec = folder / "books.toml"
    spec.write_text(_SPEC.format(split=split))
    return spec


def test_a_spec_file_prepares_with_its_own_split(tmp_path: Path) -> None:
    spec_path = _files(tmp_path / "data")
    prepared = prepare_dataset(spec_path, artifacts_dir=tmp_path / "art")
    assert prepared.name == "books" and prepared.split.name == "temporal"
    assert "from the dataset spec" in prepared.split_note
    assert len(prepared.split.test) == 5 and prepared.split.valid is None
    item = prepared.dataset.catalog[0]
    assert item.title == "Book {F.B.R} 0" and item.overview == "A <b>story</b> about **0**"
    assert item.attributes == {"other": "x0"}
    recorded = json.loads((tmp_path / "art" / "books" / SPEC_FILE).read_text())
    assert recorded["facets"] == {"brand": {"kind": "categorical"}} and recorded["pack"] == "generic"
    # Later, the bare name and the artifacts folder find the same catalogue.
    by_name, _ = resolve_dataset("books", tmp_path / "art")
    by_folder, root = resolve_dataset(str(tmp_path / "art" / "books"))
    assert isinstance(by_name, DatasetSpec) and isinstance(by_folder, DatasetSpec) and root == tmp_path / "art"
    assert prepare_dataset("books", artifacts_dir=tmp_path / "art").path == prepared.path


def test_leaving_out_the_split_says_which_default_was_used(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    spec_path = _files(tmp_path / "data", split="")
    with caplog.at_level("INFO", logger="agentrec.data.prepare"):
        prepared = prepare_dataset(spec_path, artifacts_dir=tmp_path / "art")
    assert prepared.split.name == "random"
    assert "default: no split was given" in prepared.split_note
    assert "default: no split was given" in caplog.text


def test_data_info_reports_the_split_and_its_origin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec_path = _files(tmp_path / "data", split="")
    assert main(["data", "info", "--dataset", str(spec_path)]) == 0
    out = capsys.readouterr().out
    assert "split:" in out and "random per-user hold-out (default: no split was given" in out
    assert main(["data", "info", "--dataset", str(spec_path), "--split", "temporal", "--valid-fraction", "0"]) == 0
    assert "temporal (asked for)" in capsys.readouterr().out


def test_register_dataset_by_name(tmp_path: Path) -> None:
    spec_path = _files(tmp_path / "data")
    spec = register_dataset("my-books", spec_path)
    assert spec.name == "my-books"
    prepared = prepare_dataset("my-books", artifacts_dir=tmp_path / "art")
    assert prepared.name == "my-books" and prepared.split.name == "temporal"


def test_changing_the_text_columns_gives_a_new_catalogue(tmp_path: Path) -> None:
    spec_path = _files(tmp_path / "data")
    first = prepare_dataset(spec_path, artifacts_dir=tmp_path / "art")
    spec_path.write_text(spec_path.read_text().replace('text = ["blurb"]', 'text = ["other"]'))
    second = prepare_dataset(spec_path, artifacts_dir=tmp_path / "art")
    assert first.dataset.catalog[0].overview == "A <b>story</b> about **0**"
    assert second.dataset.catalog[0].overview == "x0" and second.path != first.path
    # The same holds for a Dataset loaded in Python: the cache keys on the whole catalogue, not the interactions.
    data = tmp_path / "data"
    kwargs = {"user_col": "user", "item_col": "book", "items_path": data / "books.csv", "title_col": "name"}
    a = prepare_dataset(load_tabular(data / "events.csv", text_cols=["blurb"], **kwargs), artifacts_dir=tmp_path / "x")
    b = prepare_dataset(load_tabular(data / "events.csv", text_cols=["other"], **kwargs), artifacts_dir=tmp_path / "x")
    assert a.dataset.catalog[0].overview != b.dataset.catalog[0].overview == "x0"


def test_a_changed_items_file_is_noticed(tmp_path: Path) -> None:
    spec_path = _files(tmp_path / "data")
    prepare_dataset(spec_path, artifacts_dir=tmp_path / "art")
    books = tmp_path / "data" / "books.csv"
    books.write_text(books.read_text().replace("x0", "a much longer other text"))
    again = prepare_dataset(spec_path, artifacts_dir=tmp_path / "art")
    assert again.dataset.catalog[0].attributes["other"] == "a much longer other text"


def test_bad_specs_say_what_to_fix(tmp_path: Path) -> None:
    spec_path = _files(tmp_path / "data")
    text = spec_path.read_text()
    spec_path.write_text(text.replace('title = "name"', 'title = "headline"'))
    with pytest.raises(DataFormatError, match=r"missing column\(s\) \['headline'\].*Fix \[columns\]"):
        prepare_dataset(spec_path, artifacts_dir=tmp_path / "art")
    spec_path.write_text(text.replace('items = "books.csv"', 'items = "nope.csv"'))
    with pytest.raises(FileNotFoundError, match=r"\[files\] items: the file .*nope.csv does not exist"):
        prepare_dataset(spec_path, artifacts_dir=tmp_path / "art")
    spec_path.write_text(text.replace('format = "tabular"', 'format = "excel"'))
    with pytest.raises(ValueError, match=r"format must be one of \['tabular', 'recbole'\]"):
        prepare_dataset(spec_path, artifacts_dir=tmp_path / "art")
    spec_path.write_text(text.replace("[columns]", "[colums]"))
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['colums'\]"):
        prepare_dataset(spec_path, artifacts_dir=tmp_path / "art")
    spec_path.write_text(text.replace('user = "user"', 'usr = "user"'))
    with pytest.raises(ValueError, match=r"\[columns\] has unknown key\(s\) \['usr'\].*valid keys"):
        prepare_dataset(spec_path, artifacts_dir=tmp_path / "art")
    spec_path.write_text(text.replace('name = "books"', 'name = "gowalla"'))
    with pytest.raises(ValueError, match="is a built-in dataset; give your catalogue another name"):
        prepare_dataset(spec_path, artifacts_dir=tmp_path / "art")
    spec_path.write_text("format = [")
    with pytest.raises(ValueError, match="not valid TOML"):
        prepare_dataset(spec_path, artifacts_dir=tmp_path / "art")


def test_an_empty_catalogue_is_a_clear_error(tmp_path: Path) -> None:
    spec_path = _files(tmp_path / "data")
    (tmp_path / "data" / "events.csv").write_text("user,book,when\n")
    with pytest.raises(DataFormatError, match="events.csv: the file has no data rows"):
        prepare_dataset(spec_path, artifacts_dir=tmp_path / "art")
    _files(tmp_path / "data")
    (tmp_path / "data" / "books.csv").write_text("book,name,blurb,other\n")
    with pytest.raises(DataFormatError, match="books.csv: the file has no data rows"):
        prepare_dataset(spec_path, artifacts_dir=tmp_path / "art")


def test_unknown_references_list_what_is_accepted(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown dataset 'nothing'.*spec file \(.toml\).*register_dataset"):
        resolve_dataset("nothing", tmp_path)
    with pytest.raises(ValueError, match="is not a directory or a spec file"):
        resolve_dataset(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_dataset(str(tmp_path / "missing.toml"))
    (tmp_path / "plain").mkdir()
    with pytest.raises(ValueError, match="is not the artifacts folder of a dataset"):
        resolve_dataset(str(tmp_path / "plain"))


def test_a_recbole_spec(tmp_path: Path) -> None:
    folder = tmp_path / "rb"
    folder.mkdir()
    (folder / "shop.inter").write_text(
        "user_id:token\titem_id:token\ttimestamp:float\n"
        + "".join(f"u{u}\ti{(u + k) % 4}\t{k}\n" for u in range(4) for k in range(3))
    )
    (folder / "shop.item").write_text(
        "item_id:token\ttitle:token_seq\n" + "".join(f"i{i}\tThing {i}\n" for i in range(4))
    )
    spec = tmp_path / "shop.toml"
    spec.write_text(
        'format = "recbole"\n[files]\nfolder = "rb"\n[options]\ndataset = "shop"\n[split]\nkind = "temporal"\n'
    )
    prepared = prepare_dataset(spec, artifacts_dir=tmp_path / "art")
    assert prepared.name == "shop" and prepared.split.name == "temporal"
    assert prepared.dataset.catalog[0].title == "Thing 0"
