"""Build once, then load in seconds: everything the retriever, the explainer and the agent need for a dataset.

``<artifacts>/<name>/`` holds the prepared split (written by :func:`agentrec.data.prepare_dataset`), the item
text embeddings (``item_text_embeddings.npy``), the Chroma index (``chroma/``), a trained retriever
checkpoint (``retriever-<model>.pt``) and ``components.json`` (what was built, from which data, how long it took).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from agentrec.config import Paths, apply_torch_threads
from agentrec.graph import BipartiteGraph, build_graph
from agentrec.graph.paths import Explainer
from agentrec.retrieve import Retriever, RetrieverConfig
from agentrec.schema import CatalogSchema
from agentrec.types import Catalog, Interactions, Split

__all__ = ["MODELS", "Components", "load_components", "quick_train_config"]

logger = logging.getLogger(__name__)

MODELS = ("auto", "graph-filter", "text-lightgcn", "lightgcn")
_TRAINED = {"text-lightgcn", "lightgcn"}
_MANIFEST = "components.json"


@dataclass(eq=False)
class Components:
    """Everything built for one dataset.

    Attributes:
        name: the artifacts name (the dataset name).
        dataset: the loaded ``agentrec.data.Dataset``.
        split: the train / (valid) / test split everything was trained on.
        catalog: the items in item-index order.
        train: ``split.train``.
        graph: the training graph.
        model: the retriever: the training-free graph filter or a LightGCN (text-aware when the catalogue has
            text), whichever won on validation when it was built (see :mod:`agentrec.artifacts_retriever`).
        store: the vector store, or None when the catalogue has no text (e.g. gowalla).
        item_text_embeddings: ``(num_items, dim)`` unit-norm text embeddings, or None without text.
        retriever: the candidate bus over all of the above.
        explainer: the explanation-path finder.
        path: ``<artifacts>/<name>``.
        schema: the catalogue's facets (from the data, overridden by the dataset's ``facets`` declaration).
        pack: the name (or path) of the domain pack the agent speaks with: the dataset spec's ``pack``, else the
            built-in dataset's, else "generic".
    """

    name: str
    dataset: Any
    split: Split
    catalog: Catalog
    train: Interactions
    graph: BipartiteGraph
    model: Any
    store: Any | None
    item_text_embeddings: np.ndarray | None
    retriever: Retriever
    explainer: Explainer
    path: Path
    schema: CatalogSchema | None = None
    pack: str = "generic"

    def __post_init__(self) -> None:
        if self.schema is None:
            self.schema = getattr(self.retriever, "schema", None) or CatalogSchema.from_catalog(self.catalog)


def quick_train_config(show_progress: bool = True, time_budget_s: float = 60.0) -> Any:
    """A quick LightGCN recipe: BPR, early stopping on validation recall@20, at most ``time_budget_s`` seconds."""
    from agentrec.train import TrainConfig

    return TrainConfig(
        epochs=60,
        batch_size=4096,
        lr=5e-3,
        weight_decay=1e-4,
        loss="bpr",
        eval_every=5,
        patience=2,
        eval_part="auto",
        time_budget_s=time_budget_s,
        device="cpu",
        show_progress=show_progress,
    )


def _manifest(path: Path) -> dict[str, Any]:
    file = path / _MANIFEST
    return json.loads(file.read_text()) if file.is_file() else {}


def load_components(
    dataset: str | Any = "ml-latest-small",
    *,
    data_dir: str | Path | None = None,
    artifacts_dir: str | Path | None = None,
    build_missing: bool = True,
    show_progress: bool = True,
    model: str = "auto",
    train_config: Any | None = None,
    split: str = "auto",
    retriever_config: RetrieverConfig | None = None,
    max_paths: int = 3,
    torch_threads: int | None = None,
    exclude: Literal["all", "train"] = "all",
) -> Components:
    """Load (building once what is missing) the components of a dataset.

    Args:
        dataset: a dataset name (see ``agentrec.data.DATASETS``), a registered name, a dataset spec file
            (``.toml``), a dataset's artifacts folder (``<artifacts>/<name>``), or a loaded ``agentrec.data.Dataset``.
        data_dir: raw data root (default: ``AGENTREC_DATA_DIR`` or the user cache).
        artifacts_dir: artifacts root (default: ``AGENTREC_ARTIFACTS_DIR`` or the user cache).
        build_missing: build what is missing (prepared split, embeddings, index, checkpoint); when False a
            missing piece raises ``FileNotFoundError`` naming the command that builds it.
        show_progress: progress bars while building.
        model: ``"auto"`` (default): on first use the graph filter and the LightGCN recipe trained to
            convergence within ``AGENTREC_TRAIN_BUDGET_S`` seconds (default 900) are compared on the validation
            part and the better one is kept (:mod:`agentrec.artifacts_retriever`; the log and ``components.json``
            say which). Or one of ``"graph-filter"``, ``"text-lightgcn"`` (item text embeddings as features),
            ``"lightgcn"``. A catalogue with no text (gowalla) gets ``"lightgcn"`` instead of
            ``"text-lightgcn"`` and no vector store.
        train_config: an ``agentrec.train.TrainConfig`` for the first training (default:
            :func:`agentrec.artifacts_retriever.converging_train_config`).
        split: the split kind passed to ``prepare_dataset`` (``"auto"``: the spec's ``[split]``, else the shipped
            split, else a random per-user hold-out with seed 0 and 10 % validation; the log says which).
        retriever_config: fusion settings of the retriever.
        max_paths: explanation paths kept per item.
        torch_threads: PyTorch threads for answering queries, set once everything is built (None:
            ``AGENTREC_TORCH_THREADS``, default 1; 0 keeps PyTorch's default). Building and training before
            that use PyTorch's default.
        exclude: what is never shown to a known user as new: ``"all"`` their interactions in every part of the
            split (serving), or ``"train"`` only (offline evaluation, where held-out items are the targets).

    Returns:
        The :class:`Components`.

    Raises:
        ValueError: for an unknown model.
        FileNotFoundError: when something is missing and ``build_missing`` is False.
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    if exclude not in ("all", "train"):
        raise ValueError(f"exclude must be 'all' or 'train', got {exclude!r}")
    from agentrec.data import fingerprint, prepare_dataset

    paths = Paths.from_env(data_dir, artifacts_dir)
    start = time.perf_counter()
    prepared = prepare_dataset(
        dataset,
        data_dir=paths.data_dir,
        artifacts_dir=paths.artifacts_dir,
        split=split,  # type: ignore[arg-type]
    )
    ds, data_split = prepared.dataset, prepared.split
    catalog, train = ds.catalog, data_split.train
    # <root>/<name>/data/<key>: an artifacts folder given as ``dataset`` names its own root.
    paths = Paths(paths.data_dir, prepared.path.parents[2])
    # A dataset spec may declare facets (its [facets] table) and the domain pack to speak with.
    declaration, pack = _dataset_words(prepared.name, paths)
    schema = CatalogSchema.from_catalog(catalog, declaration, name=prepared.name)
    out = paths.dataset_artifacts(prepared.name)
    out.mkdir(parents=True, exist_ok=True)
    manifest = _manifest(out)
    data_fp = str(fingerprint(train))
    graph = build_graph(train)

    from agentrec.text.profile import has_item_text

    has_text = has_item_text(catalog)
    if not has_text and model == "text-lightgcn":
        logger.info("%s has no item text: using lightgcn without a vector store", prepared.name)
        model = "lightgcn"
    emb: np.ndarray | None = None
    store = None
    if has_text:
        emb, store = _text_parts(
            prepared.name, catalog, schema, train, paths, out, build_missing, show_progress, manifest
        )

    net, model = _retriever_model(
        model, out, manifest, data_fp, graph, data_split, emb, train_config, build_missing, show_progress, prepared.name
    )
    apply_torch_threads(torch_threads)
    # Whatever a user interacted with, in any part of the split, is never shown to them as new.
    known = ds.interactions if exclude == "all" else None
    retriever = Retriever(
        catalog,
        train,
        model=net,
        store=store,
        config=retriever_config,
        known=known,
        schema=schema,
        text_embeddings=emb,
    )
    item_emb = net.item_embeddings().detach().cpu().numpy()
    explainer = Explainer(catalog, train, item_embeddings=item_emb, store=store, max_paths=max_paths)
    logger.info("components of %s ready in %.1f s", prepared.name, time.perf_counter() - start)
    return Components(
        name=prepared.name,
        dataset=ds,
        split=data_split,
        catalog=catalog,
        train=train,
        graph=graph,
        model=net,
        store=store,
        item_text_embeddings=emb,
        retriever=retriever,
        explainer=explainer,
        path=out,
        schema=schema,
        pack=pack,
    )


def _dataset_words(name: str, paths: Paths) -> tuple[dict[str, Any] | None, str]:
    """The facet declaration and domain pack of a dataset: its spec's when it came from one, else the registry's."""
    from agentrec.data.registry import DATASETS
    from agentrec.data.spec import read_recorded_spec

    spec = read_recorded_spec(paths.dataset_artifacts(name))
    if spec is not None:
        return (dict(spec.facets) or None), (spec.pack or "generic")
    info = DATASETS.get(name)
    return None, (info.pack if info is not None else "generic")


def _text_parts(
    name: str,
    catalog: Catalog,
    schema: CatalogSchema,
    train: Interactions,
    paths: Paths,
    out: Path,
    build_missing: bool,
    show_progress: bool,
    manifest: dict[str, Any],
) -> tuple[np.ndarray, Any]:
    """Item text embeddings (cached as .npy) and the filled vector store, rebuilt when the catalogue changed."""
    from agentrec.data import catalog_fingerprint
    from agentrec.text import TextEncoder, VectorStore, default_cache_dir, default_store_path, embed_catalog

    encoder = TextEncoder.from_name(cache_dir=default_cache_dir(paths.artifacts_dir), show_progress=show_progress)
    emb_file = paths.dataset_artifacts(name) / "item_text_embeddings.npy"
    emb = np.load(emb_file) if emb_file.is_file() else None
    text_key = {"catalog": catalog_fingerprint(catalog), "model": encoder.model_id}
    # Embeddings written by an older build (no key) are kept when their size fits; a recorded key must match.
    stale = manifest.get("text") not in (None, text_key)
    if emb is None or emb.shape[0] != len(catalog) or stale:
        if not build_missing:
            raise FileNotFoundError(f"no item text embeddings at {emb_file}; run `agentrec index --dataset {name}`")
        emb = embed_catalog(catalog, encoder).astype(np.float32)
        np.save(emb_file, emb)
    store_path = default_store_path(paths.artifacts_dir, name)
    store = VectorStore.open(store_path, encoder=encoder, create=build_missing)
    if store.count() == len(catalog) and store.schema is None and build_missing:
        logger.warning("the vector store at %s predates facet metadata: rebuilding its metadata", store_path)
    if store.count() != len(catalog) or stale or (store.schema is None and build_missing):
        if not build_missing:
            raise FileNotFoundError(f"the index at {store_path} is incomplete; run `agentrec index --dataset {name}`")
        popularity = np.bincount(train.item_index, minlength=train.num_items).astype(np.int64)
        store.build(
            catalog, popularity=popularity, schema=schema
        )  # incremental: only new or changed items are embedded
    if manifest.get("text") != text_key and build_missing:
        manifest["text"] = text_key
        (out / _MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return emb, store


def _load_checkpoint(ckpt: Path, name: str, graph: BipartiteGraph) -> Any:
    if name == "graph-filter":
        from agentrec.models.graphfilter import GraphFilter

        return GraphFilter.load(ckpt, graph)
    from agentrec.models.lightgcn import LightGCN

    net = LightGCN.load(ckpt, graph)
    net.eval()
    return net


def _retriever_model(
    model: str,
    out: Path,
    manifest: dict[str, Any],
    data_fp: str,
    graph: BipartiteGraph,
    data_split: Split,
    emb: np.ndarray | None,
    train_config: Any | None,
    build_missing: bool,
    show_progress: bool,
    name: str,
) -> tuple[Any, str]:
    """The retriever model (loaded, or built and saved) and its name: ``model``, or the default for "auto"."""
    checkpoints = manifest.setdefault("checkpoints", {})

    def fresh(file: str) -> bool:
        return (out / file).is_file() and checkpoints.get(file, {}).get("fingerprint") == data_fp

    if model == "auto":
        chosen = manifest.get("default", {}).get("chosen")
        if chosen and fresh(f"retriever-{chosen}.pt"):
            logger.info("default retriever of %s: %s (chosen on validation when built)", name, chosen)
            return _load_checkpoint(out / f"retriever-{chosen}.pt", chosen, graph), chosen
        for older in ("text-lightgcn", "lightgcn"):  # built before the default was chosen on validation
            if not chosen and fresh(f"retriever-{older}.pt"):
                logger.info("retriever of %s: %s (built before the default was chosen on validation)", name, older)
                return _load_checkpoint(out / f"retriever-{older}.pt", older, graph), older
    elif fresh(f"retriever-{model}.pt"):
        return _load_checkpoint(out / f"retriever-{model}.pt", model, graph), model
    ckpt = out / f"retriever-{model}.pt"
    if ckpt.is_file() or (model == "auto" and manifest.get("default")):
        logger.warning("the %s retriever of %s was built on different data: building it again", model, name)
    if not build_missing:
        raise FileNotFoundError(
            f"no {model} retriever for {name} in {out}; build it with load_components({name!r}) or drop --no-build"
        )
    t0 = time.perf_counter()
    entry: dict[str, Any] = {"fingerprint": data_fp}
    if model == "auto":
        from agentrec.artifacts_retriever import build_default_retriever

        net, model, record = build_default_retriever(graph, data_split, emb, train_config, show_progress)
        manifest["default"] = record
    elif model == "graph-filter":
        from agentrec.artifacts_retriever import tune_default_filter
        from agentrec.models.graphfilter import GraphFilter

        has_valid = data_split.valid is not None and len(data_split.valid) > 0
        tuned = tune_default_filter(data_split, min(20, graph.num_items)).config if has_valid else None
        net = GraphFilter(graph, tuned)
    else:
        from agentrec.artifacts_retriever import converging_train_config, recipe_model
        from agentrec.train import fit

        net = recipe_model(graph, emb if model == "text-lightgcn" else None)
        history = fit(net, data_split, train_config or converging_train_config(show_progress))
        net.eval()
        entry.update(metric=history.metric, best_value=history.best_value, best_epoch=history.best_epoch)
    net.save(out / f"retriever-{model}.pt")
    entry["build_seconds"] = round(time.perf_counter() - t0, 1)
    checkpoints[f"retriever-{model}.pt"] = entry
    manifest.update(dataset=name, model=model)
    (out / _MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return net, model
