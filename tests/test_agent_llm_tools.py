"""LangChain tools over the Toolbox, the conversation-state rendering, and the packaged prompts."""

from __future__ import annotations

import json
import re

import pytest

pytest.importorskip("langchain_core")

from agent_llm_helpers import make_toolbox  # noqa: E402

from agentrec.agent.lctools import TOOL_NAMES, history_messages, make_langchain_tools, render_state  # noqa: E402
from agentrec.agent.memory import Wish  # noqa: E402
from agentrec.agent.prompts import PROMPT_NAMES, load_prompt, render_prompt, system_prompt  # noqa: E402
from agentrec.agent.rows import DATA_NOTE  # noqa: E402
from agentrec.agent.session import ConversationState  # noqa: E402
from agentrec.agent.types import TitleMatch, UserProfile  # noqa: E402
from agentrec.types import Candidate, Catalog, Filters, GraphPath, Interactions, Range  # noqa: E402


@pytest.fixture
def tools(tiny_catalog: Catalog, tiny_interactions: Interactions) -> dict:
    toolbox = make_toolbox(tiny_catalog, tiny_interactions)
    toolbox.begin_turn(ConversationState())
    return {t.name: t for t in make_langchain_tools(toolbox)} | {"_box": toolbox}


def call(tool, **args):
    """Invoke a tool the way the agent does (a ToolCall), returning the ToolMessage."""
    return tool.invoke({"type": "tool_call", "id": "c1", "name": tool.name, "args": args})


def test_six_tools_with_every_argument_described(tools):
    assert tuple(n for n in tools if n != "_box") == TOOL_NAMES
    for name in TOOL_NAMES:
        tool = tools[name]
        assert tool.response_format == "content_and_artifact"
        assert len(tool.description) > 40, name
        props = tool.args_schema.model_json_schema()["properties"]
        assert props, name
        for arg, spec in props.items():
            assert len(spec.get("description", "")) > 10, f"{name}.{arg} has no description for the LLM"


def test_tools_return_text_for_the_llm_and_typed_artifacts(tools):
    msg = call(tools["search_catalog"], description="toys pixar", k=2)
    rows = json.loads(msg.content)
    assert rows["note"] == DATA_NOTE  # catalogue text is framed as data
    assert rows["items"][0] == {
        "id": "3", "title": "Toy Story", "genre": ["Animation", "Comedy"], "year": 1995,
        "snippet": "Toys come alive.", "tags": ["pixar", "toys"], "interactions": 4,
    }  # fmt: skip
    assert all(isinstance(c, Candidate) for c in msg.artifact) and len(msg.artifact) == 2
    assert {3, 5} <= tools["_box"].allowed_item_indices

    msg = call(tools["explain"], item="3")
    assert "[p1]" in msg.content and all(isinstance(p, GraphPath) for p in msg.artifact)
    assert "p1" in tools["_box"].paths

    msg = call(tools["lookup_title"], title="finding nemo")
    assert isinstance(msg.artifact[0], TitleMatch) and msg.artifact[0].item_id == "5"
    assert json.loads(msg.content)["items"][0]["match"] == 1.0

    msg = call(tools["user_profile"], user_id="0")
    profile = json.loads(msg.content)
    assert isinstance(msg.artifact, UserProfile) and profile["user"] == "0" and profile["interactions"] == 3
    assert {r["id"] for r in profile["items"]} == {"0", "1", "2"} and profile["top_genre"][0] == "Sci-Fi (3)"

    msg = call(tools["similar_items"], title_or_id="Shrek", k=3)
    assert "4" not in {r["id"] for r in json.loads(msg.content)["items"]} and len(msg.artifact) == 3

    msg = call(tools["recommend_for_user"], user_id="0", k=100)  # k is clamped, not an error
    assert not msg.content.startswith("Error")


def test_tool_errors_become_advice_for_the_llm(tools):
    msg = call(tools["recommend_for_user"], user_id="no-such-user")
    assert msg.content.startswith("Error: Unknown user id") and "search_catalog" in msg.content
    assert msg.artifact is None
    msg = call(tools["similar_items"], title_or_id="zzzz qqqq")
    assert msg.content.startswith("Error: No item") and "lookup_title" in msg.content
    msg = call(tools["search_catalog"], description="x", filters={"year_min": 2000, "year_max": 1990})
    assert msg.content.startswith("Error: These filters can never be met: year range 2000-1990 is empty")
    assert "swap the ends of the range" in msg.content
    msg = call(tools["search_catalog"], description="x", filters={"director": ["Nolan"]})
    assert msg.content.startswith("Error:") and "director" in msg.content and msg.artifact is None
    msg = call(tools["search_catalog"], description="x", filters={"genre": ["Western"]})
    assert "genre 'Western' is not in this catalogue; valid genre values are: Action, Adventure" in msg.content


def test_one_shared_filters_object_generated_from_the_schema(tools):
    from agentrec.agent.lctools import filters_spec

    for name in ("search_catalog", "recommend_for_user", "similar_items"):
        props = tools[name].args_schema.model_json_schema()
        assert "filters" in props["properties"] and not {"genres", "year_from"} & set(props["properties"])
        # No repeated parameter block: each tool refers to the one Filters object of the system prompt.
        assert "$defs" not in props and "system prompt" in props["properties"]["filters"]["description"]
    spec = filters_spec(tools["_box"].schema)
    keys = set(re.findall(r"`(\w+)`", spec))
    assert {"genre", "genre_match", "exclude_genre", "year_min", "year_max", "year_ranges", "tag"} <= keys
    assert "Sci-Fi" in spec  # the catalogue's genres are listed for the LLM, once
    prompt = system_prompt(catalog="tiny", k=3, state="", filters=spec)
    assert prompt.count("`genre_match`") == 1
    msg = call(
        tools["search_catalog"],
        description="",
        filters={"genre": ["sci-fi"], "exclude_genre": ["horror"], "year_ranges": [[1980, 1989], [2005, None]]},
    )
    assert {c.item_id for c in msg.artifact} == {"1", "6"}  # Aliens (1986), Inception (2010)


def test_render_state_and_history(tiny_catalog, tiny_interactions):
    toolbox = make_toolbox(tiny_catalog, tiny_interactions)
    state = ConversationState(
        k=4, wish=Wish(filters=Filters(exclude={"genre": ("Horror",)}, ranges={"year": (Range(1990, 1999),)}))
    )
    state.last_shown = [3, 4]
    state.like(5)
    state.reject(4)
    text = render_state(state, toolbox)
    assert "No known user id" in text and "Recommendations wanted: 4" in text
    assert "1. 3 (Toy Story (1995)); 2. 4 (Shrek (2001))" in text
    assert "Liked: 5 (Finding Nemo (2003))" in text and "Rejected (never recommend): 4 (Shrek (2001))" in text
    assert "Hard constraints the person stated (still in force): not Horror, year 1990-1999" in text
    assert "Suggestions" not in text
    # A value the planner only inferred from topic words is a suggestion for the model, not a hard constraint.
    state.wish = Wish(
        filters=Filters(include={"genre": ("Children",)}, exclude={"genre": ("Horror",)}),
        inferred={"genre": ("Children",)},
    )
    text = render_state(state, toolbox)
    assert "stated (still in force): not Horror" in text and "Children" not in text.split("Suggestions")[0]
    assert "Suggestions read from the request (not stated; use them or not): genre Children" in text
    state.add_message("user", "hi")
    state.add_message("assistant", "hello")
    state.add_message("user", "more")
    msgs = history_messages(state, limit=10, current="more")
    assert [m.type for m in msgs] == ["human", "ai"]
    assert [m.type for m in history_messages(state, limit=1)] == ["human"]


def test_prompts_load_render_and_reject_unknown_names():
    for name in PROMPT_NAMES:
        assert load_prompt(name).strip()
    with pytest.raises(ValueError, match="name must be one of system, rerank, justify; got 'nope'"):
        load_prompt("nope")
    assert "$catalog" not in render_prompt("system", catalog="ml-100k")
    full = system_prompt(catalog="ml-100k", k=7, state="- Known user id: 3")
    assert "ml-100k" in full and "up to 7 items" in full and "## Ranking" in full and "## Reasons" in full
    assert full.rstrip().endswith("- Known user id: 3") and "$" not in full


def test_prompts_are_the_repository_files():
    from pathlib import Path

    import agentrec

    repo_prompts = Path(__file__).resolve().parents[1] / "prompts"
    packaged = Path(agentrec.__file__).parent / "prompts"
    for name in PROMPT_NAMES:
        assert (packaged / f"{name}.md").read_text() == (repo_prompts / f"{name}.md").read_text()


def test_each_tool_is_defined_once_on_the_toolbox(tools):
    import inspect

    from agentrec.agent.lctools import FILTERS_DOC, parse_google_docstring, tool_from_method
    from agentrec.agent.toolbox import Toolbox

    for name in TOOL_NAMES:
        method = getattr(Toolbox, name)
        description, args = parse_google_docstring(method.__doc__)
        assert tools[name].description == description  # the LLM reads the toolbox's own docstring
        params = [p for p in inspect.signature(method).parameters if p != "self"]
        props = tools[name].args_schema.model_json_schema()["properties"]
        assert list(props) == params == list(args)
        assert all(props[p]["description"] == (FILTERS_DOC if p == "filters" else args[p]) for p in params)

    class Undocumented:
        schema = tools["_box"].schema

        def search_catalog(self, description: str, mood: str = "") -> None:
            """Search.

            Args:
                description: what the person wants.
            """

    with pytest.raises(ValueError, match="argument 'mood' is not described in the docstring"):
        tool_from_method(Undocumented(), "search_catalog")  # type: ignore[arg-type]


def test_parse_google_docstring():
    from agentrec.agent.lctools import parse_google_docstring

    doc = """Do a thing.

    More words.

    Args:
        a: the first
            argument, continued.
        b (int): the second.

    Returns:
        Nothing.
    """
    assert parse_google_docstring(doc) == (
        "Do a thing.\n\nMore words.",
        {"a": "the first argument, continued.", "b": "the second."},
    )
