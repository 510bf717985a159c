"""In-memory semantic search over an embedded vector store: exact, and current after upserts and deletes."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from agentrec.retrieve import Retriever, RetrieverConfig
from agentrec.retrieve.semantic import LocalSemanticIndex
from agentrec.text import TextEncoder, VectorStore
from agentrec.types import Catalog, Interactions, Query

DIM = 64


class HashingBackend:
    """Bag-of-words hashed into 64 dimensions: deterministic, no model download, similar texts stay close."""

    model_id = "test/hashing-64"
    dim = DIM
    max_tokens = 512

    def embed(self, texts: list[str], show_progress: bool) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % DIM] += 1.0
        return out + 1e-3  # no all-zero vector


@pytest.fixture
def store(tmp_path: Path, tiny_catalog: Catalog) -> VectorStore:
    st = VectorStore.open(tmp_path / "chroma", encoder=TextEncoder(HashingBackend(), show_progress=False))
    st.build(tiny_catalog)
    return st


def _semantic_only(catalog: Catalog, train: Interactions, store: object, **kw: object) -> Retriever:
    return Retriever(catalog, train, store=store, config=RetrieverConfig(weights={"semantic": 1.0}), **kw)


def test_local_store_is_searched_in_memory_with_exact_cosine(
    store: VectorStore, tiny_catalog: Catalog, tiny_interactions: Interactions
) -> None:
    r = _semantic_only(tiny_catalog, tiny_interactions, store)
    assert r.semantic_index is not None
    text = "toys and pixar animation"
    got = r.candidates(Query(text=text, k=7))
    # Brute force from the encoder: the same ranking as the in-memory index, and as the store itself.
    q = store.encoder.encode([text], use_cache=False)[0]
    vecs = store.encoder.encode([store.collection.get(ids=[it.item_id], include=["documents"])["documents"][0]
                                 for it in tiny_catalog.items], use_cache=False)  # fmt: skip
    cos = vecs @ q / np.linalg.norm(vecs, axis=1)
    expected = sorted(range(len(cos)), key=lambda i: (-cos[i], i))
    assert [c.item_index for c in got] == expected
    assert [h.item_index for h in store.search(text, k=7)] == expected
    assert got[0].sources["semantic"] == pytest.approx(store.search(text, k=1)[0].score, abs=1e-5)


def test_filters_and_exclusions_apply_before_the_top_k(
    store: VectorStore, tiny_catalog: Catalog, tiny_interactions: Interactions
) -> None:
    r = _semantic_only(tiny_catalog, tiny_interactions, store)
    q = Query(text="space aliens", k=2, seen=(0, 1))
    q = replace(q, filters=replace(q.filters, include={"genre": ("Sci-Fi",)}))
    got = [c.item_index for c in r.candidates(q)]
    assert len(got) == 2 and set(got) <= {2, 6}


def test_upsert_and_delete_are_seen_by_the_next_query(
    store: VectorStore, tiny_catalog: Catalog, tiny_interactions: Interactions
) -> None:
    r = _semantic_only(tiny_catalog, tiny_interactions, store)
    index = r.semantic_index
    assert index is not None
    text = "submarine volcano expedition"
    before = r.candidates(Query(text=text, k=1))[0].item_index
    loads = index.reloads
    # Rewrite item 4's text so that it is the obvious match; the store is written behind the retriever's back.
    changed = replace(tiny_catalog[4], tags=("submarine", "volcano"), overview="A submarine volcano expedition.")
    store.upsert([changed], [4])
    assert r.candidates(Query(text=text, k=1))[0].item_index == 4 != before
    assert index.reloads == loads + 1
    r.candidates(Query(text=text, k=1))
    assert index.reloads == loads + 1  # nothing written since: no reload
    store.delete([tiny_catalog[4].item_id])
    assert 4 not in {c.item_index for c in r.candidates(Query(text=text, k=7))}


def test_store_without_local_file_is_queried_directly(tiny_catalog: Catalog, tiny_interactions: Interactions) -> None:
    class FakeStore:
        def __init__(self) -> None:
            self.calls = 0

        def search(self, text: str, k: int = 20) -> list[object]:
            self.calls += 1
            return []

    fake = FakeStore()
    r = _semantic_only(tiny_catalog, tiny_interactions, fake)
    assert r.semantic_index is None and LocalSemanticIndex.for_store(fake, 7) is None
    r.candidates(Query(text="space", k=3))
    assert fake.calls == 1


def test_in_memory_search_can_be_turned_off(
    store: VectorStore, tiny_catalog: Catalog, tiny_interactions: Interactions
) -> None:
    r = _semantic_only(tiny_catalog, tiny_interactions, store, in_memory_semantic=False)
    assert r.semantic_index is None
    assert r.candidates(Query(text="toys and pixar animation", k=1))[0].item_index in (3, 5)


def test_query_vectors_are_kept_until_cleared(
    store: VectorStore, tiny_catalog: Catalog, tiny_interactions: Interactions
) -> None:
    r = _semantic_only(tiny_catalog, tiny_interactions, store)
    assert r.semantic_index is not None
    first = r.candidates(Query(text="ogre princess", k=3))
    n = store.encoder.num_embedded
    assert r.candidates(Query(text="ogre princess", k=3)) == first
    assert store.encoder.num_embedded == n  # the same text again: no second encoder run
    r.semantic_index.clear_query_cache()
    assert r.candidates(Query(text="ogre princess", k=3)) == first
    assert store.encoder.num_embedded == n + 1
