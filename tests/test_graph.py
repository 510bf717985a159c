from __future__ import annotations

import numpy as np
import pytest
import torch

from agentrec.graph import build_graph
from agentrec.models.lightgcn import propagate
from agentrec.types import Interactions


def _dense_norm_adj(train: Interactions) -> np.ndarray:
    nu, ni = train.num_users, train.num_items
    a = np.zeros((nu + ni, nu + ni))
    for u, i in zip(train.user_index, train.item_index, strict=True):
        a[u, nu + i] = a[nu + i, u] = 1.0
    deg = a.sum(1)
    d = np.where(deg > 0, 1 / np.sqrt(np.maximum(deg, 1e-12)), 0.0)
    return d[:, None] * a * d[None, :]


def test_normalised_adjacency_matches_dense_reference(tiny_interactions: Interactions) -> None:
    g = build_graph(tiny_interactions)
    ref = _dense_norm_adj(tiny_interactions)
    np.testing.assert_allclose(g.norm_adj.toarray(), ref, atol=1e-6)
    np.testing.assert_allclose(g.norm_adj_torch.to_dense().numpy(), ref, atol=1e-6)
    assert g.num_users == 8 and g.num_items == 7 and g.num_nodes == 15
    assert g.item_degree.tolist() == [4, 4, 4, 4, 4, 4, 0]
    assert g.user_degree.tolist() == [3] * 8
    assert g.edge_index().shape == (2, 2 * 24)


def test_duplicates_collapse_and_random_graph_matches_dense() -> None:
    rng = np.random.default_rng(0)
    u, i = rng.integers(0, 20, 200), rng.integers(0, 30, 200)
    train = Interactions.from_arrays(u, i, num_users=20, num_items=30)
    g = build_graph(train)
    assert g.interaction.data.max() == 1.0
    assert g.num_edges == len(set(zip(u.tolist(), i.tolist(), strict=True)))
    np.testing.assert_allclose(g.norm_adj.toarray(), _dense_norm_adj(train), atol=1e-6)
    np.testing.assert_allclose(g.norm_adj.toarray(), g.norm_adj.toarray().T, atol=1e-7)


def test_empty_catalogue_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least one user and one item"):
        build_graph(Interactions.from_arrays([], [], num_users=0, num_items=0))


@pytest.mark.parametrize("view_layer", [0, 1, 3])
def test_custom_propagation_gradient_equals_dense_autograd(view_layer: int) -> None:
    rng = np.random.default_rng(1)
    train = Interactions.from_arrays(rng.integers(0, 12, 60), rng.integers(0, 9, 60), num_users=12, num_items=9)
    g = build_graph(train)
    dense = torch.tensor(g.norm_adj.toarray(), dtype=torch.float64)
    weights = (0.4, 0.3, 0.2, 0.1)
    x = torch.randn(g.num_nodes, 5, dtype=torch.float64)
    gout, gview = torch.randn_like(x), torch.randn_like(x)

    x1 = x.clone().requires_grad_()
    adj = g.norm_adj_torch.to(torch.float64)
    out, view = propagate(x1, adj, weights, view_layer=view_layer)
    loss = (out * gout).sum() + ((view * gview).sum() if view_layer else 0.0)
    loss.backward()

    x2 = x.clone().requires_grad_()
    h, ref, ref_view = x2, x2 * weights[0], None
    for layer, w in enumerate(weights[1:], start=1):
        h = dense @ h
        ref = ref + w * h
        if layer == view_layer:
            ref_view = h
    loss2 = (ref * gout).sum() + ((ref_view * gview).sum() if ref_view is not None else 0.0)
    loss2.backward()
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(x1.grad, x2.grad)


def test_propagation_passes_gradcheck() -> None:
    train = Interactions.from_arrays([0, 0, 1, 2], [0, 1, 1, 2], num_users=3, num_items=3)
    adj = build_graph(train).norm_adj_torch.to(torch.float64)
    x = torch.randn(6, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: propagate(t, adj, (0.25, 0.25, 0.25, 0.25))[0], (x,))
