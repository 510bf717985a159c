"""The phrases a request may use for facet values: the catalogue's own values, their plain variants, and a pack's.

The lexicon is built once per catalogue from its schema (facet values) and its domain pack (synonyms, topic words,
compounds). Most phrases come from the catalogue itself: every categorical value, lower-cased, with its simple
variants (singular / plural, "&" / "and", hyphen / space). A pack adds only what those miss ("scary" -> Horror).

One regular expression over every phrase, longest first, finds the mentions in a message, so "romantic comedy"
beats "comedy" and "science fiction" beats "fiction".
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np

from agentrec.packs import DomainPack

__all__ = ["STOPWORDS", "FacetLike", "FacetStats", "Lexicon", "SchemaLike", "ValueRef", "value_pairs"]

# Words of any request that carry no wish of their own; never read as a facet value ("a good one").
STOPWORDS = frozenset(
    "a an the some any me i im i'm id i'd we us you please want wanna would like love recommend recommendation "
    "recommendations suggest suggestions give show find get looking look for something anything to see good great "
    "nice really very more another other one ones that this it is are be can could should of in on from about with "
    "and or but too so kind sort type tonight today maybe perhaps also just only similar same stuff let lets let's "
    "my mood feel feeling need what which i've ive already have has had no not nothing none without any thanks "
    "thank ok okay now then instead rather hmm well actually meant mean sorry completely totally entirely different "
    "else new full whole quite pretty bit little lot lots much many few there here how who all every best top "
    "favorite favourite awesome cool fun by made brand brands if possible ideally preferably involving involves".split()
)

Origin = Literal["name", "synonym", "topic", "compound", "head", "none"]
# Origins in order of strength: a phrase known in several ways keeps the strongest reading.
_STRENGTH: dict[str, int] = {"none": 5, "name": 4, "compound": 3, "synonym": 2, "topic": 1, "head": 0}


class FacetLike(Protocol):
    """What the grammar needs to know of a facet (``agentrec.schema.Facet`` satisfies it)."""

    name: str
    kind: str
    label: str
    values: tuple[str, ...]
    bounds: tuple[float, float] | None
    multi: bool
    unit: str
    integer: bool
    filterable: bool


class SchemaLike(Protocol):
    """What the grammar needs to know of a catalogue schema (``agentrec.schema.CatalogSchema`` satisfies it)."""

    @property
    def facets(self) -> Sequence[FacetLike]:
        """The facets, in order."""
        ...


@dataclass(frozen=True)
class ValueRef:
    """What one phrase names: values of one facet, or nothing (``origin="none"``).

    A compound ("rom-com") names all of its values; a head noun ("filament", "tape") names any of the values
    it ends ("3D Printing Filament"; "Duct Tape", "Electrical Tape"): ``any_of`` is then True.
    """

    facet: str
    values: tuple[str, ...]
    origin: Origin
    phrase: str
    any_of: bool = False


def _variants(phrase: str) -> Iterator[str]:
    """The plain variants of a catalogue value a person might type."""
    p = re.sub(r"\s+", " ", phrase.strip().lower())
    if not p:
        return
    yield p
    for alt in {p.replace("-", " "), p.replace(" ", "-"), p.replace("&", "and"), p.replace(" & ", " ")}:
        if alt != p:
            yield alt
    if len(p) > 3 and p.isascii() and p[-1].isalpha():
        if p.endswith("ies"):
            yield p[:-3] + "y"
        elif p.endswith("s") and not p.endswith("ss"):
            yield p[:-1]
        elif p.endswith("y") and p[-2] not in "aeiou":
            yield p[:-1] + "ies"
        elif p.endswith(("s", "x", "ch", "sh")):
            yield p + "es"
        else:
            yield p + "s"


def _alternation(phrases: list[str]) -> re.Pattern[str] | None:
    """One regular expression over ``phrases``, longest first, matching whole words only."""
    if not phrases:
        return None
    body = "|".join(re.escape(p) for p in sorted(phrases, key=lambda p: (-len(p), p)))
    return re.compile(rf"(?<![\w-])(?:{body})(?![\w-])")


def _heads(values: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Head noun (the last word of a multi-word value) -> the values it ends: "tape" -> Duct Tape, Electrical Tape."""
    out: dict[str, list[str]] = {}
    for value in values:
        words = re.findall(r"[\w'-]+", value.lower())
        if len(words) >= 2 and len(words[-1]) >= 4 and words[-1] not in STOPWORDS and not words[-1].isdigit():
            out.setdefault(words[-1], []).append(value)
    return {head: tuple(vals) for head, vals in out.items()}


@dataclass(frozen=True)
class FacetStats:
    """What the catalogue says about one facet's values: how many items carry each, and which meet on an item."""

    num_items: int
    counts: Mapping[str, int]
    together: frozenset[frozenset[str]]

    @classmethod
    def from_items(cls, values_per_item: Iterable[Sequence[str]]) -> FacetStats:
        """Count values and the pairs that occur together, from each item's values of the facet."""
        counts: dict[str, int] = {}
        pairs: set[frozenset[str]] = set()
        n = 0
        for values in values_per_item:
            n += 1
            uniq = sorted(set(values))
            for v in uniq:
                counts[v] = counts.get(v, 0) + 1
            pairs.update(frozenset((a, b)) for i, a in enumerate(uniq) for b in uniq[i + 1 :])
        return cls(n, counts, frozenset(pairs))


def value_pairs(values_per_item: Iterable[Sequence[str]]) -> set[frozenset[str]]:
    """The pairs of values that occur together on some item."""
    return set(FacetStats.from_items(values_per_item).together)


class Lexicon:
    """Phrase -> facet value(s), for every categorical facet the catalogue can filter on.

    Args:
        schema: the catalogue schema (its categorical facets and their values).
        pack: the domain pack (synonyms, topics, compounds, phrases that name no value).
        soft: descriptive facets (sparse free tags, keywords): a value named there only steers the ranking,
            while an exclusion is still applied.
        together: facet -> the pairs of values some item carries together (``frozenset({a, b})``); without it
            every pair is assumed possible.
        stats: facet -> :class:`FacetStats` (gives ``together`` and value counts: a head noun that would select a
            quarter of the catalogue or more, like "supplies" or "products", names no value).
        min_length: phrases shorter than this are ignored (avoids "a", "it").

    A phrase claimed by a facet with a smaller vocabulary is never taken over by a larger one ("funny" stays the
    genre Comedy even where "funny" is also a free tag); within one facet the stronger reading wins.
    """

    def __init__(
        self,
        schema: SchemaLike,
        pack: DomainPack,
        *,
        soft: frozenset[str] = frozenset(),
        together: Mapping[str, set[frozenset[str]]] | None = None,
        stats: Mapping[str, FacetStats] | None = None,
        min_length: int = 2,
    ) -> None:
        stats = stats or {}
        self.stats: Mapping[str, FacetStats] = stats
        if together is None and stats:
            together = {f: set(st.together) for f, st in stats.items()}
        self.facets: dict[str, FacetLike] = {f.name: f for f in schema.facets}
        self.pack = pack
        self.soft = frozenset(soft)
        self.together = together
        self._encode: Callable[[list[str]], Any] | None = None
        self._matcher: Any = None
        self._matcher_lock = threading.Lock()
        # What "short" and "long" mean, in minutes: the pack's words, or the catalogue's terciles (for_catalog).
        lengths = pack.lengths
        self.lengths: tuple[float, float] | None = (
            (float(lengths["short"]), float(lengths["long"])) if lengths and lengths.get("unit") == "min" else None
        )
        self._table: dict[str, ValueRef] = {}
        categorical = [f for f in schema.facets if f.kind == "categorical" and f.values]
        # Small vocabularies first: a phrase that is both a genre and a tag reads as the genre.
        for facet in sorted(categorical, key=lambda f: len(f.values)):
            lookup = {v.lower(): v for v in facet.values}
            for value in facet.values:
                for phrase in _variants(value):
                    if len(phrase) >= min_length:
                        self._add(ValueRef(facet.name, (value,), "name", phrase))
            for table, origin in ((pack.synonyms, "synonym"), (pack.topics, "topic")):
                for value, phrases in table.get(facet.name, {}).items():
                    if value.lower() in lookup:
                        for phrase in phrases:
                            self._add(ValueRef(facet.name, (lookup[value.lower()],), origin, phrase))  # type: ignore[arg-type]
            for phrase, values in pack.compounds.get(facet.name, {}).items():
                known = tuple(lookup[v.lower()] for v in values if v.lower() in lookup)
                if len(known) == len(values):
                    self._add(ValueRef(facet.name, known, "compound", phrase))
            for phrase in pack.not_values.get(facet.name, ()):
                self._table[phrase] = ValueRef(facet.name, (), "none", phrase)
        for facet in sorted(categorical, key=lambda f: len(f.values)):
            if facet.name not in self.soft and facet.multi:  # a brand's last word ("Brand", "Products") names none
                st = stats.get(facet.name)
                for head, values in _heads(facet.values).items():
                    if st is not None and sum(st.counts.get(v, 0) for v in values) > st.num_items / 4:
                        continue
                    for phrase in _variants(head):
                        self._add(ValueRef(facet.name, values, "head", phrase, any_of=len(values) > 1))
        # Firm facets are read first, descriptive ones (free tags, keywords) only in what is left: "sci-fi
        # thriller" is two genres even where some film carries the keyword "sci-fi thriller".
        self._patterns = [
            p
            for group in (
                [k for k, r in self._table.items() if r.facet not in self.soft],
                [k for k, r in self._table.items() if r.facet in self.soft],
            )
            if (p := _alternation(group)) is not None
        ]

    def _add(self, ref: ValueRef) -> None:
        if ref.phrase in STOPWORDS or ref.phrase in self.pack.nouns:
            return
        old = self._table.get(ref.phrase)
        if old is None or (old.facet == ref.facet and _STRENGTH[ref.origin] > _STRENGTH[old.origin]):
            self._table[ref.phrase] = ref

    def __len__(self) -> int:
        return len(self._table)

    @classmethod
    def for_catalog(
        cls, schema: Any, items: Sequence[Any], pack: DomainPack, *, encode: Callable[[list[str]], Any] | None = None
    ) -> Lexicon:
        """The lexicon of a catalogue: its schema's values, their statistics over ``items``, and ``pack``.

        With ``encode`` (texts -> embeddings, the catalogue's text encoder) words can also be read as values by
        meaning (:meth:`read_by_meaning`).

        A multi-valued facet that fewer than 60 % of the items carry and that has more than 50 values (free tags,
        keywords) is descriptive: naming one of its values steers the ranking instead of filtering.
        """
        stats: dict[str, FacetStats] = {}
        soft: set[str] = set()
        for f in schema.facets:
            if f.kind != "categorical" or not f.filterable:
                continue
            per_item = [schema.item_values(it, f.name) or () for it in items]
            covered = sum(1 for v in per_item if v)
            if f.multi and len(f.values) > 50 and covered < 0.6 * max(len(items), 1):
                soft.add(f.name)
            else:
                stats[f.name] = FacetStats.from_items(v if isinstance(v, tuple) else (v,) for v in per_item)
        lexicon = cls(schema, pack, soft=frozenset(soft), stats=stats)
        lexicon._encode = encode
        durations = [f for f in schema.facets if f.kind == "numeric" and (f.unit == "min" or f.name == "runtime")]
        if durations:
            values = [v for it in items if isinstance(v := schema.item_values(it, durations[0].name), float | int)]
            if len(values) >= 3:
                lo, hi = np.quantile(np.asarray(values, dtype=float), [1 / 3, 2 / 3])
                lexicon.lengths = (float(lo), float(hi))
        return lexicon

    def read_by_meaning(self, words: Sequence[str]) -> list[Any]:
        """Words read as values of a firm facet by meaning (``agentrec.text.synonyms.ValueMatch``).

        Empty without an encoder. Only facets whose values are a few words a person would use (genres) are tried.
        """
        if self._encode is None or not words:
            return []
        with self._matcher_lock:
            if self._matcher is None:
                from agentrec.text.synonyms import ValueMatcher  # lazy: the text stage loads the encoder's libraries

                facets = {
                    f.name: f.values
                    for f in self.facets.values()
                    if f.kind == "categorical" and f.multi and f.filterable and f.name not in self.soft
                    and 2 <= len(f.values) <= 200
                }  # fmt: skip
                self._matcher = ValueMatcher(self._encode, facets, noun=self.pack.item)
            matcher = self._matcher
        return list(matcher.match(list(words)))

    def cooccur(self, facet: str, a: Sequence[str], b: Sequence[str]) -> bool:
        """True when some item carries a value of ``a`` together with a value of ``b`` (or nothing is known)."""
        if self.together is None or facet not in self.together:
            return True
        pairs = self.together[facet]
        return any(x == y or frozenset((x, y)) in pairs for x in a for y in b)

    def lookup(self, phrase: str) -> ValueRef | None:
        """The reading of one phrase (case-insensitive), or None."""
        return self._table.get(re.sub(r"\s+", " ", phrase.strip().lower()))

    def find(self, text: str) -> list[tuple[int, int, ValueRef]]:
        """Every phrase in lower-cased ``text``: ``(start, end, reading)``, left to right, never overlapping."""
        found: list[tuple[int, int, ValueRef]] = []
        for pattern in self._patterns:
            for m in pattern.finditer(text):
                if not any(s < m.end() and m.start() < e for s, e, _r in found):
                    found.append((m.start(), m.end(), self._table[m.group(0)]))
        return sorted(found, key=lambda x: x[0])

    def facet_words(self) -> Mapping[str, str]:
        """Facet label -> facet name for every facet ("genre" -> "genre", "brand" -> "brand")."""
        out: dict[str, str] = {}
        for f in self.facets.values():
            for word in {f.name.replace("_", " "), (f.label or f.name).lower()}:
                out[word] = f.name
        return out
