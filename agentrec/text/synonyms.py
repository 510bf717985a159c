"""Synonyms from the catalogue itself: a request word read as a facet value by meaning ("spooky" -> Horror).

Each facet value and each request word is embedded inside the same short sentence ("a {} film", with the
domain's noun), and a word is read as the value it is closest to only when it is clearly closer to that value
than to any other: the margin between the best and the second-best cosine must reach ``margin``. A plain cosine
threshold does not separate well (every "a ... film" sentence is close to every other); the margin does. On the
project's test set of 41 film-genre synonyms and 31 words that name no genre, a margin of 0.08 with
all-MiniLM-L6-v2 read 23 synonyms right, none wrong, and 3 of the 31 non-genre words as a genre
(tests/test_text_synonyms.py holds the set). The agent uses these readings only as preferences that steer the
ranking, never as filters, and says how it read the word.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["ValueMatch", "ValueMatcher"]

Encode = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class ValueMatch:
    """A word read as a facet value: ``margin`` is how much closer it is to ``value`` than to the runner-up."""

    phrase: str
    facet: str
    value: str
    margin: float


class ValueMatcher:
    """Reads words as facet values by meaning (see the module docstring).

    Args:
        encode: texts -> ``(len(texts), dim)`` embeddings (e.g. ``TextEncoder.encode``).
        values: facet -> its values (only facets whose values are words a person would use: genres, categories).
        noun: the domain's noun for an item ("film", "product"); it frames every phrase.
        margin: the least lead of the best value over the second best.
    """

    #: Phrases whose reading is remembered (the oldest are forgotten first).
    cache_size: int = 10_000

    def __init__(
        self, encode: Encode, values: Mapping[str, Sequence[str]], *, noun: str = "item", margin: float = 0.08
    ):
        if margin < 0:
            raise ValueError(f"margin must be >= 0, got {margin}")
        self.encode = encode
        self.noun = noun
        self.margin = margin
        self._keys = [(facet, v) for facet, vals in values.items() for v in vals]
        self._vectors = self._embed([v.replace("-", " ") for _f, v in self._keys]) if self._keys else None
        self._cache: dict[str, ValueMatch | None] = {}

    def _embed(self, phrases: list[str]) -> np.ndarray:
        vecs = np.asarray(self.encode([f"a {p} {self.noun}" for p in phrases]), dtype=np.float32)
        return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)

    def match(self, phrases: Sequence[str]) -> list[ValueMatch]:
        """The phrases that read clearly as one value, in input order (others are left out)."""
        if self._vectors is None or len(self._keys) < 2:
            return []
        todo = [p for p in dict.fromkeys(phrases) if p not in self._cache]
        if todo:
            scores = self._embed(todo) @ self._vectors.T  # (len(todo), num_values)
            order = np.argsort(-scores, axis=1)
            for row, phrase in enumerate(todo):
                best, second = order[row, 0], order[row, 1]
                lead = float(scores[row, best] - scores[row, second])
                facet, value = self._keys[best]
                self._cache[phrase] = ValueMatch(phrase, facet, value, lead) if lead >= self.margin else None
            found = {p: self._cache.get(p) for p in phrases}
            while len(self._cache) > self.cache_size:  # oldest phrases first: a long-running app stays bounded
                self._cache.pop(next(iter(self._cache)), None)
            return [m for p in phrases if (m := found.get(p)) is not None]
        return [m for p in phrases if (m := self._cache.get(p)) is not None]
