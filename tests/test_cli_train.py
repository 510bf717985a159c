from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from agentrec.cli import main


@pytest.fixture(autouse=True)
def _one_thread():
    # Tiny graphs gain nothing from threads, and on a busy machine torch's thread pool spin-waits;
    # restore the setting afterwards (fit(num_threads=...) and --threads change it process-wide).
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_unknown_model_lists_the_valid_ones(capsys, tmp_path) -> None:
    code = main(["train", "--dataset", "ml-latest-small", "--model", "svd", "--artifacts-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert "unknown model 'svd'" in err
    assert "popularity, mf-bpr, text-knn, lightgcn, text-lightgcn, gat, graph-filter" in err


def test_bad_split_and_loss(capsys, tmp_path) -> None:
    base = ["train", "--dataset", "ml-latest-small", "--model", "popularity", "--artifacts-dir", str(tmp_path)]
    assert main([*base, "--loss", "hinge"]) == 1
    assert "--loss must be bpr, softmax or full, got 'hinge'" in capsys.readouterr().err
    assert main([*base, "--split", "weird", "--device", "cpu"]) == 1
    assert "--split must be one of auto, random, cold" in capsys.readouterr().err
    assert main([*base, "--option", "id_dropout"]) == 1
    assert "--option must look like KEY=VALUE" in capsys.readouterr().err
    assert main([*base, "--then-loss", "hinge"]) == 1
    assert "--then-loss must be bpr, softmax or full, got 'hinge'" in capsys.readouterr().err
    assert main([*base, "--then-loss", "bpr", "--resume"]) == 1
    assert "drop --then-loss or --resume" in capsys.readouterr().err


def test_missing_checkpoint(capsys, tmp_path) -> None:
    code = main(["evaluate", "--checkpoint", str(tmp_path / "nope.pt")])
    assert code == 1
    assert "nope.pt' does not exist" in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda(capsys, tmp_path) -> None:
    code = main(
        ["train", "--dataset", "ml-latest-small", "--model", "lightgcn", "--device", "cuda"]
        + ["--artifacts-dir", str(tmp_path)]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "CUDA is not available" in err and "--device cpu" in err


@pytest.mark.data
def test_train_then_evaluate_on_movielens(capsys, tmp_path, shared_data: Path) -> None:
    out = tmp_path / "run"
    common = ["--data-dir", str(shared_data), "--artifacts-dir", str(tmp_path / "art")]
    code = main(
        ["train", "--dataset", "ml-latest-small", "--model", "mf-bpr", "--split", "random", "--epochs", "2"]
        + ["--eval-every", "1", "--threads", "1", "--no-progress", "--out", str(out), "--option", "init_std=0.05"]
        + common
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    ckpt, curve, record_file = out / "mf-bpr.pt", out / "mf-bpr.png", out / "mf-bpr.json"
    assert ckpt.is_file() and record_file.is_file()
    assert curve.read_bytes()[:4] == b"\x89PNG"
    assert (out / "mf-bpr-state" / "last.pt").is_file()  # what --resume continues from
    record = json.loads(record_file.read_text())
    assert record["dataset"] == "ml-latest-small" and record["split"] == "random"
    assert len(record["history"]["loss"]) == 2
    assert torch.load(ckpt, weights_only=False)["config"]["init_std"] == 0.05
    recall = record["test_metrics"]["recall@20"]
    assert 0.0 < recall < 1.0
    assert f"recall@20          {recall:.4f}" in printed

    # evaluate reads the dataset and split from the .json next to the checkpoint: same numbers.
    assert main(["evaluate", "--checkpoint", str(ckpt), *common]) == 0
    assert f"recall@20          {recall:.4f}" in capsys.readouterr().out

    # The same checkpoint against another split of the data is refused (fingerprint mismatch).
    assert main(["evaluate", "--checkpoint", str(ckpt), "--split", "cold", *common]) == 1
    assert "different dataset" in capsys.readouterr().err


@pytest.mark.data
def test_popularity_needs_no_training(capsys, tmp_path, shared_data: Path) -> None:
    out = tmp_path / "run"
    code = main(
        ["train", "--dataset", "ml-latest-small", "--model", "popularity", "--out", str(out)]
        + ["--data-dir", str(shared_data), "--artifacts-dir", str(tmp_path / "art"), "--k", "10"]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "recall@10" in printed and "tail_recall@10" in printed
    assert (out / "popularity.pt").is_file() and not (out / "popularity.png").exists()
    assert json.loads((out / "popularity.json").read_text())["history"] is None


@pytest.mark.data
def test_two_stage_training(capsys, tmp_path, shared_data: Path) -> None:
    out = tmp_path / "run"
    code = main(
        ["train", "--dataset", "ml-latest-small", "--model", "lightgcn", "--split", "random", "--loss", "full"]
        + ["--temperature", "1", "--epochs", "2", "--batch-size", "256", "--eval-every", "1", "--threads", "1"]
        + ["--then-loss", "bpr", "--then-epochs", "1", "--then-hard-negatives", "4", "--then-lr", "1e-3"]
        + ["--no-progress", "--out", str(out), "--data-dir", str(shared_data), "--artifacts-dir", str(tmp_path / "a")]
    )
    assert code == 0, capsys.readouterr()
    history = json.loads((out / "lightgcn.json").read_text())["history"]
    assert history["epochs"] == [0, 1, 2] and len(history["evals"]) == 3
    assert (out / "lightgcn-state" / "last.pt").is_file() and (out / "lightgcn-state-2" / "last.pt").is_file()
