from __future__ import annotations

import numpy as np
import pytest
import torch

from agentrec.graph import build_graph
from agentrec.models.baselines import MFBPR, MFConfig, Popularity, TextKNN
from agentrec.models.registry import MODELS, build_model, load_model, model_names
from agentrec.train import TrainConfig, fit
from agentrec.types import Interactions, Split


@pytest.fixture(autouse=True)
def _one_thread():
    # Tiny graphs gain nothing from threads, and on a busy machine torch's thread pool spin-waits;
    # restore the setting afterwards (fit(num_threads=...) and --threads change it process-wide).
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def graph(tiny_interactions: Interactions):
    return build_graph(tiny_interactions)


def cluster_features(noise: float = 0.05, seed: int = 0) -> np.ndarray:
    """Text embeddings of the 7 tiny items: 0-2 and the unseen item 6 share one direction, 3-5 another."""
    rng = np.random.default_rng(seed)
    base = np.zeros((7, 8), dtype=np.float32)
    base[[0, 1, 2, 6], 0] = 1.0
    base[[3, 4, 5], 1] = 1.0
    return base + noise * rng.standard_normal((7, 8)).astype(np.float32)


def test_popularity_ranks_by_train_degree_and_masks_seen() -> None:
    train = Interactions.from_arrays([0, 1, 2, 0, 1, 2], [0, 0, 0, 1, 1, 3], num_users=4, num_items=5)
    model = Popularity(build_graph(train))
    assert model.score(np.array([0]))[0].tolist() == [3.0, 2.0, 0.0, 1.0, 0.0]
    _, top = model.recommend([3], k=3)  # user 3 has no history: the plain popularity order
    assert top[0].tolist() == [0, 1, 3]
    _, top = model.recommend([2], k=2)  # user 2 saw items 0 and 3
    assert top[0].tolist()[0] == 1
    assert not {0, 3} & set(top[0].tolist())


def _fit(model, train: Interactions, epochs: int = 40, seed: int = 0):
    cfg = TrainConfig(epochs=epochs, batch_size=8, lr=0.05, eval_part="none", show_progress=False, seed=seed)
    return fit(model, Split(train=train, test=train), cfg)


def test_mfbpr_learns_the_two_clusters_with_the_shared_trainer(graph, tiny_interactions) -> None:
    model = MFBPR(graph, MFConfig(embedding_dim=8, seed=0))
    hist = _fit(model, tiny_interactions)
    assert hist.loss[-1] < hist.loss[0] * 0.5
    scores = model.score(np.arange(8))
    assert (scores[:4, :3].min(dim=1).values > scores[:4, 3:6].max(dim=1).values).all()
    assert (scores[4:, 3:6].min(dim=1).values > scores[4:, :3].max(dim=1).values).all()
    # MF has no propagation: the trainer's "final" embeddings are the raw ones.
    final, ego, view = model.propagate_all()
    assert final is ego and view.numel() == 0


def test_mfbpr_is_seeded(graph, tiny_interactions) -> None:
    a = MFBPR(graph, MFConfig(embedding_dim=4, seed=3))
    b = MFBPR(graph, MFConfig(embedding_dim=4, seed=3))
    _fit(a, tiny_interactions, epochs=3, seed=1)
    _fit(b, tiny_interactions, epochs=3, seed=1)
    assert torch.equal(a.user_embeddings(), b.user_embeddings())
    with pytest.raises(ValueError, match="embedding_dim must be a positive integer, got 0"):
        MFBPR(graph, MFConfig(embedding_dim=0))


def test_text_knn_ranks_a_cold_item_from_its_text(graph) -> None:
    model = TextKNN(graph, cluster_features(), k_neighbors=3)
    _, top = model.recommend([0, 4], k=1)
    assert top[0, 0] == 6  # unseen item 6 reads like cluster A's items
    scores = model.score(np.array([4]))[0]
    assert scores[6] < scores[3:6].min()


def test_text_knn_dense_and_sparse_agree_on_order(graph) -> None:
    feats = cluster_features()
    dense = TextKNN(graph, feats, k_neighbors=None).score(np.array([0]))[0]
    sparse = TextKNN(graph, feats, k_neighbors=6).score(np.array([0]))[0]
    assert torch.allclose(dense, sparse)


@pytest.mark.parametrize(
    ("features", "message"),
    [
        (np.zeros((6, 8), dtype=np.float32), "6 rows but the catalogue has 7"),
        (np.zeros(7, dtype=np.float32), "2-D"),
        (np.where(np.eye(7, 8) > 0, np.nan, 0.0), "NaN or inf"),
        (np.where(np.eye(7, 8) > 0, np.inf, 0.0), "NaN or inf"),
    ],
)
def test_text_knn_rejects_bad_features(graph, features: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TextKNN(graph, features)


@pytest.mark.parametrize("k", [0, -1, 8])
def test_recommend_rejects_bad_k(graph, k: int) -> None:
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 7\]"):
        Popularity(graph).recommend([0], k=k)


@pytest.mark.parametrize("name", ["popularity", "mf-bpr", "text-knn"])
def test_unknown_user_is_rejected(graph, name: str) -> None:
    model = build_model(name, graph, item_features=cluster_features(), embedding_dim=4)
    with pytest.raises(ValueError, match="unknown user index 8; valid user indices are 0..7"):
        model.score(np.array([8]))


@pytest.mark.parametrize("name", ["popularity", "mf-bpr", "text-knn"])
def test_save_load_roundtrip(graph, tmp_path, name: str) -> None:
    model = build_model(name, graph, item_features=cluster_features(), embedding_dim=4, seed=2)
    path = tmp_path / f"{name}.pt"
    model.save(path)
    for g in (graph, None):  # with the graph, and rebuilt from the checkpoint
        again = load_model(path, g)
        assert type(again) is type(model)
        assert torch.allclose(again.score(np.arange(8)), model.score(np.arange(8)))
        assert [s.tolist() for s in again.seen_items(np.arange(8))] == [
            s.tolist() for s in model.seen_items(np.arange(8))
        ]


def test_load_rejects_other_dataset(graph, tmp_path) -> None:
    path = tmp_path / "mf.pt"
    MFBPR(graph, MFConfig(embedding_dim=4)).save(path)
    other = build_graph(Interactions.from_arrays([0, 1, 2], [0, 1, 2], num_users=8, num_items=7))
    with pytest.raises(ValueError, match="different dataset"):
        MFBPR.load(path, other)


def test_load_rejects_other_model_kind(graph, tmp_path) -> None:
    path = tmp_path / "pop.pt"
    Popularity(graph).save(path)
    with pytest.raises(ValueError, match="holds a 'popularity' model, expected 'mf-bpr'"):
        MFBPR.load(path)


def test_load_missing_file(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_model(tmp_path / "nope.pt")


def test_registry_names_and_errors(graph) -> None:
    assert model_names() == (
        "popularity",
        "mf-bpr",
        "text-knn",
        "lightgcn",
        "text-lightgcn",
        "gat",
        "graph-filter",
        "text-graph-filter",
    )
    assert {n for n, s in MODELS.items() if s.needs_text} == {"text-knn", "text-lightgcn", "text-graph-filter"}
    with pytest.raises(ValueError, match="unknown model 'svd'; valid models are: popularity, mf-bpr"):
        build_model("svd", graph)
    with pytest.raises(ValueError, match="needs item text embeddings"):
        build_model("text-knn", graph)
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['heads'\] for model 'mf-bpr'"):
        build_model("mf-bpr", graph, heads=2)
