"""One LightGCN training step on gowalla: ours (CSR SpMM + custom autograd) vs stock PyG ``LightGCN``.

Both models: 64-dim embeddings, 3 layers, the same BPR loss on the same batch of (user, pos, neg)
triples, Adam; only the propagation differs (ours: precomputed normalised CSR adjacency, backward
``A @ grad``; PyG: ``torch_geometric.nn.models.LightGCN`` on ``edge_index``). Measured in the same run;
prints both and the ratio, writes bench/results/propagation.json.

    .venv/bin/python bench/propagation.py --batch-size 2048
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import torch
import torch.nn.functional as F

from agentrec.data import load_dataset
from agentrec.graph import build_graph
from agentrec.models.lightgcn import LightGCN, LightGCNConfig

REPO = Path(__file__).resolve().parents[1]


def _time(step, repeats: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        step()
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        step()
        out.append(time.perf_counter() - t)
    return out


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=os.environ.get("AGENTREC_DATA_DIR", str(REPO.parent / "shared" / "data")))
    p.add_argument("--batch-size", type=int, default=2048)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--pyg-repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", default=str(REPO / "bench" / "results" / "propagation.json"))
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    from torch_geometric.nn.models import LightGCN as PygLightGCN

    device = torch.device(a.device)
    split = load_dataset("gowalla", a.data_dir, download=False).split
    assert split is not None
    graph = build_graph(split.train)
    nu, ni = graph.num_users, graph.num_items
    gen = torch.Generator().manual_seed(0)
    coo = graph.interaction.tocoo()
    pick = torch.randint(coo.nnz, (a.batch_size,), generator=gen)
    users = torch.from_numpy(coo.row).long()[pick].to(device)
    pos = torch.from_numpy(coo.col).long()[pick].to(device)
    neg = torch.randint(ni, (a.batch_size,), generator=gen).to(device)

    def bpr(final: torch.Tensor) -> torch.Tensor:
        u, i, j = final[users], final[nu + pos], final[nu + neg]
        return F.softplus((u * j).sum(-1) - (u * i).sum(-1)).mean()

    ours = LightGCN(graph, LightGCNConfig(embedding_dim=64, num_layers=3)).to(device)
    opt = torch.optim.Adam(ours.parameters(), lr=1e-3, fused=True)

    def our_step() -> None:
        final, _, _ = ours.propagate_all()
        loss = bpr(final)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    pyg = PygLightGCN(num_nodes=nu + ni, embedding_dim=64, num_layers=3).to(device)
    edge_index = graph.edge_index().to(device)
    popt = torch.optim.Adam(pyg.parameters(), lr=1e-3, fused=True)

    def pyg_step() -> None:
        final = pyg.get_embedding(edge_index)
        loss = bpr(final)
        popt.zero_grad(set_to_none=True)
        loss.backward()
        popt.step()

    load_before = os.getloadavg()
    # Interleave to expose both to the same machine load.
    ours_t = _time(our_step, a.repeats, 2)
    pyg_t = _time(pyg_step, a.pyg_repeats, 1)
    ours_t += _time(our_step, a.repeats, 0)
    ours_s, pyg_s = statistics.median(ours_t), statistics.median(pyg_t)
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO).stdout
    result = {
        "benchmark": "propagation",
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": sha.strip(),
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(), "torch": torch.__version__},
        "device": str(device),
        "threads": a.threads,
        "load_avg_before": load_before,
        "load_avg_after": os.getloadavg(),
        "graph": {"num_users": nu, "num_items": ni, "nnz": int(graph.norm_adj.nnz)},
        "batch_size": a.batch_size,
        "ours_step_s": ours_s,
        "pyg_edge_index_step_s": pyg_s,
        "speedup": pyg_s / ours_s,
        "ours_all_s": ours_t,
        "pyg_all_s": pyg_t,
    }
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(
        f"batch {a.batch_size}: ours {ours_s * 1000:.0f} ms/step, stock PyG LightGCN(edge_index) "
        f"{pyg_s * 1000:.0f} ms/step, ratio {pyg_s / ours_s:.1f}x (load {load_before[0]:.1f}) -> {out}"
    )
    return result


if __name__ == "__main__":
    main()
