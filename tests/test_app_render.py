"""The app's pure pieces: trace / memory / banner Markdown, `agentrec serve` options (cards: test_app_cards.py)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import pytest

from agentrec.cli.app import add_serve_arguments, parse_auth, set_torch_threads
from agentrec.schema import CatalogSchema
from agentrec.types import Catalog, Filters, GraphPath, Item, PathEdge, PathNode, Query, Range, Recommendation
from agentrec.ui.render import (
    banner_markdown,
    describe_filters,
    evidence_in_words,
    memory_markdown,
    trace_markdown,
)


def _path(text: str = "") -> GraphPath:
    return GraphPath(
        "co_interaction",
        (
            PathNode("user", "", "You"),
            PathNode("item", "1", "Alien (1979)"),
            PathNode("users", "12", "12 users"),
            PathNode("item", "2", "Aliens (1986)"),
        ),
        (PathEdge("liked"), PathEdge("liked_by", 12), PathEdge("also_liked", 12)),
        1.0,
        text,
    )


def _rec(title: str = "Aliens", evidence: tuple[GraphPath, ...] = ()) -> Recommendation:
    return Recommendation(1, "2", title, 1986, ("Action", "Sci-Fi"), "Because you liked Alien.", evidence)


def test_evidence_without_text_is_spelled_from_nodes() -> None:
    words = evidence_in_words(_path(""))
    assert words.startswith("You") and "Aliens (1986)" in words and "liked_by" in words


@dataclass
class _Event:
    kind: str
    name: str
    detail: str


def test_trace_lists_each_step_and_escapes() -> None:
    assert "No agent steps" in trace_markdown([])
    md = trace_markdown([_Event("tool_call", "search_catalog", "text='<b>space</b>'"), _Event("guard", "g", "x" * 900)])
    lines = md.splitlines()
    assert len(lines) == 2 and lines[0].startswith("1.") and "search_catalog" in lines[0]
    assert "<b>" not in md and lines[1].endswith("…")


def test_banner_names_the_mode() -> None:
    assert "Offline mode" in banner_markdown("offline")
    llm = banner_markdown("llm:gpt-4o-mini", dataset="ml-latest-small")
    assert "LLM mode" in llm and "gpt-4o-mini" in llm and "ml-latest-small" in llm


def test_memory_lists_user_constraints_likes_and_dislikes(tiny_catalog: Catalog) -> None:
    query = Query(
        filters=Filters(include={"genre": ("Horror",)}, ranges={"year": (Range(1980, None),)}),
        liked_items=(3,),
        rejected=(4,),
    )
    md = memory_markdown(
        user_id="7",
        query=query,
        feedback={"0": True, "1": False},
        titles={"0": "Alien", "1": "Aliens"},
        catalog=tiny_catalog,
    )
    assert "**User:** 7" in md
    assert "genre Horror, year 1980+" in md
    liked = next(line for line in md.splitlines() if "Liked" in line)
    disliked = next(line for line in md.splitlines() if "Disliked" in line)
    assert "Alien" in liked and "Toy Story" in liked and "Shrek" in disliked and "Aliens" in disliked
    empty = memory_markdown(user_id=None, query=None, feedback={}, titles={})
    assert "new user" in empty and "none yet" in empty


def test_describe_filters() -> None:
    assert describe_filters(Filters()) == ""
    f = Filters(
        include={"genre": ("Comedy", "Drama")},
        match={"genre": "any"},
        exclude={"genre": ("Horror",)},
        ranges={"year": (Range(None, 1999),)},
    )
    assert describe_filters(f) == "genre Comedy or Drama, not Horror, year up to 1999"
    assert describe_filters(Filters(ranges={"year": (Range(1990, 1999),)})) == "year 1990-1999"
    assert describe_filters(Filters(min_ratings=3)) == "at least 3 ratings"
    # With the catalogue's schema: its labels, units and spelling of values; data text is escaped.
    products = Catalog(tuple(Item(str(i), f"p{i}", attributes={"brand": "*Acme*", "price": 5.0 + i}) for i in range(3)))
    schema = CatalogSchema.from_catalog(products, {"price": {"unit": "$"}})
    wanted = Filters(include={"brand": ("*acme*",)}, ranges={"price": (Range(None, 20),)})
    assert describe_filters(wanted, schema) == "brand \\*Acme\\*, price up to \\$20"  # "$" escaped: never maths


def test_parse_auth() -> None:
    assert parse_auth(None) is None
    assert parse_auth("me:se:cret") == ("me", "se:cret")
    for bad in ("nocolon", ":hunter2", "user:"):
        with pytest.raises(ValueError, match="USER:PASSWORD") as err:
            parse_auth(bad)
        assert "hunter2" not in str(err.value)  # the password is never echoed


def test_serve_defaults_bind_loopback() -> None:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    args = parser.parse_args([])
    assert (args.host, args.port, args.auth, args.dataset) == ("127.0.0.1", 7860, None, "ml-latest-small")
    assert not any(a.dest == "share" for a in parser._actions)
    assert args.torch_threads is None  # None: $AGENTREC_TORCH_THREADS, else 1
    assert args.no_warm is False  # the server warms up before it listens unless told not to
    with pytest.raises(ValueError, match="--torch-threads"):
        set_torch_threads(-1)
    set_torch_threads(0)  # 0 keeps the default (and changes nothing for the other tests)


def test_serve_with_bad_auth_fails_before_loading_anything(capsys: pytest.CaptureFixture[str]) -> None:
    from agentrec.cli import main

    assert main(["serve", "--dataset", "no-such-dataset", "--auth", "nopassword"]) == 1
    err = capsys.readouterr().err
    assert "--auth must be USER:PASSWORD" in err and "no-such-dataset" not in err
