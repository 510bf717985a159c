"""Whether a head noun's category reading fits the rest of the request, judged on the item text.

A head noun names every value it ends ("tape" -> Duct Tape, Electrical Tape), which is right for "duct tape or
electrical tape" and "a trash can" but wrong when the noun is a generic word of a longer request: in "a tool to
measure beer gravity" or "a gift for someone who brews beer" the categories ending in "Tools" or "Gifts" hold
nothing the rest of the request describes, while hydrometers elsewhere do. The text index tells the two apart:
the reading stays when the items it selects are among the best text matches of the whole request, or come close
to the best match; otherwise the head noun is searched as text (the caller says so in a note).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from agentrec.agent.lexicon import STOPWORDS
from agentrec.filters_types import Filters

__all__ = ["head_fit", "text_fit", "topic_fit"]

#: How many of the whole request's best text matches are looked at, and how many of them must carry the head's
#: values for the reading to stand without comparing scores.
TOP = 20
ENOUGH = 3
#: The cosine the best item of the head's values may trail the best item overall by.
SLACK = 0.05
#: A message of words alone ("glue" after "3D printer filament") starts a new request when none of its 20 best
#: text matches meets the standing wish and the best item that does trails the best overall by this much. Set
#: with all-MiniLM-L6-v2 on follow-ups of both shipped catalogues: new subjects trailed by 0.26-0.32 ("navy"
#: after westerns, "glue" after filament), refinements by 0.02-0.21 ("thicker", "funnier", "cheaper").
NEW_SUBJECT_SLACK = 0.25
#: How many best text matches of a words-only wish ("glue") stand for its items when a follow-up is judged, and
#: how far the best of them may trail the follow-up's best match when none is among its 20 best. Set with
#: all-MiniLM-L6-v2 on amazon-scientific: new subjects trailed by 0.17-0.39 ("safety glasses", "gloves" after
#: "glue", "thermometer" after "hydrometer"), refinements by 0-0.12 ("waterproof" after "glue", "dries clear"
#: after "epoxy", "anti fog" after "safety glasses", "cheaper").
TOPIC_ITEMS = 50
TOPIC_SLACK = 0.13


def _content(text: str, heads: Iterable[str]) -> list[str]:
    head_words = {w for h in heads for w in h.lower().split()}
    return [w for w in re.findall(r"[\w'-]+", text.lower()) if w not in STOPWORDS and w not in head_words]


def head_fit(
    store: Any, mask: Callable[[Filters], np.ndarray], text: str, heads: Iterable[str]
) -> Callable[[Filters, Filters], bool] | None:
    """A ``fits(with_heads, without_heads)`` check for :func:`agentrec.agent.memory.merge`, or None.

    Args:
        store: the vector store (``search(text, k, allowed=...)``); None (no text index) disables the check.
        mask: eligible items under some filters (turned-down items already left out).
        text: the request's search text.
        heads: the head nouns read as values.

    Returns:
        None when there is nothing to judge by (no store, or no words besides the head nouns).
    """
    return text_fit(store, mask, text, heads, enough=ENOUGH, slack=SLACK)


def text_fit(
    store: Any,
    mask: Callable[[Filters], np.ndarray],
    text: str,
    ignore: Iterable[str] = (),
    *,
    enough: int = ENOUGH,
    slack: float = SLACK,
) -> Callable[[Filters, Filters], bool] | None:
    """``fits(narrow, wide)``: whether ``text`` fits the items of ``narrow`` about as well as those of ``wide``.

    It does when at least ``enough`` of the ``TOP`` best text matches under ``wide`` meet ``narrow``, or when the
    best item of ``narrow`` trails the best under ``wide`` by at most ``slack`` (cosine). None when there is
    nothing to judge by (no store, or no words besides ``ignore``).
    """
    if store is None or not _content(text, list(ignore)):
        return None

    def fits(narrow: Filters, wide: Filters) -> bool:
        inside = mask(narrow)
        hits = store.search(text, k=TOP, allowed=np.flatnonzero(mask(wide)))
        if not hits or sum(1 for h in hits if inside[h.item_index]) >= enough:
            return True
        best_inside = store.search(text, k=1, allowed=np.flatnonzero(inside))
        return bool(best_inside) and best_inside[0].score >= hits[0].score - slack

    return fits


def topic_fit(
    store: Any, mask: Callable[[Filters], np.ndarray], *, slack: float = TOPIC_SLACK
) -> Callable[[str, str], bool] | None:
    """A ``topic(standing, words)`` check for :func:`agentrec.agent.memory.merge`, or None without a text index.

    A wish that names no facet value ("glue") is its text: its items are the ``TOPIC_ITEMS`` best matches of
    ``standing``. Follow-up ``words`` fit it when one of their ``TOP`` best matches is among those items, or when
    the best of those items trails the words' best match by at most ``slack`` ("waterproof" after "glue" fits,
    "safety glasses" does not); the rule of :func:`text_fit` for a wish of facet values, with a tighter slack
    (a wish's own best text matches are a looser set than the items of a category).
    """
    if store is None:
        return None

    def fits(standing: str, words: str) -> bool:
        if not _content(words, []):
            return True
        allowed = np.flatnonzero(mask(Filters()))
        items = {h.item_index for h in store.search(standing, k=TOPIC_ITEMS, allowed=allowed)}
        hits = store.search(words, k=TOP, allowed=allowed)
        if not hits or not items or any(h.item_index in items for h in hits):
            return True
        best_inside = store.search(words, k=1, allowed=np.asarray(sorted(items), dtype=np.int64))
        return bool(best_inside) and best_inside[0].score >= hits[0].score - slack

    return fits
