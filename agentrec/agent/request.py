"""The reading of one message: :class:`Request` (what it asks of the catalogue's facets) and its parts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from agentrec.agent.lexicon import ValueRef
from agentrec.agent.quantities import Span

__all__ = ["Hit", "Polarity", "Request", "add", "linked"]

Polarity = Literal["include", "exclude", "avoid"]


@dataclass
class Request:
    """What one message asks of the catalogue's facets (see the module docstring).

    Attributes:
        include / exclude: facet -> values the items must / must not carry.
        match: facet -> "all" or "any" for ``include`` (any for "or"-joined values and single-valued facets).
        ranges / exclude_ranges: numeric facet -> allowed / forbidden ``(low, high)`` spans (inclusive, None open).
        prefer: facet -> values wished for softly (alternatives one filter cannot hold).
        avoid: facet -> values to rank down ("not too scary"); ``avoid_terms``: such words that name no value.
        exclude_terms: negated words that name no facet value ("nothing latex"); applied by text match.
        inferred: facet -> values read only from topic words ("detective" -> Mystery).
        weak: facet -> values read only from a head noun ("tools" -> every kind of tool, "gift" -> Scientific
            Gifts); dropped back to search text when they leave nothing together with the rest of the request, or
            when the rest of the request fits other items far better (``weak_terms``: those head nouns).
        text: the residual free-text intent (positive words only).
        unapplied: user-facing lines: what the catalogue cannot filter on, and what was done instead.
        notes: user-facing lines: how ambiguous words were read.
        conflicts: contradictions inside the message (the reply asks which was meant).
        form: "head" (a full request: "a funny crime movie"), "refine" ("only 90s"), "bare", or "none".
        mode: "correct" ("no, I meant horror"), "switch" ("something completely different"), "instead", or None.
        mentions: the phrases recognised, for the trace.
        facets_stated: the facets this message put a constraint on.
    """

    include: dict[str, list[str]] = field(default_factory=dict)
    match: dict[str, str] = field(default_factory=dict)
    exclude: dict[str, list[str]] = field(default_factory=dict)
    ranges: dict[str, list[tuple[float | None, float | None]]] = field(default_factory=dict)
    exclude_ranges: dict[str, list[tuple[float | None, float | None]]] = field(default_factory=dict)
    prefer: dict[str, list[str]] = field(default_factory=dict)
    avoid: dict[str, list[str]] = field(default_factory=dict)
    avoid_terms: list[str] = field(default_factory=list)
    exclude_terms: list[str] = field(default_factory=list)
    inferred: dict[str, list[str]] = field(default_factory=dict)
    weak: dict[str, list[str]] = field(default_factory=dict)
    weak_terms: list[str] = field(default_factory=list)
    text: str = ""
    unapplied: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    form: str = "none"
    mode: str | None = None
    mentions: list[str] = field(default_factory=list)

    @property
    def facets_stated(self) -> set[str]:
        """Every facet this message constrained (hard constraints only)."""
        return {*self.include, *self.exclude, *self.ranges, *self.exclude_ranges}

    def is_empty(self) -> bool:
        """True when the message stated no constraint and no search text."""
        return not (
            self.facets_stated or self.text or self.exclude_terms or self.prefer or self.avoid or self.avoid_terms
        )


@dataclass
class Hit:
    """One recognised phrase with its position and polarity."""

    start: int
    end: int
    phrase: str
    polarity: Polarity = "include"
    ref: ValueRef | None = None
    span: Span | None = None


def linked(text: str, a: Hit, b: Hit) -> str:
    """How two neighbouring hits are joined: "or", "and" or "," (a list)."""
    between = text[a.end : b.start]
    if re.search(r"\bor\b|\beither\b", between) or between.strip() == "/":
        return "or"
    if between.strip() == ",":
        return ","
    return "and"


def add(table: dict[str, list[str]], facet: str, values: list[str]) -> None:
    """Append ``values`` to ``table[facet]``, each once, in order."""
    row = table.setdefault(facet, [])
    row.extend(v for v in values if v not in row)
