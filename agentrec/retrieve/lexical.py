"""Lexical (BM25) search over the items' own words: the candidate bus's ``lexical`` source.

A small sentence encoder embeds a one- or two-word request poorly: with all-MiniLM-L6-v2, "epoxy" ranks a
PETG filament and a pectic enzyme among its ten nearest products, ahead of other epoxies. The words the
catalogue itself uses are the surer signal for such requests, as in any hybrid search: an item whose title,
overview, tags or facet values (categories, brand, genres) contain the request's words ranks by BM25
(Robertson and Zaragoza, 2009) and is fused with the meaning-based hits by the bus.

Words are lower-cased and folded to a crude singular ("glasses" -> "glass", "batteries" -> "battery"), the
same on both sides, so it works for any catalogue language that marks plurals so; nothing is learned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import scipy.sparse as sp

from agentrec.retrieve.sources import Ranked, top_eligible
from agentrec.types import Catalog, Item

__all__ = ["LexicalIndex", "fold", "item_words"]

_WORD = re.compile(r"[a-z0-9]+")


def fold(word: str) -> str:
    """A word lower-cased and folded to a crude singular (the same folding for items and requests)."""
    w = word.lower()
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith("es") and w[:-2].endswith(("s", "x", "ch", "sh")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def _values(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple):
        for v in value:
            if isinstance(v, str):
                yield v


def item_words(item: Item) -> list[str]:
    """The folded words of an item: title, overview, tags, genres and every text facet value."""
    parts = [item.title, item.overview, *item.tags, *item.genres]
    for value in item.attributes.values():
        parts.extend(_values(value))
    return [fold(w) for w in _WORD.findall(" ".join(parts).lower())]


class LexicalIndex:
    """BM25 weights of every (item, word) pair, as a sparse ``(num_items, vocabulary)`` matrix.

    Args:
        catalog: the items (their index is the row).
        k1, b: the BM25 term-frequency saturation and length normalisation.
    """

    def __init__(self, catalog: Catalog, *, k1: float = 1.2, b: float = 0.75) -> None:
        vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        lengths = np.zeros(len(catalog), dtype=np.float64)
        for i, item in enumerate(catalog.items):
            words = item_words(item)
            lengths[i] = len(words)
            for w in words:
                rows.append(i)
                cols.append(vocab.setdefault(w, len(vocab)))
        tf = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float64), (np.asarray(rows, np.int64), np.asarray(cols, np.int64))),
            shape=(len(catalog), max(len(vocab), 1)),
        )
        tf.sum_duplicates()
        df = np.bincount(tf.indices, minlength=tf.shape[1]).astype(np.float64)
        idf = np.log1p((len(catalog) - df + 0.5) / (df + 0.5))
        norm = k1 * (1.0 - b + b * lengths / max(float(lengths.mean()), 1e-9))
        row_of = np.repeat(np.arange(len(catalog)), np.diff(tf.indptr))
        tf.data = tf.data * (k1 + 1.0) / (tf.data + norm[row_of]) * idf[tf.indices]
        self.vocabulary = vocab
        self._idf = idf
        self._weights = tf.tocsc()

    def __len__(self) -> int:
        return self._weights.shape[0]

    def _columns(self, words: Iterable[str]) -> np.ndarray:
        """The vocabulary columns of the request's folded words, each once (unknown words have none)."""
        return np.asarray(sorted({self.vocabulary[f] for f in map(fold, words) if f in self.vocabulary}), np.int64)

    def scores(self, words: Iterable[str]) -> np.ndarray:
        """``(num_items,)`` BM25 scores of the request words (each counted once; unknown words add nothing)."""
        cols = self._columns(words)
        if not len(cols):
            return np.zeros(len(self), dtype=np.float64)
        return np.asarray(self._weights[:, cols].sum(axis=1)).ravel()

    def search(self, words: Iterable[str], eligible: np.ndarray, depth: int, *, cover: float = 0.6) -> Ranked | None:
        """The ``depth`` best eligible items carrying ``cover`` of the words' IDF weight, by BM25 (or None).

        "safety glasses" is not answered by every item that says "safety": with two words of similar weight an
        item needs both; a rare word can carry a request on its own ("waterproof" in "waterproof glue" weighs
        more than "glue").
        """
        cols = self._columns(words)
        if not len(cols):
            return None
        block = self._weights[:, cols]
        score = np.asarray(block.sum(axis=1)).ravel()
        present = (block > 0).astype(np.float64) @ self._idf[cols]
        keep = eligible & (score > 0) & (present >= cover * float(self._idf[cols].sum()) - 1e-12)
        if not keep.any():
            return None
        return top_eligible(score, keep, depth)
