"""Evidence that tells the user something: which paths are worth citing, and factual fallbacks.

A reason that restates the request ("You asked for horror; X matches: horror") carries no information.
This module keeps the informative paths (what people who liked the same items did, a rare shared tag, a
request word found in the item's description), adds true facts from the data (how many people rated the
item and how well, a sentence of its overview that matches the request) and always leaves the guard a
citable fact, so the best candidates are never dropped for want of a path.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from agentrec.schema import CatalogSchema
from agentrec.types import GraphPath, Item, Query

__all__ = ["citable_facts", "informative_paths", "overview_sentence", "rating_sentence"]

MIN_CO_SUPPORT = 3  # a co-interaction path through fewer people is anecdote, not evidence
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[a-z0-9][a-z0-9'\-]*")


def _asked_values(query: Query) -> set[str]:
    """Every categorical value the filters name (included or excluded), lower-cased."""
    f = query.filters
    return {v.lower() for values in (*f.include.values(), *f.exclude.values()) for v in values}


def informative_paths(paths: Sequence[GraphPath], query: Query) -> list[GraphPath]:
    """``paths`` without the trivial ones, best first.

    Dropped: semantic paths whose matched terms are only values the filters already enforce (they restate
    the request), attribute paths through an enforced value, and co-interaction paths through fewer than
    :data:`MIN_CO_SUPPORT` people.
    """
    asked = _asked_values(query)
    out = []
    for p in paths:
        if p.kind == "semantic" and len(p.nodes) == 3:
            terms = set(p.nodes[1].key.split("|"))
            if terms <= asked:
                continue
        elif p.kind == "attribute" and len(p.nodes) == 4:
            if p.nodes[2].key.lower() in asked:
                continue
        elif p.kind == "co_interaction" and len(p.edges) == 3 and p.edges[1].support < MIN_CO_SUPPORT:
            continue
        out.append(p)
    return out


def rating_sentence(mean: float | None, people: int) -> str:
    """``"Rated 4.2/5 on average by 310 people"`` (explicit data) or ``"Chosen by 310 people"`` (implicit)."""
    if people <= 0:
        return ""
    who = "person" if people == 1 else "people"
    if mean is None:
        return f"Chosen by {people:,} {who} in the data"
    return f"Rated {mean:.1f}/5 on average by {people:,} {who}"


def overview_sentence(item: Item, words: Sequence[str], *, max_chars: int = 180) -> str:
    """The sentence of the item's overview that mentions most of ``words`` ("" when none mentions any)."""
    wanted = {w.lower() for w in words}
    if not wanted or not item.overview.strip():
        return ""
    best, best_hits = "", 0
    for sentence in _SENTENCE.split(item.overview.strip()):
        found = {w.strip("'-") for w in _WORD.findall(sentence.lower())}
        hits = len(wanted & found) + sum(1 for w in wanted if len(w) >= 5 and any(f.startswith(w) for f in found))
        if hits > best_hits:
            best, best_hits = sentence.strip(), hits
    if len(best) > max_chars:
        best = best[: max_chars - 1].rsplit(" ", 1)[0] + "…"
    return best


def citable_facts(item: Item, query: Query, schema: CatalogSchema) -> list[str]:
    """True facts about ``item`` that the guard accepts, least tautological first.

    Numeric facts (a year) come first: they are cited without restating anything. Then one categorical fact
    the request did not name; only when nothing else is true of the item, a value the request named (the
    guard turns that one into a "you asked for X" path).
    """
    asked = _asked_values(query) | {w.lower() for w in _WORD.findall(query.text.lower())}
    numeric, other, named = [], [], []
    for fact in schema.facts(item):
        facet, _, value = fact.partition(": ")
        if schema.facet(facet).kind != "categorical":
            numeric.append(fact)
        elif value.strip().lower() in asked:
            named.append(fact)
        else:
            other.append(fact)
    facts = numeric[:1] + other[:1]
    return facts or named[:1]
