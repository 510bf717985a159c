"""Typed values that cross stage boundaries.

Everything here is a frozen dataclass. ``*_index`` is a contiguous integer position (0..n-1);
``*_id`` is the raw key from the dataset, always a ``str``. The two are kept apart everywhere and
converted only at the edges (loaders, CLI, agent output).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np

from agentrec.filters_types import Filters, Range

__all__ = [
    "Candidate",
    "Catalog",
    "Filters",
    "GraphPath",
    "Interactions",
    "Item",
    "PathEdge",
    "PathNode",
    "Query",
    "Range",
    "Recommendation",
    "Split",
]


@dataclass(frozen=True, eq=False)
class Interactions:
    """User-item interactions with contiguous indices and raw-id maps both ways.

    Attributes:
        user_index: ``(num_interactions,)`` int64 user positions.
        item_index: ``(num_interactions,)`` int64 item positions.
        user_ids: ``(num_users,)`` raw user ids; ``user_ids[u]`` is the raw id of user index ``u``.
        item_ids: ``(num_items,)`` raw item ids; ``item_ids[i]`` is the raw id of item index ``i``.
        rating: optional ``(num_interactions,)`` float32 explicit ratings.
        timestamp: optional ``(num_interactions,)`` int64 unix seconds.
    """

    user_index: np.ndarray
    item_index: np.ndarray
    user_ids: tuple[str, ...]
    item_ids: tuple[str, ...]
    rating: np.ndarray | None = None
    timestamp: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.user_index)
        if len(self.item_index) != n:
            raise ValueError(f"user_index has {n} rows but item_index has {len(self.item_index)}; they must match")
        for name in ("rating", "timestamp"):
            col = getattr(self, name)
            if col is not None and len(col) != n:
                raise ValueError(f"{name} has {len(col)} rows but there are {n} interactions")
        if n:
            if int(self.user_index.min()) < 0 or int(self.user_index.max()) >= len(self.user_ids):
                raise ValueError(f"user_index must lie in [0, {len(self.user_ids)}), the number of user ids")
            if int(self.item_index.min()) < 0 or int(self.item_index.max()) >= len(self.item_ids):
                raise ValueError(f"item_index must lie in [0, {len(self.item_ids)}), the number of item ids")

    @property
    def num_users(self) -> int:
        """Number of users in the index space (including users with no rows here)."""
        return len(self.user_ids)

    @property
    def num_items(self) -> int:
        """Number of items in the index space (including items with no rows here)."""
        return len(self.item_ids)

    def __len__(self) -> int:
        return len(self.user_index)

    @cached_property
    def user_id_to_index(self) -> dict[str, int]:
        """Raw user id -> user index."""
        return {u: i for i, u in enumerate(self.user_ids)}

    @cached_property
    def item_id_to_index(self) -> dict[str, int]:
        """Raw item id -> item index."""
        return {u: i for i, u in enumerate(self.item_ids)}

    @property
    def density(self) -> float:
        """Share of the user x item matrix that is filled."""
        cells = self.num_users * self.num_items
        return len(self) / cells if cells else 0.0

    def subset(self, mask: np.ndarray) -> Interactions:
        """Rows selected by a boolean mask or an index array, in the same id space."""
        return Interactions(
            user_index=self.user_index[mask],
            item_index=self.item_index[mask],
            user_ids=self.user_ids,
            item_ids=self.item_ids,
            rating=None if self.rating is None else self.rating[mask],
            timestamp=None if self.timestamp is None else self.timestamp[mask],
        )

    @classmethod
    def from_arrays(
        cls,
        user_index: Sequence[int] | np.ndarray,
        item_index: Sequence[int] | np.ndarray,
        num_users: int | None = None,
        num_items: int | None = None,
        rating: Sequence[float] | np.ndarray | None = None,
        timestamp: Sequence[int] | np.ndarray | None = None,
    ) -> Interactions:
        """Build from index arrays; raw ids are the indices as strings (handy for tests)."""
        u = np.asarray(user_index, dtype=np.int64)
        i = np.asarray(item_index, dtype=np.int64)
        nu = int(num_users if num_users is not None else (u.max() + 1 if len(u) else 0))
        ni = int(num_items if num_items is not None else (i.max() + 1 if len(i) else 0))
        return cls(
            user_index=u,
            item_index=i,
            user_ids=tuple(str(x) for x in range(nu)),
            item_ids=tuple(str(x) for x in range(ni)),
            rating=None if rating is None else np.asarray(rating, dtype=np.float32),
            timestamp=None if timestamp is None else np.asarray(timestamp, dtype=np.int64),
        )


@dataclass(frozen=True, eq=False)
class Split:
    """Train / validation / test interactions in one shared index space.

    ``cold_items`` holds item indices whose interactions were all moved out of ``train`` (cold-item
    split); ``None`` when the split is not a cold-item split.
    """

    train: Interactions
    test: Interactions
    valid: Interactions | None = None
    cold_items: np.ndarray | None = None
    name: str = "split"

    def __post_init__(self) -> None:
        parts = [self.test] + ([self.valid] if self.valid is not None else [])
        for part in parts:
            if part.user_ids is not self.train.user_ids and part.user_ids != self.train.user_ids:
                raise ValueError("all parts of a Split must share the train split's user ids")
            if part.item_ids is not self.train.item_ids and part.item_ids != self.train.item_ids:
                raise ValueError("all parts of a Split must share the train split's item ids")


@dataclass(frozen=True)
class Item:
    """One catalogue entry. ``attributes`` holds anything else the source had (tmdb keywords, ...)."""

    item_id: str
    title: str
    year: int | None = None
    genres: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    overview: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)

    @property
    def display_title(self) -> str:
        """Title with the year in parentheses when the title does not carry it already."""
        if self.year is not None and f"({self.year})" not in self.title:
            return f"{self.title} ({self.year})"
        return self.title


@dataclass(frozen=True, eq=False)
class Catalog:
    """The items, in item-index order: ``items[i]`` describes item index ``i``."""

    items: tuple[Item, ...]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, item_index: int) -> Item:
        return self.items[item_index]

    @cached_property
    def id_to_index(self) -> dict[str, int]:
        """Raw item id -> item index."""
        return {it.item_id: i for i, it in enumerate(self.items)}

    @cached_property
    def genres(self) -> tuple[str, ...]:
        """Every genre that occurs, sorted."""
        return tuple(sorted({g for it in self.items for g in it.genres}))

    @cached_property
    def year_range(self) -> tuple[int, int] | None:
        """(min, max) year over items that have one, or None."""
        years = [it.year for it in self.items if it.year is not None]
        return (min(years), max(years)) if years else None


@dataclass(frozen=True)
class Query:
    """One recommendation request, produced by the LLM agent and by the offline planner alike.

    Attributes:
        text: what the user asked for in words ("" when nothing was said).
        user_id: raw id of a known user to personalise for, or None.
        liked_items: item indices the user says they like (a new user's seed history).
        filters: hard constraints.
        seen: item indices the user has already seen (never recommended).
        rejected: item indices the user turned down (never recommended again).
        k: how many results to return.
    """

    text: str = ""
    user_id: str | None = None
    liked_items: tuple[int, ...] = ()
    filters: Filters = field(default_factory=Filters)
    seen: tuple[int, ...] = ()
    rejected: tuple[int, ...] = ()
    k: int = 10


@dataclass(frozen=True)
class Candidate:
    """A retrieved item with its fused score and where it came from.

    ``sources`` maps source name ("gnn", "semantic", "item2item", "co_interaction", "popularity") to that
    source's own score; ``source_ranks`` to its rank (0-based) in that source's list.
    """

    item_index: int
    item_id: str
    title: str
    score: float
    sources: Mapping[str, float] = field(default_factory=dict)
    source_ranks: Mapping[str, int] = field(default_factory=dict)


PathNodeKind = Literal["user", "item", "users", "genre", "tag", "query", "text"]


@dataclass(frozen=True)
class PathNode:
    """A node on an explanation path. ``key`` is a raw id, a genre or tag name, or the query text."""

    kind: PathNodeKind
    key: str
    label: str


@dataclass(frozen=True)
class PathEdge:
    """An edge between consecutive path nodes; ``support`` counts the evidence (e.g. co-likers)."""

    relation: str
    support: float = 1.0


@dataclass(frozen=True)
class GraphPath:
    """An explanation path: ``len(edges) == len(nodes) - 1``. ``text`` is the rendered sentence."""

    kind: Literal["co_interaction", "attribute", "semantic"]
    nodes: tuple[PathNode, ...]
    edges: tuple[PathEdge, ...]
    score: float
    text: str

    def __post_init__(self) -> None:
        if len(self.edges) != len(self.nodes) - 1:
            raise ValueError(
                f"a path with {len(self.nodes)} nodes needs {len(self.nodes) - 1} edges, got {len(self.edges)}"
            )


@dataclass(frozen=True)
class Recommendation:
    """What the user sees: an item, why, and the evidence that backs the reason."""

    item_index: int
    item_id: str
    title: str
    year: int | None
    genres: tuple[str, ...]
    reason: str
    evidence: tuple[GraphPath, ...] = ()
    score: float = 0.0
