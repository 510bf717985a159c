"""Per-user profiles behind a SQLAlchemy URL: the same tests on SQLite and on a real PostgreSQL server.

The PostgreSQL server is started by the tests on 127.0.0.1 in a temporary folder (``pg_server``) and stopped
after; those cases are skipped, with the reason, only where the server binaries are not installed.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_server import missing_reason, postgres_server

from agentrec.agent.core import Agent
from agentrec.agent.profiles import ProfileStore, StoredProfile, profiles_url
from agentrec.config import profiles_url_from_env
from agentrec.graph.paths import Explainer
from agentrec.retrieve import Retriever
from agentrec.types import Catalog, Interactions

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "sub" / "profiles.sqlite")
    url: str = request.getfixturevalue("pg_url")
    store = ProfileStore(url)  # one server for the module: start each test from an empty table
    for user in store.users():
        store.delete(user)
    store.close()
    return url


@pytest.fixture
def comps(tiny_catalog: Catalog, tiny_interactions: Interactions) -> types.SimpleNamespace:
    return types.SimpleNamespace(
        name="tiny",
        pack="movies",
        catalog=tiny_catalog,
        train=tiny_interactions,
        retriever=Retriever(tiny_catalog, tiny_interactions),
        explainer=Explainer(tiny_catalog, tiny_interactions),
    )


def test_roundtrip(target: str) -> None:
    store = ProfileStore(target)
    assert store.load("u1") is None
    store.save(StoredProfile("u1", liked=("10", "20"), rejected=("30",), exclude_genres=("Horror",)))
    store.save(StoredProfile("u2", disliked=("5",), exclude={"brand": ("Duck",)}))
    again = ProfileStore(target)  # another connection pool: another conversation, process or replica
    p = again.load("u1")
    assert p is not None and p.liked == ("10", "20") and p.rejected == ("30",) and p.exclude_genres == ("Horror",)
    assert p.exclusions() == {"genre": ("Horror",)}
    q = again.load("u2")
    assert q is not None and q.disliked == ("5",) and q.exclusions() == {"brand": ("Duck",)}
    assert again.users() == ["u1", "u2"]
    again.save(StoredProfile("u1", liked=("11",)))  # an upsert replaces the row
    assert store.load("u1") == StoredProfile("u1", liked=("11",))
    again.delete("u2")
    again.delete("nobody")  # forgetting an unknown user is fine
    assert store.users() == ["u1"]
    store.close()
    again.close()


def test_concurrent_saves_from_threads(target: str) -> None:
    store = ProfileStore(target)

    def work(n: int) -> None:
        for i in range(15):
            store.save(StoredProfile(f"t{n}", liked=tuple(str(j) for j in range(i + 1))))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.users() == [f"t{n}" for n in range(6)]
    assert all(len(store.load(f"t{n}").liked) == 15 for n in range(6))  # type: ignore[union-attr]
    store.close()


def test_two_agent_replicas_share_likes(target: str, comps: types.SimpleNamespace) -> None:
    one, two = Agent(comps, profiles_path=target), Agent(comps, profiles_path=target)
    one.chat("something to watch", session="a", user="0")
    one.feedback("a", "1", liked=True)
    one.feedback("a", "5", liked=False)
    two.chat("anything", session="b", user="0")  # the same user on the other replica
    state = two.sessions.get("b")
    assert 1 in state.liked and 5 in state.disliked
    two.feedback("b", "4", liked=True)
    one.chat("more", session="c", user="0")  # and back: the first replica sees the second one's like
    assert {1, 4} <= set(one.sessions.get("c").liked)
    assert two.chat("hello", session="d", user="7") is not None and 1 not in two.sessions.get("d").liked


_OTHER_PROCESS = """
import sys
from agentrec.agent.profiles import ProfileStore, StoredProfile
store = ProfileStore(sys.argv[1])
seen = store.load("0")
print("liked:" + ",".join(seen.liked if seen else ()))
store.save(StoredProfile("0", liked=(*(seen.liked if seen else ()), "2")))
"""


def test_two_processes_see_each_others_likes(target: str, comps: types.SimpleNamespace) -> None:
    agent = Agent(comps, profiles_path=target)
    agent.chat("something to watch", session="a", user="0")
    agent.feedback("a", "1", liked=True)
    run = subprocess.run(
        [sys.executable, "-c", _OTHER_PROCESS, target], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert "liked:1" in run.stdout  # the other process read this one's like ...
    agent.chat("more", session="b", user="0")
    assert {1, 2} <= set(agent.sessions.get("b").liked)  # ... and this one reads the other's


def test_bad_targets_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a database URL SQLAlchemy can use"):
        ProfileStore("nosuchdb://somewhere/x")
    with pytest.raises(ValueError, match="profiles target is empty"):
        ProfileStore("  ")
    with pytest.raises(ValueError, match="cannot use the profiles database") as err:
        ProfileStore("postgresql://me:s3cret@127.0.0.1:1/agentrec")  # nothing listens on port 1
    assert "s3cret" not in str(err.value) and "AGENTREC_PROFILES_URL" in str(err.value)


def test_urls_and_environment(tmp_path: Path) -> None:
    assert profiles_url(tmp_path / "p.db") == f"sqlite:///{tmp_path / 'p.db'}"
    assert profiles_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert profiles_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert profiles_url("sqlite:///x.db") == "sqlite:///x.db"
    assert profiles_url_from_env({"AGENTREC_PROFILES_URL": " postgresql://u@h/db "}) == "postgresql://u@h/db"
    assert profiles_url_from_env({}) is None
    store = ProfileStore(tmp_path / "deep" / "p.db")
    assert store.path == tmp_path / "deep" / "p.db" and store.path.is_file()


def test_the_app_and_chat_take_the_profiles_url(monkeypatch) -> None:
    import argparse

    from agentrec.cli.app import add_serve_arguments, profiles_target

    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    monkeypatch.delenv("AGENTREC_PROFILES_URL", raising=False)
    assert profiles_target(parser.parse_args([])) is None  # opt-in: nothing kept unless asked
    monkeypatch.setenv("AGENTREC_PROFILES_URL", "postgresql://agentrec@db:5432/agentrec")
    assert profiles_target(parser.parse_args([])) == "postgresql://agentrec@db:5432/agentrec"
    assert profiles_target(parser.parse_args(["--profiles", "p.db"])) == "p.db"  # the flag wins
