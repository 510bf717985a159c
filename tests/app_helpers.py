"""Test harness of the chat app: a small real dataset, a real Agent over it, and the app on a free port.

The dataset is 30 well-known films (real titles, years and MovieLens genres) and 48 users in four taste
clusters, so the real Retriever and Explainer give non-trivial candidates and co-interaction paths without
built artifacts or torch models. The app runs in a thread of the test process, bound to 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import socket
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agentrec.config import AgentConfig
from agentrec.types import Catalog, Interactions, Item

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO_ROOT / "test-artifacts"

# (title, year, genres, tags, overview) — cluster = position // 8 (sci-fi/horror, animation, crime, romance)
FILMS: list[tuple[str, int, tuple[str, ...], tuple[str, ...], str]] = [
    ("Alien", 1979, ("Horror", "Sci-Fi"), ("space", "creature"), "A crew meets a deadly alien."),
    ("Aliens", 1986, ("Action", "Sci-Fi"), ("space", "marines"), "Marines fight aliens."),
    ("The Thing", 1982, ("Horror", "Sci-Fi"), ("antarctica",), "A shape-shifter in the ice."),
    ("Blade Runner", 1982, ("Sci-Fi", "Thriller"), ("dystopia", "android"), "A hunter of androids."),
    ("The Terminator", 1984, ("Action", "Sci-Fi"), ("robot", "time travel"), "A cyborg from the future."),
    ("The Matrix", 1999, ("Action", "Sci-Fi"), ("simulation",), "Reality is a simulation."),
    ("Predator", 1987, ("Action", "Sci-Fi", "Thriller"), ("jungle", "creature"), "A hunter in the jungle."),
    ("Inception", 2010, ("Action", "Sci-Fi"), ("dreams", "heist"), "Thieves enter dreams."),
    ("Toy Story", 1995, ("Animation", "Children", "Comedy"), ("pixar", "toys"), "Toys come alive."),
    ("Shrek", 2001, ("Animation", "Children", "Comedy"), ("fairy tale",), "An ogre rescues a princess."),
    ("Finding Nemo", 2003, ("Animation", "Children", "Adventure"), ("ocean", "pixar"), "A fish finds his son."),
    ("The Lion King", 1994, ("Animation", "Children", "Drama"), ("africa",), "A lion cub grows up."),
    ("Aladdin", 1992, ("Animation", "Children", "Comedy"), ("genie", "magic"), "A thief finds a genie."),
    ("Monsters, Inc.", 2001, ("Animation", "Children", "Comedy"), ("pixar", "monsters"), "Monsters scare kids."),
    ("Up", 2009, ("Animation", "Adventure", "Drama"), ("pixar", "balloons"), "A house flies away."),
    ("Spirited Away", 2001, ("Animation", "Fantasy"), ("anime", "spirits"), "A girl in a spirit world."),
    ("The Godfather", 1972, ("Crime", "Drama"), ("mafia", "family"), "A crime family's patriarch."),
    ("Goodfellas", 1990, ("Crime", "Drama"), ("mafia",), "Life in the mob."),
    ("Pulp Fiction", 1994, ("Comedy", "Crime", "Drama"), ("nonlinear",), "Criminal lives intertwine."),
    ("Heat", 1995, ("Action", "Crime", "Drama"), ("heist", "los angeles"), "A detective and a thief."),
    ("Reservoir Dogs", 1992, ("Crime", "Thriller"), ("heist",), "A heist gone wrong."),
    ("Fargo", 1996, ("Comedy", "Crime", "Drama"), ("snow", "kidnapping"), "A kidnapping in the snow."),
    ("Se7en", 1995, ("Crime", "Mystery", "Thriller"), ("serial killer",), "Two detectives hunt a killer."),
    ("The Departed", 2006, ("Crime", "Drama", "Thriller"), ("undercover", "boston"), "Moles in the police."),
    ("Casablanca", 1942, ("Drama", "Romance"), ("war", "classic"), "Old flames meet in wartime."),
    ("Titanic", 1997, ("Drama", "Romance"), ("ship", "disaster"), "Love on a doomed ship."),
    ("Notting Hill", 1999, ("Comedy", "Romance"), ("london", "actress"), "A bookseller meets a star."),
    ("Amélie", 2001, ("Comedy", "Romance"), ("paris",), "A shy waitress helps others."),
    ("Before Sunrise", 1995, ("Drama", "Romance"), ("vienna", "train"), "Two strangers talk all night."),
    ("La La Land", 2016, ("Comedy", "Drama", "Musical", "Romance"), ("los angeles", "jazz"), "Dreamers in LA."),
]


def make_catalog(
    titles: Mapping[int, str] | None = None, attributes: Mapping[int, Mapping[str, Any]] | None = None
) -> Catalog:
    """The 30 films as a Catalog (item ids "101", ...); ``titles`` / ``attributes`` replace or add by position."""
    titles, attributes = titles or {}, attributes or {}
    return Catalog(
        items=tuple(
            Item(str(101 + i), titles.get(i, title), year, genres, tags, overview, dict(attributes.get(i, {})))
            for i, (title, year, genres, tags, overview) in enumerate(FILMS)
        )
    )


def make_interactions(seed: int = 0) -> Interactions:
    """48 users (ids "1".."48") in four clusters of 12; each likes 5 of its cluster's films and 1 other."""
    rng = np.random.default_rng(seed)
    users: list[int] = []
    items: list[int] = []
    for u in range(48):
        cluster = u % 4
        lo, hi = 8 * cluster, min(8 * cluster + 8, len(FILMS))
        own = rng.choice(hi - lo, size=5, replace=False) + lo
        other = rng.integers(0, 30)
        for i in sorted({*own.tolist(), int(other)}):
            users.append(u)
            items.append(int(i))
    catalog = make_catalog()
    return Interactions(
        user_index=np.array(users, dtype=np.int64),
        item_index=np.array(items, dtype=np.int64),
        user_ids=tuple(str(u + 1) for u in range(48)),
        item_ids=tuple(it.item_id for it in catalog.items),
        rating=np.full(len(users), 4.5, dtype=np.float32),
    )


@dataclass
class FilmComponents:
    """The pieces an Agent works on (as ``agentrec.artifacts.Components`` holds them for a built dataset)."""

    catalog: Catalog
    train: Interactions
    retriever: Any
    explainer: Any
    pack: str = "movies"  # the domain pack the agent speaks with: these are films


def make_components(catalog: Catalog | None = None) -> FilmComponents:
    """Real Retriever (co-interaction + popularity sources) and Explainer over the film dataset."""
    from agentrec.graph.paths import Explainer
    from agentrec.retrieve import Retriever

    catalog, train = catalog or make_catalog(), make_interactions()
    return FilmComponents(catalog, train, Retriever(catalog, train), Explainer(catalog, train))


def make_agent(config: AgentConfig | None = None, *, catalog: Catalog | None = None) -> Any:
    """A real ``agentrec.agent.Agent`` over the film dataset (offline unless ``config`` names a model)."""
    from agentrec.agent import Agent

    return Agent(make_components(catalog), config=config or AgentConfig())


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class AppServer:
    url: str
    demo: Any
    agent: Any


@contextlib.contextmanager
def serve_app(
    agent: Any,
    *,
    concurrency_limit: int = 8,
    max_cards: int = 6,
    auth: tuple[str, str] | None = None,
    dataset: str = "films (test)",
    **kwargs: Any,
) -> Iterator[AppServer]:
    """Run the real app for ``agent`` on a free 127.0.0.1 port (default host); close it afterwards."""
    from agentrec.cli.app import user_choices
    from agentrec.ui.layout import build_demo, launch

    with tempfile.TemporaryDirectory(prefix="gradio-") as tmp, pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRADIO_TEMP_DIR", tmp)  # path pictures are cached here, not in the shared /tmp/gradio
        demo = build_demo(
            agent,
            dataset=dataset,
            user_choices=user_choices(agent, 10),
            max_cards=max_cards,
            concurrency_limit=concurrency_limit,
            **kwargs,
        )
        port = free_port()
        url = launch(demo, port=port, auth=auth, block=False)
        try:
            yield AppServer(url=url.rstrip("/") + "/", demo=demo, agent=agent)
        finally:
            demo.close()


def wait_for(predicate: Any, timeout: float = 20.0, interval: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


# ------------------------------------------------------------------------------------------- browser
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
]


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium driven by playwright (one per test module; pages are cheap)."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def open_app(browser: Any, url: str, *, width: int = 1400, height: int = 1000) -> Iterator[Any]:
    """A fresh page (its own Gradio session) on the app, ready for a message."""
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.goto(url, wait_until="load")
        page.locator("#agentrec-message textarea").wait_for(state="visible", timeout=30_000)
        yield page
    finally:
        context.close()


def card_ids(page: Any) -> list[str]:
    """The item ids of the visible cards, in order (read in one step: cards re-render while a turn ends)."""
    js = "els => els.filter(e => e.getClientRects().length > 0).map(e => e.dataset.itemId)"
    return list(page.locator(".agentrec-card").evaluate_all(js))


def send(page: Any, message: str) -> str:
    """Type a message, press Enter, wait until the answer is complete; return the answer text."""
    bots = page.locator('[data-testid="bot"]')
    before = bots.count()
    box = page.locator("#agentrec-message textarea")
    box.fill(message)
    box.press("Enter")
    return wait_answer(page, before)


def wait_answer(page: Any, before: int) -> str:
    """Wait for a new, complete bot message (the status line says "Answering…" until the turn ends)."""
    bots = page.locator('[data-testid="bot"]')
    status = page.locator("#agentrec-status")
    wait_for(lambda: bots.count() > before and "Answering" not in status.inner_text(), timeout=30)
    return str(bots.last.inner_text().strip())
