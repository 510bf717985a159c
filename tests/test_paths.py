"""Explanation paths: known answers, faithfulness of everything produced, tampering, rendering."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from agentrec.graph import build_graph
from agentrec.graph.paths import Explainer
from agentrec.graph.render import path_text, paths_png
from agentrec.types import Catalog, GraphPath, Interactions, PathEdge, PathNode, Query


@pytest.fixture
def interactions() -> Interactions:
    """The tiny clusters plus user 8, who liked Alien and Toy Story, and user 9, who liked Inception + Aliens."""
    rows = [(u, i) for u in range(4) for i in range(3)] + [(u, i) for u in range(4, 8) for i in range(3, 6)]
    rows += [(8, 0), (8, 3), (9, 6), (9, 1)]
    users, items = zip(*rows, strict=True)
    return Interactions.from_arrays(np.array(users), np.array(items), num_users=10, num_items=7)


@pytest.fixture
def explainer(tiny_catalog: Catalog, interactions: Interactions) -> Explainer:
    return Explainer(tiny_catalog, interactions, max_paths=3)


def test_co_interaction_support_is_exact(explainer: Explainer) -> None:
    # User 8 liked Alien (0); users 0-3 liked Alien and Aliens (1): 4 co-likers.
    paths = explainer.explain("8", 1)
    co = [p for p in paths if p.kind == "co_interaction"]
    assert co and co[0].nodes[1].key == "0" and co[0].edges[1].support == 4
    assert co[0].text == "You liked Alien (1979); 4 people who liked Alien (1979) also liked Aliens (1986)"
    assert all(explainer.verify(p) for p in paths)


def test_user_is_not_counted_among_co_likers(explainer: Explainer) -> None:
    # User 9 liked Inception and Aliens; nobody else liked Inception.
    paths = explainer.explain("9", 1)
    assert not [p for p in paths if p.kind == "co_interaction" and p.nodes[1].key == "6"]


def test_attribute_path_prefers_rare_link(explainer: Explainer) -> None:
    # Toy Story -> Finding Nemo share "pixar" (2 items) and "Animation" (3 items): the tag is more specific.
    paths = [p for p in explainer.explain([3], 5) if p.kind == "attribute"]
    assert paths[0].nodes[2] == PathNode("tag", "pixar", "pixar")
    assert paths[0].edges[0].relation == "stated_like"
    assert "shares the tag 'pixar' with Finding Nemo (2003)" in paths[0].text


def test_semantic_path_lists_matched_terms(explainer: Explainer) -> None:
    paths = explainer.explain(None, 6, Query(text="a heist in dreams, sci-fi please"))
    assert [p.kind for p in paths] == ["semantic"]
    assert paths[0].nodes[1].key == "dreams|heist|sci-fi"
    assert explainer.verify(paths[0])


@pytest.mark.parametrize("user", ["0", "4", "8", "9", [0], [3, 6], None])
def test_every_produced_path_is_faithful(explainer: Explainer, user: object) -> None:
    q = Query(text="space creature comedy toys")
    n = 0
    for item in range(7):
        paths = explainer.explain(user, item, q)  # type: ignore[arg-type]
        assert len(paths) <= 3
        assert [p.score for p in paths] == sorted((p.score for p in paths), reverse=True)
        for p in paths:
            n += 1
            assert explainer.verify(p), p
            assert p.text == path_text(p)
    assert n > 0


def _tamper(path: GraphPath, **changes: object) -> GraphPath:
    return dataclasses.replace(path, **changes)  # type: ignore[arg-type]


def test_tampered_paths_fail_verify(explainer: Explainer) -> None:
    co = next(p for p in explainer.explain("8", 1) if p.kind == "co_interaction")
    inflated = tuple(dataclasses.replace(e, support=e.support + 1) if e.relation != "liked" else e for e in co.edges)
    assert not explainer.verify(_tamper(co, edges=inflated))
    # User 4 never liked Alien.
    assert not explainer.verify(_tamper(co, nodes=(PathNode("user", "4", "You"), *co.nodes[1:])))
    assert not explainer.verify(_tamper(co, nodes=(*co.nodes[:3], PathNode("item", "404", "Nope"))))
    attr = next(p for p in explainer.explain([3], 5) if p.kind == "attribute")
    assert not explainer.verify(
        _tamper(attr, nodes=(*attr.nodes[:2], PathNode("tag", "ocean", "ocean"), attr.nodes[3]))
    )
    sem = explainer.explain(None, 6, Query(text="dreams"))[0]
    bad_terms = (sem.nodes[0], PathNode("text", "dreams|space", "dreams, space"), sem.nodes[2])
    assert not explainer.verify(
        _tamper(sem, nodes=bad_terms, edges=(PathEdge("mentions", 2), PathEdge("describes", 2)))
    )
    assert not explainer.verify(_tamper(sem, kind="attribute"))


def test_graph_input_and_embeddings(tiny_catalog: Catalog, interactions: Interactions) -> None:
    emb = np.random.default_rng(0).normal(size=(7, 4))
    ex = Explainer(tiny_catalog, build_graph(interactions), item_embeddings=emb, max_paths=2)
    paths = ex.explain("8", 2)
    assert 0 < len(paths) <= 2 and all(ex.verify(p) for p in paths)


def test_bad_input(explainer: Explainer, tiny_catalog: Catalog, interactions: Interactions) -> None:
    with pytest.raises(ValueError, match="item_index: item index 7 does not exist; valid item indices are 0..6"):
        explainer.explain("0", 7)
    with pytest.raises(ValueError, match="item index -1 does not exist"):
        explainer.explain([-1], 2)
    assert explainer.explain("no-such-user", 2) == []  # unknown user: nothing to explain from, no crash
    with pytest.raises(ValueError, match="max_paths"):
        Explainer(tiny_catalog, interactions, max_paths=0)
    with pytest.raises(ValueError, match="item_embeddings has 3 rows"):
        Explainer(tiny_catalog, interactions, item_embeddings=np.zeros((3, 2)))


def test_png_is_valid(explainer: Explainer, tmp_path: object) -> None:
    paths = explainer.explain("8", 1, Query(text="space marines"))
    out = tmp_path / "paths.png"  # type: ignore[operator]
    data = paths_png(paths, out)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and out.read_bytes() == data and len(data) > 1000
    with pytest.raises(ValueError, match="paths is empty"):
        paths_png([])
