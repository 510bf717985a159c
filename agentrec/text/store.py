"""A persistent vector store of item embeddings (Chroma) with exact metadata filters.

Embedded by default (``chromadb.PersistentClient`` under the artifacts directory, nothing to start), or a
Chroma server (``chroma run --host 127.0.0.1 --port N --path DIR``) through ``HttpClient``. Embeddings are
always passed explicitly (``embedding_function=None``): Chroma's default embedding function would
download an ONNX model. The collection records the model id and dimension; opening it with another
model is refused, so vectors of two models never mix.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agentrec.schema import CatalogSchema
from agentrec.text.chroma_client import chroma_query, connect
from agentrec.text.encoder import TextEncoder
from agentrec.text.exact import ExactIndex
from agentrec.text.filters import coerce_filters, where_clause
from agentrec.text.hits import BuildStats, SearchHit, hit_from_metadata, item_metadata
from agentrec.text.profile import ItemTextTemplate, as_template, item_text
from agentrec.types import Catalog, Filters, Item

__all__ = ["BuildStats", "SearchHit", "VectorStore"]

logger = logging.getLogger(__name__)

_BATCH = 5000  # Chroma's max batch is ~5,461


class VectorStore:
    """Item vectors in a Chroma collection; semantic search with exact metadata filters.

    Open one with :meth:`open`; fill it with :meth:`build` (or :meth:`upsert`).
    """

    #: Searches of collections up to this many items run exactly on an in-memory copy (see
    #: :mod:`agentrec.text.exact`; ~1 ms at 10k items, where Chroma takes 10-80 ms with a metadata filter);
    #: larger collections go to Chroma's HNSW index. 0 disables the copy.
    exact_search_max_items: int = 200_000

    def __init__(self, client: Any, collection: Any, encoder: TextEncoder, location: str) -> None:
        self.client = client
        self.collection = collection
        self.encoder = encoder
        self.location = location
        self._exact: ExactIndex | None = None
        self._schema: tuple[str, CatalogSchema] | None = None

    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        *,
        url: str | None = None,
        collection: str = "items",
        encoder: TextEncoder | None = None,
        create: bool = True,
    ) -> VectorStore:
        """Open (or create) a store.

        Args:
            path: directory of an embedded store (``PersistentClient``), e.g. ``<artifacts>/<dataset>/chroma``.
            url: a Chroma server, e.g. ``http://127.0.0.1:8000`` (``AGENTREC_CHROMA_URL``); wins over ``path``.
            collection: collection name (at least 3 characters).
            encoder: the encoder whose vectors the store holds; None uses the default model.
            create: create the collection when missing; when False a missing one raises FileNotFoundError.

        Raises:
            ValueError: when neither path nor url is given, for a bad name, or when the collection was
                built with a different model or dimension (both are named).
            RuntimeError: when the Chroma server at ``url`` cannot be reached (the URL is named).
            FileNotFoundError: when ``create`` is False and there is no index yet.
        """
        if len(collection) < 3:
            raise ValueError(f"collection must have at least 3 characters, got {collection!r}")
        client, location = connect(path, url, create=create)
        encoder = encoder or TextEncoder.from_name()
        try:
            coll = client.get_collection(collection, embedding_function=None)
        except Exception as exc:  # NotFoundError (a ValueError subclass in older releases)
            if not create:
                raise FileNotFoundError(
                    f"no collection {collection!r} in the vector store at {location}; build it first with "
                    "`agentrec index --dataset NAME`"
                ) from exc
            coll = client.create_collection(
                collection,
                embedding_function=None,
                metadata={"hnsw:space": "cosine", "model_id": encoder.model_id, "dim": encoder.dim},
            )
            logger.info("created collection %r at %s for %s", collection, location, encoder.model_id)
        meta = coll.metadata or {}
        if meta.get("model_id") != encoder.model_id and int(meta.get("dim", -1)) == encoder.dim:
            encoder.adopt_model_id(str(meta.get("model_id")))  # the same model at the store's precision
        if meta.get("model_id") != encoder.model_id or int(meta.get("dim", -1)) != encoder.dim:
            raise ValueError(
                f"the vector store at {location} (collection {collection!r}) was built with model "
                f"{meta.get('model_id')!r} (dim {meta.get('dim')}), but the encoder is {encoder.model_id!r} "
                f"(dim {encoder.dim}); vectors of different models cannot be mixed. Use the same model, or rebuild "
                "into another path/collection (or delete this one)"
            )
        return cls(client, coll, encoder, location)

    # ------------------------------------------------------------------ metadata
    @property
    def schema(self) -> CatalogSchema | None:
        """The facets of the stored items (what filters may name), or None for a store built before facets."""
        raw = (self.collection.metadata or {}).get("schema")
        if not raw:
            return None
        if self._schema is None or self._schema[0] != raw:
            self._schema = (str(raw), CatalogSchema.from_dict(json.loads(str(raw))))
        return self._schema[1]

    def _require_schema(self) -> CatalogSchema:
        schema = self.schema
        if schema is None:
            raise ValueError(
                f"the vector store at {self.location} was built before facet metadata, so it cannot filter; "
                "rebuild it with `agentrec index --dataset NAME`"
            )
        return schema

    def _fresh_metadata(self) -> dict[str, Any]:
        """The collection's metadata as stored now (another process or client may have changed it)."""
        coll = self.client.get_collection(self.collection.name, embedding_function=None)
        return dict(coll.metadata or {})

    def _bump_rev(self) -> None:
        """Record a write, so in-memory copies (:attr:`exact_search_max_items`) anywhere are reloaded."""
        meta = {k: v for k, v in self._fresh_metadata().items() if not k.startswith("hnsw:")}
        meta["rev"] = int(meta.get("rev", 0)) + 1
        self.collection.modify(metadata=meta)
        self._exact = None

    def _add_schema(self, schema: CatalogSchema) -> None:
        known = self.schema
        merged = schema if known is None else known.merged(schema)
        if known is not None and merged.to_dict() == known.to_dict():
            return
        meta = {k: v for k, v in (self.collection.metadata or {}).items() if not k.startswith("hnsw:")}
        meta["schema"] = json.dumps(merged.to_dict(), separators=(",", ":"))
        self.collection.modify(metadata=meta)

    def count(self) -> int:
        """Number of items in the store."""
        return int(self.collection.count())

    # ------------------------------------------------------------------ writing
    def build(
        self,
        catalog: Catalog,
        popularity: np.ndarray | None = None,
        template: str | ItemTextTemplate | None = None,
        schema: CatalogSchema | None = None,
    ) -> BuildStats:
        """Make the store hold exactly this catalogue: upsert new or changed items, delete others.

        Items whose text and metadata are unchanged are left alone, so a rebuild with a warm cache is quick.

        Args:
            catalog: the items, in item-index order.
            popularity: ``(num_items,)`` training interaction counts (0 when None).
            template: item text template (see :func:`agentrec.text.item_text`).
            schema: the catalogue's facets (stored as filterable metadata); derived from ``catalog`` when None.

        Returns:
            A :class:`BuildStats`.
        """
        start = time.perf_counter()
        embedded_before = self.encoder.num_embedded
        if popularity is not None and len(popularity) != len(catalog):
            raise ValueError(f"popularity has {len(popularity)} values but the catalogue has {len(catalog)} items")
        existing = self.collection.get(include=["metadatas"])
        old = dict(zip(existing["ids"], existing["metadatas"] or [], strict=True))
        if old and self.schema is None:
            logger.warning(
                "vector store %s predates facet metadata: rewriting the metadata of every item", self.location
            )
        schema = schema if schema is not None else CatalogSchema.from_catalog(catalog)
        items = list(catalog.items)
        upserted = self.upsert(items, range(len(catalog)), popularity, template, skip_unchanged=old, schema=schema)
        stale = [item_id for item_id in old if item_id not in catalog.id_to_index]
        self.delete(stale)
        stats = BuildStats(
            num_items=len(catalog),
            num_upserted=upserted,
            num_deleted=len(stale),
            num_embedded=self.encoder.num_embedded - embedded_before,
            seconds=time.perf_counter() - start,
        )
        logger.info("vector store %s: %s", self.location, stats)
        return stats

    def upsert(
        self,
        items: Sequence[Item],
        item_indices: Sequence[int] | range,
        popularity: np.ndarray | Sequence[int] | None = None,
        template: str | ItemTextTemplate | None = None,
        *,
        skip_unchanged: Mapping[str, Mapping[str, Any]] | None = None,
        schema: CatalogSchema | None = None,
    ) -> int:
        """Add or replace items; they are searchable at once.

        Args:
            items: the items.
            item_indices: their item indices (aligned with ``items``).
            popularity: interaction counts, either aligned with ``items`` or ``(num_items,)`` indexed by item index.
            template: item text template.
            skip_unchanged: existing metadata by item id; items whose metadata would not change are skipped.
            schema: the facets to store; None merges the store's schema with one derived from ``items``.

        Returns:
            The number of items written.
        """
        indices = [int(i) for i in item_indices]
        if len(indices) != len(items):
            raise ValueError(f"{len(items)} items but {len(indices)} item_indices; they must match")
        if len(set(it.item_id for it in items)) != len(items):
            raise ValueError("items contain duplicate item_id values; each item must appear once")
        tpl = as_template(template)
        pop = np.zeros(len(items), dtype=np.int64)
        if popularity is not None:
            arr = np.asarray(popularity)
            pop = arr if len(arr) == len(items) else arr[np.asarray(indices, dtype=np.int64)]
        texts = [item_text(it, tpl) for it in items]
        if schema is None:
            derived = CatalogSchema.from_catalog(Catalog(tuple(items)))
            schema = derived if self.schema is None else self.schema.merged(derived)
        rows = zip(items, indices, pop.tolist(), texts, strict=True)
        metas = [item_metadata(it, i, int(p), t, schema) for it, i, p, t in rows]
        todo = [n for n, it in enumerate(items) if skip_unchanged is None or skip_unchanged.get(it.item_id) != metas[n]]
        self._add_schema(schema)  # also when no item changed: a store from before facets gains its schema
        if not todo:
            return 0
        # Chroma merges metadata on upsert: clear fields an item no longer has (a dropped genre, year).
        previous = skip_unchanged if skip_unchanged is not None else self._metadata_of([items[n].item_id for n in todo])
        for n in todo:
            for key in previous.get(items[n].item_id) or {}:
                metas[n].setdefault(key, None)
        vectors = self.encoder.encode([texts[n] for n in todo])
        for start in range(0, len(todo), _BATCH):
            chunk = todo[start : start + _BATCH]
            self.collection.upsert(
                ids=[items[n].item_id for n in chunk],
                embeddings=vectors[start : start + len(chunk)],
                metadatas=[metas[n] for n in chunk],
                documents=[texts[n] for n in chunk],
            )
        self._bump_rev()
        return len(todo)

    def _metadata_of(self, item_ids: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        out: dict[str, Mapping[str, Any]] = {}
        for start in range(0, len(item_ids), _BATCH):
            got = self.collection.get(ids=list(item_ids[start : start + _BATCH]), include=["metadatas"])
            out.update(zip(got["ids"], got["metadatas"] or [], strict=True))
        return out

    def delete(self, item_ids: Sequence[str]) -> None:
        """Remove items by raw id (unknown ids are ignored)."""
        ids = [str(i) for i in item_ids]
        if not ids:
            return
        for start in range(0, len(ids), _BATCH):
            self.collection.delete(ids=ids[start : start + _BATCH])
        self._bump_rev()

    # ------------------------------------------------------------------ reading
    def search(
        self,
        text: str,
        k: int = 20,
        filters: Filters | Mapping[str, Any] | None = None,
        allowed: Sequence[int] | np.ndarray | None = None,
    ) -> list[SearchHit]:
        """Items whose text is closest in meaning to ``text``.

        Args:
            text: what the user is looking for, in words. Longer than the model's limit: truncated, with a warning.
            k: how many hits at most.
            filters: hard constraints (:class:`agentrec.types.Filters` or its fields as a dict).
            allowed: item indices hits must come from (a caller that already knows which items pass its
                filters, e.g. the retriever's catalogue-wide mask); None for every item.

        Returns:
            Up to ``k`` hits, best first.

        Raises:
            ValueError: for an empty text, ``k`` < 1, an unknown filter field, facet or value (the valid ones
                are listed), or filters on a store built before facet metadata.
        """
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"query text is empty ({text!r}); describe what you are looking for in words")
        search_filters = coerce_filters(filters)
        where = self._compile(search_filters)  # validate before spending time on the encoder
        vector = self.encoder.encode([text], use_cache=False)[0]
        return self._query(vector, k, search_filters, where, allowed)

    def search_by_vector(
        self, vector: np.ndarray, k: int = 20, filters: Filters | Mapping[str, Any] | None = None
    ) -> list[SearchHit]:
        """Like :meth:`search` for a ``(dim,)`` query vector (e.g. a user profile embedding)."""
        vec = np.asarray(vector, dtype=np.float32).reshape(-1)
        if vec.shape[0] != self.encoder.dim:
            raise ValueError(f"vector has {vec.shape[0]} dimensions but the store holds {self.encoder.dim}")
        search_filters = coerce_filters(filters)
        return self._query(vec, k, search_filters, self._compile(search_filters))

    def _compile(self, search_filters: Filters | None) -> dict[str, Any] | None:
        if search_filters is None or search_filters.is_empty():
            return None
        return where_clause(search_filters, self._require_schema())

    def _exact_index(self) -> ExactIndex | None:
        """The in-memory copy at the collection's current revision (reloaded when stale), or None when off."""
        if self.exact_search_max_items <= 0:
            return None
        meta = self._fresh_metadata()
        rev = int(meta.get("rev", 0))
        exact = self._exact
        if exact is None or exact.rev != rev:
            if self.count() > self.exact_search_max_items:
                return None
            exact = ExactIndex.load(self.collection, rev)
            if int(self._fresh_metadata().get("rev", 0)) != rev:
                return None  # written while we read: use Chroma this time
            self._exact = exact
        return exact

    def _query(
        self,
        vector: np.ndarray,
        k: int,
        search_filters: Filters | None,
        where: dict[str, Any] | None,
        allowed: Sequence[int] | np.ndarray | None = None,
    ) -> list[SearchHit]:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        only = None if allowed is None else np.unique(np.asarray(allowed, dtype=np.int64))
        exact = self._exact_index()
        if exact is not None:
            if search_filters is None or search_filters.is_empty():
                keep = np.ones(len(exact), dtype=bool)
            else:
                keep = exact.mask(search_filters, self._require_schema())
            if only is not None:
                keep &= np.isin(exact.item_index, only)
            found = exact.top_k(vector, k, keep)
            return [hit_from_metadata(item_id, meta, score) for item_id, meta, score in found]
        n = min(k, self.count())
        if n == 0 or (only is not None and not len(only)):
            return []
        words = search_filters.exclude_words if search_filters is not None else ()
        result = chroma_query(self.collection, vector, n, where, words=words, only=only)
        rows = zip(result["ids"][0], result["metadatas"][0], result["distances"][0], strict=True)
        return [hit_from_metadata(item_id, meta, 1.0 - float(dist)) for item_id, meta, dist in rows]

    def item_vectors(self, item_indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """Stored vectors of items, in the order given.

        Returns:
            ``(len(item_indices), dim)`` float32.

        Raises:
            KeyError: naming item indices that are not in the store.
        """
        wanted = [int(i) for i in np.asarray(item_indices).reshape(-1)]
        out = np.zeros((len(wanted), self.encoder.dim), dtype=np.float32)
        if not wanted:
            return out
        found: dict[int, np.ndarray] = {}
        unique = sorted(set(wanted))
        for start in range(0, len(unique), _BATCH):
            chunk = unique[start : start + _BATCH]
            got = self.collection.get(where={"item_index": {"$in": chunk}}, include=["embeddings", "metadatas"])
            for meta, emb in zip(got["metadatas"], got["embeddings"], strict=True):
                found[int(meta["item_index"])] = np.asarray(emb, dtype=np.float32)
        missing = [i for i in unique if i not in found]
        if missing:
            raise KeyError(f"item indices not in the vector store: {missing[:10]}{'...' if len(missing) > 10 else ''}")
        for row, i in enumerate(wanted):
            out[row] = found[i]
        return out

    def __repr__(self) -> str:
        return f"VectorStore(location={self.location!r}, collection={self.collection.name!r}, items={self.count()})"
