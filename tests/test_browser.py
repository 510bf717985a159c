"""The app in headless Chromium (Debian's /usr/bin/chromium driven by playwright), the way a person uses it.

One server and one browser for the module; each test opens its own page (its own session). Covered: a short
answer that names the top picks and leaves the detail to the cards; cards with facets, rating and readable
evidence diagrams; dislike; the trace; empty and hammered input; switching user (asks first); a choice chip;
a narrow window (cards right after the answer). Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
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
    open_app,
    send,
    serve_app,
    wait_answer,
    wait_for,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: run `make browser-deps`"),
]


@pytest.fixture(scope="module")
def server() -> Iterator[AppServer]:
    with serve_app(make_agent()) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture
def page(server: AppServer, browser: Any) -> Iterator[Any]:
    with open_app(browser, server.url) as p:
        yield p


def test_short_answer_cards_evidence_dislike_and_trace(page: Any) -> None:
    assert "Offline mode" in page.locator("#agentrec-banner").inner_text()
    answer = send(page, "I liked Termnator")
    first = wait_for(lambda: card_ids(page))
    cards = page.locator(".agentrec-card")
    titles = [t.split(". ", 1)[1].rsplit(" (", 1)[0] for t in page.locator(".agentrec-title").all_inner_texts()]
    # The answer: at most two sentences and the top three picks by name; the detail is on the cards only.
    assert answer.startswith(f"Here are {len(first)} films") and "Top picks:" in answer
    assert [t for t in titles if re.search(rf"\b{re.escape(t)}\b(?!s)", answer)] == titles[:3]
    for reason in page.locator(".agentrec-reason").all_inner_texts():
        assert reason.strip() and reason.strip() not in answer
    assert "Genre" not in answer and "people" not in answer
    text = cards.first.inner_text()
    assert "Sci-Fi" in text and "★" in text and "also liked" in text  # facets, rating, a real reason
    # Evidence: collapsed; opened it is a diagram whose labels are readable (>= 11 px) at card width.
    cards.first.locator("summary").click()
    nodes = cards.first.locator(".agentrec-node")
    nodes.first.wait_for(state="visible", timeout=10_000)
    sizes = nodes.evaluate_all("els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
    assert sizes and min(sizes) >= 11
    box, card_box = nodes.last.bounding_box(), cards.first.bounding_box()
    assert box["x"] + box["width"] <= card_box["x"] + card_box["width"] + 1  # wrapped inside the card
    page.screenshot(path=str(ARTIFACTS / "browser-1-cards.png"), full_page=True)

    victim = first[0]
    page.locator("#agentrec-dislike-0").click()
    page.locator(f".agentrec-card[data-item-id='{victim}'][data-feedback='disliked']").wait_for(timeout=10_000)
    assert titles[0] in page.locator("#agentrec-memory").inner_text()
    send(page, "more please")
    after = wait_for(lambda: card_ids(page) if card_ids(page) != first else None)
    assert victim not in after

    page.locator("#agentrec-trace").get_by_text("Agent trace").click()
    trace = page.locator("#agentrec-trace-body")
    trace.wait_for(state="visible", timeout=10_000)
    assert "tool_call" in trace.inner_text()


def test_empty_message_and_hammered_buttons(page: Any) -> None:
    page.locator("#agentrec-send").click()
    wait_for(lambda: page.locator('[data-testid="bot"]').count())
    assert "empty" in page.locator('[data-testid="bot"]').last.inner_text() and card_ids(page) == []
    box = page.locator("#agentrec-message textarea")
    box.fill("crime movies")
    for _ in range(6):  # a person hammering Send while the answer streams
        page.locator("#agentrec-send").click()
    wait_for(lambda: card_ids(page))
    for _ in range(6):
        page.locator("#agentrec-like-0").click()
    page.locator(".agentrec-card[data-feedback='liked']").first.wait_for(timeout=10_000)
    assert page.locator(".toast-body.error").count() == 0  # no error popped up
    assert send(page, "more please") and card_ids(page)


def _pick_user(page: Any, nth: int) -> str:
    """Open the user picker and pick its ``nth`` user (0: the first after "new user"); return the label."""
    dropdown = page.locator("#agentrec-user input")
    dropdown.fill("")
    dropdown.click()
    option = page.locator("ul[role='listbox'] li", has_text=re.compile(r"user \d+ —")).nth(nth)
    label = option.inner_text().strip()
    option.click()
    return label


def test_user_picker_describes_users_and_asks_before_discarding(page: Any) -> None:
    page.locator("#agentrec-user input").click()
    options = page.locator("ul[role='listbox'] li").all_inner_texts()
    assert any(re.match(r"\s*user \d+ — \d+ films seen · mostly \w", o) for o in options), options[:3]
    page.keyboard.press("Escape")
    send(page, "horror movies")
    label = _pick_user(page, 0)
    uid = label.split()[1]
    confirm = page.locator("#agentrec-switch-text")
    confirm.wait_for(state="visible", timeout=10_000)
    assert f"Switch to user {uid}?" in confirm.inner_text()
    page.locator("#agentrec-switch-cancel").click()
    confirm.wait_for(state="hidden", timeout=10_000)
    wait_for(lambda: "new user" in page.locator("#agentrec-user input").input_value())
    assert "horror movies" in page.locator("#agentrec-chat").inner_text()  # nothing was discarded
    _pick_user(page, 0)
    confirm.wait_for(state="visible", timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "browser-2-switch-user.png"), full_page=True)
    page.locator("#agentrec-switch-reset").click()
    wait_for(lambda: f"fresh conversation for user {uid}" in page.locator("#agentrec-chat").inner_text())
    assert "horror movies" not in page.locator("#agentrec-chat").inner_text()
    assert f"User: {uid}" in page.locator("#agentrec-memory").inner_text()


def test_a_choice_chip_answers_the_question(page: Any) -> None:
    send(page, "crime movies")
    answer = send(page, "comedy but not comedy")
    assert "Which one did you mean?" in answer
    chip = page.locator("#agentrec-choice-1")
    chip.wait_for(state="visible", timeout=10_000)
    assert (
        chip.inner_text().strip() == "no Comedy" and page.locator("#agentrec-choice-0").inner_text() == "genre Comedy"
    )
    before = page.locator('[data-testid="bot"]').count()
    chip.click()
    answer = wait_answer(page, before)
    assert "not Comedy" in answer
    assert page.locator('[data-testid="user"]').last.inner_text().strip() == "no Comedy"
    chips = page.locator(".agentrec-genres").all_inner_texts()
    assert chips and all("Comedy" not in c for c in chips)
    assert not page.locator("#agentrec-choices").is_visible()


def test_narrow_window_puts_cards_right_after_the_answer(server: AppServer, browser: Any) -> None:
    with open_app(browser, server.url, width=390, height=844) as page:
        send(page, "animated movies")
        wait_for(lambda: card_ids(page))
        chat = page.locator("#agentrec-chat").bounding_box()
        card = page.locator(".agentrec-slot").first.bounding_box()
        box = page.locator("#agentrec-message").bounding_box()
        examples = page.locator("#agentrec-examples").bounding_box()
        assert chat["y"] + chat["height"] <= card["y"] < box["y"] < examples["y"]
        assert card["width"] <= 390
        page.screenshot(path=str(ARTIFACTS / "browser-3-narrow.png"), full_page=True)
