"""load_components: builds once from a tiny dataset (the default chosen on validation), reloads the same model,
wires retriever + explainer; the default retriever's choice logic."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agentrec.artifacts import load_components
from agentrec.artifacts_retriever import (
    BUDGET_ENV,
    DEFAULT_BUDGET_S,
    RECIPE,
    build_default_retriever,
    choose_default,
    converging_train_config,
    describe_default,
    softmax_train_config,
    training_budget,
)
from agentrec.data import Dataset
from agentrec.models.graphfilter import GraphFilter
from agentrec.models.lightgcn import LightGCN
from agentrec.retrieve import Retriever, RetrieverConfig
from agentrec.train import TrainConfig
from agentrec.types import Catalog, Interactions, Query


def _tiny_train_config() -> TrainConfig:
    return TrainConfig(epochs=3, batch_size=64, eval_every=1, device="cpu", show_progress=False)


@pytest.mark.slow
def test_build_then_reload(tiny_interactions: Interactions, tiny_catalog: Catalog, tmp_path: Path) -> None:
    ds = Dataset("tiny", tiny_interactions, tiny_catalog)
    comps = load_components(
        ds,
        data_dir=tmp_path / "data",
        artifacts_dir=tmp_path / "art",
        train_config=_tiny_train_config(),
        show_progress=False,
    )
    assert comps.name == "tiny" and comps.path == tmp_path / "art" / "tiny"
    manifest = json.loads((comps.path / "components.json").read_text())
    # The default was chosen on validation between the graph filter and the text-aware recipe.
    default = manifest["default"]
    assert default["candidates"] == ["graph-filter", "text-lightgcn"] and default["chosen"] == manifest["model"]
    chosen = default["chosen"]
    assert (comps.path / f"retriever-{chosen}.pt").is_file() and f"retriever-{chosen}.pt" in manifest["checkpoints"]
    if "valid_recall" in default["graph-filter"]:
        recalls = {k: default[k]["valid_recall"] for k in default["candidates"]}
        assert chosen == choose_default(recalls)
    assert comps.item_text_embeddings is not None and comps.item_text_embeddings.shape[0] == 7
    assert comps.store is not None and comps.store.count() == 7
    user = comps.train.user_ids[0]
    result = comps.retriever.retrieve(Query(text="pixar toys", user_id=user, k=3))
    assert result.candidates and "semantic" in {s for c in result.candidates for s in c.sources}
    for cand in result.candidates:
        for path in comps.explainer.explain(user, cand.item_index, Query(text="pixar toys")):
            assert comps.explainer.verify(path)
    before = comps.model.item_embeddings().numpy()
    again = load_components(
        ds, data_dir=tmp_path / "data", artifacts_dir=tmp_path / "art", build_missing=False, show_progress=False
    )
    assert type(again.model) is type(comps.model)
    np.testing.assert_allclose(again.model.item_embeddings().numpy(), before, rtol=1e-5, atol=1e-6)
    # A model asked for by name is built (and kept) alongside.
    lgcn = load_components(
        ds, data_dir=tmp_path / "data", artifacts_dir=tmp_path / "art", model="text-lightgcn",
        train_config=_tiny_train_config(), show_progress=False,
    )  # fmt: skip
    assert isinstance(lgcn.model, LightGCN) and (comps.path / "retriever-text-lightgcn.pt").is_file()
    gf = load_components(
        ds, data_dir=tmp_path / "data", artifacts_dir=tmp_path / "art", model="graph-filter", show_progress=False
    )
    assert isinstance(gf.model, GraphFilter) and (comps.path / "retriever-graph-filter.pt").is_file()
    # Asking by name does not change the default that Agent.load serves.
    assert json.loads((comps.path / "components.json").read_text())["default"]["chosen"] == chosen
    # A chat user's likes change the default retriever's candidates.
    only_gnn = RetrieverConfig(weights={"gnn": 1.0})
    bus = Retriever(comps.catalog, comps.train, model=again.model, config=only_gnn)
    first = [c.item_index for c in bus.retrieve(Query(liked_items=(0, 1), k=2)).candidates]
    second = [c.item_index for c in bus.retrieve(Query(liked_items=(3, 4), k=2)).candidates]
    assert first and second and set(first) != set(second)


def test_missing_artifacts_without_build(
    tiny_interactions: Interactions, tiny_catalog: Catalog, tmp_path: Path
) -> None:
    ds = Dataset("tiny", tiny_interactions, tiny_catalog)
    with pytest.raises(FileNotFoundError, match="agentrec index --dataset tiny"):
        load_components(ds, artifacts_dir=tmp_path, build_missing=False, show_progress=False)
    with pytest.raises(ValueError, match="model must be one of"):
        load_components(ds, artifacts_dir=tmp_path, model="gat")


def test_default_choice_reads_validation_recall() -> None:
    assert choose_default({"graph-filter": 0.20, "lightgcn": 0.25}) == "lightgcn"
    assert choose_default({"graph-filter": 0.26, "text-lightgcn": 0.25}) == "graph-filter"
    assert choose_default({"graph-filter": 0.25, "lightgcn": 0.25}) == "graph-filter"  # a tie needs no training
    assert choose_default({"graph-filter": None, "lightgcn": None}) == "graph-filter"
    assert choose_default({"graph-filter": 0.1, "lightgcn": float("nan")}) == "graph-filter"
    with pytest.raises(ValueError, match="at least one candidate"):
        choose_default({})


def test_training_budget_is_stated_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BUDGET_ENV, raising=False)
    assert training_budget() == DEFAULT_BUDGET_S == 900.0
    monkeypatch.setenv(BUDGET_ENV, "45")
    assert training_budget() == 45.0 and converging_train_config(False).time_budget_s == 45.0
    assert training_budget(30.0) == 30.0
    cfg = converging_train_config(False)
    assert cfg.epochs == 400 and cfg.patience == 3 and cfg.eval_every == 5  # early stopping ends it, not epochs
    assert {k: getattr(cfg, k) for k in RECIPE} == dict(RECIPE) and cfg.eval_part == "auto"
    monkeypatch.setenv(BUDGET_ENV, "ten minutes")
    with pytest.raises(ValueError, match="AGENTREC_TRAIN_BUDGET_S must be a number of seconds"):
        training_budget()
    with pytest.raises(ValueError, match="positive number of seconds"):
        training_budget(-1.0)


def test_default_without_validation_is_the_graph_filter(tiny_interactions: Interactions) -> None:
    from agentrec.graph import build_graph
    from agentrec.types import Split

    split = Split(train=tiny_interactions, test=tiny_interactions.subset(np.arange(2)))
    model, name, record = build_default_retriever(build_graph(tiny_interactions), split, None, show_progress=False)
    assert name == "graph-filter" == record["chosen"] and isinstance(model, GraphFilter)
    assert "no validation part" in record["reason"]


def test_default_with_validation_keeps_the_better_candidate(tiny_interactions: Interactions) -> None:
    from agentrec.data.splits import random_split
    from agentrec.graph import build_graph

    split = random_split(tiny_interactions, test_fraction=0.2, valid_fraction=0.2, seed=0)
    model, name, record = build_default_retriever(
        build_graph(split.train), split, None, train_config=_tiny_train_config(), show_progress=False
    )
    recalls = {k: record[k]["valid_recall"] for k in ("graph-filter", "lightgcn")}
    assert record["k"] == 7  # the catalogue is smaller than 20
    assert name == record["chosen"] == choose_default(recalls)
    assert isinstance(model, GraphFilter if name == "graph-filter" else LightGCN)
    assert record["lightgcn"]["epochs_run"] >= 1 and record["lightgcn"]["stopped"]


def test_default_tries_both_recipes_when_none_is_given(
    tiny_interactions: Interactions, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentrec.data.splits import random_split
    from agentrec.graph import build_graph

    monkeypatch.setenv(BUDGET_ENV, "5")
    split = random_split(tiny_interactions, test_fraction=0.2, valid_fraction=0.2, seed=0)
    graph = build_graph(split.train)
    model, name, record = build_default_retriever(graph, split, None, show_progress=False)
    assert record["candidates"] == ["graph-filter", "lightgcn", "lightgcn (softmax)"]
    assert record["lightgcn"]["loss"] == "bpr" and record["lightgcn (softmax)"]["loss"] == "full"
    recalls = {k: record[k]["valid_recall"] for k in record["candidates"]}
    assert record["chosen"] == choose_default(recalls)
    assert name == record["chosen"].split(" (")[0]  # the model name the checkpoint is saved under
    assert isinstance(model, GraphFilter if name == "graph-filter" else LightGCN)
    cfg = softmax_train_config(graph.num_users, False)
    assert cfg.batch_size == 32 and cfg.loss == "full" and cfg.time_budget_s == 5.0  # about 20 steps per epoch
    assert (
        softmax_train_config(29_858, False).batch_size == 1024 and softmax_train_config(4000, False).batch_size == 200
    )


def test_describe_default_says_which_and_why(monkeypatch: pytest.MonkeyPatch) -> None:
    record = {
        "candidates": ["graph-filter", "lightgcn"],
        "k": 20,
        "chosen": "graph-filter",
        "graph-filter": {"valid_recall": 0.2712},
        "lightgcn": {"valid_recall": 0.2601, "epochs_run": 95},
    }
    line = describe_default({"default": record, "model": "graph-filter"})
    assert line == "graph-filter (chosen on validation Recall@20: graph-filter 0.2712, lightgcn 0.2601)"
    no_valid = {"chosen": "graph-filter", "reason": "the split has no validation part: the training-free filter"}
    assert "no validation part" in describe_default({"default": no_valid})
    assert describe_default({"model": "text-lightgcn"}) == (
        "text-lightgcn (built before the default was chosen on validation)"
    )
    monkeypatch.setenv(BUDGET_ENV, "300")
    assert "not built yet" in describe_default({}) and "within 300 s" in describe_default({})


@pytest.mark.data
def test_data_info_names_the_default_retriever(shared_data: Path, tmp_path: Path, capsys) -> None:
    from agentrec.cli import main

    args = ["data", "info", "--dataset", "ml-100k", "--data-dir", str(shared_data), "--artifacts-dir", str(tmp_path)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "default retriever:" in printed and "not built yet" in printed
    (tmp_path / "ml-100k").mkdir()
    record = {"candidates": ["graph-filter", "text-lightgcn"], "k": 20, "chosen": "text-lightgcn"}
    record |= {"graph-filter": {"valid_recall": 0.25}, "text-lightgcn": {"valid_recall": 0.26}}
    (tmp_path / "ml-100k" / "components.json").write_text(json.dumps({"default": record, "model": "text-lightgcn"}))
    assert main([*args, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["default_retriever"] == (
        "text-lightgcn (chosen on validation Recall@20: graph-filter 0.2500, text-lightgcn 0.2600)"
    )
