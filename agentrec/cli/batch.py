"""``agentrec recommend-all``: the top-k items of every user to Parquet, sharded over ``torchrun`` ranks."""

from __future__ import annotations

import argparse
import time

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``recommend-all`` sub-command."""
    p = subparsers.add_parser(
        "recommend-all",
        help="write the top-k items of every user to Parquet (one file per process, plus manifest.json)",
        description="Score every user of a trained model's dataset and write the top-k items of each to Parquet. "
        "Under torchrun (torchrun --nproc_per_node N -m agentrec recommend-all ...) each process scores a "
        "contiguous block of users and writes its own file; rank 0 writes manifest.json naming them all.",
    )
    p.add_argument("--checkpoint", required=True, help="a .pt file written by agentrec train")
    p.add_argument("--out", required=True, help="output folder (its earlier part files are replaced)")
    p.add_argument("--k", type=int, default=20, help="items per user (default: 20)")
    p.add_argument("--batch-size", type=int, default=1024, help="users scored at once (default: 1024)")
    p.add_argument("--include-seen", action="store_true", help="keep training items in the lists (default: drop)")
    p.add_argument("--dataset", default=None, help="dataset name (default: from the checkpoint's .json)")
    p.add_argument("--split", default=None, help="split kind (default: from the checkpoint's .json, else auto)")
    p.add_argument("--seed", type=int, default=None, help="split seed (default: from the .json, else 0)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads per process (default: torch's)")
    p.add_argument("--data-dir", default=None, help="data root (default: AGENTREC_DATA_DIR)")
    p.add_argument("--artifacts-dir", default=None, help="artifacts root (default: AGENTREC_ARTIFACTS_DIR)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from agentrec import distributed as dist

    if args.batch_size <= 0:
        raise ValueError(f"--batch-size must be a positive integer, got {args.batch_size}")
    if args.threads is not None and args.threads <= 0:
        raise ValueError(f"--threads must be a positive integer, got {args.threads}")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    ctx = dist.init_from_env("cpu")
    try:
        manifest = _write(args)
    except BaseException:
        dist.finish(wait=False)
        raise
    dist.finish()
    if ctx.is_main:
        print(
            f"top-{manifest['k']} of {manifest['num_users']} users ({manifest['rows']} rows) in "
            f"{manifest['seconds']:.1f} s by {manifest['world_size']} process(es): {args.out}/manifest.json"
        )
    return 0


def _write(args: argparse.Namespace) -> dict:
    from agentrec.cli.train import load_checkpoint_data
    from agentrec.distributed_score import recommend_all

    ckpt, prepared, model = load_checkpoint_data(args)
    train = prepared.split.train
    meta = {"checkpoint": str(ckpt), "dataset": prepared.name, "split": prepared.split.name}
    t0 = time.perf_counter()
    manifest = recommend_all(
        model, args.out, args.k, train.user_ids, train.item_ids, args.batch_size, not args.include_seen, meta
    )
    manifest["seconds"] = time.perf_counter() - t0
    return manifest
