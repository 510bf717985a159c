"""Build everything text-related for a dataset in one call: catalogue embeddings and the vector store."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from agentrec.text.encoder import TextEncoder
from agentrec.text.profile import ItemTextTemplate, as_template, item_text
from agentrec.types import Catalog, Interactions

if TYPE_CHECKING:
    from agentrec.data import Dataset
    from agentrec.text.store import VectorStore

__all__ = [
    "ITEM_EMBEDDINGS_FILE",
    "build_index",
    "default_cache_dir",
    "default_store_path",
    "embed_catalog",
    "item_popularity",
]

logger = logging.getLogger(__name__)

#: ``build_index`` also saves the ``(num_items, dim)`` item text embeddings here, under ``<artifacts>/<dataset>/``,
#: for the text-aware GNN.
ITEM_EMBEDDINGS_FILE = "item_text_embeddings.npy"


def default_store_path(artifacts_dir: str | Path, dataset: str) -> Path:
    """Where a dataset's embedded Chroma store lives: ``<artifacts>/<dataset>/chroma``."""
    return Path(artifacts_dir) / dataset / "chroma"


def default_cache_dir(artifacts_dir: str | Path) -> Path:
    """The embedding cache shared by all datasets: ``<artifacts>/embedding_cache``."""
    return Path(artifacts_dir) / "embedding_cache"


def embed_catalog(catalog: Catalog, encoder: TextEncoder, template: str | ItemTextTemplate | None = None) -> np.ndarray:
    """Embed every item's text (cached by the encoder), e.g. as text features for the GNN.

    Args:
        catalog: the items, in item-index order.
        encoder: the encoder (give it a ``cache_dir`` so reruns are instant).
        template: item text template (see :func:`agentrec.text.item_text`).

    Returns:
        ``(num_items, dim)`` float32, unit-norm rows; row ``i`` is item index ``i``.
    """
    tpl = as_template(template)
    return encoder.encode([item_text(item, tpl) for item in catalog.items])


def item_popularity(interactions: Interactions) -> np.ndarray:
    """``(num_items,)`` int64 number of interactions of each item."""
    return np.bincount(interactions.item_index, minlength=interactions.num_items).astype(np.int64)


def _load(ref: str | Path, artifacts_dir: str | Path, data_dir: str | Path | None) -> tuple[Dataset, str | Path]:
    """Load a dataset reference; returns it and the artifacts root (an artifacts folder names its own)."""
    from agentrec.data import Dataset, DatasetSpec, load_dataset, resolve_dataset

    source, root = resolve_dataset(ref, Path(artifacts_dir))
    if isinstance(source, DatasetSpec):
        from agentrec.data.spec import record_spec

        ds = source.load()
        record_spec(source, Path(root or artifacts_dir) / source.name)
    elif isinstance(source, Dataset):
        ds = source
    else:
        ds = load_dataset(source, data_dir)
    return ds, root or artifacts_dir


def build_index(
    dataset: str | Path | Dataset,
    artifacts_dir: str | Path,
    *,
    encoder: TextEncoder | None = None,
    chroma_url: str | None = None,
    data_dir: str | Path | None = None,
    collection: str = "items",
    template: str | ItemTextTemplate | None = None,
    show_progress: bool = True,
) -> VectorStore:
    """Embed a dataset's catalogue and (re)build its vector store.

    Popularity is the number of training interactions (the shipped split's train part when the dataset
    has one, else all interactions).

    Args:
        dataset: a dataset name, a dataset spec file (``.toml``), an artifacts folder, or a loaded Dataset.
        artifacts_dir: artifacts root; the store goes to ``<artifacts>/<dataset>/chroma`` and the embedding
            cache to ``<artifacts>/embedding_cache``.
        encoder: None builds the default encoder with that cache.
        chroma_url: a Chroma server URL; None uses the embedded store.
        data_dir: data root when ``dataset`` is a name.
        collection: collection name.
        template: item text template.
        show_progress: progress bars.

    Returns:
        The open, filled :class:`VectorStore`. The ``(num_items, dim)`` item embeddings are also saved to
        ``<artifacts>/<dataset>/item_text_embeddings.npy``.
    """
    from agentrec.text.store import VectorStore

    if isinstance(dataset, str | Path):
        dataset, artifacts_dir = _load(dataset, artifacts_dir, data_dir)
    train = dataset.split.train if dataset.split is not None else dataset.interactions
    encoder = encoder or TextEncoder.from_name(cache_dir=default_cache_dir(artifacts_dir), show_progress=show_progress)
    store = VectorStore.open(
        None if chroma_url else default_store_path(artifacts_dir, dataset.name),
        url=chroma_url,
        collection=collection,
        encoder=encoder,
    )
    stats = store.build(dataset.catalog, popularity=item_popularity(train), template=template)
    emb_file = Path(artifacts_dir) / dataset.name / ITEM_EMBEDDINGS_FILE
    emb_file.parent.mkdir(parents=True, exist_ok=True)
    np.save(emb_file, embed_catalog(dataset.catalog, encoder, template).astype(np.float32))
    logger.info(
        "indexed %s: %d items, %d written, %d embedded, %d removed in %.1f s",
        dataset.name,
        stats.num_items,
        stats.num_upserted,
        stats.num_embedded,
        stats.num_deleted,
        stats.seconds,
    )
    return store
