"""``agentrec train`` and ``agentrec evaluate``: fit any retriever on a dataset, then score a checkpoint.

``train`` writes, under ``--out`` (default ``<artifacts>/<dataset>/models/<split>/``): ``<model>.pt``
(the checkpoint), ``<model>.png`` (loss and validation Recall/NDCG per epoch), ``<model>.json`` (the data
parameters, the training history and the test metrics, which ``evaluate`` reads to rebuild the split),
and, for trained models, the trainer's ``<model>-state/last.pt`` / ``best.pt`` for ``--resume``.

Both run under ``torchrun --nproc_per_node N -m agentrec train|evaluate ...`` as well: training with
DistributedDataParallel, evaluation sharded over the ranks, rank 0 writing the files (:mod:`agentrec.distributed`).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any, cast

import numpy as np

from agentrec.config import Paths

__all__ = ["item_text_features", "register"]

logger = logging.getLogger(__name__)

SPLITS = ("auto", "random", "cold", "fixed", "temporal")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` and ``evaluate`` sub-commands."""
    from agentrec.models.registry import model_names

    train = subparsers.add_parser("train", help="train a retriever (or build a baseline) and evaluate it on test")
    train.add_argument(
        "--dataset",
        required=True,
        help="dataset name (e.g. ml-latest-small, gowalla), a dataset spec .toml or an artifacts folder",
    )
    train.add_argument("--model", required=True, help=f"one of: {', '.join(model_names())}")
    train.add_argument("--epochs", type=int, default=100, help="maximum epochs (default: 100)")
    train.add_argument("--batch-size", type=int, default=4096, help="positive pairs per step (default: 4096)")
    train.add_argument("--lr", type=float, default=5e-3, help="Adam learning rate (default: 5e-3)")
    train.add_argument("--weight-decay", type=float, default=1e-4, help="L2 on batch embeddings (default: 1e-4)")
    train.add_argument(
        "--loss",
        default="bpr",
        help="bpr, softmax (sampled) or full (exact softmax over all items, per user; fastest to converge) "
        "(default: bpr)",
    )
    train.add_argument("--temperature", type=float, default=0.1, help="softmax temperature (default: 0.1)")
    train.add_argument(
        "--lr-schedule", default="constant", help="constant or cosine (decay over the epochs or the time budget)"
    )
    train.add_argument(
        "--num-negatives", type=int, default=None, help="negatives per positive (bpr) or shared (softmax)"
    )
    train.add_argument(
        "--hard-negatives", type=int, default=0, help="bpr: keep the best-scored of N draws per negative (default: 0)"
    )
    then = train.add_argument_group(
        "second stage", "train on from the first stage's best weights with another loss (e.g. full, then bpr)"
    )
    then.add_argument("--then-loss", default=None, help="bpr, softmax or full (default: no second stage)")
    then.add_argument("--then-epochs", type=int, default=20, help="second-stage epochs (default: 20)")
    then.add_argument("--then-lr", type=float, default=None, help="second-stage learning rate (default: --lr)")
    then.add_argument("--then-weight-decay", type=float, default=None, help="default: --weight-decay")
    then.add_argument("--then-batch-size", type=int, default=None, help="default: --batch-size")
    then.add_argument("--then-hard-negatives", type=int, default=0, help="default: 0 (uniform negatives)")
    then.add_argument("--then-lr-schedule", default="constant", help="constant or cosine (default: constant)")
    train.add_argument("--embedding-dim", type=int, default=64, help="embedding size (default: 64)")
    train.add_argument("--num-layers", type=int, default=None, help="GNN layers (default: 3 LightGCN, 2 GAT)")
    train.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a model config field, e.g. id_dropout=0.3 (text-lightgcn), heads=2 (gat), k_neighbors=50 (text-knn)",
    )
    train.add_argument("--cl-weight", type=float, default=0.0, help="XSimGCL contrastive weight (default: 0, off)")
    train.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default: auto)")
    train.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's; 1 is fastest on a busy machine)"
    )
    train.add_argument("--split", default="auto", help=f"one of {', '.join(SPLITS)} (default: auto)")
    train.add_argument("--seed", type=int, default=0, help="seed of the split, initialisation and sampling")
    train.add_argument("--eval-every", type=int, default=5, help="validate every N epochs (default: 5)")
    train.add_argument("--patience", type=int, default=3, help="stop after N validations without gain (0: never)")
    train.add_argument(
        "--eval-part",
        default="auto",
        choices=["auto", "valid", "test", "none"],
        help="what early stopping watches: auto (valid when the split has one, else nothing), or test for a "
        "benchmark split that ships none, as the LightGCN reference code does on gowalla (default: auto)",
    )
    train.add_argument("--time-budget", type=float, default=None, help="stop training after this many seconds")
    train.add_argument("--k", type=int, default=20, help="cut-off of the reported metrics (default: 20)")
    train.add_argument("--out", default=None, help="output folder (default: <artifacts>/<dataset>/models/<split>)")
    train.add_argument("--resume", action="store_true", help="continue from the last training checkpoint in --out")
    train.add_argument("--data-dir", default=None, help="data root (default: AGENTREC_DATA_DIR)")
    train.add_argument("--artifacts-dir", default=None, help="artifacts root (default: AGENTREC_ARTIFACTS_DIR)")
    train.add_argument("--no-progress", action="store_true", help="hide progress bars")
    train.set_defaults(func=_run_train)

    ev = subparsers.add_parser("evaluate", help="full-ranking test metrics of a saved model")
    ev.add_argument("--checkpoint", required=True, help="a .pt file written by agentrec train")
    ev.add_argument("--dataset", default=None, help="dataset name (default: from the checkpoint's .json)")
    ev.add_argument("--split", default=None, help="split kind (default: from the checkpoint's .json, else auto)")
    ev.add_argument("--seed", type=int, default=None, help="split seed (default: from the .json, else 0)")
    ev.add_argument("--k", type=int, default=20, help="cut-off (default: 20)")
    ev.add_argument("--data-dir", default=None, help="data root (default: AGENTREC_DATA_DIR)")
    ev.add_argument("--artifacts-dir", default=None, help="artifacts root (default: AGENTREC_ARTIFACTS_DIR)")
    ev.set_defaults(func=_run_evaluate)


def item_text_features(
    catalog: Any, artifacts_dir: str | Path, dataset: str, device: str = "auto", show_progress: bool = True
) -> np.ndarray:
    """``(num_items, dim)`` item text embeddings, cached as ``<artifacts>/<dataset>/item_text_embeddings.npy``.

    Raises:
        ValueError: when the catalogue has no item text to embed (e.g. gowalla).
    """
    from agentrec.text.profile import has_item_text

    if not has_item_text(catalog):
        raise ValueError(
            f"dataset {dataset!r} has no item text (only generated titles such as 'Item 12'), so text models "
            "cannot be used; "
            "pick an ID-only model: popularity, mf-bpr, lightgcn or gat"
        )
    from agentrec.text import TextEncoder, default_cache_dir, embed_catalog

    out = Path(artifacts_dir) / dataset / "item_text_embeddings.npy"
    if out.is_file():
        emb = np.load(out)
        if emb.shape[0] == len(catalog):
            return emb.astype(np.float32)
    encoder = TextEncoder.from_name(
        device=device, cache_dir=default_cache_dir(Path(artifacts_dir)), show_progress=show_progress
    )
    emb = embed_catalog(catalog, encoder).astype(np.float32)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.save(out, emb)
    return emb


def _parse_options(items: list[str]) -> dict[str, Any]:
    """``["id_dropout=0.3", "conv=gatv2"]`` -> ``{"id_dropout": 0.3, "conv": "gatv2"}`` (JSON values, else text)."""
    options: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--option must look like KEY=VALUE (e.g. id_dropout=0.3), got {item!r}")
        try:
            options[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            options[key.strip()] = raw
    return options


def _prepare(dataset: str, split: str, seed: int, paths: Paths) -> Any:
    if split not in SPLITS:
        raise ValueError(f"--split must be one of {', '.join(SPLITS)}, got {split!r}")
    from agentrec.data import prepare_dataset

    return prepare_dataset(
        dataset,
        data_dir=paths.data_dir,
        artifacts_dir=paths.artifacts_dir,
        split=cast(Any, split),  # checked against SPLITS above
        seed=seed,
    )


def _format_metrics(metrics: dict[str, float], k: int) -> str:
    keys = [f"{m}@{k}" for m in ("recall", "ndcg", "precision", "hit", "coverage")]
    keys += [key for key in sorted(metrics) if key.startswith(("tail_", "cold_"))]
    return "\n".join(f"  {key:<18} {metrics[key]:.4f}" for key in keys if key in metrics)


def _run_train(args: argparse.Namespace) -> int:
    from agentrec.device import resolve_device
    from agentrec.models.registry import MODELS

    if args.model not in MODELS:
        raise ValueError(f"unknown model {args.model!r}; valid models are: {', '.join(MODELS)}")
    spec = MODELS[args.model]
    for flag, loss in (("--loss", args.loss), ("--then-loss", args.then_loss)):
        if loss is not None and loss not in ("bpr", "softmax", "full"):
            raise ValueError(f"{flag} must be bpr, softmax or full, got {loss!r}")
    if args.then_loss and args.resume:
        raise ValueError("--resume continues a single-stage run; drop --then-loss or --resume")
    if args.k <= 0:
        raise ValueError(f"--k must be a positive integer, got {args.k}")
    if args.threads is not None and args.threads <= 0:
        raise ValueError(f"--threads must be a positive integer, got {args.threads}")
    options = _parse_options(args.option)
    device = resolve_device(args.device)  # fail before loading anything when CUDA is missing
    from agentrec import distributed as dist

    ctx = dist.init_from_env(args.device)  # under torchrun: join the process group
    try:
        code = _train(args, spec, options, device, ctx)
    except BaseException:
        dist.finish(wait=False)  # the failing rank leaves at once; torchrun stops the others
        raise
    dist.finish()
    return code


def _train(args: argparse.Namespace, spec: Any, options: dict[str, Any], device: Any, ctx: Any) -> int:
    from agentrec import distributed as dist
    from agentrec.device import resolve_device
    from agentrec.models.registry import build_model

    if ctx.distributed and device.type == "cuda":
        device = resolve_device(f"cuda:{ctx.local_rank}")
    paths = Paths.from_env(args.data_dir, args.artifacts_dir)
    with dist.main_first():  # rank 0 prepares and caches the data; the others then read the cache
        prepared = _prepare(args.dataset, args.split, args.seed, paths)
    # An artifacts folder given as --dataset names its own root: <root>/<name>/data/<key>.
    paths = Paths(paths.data_dir, prepared.path.parents[2])
    split_kind = prepared.split.name if args.split == "auto" else args.split
    out = Path(args.out) if args.out else paths.dataset_artifacts(prepared.name) / "models" / split_kind
    from agentrec.evaluate import evaluate_distributed
    from agentrec.graph import build_graph

    graph = build_graph(prepared.split.train)
    features = None
    if spec.needs_text:
        with dist.main_first():
            features = item_text_features(
                prepared.dataset.catalog, paths.artifacts_dir, prepared.name, str(device), not args.no_progress
            )
    if args.model == "graph-filter":
        options.setdefault("device", str(device))  # filtering, not training, is what runs on the device
    model = build_model(
        args.model,
        graph,
        item_features=features,
        embedding_dim=args.embedding_dim,
        num_layers=args.num_layers,
        seed=args.seed,
        **options,
    )
    history: dict[str, Any] | None = None
    start = time.perf_counter()
    if spec.trainable:
        from agentrec.train import TrainConfig
        from agentrec.train_stages import fit_stages, next_stage

        cfg = TrainConfig(
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            weight_decay=args.weight_decay,
            loss=args.loss,
            num_negatives=args.num_negatives or (1 if args.loss == "bpr" else 1024),
            hard_negatives=args.hard_negatives,
            temperature=args.temperature,
            lr_schedule=args.lr_schedule,
            cl_weight=args.cl_weight,
            eval_every=args.eval_every,
            patience=args.patience,
            eval_part=args.eval_part,
            eval_k=args.k,
            seed=args.seed,
            device=str(device),
            num_threads=args.threads,
            time_budget_s=args.time_budget,
            checkpoint_dir=out / f"{args.model}-state",
            resume=args.resume,
            show_progress=not args.no_progress and ctx.is_main,
        )
        # MF-BPR and GAT expose LightGCN's training surface (propagate_all, graph, config), so the same
        # trainer fits them; fit is annotated for LightGCN only.
        stages = [cfg]
        if args.then_loss:
            stages.append(
                next_stage(
                    cfg,
                    loss=args.then_loss,
                    epochs=args.then_epochs,
                    lr=args.then_lr,
                    weight_decay=args.then_weight_decay,
                    batch_size=args.then_batch_size,
                    num_negatives=1 if args.then_loss == "bpr" else 1024,
                    hard_negatives=args.then_hard_negatives,
                    lr_schedule=args.then_lr_schedule,
                    checkpoint_dir=out / f"{args.model}-state-2",
                )
            )
        hist = fit_stages(model, prepared.split, stages, time_budget_s=args.time_budget)  # type: ignore[arg-type]
        history = hist.to_dict()
    train_s = time.perf_counter() - start
    metrics = evaluate_distributed(model, prepared.split, ks=(args.k,), part="test").to_dict()
    ckpt = out / f"{args.model}.pt"
    if not ctx.is_main:
        return 0  # rank 0 writes the checkpoint and the record; every rank holds the same weights
    model.save(ckpt)
    record = {
        "dataset": prepared.name,
        "split": split_kind,
        "split_arg": args.split,
        "seed": args.seed,
        "model": args.model,
        "device": str(device),
        "world_size": ctx.world_size,
        "train_seconds": round(train_s, 2),
        "test_metrics": metrics,
        "history": history,
        "args": {k: v for k, v in vars(args).items() if k != "func"},
    }
    (out / f"{args.model}.json").write_text(json.dumps(record, indent=2, default=str))
    where = f"{device}" + (f" x {ctx.world_size} processes ({ctx.backend})" if ctx.distributed else "")
    print(f"{args.model} on {prepared.name} ({split_kind} split), trained in {train_s:.1f} s on {where}")
    print(f"test metrics ({metrics['num_users']} users):\n{_format_metrics(metrics, args.k)}")
    print(f"checkpoint: {ckpt}")
    if history is not None and history["loss"]:
        curve = _plot(history, out / f"{args.model}.png", f"{args.model} on {prepared.name} ({split_kind})")
        print(f"training curve: {curve}")
    return 0


def _plot(history: dict[str, Any], path: Path, title: str) -> Path:
    from agentrec.plots import plot_training_curve

    evals = history.get("evals") or []
    metric = history.get("metric", "recall@20")
    ndcg = metric.replace("recall", "ndcg")
    return plot_training_curve(
        path,
        losses=history["loss"],
        epochs=[e + 1 for e in history["epochs"]],
        metrics={
            f"{history.get('eval_part')} {metric}": [ev.get(metric) for ev in evals],
            f"{history.get('eval_part')} {ndcg}": [ev.get(ndcg) for ev in evals],
        },  # fmt: skip
        metric_epochs=[int(ev["epoch"]) + 1 for ev in evals],
        title=title,
    )


def load_checkpoint_data(args: argparse.Namespace) -> tuple[Path, Any, Any]:
    """``(checkpoint, prepared data, model)`` for ``--checkpoint`` (dataset, split and seed from its ``.json``).

    Under ``torchrun`` rank 0 prepares the data first and the other ranks read its cache.

    Raises:
        FileNotFoundError: when the checkpoint does not exist.
        ValueError: when the dataset cannot be told, or ``--k`` is outside the catalogue.
    """
    from agentrec import distributed as dist
    from agentrec.graph import build_graph
    from agentrec.models.registry import load_model

    ckpt = Path(args.checkpoint)
    if not ckpt.is_file():
        raise FileNotFoundError(f"checkpoint {str(ckpt)!r} does not exist; train one first with agentrec train")
    if args.k <= 0:
        raise ValueError(f"--k must be a positive integer, got {args.k}")
    sidecar = ckpt.with_suffix(".json")
    record = json.loads(sidecar.read_text()) if sidecar.is_file() else {}
    dataset = args.dataset or record.get("dataset")
    if not dataset:
        raise ValueError(f"no --dataset given and no {sidecar.name} next to the checkpoint; pass --dataset NAME")
    split = args.split or record.get("split_arg") or "auto"
    seed = args.seed if args.seed is not None else int(record.get("seed", 0))
    paths = Paths.from_env(args.data_dir, args.artifacts_dir)
    with dist.main_first():
        prepared = _prepare(dataset, split, seed, paths)
    graph = build_graph(prepared.split.train)
    model = load_model(ckpt, graph)  # raises when the checkpoint was trained on other data
    if not 0 < args.k <= model.num_items:
        raise ValueError(f"--k must be in [1, {model.num_items}] (the catalogue size), got {args.k}")
    return ckpt, prepared, model


def _run_evaluate(args: argparse.Namespace) -> int:
    from agentrec import distributed as dist
    from agentrec.evaluate import evaluate_distributed

    ctx = dist.init_from_env("cpu")  # under torchrun: the users are shared out over the ranks
    try:
        ckpt, prepared, model = load_checkpoint_data(args)
        metrics = evaluate_distributed(model, prepared.split, ks=(args.k,), part="test").to_dict()
    except BaseException:
        dist.finish(wait=False)
        raise
    dist.finish()
    if ctx.is_main:
        print(f"{ckpt.name} on {prepared.name} ({prepared.split.name} split), {metrics['num_users']} test users:")
        print(_format_metrics(metrics, args.k))
    return 0
