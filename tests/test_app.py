"""The chat app with a real Agent: turns, feedback, session isolation and bad input (through the real server).

The app runs on a free 127.0.0.1 port in this process; ``gradio_client`` talks to it like any client.
"""

from __future__ import annotations

import re
import threading
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

pytest.importorskip("gradio")
pytest.importorskip("gradio_client")

from agent_llm_helpers import propose_from_tools  # noqa: E402
from app_helpers import AppServer, make_agent, serve_app  # noqa: E402
from openai_server import ScriptedOpenAIServer, tool_calls  # noqa: E402

from agentrec.config import AgentConfig  # noqa: E402
from agentrec.ui.controller import AppController  # noqa: E402


@pytest.fixture(scope="module")
def agent() -> Any:
    return make_agent()


@pytest.fixture(scope="module")
def server(agent: Any) -> Iterator[AppServer]:
    with serve_app(agent) as srv:
        yield srv


def connect(url: str) -> Any:
    from gradio_client import Client

    return Client(url, verbose=False, download_files=False, analytics_enabled=False)


def say(client: Any, message: str, user: str = "new user") -> tuple[str, dict[str, Any]]:
    """Send one message; return the last assistant message and the session's state JSON."""
    out = client.predict(message, user, api_name="/respond")
    state = client.predict(api_name="/session_state")
    assert out[4] == state  # the turn's own JSON output agrees with the session_state endpoint
    return _text(out[1][-1]), state


def _text(message: dict[str, Any]) -> str:
    content = message["content"]
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


# ------------------------------------------------------------------------------------- controller level
def test_turn_streams_cards_explanation_and_trace(agent: Any) -> None:
    ctl = AppController(agent)
    views = list(ctl.respond("s-turn", "dark sci-fi from the 80s"))
    assert len(views) >= 2 and views[0].busy and not views[-1].busy  # streamed: first update before the end
    last = views[-1]
    assert last.recommendations, last.history[-1]
    for rec in last.recommendations:
        assert "Sci-Fi" in rec.genres and rec.year is not None and 1980 <= rec.year <= 1989
        assert rec.reason
    assert last.history[-1]["role"] == "assistant" and len(last.history[-1]["content"]) > 10
    assert any(e.kind == "tool_call" for e in last.trace)
    assert "1980" in last.memory  # the constraint is remembered and shown


def test_dislike_is_gone_from_the_next_turn_and_remembered(agent: Any) -> None:
    ctl = AppController(agent)
    first = list(ctl.respond("s-dislike", "animated movies"))[-1]
    victim = first.recommendations[0]
    view = ctl.feedback("s-dislike", victim.item_id, liked=False)
    assert view.feedback == {victim.item_id: False} and victim.title.split(" (")[0] in view.memory
    second = list(ctl.respond("s-dislike", "more please"))[-1]
    assert second.recommendations and victim.item_id not in {r.item_id for r in second.recommendations}


def test_feedback_for_an_item_not_on_screen_says_what_is(agent: Any) -> None:
    ctl = AppController(agent)
    with pytest.raises(ValueError, match="ask for recommendations first"):
        ctl.feedback("s-none", "101", liked=True)


def test_request_while_previous_is_streaming_is_refused_with_a_message(agent: Any) -> None:
    ctl = AppController(agent)
    running = ctl.respond("s-busy", "crime movies from the 90s")
    assert next(running).busy  # the first turn is now in flight
    overlapping = list(ctl.respond("s-busy", "romantic comedies"))
    assert "still answering" in overlapping[-1].history[-1]["content"]
    done = list(running)[-1]
    assert done.recommendations and all("Crime" in r.genres for r in done.recommendations)
    assert any("still answering" in m["content"] for m in done.history)  # the notice stays in the chat
    # and the session works afterwards ("instead": a wish that cannot combine with the earlier one replaces it)
    after = list(ctl.respond("s-busy", "romantic comedies instead"))[-1]
    assert after.recommendations and all("Romance" in r.genres for r in after.recommendations)


def test_sessions_do_not_share_memory(agent: Any) -> None:
    ctl = AppController(agent)
    a = list(ctl.respond("s-a", "horror movies"))[-1]
    b = list(ctl.respond("s-b", "animated movies"))[-1]
    a2 = list(ctl.respond("s-a", "more"))[-1]
    assert all("Horror" in r.genres for r in a.recommendations + a2.recommendations)
    assert all("Animation" in r.genres for r in b.recommendations)
    assert "Horror" in a2.memory and "Animation" not in a2.memory


# ------------------------------------------------------------------------------------- through the server
def test_empty_messages_are_answered_with_a_hint(server: AppServer) -> None:
    client = connect(server.url)
    for message in ("", "   \n\t "):
        text, state = say(client, message)
        assert "empty" in text and "watch" in text
        assert state["recommendations"] == []
    text, state = say(client, "comedies please")  # still works
    assert state["recommendations"]


def test_very_long_message_is_cut_and_the_user_told(server: AppServer) -> None:
    client = connect(server.url)
    text, state = say(client, "I want a sci-fi movie " + "with lots of space " * 5000)
    assert "characters long" in text and "first 2,000" in text
    assert state["recommendations"] and all("Sci-Fi" in r["genres"] for r in state["recommendations"])


def test_rapid_repeated_sends_in_one_session_all_get_an_answer(server: AppServer) -> None:
    client = connect(server.url)
    jobs = [client.submit("animated movies", "new user", api_name="/respond") for _ in range(6)]
    outs = [job.result(timeout=60) for job in jobs]  # none raises
    assert all(out[1] for out in outs)
    state = client.predict(api_name="/session_state")
    assert state["recommendations"] and all("Animation" in r["genres"] for r in state["recommendations"])
    text, state = say(client, "something funny")  # the session is not stuck
    assert "still answering" not in text and state["recommendations"]


def test_rapid_repeated_clicks_on_dislike(server: AppServer) -> None:
    client = connect(server.url)
    _, state = say(client, "crime movies")
    item = state["recommendations"][0]["item_id"]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: client.predict(item, False, api_name="/feedback"), range(12)))
    assert all(r["feedback"] == {item: False} for r in results)
    _, state = say(client, "more crime movies")
    assert item not in {r["item_id"] for r in state["recommendations"]}


def test_feedback_on_unknown_item_is_a_clear_error(server: AppServer) -> None:
    client = connect(server.url)
    with pytest.raises(Exception, match="not one of the recommendations on screen"):
        client.predict("nope", True, api_name="/feedback")


def test_new_conversation_clears_memory(server: AppServer) -> None:
    client = connect(server.url)
    _, state = say(client, "horror movies from the 80s")
    assert "Horror" in state["memory"]
    client.predict("3", api_name="/new_conversation")
    state = client.predict(api_name="/session_state")
    assert state["recommendations"] == [] and "Horror" not in state["memory"] and "**User:** 3" in state["memory"]


# ------------------------------------------------------------------------------------- dead LLM endpoint
def test_dead_llm_endpoint_mid_conversation_falls_back_and_says_so() -> None:
    llm = ScriptedOpenAIServer(models=("test-model",)).start()
    try:
        config = AgentConfig(model="test-model", base_url=llm.base_url, api_key="sk-test", timeout_s=3.0, max_retries=0)
        with serve_app(make_agent(config)) as srv:
            client = connect(srv.url)
            with urllib.request.urlopen(srv.url + "config", timeout=10) as resp:
                assert "LLM mode" in resp.read().decode() and "test-model" in str(client.config)  # the banner
            llm.push(
                tool_calls(("search_catalog", {"description": "space", "filters": {"genre": ["Sci-Fi"]}})),
                propose_from_tools(2, "Here are two picks from the catalogue."),
            )
            text, state = say(client, "sci-fi movies set in space")
            assert len(state["recommendations"]) == 2, text  # the model's two picks, not a deterministic fill
            assert any(t["kind"] == "tool_call" and t["name"] == "search_catalog" for t in state["trace"])  # the LLM's
            llm.stop()  # the endpoint dies mid-conversation
            text, state = say(client, "more sci-fi please")
            assert state["recommendations"], text  # the offline planner answered
            assert re.search(r"could not|unavailable", text, re.IGNORECASE) and "offline" in text, text  # says why
            assert any(t["kind"] in ("fallback", "error") for t in state["trace"])
            text, state = say(client, "and something funny")  # still working afterwards
            assert state["recommendations"]
    finally:
        llm.stop()


def test_app_module_imports_do_not_start_anything() -> None:
    # app.py only defines main(): importing it must not build an agent, import Gradio or bind a port.
    import subprocess
    import sys

    from app_helpers import REPO_ROOT

    code = (
        "import importlib.util, sys; spec = importlib.util.spec_from_file_location('app', 'app.py'); "
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); "
        "print(callable(m.main), 'gradio' in sys.modules, 'agentrec.agent.core' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["True", "False", "False"], out.stderr


def test_auth_is_required_when_set(agent: Any) -> None:
    from gradio_client import Client

    with serve_app(agent, auth=("ana", "s3cret")) as srv:
        assert srv.url.startswith("http://127.0.0.1:")
        with pytest.raises(Exception, match="login"):
            Client(srv.url, verbose=False, download_files=False, analytics_enabled=False)
        with pytest.raises(ValueError, match="Could not login"):
            Client(srv.url, auth=("ana", "wrong"), verbose=False, download_files=False, analytics_enabled=False)
        client = Client(srv.url, auth=("ana", "s3cret"), verbose=False, download_files=False, analytics_enabled=False)
        assert client.predict(api_name="/session_state")["recommendations"] == []


def test_serve_is_a_registered_command() -> None:
    from agentrec.cli import build_parser

    args = build_parser().parse_args(["serve", "--port", "8123", "--auth", "a:b"])
    assert args.command == "serve" and args.port == 8123 and args.host == "127.0.0.1"


def test_user_picker_personalises_and_switching_user_clears_memory(agent: Any) -> None:
    ctl = AppController(agent)
    first = list(ctl.respond("s-user", "horror movies", user="new user"))[-1]
    assert "new user" in first.memory and "Horror" in first.memory
    personal = list(ctl.respond("s-user", "recommend me something", user="1"))[-1]
    assert "**User:** 1" in personal.memory and "Horror" not in personal.memory  # switching user starts over
    assert "memory was cleared" in personal.history[-1]["content"]
    assert personal.recommendations


def test_old_sessions_are_evicted_and_forgotten(agent: Any) -> None:
    ctl = AppController(agent, max_sessions=2)
    for sid in ("e1", "e2", "e3"):
        list(ctl.respond(sid, "comedies"))
    assert ctl.view("e1").history == []  # evicted: a fresh screen (and the agent forgot it)
    assert ctl.view("e3").recommendations
    ctl.forget("e3")
    assert ctl.view("e3").recommendations == []


def test_controller_rejects_bad_settings(agent: Any) -> None:
    with pytest.raises(ValueError, match="max_message_chars"):
        AppController(agent, max_message_chars=0)
    with pytest.raises(ValueError, match="max_sessions"):
        AppController(agent, max_sessions=0)


def test_launch_says_when_the_port_is_taken(agent: Any) -> None:
    import socket

    from agentrec.ui.layout import build_demo, launch

    demo = build_demo(agent, max_cards=1)
    with pytest.raises(ValueError, match="port must be between"):
        launch(demo, port=0, block=False)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(RuntimeError, match="choose another port"):
            launch(demo, port=busy.getsockname()[1], block=False)


def test_unknown_user_is_named_as_such(agent: Any) -> None:
    view = list(AppController(agent).respond("s-unknown", "comedies", user="nobody"))[-1]
    assert "nobody (not in the dataset" in view.memory and "nobody" in view.history[-1]["content"]
    assert view.recommendations and all("Comedy" in r.genres for r in view.recommendations)


def test_llm_endpoint_dying_during_a_turn_falls_back_within_the_turn() -> None:
    from openai_server import delayed

    llm = ScriptedOpenAIServer(models=("test-model",)).start()
    try:
        config = AgentConfig(model="test-model", base_url=llm.base_url, api_key="sk-test", timeout_s=3.0, max_retries=0)
        ctl = AppController(make_agent(config))
        llm.push(delayed(1.0, tool_calls(("search_catalog", {"description": "crime"}))))
        turn = ctl.respond("s-dying", "crime movies")
        assert next(turn).busy  # the request is in flight
        threading.Timer(0.3, llm.stop).start()  # the endpoint dies while the LLM is "thinking"
        last = list(turn)[-1]
        assert last.recommendations and all("Crime" in r.genres for r in last.recommendations)
        assert "could not" in last.history[-1]["content"] and "offline" in last.history[-1]["content"]
        assert any(e.kind == "fallback" for e in last.trace)
    finally:
        llm.stop()


def test_analytics_are_off_whatever_the_environment(agent: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from agentrec.ui.layout import build_demo

    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "True")
    assert build_demo(agent, max_cards=1).analytics_enabled is False


def test_new_conversation_while_a_turn_streams(agent: Any) -> None:
    ctl = AppController(agent)
    turn = ctl.respond("s-reset", "horror movies")
    assert next(turn).busy
    ctl.reset("s-reset", "new user")
    last = list(turn)[-1]  # the old turn ends quietly instead of writing into the fresh conversation
    assert [m["content"] for m in last.history] == ["Started a fresh conversation for a new user."]
    assert last.recommendations == [] and "Horror" not in last.memory
    after = list(ctl.respond("s-reset", "comedies"))[-1]
    assert after.recommendations and all("Comedy" in r.genres for r in after.recommendations)


def test_llm_mode_streams_the_models_words_through_the_app() -> None:
    # The real agent against the scripted server: the final message arrives sentence by sentence (each checked
    # before it is shown, as its arguments stream) and the app shows it growing before the turn ends.
    llm = ScriptedOpenAIServer(models=("test-model",)).start()
    try:
        config = AgentConfig(model="test-model", base_url=llm.base_url, api_key="sk-test", timeout_s=10.0)
        message = "Two science fiction picks set far out in space. Both come from the catalogue. Enjoy them."
        llm.push(
            tool_calls(("search_catalog", {"description": "space", "filters": {"genre": ["Sci-Fi"]}})),
            propose_from_tools(2, message),
        )
        ctl = AppController(make_agent(config), stream_interval_s=0.0)  # every update shown (no batching)
        views = list(ctl.respond("s-llm-stream", "sci-fi set in space"))
        growing = [v.history[-1]["content"] for v in views if v.busy and v.history[-1]["content"] not in ("", "…")]
        assert len(growing) >= 2 and all(message.startswith(g.strip().replace("\\", "")) for g in growing), growing
        assert all(len(a) <= len(b) for a, b in zip(growing, growing[1:], strict=False)), growing
        assert len(growing[0]) < len(growing[-1]), growing  # shown growing, sentence by sentence
        assert not views[-1].busy and len(views[-1].recommendations) == 2
        assert "Two science fiction picks" in views[-1].history[-1]["content"]
    finally:
        llm.stop()
