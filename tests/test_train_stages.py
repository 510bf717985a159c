from __future__ import annotations

import numpy as np
import pytest
import torch

from agentrec.graph import build_graph
from agentrec.models.lightgcn import LightGCN, LightGCNConfig
from agentrec.train import TrainConfig, fit
from agentrec.train_stages import fit_stages, next_stage
from agentrec.types import Interactions, Split


def _split(train: Interactions) -> Split:
    held = ((train.user_index == 0) & (train.item_index == 2)) | ((train.user_index == 4) & (train.item_index == 5))
    return Split(train=train.subset(~held), test=train.subset(held), valid=train.subset(held))


def _cfg(**kw: object) -> TrainConfig:
    base: dict[str, object] = dict(epochs=3, batch_size=8, lr=0.05, eval_k=3, eval_every=1, show_progress=False)
    base.update(kw)
    return TrainConfig(**base)  # type: ignore[arg-type]


def test_stages_join_into_one_history(tiny_interactions: Interactions) -> None:
    split = _split(tiny_interactions)
    model = LightGCN(build_graph(split.train), LightGCNConfig(embedding_dim=8))
    seen: list[tuple[int, float]] = []
    stages = [_cfg(loss="full", temperature=1.0), _cfg(loss="bpr", epochs=2, hard_negatives=4)]
    hist = fit_stages(model, split, stages, callback=lambda e, info: seen.append((e, info["wall_s"])))
    assert hist.epochs == [0, 1, 2, 3, 4] == [e for e, _ in seen]
    assert [ev["epoch"] for ev in hist.evals] == [0, 1, 2, 3, 4]
    assert hist.wall_seconds == sorted(hist.wall_seconds) == [w for _, w in seen]
    assert [ev["wall_s"] for ev in hist.evals] == sorted(ev["wall_s"] for ev in hist.evals)
    assert len(hist.loss) == len(hist.lr) == len(hist.epoch_seconds) == 5
    best = max(ev["recall@3"] for ev in hist.evals)
    assert hist.best_value == best
    assert hist.best_epoch is not None and hist.evals[hist.best_epoch]["recall@3"] == best


def test_the_best_stage_is_restored(tiny_interactions: Interactions) -> None:
    split = _split(tiny_interactions)
    g = build_graph(split.train)
    model = LightGCN(g, LightGCNConfig(embedding_dim=8, seed=1))
    first = _cfg(loss="full", temperature=1.0, epochs=6)
    # A second stage that wrecks the model (huge lr): its best is worse, so stage 1's best comes back.
    hist = fit_stages(model, split, [first, _cfg(loss="bpr", lr=50.0, epochs=2, eval_every=2)])
    ref = LightGCN(g, LightGCNConfig(embedding_dim=8, seed=1))
    ref_hist = fit(ref, split, first)
    assert hist.best_epoch is not None and hist.best_epoch < 6
    assert hist.best_value == ref_hist.best_value
    torch.testing.assert_close(model.score(np.arange(8)), ref.score(np.arange(8)))


def test_time_budget_covers_all_stages(tiny_interactions: Interactions) -> None:
    split = _split(tiny_interactions)
    model = LightGCN(build_graph(split.train), LightGCNConfig(embedding_dim=4))
    hist = fit_stages(model, split, [_cfg(epochs=100000), _cfg(epochs=5)], time_budget_s=0.3)
    assert hist.stopped == "time_budget"
    assert len(hist.epochs) < 100000


def test_bad_stages(tiny_interactions: Interactions) -> None:
    split = _split(tiny_interactions)
    model = LightGCN(build_graph(split.train), LightGCNConfig(embedding_dim=4))
    with pytest.raises(ValueError, match="at least one TrainConfig"):
        fit_stages(model, split, [])
    with pytest.raises(ValueError, match="same metric"):
        fit_stages(model, split, [_cfg(), _cfg(eval_k=5)])
    with pytest.raises(ValueError, match="resume is not supported"):
        fit_stages(model, split, [_cfg(), _cfg(resume=True, checkpoint_dir="x")])
    with pytest.raises(ValueError, match="time_budget_s must be > 0"):
        fit_stages(model, split, [_cfg()], time_budget_s=0)
    with pytest.raises(ValueError, match="hard_negatives must be >= 0"):
        fit_stages(model, split, [_cfg(hard_negatives=-1)])


def test_next_stage_keeps_what_is_not_changed() -> None:
    first = _cfg(lr=0.02, weight_decay=0.1, warmup_steps=5, time_budget_s=60.0, batch_size=1024)
    second = next_stage(first, loss="bpr", lr=None, weight_decay=1e-2, hard_negatives=32)
    assert (second.loss, second.lr, second.weight_decay, second.hard_negatives) == ("bpr", 0.02, 1e-2, 32)
    assert second.batch_size == 1024 and second.warmup_steps == 0 and second.time_budget_s is None
    assert first.loss == "bpr" and first.hard_negatives == 0  # first is left as it was (bpr is the default)


def test_a_single_stage_resumes(tiny_interactions: Interactions, tmp_path) -> None:
    """`agentrec train --resume` is one stage with resume=True: it continues from last.pt."""
    split = _split(tiny_interactions)
    model = LightGCN(build_graph(split.train), LightGCNConfig(embedding_dim=8))
    fit_stages(model, split, [_cfg(epochs=2, checkpoint_dir=tmp_path)])
    again = LightGCN(build_graph(split.train), LightGCNConfig(embedding_dim=8))
    hist = fit_stages(again, split, [_cfg(epochs=4, checkpoint_dir=tmp_path, resume=True)])
    assert hist.epochs == [0, 1, 2, 3] and len(hist.evals) == 4
