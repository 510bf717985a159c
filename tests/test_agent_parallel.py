"""Turns of different conversations run at the same time without sharing per-turn bookkeeping."""

from __future__ import annotations

import threading
import time
import types
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from agentrec.agent.core import Agent
from agentrec.agent.toolbox import Toolbox
from agentrec.graph.paths import Explainer
from agentrec.retrieve import Retriever
from agentrec.types import Catalog, Interactions


class GatedRetriever:
    """Delegates to a real retriever; a retrieval whose text contains ``block`` waits until ``release`` is set."""

    def __init__(self, inner: Retriever) -> None:
        self.inner = inner
        self.entered = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def retrieve(self, query: Any) -> Any:
        if "block" in query.text:
            self.entered.set()
            assert self.release.wait(10), "the blocked turn was never released"
        return self.inner.retrieve(query)


@pytest.fixture
def comps(tiny_catalog: Catalog, tiny_interactions: Interactions) -> types.SimpleNamespace:
    return types.SimpleNamespace(
        name="tiny",
        pack="movies",  # the tiny catalogue is films
        catalog=tiny_catalog,
        train=tiny_interactions,
        retriever=GatedRetriever(Retriever(tiny_catalog, tiny_interactions)),
        explainer=Explainer(tiny_catalog, tiny_interactions),
    )


def test_other_sessions_answer_while_one_turn_is_in_progress(comps: types.SimpleNamespace) -> None:
    agent = Agent(comps)
    box: dict[str, Any] = {}
    slow = threading.Thread(target=lambda: box.setdefault("slow", agent.chat("block space movies", session="a")))
    slow.start()
    try:
        assert comps.retriever.entered.wait(10)
        # Session "a" is inside its turn (holding its toolbox bookkeeping); "b" must not wait for it.
        done = threading.Event()
        fast = threading.Thread(target=lambda: (box.setdefault("fast", agent.chat("comedy", session="b")), done.set()))
        fast.start()
        assert done.wait(10), "a turn of another session waited for the one in progress"
        fast.join()
    finally:
        comps.retriever.release.set()
        slow.join(10)
    fast_reply, slow_reply = box["fast"], box["slow"]
    assert fast_reply.recommendations and slow_reply.recommendations
    # Each reply's trace holds only its own turn's tool calls.
    assert all("block" not in ev.detail for ev in fast_reply.trace)
    assert any("block" in ev.detail for ev in slow_reply.trace if ev.kind == "tool_call")
    assert "comedy" not in " ".join(ev.detail for ev in slow_reply.trace)


def test_turns_of_one_session_take_turns(comps: types.SimpleNamespace) -> None:
    agent = Agent(comps)
    slow = threading.Thread(target=lambda: agent.chat("block space movies", session="a"))
    slow.start()
    try:
        assert comps.retriever.entered.wait(10)
        done = threading.Event()
        same = threading.Thread(target=lambda: (agent.chat("comedy", session="a"), done.set()))
        same.start()
        assert not done.wait(0.3), "two turns of one conversation ran at the same time"
    finally:
        comps.retriever.release.set()
        slow.join(10)
    assert done.wait(10)
    same.join()
    assert [m["content"] for m in agent.sessions.get("a").messages if m["role"] == "user"] == [
        "block space movies",
        "comedy",
    ]


def test_toolbox_bookkeeping_is_per_turn(comps: types.SimpleNamespace) -> None:
    """Turns are passed explicitly: a view bound to one turn never sees another turn's results, whatever thread
    runs it (there is no per-thread or module-level current turn)."""
    tb = Toolbox(comps)
    main = tb.bind(tb.new_turn(text="main"))
    main.search_catalog("space", k=3)
    mine = set(main.allowed_item_indices)
    assert mine
    seen: dict[str, Any] = {}

    def other() -> None:
        view = tb.bind(tb.new_turn(text="other"))
        seen["before"] = set(view.allowed_item_indices)
        view.lookup_title("toy story", k=1)
        seen["after"] = set(view.allowed_item_indices)
        seen["main"] = set(main.allowed_item_indices)  # the same turn object, whichever thread reads it

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert seen["before"] == set()  # a new turn starts empty
    assert seen["after"] == {3}
    assert main.allowed_item_indices == mine == seen["main"]  # the other turn left this one alone
    assert tb.allowed_item_indices == set()  # the shared toolbox itself took part in neither


class SlowCountingPaths(dict):
    """A paths table that is slow to count: two unsynchronised allocations would both read the same count."""

    def __len__(self) -> int:
        n = super().__len__()
        time.sleep(0.002)
        return n


def test_parallel_explain_calls_get_distinct_path_references(comps: types.SimpleNamespace) -> None:
    """An LLM may call explain several times at once (LangChain runs each call in a worker thread, on the toolbox
    view bound to the turn): every path handed out keeps its own reference, and each reference names its path."""
    tb = Toolbox(comps)
    turn = tb.begin_turn()
    turn.paths = SlowCountingPaths()
    items = ["Aliens", "Alien", "The Thing", "Toy Story", "Shrek", "Finding Nemo", "Inception"] * 3
    with ThreadPoolExecutor(max_workers=8) as pool:
        view = tb.bind(turn)
        results = list(pool.map(lambda title: view.explain(title, liked=["Alien"]), items))
    handed_out = [p for r in results for p in r.artifact]
    assert handed_out and tb.paths is turn.paths
    assert len(dict(turn.paths)) == len(handed_out)  # no reference was given twice (one path overwriting another)
    assert sorted(turn.paths, key=lambda ref: int(ref[1:])) == [f"p{n}" for n in range(1, len(handed_out) + 1)]
    for r in results:
        for line in r.content.splitlines()[1:]:
            ref, text = line[1:].split("] ", 1)
            assert turn.paths[ref].text == text  # the reference the LLM sees names the path it was shown
