"""What the vector store returns and writes: search hits, build statistics and item metadata."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agentrec.schema import CatalogSchema
from agentrec.text.filters import genres_string
from agentrec.types import Item

__all__ = ["BuildStats", "SearchHit", "hit_from_metadata", "item_metadata"]


@dataclass(frozen=True)
class SearchHit:
    """One search result. ``score`` is the cosine similarity between query and item (higher is closer)."""

    item_id: str
    item_index: int
    title: str
    score: float
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def year(self) -> int | None:
        """Release year, or None."""
        year = self.metadata.get("year")
        return None if year is None else int(year)

    @property
    def genres(self) -> tuple[str, ...]:
        """Genres, parsed from the stored ``"|A|B|"`` string."""
        return tuple(g for g in str(self.metadata.get("genres", "")).split("|") if g)


@dataclass(frozen=True)
class BuildStats:
    """What :meth:`VectorStore.build` did."""

    num_items: int
    num_upserted: int
    num_deleted: int
    num_embedded: int
    seconds: float


def item_metadata(item: Item, item_index: int, popularity: int, text: str, schema: CatalogSchema) -> dict[str, Any]:
    """An item's stored metadata: its facets (:meth:`CatalogSchema.vector_metadata`) and the store's fields."""
    meta: dict[str, Any] = schema.vector_metadata(item)
    meta |= {
        "item_index": int(item_index),
        "title": item.title,
        "genres": genres_string(item.genres),
        "popularity": int(popularity),
        # Detects changed text on rebuild, so unchanged items are not re-written.
        "text_sha": hashlib.sha256(text.encode("utf-8")).hexdigest()[:16],
    }
    if item.year is not None:
        meta["year"] = int(item.year)
    return meta


def hit_from_metadata(item_id: str, meta: Mapping[str, Any], score: float) -> SearchHit:
    """A :class:`SearchHit` from stored metadata."""
    return SearchHit(
        item_id=item_id,
        item_index=int(meta["item_index"]),
        title=str(meta.get("title", "")),
        score=score,
        metadata=dict(meta),
    )
