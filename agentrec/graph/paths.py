"""Explanatory graph paths for a (user, item, query) triple, and a faithfulness check.

Three kinds of typed :class:`~agentrec.types.GraphPath`:

* ``co_interaction``: user -> liked item -> the N other users who liked both -> recommended item; N is
  the exact co-like count in the training matrix (the user themself not counted);
* ``attribute``: user -> liked item -> shared genre / tag -> recommended item, rare (high-IDF) links first;
* ``semantic``: query -> the matched words / tags / genres -> recommended item.

Search is bounded: one sparse row slice over the recommended item's likers gives every seed's co-like
count at once, and an inverted attribute index gives shared genres / tags. :meth:`Explainer.verify`
recomputes every edge from the training matrix and the catalogue.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.sparse as sp

from agentrec.graph.adjacency import BipartiteGraph
from agentrec.graph.render import path_text
from agentrec.types import Catalog, GraphPath, Interactions, Item, PathEdge, PathNode, Query

__all__ = ["Explainer", "item_terms", "text_terms"]

_STOP = frozenset(
    "a an and any are as at be but by for from has have i in into is it its like me movie movies my of on or "
    "show some something that the their them then there these this to want was what with would you your film "
    "films watch good great really about more very just one".split()
)
_WORD = re.compile(r"[a-z0-9][a-z0-9'\-]*")


def text_terms(text: str) -> set[str]:
    """Lower-cased content words of ``text`` (stop words and words under 3 letters dropped)."""
    return {w.strip("'-") for w in _WORD.findall(text.lower()) if len(w) >= 3 and w not in _STOP}


def item_terms(item: Item) -> dict[str, str]:
    """Every matchable term of an item -> where it comes from (``genre``, ``tag`` or ``text``)."""
    out: dict[str, str] = {}
    for w in text_terms(f"{item.title} {item.overview}"):
        out[w] = "text"
    for t in item.tags:
        out[t.lower()] = "tag"
    for g in item.genres:
        out[g.lower()] = "genre"
    return out


@lru_cache(maxsize=256)
def _query_words(query_text: str) -> frozenset[str]:
    # One request is matched against every candidate's terms: split it once.
    return frozenset(text_terms(query_text))


def _term_pattern(term: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![a-z0-9]){re.escape(term)}(?![a-z0-9])")


def _matches(query_text: str, terms: dict[str, str], multi: Sequence[tuple[str, re.Pattern[str]]]) -> list[str]:
    """Terms of an item (``terms``; ``multi``: its multi-word / hyphenated ones, compiled) the query mentions."""
    found = terms.keys() & _query_words(query_text)
    q = query_text.lower()
    found |= {term for term, pattern in multi if pattern.search(q)}
    return sorted(found)


def _multi_terms(terms: dict[str, str]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((t, _term_pattern(t)) for t in terms if " " in t or "-" in t)


class Explainer:
    """Finds, ranks and verifies explanation paths over the training graph and the catalogue.

    Args:
        catalog: the items in item-index order.
        train: training interactions (raw user ids resolve through them) or a :class:`BipartiteGraph`
            (user ids are then the user indices as strings).
        item_embeddings: optional ``(num_items, d)`` embeddings; similarity to the recommended item
            ranks the liked items a path starts from.
        store: unused by the search itself; kept so callers can pass the same components everywhere.
        max_paths: how many paths :meth:`explain` keeps per item (best first).
    """

    def __init__(
        self,
        catalog: Catalog,
        train: Interactions | BipartiteGraph,
        *,
        item_embeddings: np.ndarray | None = None,
        store: Any | None = None,
        max_paths: int = 3,
    ) -> None:
        if max_paths < 1:
            raise ValueError(f"max_paths must be >= 1, got {max_paths}")
        if isinstance(train, BipartiteGraph):
            x = train.interaction.tocsr().astype(np.float32)
            self.user_ids: tuple[str, ...] = tuple(str(u) for u in range(train.num_users))
        else:
            x = sp.csr_matrix(
                (np.ones(len(train), dtype=np.float32), (train.user_index, train.item_index)),
                shape=(train.num_users, train.num_items),
            )
            self.user_ids = train.user_ids
        x.sum_duplicates()
        x.data[:] = 1.0
        if x.shape[1] != len(catalog):
            raise ValueError(f"catalog has {len(catalog)} items but the training graph has {x.shape[1]}")
        self.catalog = catalog
        self.store = store
        self.max_paths = max_paths
        self._x = x
        self._x_csc = x.tocsc()
        self._user_index = {u: i for i, u in enumerate(self.user_ids)}
        self._item_degree = np.diff(self._x_csc.indptr).astype(np.int64)
        self._emb = None
        if item_embeddings is not None:
            emb = np.asarray(item_embeddings, dtype=np.float32)
            if emb.shape[0] != len(catalog):
                raise ValueError(f"item_embeddings has {emb.shape[0]} rows; the catalogue has {len(catalog)} items")
            self._emb = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
        # Inverted attribute index with IDF: rare genres / tags make more specific explanations.
        self._attr_items: dict[tuple[str, str], set[int]] = {}
        for i, it in enumerate(catalog.items):
            for kind, values in (("genre", it.genres), ("tag", it.tags)):
                for v in values:
                    self._attr_items.setdefault((kind, v.lower()), set()).add(i)
        n = max(len(catalog), 1)
        self._idf = {a: math.log((1 + n) / (1 + len(s))) + 1.0 for a, s in self._attr_items.items()}
        self._max_idf = max(self._idf.values(), default=1.0)
        # Per-item matchable terms (computed on first use; items do not change under an Explainer).
        self._terms: dict[int, tuple[dict[str, str], tuple[tuple[str, re.Pattern[str]], ...]]] = {}
        # The seed columns of the training matrix for the last few users / liked-item sets: one request
        # explains ~20 items for the same seeds, and every co-interaction count needs only those columns.
        self._seed_cols: OrderedDict[bytes, sp.csr_matrix] = OrderedDict()
        self._seed_lock = threading.Lock()

    # ------------------------------------------------------------------ helpers
    def _item_node(self, i: int) -> PathNode:
        it = self.catalog[i]
        return PathNode("item", it.item_id, it.display_title)

    def _check_item(self, name: str, i: int) -> int:
        if isinstance(i, bool) or not isinstance(i, int | np.integer) or not 0 <= int(i) < len(self.catalog):
            raise ValueError(
                f"{name}: item index {i!r} does not exist; valid item indices are 0..{len(self.catalog) - 1}"
            )
        return int(i)

    def _seeds(self, user: str | Sequence[int] | None) -> tuple[PathNode | None, int | None, np.ndarray, str]:
        """(user node, user index, seed items, relation of the user->seed edge)."""
        if user is None:
            return None, None, np.zeros(0, np.int64), "liked"
        if isinstance(user, str):
            u = self._user_index.get(user)
            if u is None:
                return None, None, np.zeros(0, np.int64), "liked"
            seeds = self._x.indices[self._x.indptr[u] : self._x.indptr[u + 1]].astype(np.int64)
            return PathNode("user", user, "You"), u, seeds, "liked"
        seeds = np.unique(np.array([self._check_item("user (liked items)", i) for i in user], dtype=np.int64))
        return PathNode("user", "", "You"), None, seeds, "stated_like"

    def _likers(self, i: int) -> np.ndarray:
        return self._x_csc.indices[self._x_csc.indptr[i] : self._x_csc.indptr[i + 1]]

    def co_like_counts(self, item_index: int, exclude_user: int | None = None) -> np.ndarray:
        """``(num_items,)`` number of users (other than ``exclude_user``) who liked each item and ``item_index``."""
        users = self._likers(item_index)
        if exclude_user is not None:
            users = users[users != exclude_user]
        if not len(users):
            return np.zeros(len(self.catalog), dtype=np.int64)
        return np.asarray(self._x[users].sum(axis=0)).ravel().astype(np.int64)

    def _item_terms(self, i: int) -> tuple[dict[str, str], tuple[tuple[str, re.Pattern[str]], ...]]:
        cached = self._terms.get(i)
        if cached is None:
            terms = item_terms(self.catalog[i])
            cached = self._terms[i] = (terms, _multi_terms(terms))
        return cached

    def _query_matches(self, query_text: str, i: int) -> list[str]:
        terms, multi = self._item_terms(i)
        return _matches(query_text, terms, multi)

    def seed_co_like_counts(self, item_index: int, seeds: np.ndarray, exclude_user: int | None = None) -> np.ndarray:
        """``(len(seeds),)`` number of users (other than ``exclude_user``) who liked both each seed and ``item_index``.

        Equal to ``co_like_counts(item_index, exclude_user)[seeds]``, computed from the seeds' columns only.
        """
        seeds = np.asarray(seeds, dtype=np.int64)
        if not len(seeds):
            return np.zeros(0, dtype=np.int64)
        key = seeds.tobytes()
        with self._seed_lock:
            cols = self._seed_cols.get(key)
            if cols is not None:
                self._seed_cols.move_to_end(key)
        if cols is None:
            cols = self._x_csc[:, seeds].tocsr()  # (num_users, len(seeds))
            with self._seed_lock:
                self._seed_cols[key] = cols
                while len(self._seed_cols) > 8:
                    self._seed_cols.popitem(last=False)
        users = self._likers(item_index)
        if exclude_user is not None:
            users = users[users != exclude_user]
        if not len(users):
            return np.zeros(len(seeds), dtype=np.int64)
        return np.asarray(cols[users].sum(axis=0)).ravel().astype(np.int64)

    def _sim(self, seeds: np.ndarray, i: int) -> np.ndarray:
        if self._emb is None or not len(seeds):
            return np.zeros(len(seeds))
        return np.asarray(self._emb[seeds] @ self._emb[i], dtype=np.float64)

    # ------------------------------------------------------------------ search
    def explain(self, user: str | Sequence[int] | None, item_index: int, query: Query | None = None) -> list[GraphPath]:
        """The best explanation paths for recommending ``item_index``.

        Args:
            user: a raw user id (their training items are the seeds), the item indices the user said they
                like, or None (only semantic paths are possible).
            item_index: the recommended item.
            query: the request; its text yields semantic paths.

        Returns:
            Up to ``max_paths`` paths, best first (the best of each kind is kept before filling up).

        Raises:
            ValueError: when ``item_index`` or a liked item index does not exist.
        """
        i = self._check_item("item_index", item_index)
        user_node, u, seeds, relation = self._seeds(user)
        seeds = seeds[seeds != i]
        found: list[GraphPath] = []
        if user_node is not None and len(seeds):
            sims = self._sim(seeds, i)
            found += self._co_paths(user_node, u, seeds, sims, relation, i)
            found += self._attr_paths(user_node, seeds, sims, relation, i)
        if query is not None and query.text.strip():
            found += self._semantic_paths(query.text, i)
        found.sort(key=lambda p: -p.score)
        best: list[GraphPath] = []
        for kind in ("co_interaction", "attribute", "semantic"):
            first = next((p for p in found if p.kind == kind), None)
            if first is not None:
                best.append(first)
        best = sorted(best, key=lambda p: -p.score)[: self.max_paths]
        for p in found:
            if len(best) >= self.max_paths:
                break
            if p not in best:
                best.append(p)
        return sorted(best, key=lambda p: -p.score)

    def _co_paths(
        self, user_node: PathNode, u: int | None, seeds: np.ndarray, sims: np.ndarray, relation: str, i: int
    ) -> list[GraphPath]:
        counts = self.seed_co_like_counts(i, seeds, exclude_user=u)
        keep = np.flatnonzero(counts > 0)
        if not len(keep):
            return []
        deg = self._item_degree
        # Co-occurrence cosine favours specific links over "everyone liked both" blockbusters.
        cos = counts[keep] / np.sqrt(np.maximum(deg[seeds[keep]], 1) * max(int(deg[i]), 1))
        score = (
            0.6 * cos + 0.3 * np.clip(sims[keep], 0, 1) + 0.1 * np.log1p(counts[keep]) / np.log1p(len(self.user_ids))
        )
        out = []
        for j in keep[np.argsort(-score, kind="stable")[: self.max_paths]]:
            s, n = int(seeds[j]), int(counts[j])
            seed_node, target = self._item_node(s), self._item_node(i)
            nodes = (user_node, seed_node, PathNode("users", f"{seed_node.key}|{target.key}", f"{n} people"), target)
            edges = (PathEdge(relation), PathEdge("liked_by", float(n)), PathEdge("also_liked", float(n)))
            sc = float(score[np.flatnonzero(keep == j)[0]])
            out.append(self._path("co_interaction", nodes, edges, sc))
        return out

    def _attr_paths(
        self, user_node: PathNode, seeds: np.ndarray, sims: np.ndarray, relation: str, i: int
    ) -> list[GraphPath]:
        target = self.catalog[i]
        seed_pos = {int(s): k for k, s in enumerate(seeds)}
        seed_set = seed_pos.keys()
        options = []
        for kind, values in (("tag", target.tags), ("genre", target.genres)):
            for v in values:
                attr = (kind, v.lower())
                # Set intersection walks the smaller side (a popular genre holds thousands of items).
                shared = seed_set & self._attr_items.get(attr, set())
                if not shared:
                    continue
                best = max(shared, key=lambda s: (sims[seed_pos[s]], -s))
                spec = self._idf[attr] / self._max_idf
                options.append((0.7 * spec + 0.3 * max(float(sims[seed_pos[best]]), 0.0), kind, v, best))
        options.sort(key=lambda o: -o[0])
        out = []
        for score, kind, value, s in options[: self.max_paths]:
            attr_node = PathNode(kind, value.lower(), value)  # type: ignore[arg-type]
            nodes = (user_node, self._item_node(s), attr_node, self._item_node(i))
            edges = (PathEdge(relation), PathEdge(f"has_{kind}"), PathEdge(f"{kind}_of"))
            out.append(self._path("attribute", nodes, edges, score))
        return out

    def _semantic_paths(self, text: str, i: int) -> list[GraphPath]:
        terms = self._query_matches(text, i)
        if not terms:
            return []
        where = self._item_terms(i)[0]
        weights = [self._idf.get((where[t], t), self._max_idf if where[t] == "text" else 1.0) for t in terms]
        score = min(1.0, sum(weights) / (2 * self._max_idf))
        nodes = (PathNode("query", text, text), PathNode("text", "|".join(terms), ", ".join(terms)), self._item_node(i))
        edges = (PathEdge("mentions", float(len(terms))), PathEdge("describes", float(len(terms))))
        return [self._path("semantic", nodes, edges, score)]

    @staticmethod
    def _path(kind: str, nodes: tuple[PathNode, ...], edges: tuple[PathEdge, ...], score: float) -> GraphPath:
        draft = GraphPath(kind, nodes, edges, score, "")  # type: ignore[arg-type]
        return GraphPath(kind, nodes, edges, score, path_text(draft))  # type: ignore[arg-type]

    # ------------------------------------------------------------------ faithfulness
    def verify(self, path: GraphPath) -> bool:
        """True when every edge of ``path`` exists in the training graph / catalogue with exact support.

        A ``stated_like`` edge (an anonymous user's liked item from the conversation) is accepted as stated;
        every other edge is recomputed. Unknown ids or a wrong shape make the path unfaithful.
        """
        try:
            return self._verify(path)
        except (KeyError, IndexError, ValueError):
            return False

    def _index_of(self, node: PathNode) -> int:
        if node.kind != "item":
            raise ValueError("not an item node")
        return self.catalog.id_to_index[node.key]

    def _verify_user_edge(self, user: PathNode, edge: PathEdge, seed: int) -> int | None | bool:
        if user.kind != "user" or edge.support != 1.0:
            return False
        if edge.relation == "stated_like":
            return None if user.key == "" else False
        if edge.relation != "liked":
            return False
        u = self._user_index[user.key]
        row = self._x.indices[self._x.indptr[u] : self._x.indptr[u + 1]]
        return u if seed in set(row.tolist()) else False

    def _verify(self, path: GraphPath) -> bool:
        n, e = path.nodes, path.edges
        if path.kind in ("co_interaction", "attribute"):
            if len(n) != 4:
                return False
            seed, target = self._index_of(n[1]), self._index_of(n[3])
            u = self._verify_user_edge(n[0], e[0], seed)
            if u is False:
                return False
            if path.kind == "co_interaction":
                # Recomputed from the two items' likers (not from the search's cached seed columns).
                both = np.intersect1d(self._likers(target), self._likers(seed), assume_unique=True)
                count = int(len(both) - (isinstance(u, int) and u in both))
                return (
                    n[2].kind == "users"
                    and count > 0
                    and (e[1].relation, e[2].relation) == ("liked_by", "also_liked")
                    and e[1].support == e[2].support == float(count)
                )
            kind = n[2].kind
            if kind not in ("genre", "tag") or (e[1].relation, e[2].relation) != (f"has_{kind}", f"{kind}_of"):
                return False
            members = self._attr_items.get((kind, n[2].key.lower()), set())
            return seed in members and target in members
        if path.kind == "semantic":
            if len(n) != 3 or n[0].kind != "query" or n[1].kind != "text":
                return False
            terms = n[1].key.split("|")
            matched = set(self._query_matches(n[0].key, self._index_of(n[2])))
            return (
                bool(terms)
                and set(terms) <= matched
                and (e[0].relation, e[1].relation) == ("mentions", "describes")
                and e[0].support == e[1].support == float(len(terms))
            )
        return False
