from __future__ import annotations

import numpy as np
import pytest
import torch

from agentrec.graph import build_graph
from agentrec.models.gat import GAT, GATConfig
from agentrec.models.registry import build_model, load_model
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


@pytest.mark.parametrize("conv", ["gat", "gatv2"])
def test_gat_learns_the_two_clusters(graph, tiny_interactions, conv: str) -> None:
    model = GAT(graph, GATConfig(embedding_dim=8, conv=conv, heads=2))
    cfg = TrainConfig(epochs=30, batch_size=8, lr=0.05, eval_part="none", show_progress=False)
    hist = fit(model, Split(train=tiny_interactions, test=tiny_interactions), cfg)
    assert hist.loss[-1] < hist.loss[0] * 0.5
    scores = model.score(np.arange(8))
    assert (scores[:4, :3].min(dim=1).values > scores[:4, 3:6].max(dim=1).values).all()
    assert (scores[4:, 3:6].min(dim=1).values > scores[4:, :3].max(dim=1).values).all()
    _, top = model.recommend([0], k=4)  # seen items are never recommended
    assert set(top[0].tolist()) == {3, 4, 5, 6}


def test_propagate_all_shapes_gradients_and_view(graph) -> None:
    model = GAT(graph, GATConfig(embedding_dim=6, num_layers=2))
    final, ego, view = model.propagate_all(view_layer=1)
    assert final.shape == ego.shape == view.shape == (15, 6)
    final.pow(2).sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    _, _, no_view = model.propagate_all()
    assert no_view.numel() == 0


def test_attention_reads_the_graph(graph) -> None:
    # A node's output depends on its neighbours only: changing user 0's embedding must move the items
    # user 0 interacted with (0-2) after one layer, and must not move items of the other cluster.
    model = GAT(graph, GATConfig(embedding_dim=4, num_layers=1))
    before = model.propagate_all()[0].detach()
    with torch.no_grad():
        model.user_emb[0] += 1.0
    after = model.propagate_all()[0].detach()
    moved = (after - before).abs().sum(dim=1) > 1e-6
    nu = graph.num_users
    assert moved[nu + 0] and moved[nu + 1] and moved[nu + 2]
    assert not moved[nu + 3 : nu + 7].any()


def test_user_without_history_gets_the_mean_taste() -> None:
    train = Interactions.from_arrays([0, 0, 1], [0, 1, 2], num_users=3, num_items=4)
    model = GAT(build_graph(train), GATConfig(embedding_dim=4))
    users = model.user_embeddings()
    assert torch.allclose(users[2], users[:2].mean(dim=0))
    assert torch.isfinite(model.score(np.array([2]))).all()


def test_save_load_roundtrip_and_fingerprint(graph, tmp_path) -> None:
    model = build_model("gat", graph, embedding_dim=8, seed=1, heads=2)
    assert isinstance(model, GAT)
    path = tmp_path / "gat.pt"
    model.save(path, metrics={"recall@20": 0.5})
    for g in (graph, None):
        again = load_model(path, g)
        assert isinstance(again, GAT) and again.config.heads == 2
        assert torch.allclose(again.score(np.arange(8)), model.score(np.arange(8)))
    other = build_graph(Interactions.from_arrays([0, 1], [1, 2], num_users=8, num_items=7))
    with pytest.raises(ValueError, match="different dataset"):
        GAT.load(path, other)


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        (GATConfig(num_layers=0), "num_layers >= 1"),
        (GATConfig(heads=0), "heads must be > 0"),
        (GATConfig(conv="gcn"), "conv must be one of"),  # type: ignore[arg-type]
        (GATConfig(attention_dropout=1.0), r"attention_dropout must be in \[0, 1\)"),
    ],
)
def test_bad_config(graph, cfg: GATConfig, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GAT(graph, cfg)


def test_bad_users_and_k(graph) -> None:
    model = GAT(graph, GATConfig(embedding_dim=4))
    with pytest.raises(ValueError, match="unknown user index -1"):
        model.score(np.array([-1]))
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 7\]"):
        model.recommend([0], k=0)
