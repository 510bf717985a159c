"""Item and user profile text built from catalogue fields.

An item's text comes from a template over its fields (title, year, genres, tags, overview, keywords);
a user's profile text summarises their most characteristic liked items and the genres and tags that
dominate them. Both feed the text encoder: items for semantic search and the GNN's text features, users
for cold start and explanations.
"""

from __future__ import annotations

import hashlib
import math
import re
import string
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from agentrec.types import Catalog, Item

__all__ = [
    "DEFAULT_ITEM_TEMPLATE",
    "TEMPLATE_FIELDS",
    "ItemTextTemplate",
    "as_template",
    "has_item_text",
    "is_generated_title",
    "item_text",
    "user_profile_text",
]

#: The default item template. ``{field}`` is replaced by the item's value; a ``[...]`` section is dropped
#: when any field inside it is empty, so items without a year or an overview read naturally. The overview
#: comes before tags and keywords so that, when a long text is truncated to the model's token limit, the
#: lists are what gets cut.
DEFAULT_ITEM_TEMPLATE = "{title}[ ({year})][. Genres: {genres}][. {overview}][ Keywords: {keywords}.][ Tags: {tags}.]"

#: Fields a template may use.
TEMPLATE_FIELDS = ("item_id", "title", "year", "genres", "tags", "overview", "keywords")

_SECTION = re.compile(r"\[([^\[\]]*)\]")


@dataclass(frozen=True)
class ItemTextTemplate:
    """A template that renders an :class:`~agentrec.types.Item` as text.

    Args:
        template: a ``str.format``-style string over :data:`TEMPLATE_FIELDS`; text in square brackets is an
            optional section, dropped when any field inside it is empty. Literal braces/brackets are not
            supported.
        max_list: at most this many genres, tags and keywords are written (long tag lists would otherwise
            push the overview out of the model's token window).

    Raises:
        ValueError: when the template uses an unknown field, or ``max_list`` < 1.
    """

    template: str = DEFAULT_ITEM_TEMPLATE
    max_list: int = 20

    def __post_init__(self) -> None:
        if self.max_list < 1:
            raise ValueError(f"max_list must be >= 1, got {self.max_list}")
        for name in self._fields_in(self.template):
            if name not in TEMPLATE_FIELDS:
                raise ValueError(
                    f"template field {{{name}}} is unknown; valid fields are: {', '.join(TEMPLATE_FIELDS)}"
                )
        if not self._fields_in(self.template):
            raise ValueError(f"template {self.template!r} uses no field; use some of: {', '.join(TEMPLATE_FIELDS)}")

    @staticmethod
    def _fields_in(text: str) -> list[str]:
        plain = text.replace("[", "").replace("]", "")
        try:
            return [name for _, name, _, _ in string.Formatter().parse(plain) if name is not None]
        except ValueError as exc:
            raise ValueError(f"template {text!r} is not a valid format string: {exc}") from exc

    @cached_property
    def fingerprint(self) -> str:
        """A short hash identifying this template (changes whenever the rendered text could)."""
        return hashlib.sha256(f"{self.template}\x00{self.max_list}".encode()).hexdigest()[:12]

    def values(self, item: Item) -> dict[str, str]:
        """The string value of every template field for one item (empty string when missing)."""
        keywords = item.attributes.get("keywords", ()) if item.attributes else ()
        if isinstance(keywords, str):
            keywords = tuple(k.strip() for k in keywords.split("|") if k.strip())
        return {
            "item_id": item.item_id,
            "title": item.title.strip(),
            "year": "" if item.year is None else str(item.year),
            "genres": ", ".join(g for g in item.genres[: self.max_list] if g != "(no genres listed)"),
            "tags": ", ".join(_dedupe(item.tags)[: self.max_list]),
            "overview": " ".join(item.overview.split()),
            "keywords": ", ".join(_dedupe(tuple(str(k) for k in keywords))[: self.max_list]),
        }

    def render(self, item: Item) -> str:
        """The item's text.

        The template is parsed once and the item's values are inserted as they are: catalogue text is never
        read as a format string, so titles with braces ("{F.B.R}"), quotes, Markdown or HTML come out verbatim.
        """
        values = self.values(item)
        out: list[str] = []
        for optional, parts in self._parsed:
            if optional and any(name is not None and not values[name] for _, name in parts):
                continue
            out.extend(literal + (values[name] if name is not None else "") for literal, name in parts)
        return " ".join("".join(out).split())

    @cached_property
    def _parsed(self) -> list[tuple[bool, list[tuple[str, str | None]]]]:
        """The template as ``(optional, [(literal, field or None), ...])`` chunks, in order."""
        chunks: list[tuple[bool, list[tuple[str, str | None]]]] = []
        pos = 0
        for match in _SECTION.finditer(self.template):
            chunks.append((False, self._parts(self.template[pos : match.start()])))
            chunks.append((True, self._parts(match.group(1))))
            pos = match.end()
        chunks.append((False, self._parts(self.template[pos:])))
        return chunks

    @staticmethod
    def _parts(text: str) -> list[tuple[str, str | None]]:
        return [(literal, name) for literal, name, _, _ in string.Formatter().parse(text)]


def _dedupe(values: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for value in values:
        key = value.strip().lower()
        if key and key not in seen:
            seen.add(key)
            out.append(value.strip())
    return out


def is_generated_title(item: Item) -> bool:
    """True when an item's title is a placeholder made from its id ("Item 12", "Location 40981"), not text.

    Loaders title items without a name ``"<word> <id>"``; such a title says nothing a text model could use.
    """
    words = item.title.split()
    ids = {item.item_id, str(item.attributes.get("org_id", ""))} if item.attributes else {item.item_id}
    return len(words) == 2 and words[1] in ids


def has_item_text(catalog: Catalog) -> bool:
    """Whether a catalogue has text to embed: genres, tags, an overview, or a real title (names count).

    Generated placeholder titles (:func:`is_generated_title`) do not count, so an ids-only catalogue such
    as gowalla builds no text index, while a catalogue of artist names does.
    """
    return any(it.genres or it.tags or it.overview or not is_generated_title(it) for it in catalog.items)


def as_template(template: str | ItemTextTemplate | None) -> ItemTextTemplate:
    """An :class:`ItemTextTemplate` from a template string, a template, or None (the default)."""
    if template is None:
        return ItemTextTemplate()
    if isinstance(template, ItemTextTemplate):
        return template
    return ItemTextTemplate(template)


def item_text(item: Item, template: str | ItemTextTemplate | None = None) -> str:
    """Render one item as text for the encoder.

    Args:
        item: the catalogue entry.
        template: a template string (see :data:`DEFAULT_ITEM_TEMPLATE` for the syntax), an
            :class:`ItemTextTemplate`, or None for the default.

    Returns:
        The item's text, e.g. ``"Alien (1979). Genres: Horror, Sci-Fi. A crew meets a deadly alien. Tags: space."``.
    """
    return as_template(template).render(item)


def user_profile_text(
    catalog: Catalog,
    item_indices: Sequence[int] | np.ndarray,
    ratings: Sequence[float] | np.ndarray | None = None,
    *,
    popularity: np.ndarray | None = None,
    max_items: int = 5,
    max_genres: int = 3,
    max_tags: int = 5,
) -> str:
    """Describe a user's taste in words from their history.

    Liked items are those rated at or above the user's own mean rating (all items when there are no
    ratings). The most *characteristic* ones are shown: the higher an item is rated relative to the user's
    mean, and the less popular it is (when ``popularity`` is given), the better it tells this user apart
    from everyone else. Genres and tags are ranked by how much more often they occur among the liked items
    than in the whole catalogue (lift times count), so "Drama" does not win just by being common.

    Args:
        catalog: the catalogue the indices refer to.
        item_indices: ``(n,)`` item indices the user interacted with.
        ratings: optional ``(n,)`` ratings aligned with ``item_indices``.
        popularity: optional ``(num_items,)`` interaction counts, used to favour less popular items.
        max_items: how many example items to name.
        max_genres: how many dominant genres to name.
        max_tags: how many dominant tags to name.

    Returns:
        Text such as ``"Likes: Alien (1979), The Thing (1982). Favourite genres: Sci-Fi, Horror. Frequent
        tags: space."``; ``""`` when the history is empty.

    Raises:
        ValueError: when an index is out of range, lengths differ, or a ``max_*`` is < 1.
    """
    for name, value in (("max_items", max_items), ("max_genres", max_genres), ("max_tags", max_tags)):
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    idx = np.asarray(item_indices, dtype=np.int64).reshape(-1)
    if len(idx) == 0:
        return ""
    if int(idx.min()) < 0 or int(idx.max()) >= len(catalog):
        raise ValueError(
            f"item_indices must lie in [0, {len(catalog)}), the catalogue size; got {idx.min()}..{idx.max()}"
        )
    if ratings is not None:
        r = np.asarray(ratings, dtype=np.float64).reshape(-1)
        if len(r) != len(idx):
            raise ValueError(f"ratings has {len(r)} values but item_indices has {len(idx)}; they must match")
    else:
        r = np.ones(len(idx))
    if popularity is not None and len(popularity) != len(catalog):
        raise ValueError(f"popularity has {len(popularity)} values but the catalogue has {len(catalog)} items")

    # Keep each item once, with its best rating.
    best: dict[int, float] = {}
    for i, rating in zip(idx.tolist(), r.tolist(), strict=True):
        best[i] = max(rating, best.get(i, -math.inf))
    items = np.array(list(best), dtype=np.int64)
    rated = np.array([best[i] for i in items.tolist()])
    liked_mask = rated >= rated.mean() - 1e-9
    liked, liked_r = items[liked_mask], rated[liked_mask]

    spread = float(liked_r.std()) or 1.0
    score = (liked_r - rated.mean()) / spread
    if popularity is not None:
        pop = np.asarray(popularity, dtype=np.float64)
        # Inverse popularity in [0, 1]: 1 for an item nobody else saw.
        score = score + 1.0 - np.log1p(pop[liked]) / math.log1p(max(float(pop.max()), 1.0))
    # Stable: ties keep history order.
    order = np.argsort(-score, kind="stable")
    examples = [catalog[int(i)].display_title for i in liked[order][:max_items]]

    genre_all = Counter(g for it in catalog.items for g in it.genres)
    tag_all = Counter(t.lower() for it in catalog.items for t in set(it.tags))
    genre_liked = Counter(g for i in liked.tolist() for g in catalog[i].genres if g != "(no genres listed)")
    tag_liked = Counter(t.lower() for i in liked.tolist() for t in set(catalog[i].tags))
    genres = _characteristic(genre_liked, genre_all, len(liked), len(catalog), max_genres)
    tags = _characteristic(tag_liked, tag_all, len(liked), len(catalog), max_tags)

    parts = [f"Likes: {', '.join(examples)}."]
    if genres:
        parts.append(f"Favourite genres: {', '.join(genres)}.")
    if tags:
        parts.append(f"Frequent tags: {', '.join(tags)}.")
    return " ".join(parts)


def _characteristic(liked: Counter[str], overall: Counter[str], n_liked: int, n_all: int, k: int) -> list[str]:
    """Names ranked by count x lift over the catalogue; a name must occur at least once among liked items."""

    def weight(name: str) -> tuple[float, int, str]:
        lift = (liked[name] / n_liked) / max(overall.get(name, 1) / n_all, 1e-12)
        return (-liked[name] * math.log1p(lift), -liked[name], name)

    return sorted(liked, key=weight)[:k]
