"""Scale-out on torch.distributed: sharding, sharded evaluation and batch scoring; torchrun with 2 gloo ranks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from agentrec import distributed as dist
from agentrec.cli import main
from agentrec.distributed_score import read_recommendations, recommend_all, write_shard
from agentrec.evaluate import combine, evaluate, evaluate_distributed, evaluate_partial
from agentrec.graph import build_graph
from agentrec.models.baselines import Popularity
from agentrec.models.graphfilter import GraphFilter, GraphFilterConfig
from agentrec.models.lightgcn import LightGCN, LightGCNConfig
from agentrec.types import Interactions

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _random_parts(seed: int = 0, users: int = 70, items: int = 45) -> tuple[Interactions, Interactions]:
    rng = np.random.default_rng(seed)
    pairs = {(int(u), int(i)) for u, i in zip(rng.integers(0, users, 900), rng.integers(0, items, 900), strict=True)}
    pairs_l = sorted(pairs)
    rng.shuffle(pairs_l)
    cut = int(0.75 * len(pairs_l))
    uids, iids = tuple(f"u{u}" for u in range(users)), tuple(f"i{i}" for i in range(items))

    def part(rows: list[tuple[int, int]]) -> Interactions:
        u, i = (np.array(x, dtype=np.int64) for x in zip(*rows, strict=True))
        return Interactions(u, i, uids, iids)

    return part(pairs_l[:cut]), part(pairs_l[cut:])


def _models(train: Interactions) -> list:
    graph = build_graph(train)
    return [
        LightGCN(graph, LightGCNConfig(embedding_dim=8, num_layers=2, seed=3)),
        GraphFilter(graph, GraphFilterConfig(rank=12, ideal_rank=6, device="cpu", block_size=16)),
        Popularity(graph),
    ]


def test_shard_range_covers_everything_in_rank_order() -> None:
    for n in (0, 1, 7, 100):
        for world in (1, 2, 3, 8):
            blocks = [dist.shard_range(n, r, world) for r in range(world)]
            assert blocks[0][0] == 0 and blocks[-1][1] == n
            assert all(a[1] == b[0] for a, b in zip(blocks, blocks[1:], strict=False))
            assert max(e - s for s, e in blocks) - min(e - s for s, e in blocks) <= 1
    with pytest.raises(ValueError, match="0 <= rank < world_size"):
        dist.shard_range(10, 2, 2)


def test_single_process_helpers_are_the_identity(monkeypatch) -> None:
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    ctx = dist.init_from_env("cpu")
    assert (ctx.rank, ctx.world_size, ctx.is_main, ctx.distributed) == (0, 1, True, False)
    assert dist.all_reduce_sum([1.5, 2.0]) == [1.5, 2.0]
    assert dist.agree(True) and not dist.agree(False) and dist.any_rank(True)
    assert dist.all_gather_objects({"a": 1}) == [{"a": 1}]
    with dist.main_first():
        pass
    dist.finish()  # nothing to leave


def test_torchrun_variables_that_make_no_sense_are_named(monkeypatch) -> None:
    monkeypatch.setenv("WORLD_SIZE", "two")
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(ValueError, match="WORLD_SIZE must be a whole number"):
        dist.init_from_env("cpu")


@pytest.mark.parametrize("batch_size", [1, 7, 2048])
def test_sharded_evaluation_equals_one_process_exactly(batch_size: int) -> None:
    train, test = _random_parts()
    for model in _models(train):
        whole = evaluate(model, (train, test), ks=(5, 10), batch_size=batch_size, cold_items=[0, 1])
        for world in (2, 3, 5):
            parts = [
                evaluate_partial(model, (train, test), (5, 10), batch_size, 0.8, [0, 1], "test", False, r, world)
                for r in range(world)
            ]
            merged = combine(parts)
            assert merged.values == whole.values, (model.name, world)  # exactly, not approximately
            assert merged.num_users == whole.num_users and merged.counts == whole.counts
    # without a process group the distributed form is the plain one
    assert evaluate_distributed(model, (train, test), ks=(5,)).values == evaluate(model, (train, test), ks=(5,)).values


def test_sharded_evaluation_rejects_a_bad_rank() -> None:
    train, test = _random_parts()
    model = Popularity(build_graph(train))
    with pytest.raises(ValueError, match="rank must be in"):
        evaluate_partial(model, (train, test), rank=3, world_size=3)
    with pytest.raises(ValueError, match="at least one EvalPartial"):
        combine([])


def test_recommend_all_shards_are_the_single_process_lists(tmp_path: Path) -> None:
    train, _ = _random_parts()
    for model in _models(train)[:2]:
        want_scores, want_items = model.recommend(np.arange(model.num_users), 6)
        manifest = recommend_all(model, tmp_path / "one", 6, train.user_ids, train.item_ids, batch_size=11)
        assert manifest["world_size"] == 1 and manifest["rows"] == 6 * model.num_users
        one = read_recommendations(tmp_path / "one")
        entries = [
            write_shard(model, tmp_path / "three", 6, train.user_ids, train.item_ids, r, 3, batch_size=5)
            for r in range(3)
        ]
        three = pd.concat([pd.read_parquet(tmp_path / "three" / e["path"]) for e in entries], ignore_index=True)
        pd.testing.assert_frame_equal(one, three)
        assert [e["first_user"] for e in entries] == [0, 23, 46] and sum(e["users"] for e in entries) == 70
        np.testing.assert_array_equal(one["item_index"].to_numpy().reshape(-1, 6), want_items)
        np.testing.assert_allclose(one["score"].to_numpy().reshape(-1, 6), want_scores, rtol=1e-6)
        assert one["user_id"].iloc[0] == "u0" and one["item_id"].iloc[0] == f"i{want_items[0, 0]}"
        assert list(one["rank"].iloc[:6]) == [1, 2, 3, 4, 5, 6]
        seen = set(zip(train.user_index.tolist(), train.item_index.tolist(), strict=True))
        assert not seen & set(zip(one["user_index"], one["item_index"], strict=True))  # training items dropped


def test_recommend_all_bad_input(tmp_path: Path, capsys) -> None:
    train, _ = _random_parts()
    model = Popularity(build_graph(train))
    with pytest.raises(ValueError, match="k must be an integer in"):
        write_shard(model, tmp_path, 0, train.user_ids, train.item_ids)
    with pytest.raises(ValueError, match="pass the ids of the data"):
        write_shard(model, tmp_path, 3, train.user_ids[:-1], train.item_ids)
    with pytest.raises(FileNotFoundError, match="agentrec recommend-all"):
        read_recommendations(tmp_path / "nothing")
    assert main(["recommend-all", "--checkpoint", str(tmp_path / "nope.pt"), "--out", str(tmp_path / "o")]) == 1
    assert "nope.pt' does not exist" in capsys.readouterr().err
    assert main(["recommend-all", "--checkpoint", "x.pt", "--out", "o", "--batch-size", "0"]) == 1
    assert "--batch-size must be a positive integer" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _torchrun(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--nnodes", "1"]
    cmd += ["--master_addr", "127.0.0.1", "--master_port", str(_free_port()), "-m", "agentrec", *args]
    return subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=240)


@pytest.mark.data
@pytest.mark.slow
def test_torchrun_two_ranks_match_one_process(tmp_path: Path, shared_data: Path, capsys) -> None:
    """2 gloo ranks train LightGCN on ml-100k as 1 process does; rank 0's checkpoint loads in one process.

    The exact full softmax samples nothing, so both runs take the same steps on the same batches: they differ
    only by float rounding (the gradient is summed in two halves). Tolerance: 2e-3 on the test metrics.
    """
    common = ["--dataset", "ml-100k", "--model", "lightgcn", "--loss", "full", "--epochs", "5", "--lr", "0.02"]
    common += ["--batch-size", "256", "--eval-every", "1", "--patience", "2", "--threads", "1", "--no-progress"]
    common += ["--data-dir", str(shared_data), "--artifacts-dir", str(tmp_path / "art")]
    assert main(["train", *common, "--out", str(tmp_path / "one")]) == 0
    capsys.readouterr()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": "lo"}
    run = _torchrun(["train", *common, "--out", str(tmp_path / "two")], env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "x 2 processes (gloo)" in run.stdout
    one = json.loads((tmp_path / "one" / "lightgcn.json").read_text())
    two = json.loads((tmp_path / "two" / "lightgcn.json").read_text())
    assert one["world_size"] == 1 and two["world_size"] == 2
    h1, h2 = one["history"], two["history"]
    assert h1["epochs"] == h2["epochs"] and h1["stopped"] == h2["stopped"] and h1["best_epoch"] == h2["best_epoch"]
    np.testing.assert_allclose(h1["loss"], h2["loss"], rtol=1e-3)
    for key in ("recall@20", "ndcg@20", "precision@20", "hit@20"):
        assert abs(one["test_metrics"][key] - two["test_metrics"][key]) <= 2e-3, key

    # rank 0's checkpoint loads in one process; its sharded test metrics equal one process's exactly
    from agentrec.data import prepare_dataset
    from agentrec.models.registry import load_model

    prepared = prepare_dataset("ml-100k", data_dir=shared_data, artifacts_dir=tmp_path / "art", split="auto", seed=0)
    model = load_model(tmp_path / "two" / "lightgcn.pt", build_graph(prepared.split.train))
    single = evaluate(model, prepared.split, ks=(20,), part="test").to_dict()
    assert single == two["test_metrics"]

    # recommend-all over 2 ranks: two files and a manifest, the lists one process makes
    run = _torchrun(["recommend-all", "--checkpoint", str(tmp_path / "two" / "lightgcn.pt"), "--k", "10"]
                    + ["--out", str(tmp_path / "recs"), "--artifacts-dir", str(tmp_path / "art")]
                    + ["--data-dir", str(shared_data)], env)  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    manifest = json.loads((tmp_path / "recs" / "manifest.json").read_text())
    assert manifest["world_size"] == 2 and [f["rank"] for f in manifest["files"]] == [0, 1]
    assert manifest["rows"] == 10 * model.num_users
    recs = read_recommendations(tmp_path / "recs")
    _, items = model.recommend(np.arange(model.num_users), 10)
    np.testing.assert_array_equal(recs["item_index"].to_numpy().reshape(-1, 10), items)
