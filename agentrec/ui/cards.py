"""Recommendation cards: the catalogue's facets, an overview snippet, rating or popularity, one reason, evidence.

:class:`CardFacts` reads what a card shows from the catalogue, its schema and the retriever's statistics (any
catalogue: year and genres for films, category and brand for products, nothing for an ids-only one);
:func:`card_html` lays one card out. Everything that comes from data or from the user is HTML-escaped, and an
image is shown only from an ``http(s)`` URL in an image-like attribute (lazy; a placeholder otherwise).
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agentrec.schema import CatalogSchema
from agentrec.types import Catalog, Item, Recommendation
from agentrec.ui.paths import paths_html, strongest_paths

__all__ = ["CardFacts", "CardView", "card_html", "card_reason"]

IMAGE_KEYS = re.compile(r"image|poster|thumbnail|cover|picture|photo", re.IGNORECASE)
_URL = re.compile(r"^https?://[^\s\"'<>]+$", re.IGNORECASE)
_RATED = re.compile(
    r"(?:Rated \d+(?:\.\d+)?/5 on average by [\d,]+ (?:people|person)|Chosen by [\d,]+ (?:people|person) in the data)"
)
_QUOTE = re.compile(r'From its description: "[^"]*"')
_NEW = "New in the catalogue: nobody in the data has chosen it yet"


@dataclass(frozen=True)
class CardView:
    """What one card shows besides the recommendation itself."""

    chips: tuple[str, ...] = ()  # multi-valued facet values (genres, most specific categories)
    tags: tuple[str, ...] = ()  # a few of the item's tags (shown muted)
    facts: tuple[tuple[str, str], ...] = ()  # (label, value): single-valued and numeric facets ("brand", "3M")
    year: int | None = None
    overview: str = ""
    stats: str = ""  # "★ 4.3/5 · 1,204 ratings" or "312 people chose it"
    stats_sentence: str = ""  # the same in the words the agent's reasons use ("Rated 4.3/5 on average by ...")
    image: str = ""  # an http(s) URL, or ""
    words: frozenset[str] = field(default_factory=frozenset)  # the item's facet values, case-folded


class CardFacts:
    """Reads what cards show from one catalogue (its facets) and the retriever (ratings, interaction counts).

    Args:
        catalog: the catalogue.
        schema: its facets (None: derived from the catalogue).
        retriever: optional; its ``quality.rating_fact(i)`` gives (mean rating, people), else its
            ``item_degree[i]`` gives how many people chose the item.
        max_chips: facet values shown per multi-valued facet (the most specific ones: values that more than
            half of the catalogue shares, such as "Industrial & Scientific", say nothing and are left out).
        max_tags: values of the other multi-valued facets (tags, keywords) shown at most, muted.
        overview_chars: the overview snippet's length.
    """

    def __init__(
        self,
        catalog: Catalog,
        schema: CatalogSchema | None = None,
        retriever: Any = None,
        *,
        max_chips: int = 5,
        max_tags: int = 3,
        overview_chars: int = 180,
    ) -> None:
        self.catalog = catalog
        self.schema = schema if schema is not None else CatalogSchema.from_catalog(catalog)
        self.quality = getattr(retriever, "quality", None)
        self.degree = getattr(retriever, "item_degree", None)
        self.max_chips = max_chips
        self.overview_chars = overview_chars
        self.max_tags = max_tags
        # The facet whose values are the card's chips: the first multi-valued categorical one (genre, category).
        multi = [f for f in self.schema.facets if f.kind == "categorical" and f.multi and not IMAGE_KEYS.search(f.name)]
        self.main_facet = multi[0].name if multi else None
        self._common: dict[str, set[str]] = {}
        for f in self.schema.facets:
            if f.kind == "categorical" and f.multi and not IMAGE_KEYS.search(f.name):
                counts: Counter[str] = Counter()
                for item in catalog.items:
                    values = self.schema.item_values(item, f.name)
                    counts.update(values if isinstance(values, tuple) else ())
                self._common[f.name] = {v for v, n in counts.items() if n > len(catalog) / 2}

    @classmethod
    def for_agent(cls, agent: Any) -> CardFacts | None:
        """The card facts of an ``Agent``'s catalogue (None when it has no catalogue)."""
        components = getattr(agent, "components", None)
        catalog = getattr(components, "catalog", None)
        if catalog is None:
            return None
        schema = getattr(getattr(agent, "toolbox", None), "schema", None) or getattr(components, "schema", None)
        return cls(catalog, schema, getattr(components, "retriever", None))

    def telling(self, facet: str, values: Sequence[str]) -> tuple[str, ...]:
        """``values`` without the ones most of the catalogue shares, most specific (last) first kept."""
        common = self._common.get(facet, set())
        kept = tuple(v for v in values if v not in common) or tuple(values[-1:])
        return kept[-self.max_chips :]

    def view(self, item_index: int) -> CardView:
        """What the card of item ``item_index`` shows."""
        if not 0 <= item_index < len(self.catalog):
            return CardView()
        item = self.catalog[item_index]
        chips: list[str] = []
        tags: list[str] = []
        every: list[str] = []  # all of the item's facet values, shared ones included
        facts: list[tuple[str, str]] = []
        year = item.year
        for f in self.schema.facets:
            if IMAGE_KEYS.search(f.name) or f.kind == "text":
                continue
            value = self.schema.item_values(item, f.name)
            if f.name == "year" and f.kind == "numeric":
                continue  # shown next to the title
            if isinstance(value, tuple) and value:
                every.extend(value)
                if f.multi and f.name == self.main_facet:
                    chips.extend(self.telling(f.name, value))
                elif f.multi:  # free-form labels (tags, keywords): a few, muted
                    tags.extend(value[: max(0, self.max_tags - len(tags))])
                else:
                    facts.append((f.label, ", ".join(value)))
            elif isinstance(value, float):
                facts.append((f.label, f.format_number(value)))
        stats, sentence = self._stats(item_index)
        return CardView(
            chips=tuple(dict.fromkeys(chips)),
            tags=tuple(dict.fromkeys(tags)),
            facts=tuple(facts),
            year=year,
            overview=_snippet(self._own_text(item), self.overview_chars),
            stats=stats,
            stats_sentence=sentence,
            image=image_url(item),
            words=frozenset(v.casefold() for v in (*every, *(v for _, v in facts))),
        )

    def _own_text(self, item: Item) -> str:
        """The overview without what the card already shows (a product text that repeats title, categories, brand)."""
        text = " ".join(str(item.overview or "").split())
        if text.casefold().startswith(item.title.strip().casefold()):
            text = text[len(item.title.strip()) :].lstrip(" .,;:-")
        rest = text
        for f in self.schema.facets:
            if f.kind == "categorical":
                value = self.schema.item_values(item, f.name)
                for v in sorted(value if isinstance(value, tuple) else (), key=len, reverse=True):
                    rest = rest.replace(v, " ")
        return text if len(re.findall(r"\w{2,}", rest)) >= 2 else ""

    def _stats(self, i: int) -> tuple[str, str]:
        fact = self.quality.rating_fact(i) if self.quality is not None else None
        if fact is not None:
            mean, n = fact
            who = "person" if n == 1 else "people"
            return (
                f"★ {mean:.1f}/5 · {n:,} rating{'s' if n != 1 else ''}",
                f"Rated {mean:.1f}/5 on average by {n:,} {who}",
            )
        if self.degree is not None and 0 <= i < len(self.degree):
            n = int(self.degree[i])
            if n > 0:
                who = "person" if n == 1 else "people"
                return f"{n:,} {who} chose it", f"Chosen by {n:,} {who} in the data"
        return "", ""


def image_url(item: Item) -> str:
    """The item's image URL from an image-like attribute (``image``, ``poster_url``, ...), or "" (http(s) only)."""
    for key, value in (item.attributes or {}).items():
        if IMAGE_KEYS.search(str(key)) and isinstance(value, str) and _URL.match(value.strip()):
            return value.strip()
    return ""


def _snippet(text: str, n: int) -> str:
    text = " ".join(str(text or "").split())
    if len(text) <= n:
        return text
    cut = text[:n].rsplit(" ", 1)[0].rstrip(",;:.")
    return cut + "…"


def card_reason(rec: Recommendation, view: CardView) -> str:
    """One real reason for ``rec``, never a restatement of the facets the card shows ("Genre Horror, year 1982").

    Its strongest non-trivial evidence path, else the sentence of its overview that matched the request, else the
    model's own words, else its rating or popularity.
    """
    paths = strongest_paths(rec, view.words, limit=1)
    if paths:
        return paths[0].text
    reason = rec.reason.strip()
    quote = _QUOTE.search(reason)
    if quote:
        return quote.group(0)
    rest = reason
    for p in rec.evidence:
        rest = rest.replace(p.text, " ")
    rest = _RATED.sub(" ", rest).replace(_NEW, " ")
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", rest) if s.strip(" .")]
    prose = [s for s in sentences if not _restates_facets(s, view)]
    if prose and len(" ".join(prose).split()) >= 4:
        return " ".join(prose)
    rated = _RATED.search(reason)
    if rated:
        return rated.group(0)
    if _NEW in reason:
        return _NEW
    return view.stats_sentence


def _restates_facets(sentence: str, view: CardView) -> bool:
    """True for a sentence made only of facet labels and values the card shows ("Genre Comedy/Drama, year 1995")."""
    words = re.split(r"[\s,/;:]+", sentence.casefold().strip(" ."))
    shown = {w for v in view.words for w in re.split(r"[\s,/;:]+", v)} | {str(view.year or "")}
    filler = {"genre", "genres", "year", "category", "brand", "tag", "tags", "and", "price", "a", "an", "from"}
    return all(w in shown or w in filler or w.isdigit() for w in words if re.search(r"\w", w))


def card_html(
    rec: Recommendation,
    *,
    rank: int,
    feedback: bool | None = None,
    view: CardView | None = None,
    max_paths: int = 3,
) -> str:
    """One recommendation card.

    Args:
        rec: the recommendation.
        rank: its 1-based position.
        feedback: True when liked, False when disliked, None when neither.
        view: the card's facts from :class:`CardFacts` (None: the recommendation's own year and genres).
        max_paths: evidence paths drawn at most (trivial ones are never drawn).

    Returns:
        An HTML fragment whose outer ``div`` carries ``data-item-id`` and ``data-feedback`` (tests read them).
    """
    esc = html.escape
    view = view if view is not None else CardView(chips=rec.genres, year=rec.year, words=_folded(rec.genres))
    year = view.year if view.year is not None else rec.year
    year_html = (
        f" <span class='agentrec-year'>({year})</span>" if year is not None and f"({year})" not in rec.title else ""
    )
    chips = "".join(f"<span class='agentrec-chip'>{esc(c)}</span>" for c in view.chips)
    chips += "".join(f"<span class='agentrec-chip agentrec-tag'>{esc(t)}</span>" for t in view.tags)
    facts = " · ".join(
        f"<span class='agentrec-fact'>{esc(label)} <b>{esc(value)}</b></span>" for label, value in view.facts
    )
    reason = card_reason(rec, view)
    stats = view.stats if view.stats and reason != view.stats_sentence else ""
    meta = " · ".join(p for p in (facts, f"<span class='agentrec-stats'>{esc(stats)}</span>" if stats else "") if p)
    overview = f"<div class='agentrec-overview'>{esc(view.overview)}</div>" if view.overview else ""
    thumb = (
        f"<img class='agentrec-img' src='{esc(view.image, quote=True)}' alt='' loading='lazy' decoding='async' "
        "referrerpolicy='no-referrer'>"
        if view.image
        else ""
    )
    initial = esc((rec.title.strip() or "?")[0].upper())
    state = {True: "liked", False: "disliked", None: "none"}[feedback]
    badge = {
        True: "<span class='agentrec-badge agentrec-liked'>👍 liked — I'll find more like it</span>",
        False: "<span class='agentrec-badge agentrec-disliked'>👎 disliked — won't be suggested again</span>",
        None: "",
    }[feedback]
    return (
        f"<div class='agentrec-card agentrec-{state}' data-item-id='{esc(rec.item_id, quote=True)}' "
        f"data-feedback='{state}'>"
        f"<div class='agentrec-thumb' aria-hidden='true'><span>{initial}</span>{thumb}</div>"
        f"<div class='agentrec-body'>"
        f"<div class='agentrec-title'><span class='agentrec-rank'>{rank}.</span> {esc(rec.title)}{year_html}</div>"
        f"<div class='agentrec-genres'>{chips}</div>"
        f"<div class='agentrec-meta'>{meta}</div>"
        f"<div class='agentrec-reason'>{esc(reason)}</div>"
        f"{overview}{paths_html(rec, view.words, limit=max_paths)}{badge}</div></div>"
    )


def _folded(values: Sequence[str]) -> frozenset[str]:
    return frozenset(v.casefold() for v in values)
