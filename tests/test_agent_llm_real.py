"""The scripted-LLM path (real ChatOpenAI client, scripted server on 127.0.0.1) over REAL catalogues.

* amazon-scientific, built artifacts (products: category paths and brands): a model that searches, then also
  brainstorms a title of the brand or category the person excluded and verifies it with ``lookup_title``, then
  proposes it first. Every recommended item must satisfy every stated constraint, checked from the catalogue's
  own data (``meets`` of test_agent_products), and the guard must say why the brainstormed item was refused.
* gowalla (ids only): a real slice of the published training split (its first users and every item they
  visited), with the non-neural retriever, since building full gowalla artifacts (a graph model over 30k users
  and 41k items) would take far longer than a unit test may. Nothing a user visited or turned down comes back.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

pytest.importorskip("langchain_openai")

from agent_llm_helpers import evidence_for, leaks_in, tool_rows  # noqa: E402
from openai_server import ScriptedOpenAIServer, Step, final, tool_calls  # noqa: E402
from test_agent_products import meets  # noqa: E402

from agentrec.agent.core import Agent  # noqa: E402
from agentrec.config import AgentConfig  # noqa: E402
from agentrec.types import Catalog, Interactions, Item  # noqa: E402

pytestmark = [pytest.mark.data, pytest.mark.slow]

GOWALLA_USERS = 200  # users of the slice (with every item they visited: about 6k items)


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedOpenAIServer]:
    with ScriptedOpenAIServer(models=("test-model",)) as srv:
        yield srv


def config(server: ScriptedOpenAIServer) -> AgentConfig:
    return AgentConfig(model="test-model", base_url=server.base_url, api_key="sk-test", timeout_s=10, max_retries=0)


@pytest.fixture(scope="module")
def amazon(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """amazon-scientific's components, from the same artifacts cache as test_agent_products."""
    from agentrec.artifacts import load_components

    root = os.environ.get("AGENTREC_ARTIFACTS_DIR") or str(tmp_path_factory.mktemp("artifacts"))
    return load_components("amazon-scientific", data_dir=shared_data, artifacts_dir=root, show_progress=False)


@pytest.fixture(scope="module")
def gowalla(shared_data: Path) -> Any:
    """A real slice of gowalla: its first users' training check-ins, over the locations they visited."""
    from agentrec.data import load_dataset
    from agentrec.graph.paths import Explainer
    from agentrec.retrieve import Retriever

    ds = load_dataset("gowalla", shared_data)
    full = ds.split.train
    rows = full.user_index < GOWALLA_USERS
    items, item_index = np.unique(full.item_index[rows], return_inverse=True)
    catalog = Catalog(tuple(ds.catalog[int(i)] for i in items))
    train = Interactions(
        user_index=full.user_index[rows].astype(np.int64), item_index=item_index.astype(np.int64),
        user_ids=tuple(full.user_ids[:GOWALLA_USERS]), item_ids=tuple(it.item_id for it in catalog.items),
    )  # fmt: skip
    return SimpleNamespace(
        name="gowalla-slice", catalog=catalog, train=train,
        retriever=Retriever(catalog, train), explainer=Explainer(catalog, train),
    )  # fmt: skip


def brainstormed(catalog: Catalog, spec: dict[str, Any]) -> Item:
    """A real item of the catalogue that breaks ``spec`` but is close to it (what a model might think of)."""
    near = {k: v for k, v in spec.items() if k in ("cat",)}
    for item in catalog.items:
        if meets(item, spec) and not meets(item, {"text": "", **near}):
            return item
    raise AssertionError(f"no item of the catalogue breaks {spec} while matching {near}")


@pytest.mark.parametrize(
    "spec",
    [
        {"text": "filament but not HATCHBOX", "cat": "filament", "no_brand": ["HATCHBOX"]},
        {"text": "duct tape but not from Duck", "cat": "duct tape", "no_brand": ["Duck"]},
        {"text": "tape, but not duct tape", "cat": "tape", "no_cat": ["duct tape"]},
        {"text": "HATCHBOX filament", "brand": ["HATCHBOX"], "cat": "filament"},
    ],
    ids=lambda s: s["text"],
)
def test_products_every_item_meets_every_stated_constraint(server, amazon, spec):
    catalog = amazon.catalog
    bad = brainstormed(catalog, spec)

    def propose(body: dict[str, Any]) -> Step:
        rows = tool_rows(body)
        first = next(r for r in rows if r["id"] == bad.item_id)  # verified with lookup_title: a real id
        rest = [r for r in rows if r["id"] != bad.item_id][:3]
        items = [{"item_id": r["id"], "reason": "It fits.", "evidence": evidence_for(r)} for r in [first, *rest]]
        return final({"message": "My picks.", "items": items})

    server.reset()
    server.push(
        tool_calls(("search_catalog", {"description": spec["text"], "k": 8}), ("lookup_title", {"title": bad.title})),
        propose,
    )
    agent = Agent(amazon, config=config(server))
    agent.sessions.get("p").k = 3
    events = list(agent.stream(spec["text"], session="p"))
    reply = next(e.data for e in events if e.kind == "done")
    assert reply.mode == "llm:test-model" and len(reply.recommendations) == 3
    for rec in reply.recommendations:
        assert not meets(catalog[rec.item_index], spec), (rec.title, meets(catalog[rec.item_index], spec))
    refused = [e.data["rejected"] for e in reply.trace if e.kind == "guard" and bad.item_id in e.data["rejected"]]
    assert refused, f"{bad.title} ({bad.attributes.get('brand')}) was not refused by the guard"
    streamed = "".join(e.text for e in events if e.kind == "token")
    assert streamed.startswith("My picks.") and not leaks_in(streamed) and not leaks_in(reply.text)
    assert reply.usage["llm_calls"] == 2 and reply.usage["tool_calls"] == 2


def test_ids_only_catalogue_never_returns_visited_or_turned_down_items(server, gowalla):
    user = "3"
    u = gowalla.train.user_id_to_index[user]
    visited = {int(i) for i in gowalla.train.item_index[gowalla.train.user_index == u]}
    degree = gowalla.retriever.item_degree

    def propose(body: dict[str, Any]) -> Step:
        rows = tool_rows(body)
        assert rows and all(set(r) <= {"id", "title", "interactions"} for r in rows)  # ids only: no facets
        items = [{"item_id": r["id"], "reason": "Popular nearby.", "evidence": evidence_for(r)} for r in rows[:3]]
        return final({"message": "Three places.", "items": items})

    server.reset()
    server.push(tool_calls(("recommend_for_user", {"user_id": user, "k": 5})), propose)
    agent = Agent(gowalla, config=config(server))
    agent.sessions.get("g").k = 3
    first = agent.chat("somewhere new for me", session="g", user=user)
    assert first.mode == "llm:test-model" and len(first.recommendations) == 3
    assert not {r.item_index for r in first.recommendations} & visited
    turned_down = first.recommendations[0]

    def insist(body: dict[str, Any]) -> Step:  # the model proposes the turned-down place again, and a wrong count
        rows = tool_rows(body)
        other = next(r for r in rows if r["id"] != turned_down.item_id)
        true_count = f"interactions: {degree[turned_down.item_index]}"
        return final({"message": "Try these.", "items": [
            {"item_id": turned_down.item_id, "reason": "Still good.", "evidence": [true_count]},
            {"item_id": other["id"], "reason": "Busy.", "evidence": [f"interactions: {other['interactions'] + 5}"]},
        ]})  # fmt: skip

    server.push(tool_calls(("recommend_for_user", {"user_id": user, "k": 8})), insist)
    second = agent.chat("not the first one", session="g")
    got = {r.item_index for r in second.recommendations}
    assert second.recommendations and turned_down.item_index not in got and not got & visited
    rejected = next(e.data["rejected"] for e in second.trace if e.kind == "guard" and e.name == "guard")
    assert "rejected" in rejected[turned_down.item_id] and "evidence" in str(list(rejected.values())[1])
