"""The Agent on tiny components: toolbox, guard, memory across turns, bad input, streaming, profiles."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from agentrec.agent.core import MAX_MESSAGE_CHARS, Agent
from agentrec.agent.guard import Guard
from agentrec.agent.memory import Wish
from agentrec.agent.session import ConversationState
from agentrec.agent.toolbox import Toolbox
from agentrec.agent.types import Proposal, ToolError
from agentrec.graph.paths import Explainer
from agentrec.retrieve import Retriever
from agentrec.types import Catalog, Filters, Interactions, Item, Query, Range


@pytest.fixture
def comps(tiny_catalog: Catalog, tiny_interactions: Interactions) -> types.SimpleNamespace:
    return types.SimpleNamespace(
        name="tiny",
        pack="movies",  # the tiny catalogue is films
        catalog=tiny_catalog,
        train=tiny_interactions,
        retriever=Retriever(tiny_catalog, tiny_interactions),
        explainer=Explainer(tiny_catalog, tiny_interactions),
    )


@pytest.fixture
def agent(comps: types.SimpleNamespace) -> Agent:
    return Agent(comps)


# ---------------------------------------------------------------- toolbox
def test_toolbox_tools(comps: types.SimpleNamespace) -> None:
    tb = Toolbox(comps)
    tb.begin_turn()
    res = tb.search_catalog("space", filters={"genre": ["science fiction"], "exclude_genre": ["horror"]}, k=5)
    assert {c.item_id for c in res.artifact} == {"1", "6"}
    assert "Aliens" in res.content and tb.allowed_item_indices == {1, 6}
    sim = tb.similar_items("Alien", k=3)
    assert 0 not in {c.item_index for c in sim.artifact} and {1, 2} <= {c.item_index for c in sim.artifact}
    exp = tb.explain("Aliens", liked=["Alien"])
    assert exp.artifact and "[p1]" in exp.content and "p1" in tb.paths
    prof = tb.user_profile("0")
    assert prof.artifact.num_interactions == 3 and {m.item_id for m in prof.artifact.liked} == {"0", "1", "2"}
    assert tb.lookup_title("toy story").artifact[0].item_id == "3"
    rec = tb.recommend_for_user("4", k=3)
    assert all(c.item_index not in (3, 4, 5) for c in rec.artifact)  # their own history never comes back
    tb.begin_turn()
    assert tb.allowed_item_indices == set() and tb.paths == {}


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda tb: tb.search_catalog("x", filters={"genre": ["spaghetti"]}), "valid genre values are"),
        (lambda tb: tb.search_catalog("x", k=0), "k must be between"),
        (lambda tb: tb.search_catalog("x", filters={"year_min": 2000, "year_max": 1990}), "swap the ends"),
        (lambda tb: tb.search_catalog("x", filters={"genre": ["horror"], "exclude_genre": ["horror"]}), "both wanted"),
        (lambda tb: tb.search_catalog("x", filters={"director": ["Nolan"]}), "unknown filter 'director'; valid"),
        (lambda tb: tb.search_catalog("x", filters={"genre": ["Western"]}), "valid genre values are: Action"),
        (lambda tb: tb.recommend_for_user("nobody"), "Unknown user id"),
        (lambda tb: tb.similar_items("Zzyzx Road Blues"), "lookup_title"),
        (lambda tb: tb.user_profile("nobody"), "Unknown user id"),
        (lambda tb: tb.lookup_title("qqqqqqqq"), "No title matches"),
        (lambda tb: tb.retrieve(Query(k=0)), "search failed"),
    ],
)
def test_toolbox_errors_say_what_to_try(comps: types.SimpleNamespace, call, match: str) -> None:
    tb = Toolbox(comps)
    tb.begin_turn()
    with pytest.raises(ToolError, match=match):
        call(tb)


def test_toolbox_applies_conversation_memory(comps: types.SimpleNamespace) -> None:
    tb = Toolbox(comps)
    state = ConversationState(wish=Wish(filters=Filters(exclude={"genre": ("Horror",)})))
    state.reject(1)
    tb.begin_turn(state)
    got = {c.item_index for c in tb.search_catalog("", k=7).artifact}
    assert got and not got & {0, 1, 2}  # horror excluded, rejected item 1 gone


# ---------------------------------------------------------------- guard
def test_guard_rules(comps: types.SimpleNamespace) -> None:
    tb = Toolbox(comps)
    tb.begin_turn()
    tb.search_catalog("", filters={"genre": ["Sci-Fi"]}, k=5)  # allowed: 0, 1, 2, 6
    tb.explain("Aliens", liked=["Alien"])
    guard = Guard(tb)
    query = Query(filters=Filters(exclude={"genre": ("Horror",)}), rejected=(6,), k=5)
    report = guard.validate(
        [
            Proposal("999", "invented", ("genre: Sci-Fi",)),
            Proposal("3", "not from a tool", ("genre: Comedy",)),
            Proposal("0", "violates no-horror", ("genre: Sci-Fi",)),
            Proposal("6", "rejected earlier", ("genre: Sci-Fi",)),
            Proposal("1", "no evidence", ()),
            Proposal("1", "false attribute", ("genre: Comedy", "year: 1999")),
            Proposal("1", "Shares fans with Alien", ("p1",)),
            Proposal("1", "duplicate", ("p1",)),
        ],
        query,
    )
    assert [r.item_id for r in report.accepted] == ["1"]
    assert report.accepted[0].evidence and all(comps.explainer.verify(p) for p in report.accepted[0].evidence)
    reasons = [why for _p, why in report.rejected]
    assert "not in the catalogue" in reasons[0]
    assert "tool result" in reasons[1]
    assert "excluded genre" in reasons[2]
    assert "rejected" in reasons[3]
    assert "evidence" in reasons[4] and "evidence" in reasons[5]
    assert "duplicate" in reasons[6]


def test_guard_attribute_fact_is_a_verifiable_path(comps: types.SimpleNamespace) -> None:
    tb = Toolbox(comps)
    tb.begin_turn()
    tb.search_catalog("", k=7)
    proposal = Proposal("3", "An animated film", ("genre: animation", "year: 1995"))
    asked = Query(filters=Filters(include={"genre": ("Animation",)}))
    (rec,) = Guard(tb).validate([proposal], asked).accepted
    assert rec.evidence and comps.explainer.verify(rec.evidence[0])
    # A true attribute the user did not ask for is cited without a path (no "you asked for" claim).
    (rec,) = Guard(tb).validate([proposal], Query()).accepted
    assert rec.evidence == ()


# ---------------------------------------------------------------- the agent
def test_offline_reply_is_labelled_and_grounded(agent: Agent, comps: types.SimpleNamespace) -> None:
    reply = agent.chat("animated comedy, no horror", session="a")
    assert reply.mode == "offline" and agent.mode == "offline" and reply.text.startswith("[offline mode]")
    assert reply.recommendations
    for r in reply.recommendations:
        assert "Comedy" in r.genres and "Animation" in r.genres and "Horror" not in r.genres
        # Every cited path verifies; without an informative path the reason stands on true facts (how many
        # people chose it, its values of the constrained facets) instead of a path that restates the request.
        assert r.reason and all(comps.explainer.verify(p) for p in r.evidence)
        assert r.evidence or ("people" in r.reason and "Animation/Comedy" in r.reason)
        assert not any(p.kind == "semantic" and set(p.nodes[1].key.split("|")) <= {"animated", "comedy"}
                       for p in r.evidence)  # fmt: skip
    kinds = {t.kind for t in reply.trace}
    assert {"tool_call", "tool_result", "guard"} <= kinds


def test_memory_rejected_never_returns_and_exclusion_holds(agent: Agent) -> None:
    r1 = agent.chat("something like Alien", session="m")
    assert r1.recommendations
    first = r1.recommendations[0].item_index
    r2 = agent.chat("not the first one", session="m")
    assert first not in {r.item_index for r in r2.recommendations}
    r3 = agent.chat("no horror", session="m")
    assert all("Horror" not in r.genres for r in r3.recommendations)
    for msg in ("anything else", "more like the first one", "show me 7 movies"):
        r = agent.chat(msg, session="m")
        got = {x.item_index for x in r.recommendations}
        assert first not in got
        assert all("Horror" not in x.genres for x in r.recommendations)
    state = agent.sessions.get("m")
    assert first in state.rejected and "Horror" in state.filters.exclude.get("genre", ())
    assert len(state.messages) == 12  # six turns, each user + assistant


def test_genre_wishes_refine_when_possible_else_keep_until_switched(agent: Agent) -> None:
    agent.chat("an animated movie", session="g")
    reply = agent.chat("it should also be a comedy", session="g")
    assert set(agent.sessions.get("g").filters.include.get("genre", ())) == {"Animation", "Comedy"}
    assert reply.recommendations
    assert all({"Animation", "Comedy"} <= set(r.genres) for r in reply.recommendations)
    # No animated sci-fi comedy exists: what the user asked for earlier is kept, and the reply says so.
    reply = agent.chat("it should also be sci-fi", session="g")
    assert agent.sessions.get("g").filters.include.get("genre", ()) == ("Animation", "Comedy")
    assert all({"Animation", "Comedy"} <= set(r.genres) for r in reply.recommendations)
    assert any("kept genre Animation, Comedy" in n and "'Sci-Fi instead'" in n for n in reply.notes)
    reply = agent.chat("sci-fi instead", session="g")  # an explicit switch replaces
    assert agent.sessions.get("g").filters.include.get("genre", ()) == ("Sci-Fi",)
    assert all("Sci-Fi" in r.genres for r in reply.recommendations)
    # A new full request replaces the earlier wish, and says what it dropped.
    reply = agent.chat("a comedy please", session="g")
    assert agent.sessions.get("g").filters.include.get("genre", ()) == ("Comedy",)
    assert any("dropped the earlier wish (genre Sci-Fi)" in n for n in reply.notes)


def test_more_like_the_second_one_seeds_from_last_list(agent: Agent) -> None:
    r1 = agent.chat("animated", session="s")
    second = r1.recommendations[1].item_index
    r2 = agent.chat("more like the second one", session="s")
    assert second in agent.sessions.get("s").liked
    assert second not in {r.item_index for r in r2.recommendations}
    assert r2.query is not None and r2.query.liked_items == (second,)


def test_empty_message(agent: Agent) -> None:
    agent.chat("animated", session="e")
    before = agent.sessions.get("e").snapshot()
    for msg in ("", "   \n "):
        reply = agent.chat(msg, session="e")
        assert reply.recommendations == [] and "Tell me what you'd like" in reply.text
    assert agent.sessions.get("e").messages == before.messages


def test_huge_message(agent: Agent) -> None:
    agent.chat("animated", session="h")
    n = len(agent.sessions.get("h").messages)
    reply = agent.chat("comedy " * 2000, session="h")
    assert str(MAX_MESSAGE_CHARS) in reply.text and reply.recommendations == []
    assert len(agent.sessions.get("h").messages) == n


def test_unknown_user_id(agent: Agent) -> None:
    reply = agent.chat("something animated", session="u", user="no-such-user")
    assert any("Unknown user id 'no-such-user'" in n for n in reply.notes)
    assert reply.recommendations and agent.sessions.get("u").user_id is None
    reply = agent.chat("for user 12345 anything", session="u")
    assert any("12345" in n for n in reply.notes)


def test_conflicting_constraints(agent: Agent) -> None:
    agent.chat("no horror", session="c")
    state = agent.sessions.get("c")
    filters = state.filters
    for msg in ("only horror but no horror", "sci-fi from the 90s after 2010"):
        reply = agent.chat(msg, session="c")
        assert "contradicts itself" in reply.text and reply.recommendations == []
        assert state.filters == filters  # nothing lost, nothing half-applied
    assert state.messages[-2]["content"] == "sci-fi from the 90s after 2010"
    # A later wish that contradicts an earlier one: the newest wins, with a note.
    reply = agent.chat("horror please", session="c")
    assert state.filters.include.get("genre", ()) == ("Horror",) and "Horror" not in state.filters.exclude.get(
        "genre", ()
    )
    assert any("dropped your earlier exclusion" in n for n in reply.notes)
    agent.chat("only 90s", session="c")
    reply = agent.chat("after 2000", session="c")
    assert state.filters.ranges["year"] == (Range(2001, None),)
    assert any("replaced your earlier year (1990-1999)" in n for n in reply.notes)


def test_runtime_is_honest_without_data(agent: Agent) -> None:
    agent.chat("animated", session="r")
    reply = agent.chat("something shorter", session="r")
    assert any("no lengths" in n and "shorter" in n for n in reply.notes)


def test_runtime_used_when_available(tiny_catalog: Catalog, tiny_interactions: Interactions) -> None:
    from dataclasses import replace

    runtimes = [117, 137, 109, 81, 90, 100, 148]
    cat = Catalog(
        tuple(replace(it, attributes={"runtime": rt}) for it, rt in zip(tiny_catalog.items, runtimes, strict=True))
    )
    comps = types.SimpleNamespace(
        catalog=cat, train=tiny_interactions, retriever=Retriever(cat, tiny_interactions), pack="movies",
        explainer=Explainer(cat, tiny_interactions),
    )  # fmt: skip
    agent = Agent(comps)
    agent.chat("anything", session="r")
    reply = agent.chat("something shorter", session="r")
    (limit,) = agent.sessions.get("r").filters.ranges["runtime"]  # the catalogue's shorter third
    assert limit.low is None and limit.high is not None and reply.recommendations
    assert all(runtimes[r.item_index] <= limit.high for r in reply.recommendations)
    reply = agent.chat("under 100 minutes", session="r")
    assert reply.recommendations and all(runtimes[r.item_index] <= 100 for r in reply.recommendations)


def test_recommend_api_and_query(agent: Agent) -> None:
    recs = agent.recommend("animated", k=2)
    assert len(recs) == 2 and all("Animation" in r.genres for r in recs)
    recs = agent.recommend(Query(filters=Filters(include={"genre": ("Sci-Fi",)}), k=3))
    assert recs and all("Sci-Fi" in r.genres for r in recs)
    with pytest.raises(ValueError, match="k must be"):
        agent.recommend("x", k=0)


def test_stream_yields_tokens_tools_and_done(agent: Agent) -> None:
    events = list(agent.stream("animated comedy", session="st"))
    kinds = [e.kind for e in events]
    assert "token" in kinds and kinds[-2:] == ["recommendations", "done"]
    assert "planner" in {e.text for e in events if e.kind == "tool"}
    reply = events[-1].data
    assert "".join(e.text for e in events if e.kind == "token").strip() == reply.text.strip()


def test_feedback_and_profiles_persist(comps: types.SimpleNamespace, tmp_path: Path) -> None:
    path = tmp_path / "profiles.sqlite"
    agent = Agent(comps, profiles_path=path)
    agent.chat("no horror", session="p1", user="0")
    agent.feedback("p1", "5", liked=False)
    with pytest.raises(ValueError, match="not in the catalogue"):
        agent.feedback("p1", "nope", liked=True)
    again = Agent(comps, profiles_path=path)  # a new conversation, a new process
    reply = again.chat("anything", session="p2", user="0")
    state = again.sessions.get("p2")
    assert 5 in state.disliked and "Horror" in state.filters.exclude.get("genre", ())
    assert all(r.item_index != 5 and "Horror" not in r.genres for r in reply.recommendations)


def test_reset(agent: Agent) -> None:
    agent.chat("no horror", session="z")
    agent.chat("start over", session="z")
    assert agent.sessions.get("z").filters == Filters()
    agent.reset("z")
    assert "z" not in agent.sessions


def test_import_is_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, agentrec.agent, agentrec.agent.core; "
        "assert not {'langchain', 'gradio', 'torch'} & set(sys.modules), 'the agent layer must stay light'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


class _FailingLLM:
    """Stands in for LLMAgent: raises what a broken endpoint or a bug would raise."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def run(self, *args: object, **kwargs: object) -> None:
        raise self.exc


@pytest.mark.parametrize("kind", ["unavailable", "bug"])
def test_llm_failure_falls_back_to_planner(comps: types.SimpleNamespace, kind: str) -> None:
    from agentrec.agent.llm import LLMUnavailable
    from agentrec.config import AgentConfig

    exc = LLMUnavailable("the base URL does not answer") if kind == "unavailable" else RuntimeError("boom")
    agent = Agent(comps, config=AgentConfig(model="m"), llm=_FailingLLM(exc))
    assert agent.mode == "llm:m"
    reply = agent.chat("animated comedy", session="f")
    assert reply.mode == "offline" and reply.recommendations
    assert any(t.kind == "fallback" for t in reply.trace) and reply.notes
    assert len(agent.sessions.get("f").messages) == 2


def test_load_rejects_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not a directory"):
        Agent.load(tmp_path / "nope")


def test_follow_ups_prefer_items_not_shown_yet(agent: Agent) -> None:
    first = {r.item_index for r in agent.chat("show me 3 movies", session="n").recommendations}
    second = {r.item_index for r in agent.chat("anything else?", session="n").recommendations}
    assert len(first) == len(second) == 3 and not first & second
    third = agent.chat("more", session="n").recommendations  # only one new item left: shown ones fill up
    assert len(third) == 3 and len({r.item_index for r in third} - first - second) == 1


def test_guard_checks_against_the_turn_it_is_given(comps: types.SimpleNamespace) -> None:
    tb = Toolbox(comps)
    first = tb.begin_turn()
    tb.search_catalog("", filters={"genre": ["Animation"]}, k=3)  # items 3, 4, 5
    ref = tb.explain("Toy Story", liked=["Shrek"]).content.splitlines()[1][1:3]
    second = tb.begin_turn()  # a later turn: nothing handed out yet
    assert tb.turn is second and not second.allowed_item_indices and first.allowed_item_indices == {3, 4, 5}
    proposal = Proposal("3", "An animated comedy", (ref,))
    assert Guard(tb).validate([proposal], Query()).rejected[0][1].startswith("did not come from a tool result")
    (rec,) = Guard(tb).validate([proposal], Query(), turn=first).accepted
    assert rec.evidence and rec.evidence[0] is first.paths[ref]


def test_an_ids_only_catalogue_still_answers_with_checkable_reasons(tiny_interactions: Interactions) -> None:
    # No titles beyond ids, no genres, no years (like gowalla): every answer still comes with a true fact.
    cat = Catalog(tuple(Item(item_id, f"Location {item_id}") for item_id in tiny_interactions.item_ids))
    comps = types.SimpleNamespace(
        catalog=cat, train=tiny_interactions, retriever=Retriever(cat, tiny_interactions),
        explainer=Explainer(cat, tiny_interactions),
    )  # fmt: skip
    agent = Agent(comps)
    reply = agent.chat("90s rock bands", session="ids")
    assert reply.recommendations and any("no years" in n for n in reply.notes)
    degree = comps.retriever.item_degree
    for r in reply.recommendations:
        said = f"Chosen by {degree[r.item_index]}" if degree[r.item_index] else "nobody in the data has chosen it"
        assert said in r.reason
    proposals = [
        Proposal(r.item_id, "x", (f"interactions: {degree[r.item_index] + 1}",)) for r in reply.recommendations
    ]
    query = Query(k=3)
    agent.toolbox.begin_turn(None)
    agent.toolbox.retrieve(query)
    assert not Guard(agent.toolbox).validate(proposals, query).accepted  # a wrong count is not evidence


def test_when_nothing_new_fits_shown_items_come_back_and_the_reply_says_so(agent: Agent) -> None:
    first = agent.chat("anything", session="back")
    again = agent.chat("anything else?", session="back")
    assert first.recommendations and again.recommendations  # the catalogue is tiny: all were shown already
    assert any("shown before are back" in n for n in again.notes)
    assert not any(n.startswith("every item that satisfies the filters is already") for n in again.notes)
