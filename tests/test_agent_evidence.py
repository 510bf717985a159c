"""Explanations carry information: no restating the request, trivial paths dropped, factual fallbacks."""

from __future__ import annotations

import types

import pytest

from agentrec.agent.core import Agent
from agentrec.agent.evidence import citable_facts, informative_paths, overview_sentence, rating_sentence
from agentrec.agent.justify import write_reason
from agentrec.graph.paths import Explainer
from agentrec.retrieve import Retriever
from agentrec.schema import CatalogSchema
from agentrec.types import Catalog, Filters, GraphPath, Interactions, Item, PathEdge, PathNode, Query


def _semantic(terms: list[str]) -> GraphPath:
    text = PathNode("text", "|".join(terms), ", ".join(terms))
    nodes = (PathNode("query", "q", "q"), text, PathNode("item", "1", "X"))
    edges = (PathEdge("mentions", float(len(terms))), PathEdge("describes", float(len(terms))))
    return GraphPath("semantic", nodes, edges, 0.5, f"You asked for q; X matches: {', '.join(terms)}")


def _co(support: int) -> GraphPath:
    you, seed, target = PathNode("user", "", "You"), PathNode("item", "0", "A"), PathNode("item", "1", "X")
    nodes = (you, seed, PathNode("users", "0|1", "n"), target)
    edges = (PathEdge("stated_like"), PathEdge("liked_by", float(support)), PathEdge("also_liked", float(support)))
    return GraphPath("co_interaction", nodes, edges, 0.4, f"{support} people who liked A also liked X")


def test_paths_that_restate_the_request_or_are_anecdotes_are_dropped() -> None:
    q = Query(text="horror", filters=Filters(include={"genre": ("Horror",)}))
    kept = informative_paths([_semantic(["horror"]), _semantic(["horror", "zombies"]), _co(1), _co(12)], q)
    texts = ["You asked for q; X matches: horror, zombies", "12 people who liked A also liked X"]
    assert [p.text for p in kept] == texts


def test_reason_is_factual_without_any_path() -> None:
    item = Item("7", "The Thing", 1982, ("Horror", "Sci-Fi"), overview="An alien hides among researchers. Snow falls.")
    q = Query(text="horror alien", filters=Filters(include={"genre": ("Horror",)}, ranges={"year": ((1980, 1989),)}))
    schema = CatalogSchema.from_catalog(Catalog((item, Item("8", "Other", 1990, ("Comedy",)))))
    reason = write_reason(item, [_semantic(["horror"])], q, schema, num_ratings=310, mean_rating=4.24, words=["alien"])
    assert "Rated 4.2/5 on average by 310 people" in reason
    assert 'From its description: "An alien hides among researchers"' in reason
    assert "You asked for" not in reason and "as you asked" not in reason
    assert reason.endswith("Genre Horror/Sci-Fi, year 1982.")  # checkable facts close the reason


def test_rating_and_overview_helpers() -> None:
    assert rating_sentence(None, 1) == "Chosen by 1 person in the data"
    assert rating_sentence(3.96, 1200) == "Rated 4.0/5 on average by 1,200 people"
    assert rating_sentence(4.0, 0) == ""
    item = Item("1", "T", overview="Nothing here. Sailors fight a storm at sea.")
    assert overview_sentence(item, ["storm"]) == "Sailors fight a storm at sea."
    assert overview_sentence(item, ["desert"]) == "" and overview_sentence(item, []) == ""


def test_citable_facts_prefer_facts_that_do_not_restate() -> None:
    item = Item("1", "T", 1990, ("Horror", "Comedy"), tags=("gore",))
    bare, only_asked = Item("2", "Metallica"), Item("3", "H", genres=("Horror",))
    schema = CatalogSchema.from_catalog(Catalog((item, bare, only_asked)))
    q = Query(filters=Filters(include={"genre": ("Horror",)}))
    assert citable_facts(item, q, schema) == ["year: 1990", "genre: Comedy"]
    assert citable_facts(bare, q, schema) == []  # nothing true to cite: the guard drops such an item
    assert citable_facts(only_asked, q, schema) == ["genre: Horror"]


@pytest.fixture
def agent(tiny_catalog: Catalog, tiny_interactions: Interactions) -> Agent:
    comps = types.SimpleNamespace(
        name="tiny",
        catalog=tiny_catalog,
        train=tiny_interactions,
        retriever=Retriever(tiny_catalog, tiny_interactions),
        explainer=Explainer(tiny_catalog, tiny_interactions),
    )
    return Agent(comps)


def test_agent_reasons_never_restate_the_request(agent: Agent) -> None:
    recs = agent.recommend("a sci-fi movie", k=3)
    assert recs
    for r in recs:
        assert "as you asked" not in r.reason and "You asked for" not in r.reason
        assert "on average by" in r.reason or "Chosen by" in r.reason  # the data's verdict on the item
        assert not any(p.kind == "semantic" and p.nodes[1].key == "sci-fi" for p in r.evidence)
