from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from agentrec.graph import build_graph
from agentrec.models.lightgcn import LightGCN, LightGCNConfig
from agentrec.train import TrainConfig, fit
from agentrec.types import Interactions, Split

FAST = dict(epochs=80, batch_size=24, lr=0.05, eval_part="none", show_progress=False, device="cpu")


def _split(train: Interactions) -> Split:
    test = Interactions.from_arrays([0, 4], [6, 6], num_users=train.num_users, num_items=train.num_items)
    return Split(train=train, test=test)


def _cluster_features() -> np.ndarray:
    """Items 0-2 and 6 share a 'sci-fi' direction, items 3-5 an 'animation' one."""
    feats = np.zeros((7, 4), dtype=np.float32)
    feats[[0, 1, 2, 6], 0] = 1.0
    feats[[3, 4, 5], 1] = 1.0
    feats[:, 2] = np.linspace(0, 0.1, 7)
    return feats


@pytest.mark.parametrize("loss", ["bpr", "softmax", "full"])
def test_learns_the_two_clusters(tiny_interactions: Interactions, loss: str) -> None:
    g = build_graph(tiny_interactions)
    model = LightGCN(g, LightGCNConfig(embedding_dim=8, similarity="dot" if loss == "bpr" else "cosine"))
    fit(model, _split(tiny_interactions), TrainConfig(loss=loss, num_negatives=3, **FAST))  # type: ignore[arg-type]
    scores = model.score(np.arange(8))
    assert scores.shape == (8, 7) and scores.dtype == torch.float32
    # Every cluster-A user ranks all cluster-A items above every cluster-B item, and vice versa.
    assert (scores[:4, :3].min(1).values > scores[:4, 3:6].max(1).values).all()
    assert (scores[4:, 3:6].min(1).values > scores[4:, :3].max(1).values).all()
    _, top = model.recommend([0, 5], k=3, exclude_seen=False)
    assert set(top[0]) == {0, 1, 2} and set(top[1]) == {3, 4, 5}


def test_recommend_excludes_seen_and_validates(tiny_interactions: Interactions) -> None:
    model = LightGCN(build_graph(tiny_interactions), LightGCNConfig(embedding_dim=4))
    _, top = model.recommend([0], k=4)
    assert not set(top[0]) & {0, 1, 2}
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 7\]"):
        model.recommend([0], k=0)
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 7\]"):
        model.recommend([0], k=8)
    with pytest.raises(ValueError, match="unknown user index 8"):
        model.recommend([8], k=2)
    with pytest.raises(ValueError, match="unknown user index -1"):
        model.score(np.array([-1]))


def test_user_without_history_gets_average_taste(tiny_interactions: Interactions) -> None:
    train = Interactions.from_arrays(
        tiny_interactions.user_index, tiny_interactions.item_index, num_users=9, num_items=7
    )  # user 8 has no history
    model = LightGCN(build_graph(train), LightGCNConfig(embedding_dim=4))
    users = model.user_embeddings()
    torch.testing.assert_close(users[8], users[:8].mean(0))
    assert torch.isfinite(model.score(np.array([8]))).all()


def test_text_aware_scores_a_never_trained_item_from_its_features(tiny_interactions: Interactions) -> None:
    g = build_graph(tiny_interactions)
    cfg = LightGCNConfig(embedding_dim=8, item_features=_cluster_features(), id_dropout=0.5, similarity="cosine")
    model = LightGCN(g, cfg)
    fit(model, _split(tiny_interactions), TrainConfig(loss="softmax", num_negatives=3, **FAST))  # type: ignore[arg-type]
    scores = model.score(np.arange(8))
    # Item 6 has no training edge; its text says "sci-fi", so cluster-A users prefer it to cluster-B users.
    assert model.cold_item_mask[6]
    assert scores[:4, 6].mean() > scores[4:, 6].mean()
    assert (scores[:4, 6] > scores[:4, 3:6].max(1).values).all()
    # Inductive: a brand-new item from features only, and a new user from liked items.
    new = model.embed_items_from_features(np.array([[1.0, 0.0, 0.05, 0.0], [0.0, 1.0, 0.05, 0.0]]))
    cold = model.score_cold([0, 5], np.array([[1.0, 0.0, 0.05, 0.0], [0.0, 1.0, 0.05, 0.0]]))
    assert new.shape == (2, 8) and cold.shape == (2, 2)
    assert cold[0, 0] > cold[0, 1] and cold[1, 1] > cold[1, 0]
    fan = model.user_from_items([3, 4])
    s = model.score_vector(fan)
    assert s[3:6].min() > s[:3].max()


def test_feature_matrix_validation(tiny_interactions: Interactions) -> None:
    g = build_graph(tiny_interactions)
    with pytest.raises(ValueError, match="has 6 rows but the catalogue has 7 items"):
        LightGCN(g, LightGCNConfig(item_features=np.ones((6, 4))))
    with pytest.raises(ValueError, match="2-D"):
        LightGCN(g, LightGCNConfig(item_features=np.ones(7)))
    bad = np.ones((7, 4))
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or inf values \\(first in row 3\\)"):
        LightGCN(g, LightGCNConfig(item_features=bad))
    bad[3, 1] = np.inf
    with pytest.raises(ValueError, match="NaN or inf"):
        LightGCN(g, LightGCNConfig(item_features=bad))
    model = LightGCN(g, LightGCNConfig(item_features=np.ones((7, 4))))
    with pytest.raises(ValueError, match="dimension 3 but the model was trained with dimension 4"):
        model.embed_items_from_features(np.ones((2, 3)))
    with pytest.raises(ValueError, match="NaN or inf"):
        model.embed_items_from_features(np.full((1, 4), np.nan))
    with pytest.raises(ValueError, match="has no item_features"):
        LightGCN(g).embed_items_from_features(np.ones((1, 4)))
    with pytest.raises(ValueError, match="feature_fusion must be one of"):
        LightGCN(g, LightGCNConfig(feature_fusion="concat"))  # type: ignore[arg-type]


def test_save_load_roundtrip_and_fingerprint_mismatch(tiny_interactions: Interactions, tmp_path: Path) -> None:
    g = build_graph(tiny_interactions)
    model = LightGCN(g, LightGCNConfig(embedding_dim=4, item_features=_cluster_features()))
    path = tmp_path / "m.pt"
    model.save(path, metrics={"recall@20": 0.5})
    assert not list(tmp_path.glob("*.tmp"))
    for loaded in (LightGCN.load(path, g), LightGCN.load(path)):
        torch.testing.assert_close(loaded.score(np.arange(8)), model.score(np.arange(8)))
        assert loaded.graph.fingerprint == g.fingerprint
    other = build_graph(Interactions.from_arrays([0, 1], [1, 2], num_users=8, num_items=7))
    with pytest.raises(ValueError, match=f"fingerprint is '{g.fingerprint}'.*{other.fingerprint}"):
        LightGCN.load(path, other)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        LightGCN.load(tmp_path / "missing.pt")
