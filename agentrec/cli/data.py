"""``agentrec data info`` and ``agentrec data prepare``: inspect and persist a dataset."""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["register"]

_SPLITS = ("auto", "fixed", "random", "temporal", "cold", "none")


def _add_source(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--dataset",
        default=None,
        help="dataset name (ml-latest-small, gowalla, amazon-scientific, ...), a dataset spec file (.toml) or an "
        "artifacts folder",
    )
    p.add_argument("--data-dir", default=None, help="raw data root (default: $AGENTREC_DATA_DIR or the user cache)")
    p.add_argument("--no-download", action="store_true", help="fail instead of downloading a missing MovieLens set")
    p.add_argument("--lenient", action="store_true", help="skip malformed rows (counted, with a warning)")
    p.add_argument("--no-enrich", action="store_true", help="do not join TMDB overviews/keywords into MovieLens")
    own = p.add_argument_group("your own data (instead of --dataset)")
    own.add_argument("--interactions", default=None, help="CSV/TSV/Parquet file with one row per interaction")
    own.add_argument("--name", default=None, help="name of your dataset (default: the file name)")
    own.add_argument("--user-col", default="user_id", help="user id column (user_id)")
    own.add_argument("--item-col", default="item_id", help="item id column (item_id)")
    own.add_argument("--rating-col", default=None, help="rating column (optional)")
    own.add_argument("--timestamp-col", default=None, help="time column: unix seconds or dates (optional)")
    own.add_argument("--items", default=None, help="items table (CSV/TSV/Parquet, optional)")
    own.add_argument("--item-id-col", default=None, help="item id column of the items table (default: --item-col)")
    own.add_argument("--title-col", default=None, help="title column of the items table (default: title)")
    own.add_argument("--text-cols", default=None, help="comma-separated items-table columns used as item text")
    own.add_argument("--genre-col", default=None, help="genres column of the items table")
    own.add_argument("--genre-sep", default="|", help="separator inside the genres column (|)")
    own.add_argument("--year-col", default=None, help="year column of the items table")
    own.add_argument("--sep", default=None, help="CSV delimiter (default: from the file extension)")


def _add_split(p: argparse.ArgumentParser, choices: tuple[str, ...]) -> None:
    p.add_argument(
        "--split",
        default="auto",
        choices=choices,
        help="which split (auto: the spec's [split], else the shipped split, else random; the report says which)",
    )
    p.add_argument("--seed", type=int, default=None, help="random seed (the spec's, else 0)")
    p.add_argument("--test-fraction", type=float, default=None, help="per-user test share of the random split (0.2)")
    p.add_argument("--valid-fraction", type=float, default=None, help="per-user validation share; 0 for none (0.1)")
    p.add_argument("--cold-fraction", type=float, default=None, help="item share held out by the cold split (0.1)")
    p.add_argument("--implicit-threshold", type=float, default=None, help="keep ratings >= this as positives")
    p.add_argument("--kcore", type=int, default=None, help="k-core filter for users and items (0: none)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")


def register(subparsers: Any) -> None:
    """Add the ``data`` command with ``info`` and ``prepare``."""
    p = subparsers.add_parser("data", help="inspect or prepare a dataset", description="Dataset tools.")
    sub = p.add_subparsers(dest="data_command", metavar="ACTION")
    info = sub.add_parser(
        "info",
        help="users, items, interactions, density, rating range, split sizes, default retriever",
        description="Load a dataset and print users, items, interactions, density, rating range, the sizes "
        "of a split (train/valid/test, cold items) and which retriever Agent.load serves (the graph filter or "
        "the LightGCN recipe, whichever won on validation when built). Nothing is written.",
    )
    _add_source(info)
    _add_split(info, _SPLITS)
    info.add_argument("--artifacts-dir", default=None, help="artifacts root, for the default retriever line")
    info.set_defaults(func=_info)
    prep = sub.add_parser(
        "prepare",
        help="transform, split and persist a dataset as Parquet",
        description="Load, transform (implicit threshold, k-core), split and persist a dataset under "
        "<artifacts-dir>/<name>/data/<params-hash>/ so later stages never re-parse raw files.",
    )
    _add_source(prep)
    _add_split(prep, _SPLITS[:-1])
    prep.add_argument("--artifacts-dir", default=None, help="artifacts root (default: $AGENTREC_ARTIFACTS_DIR)")
    prep.add_argument("--force", action="store_true", help="rebuild even when a persisted copy exists")
    prep.set_defaults(func=_prepare)
    p.set_defaults(func=lambda args: _no_action(p))


def _no_action(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return 2


def _load(args: argparse.Namespace) -> Any:
    """The loaded Dataset and the source it came from (a built-in name, a DatasetSpec or the Dataset)."""
    from agentrec.config import Paths
    from agentrec.data import load_dataset, resolve_dataset
    from agentrec.data.loaders import load_tabular
    from agentrec.data.spec import DatasetSpec

    if args.interactions and args.dataset:
        raise ValueError("pass either --dataset NAME or --interactions FILE, not both")
    if args.interactions:
        ds = load_tabular(
            args.interactions,
            user_col=args.user_col,
            item_col=args.item_col,
            rating_col=args.rating_col,
            timestamp_col=args.timestamp_col,
            items_path=args.items,
            item_id_col=args.item_id_col,
            title_col=args.title_col,
            text_cols=[c.strip() for c in args.text_cols.split(",") if c.strip()] if args.text_cols else None,
            genre_col=args.genre_col,
            genre_sep=args.genre_sep,
            year_col=args.year_col,
            sep=args.sep,
            strict=not args.lenient,
            name=args.name,
        )
        return ds, ds
    from agentrec.data import DATASETS

    if not args.dataset:
        raise ValueError(
            f"--dataset is required (one of {sorted(DATASETS)}, or a dataset spec .toml), or pass --interactions FILE"
        )
    source, _ = resolve_dataset(
        args.dataset, Paths.from_env(args.data_dir, getattr(args, "artifacts_dir", None)).artifacts_dir
    )
    if isinstance(source, DatasetSpec):
        return source.load(strict=not args.lenient), source
    assert isinstance(source, str), "a --dataset string resolves to a name or a spec"
    ds = load_dataset(
        source, args.data_dir, strict=not args.lenient, enrich=not args.no_enrich, download=not args.no_download
    )
    return ds, source


def _split_of(ds: Any, source: Any, args: argparse.Namespace) -> tuple[Any, Any, str]:
    from agentrec.data.prepare import split_dataset
    from agentrec.data.spec import describe_split, split_options

    if args.split == "none":
        return ds, None, ""
    opts, origin = split_options(
        source,
        args.split,
        seed=args.seed,
        test_fraction=args.test_fraction,
        valid_fraction=args.valid_fraction,
        cold_fraction=args.cold_fraction,
        implicit_threshold=args.implicit_threshold,
        kcore=args.kcore,
    )
    ds2, split = split_dataset(ds, **opts)  # type: ignore[arg-type]
    return ds2, split, describe_split(split, origin, opts)


def _report(ds: Any, split: Any, extra: dict[str, Any] | None = None, note: str = "") -> dict[str, Any]:
    from agentrec.data.splits import split_sizes

    out: dict[str, Any] = dict(ds.summary())
    if split is not None:
        out["split"] = split.name
        if note:
            out["split_note"] = note
        out.update({f"split_{k}": v for k, v in split_sizes(split).items()})
    out.update(extra or {})
    return out


def _print(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(report, indent=2, default=str))
        return
    labels = {"items_with_interactions": "items with interactions"}
    for key, value in report.items():
        label = labels.get(key, key.replace("_", " "))
        if key == "density":
            text = f"{value:.6f} ({value * 100:.4f}%)"
        elif isinstance(value, int) and not isinstance(value, bool) and "timestamp" not in key:
            text = f"{value:,}"
        else:
            text = str(value)
        print(f"{label + ':':<26}{text}")


def _info(args: argparse.Namespace) -> int:
    ds, source = _load(args)
    ds2, split, note = _split_of(ds, source, args)
    _print(_report(ds2, split, {"default_retriever": _default_retriever(ds2.name, args)}, note=note), args.json)
    return 0


def _default_retriever(name: str, args: argparse.Namespace) -> str:
    """Which retriever ``Agent.load`` serves for this dataset (from its built artifacts, if any)."""
    from agentrec.artifacts_retriever import describe_default
    from agentrec.config import Paths

    file = Paths.from_env(args.data_dir, args.artifacts_dir).dataset_artifacts(name) / "components.json"
    try:
        manifest = json.loads(file.read_text()) if file.is_file() else {}
    except (OSError, ValueError):
        manifest = {}
    return describe_default(manifest if isinstance(manifest, dict) else {})


def _prepare(args: argparse.Namespace) -> int:
    from agentrec.data import prepare_dataset

    source: Any = args.dataset
    if args.interactions or not args.dataset:
        source = _load(args)[0]
    prepared = prepare_dataset(
        source,
        data_dir=args.data_dir,
        artifacts_dir=args.artifacts_dir,
        split=args.split,
        seed=args.seed,
        test_fraction=args.test_fraction,
        valid_fraction=args.valid_fraction,
        cold_fraction=args.cold_fraction,
        implicit_threshold=args.implicit_threshold,
        kcore=args.kcore,
        force=args.force,
        strict=not args.lenient,
        enrich=not args.no_enrich,
        download=not args.no_download,
    )
    _print(_report(prepared.dataset, prepared.split, {"path": str(prepared.path)}, prepared.split_note), args.json)
    return 0
