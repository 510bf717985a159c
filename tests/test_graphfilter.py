from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from agentrec.graph import build_graph
from agentrec.models.graphfilter import GraphFilter, GraphFilterConfig
from agentrec.models.graphfilter_response import chebyshev_coefficients, polynomial_response
from agentrec.models.registry import build_model, load_model
from agentrec.types import Interactions


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _clusters() -> Interactions:
    """Users 0-3 like items 0-2 and users 4-7 items 3-5, except user 0 never saw item 2 nor user 4 item 5."""
    rows = [(u, i) for u in range(4) for i in range(3)] + [(u, i) for u in range(4, 8) for i in range(3, 6)]
    rows = [r for r in rows if r not in ((0, 2), (4, 5))]
    users, items = zip(*rows, strict=True)
    return Interactions.from_arrays(np.array(users), np.array(items), num_users=8, num_items=7)


def _random(num_users: int, num_items: int, density: float = 0.25, seed: int = 0) -> Interactions:
    rng = np.random.default_rng(seed)
    mask = rng.random((num_users, num_items)) < density
    mask[np.arange(num_users), rng.integers(0, num_items, num_users)] = True  # nobody is empty
    users, items = np.nonzero(mask)
    return Interactions.from_arrays(users, items, num_users=num_users, num_items=num_items)


def _dense_reference(train: Interactions, cfg: GraphFilterConfig, users: np.ndarray) -> np.ndarray:
    """The filter computed the slow, obvious way: eigendecomposition of the dense item-item matrix."""
    r = np.zeros((train.num_users, train.num_items))
    r[train.user_index, train.item_index] = 1.0
    du, di = r.sum(1), r.sum(0)
    rn = (np.where(du > 0, du, 1) ** -cfg.user_power)[:, None] * r * (np.where(di > 0, di, 1) ** -cfg.item_power)
    rn /= np.linalg.svd(rn, compute_uv=False)[0]
    lam, q = np.linalg.eigh(rn.T @ rn)
    order = np.argsort(-lam)
    lam, q = np.clip(lam[order], 0, None), q[:, order]
    coef = chebyshev_coefficients(
        cfg.response, order=cfg.order, flatness=cfg.flatness, sharpen_time=cfg.sharpen_time,
        sharpen_steps=cfg.sharpen_steps,
    )  # fmt: skip
    h = polynomial_response(coef, lam)
    ideal = np.where(np.arange(len(lam)) < cfg.ideal_rank, cfg.ideal_weight, 0.0)
    if cfg.response == "bspm":
        t = cfg.sharpen_time
        ideal = ideal * (1 - t * lam + (t * lam) ** 2 / 2 - (t * lam) ** 3 / 6 + (t * lam) ** 4 / 24)
    x = r[users] * np.where(di > 0, np.where(di > 0, di, 1) ** -cfg.degree_power, 0.0)
    return (x @ q @ np.diag(h + ideal) @ q.T) * np.where(di > 0, di, 0) ** cfg.degree_power


def test_known_answer_tiny_clusters() -> None:
    model = GraphFilter(build_graph(_clusters()), GraphFilterConfig(rank=4, ideal_rank=2, device="cpu"))
    _, top = model.recommend([0, 4], k=1)
    assert top[:, 0].tolist() == [2, 5]  # the one missing item of each user's own cluster
    scores = model.score(np.array([0]))[0]
    assert scores[2] > scores[3:].max()  # in-cluster beats the other cluster and the unseen item 6


@pytest.mark.parametrize(
    ("shape", "options"),
    [
        ((30, 18), {"response": "plateau", "rank": 18, "ideal_rank": 5}),  # every eigenvalue kept
        ((16, 24), {"response": "bspm", "rank": 16, "ideal_rank": 4, "degree_power": 0.5}),  # null space
        ((30, 18), {"response": "plateau", "rank": 6, "ideal_rank": 3, "tail": "exact"}),
        ((30, 18), {"response": "bspm", "rank": 5, "ideal_rank": 5, "tail": "exact", "user_power": 0.3}),
        ((30, 18), {"response": "linear", "rank": 7, "ideal_rank": 7, "tail": "exact", "ideal_weight": 0.3}),
    ],
)
def test_equals_dense_reference_on_random_graph(shape, options) -> None:
    train = _random(*shape)
    cfg = GraphFilterConfig(device="cpu", flatness=2.0, **options)
    users = np.arange(shape[0])
    got = GraphFilter(build_graph(train), cfg).score(users).numpy()
    np.testing.assert_allclose(got, _dense_reference(train, cfg, users), atol=2e-5)


def test_linear_tail_is_the_line_fit_below_the_kept_spectrum() -> None:
    train = _random(30, 18, seed=1)
    cfg = GraphFilterConfig(device="cpu", rank=6, ideal_rank=6)
    model = GraphFilter(build_graph(train), cfg)
    exact = GraphFilter(build_graph(train), GraphFilterConfig(device="cpu", rank=6, ideal_rank=6, tail="exact"))
    users = np.arange(30)
    # x V diag(h - q0 - q1 lam) V^T + q0 x + q1 x P: exact on the kept directions, a line fit below.
    err = (model.score(users) - exact.score(users)).abs().max()
    assert 0 < float(err) < 0.05 * float(exact.score(users).abs().max())
    assert model.q1 > 0


def test_seen_items_are_masked_and_empty_users_get_popularity() -> None:
    train = _random(20, 15, seed=2)
    graph = build_graph(Interactions.from_arrays(train.user_index, train.item_index, 21, 15))  # user 20: empty
    model = GraphFilter(graph, GraphFilterConfig(device="cpu", rank=8, ideal_rank=4))
    _, top = model.recommend(np.arange(20), k=5)
    for u, row in enumerate(top):
        assert not set(row.tolist()) & set(graph.seen_items(np.array([u]))[0].tolist())
    empty = model.score(np.array([20]))[0]
    assert torch.equal(empty, torch.as_tensor(graph.item_degree, dtype=torch.float32))


def test_checkpoint_round_trip_and_registry(tmp_path) -> None:
    train = _random(40, 25, seed=3)
    graph = build_graph(train)
    model = build_model("graph-filter", graph, response="bspm", rank=10, ideal_rank=5, device="cpu")
    path = tmp_path / "gf.pt"
    model.save(path)
    again = load_model(path, graph)
    assert isinstance(again, GraphFilter) and again.config == model.config
    users = np.arange(40)
    assert torch.allclose(again.score(users), model.score(users), atol=1e-6)
    alone = load_model(path)  # the training interactions come from the checkpoint
    assert torch.allclose(alone.score(users), model.score(users), atol=1e-6)
    other = build_graph(_random(40, 25, seed=4))
    with pytest.raises(ValueError, match="different dataset"):
        load_model(path, other)


def test_history_vector_scores_any_user_and_likes_change_the_candidates() -> None:
    model = GraphFilter(build_graph(_clusters()), GraphFilterConfig(rank=4, ideal_rank=2, device="cpu"))
    # A dataset user's row and the same items given as a chat user's likes score the same.
    assert torch.allclose(model.score_history([0, 1]), model.score(np.array([0]))[0], atol=1e-6)
    likes_a, likes_b = model.score_history([0]), model.score_history([3, 4])
    top_a = [i for i in torch.argsort(likes_a, descending=True).tolist() if i != 0][:2]
    top_b = [i for i in torch.argsort(likes_b, descending=True).tolist() if i not in (3, 4)][:1]
    assert set(top_a) == {1, 2} and top_b == [5]
    weighted = model.score_history([0, 3], weights=[1.0, 0.1])
    assert weighted[1] > weighted[4]
    assert torch.equal(model.score_history([]), torch.as_tensor(model.graph.item_degree, dtype=torch.float32))


def test_with_config_reuses_the_decomposition() -> None:
    model = GraphFilter(build_graph(_random(30, 18, seed=5)), GraphFilterConfig(device="cpu", rank=8, ideal_rank=4))
    other = model.with_config(response="linear", ideal_weight=0.0, rank=6, ideal_rank=0)
    assert other.factors[0].data_ptr() == model.factors[0].data_ptr()  # no second SVD
    assert other.weights.shape == (6,)
    assert model.with_config(user_power=0.3).factors[0].data_ptr() != model.factors[0].data_ptr()


def test_score_batches_covers_every_user() -> None:
    model = GraphFilter(build_graph(_random(23, 12, seed=6)), GraphFilterConfig(device="cpu", rank=6, ideal_rank=3))
    seen: list[int] = []
    calls: list[tuple[int, int]] = []
    for users, scores in model.score_batches(
        batch_size=10, show_progress=False, callback=lambda d, t: calls.append((d, t))
    ):
        assert scores.shape == (len(users), 12)
        seen += users.tolist()
    assert seen == list(range(23)) and calls[-1] == (23, 23)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"response": "cheby"}, "response must be one of"),
        ({"rank": 0}, "rank must be a positive integer"),
        ({"rank": 4, "ideal_rank": 8}, "ideal_rank"),
        ({"order": 0}, "order must be a positive integer"),
        ({"tail": "none"}, "tail must be"),
        ({"degree_power": float("nan")}, "degree_power must be a finite"),
        ({"flatness": -1.0}, "flatness must be > 0"),
        ({"device": "tpu"}, "device must be one of"),
    ],
)
def test_bad_config_errors(options, match) -> None:
    with pytest.raises(ValueError, match=match):
        GraphFilter(build_graph(_clusters()), GraphFilterConfig(**{"rank": 4, "ideal_rank": 2, **options}))


def test_bad_input_errors() -> None:
    model = GraphFilter(build_graph(_clusters()), GraphFilterConfig(rank=4, ideal_rank=2, device="cpu"))
    with pytest.raises(ValueError, match="unknown item index 7; valid item indices are 0..6"):
        model.score_history([1, 7])
    with pytest.raises(ValueError, match="one weight per item"):
        model.score_history([1, 2], weights=[1.0])
    with pytest.raises(ValueError, match="finite"):
        model.score_history([1], weights=[float("nan")])
    with pytest.raises(ValueError, match="unknown user index 8"):
        model.score(np.array([8]))
    with pytest.raises(ValueError, match="unknown option"):
        build_model("graph-filter", model.graph, rank_typo=3)
    with pytest.raises(ValueError, match="do not fit a graph of 7 items"):
        GraphFilter(model.graph, model.config, factors=(torch.zeros(5, 2), torch.ones(2)))


@pytest.mark.data
def test_cli_train_and_evaluate_graph_filter(capsys, tmp_path, shared_data) -> None:
    from agentrec.cli import main

    out = tmp_path / "run"
    common = ["--data-dir", str(shared_data), "--artifacts-dir", str(tmp_path / "art")]
    code = main(
        ["train", "--dataset", "ml-latest-small", "--model", "graph-filter", "--split", "random", "--out", str(out)]
        + ["--option", "rank=256", "--option", "ideal_rank=64", "--device", "cpu", "--no-progress", *common]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    record = json.loads((out / "graph-filter.json").read_text())
    recall = record["test_metrics"]["recall@20"]
    assert recall > 0.2  # well above popularity (about 0.1 on this split)
    assert torch.load(out / "graph-filter.pt", weights_only=False)["config"]["device"] == "cpu"  # from --device
    assert main(["evaluate", "--checkpoint", str(out / "graph-filter.pt"), *common]) == 0
    assert f"recall@20          {recall:.4f}" in capsys.readouterr().out


def test_chat_likes_change_the_bus_candidates(tiny_catalog) -> None:
    from agentrec.retrieve import Retriever, RetrieverConfig
    from agentrec.types import Query

    train = _clusters()
    gf = GraphFilter(build_graph(train), GraphFilterConfig(rank=4, ideal_rank=2, device="cpu"))
    only_gnn = RetrieverConfig(weights={"gnn": 1.0})
    bus = Retriever(tiny_catalog, train, history_model=gf, config=only_gnn)
    a = bus.retrieve(Query(liked_items=(0,), k=2)).candidates
    b = bus.retrieve(Query(liked_items=(3,), k=2)).candidates
    assert {c.item_index for c in a} == {1, 2} and {c.item_index for c in b} == {4, 5}
    assert all("gnn" in c.sources for c in a + b)
    # A known user is scored by the same filter when there is no trained model.
    known = bus.retrieve(Query(user_id=train.user_ids[0], k=1)).candidates
    assert [c.item_index for c in known] == [2]
    # As the bus's model it serves everyone: known users and likes alike.
    as_model = Retriever(tiny_catalog, train, model=gf, config=only_gnn)
    assert {c.item_index for c in as_model.retrieve(Query(liked_items=(3,), k=2)).candidates} == {4, 5}


def test_randomized_svd_finds_the_top_singular_pairs() -> None:
    from agentrec.models.graphfilter_linalg import randomized_svd, torch_csr

    train = _random(200, 300, density=0.05, seed=7)
    r = build_graph(train).interaction.astype(np.float32)
    v, s = randomized_svd(
        torch_csr(r, torch.device("cpu")),
        torch_csr(r.T, torch.device("cpu")),
        40,
        6,
        torch.Generator().manual_seed(0),
    )
    _, s_ref, vh_ref = np.linalg.svd(r.toarray().astype(np.float64))
    np.testing.assert_allclose(s[:10].numpy(), s_ref[:10], rtol=1e-3)
    # Each of the top singular vectors matches up to sign.
    assert np.allclose(np.abs((v[:, :5].numpy().T * vh_ref[:5]).sum(1)), 1.0, atol=1e-3)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("tail", ["linear", "exact"])
def test_cuda_matches_cpu(tail) -> None:
    graph = build_graph(_random(300, 200, density=0.05, seed=8))
    cpu = GraphFilter(graph, GraphFilterConfig(device="cpu", rank=32, ideal_rank=16, tail=tail))
    gpu = GraphFilter(graph, GraphFilterConfig(device="cuda", rank=32, ideal_rank=16, tail=tail), factors=cpu.factors)
    users = np.arange(300)
    assert torch.allclose(gpu.score(users), cpu.score(users), atol=1e-4)
    assert torch.allclose(gpu.score_history([1, 5]), cpu.score_history([1, 5]), atol=1e-4)
    # The randomized decomposition itself runs on the GPU too.
    big = GraphFilter(
        build_graph(_random(5000, 4200, density=0.001, seed=9)), GraphFilterConfig(device="cuda", rank=64)
    )
    assert big.factors[0].shape == (4200, 64) and big.score(np.arange(10)).shape == (10, 4200)


def test_tuning_on_a_carved_validation_split() -> None:
    from agentrec.models.graphfilter_tune import tune_graph_filter

    train = _random(60, 30, density=0.2, seed=10)
    grid = {"ideal_weight": (0.0, 0.5), "ideal_rank": (2, 16), "flatness": (1.0, 3.0)}
    base = GraphFilterConfig(device="cpu", rank=8, ideal_rank=4)
    result = tune_graph_filter(train, base=base, grid=grid, max_users=None, metric="recall@5")
    assert result.trials[0]["changes"] == {}  # the base setting is tried first
    best = max(t["metrics"]["recall"] for t in result.trials)
    assert result.metrics["recall"] == best and result.config.ideal_rank != 16  # 16 > rank: skipped
    assert result.valid_users > 0 and result.to_dict()["config"]["rank"] == 8
    with pytest.raises(ValueError, match="unknown setting"):
        tune_graph_filter(train, base=base, grid={"rnak": (1,)})
    with pytest.raises(ValueError, match="metric must look like"):
        tune_graph_filter(train, base=base, metric="mrr")


def _cluster_text() -> np.ndarray:
    """Text embeddings of the 7 items of ``_clusters``: item 6 (no interactions) reads like items 0-2."""
    a, b = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    noise = np.random.default_rng(0).normal(scale=0.05, size=(7, 3))
    return (np.stack([a, a, a, b, b, b, a + 0.1 * b]) + noise).astype(np.float32)


def test_text_blend_reaches_an_item_without_interactions(tiny_catalog, tmp_path) -> None:
    from agentrec.retrieve import Retriever, RetrieverConfig
    from agentrec.types import Query

    train = _clusters()
    graph = build_graph(train)
    assert graph.item_degree[6] == 0
    plain = GraphFilter(graph, GraphFilterConfig(rank=4, ideal_rank=2, device="cpu"))
    text = GraphFilter(graph, replace_cfg(plain.config, text_weight=0.3), item_features=_cluster_text())
    # Without text the cold item scores nothing; with it, it joins the liked cluster ahead of the other one.
    assert float(plain.score_history([0])[6]) == 0.0
    scores = text.score_history([0])
    ranked = [i for i in torch.argsort(scores, descending=True).tolist() if i != 0]
    assert set(ranked[:3]) == {1, 2, 6}
    assert scores[6] > scores[3:6].max()
    # A dataset user who never saw item 6 gets it too, and the bus recommends it for a chat user's like.
    assert 6 in text.recommend([0], k=2)[1][0].tolist()
    bus = Retriever(tiny_catalog, train, history_model=text, config=RetrieverConfig(weights={"gnn": 1.0}))
    assert 6 in {c.item_index for c in bus.retrieve(Query(liked_items=(1,), k=3)).candidates}
    # The text graph travels with the checkpoint; a weight of 0 is the plain filter.
    text.save(tmp_path / "gf.pt")
    again = load_model(tmp_path / "gf.pt", graph)
    assert torch.allclose(again.score(np.arange(8)), text.score(np.arange(8)), atol=1e-6)
    assert torch.allclose(text.with_config(text_weight=0.0).score(np.arange(8)), plain.score(np.arange(8)))
    model = build_model("text-graph-filter", graph, item_features=_cluster_text(), rank=4, ideal_rank=2)
    assert isinstance(model, GraphFilter) and model.config.text_weight > 0 and model.text_graph is not None


def replace_cfg(cfg: GraphFilterConfig, **changes) -> GraphFilterConfig:
    from dataclasses import replace

    return replace(cfg, **changes)


def test_text_blend_bad_input() -> None:
    graph = build_graph(_clusters())
    cfg = GraphFilterConfig(rank=4, ideal_rank=2, device="cpu", text_weight=0.3)
    with pytest.raises(ValueError, match="needs item_features"):
        GraphFilter(graph, cfg)
    with pytest.raises(ValueError, match="has 3 rows; the graph has 7 items"):
        GraphFilter(graph, cfg, item_features=np.ones((3, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="NaN or inf"):
        GraphFilter(graph, cfg, item_features=np.full((7, 3), np.nan, dtype=np.float32))
    with pytest.raises(ValueError, match="text_weight must be in"):
        GraphFilter(graph, replace_cfg(cfg, text_weight=1.5), item_features=_cluster_text())
    with pytest.raises(ValueError, match="text_cold_boost must be a positive"):
        GraphFilter(graph, replace_cfg(cfg, text_cold_boost=0.0), item_features=_cluster_text())
    with pytest.raises(ValueError, match="text_neighbors must be a positive integer"):
        GraphFilter(graph, replace_cfg(cfg, text_neighbors=0), item_features=_cluster_text())
    with pytest.raises(ValueError, match="needs item text embeddings"):
        build_model("text-graph-filter", graph)


def test_text_weight_is_chosen_on_a_cold_carve_out() -> None:
    from agentrec.models.graphfilter_text import tune_text_weight

    # Two clusters of users and items whose text says which cluster an item belongs to.
    rng = np.random.default_rng(1)
    users, items = [], []
    for u in range(60):
        cluster = u % 2
        for i in rng.choice(np.arange(cluster * 20, cluster * 20 + 20), size=8, replace=False):
            users.append(u)
            items.append(int(i))
    train = Interactions.from_arrays(np.array(users), np.array(items), num_users=60, num_items=40)
    feats = np.zeros((40, 2), dtype=np.float32)
    feats[:20, 0] = feats[20:, 1] = 1.0
    feats += rng.normal(scale=0.1, size=feats.shape).astype(np.float32)
    cfg = GraphFilterConfig(rank=16, ideal_rank=4, device="cpu")
    chosen, trials = tune_text_weight(train, feats, cfg, weights=(0.0, 0.3), boosts=(1.0, 3.0), cold_fraction=0.2, k=5)
    assert [(t["text_weight"], t["text_cold_boost"]) for t in trials] == [(0.0, 1.0), (0.3, 1.0), (0.3, 3.0)]
    # Cold items are reachable only through text, and more so with the boost.
    assert trials[0]["cold"] == 0.0 < trials[2]["cold"] and trials[1]["cold"] <= trials[2]["cold"]
    best = max(trials, key=lambda t: t["all"])
    assert chosen == (best["text_weight"], best["text_cold_boost"])
    with pytest.raises(ValueError, match="weights must be"):
        tune_text_weight(train, feats, cfg, weights=(2.0,))
    with pytest.raises(ValueError, match="boosts must be"):
        tune_text_weight(train, feats, cfg, boosts=(0.0,))
