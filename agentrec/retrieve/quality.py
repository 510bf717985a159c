"""A quality prior from the training data, and how much a request is description rather than facets.

The prior answers "which of these items would a knowledgeable person name first?" without knowing the
user: where ratings exist, the Bayesian average (shrunk mean rating) plus a confidence term; for implicit
data (no ratings, e.g. gowalla), damped popularity. :func:`descriptive_share` measures how much of a
request's text is description beyond the facets the filters already enforce, which decides how much the
semantic source is trusted against the prior (see :class:`agentrec.retrieve.bus.Retriever`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from agentrec.types import Filters, Interactions

__all__ = ["QualityPrior", "descriptive_share", "descriptive_words", "request_weights", "tilt"]

# Words that carry no description of an item in any catalogue (request filler, not content).
_FILLER = frozenset(
    "a an and any are as at be best but by can could do for from get give good great have i in is it its "
    "like me more most my of on one ones or please recommend show some something that the these this to "
    "top want watch with would you your item items thing things stuff new old".split()
)
_WORD = re.compile(r"[a-z0-9][a-z0-9'\-]*")


@dataclass(frozen=True)
class QualityPrior:
    """Per-item quality scores computed once from training interactions.

    Attributes:
        score: ``(num_items,)`` float64 in [0, 1]; higher is better. With ratings:
            ``shrunk * (1 - confidence_weight + confidence_weight * damped_count)``, each scaled to [0, 1];
            without: ``damped_count`` alone. Items nobody interacted with score 0.
        count: ``(num_items,)`` distinct users per item in training.
        shrunk: ``(num_items,)`` Bayesian-average rating, or None for implicit data.
        mean_rating: ``(num_items,)`` raw mean training rating (0 where unrated), or None for implicit data.
        global_mean: the mean training rating (None for implicit data).
        m: the shrinkage strength (pseudo-ratings at the global mean).
    """

    score: np.ndarray
    count: np.ndarray
    shrunk: np.ndarray | None
    mean_rating: np.ndarray | None
    global_mean: float | None
    m: float

    @classmethod
    def from_interactions(cls, train: Interactions, *, m: float = 20.0, confidence_weight: float = 0.3) -> QualityPrior:
        """Build the prior from ``train``.

        Args:
            train: training interactions (with ``rating`` for explicit feedback).
            m: Bayesian-average strength: an item's mean is pulled towards the global mean as if it had
                ``m`` extra ratings at that mean (a 5-star item rated once is not better than a 4.2 rated 300 times).
            confidence_weight: how much the damped count (``log1p(count) / log1p(max count)``) scales the
                shrunk rating; it prefers well-known good items to obscure ones of the same average.

        Raises:
            ValueError: ``m`` negative or ``confidence_weight`` outside [0, 1].
        """
        if m < 0:
            raise ValueError(f"m must be >= 0, got {m}")
        if not 0.0 <= confidence_weight <= 1.0:
            raise ValueError(f"confidence_weight must be in [0, 1], got {confidence_weight}")
        n = train.num_items
        x = sp.csc_matrix(
            (np.ones(len(train), dtype=np.float32), (train.user_index, train.item_index)),
            shape=(train.num_users, n),
        )
        x.sum_duplicates()
        count = np.diff(x.indptr).astype(np.int64)  # distinct users per item
        damped = np.log1p(count) / max(float(np.log1p(count.max(initial=0))), 1e-12)
        rating = train.rating
        if rating is None or not len(rating) or not np.isfinite(rating).all():
            return cls(damped.astype(np.float64), count, None, None, None, m)
        r = rating.astype(np.float64)
        mean = float(r.mean())
        num = np.bincount(train.item_index, minlength=n).astype(np.float64)
        shrunk = (np.bincount(train.item_index, weights=r, minlength=n) + m * mean) / np.maximum(num + m, 1e-12)
        lo, hi = float(r.min()), float(r.max())
        scaled = (shrunk - lo) / (hi - lo) if hi > lo else np.full(n, 0.5)
        # Multiplicative confidence: a well-known item gains only as far as it is well rated.
        score = scaled * ((1.0 - confidence_weight) + confidence_weight * damped)
        score[count == 0] = 0.0
        raw = np.bincount(train.item_index, weights=r, minlength=n) / np.maximum(num, 1)
        return cls(score.astype(np.float64), count, shrunk, raw, mean, m)

    def rating_fact(self, item_index: int) -> tuple[float, int] | None:
        """(mean rating, number of people) of an item, or None for implicit data or an unrated item."""
        if self.mean_rating is None or self.count[item_index] == 0:
            return None
        return float(self.mean_rating[item_index]), int(self.count[item_index])


def _stem(word: str) -> str:
    return word.lower().replace("-", "").replace(" ", "")[:5]


def descriptive_words(text: str, filters: Filters) -> list[str]:
    """The words of ``text`` that describe what is wanted beyond the facets ``filters`` already enforce.

    Filler ("something", "please"), numbers (years) and words naming a value the filters enforce (of any
    facet, included or excluded) do not count: a word names a value when it shares its first five letters with
    it ("sci-fi" for genre ``Sci-Fi``, "animated" for ``Animation``) or with one part of it ("noir" for
    ``Film-Noir``).
    """
    enforced: set[str] = set()
    for g in (v for values in (*filters.include.values(), *filters.exclude.values()) for v in values):
        enforced.add(_stem(g))
        enforced |= {_stem(part) for part in re.split(r"[^a-z0-9]+", g.lower()) if len(part) >= 3}
    out = []
    for w in _WORD.findall(text.lower()):
        w = w.strip("'-")
        if len(w) < 3 or w in _FILLER or w.isdigit() or w.rstrip("s").isdigit():
            continue
        if _stem(w) in enforced or w in ("movie", "movies", "film", "films"):
            continue
        out.append(w)
    return list(dict.fromkeys(out))


def descriptive_share(text: str, filters: Filters, *, half: float = 1.0) -> float:
    """How descriptive a request is, in [0, 1): ``d / (d + half)`` for ``d`` descriptive words.

    0 for a request that is all facets ("sci-fi from the 90s" with Sci-Fi and 1990-1999 as filters), 0.5
    for one descriptive word at ``half=1``, about 0.75 for "dark dreamlike sci-fi about memory".
    """
    d = len(descriptive_words(text, filters))
    return d / (d + half) if d else 0.0


def request_weights(
    weights: Mapping[str, float], text: str, filters: Filters, *, personal: bool, seeded: bool
) -> dict[str, float]:
    """Per-request fusion weights: the semantic source counts as much as the request is description.

    Args:
        weights: the configured weights (``RetrieverConfig.weights``).
        text: the request's free text.
        filters: the hard filters already enforced (their words are not description).
        personal: a known user's history drives the personal sources.
        seeded: the request names items to be like ("something like X").

    Returns:
        A copy of ``weights`` with ``semantic`` and ``lexical`` scaled by :func:`descriptive_share` (at least a
        tenth, so they still order ties) and ``quality`` scaled by what is left, reduced when a history or a seed speaks
        for the user. For a seeded request without a known user, raw co-interaction counts (which favour
        blockbusters for every seed) give way to the normalised ``similar`` source.
    """
    out = dict(weights)
    share = descriptive_share(text, filters)
    for name in ("semantic", "lexical"):
        if name in out:
            out[name] = out[name] * max(share, 0.1)
    if "quality" in out:
        damp = 0.1 if (personal or seeded) else 1.0
        out["quality"] = out["quality"] * (1.0 - share) * damp
    if seeded and not personal and "co_interaction" in out and out.get("similar", 0) > 0:
        out["co_interaction"] = out["co_interaction"] * 0.25
    return out


def tilt(
    ranked: tuple[np.ndarray, np.ndarray] | None, prior: np.ndarray, strength: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """Re-order a source's ``(item_index, score)`` list by ``score + strength * prior[item_index]``.

    Used on semantic hits, whose cosine scores sit close together: the prior decides among near-equal
    matches without letting a famous but unrelated item in (only the source's own hits are re-ordered).
    """
    if ranked is None or not len(ranked[0]) or strength == 0:
        return ranked
    idx, score = ranked
    tilted = score + strength * prior[idx]
    order = np.lexsort((idx, -tilted))
    return idx[order], tilted[order]
