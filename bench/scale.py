"""Growth curve: time and peak memory as the graph grows, on gowalla with its users replicated x1, x2, x4, ...

Each factor ``F`` makes a synthetic graph whose users are ``F`` copies of gowalla's users (copy ``c`` of user
``u`` is user ``u + c * 29,858`` with the same training and test items); the catalogue stays the 40,981
items, so item degrees and edges grow ``F``-fold. Each factor runs in a fresh process (its own peak memory)
and measures, per stage, the wall time and the peak resident memory of the process (sampled every 5 ms):

* load — read the replicated interactions back from a ``.npz`` and build the ``Interactions``;
* graph — ``build_graph`` (the normalised adjacency);
* train steps — LightGCN steps with the sampled softmax of the gowalla recipe (batch 8192 pairs, 1024 shared
  negatives); an epoch is *projected* as (seconds per step) x (steps per epoch), since whole epochs of the
  larger graphs do not fit the time budget of this run;
* evaluate — full-ranking Recall/NDCG@20 (all 40,981 items ranked per user), LightGCN, timed on a seeded
  sample of 4,096 test users and projected to all of them (every user costs the same);
* filter fit / score — the training-free graph filter's fit (randomized SVD, rank 512 + 128) and the scoring
  of 2,048 users (projected to all users);
* bus — building the candidate bus (``Retriever``) and the per-request latency (p50 / p95 of 100 known-user
  requests, k = 10).

Then samples/s of DistributedDataParallel training on x1 with 1 and 2 gloo ranks (``torchrun``), the same
global batches. JSON to ``bench/results/scale.json``, a plot to ``docs/scale.png``.

    nice -n 10 python bench/scale.py --factors 1,2,4,8
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = os.environ.get("AGENTREC_DATA_DIR", str(REPO.parent / "shared" / "data"))


class PeakRSS:
    """Samples the process's resident memory in a thread; ``stage()`` reports each stage's time and peak."""

    def __init__(self, every_s: float = 0.005) -> None:
        import psutil

        self._proc = psutil.Process()
        self._every = every_s
        self._peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._peak = max(self._peak, self._proc.memory_info().rss)
            time.sleep(self._every)

    def rss_mb(self) -> float:
        return self._proc.memory_info().rss / 2**20

    @contextmanager
    def stage(self, out: dict[str, Any], name: str) -> Iterator[None]:
        before = self._proc.memory_info().rss
        self._peak = before
        t = time.perf_counter()
        yield
        out[f"{name}_s"] = round(time.perf_counter() - t, 3)
        out[f"{name}_peak_rss_mb"] = round(max(self._peak, self._proc.memory_info().rss) / 2**20, 1)
        out[f"{name}_rss_before_mb"] = round(before / 2**20, 1)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def replicate(data_dir: str, factor: int) -> tuple[Any, Any, Any]:
    """``(catalog, train, test)`` of gowalla with its users copied ``factor`` times."""
    from agentrec.data import load_dataset
    from agentrec.types import Interactions

    ds = load_dataset("gowalla", data_dir, download=False)
    assert ds.split is not None
    tr, te = ds.split.train, ds.split.test
    nu = tr.num_users

    def copy(part: Interactions) -> tuple[np.ndarray, np.ndarray]:
        users = np.concatenate([part.user_index + c * nu for c in range(factor)])
        return users, np.tile(part.item_index, factor)

    user_ids = tuple(f"{uid}~{c}" if c else uid for c in range(factor) for uid in tr.user_ids)
    tu, ti = copy(tr)
    su, si = copy(te)
    return ds.catalog, Interactions(tu, ti, user_ids, tr.item_ids), Interactions(su, si, user_ids, tr.item_ids)


def one_factor(data_dir: str, factor: int, steps: int, threads: int, eval_users: int) -> dict[str, Any]:
    """Every stage on the graph of ``factor`` copies (run in its own process)."""
    import torch

    torch.set_num_threads(threads)
    from agentrec.evaluate import evaluate
    from agentrec.graph import build_graph
    from agentrec.models.graphfilter import GraphFilter, GraphFilterConfig
    from agentrec.models.lightgcn import LightGCN, LightGCNConfig
    from agentrec.retrieve import Retriever
    from agentrec.train import TrainConfig
    from agentrec.train_step import Sampler, step_loss
    from agentrec.types import Interactions, Query, Split

    mem = PeakRSS()
    out: dict[str, Any] = {"factor": factor, "rss_start_mb": round(mem.rss_mb(), 1)}
    catalog, train0, test0 = replicate(data_dir, factor)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "interactions.npz"
        np.savez(path, tu=train0.user_index, ti=train0.item_index, su=test0.user_index, si=test0.item_index)
        ids = (train0.user_ids, train0.item_ids)
        del train0, test0
        with mem.stage(out, "load"):
            z = np.load(path)
            train = Interactions(z["tu"], z["ti"], *ids)
            test = Interactions(z["su"], z["si"], *ids)
    out.update(users=train.num_users, items=train.num_items, train_edges=len(train), test_users=factor * 29858)
    with mem.stage(out, "graph"):
        graph = build_graph(train)

    cfg = TrainConfig(loss="softmax", batch_size=8192, num_negatives=1024, max_in_batch=1024, show_progress=False)
    model = LightGCN(graph, LightGCNConfig(embedding_dim=64, similarity="cosine"))
    opt = torch.optim.Adam(list(model.parameters()), lr=5e-3, fused=True)
    gen = torch.Generator().manual_seed(0)
    sampler = Sampler(model, gen)
    r = graph.interaction.tocoo()
    pu, pi = torch.from_numpy(r.row.astype(np.int64)), torch.from_numpy(r.col.astype(np.int64))
    perm = torch.randperm(len(pu), generator=gen)
    model.train()

    def step(s: int) -> None:
        idx = perm[s * cfg.batch_size : (s + 1) * cfg.batch_size]
        loss = step_loss(model, cfg, pu[idx], pi[idx], sampler, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        opt.step()

    step(0)  # warm-up (first kernels, allocator)
    with mem.stage(out, "train_steps"):
        for s in range(1, steps + 1):
            step(s)
    per_step = out["train_steps_s"] / steps
    steps_per_epoch = int(np.ceil(len(pu) / cfg.batch_size))
    out.update(
        train_step_s=round(per_step, 4),
        train_samples_per_s=round(cfg.batch_size / per_step, 1),
        epoch_projected_s=round(per_step * steps_per_epoch, 1),
        steps_per_epoch=steps_per_epoch,
        steps_measured=steps,
    )
    model.eval()
    model.invalidate_cache()
    # Every user costs the same (all 40,981 items ranked): time a seeded sample, project to all test users.
    chosen = np.random.default_rng(0).choice(train.num_users, size=min(eval_users, train.num_users), replace=False)
    keep = np.isin(test.user_index, chosen)
    sample = Interactions(test.user_index[keep], test.item_index[keep], *ids)
    with mem.stage(out, "evaluate_sample"):
        m = evaluate(model, Split(train=train, test=sample), ks=(20,), part="test")
    out["evaluate_sample_users"] = m.num_users
    out["evaluate_projected_s"] = round(out["evaluate_sample_s"] * len(np.unique(test.user_index)) / m.num_users, 1)
    out["evaluate_recall@20"] = round(m["recall@20"], 4)  # after a few steps only: a smoke value, not quality

    with mem.stage(out, "filter_fit"):
        gf = GraphFilter(graph, GraphFilterConfig(device="cpu"))
    users = np.arange(2048)
    with mem.stage(out, "filter_score_2048"):
        gf.score(users)
    out["filter_score_all_projected_s"] = round(out["filter_score_2048_s"] * train.num_users / 2048, 1)
    del gf

    with mem.stage(out, "bus_build"):
        bus = Retriever(catalog, train, model=model)
    rng = np.random.default_rng(0)
    lat = []
    for u in rng.integers(0, train.num_users, 100):
        t = time.perf_counter()
        bus.retrieve(Query(user_id=train.user_ids[int(u)], k=10))
        lat.append(time.perf_counter() - t)
    out["bus_request_p50_ms"] = round(1000 * float(np.percentile(lat, 50)), 2)
    out["bus_request_p95_ms"] = round(1000 * float(np.percentile(lat, 95)), 2)
    mem.close()
    import resource

    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def ddp_throughput(data_dir: str, steps: int) -> dict[str, Any]:
    """Samples/s of DDP steps on gowalla x1 (run under torchrun; 1 rank = no DDP, the plain step)."""
    import torch

    from agentrec import distributed as dist
    from agentrec.graph import build_graph
    from agentrec.models.lightgcn import LightGCN, LightGCNConfig
    from agentrec.train import TrainConfig
    from agentrec.train_step import Sampler, StepModule, step_loss, units

    ctx = dist.init_from_env("cpu")
    _, train, _ = replicate(data_dir, 1)
    graph = build_graph(train)
    cfg = TrainConfig(loss="softmax", batch_size=8192, num_negatives=1024, max_in_batch=1024, show_progress=False)
    model = LightGCN(graph, LightGCNConfig(embedding_dim=64, similarity="cosine"))
    opt = torch.optim.Adam(list(model.parameters()), lr=5e-3, fused=True)
    gen = torch.Generator().manual_seed(0)
    sgen = torch.Generator().manual_seed(1 + ctx.rank)
    sampler = Sampler(model, sgen)
    r = graph.interaction.tocoo()
    pu, pi = torch.from_numpy(r.row.astype(np.int64)), torch.from_numpy(r.col.astype(np.int64))
    perm = torch.randperm(len(pu), generator=gen)
    ddp: Callable[..., Any] | None = None
    if ctx.distributed:
        from torch.nn.parallel import DistributedDataParallel

        ddp = DistributedDataParallel(StepModule(model, cfg, sampler, sgen), forward_sync_buffers=False)

    def step(s: int) -> None:
        idx = perm[s * cfg.batch_size : (s + 1) * cfg.batch_size]
        if ddp is None:
            loss = step_loss(model, cfg, pu[idx], pi[idx], sampler, sgen)
        else:
            lo, hi = dist.shard_range(len(idx), ctx.rank, ctx.world_size)
            scale = ctx.world_size * units(cfg, sampler, pu[idx[lo:hi]]) / units(cfg, sampler, pu[idx])
            loss = ddp(pu[idx[lo:hi]], pi[idx[lo:hi]], scale)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step(0)
    dist.barrier()
    t = time.perf_counter()
    for s in range(1, steps + 1):
        step(s)
    dist.barrier()
    seconds = time.perf_counter() - t
    dist.finish()
    return {
        "world_size": ctx.world_size,
        "threads_per_rank": torch.get_num_threads(),
        "steps": steps,
        "seconds": round(seconds, 2),
        "samples_per_s": round(steps * cfg.batch_size / seconds, 1),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _child(args: list[str], env: dict[str, str] | None = None, torchrun: int = 0) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        result = Path(f.name)
    cmd = [sys.executable]
    if torchrun:
        cmd += ["-m", "torch.distributed.run", "--nproc_per_node", str(torchrun), "--nnodes", "1"]
        cmd += ["--master_addr", "127.0.0.1", "--master_port", str(_free_port())]
    cmd += [str(Path(__file__).resolve()), *args, "--result", str(result)]
    run_env = {**os.environ, **(env or {}), "PYTHONPATH": str(REPO)}
    subprocess.run(cmd, check=True, cwd=REPO, env=run_env)
    data: dict[str, Any] = json.loads(result.read_text())
    result.unlink()
    return data


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    rows = results["factors"]
    f = [r["factor"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(14, 4.6), gridspec_kw={"width_ratios": [1.25, 1]})
    for key, label in (
        ("load_s", "load"),
        ("graph_s", "graph build"),
        ("epoch_projected_s", "LightGCN epoch (projected)"),
        ("evaluate_projected_s", "evaluate, all test users (projected)"),
        ("filter_fit_s", "graph filter fit"),
        ("filter_score_all_projected_s", "graph filter, score all (projected)"),
        ("bus_build_s", "bus build"),
    ):
        a.plot(f, [r[key] for r in rows], marker="o", label=label)
    a.plot(f, [r["bus_request_p95_ms"] / 1000 for r in rows], marker="s", ls="--", label="bus request p95")
    a.set(xscale="log", yscale="log", xlabel="gowalla users x", ylabel="seconds", title="time (2 cores, load 10-15)")
    a.set_xticks(f, [str(x) for x in f])
    a.xaxis.set_minor_formatter(NullFormatter())
    a.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    for key, label in (
        ("graph_peak_rss_mb", "graph build"),
        ("train_steps_peak_rss_mb", "training"),
        ("evaluate_sample_peak_rss_mb", "evaluate"),
        ("filter_fit_peak_rss_mb", "graph filter fit"),
        ("bus_build_peak_rss_mb", "bus build"),
    ):
        b.plot(f, [r[key] / 1024 for r in rows], marker="o", label=label)
    b.set(xscale="log", yscale="log", xlabel="gowalla users x", ylabel="GB (process peak RSS)", title="memory")
    b.set_xticks(f, [str(x) for x in f])
    b.xaxis.set_minor_formatter(NullFormatter())
    b.yaxis.set_minor_formatter(NullFormatter())
    b.set_yticks([0.25, 0.5, 1, 2, 4, 8], ["0.25", "0.5", "1", "2", "4", "8"])
    b.legend(fontsize=7, loc="upper left")
    fig.suptitle("agentrec growth curve (CPU-2, 2 cores; times under shared load)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=DEFAULT_DATA)
    p.add_argument("--factors", default="1,2,4,8", help="comma-separated replication factors")
    p.add_argument("--steps", type=int, default=4, help="training steps measured per factor")
    p.add_argument("--ddp-steps", type=int, default=12, help="steps measured for 1 vs 2 ranks (0: skip)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--eval-users", type=int, default=4096, help="test users evaluated per factor (projected)")
    p.add_argument("--out", default=str(REPO / "bench" / "results" / "scale.json"))
    p.add_argument("--plot", default=str(REPO / "docs" / "scale.png"))
    p.add_argument("--append", action="store_true", help="add these factors to the rows already in --out")
    p.add_argument("--replot", action="store_true", help="only redraw --plot from --out")
    p.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--ddp", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--result", default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.one is not None or a.ddp:  # a child process
        res = one_factor(a.data_dir, a.one, a.steps, a.threads, a.eval_users) if a.one is not None else None
        if a.ddp:
            res = ddp_throughput(a.data_dir, a.ddp_steps)
            if int(os.environ.get("RANK", "0")) != 0:
                return res
        Path(a.result).write_text(json.dumps(res))
        return res
    if a.replot:
        plot(json.loads(Path(a.out).read_text()), Path(a.plot))
        return {}
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO)
    results: dict[str, Any] = {
        "machine": "CPU-2 shared VM, 2 cores",
        "python": platform.python_version(),
        "commit": head.stdout.strip(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_avg_start": os.getloadavg(),
        "threads": a.threads,
        "factors": [],
    }
    if a.append and Path(a.out).is_file():  # a later run adds rows (each row keeps its own load and commit)
        earlier = json.loads(Path(a.out).read_text())
        results = {**earlier, "appended": [*earlier.get("appended", []), results]}
    for factor in (int(x) for x in a.factors.split(",")):
        print(f"x{factor} ...", flush=True)
        row = _child(["--one", str(factor), "--steps", str(a.steps), "--threads", str(a.threads)]
                     + ["--eval-users", str(a.eval_users)])  # fmt: skip
        row["load_avg"] = os.getloadavg()
        row["commit"] = head.stdout.strip()
        print(json.dumps(row), flush=True)
        results["factors"].append(row)
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(json.dumps(results, indent=2))  # what is done so far survives an interruption
    if a.ddp_steps and not a.append:
        ddp = []
        for ranks, threads in ((1, 1), (1, 2), (2, 1)):
            env = {"OMP_NUM_THREADS": str(threads), "GLOO_SOCKET_IFNAME": "lo"}
            row = _child(["--ddp", "--ddp-steps", str(a.ddp_steps)], env=env, torchrun=ranks)
            row["load_avg"] = os.getloadavg()
            print(json.dumps(row), flush=True)
            ddp.append(row)
        results["ddp_x1"] = ddp
    if not a.append:
        results["load_avg_end"] = os.getloadavg()
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(results, indent=2))
    plot(results, Path(a.plot))
    print(f"wrote {a.out} and {a.plot}")
    return results


if __name__ == "__main__":
    main()
