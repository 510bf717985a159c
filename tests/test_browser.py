"""The app in headless Chromium (Debian's /usr/bin/chromium driven by playwright), the way a person uses it.

Type a request, see cards and an explanation, dislike a card and see it gone from the next turn, open
the trace, show a card's path picture. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("playwright")

from app_helpers import ARTIFACTS, AppServer, make_agent, serve_app, wait_for  # noqa: E402

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

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: run `make browser-deps`"),
]


@pytest.fixture(scope="module")
def server() -> Iterator[AppServer]:
    with serve_app(make_agent()) as srv:
        yield srv


@pytest.fixture
def page() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,  # playwright gives Chromium a throwaway profile directory
        )
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 1000})
        finally:
            browser.close()


def card_ids(page: Any) -> list[str]:
    return [c.get_attribute("data-item-id") for c in page.locator(".agentrec-card").all() if c.is_visible()]


def send(page: Any, message: str) -> str:
    """Type a message, press Enter, wait until the streamed answer is complete; return the answer text."""
    bots = page.locator('[data-testid="bot"]')
    status = page.locator("#agentrec-status")
    before = bots.count()
    box = page.locator("#agentrec-message textarea")
    box.fill(message)
    box.press("Enter")
    # The first streamed update adds the bot message and sets "Answering…"; the last one clears it.
    wait_for(lambda: bots.count() > before and "Answering" not in status.inner_text(), timeout=30)
    return str(bots.last.inner_text().strip())


def test_chat_cards_dislike_trace_and_paths(server: AppServer, page: Any) -> None:
    page.goto(server.url, wait_until="load")
    page.locator("#agentrec-message textarea").wait_for(state="visible", timeout=30_000)
    assert "Offline mode" in page.locator("#agentrec-banner").inner_text()

    answer = send(page, "Sci-fi movies from the 80s please")
    assert len(answer) > 20
    first = wait_for(lambda: card_ids(page))
    cards = page.locator(".agentrec-card")
    assert "Sci-Fi" in cards.first.inner_text() and page.locator(".agentrec-reason").first.inner_text().strip()
    page.screenshot(path=str(ARTIFACTS / "browser-1-cards.png"), full_page=True)

    victim = first[0]
    victim_title = page.locator(".agentrec-card .agentrec-title").first.inner_text()
    page.locator("#agentrec-dislike-0").click()
    page.locator(f".agentrec-card[data-item-id='{victim}'][data-feedback='disliked']").wait_for(timeout=10_000)
    assert victim_title.split("(")[0].split(". ", 1)[-1].strip() in page.locator("#agentrec-memory").inner_text()

    send(page, "more please")
    after = wait_for(lambda: card_ids(page) if card_ids(page) != first else None)
    assert victim not in after
    page.screenshot(path=str(ARTIFACTS / "browser-2-after-dislike.png"), full_page=True)

    page.locator("#agentrec-trace").get_by_text("Agent trace").click()
    trace = page.locator("#agentrec-trace-body")
    trace.wait_for(state="visible", timeout=10_000)
    assert "tool_call" in trace.inner_text()

    page.locator("#agentrec-paths-0").click()
    wait_for(lambda: page.locator("#agentrec-paths img").count() or "no graph path" in page.inner_text("body"))
    page.screenshot(path=str(ARTIFACTS / "browser-3-trace-and-paths.png"), full_page=True)


def test_empty_message_in_the_browser(server: AppServer, page: Any) -> None:
    page.goto(server.url, wait_until="load")
    page.locator("#agentrec-message textarea").wait_for(state="visible", timeout=30_000)
    page.locator("#agentrec-send").click()
    wait_for(
        lambda: (
            "empty" in page.locator('[data-testid="bot"]').last.inner_text()
            if page.locator('[data-testid="bot"]').count()
            else None
        )
    )
    assert card_ids(page) == []


def test_rapid_clicks_on_send_and_like_keep_the_app_working(server: AppServer, page: Any) -> None:
    page.goto(server.url, wait_until="load")
    box = page.locator("#agentrec-message textarea")
    box.wait_for(state="visible", timeout=30_000)
    box.fill("crime movies")
    for _ in range(6):  # a person hammering Send while the answer streams
        page.locator("#agentrec-send").click()
    wait_for(lambda: card_ids(page))
    for _ in range(6):
        page.locator("#agentrec-like-0").click()
    page.locator(".agentrec-card[data-feedback='liked']").first.wait_for(timeout=10_000)
    assert page.locator(".toast-body.error").count() == 0  # no error popped up
    answer = send(page, "more please")
    assert answer and card_ids(page)
