"""Metadata filters for semantic search, compiled to exact Chroma ``where`` clauses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

from agentrec.types import Filters

__all__ = ["SearchFilters", "genre_field", "genres_string"]


def genre_field(genre: str) -> str:
    """The boolean metadata field that marks items of one genre (``"Sci-Fi"`` -> ``"g_Sci-Fi"``)."""
    return f"g_{genre}"


def genres_string(genres: Sequence[str]) -> str:
    """Genres as one delimited string (Chroma metadata cannot hold lists): ``"|Action|Sci-Fi|"``."""
    return "|" + "|".join(genres) + "|" if genres else "|"


@dataclass(frozen=True)
class SearchFilters:
    """Hard constraints on a semantic search, applied exactly by the vector store.

    Attributes:
        include_genres: genres an item must carry (all of them, or any, per ``genre_match``); matched
            case-insensitively against the catalogue's genres.
        genre_match: ``"all"`` or ``"any"``.
        exclude_genres: genres an item must not carry.
        year_from: earliest release year (inclusive); items without a year are then excluded.
        year_to: latest release year (inclusive).
        min_popularity: least number of training interactions.
        exclude_items: item indices never to return.

    Raises:
        ValueError: for an inverted year range, a bad ``genre_match`` or a negative ``min_popularity``.
    """

    include_genres: tuple[str, ...] = ()
    genre_match: Literal["all", "any"] = "all"
    exclude_genres: tuple[str, ...] = ()
    year_from: int | None = None
    year_to: int | None = None
    min_popularity: int | None = None
    exclude_items: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for name in ("include_genres", "exclude_genres", "exclude_items"):
            value = getattr(self, name)
            if isinstance(value, str):
                raise ValueError(f"{name} must be a list, not the string {value!r}; wrap it: [{value!r}]")
            object.__setattr__(self, name, tuple(value))
        if self.genre_match not in ("all", "any"):
            raise ValueError(f"genre_match must be 'all' or 'any', got {self.genre_match!r}")
        if self.year_from is not None and self.year_to is not None and self.year_from > self.year_to:
            raise ValueError(
                f"inverted year range: year_from={self.year_from} is after year_to={self.year_to}; "
                "swap them or drop one bound"
            )
        if self.min_popularity is not None and self.min_popularity < 0:
            raise ValueError(f"min_popularity must be >= 0, got {self.min_popularity}")
        overlap = {g.lower() for g in self.include_genres} & {g.lower() for g in self.exclude_genres}
        if overlap:
            raise ValueError(f"genres {sorted(overlap)} are both included and excluded; keep them in one list")

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The valid filter fields."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> SearchFilters:
        """Build from a dict such as ``{"include_genres": ["Sci-Fi"], "year_from": 1990}``.

        Raises:
            ValueError: naming an unknown field and listing the valid ones.
        """
        valid = cls.field_names()
        unknown = [key for key in mapping if key not in valid]
        if unknown:
            raise ValueError(
                f"unknown filter field(s) {', '.join(map(repr, unknown))}; valid fields are: {', '.join(valid)}"
            )
        return cls(**dict(mapping))

    @classmethod
    def from_filters(cls, filters: Filters) -> SearchFilters:
        """Convert the agent's :class:`~agentrec.types.Filters` (``min_ratings`` counts interactions)."""
        return cls(
            include_genres=tuple(filters.include_genres),
            genre_match=filters.genre_match,
            exclude_genres=tuple(filters.exclude_genres),
            year_from=filters.year_min,
            year_to=filters.year_max,
            min_popularity=filters.min_ratings,
            exclude_items=tuple(filters.exclude_items),
        )

    @classmethod
    def coerce(cls, filters: SearchFilters | Filters | Mapping[str, Any] | None) -> SearchFilters | None:
        """Accept any supported filter form; None stays None."""
        if filters is None or isinstance(filters, SearchFilters):
            return filters
        if isinstance(filters, Filters):
            return cls.from_filters(filters)
        if isinstance(filters, Mapping):
            return cls.from_mapping(filters)
        raise ValueError(
            f"filters must be SearchFilters, agentrec.types.Filters, a dict or None; got {type(filters).__name__}"
        )

    def is_empty(self) -> bool:
        """True when no constraint is set."""
        return not (
            self.include_genres
            or self.exclude_genres
            or self.year_from is not None
            or self.year_to is not None
            or self.min_popularity
            or self.exclude_items
        )

    def to_where(self, valid_genres: Sequence[str]) -> dict[str, Any] | None:
        """Compile to a Chroma ``where`` clause.

        Args:
            valid_genres: the genres present in the store (case-insensitive matching maps to these).

        Returns:
            The clause, or None when there is no constraint.

        Raises:
            ValueError: for a genre not in ``valid_genres`` (listing them).
        """
        canonical = {g.lower(): g for g in valid_genres}

        def resolve(genre: str) -> str:
            try:
                return canonical[genre.strip().lower()]
            except KeyError:
                raise ValueError(f"unknown genre {genre!r}; valid genres are: {', '.join(valid_genres)}") from None

        clauses: list[dict[str, Any]] = []
        include = [{genre_field(resolve(g)): True} for g in self.include_genres]
        if self.genre_match == "any" and len(include) > 1:
            clauses.append({"$or": include})
        else:
            clauses.extend(include)
        # $ne also matches items without the field, i.e. items that lack the genre.
        clauses.extend({genre_field(resolve(g)): {"$ne": True}} for g in self.exclude_genres)
        if self.year_from is not None:
            clauses.append({"year": {"$gte": int(self.year_from)}})
        if self.year_to is not None:
            clauses.append({"year": {"$lte": int(self.year_to)}})
        if self.min_popularity:
            clauses.append({"popularity": {"$gte": int(self.min_popularity)}})
        if self.exclude_items:
            clauses.append({"item_index": {"$nin": [int(i) for i in self.exclude_items]}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}
