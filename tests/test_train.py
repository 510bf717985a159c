from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from agentrec.device import resolve_device
from agentrec.graph import build_graph
from agentrec.models.lightgcn import LightGCN, LightGCNConfig
from agentrec.train import TrainConfig, TrainHistory, fit
from agentrec.types import Interactions, Split


def _split(train: Interactions) -> Split:
    # Held-out: user 0 likes item 2 (removed from train), user 4 item 5.
    keep = ~(((train.user_index == 0) & (train.item_index == 2)) | ((train.user_index == 4) & (train.item_index == 5)))
    test = train.subset(~keep)
    return Split(train=train.subset(keep), test=test, valid=test)


def _cfg(**kw: object) -> TrainConfig:
    base: dict[str, object] = dict(
        epochs=6, batch_size=8, lr=0.05, eval_k=3, eval_every=2, show_progress=False, device="cpu"
    )
    base.update(kw)
    return TrainConfig(**base)  # type: ignore[arg-type]


def test_fit_records_history_and_uses_validation(tiny_interactions: Interactions) -> None:
    split = _split(tiny_interactions)
    model = LightGCN(build_graph(split.train), LightGCNConfig(embedding_dim=8))
    seen: list[int] = []
    hist = fit(model, split, _cfg(), callback=lambda epoch, info: seen.append(epoch))
    assert isinstance(hist, TrainHistory)
    assert hist.epochs == list(range(6)) == seen
    assert len(hist.loss) == len(hist.epoch_seconds) == len(hist.wall_seconds) == 6
    assert hist.loss[-1] < hist.loss[0]
    assert hist.eval_part == "valid" and [e["epoch"] for e in hist.evals] == [1, 3, 5]
    assert hist.best_epoch is not None and hist.best_value is not None
    assert hist.time_to("recall@3", 0.0) == hist.evals[0]["wall_s"]
    assert hist.time_to("recall@3", 2.0) is None
    assert hist.to_dict()["metric"] == "recall@3"


def test_same_seed_same_model(tiny_interactions: Interactions) -> None:
    split = _split(tiny_interactions)
    scores = []
    for _ in range(2):
        model = LightGCN(build_graph(split.train), LightGCNConfig(embedding_dim=4, seed=3))
        fit(model, split, _cfg(epochs=2, loss="softmax", num_negatives=2, cl_weight=0.1, seed=7))
        scores.append(model.score(np.arange(8)))
    torch.testing.assert_close(scores[0], scores[1])


def test_early_stopping_and_time_budget(tiny_interactions: Interactions) -> None:
    split = _split(tiny_interactions)
    model = LightGCN(build_graph(split.train), LightGCNConfig(embedding_dim=4))
    hist = fit(model, split, _cfg(epochs=200, eval_every=1, patience=2, lr=1e-9))
    assert hist.stopped == "early_stopping" and len(hist.epochs) < 200
    model = LightGCN(build_graph(split.train), LightGCNConfig(embedding_dim=4))
    hist = fit(model, split, _cfg(epochs=100000, time_budget_s=0.3, lr_schedule="cosine", warmup_steps=2))
    assert hist.stopped == "time_budget" and hist.evals  # a final evaluation happens
    assert hist.lr[-1] < 0.05


def test_checkpoints_and_resume(tiny_interactions: Interactions, tmp_path: Path) -> None:
    split = _split(tiny_interactions)
    g = build_graph(split.train)
    full = LightGCN(g, LightGCNConfig(embedding_dim=4))
    fit(full, split, _cfg(epochs=4, restore_best=False, checkpoint_dir=tmp_path / "a"))
    assert (tmp_path / "a" / "best.pt").is_file() and (tmp_path / "a" / "last.pt").is_file()
    # Train 2 epochs, then resume for 2 more: same weights as 4 epochs straight.
    part = LightGCN(g, LightGCNConfig(embedding_dim=4))
    fit(part, split, _cfg(epochs=2, restore_best=False, checkpoint_dir=tmp_path / "b"))
    resumed = LightGCN(g, LightGCNConfig(embedding_dim=4))
    hist = fit(resumed, split, _cfg(epochs=4, restore_best=False, checkpoint_dir=tmp_path / "b", resume=True))
    assert hist.epochs == [0, 1, 2, 3]
    torch.testing.assert_close(resumed.score(np.arange(8)), full.score(np.arange(8)))
    best = LightGCN.load(tmp_path / "a" / "best.pt", g)
    assert best.num_items == 7
    other = LightGCN(build_graph(tiny_interactions), LightGCNConfig(embedding_dim=4))
    with pytest.raises(ValueError, match="fingerprint"):
        fit(other, Split(train=tiny_interactions, test=split.test), _cfg(checkpoint_dir=tmp_path / "b", resume=True))


def test_bad_configs_and_splits(tiny_interactions: Interactions) -> None:
    split = _split(tiny_interactions)
    model = LightGCN(build_graph(split.train), LightGCNConfig(embedding_dim=4))
    with pytest.raises(ValueError, match="loss must be one of"):
        fit(model, split, _cfg(loss="hinge"))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        fit(model, split, _cfg(batch_size=0))
    with pytest.raises(ValueError, match="user_balance must be in"):
        fit(model, split, _cfg(loss="full", user_balance=1.5))
    with pytest.raises(ValueError, match="resume=True needs checkpoint_dir"):
        fit(model, split, _cfg(resume=True))
    no_valid = Split(train=split.train, test=split.test)
    with pytest.raises(ValueError, match="pass eval_part='test'"):
        fit(model, no_valid, _cfg(eval_part="valid"))
    with pytest.raises(ValueError, match="not the data the model's graph was built from"):
        fit(model, Split(train=tiny_interactions, test=split.test), _cfg())


def test_device_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(ValueError, match="device must be one of"):
        resolve_device("tpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available.*--device cpu"):
        resolve_device("cuda")
    assert resolve_device("auto") == torch.device("cpu")


def test_fit_with_cuda_missing_raises(tiny_interactions: Interactions, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    split = _split(tiny_interactions)
    model = LightGCN(build_graph(split.train), LightGCNConfig(embedding_dim=4))
    with pytest.raises(ValueError, match="'cuda' was asked for but CUDA is not available"):
        fit(model, split, _cfg(device="cuda"))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_trains_on_cuda(tiny_interactions: Interactions) -> None:
    split = _split(tiny_interactions)
    model = LightGCN(build_graph(split.train), LightGCNConfig(embedding_dim=4))
    hist = fit(model, split, _cfg(device="cuda", loss="softmax", num_negatives=2))
    assert hist.device.startswith("cuda") and model.score(np.arange(8)).device.type == "cpu"
