"""Product text as sentences: "title. category path. brand.", and category paths run together without separators.

Catalogues prepared for text-based recommenders (UniSRec, the Amazon review data) often flatten an item to one
string: its title, its category path and its brand, each ended by ". ". The category path's levels are then
run together ("Industrial & Scientific Tapes, Adhesives & Sealants Urethane Adhesives"). This module splits
such texts back into fields and recovers the levels from the whole catalogue at once:

- the *root* is the longest word prefix that (nearly) all category paths share ("Industrial & Scientific");
- a prefix of a path that is itself the whole path of another item is a complete category, so a level ends
  there ("... Tapes, Adhesives & Sealants" is one item's path, so "Tapes, Adhesives & Sealants" is a level);
- a prefix after which the paths go different ways (a branch of the word trie) ends a level, unless the
  level would be one word only (siblings such as "Lab Instruments ..." and "Lab Supplies ..." share their
  first word, which is not a level of its own);
- a level name found this way elsewhere in the catalogue splits a segment that starts with it;
- a narrower level often repeats its parent's head word ("Nuts Hex Nuts", "Tubing Plastic Tubing"), so a
  segment is split after an earlier occurrence of its last word and before a later occurrence of its first.

Whatever stays unsplit stays one level (nothing is guessed). :func:`level_stats` reports how many items got
how many levels.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ProductText", "category_levels", "level_stats", "split_product_texts"]

_JOINERS = frozenset({"&", "and", "-", "+", "/"})


@dataclass(frozen=True)
class ProductText:
    """One item's text split into fields.

    Attributes:
        title: the first sentence(s): everything before the category path.
        category: the category path as written (levels run together), or "".
        brand: the last sentence(s), or "".
    """

    title: str
    category: str
    brand: str


def _sentences(text: str) -> list[str]:
    body = " ".join(text.split())
    if body.endswith("."):
        body = body[:-1]
    return body.split(". ")


def _common_root(paths: Sequence[str]) -> str:
    """The longest word prefix shared by at least 90 % of the non-empty paths ("" when there is none)."""
    words = [p.split() for p in paths if p]
    if not words:
        return ""
    root: list[str] = []
    while True:
        counts = Counter(tuple(w[: len(root) + 1]) for w in words if len(w) > len(root))
        if not counts:
            return " ".join(root)
        best, n = counts.most_common(1)[0]
        if n < 0.9 * len(words):
            return " ".join(root)
        root = list(best)


def split_product_texts(texts: Sequence[str]) -> list[ProductText]:
    """Split "title. category path. brand." texts into their fields.

    The category sentence is, by default, the second last sentence. When most of those start with the same
    word (learned from all texts, e.g. "Industrial"), a text whose second last sentence does not takes the last
    inner sentence that does, so a brand that contains ". " ("St. Gobain") is not cut wrongly.

    Args:
        texts: one text per item.

    Returns:
        One :class:`ProductText` per text, in order. A text with fewer than three sentences keeps everything
        in ``title``.
    """
    parts = [_sentences(t) for t in texts]
    middles = Counter(p[-2].split()[0] for p in parts if len(p) >= 3 and p[-2])
    first, n = middles.most_common(1)[0] if middles else ("", 0)
    head = first if n * 2 > sum(middles.values()) else ""  # the first word of most category paths
    out = []
    for sent in parts:
        if len(sent) < 3:
            out.append(ProductText(". ".join(sent).strip(), "", ""))
            continue
        pos = len(sent) - 2
        if head and sent[pos] and sent[pos].split()[0] != head:
            # A brand (or title) with ". " inside: the category is the last inner sentence that starts like most.
            starts = [i for i in range(1, len(sent) - 1) if sent[i].split() and sent[i].split()[0] == head]
            if starts:
                pos = starts[-1]
        title = ". ".join(sent[:pos]).strip()
        brand = ". ".join(sent[pos + 1 :]).strip()
        out.append(ProductText(title, sent[pos].strip(), brand))
    return out


def _can_cut(words: tuple[str, ...], j: int) -> bool:
    """Whether a level may end before ``words[j]`` (never inside "A & B" or "A, B")."""
    return (
        0 < j < len(words)
        and words[j] not in _JOINERS
        and words[j - 1] not in _JOINERS
        and not words[j - 1].endswith(",")
    )


def _boundaries(paths: list[tuple[str, ...]], root_len: int) -> dict[tuple[str, ...], tuple[set[int], set[int]]]:
    """Per distinct path: ``(strong, all)`` word positions where a level ends.

    Strong ends are the root, the path's end and prefixes that are whole paths of other items; weak ends are
    branches of the word trie after a run of two or more words that does not repeat the start of the level
    before it (siblings "3D Printer Accessories" and "3D Printer Extruders" under "3D Printer Parts &
    Accessories" share "3D Printer", which is not a level).
    """
    complete = set(paths)
    children: dict[tuple[str, ...], set[str]] = {}
    for p in complete:
        for j in range(len(p)):
            children.setdefault(p[:j], set()).add(p[j])
    end_words = {p[-1] for p in complete}
    out: dict[tuple[str, ...], tuple[set[int], set[int]]] = {}
    for p in complete:
        strong = {root_len, len(p)} if root_len else {len(p)}
        strong |= {j for j in range(root_len + 1, len(p)) if p[:j] in complete and _can_cut(p, j)}
        ends = set(strong)
        last, before = root_len, 0
        for j in range(root_len + 1, len(p)):
            if j in strong:
                last, before = j, last
                continue
            run, previous = p[last:j], p[before:last]
            if len(children.get(p[:j], ())) > 1 and len(run) >= 2 and previous[: len(run)] != run and _can_cut(p, j):
                cut = _settle(p, last, j, end_words)
                ends.add(cut)
                last, before = cut, last
        out[p] = ({e for e in strong if 0 < e <= len(p)}, {e for e in ends if 0 < e <= len(p)})
    return out


def _settle(p: tuple[str, ...], last: int, j: int, end_words: set[str]) -> int:
    """Where a level ends at a branch before ``p[j]``: ``j``, or up to two words earlier.

    Siblings often share their first word ("Trash Cans", "Trash Bags & Liners" under "Waste Receptacles &
    Liners"), so the word trie branches one word after the level really ended. A word that ends no item's
    path anywhere in the catalogue ("Trash") is not taken as a level's last word when a word at most two
    places earlier does ("Liners"); the shared words then begin the narrower level.
    """
    if p[j - 1] in end_words:
        return j
    for k in (j - 1, j - 2):
        if k - last >= 1 and p[k - 1] in end_words and _can_cut(p, k):
            return k
    return j


def _pieces(p: tuple[str, ...], ends: set[int]) -> list[tuple[str, ...]]:
    cuts = sorted(ends)
    return [p[a:b] for a, b in zip([0, *cuts[:-1]], cuts, strict=True)]


def _split_known(segment: tuple[str, ...], names: set[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Split a segment after the longest known level name it starts with, repeatedly."""
    out: list[tuple[str, ...]] = []
    rest = segment
    while rest:
        cut = next((j for j in range(len(rest) - 1, 0, -1) if rest[:j] in names and _can_cut(rest, j)), None)
        if cut is None:
            out.append(rest)
            break
        out.append(rest[:cut])
        rest = rest[cut:]
    return out


def _split_repeats(segment: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Split a segment whose first or last word recurs: "Nuts Hex Nuts", "Linear Bearings Linear Ball Bearings".

    A narrower level often repeats its parent's head word, so a level ends after each earlier occurrence of
    the segment's last word and before each later occurrence of its first word.
    """
    if len(segment) < 3:
        return [segment]
    first, last = segment[0], segment[-1]
    cuts = {i + 1 for i in range(len(segment) - 1) if segment[i] == last}
    if first != last:  # "Nuts Hex Nuts": the head word ends the narrower level, it does not start one
        cuts |= {i for i in range(1, len(segment)) if segment[i] == first}
    cuts = {c for c in cuts if _can_cut(segment, c)}
    return _pieces(segment, cuts | {len(segment)}) if cuts else [segment]


def category_levels(paths: Sequence[str]) -> list[tuple[str, ...]]:
    """Recover the levels of run-together category paths, learned from all of them at once.

    Args:
        paths: one category path per item ("" for none), e.g. ``"Industrial & Scientific Fasteners Screws"``.

    Returns:
        One tuple of level names per path, broad to narrow (``()`` for ""), e.g.
        ``("Industrial & Scientific", "Fasteners", "Screws")``.
    """
    words = [tuple(p.split()) for p in paths]
    root = tuple(_common_root(list(paths)).split())
    present = [w for w in words if w]
    bounds = _boundaries(present, len(root) if all(w[: len(root)] == root for w in present) else 0)
    # Names between two strong ends (whole paths of items) split the segments that begin with them elsewhere.
    names = {seg for p, (strong, _) in bounds.items() for seg in _pieces(p, strong)}
    segmented = {
        p: [
            part
            for seg in _pieces(p, ends)
            for piece in _split_known(seg, names - {seg})
            for part in _split_repeats(piece)
        ]
        for p, (_, ends) in bounds.items()
    }
    return [tuple(" ".join(s) for s in segmented[w]) if w else () for w in words]


def level_stats(levels: Sequence[tuple[str, ...]]) -> dict[str, int]:
    """How many items have a category, and how many have at least 2, 3 and 4 levels."""
    return {
        "items": len(levels),
        "with_category": sum(1 for lv in levels if lv),
        "levels>=2": sum(1 for lv in levels if len(lv) >= 2),
        "levels>=3": sum(1 for lv in levels if len(lv) >= 3),
        "levels>=4": sum(1 for lv in levels if len(lv) >= 4),
    }
