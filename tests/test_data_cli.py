"""``agentrec data info`` / ``agentrec data prepare`` driven through ``agentrec.cli.main``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentrec.cli import main


@pytest.mark.data
def test_info_known_dataset(shared_data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("AGENTREC_DATA_DIR", str(shared_data))
    assert main(["data", "info", "--dataset", "ml-latest-small", "--no-enrich"]) == 0
    out = capsys.readouterr().out
    expected = {"users": "610", "items": "9,742", "interactions": "100,836", "density": "0.016968",
                "rating min": "0.5", "rating max": "5.0", "split": "random"}  # fmt: skip
    for label, value in expected.items():
        line = f"{label + ':':<26}{value}"
        assert line in out
    assert "split train:" in out and "split valid:" in out and "split test:" in out


@pytest.mark.data
def test_info_data_dir_overrides_env_and_json(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("AGENTREC_DATA_DIR", str(tmp_path))  # nothing there
    assert main(["data", "info", "--dataset", "ml-100k", "--no-download"]) == 1
    assert "dataset 'ml-100k' not found" in capsys.readouterr().err
    args = ["data", "info", "--dataset", "ml-100k", "--data-dir", str(shared_data), "--split", "cold", "--json"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["users"], report["items"], report["interactions"]) == (943, 1682, 100_000)
    assert report["split"] == "cold" and report["split_cold_items"] == 168
    assert report["split_train"] + report["split_valid"] + report["split_test"] == 100_000


def test_unknown_dataset_lists_known(capsys: pytest.CaptureFixture) -> None:
    assert main(["data", "info", "--dataset", "movielens"]) == 1
    err = capsys.readouterr().err
    assert "unknown dataset 'movielens'" in err and "'ml-latest-small'" in err and "'gowalla'" in err
    assert "spec file (.toml)" in err  # and how to bring your own


def test_missing_dataset_argument(capsys: pytest.CaptureFixture) -> None:
    assert main(["data", "info"]) == 1
    assert "--dataset is required" in capsys.readouterr().err
    assert main(["data"]) == 2


def test_prepare_own_data(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    events = tmp_path / "events.tsv"
    events.write_text(
        "who\twhat\tstars\twhen\n"
        + "".join(
            f"u{u}\tb{b}\t{1 + (u + b) % 5}\t2024-01-{1 + b:02d}\n" for u in range(6) for b in range(5)
        )  # fmt: skip
    )
    books = tmp_path / "books.csv"
    books.write_text(
        "book,name,blurb,subjects\n" + "".join(f"b{b},Book {b},About {b},Fiction|Drama\n" for b in range(6))
    )
    args = ["data", "prepare", "--interactions", str(events), "--user-col", "who", "--item-col", "what",
            "--rating-col", "stars", "--timestamp-col", "when", "--items", str(books), "--item-id-col", "book",
            "--title-col", "name", "--text-cols", "blurb", "--genre-col", "subjects", "--name", "books",
            "--artifacts-dir", str(tmp_path / "art"), "--split", "temporal", "--json"]  # fmt: skip
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["name"], report["users"], report["items"], report["interactions"]) == ("books", 6, 6, 30)
    assert (report["split_test"], report["split_valid"], report["split_train"]) == (6, 6, 18)
    assert Path(report["path"]).parent == tmp_path / "art" / "books" / "data"
    assert (Path(report["path"]) / "items.parquet").is_file()


def test_both_sources_rejected(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "e.csv").write_text("user_id,item_id\n1,2\n")
    assert main(["data", "info", "--dataset", "ml-100k", "--interactions", str(tmp_path / "e.csv")]) == 1
    assert "not both" in capsys.readouterr().err
