"""The app in headless Chromium on other catalogues: hostile titles rendered safely, and a product catalogue.

- Films whose titles are Markdown, HTML, a link, maths and an autolink: every place that shows them (chat, cards,
  evidence, memory) shows the literal text; nothing runs, nothing turns italic, nothing links.
- amazon-scientific (products: category paths and brands, no genres or years): a short conversation whose cards
  show categories and brand, in the product pack's words; a request-echo path ("You asked for 'gloves'; X
  matches: gloves") never reaches a card. Uses the built artifacts of ``AGENTREC_ARTIFACTS_DIR`` (as
  ``test_agent_products.py`` does), so it is marked ``data`` and ``slow``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("playwright")

from app_helpers import (  # noqa: E402
    ARTIFACTS,
    CHROMIUM,
    AppServer,
    card_ids,
    chromium,
    make_agent,
    make_catalog,
    open_app,
    send,
    serve_app,
    wait_for,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: run `make browser-deps`"),
]

# Positions 0-5 are the sci-fi cluster of the film fixture: asking for sci-fi shows them.
HOSTILE = {
    0: "F*ck You, Goethe 2",
    1: "<script>window.__pwned = 1</script>Aliens",
    2: "`The Thing` _under_ **score**",
    3: "[Blade Runner](javascript:window.__pwned=1)",
    4: '<img src=x onerror="window.__pwned=1">Terminator',
    5: "$The Matrix$ ~~cut~~ https://evil.example/x | a | b |",
}
POSTER = "http://127.0.0.1:9/poster.jpg"  # nothing listens there: the image must load lazily, never block


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def hostile_server() -> Iterator[AppServer]:
    images = {1: {"poster_url": POSTER}, 2: {"poster_url": "javascript:window.__pwned=1"}}
    agent = make_agent(catalog=make_catalog(titles=HOSTILE, attributes=images))
    with serve_app(agent, dataset="<b>hostile</b> films") as srv:
        yield srv


def _no_markup(page: Any, scope: str) -> None:
    for tag in ("script", "em", "code", "a", "del", "h1", "table", "math", ".katex"):
        assert page.locator(f"{scope} {tag}").count() == 0, f"{tag} in {scope}"
    assert page.locator(f"{scope} img:not(.agentrec-img)").count() == 0


def test_hostile_titles_render_as_plain_text(hostile_server: AppServer, browser: Any) -> None:
    with open_app(browser, hostile_server.url) as page:
        assert "<b>hostile</b> films" in page.locator("#agentrec-banner").inner_text()
        answer = send(page, "sci-fi movies")
        wait_for(lambda: card_ids(page))
        titles = page.locator(".agentrec-title").all_inner_texts()
        shown = [t for t in HOSTILE.values() if any(t in x for x in titles)]
        assert len(shown) >= 4, titles  # the hostile films are on the cards, literally
        named = [t for t in shown if t in answer]
        assert named, answer  # and the top picks are named literally in the chat
        message = send(page, "F*ck _you_ `x` <b>bold</b> [x](http://127.0.0.1:9) more sci-fi")
        assert message and "F*ck _you_ `x` <b>bold</b>" in page.locator('[data-testid="user"]').last.inner_text()
        page.locator("#agentrec-dislike-0").click()
        page.locator(".agentrec-card[data-feedback='disliked']").first.wait_for(timeout=10_000)
        memory = page.locator("#agentrec-memory").inner_text()
        assert any(t in memory for t in HOSTILE.values()), memory
        for card in page.locator(".agentrec-card").all():  # evidence opened: the diagrams are plain text too
            if card.locator("summary").count():
                card.locator("summary").click()
        page.screenshot(path=str(ARTIFACTS / "browser-hostile.png"), full_page=True)
        for scope in ("#agentrec-chat", "#agentrec-right", "#agentrec-memory"):
            _no_markup(page, scope)
        assert page.locator("#agentrec-banner b, #agentrec-banner script").count() == 0
        assert page.evaluate("window.__pwned") is None
        # The poster: a lazy image over a placeholder; a javascript: URL is never used.
        img = page.locator(".agentrec-img")
        assert img.count() == 1 and img.get_attribute("loading") == "lazy" and img.get_attribute("src") == POSTER
        assert page.locator("[src^='javascript' i], [href^='javascript' i], [onerror]").count() == 0


# ------------------------------------------------------------------------------------- products
@pytest.fixture(scope="module")
def product_server(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    from agentrec.agent import Agent
    from agentrec.artifacts import load_components

    root = os.environ.get("AGENTREC_ARTIFACTS_DIR") or str(tmp_path_factory.mktemp("artifacts"))
    comps = load_components("amazon-scientific", data_dir=shared_data, artifacts_dir=root, show_progress=False)
    with serve_app(Agent(comps), dataset="amazon-scientific", max_cards=5, warm=True) as srv:
        yield srv


@pytest.mark.data
@pytest.mark.slow
def test_product_catalogue_conversation(product_server: AppServer, browser: Any) -> None:
    with open_app(browser, product_server.url) as page:
        assert "buy" in page.locator("#agentrec-message textarea").get_attribute("placeholder")
        answer = send(page, "3D printer filament")
        assert re.match(r"Here are \d+ products for category 3D Printing Filament", answer), answer
        wait_for(lambda: card_ids(page))
        cards = page.locator(".agentrec-card")
        first = cards.first.inner_text()
        assert "3D Printing Filament" in first and "brand" in first and ("chose it" in first or "Chosen by" in first)
        assert "Industrial & Scientific" not in page.locator(".agentrec-genres").first.inner_text()  # says nothing
        assert any("HATCHBOX" in t for t in page.locator(".agentrec-meta").all_inner_texts())
        answer = send(page, "not HATCHBOX")
        assert "not HATCHBOX" in answer
        wait_for(lambda: all("HATCHBOX" not in t for t in page.locator(".agentrec-meta").all_inner_texts()))
        if page.locator(".agentrec-card summary").count():
            page.locator(".agentrec-card summary").first.click()
        page.screenshot(path=str(ARTIFACTS / "browser-products.png"), full_page=True)

        page.locator("#agentrec-restart").click()
        wait_for(lambda: card_ids(page) == [])
        send(page, "gloves")
        wait_for(lambda: card_ids(page))
        probe = product_server.agent.chat("gloves", session="probe")  # the agent's evidence does echo the request
        assert any('You asked for "gloves"' in p.text for r in probe.recommendations for p in r.evidence)
        reasons = page.locator(".agentrec-reason").all_inner_texts()
        assert reasons and not any('You asked for "gloves"' in r for r in reasons), reasons  # ... no card does
        for path in page.locator(".agentrec-path[data-kind='semantic']").all():
            nodes = path.locator(".agentrec-node").all_inner_texts()
            assert nodes[0].casefold() != nodes[1].casefold(), nodes
