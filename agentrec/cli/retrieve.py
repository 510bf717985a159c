"""``agentrec candidates``: fused, filtered candidates for a request, optionally with explanation paths."""

from __future__ import annotations

import argparse

from agentrec.cli.facets import add_facet_args, filters_from_args

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``candidates`` sub-command."""
    p = subparsers.add_parser("candidates", help="retrieve fused candidates (and explanation paths) for a request")
    p.add_argument("text", nargs="?", default="", help='what the user asks for, e.g. "funny space adventure"')
    p.add_argument(
        "--dataset",
        default="ml-latest-small",
        help="dataset name, dataset spec (.toml) or artifacts folder (default: ml-latest-small)",
    )
    p.add_argument("--user", default=None, help="raw id of a known user to personalise for")
    p.add_argument("--liked", action="append", default=[], help="raw id of an item the user likes (repeatable)")
    p.add_argument("--genre", action="append", default=[], help="required genre (repeatable)")
    p.add_argument("--any-genre", action="store_true", help="require any --genre rather than all of them")
    p.add_argument("--exclude-genre", action="append", default=[], help="excluded genre (repeatable)")
    p.add_argument("--year-min", type=int, default=None, help="earliest release year (inclusive)")
    p.add_argument("--year-max", type=int, default=None, help="latest release year (inclusive)")
    p.add_argument("--min-ratings", type=int, default=None, help="least number of training interactions")
    add_facet_args(p, exclude_flag="--exclude-facet")
    p.add_argument("--exclude", action="append", default=[], help="raw item id never to return (repeatable)")
    p.add_argument("--k", type=int, default=20, help="number of candidates (default: 20)")
    p.add_argument("--explain", action="store_true", help="print explanation paths for each candidate")
    p.add_argument("--png", default=None, help="write the first candidate's paths as a PNG picture here")
    p.add_argument("--data-dir", default=None, help="data root (default: AGENTREC_DATA_DIR)")
    p.add_argument("--artifacts-dir", default=None, help="artifacts root (default: AGENTREC_ARTIFACTS_DIR)")
    p.add_argument("--no-build", action="store_true", help="fail instead of building missing artifacts")
    p.set_defaults(func=_run)


def _item_indices(ids: list[str], id_to_index: dict[str, int], flag: str) -> tuple[int, ...]:
    out = []
    for raw in ids:
        if raw not in id_to_index:
            raise ValueError(f"{flag}: unknown item id {raw!r}; give a raw item id of the dataset (e.g. movieId)")
        out.append(id_to_index[raw])
    return tuple(out)


def _run(args: argparse.Namespace) -> int:
    from agentrec.artifacts import load_components
    from agentrec.graph.render import paths_png
    from agentrec.types import Query

    comps = load_components(
        args.dataset, data_dir=args.data_dir, artifacts_dir=args.artifacts_dir, build_missing=not args.no_build
    )
    ids = comps.catalog.id_to_index
    query = Query(
        text=args.text,
        user_id=args.user,
        liked_items=_item_indices(args.liked, ids, "--liked"),
        filters=filters_from_args(
            args,
            genres=args.genre,
            exclude_genres=args.exclude_genre,
            any_genre=args.any_genre,
            year_min=args.year_min,
            year_max=args.year_max,
            min_ratings=args.min_ratings,
            exclude_items=_item_indices(args.exclude, ids, "--exclude"),
        ),
        k=args.k,
    )
    result = comps.retriever.retrieve(query)
    for note in result.notes:
        print(f"note: {note}")
    user = args.user if args.user is not None else (list(query.liked_items) or None)
    first_paths = []
    for rank, cand in enumerate(result.candidates, 1):
        sources = ", ".join(f"{s}#{r + 1}" for s, r in sorted(cand.source_ranks.items(), key=lambda x: x[1]))
        print(f"{rank:3d}. {cand.title}  [id {cand.item_id}]  score {cand.score:.4f}  ({sources})")
        if args.explain or (args.png and rank == 1):
            paths = comps.explainer.explain(user, cand.item_index, query)
            if rank == 1:
                first_paths = paths
            if args.explain:
                for path in paths:
                    print(f"       - [{path.kind}] {path.text}")
    if args.png:
        if not first_paths:
            print("note: no explanation path for the first candidate; no picture written")
        else:
            paths_png(first_paths, args.png)
            print(f"wrote {args.png}")
    return 0
