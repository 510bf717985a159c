"""Title lookup: normalised titles and a fuzzy index from title to item indices."""

from __future__ import annotations

import difflib
import re
import unicodedata

from agentrec.agent.types import TitleMatch
from agentrec.types import Catalog

__all__ = ["TitleIndex", "normalize_title"]


_ARTICLES = ("the", "a", "an", "les", "la", "le", "el", "il", "der", "die", "das")


def normalize_title(title: str) -> str:
    """Lower-case, accent-free, punctuation-free title without a trailing year or a moved article.

    ``"Matrix, The (1999)"`` and ``"the matrix"`` both become ``"matrix"``.
    """
    t = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower().strip()
    t = re.sub(r"\s*\((?:\d{4}(?:[-–]\d{0,4})?)\)\s*$", "", t)  # trailing (1999)
    t = re.sub(r"\s*\([^)]*\)", " ", t).strip()  # alternative titles in parentheses
    m = re.match(r"^(.*),\s*(" + "|".join(_ARTICLES) + r")$", t)
    if m:
        t = m.group(1)
    t = re.sub(r"[^a-z0-9]+", " ", t).strip()
    words = t.split()
    if len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    return " ".join(words)


class TitleIndex:
    """Exact and fuzzy title lookup over a catalogue."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._norm = [normalize_title(it.title) for it in catalog.items]
        self._by_norm: dict[str, list[int]] = {}
        for i, n in enumerate(self._norm):
            self._by_norm.setdefault(n, []).append(i)
        self._keys = list(self._by_norm)
        # Fuzzy matching compares only titles that start with the same two letters (fast on 10k+ titles).
        self._by_start: dict[str, list[str]] = {}
        for key in self._keys:
            self._by_start.setdefault(key[:2], []).append(key)

    def lookup(self, title: str, k: int = 5, cutoff: float = 0.6) -> list[TitleMatch]:
        """The best matching items for a title, best first; an exact normalised match scores 1.0.

        A year in the title (``"Alien (1979)"`` or ``"Alien 1979"``) breaks ties between same-named items.
        """
        year_m = re.search(r"\b(19\d{2}|20\d{2})\)?\s*$", title.strip())
        year = int(year_m.group(1)) if year_m else None
        norm = normalize_title(title)
        if not norm:
            return []
        scored: dict[str, float] = {}
        if norm in self._by_norm:
            scored[norm] = 1.0
        if year is not None:
            stripped = normalize_title(title[: year_m.start()]) if year_m else norm
            if stripped in self._by_norm:
                scored[stripped] = 1.0
        if len(scored) >= k or cutoff >= 0.99:
            return self._hits(scored, year, k)
        pool = self._by_start.get(norm[:2], [])
        for key in difflib.get_close_matches(norm, pool, n=k * 2, cutoff=cutoff):
            scored.setdefault(key, difflib.SequenceMatcher(None, norm, key).ratio())
        if len(scored) < k and len(norm) >= 4:
            # A query that is a whole-word prefix of a title ("lord of the rings" -> "... fellowship ...").
            for key in pool:
                if key.startswith(norm + " ") and key not in scored:
                    scored[key] = 0.9 * len(norm) / len(key) + 0.1
                    if len(scored) >= 4 * k:
                        break
        return self._hits(scored, year, k)

    def _hits(self, scored: dict[str, float], year: int | None, k: int) -> list[TitleMatch]:
        hits: list[TitleMatch] = []
        for key, score in scored.items():
            for i in self._by_norm[key]:
                it = self.catalog[i]
                bonus = 0.05 if year is not None and it.year == year else 0.0
                hits.append(TitleMatch(i, it.item_id, it.display_title, min(1.0, score) + bonus))
        hits.sort(key=lambda h: (-h.score, h.item_index))
        return [TitleMatch(h.item_index, h.item_id, h.title, min(1.0, h.score)) for h in hits[:k]]
