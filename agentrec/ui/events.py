"""Event wiring of the chat app's repeated widgets (card slots, choice chips) and the session JSON (Gradio)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from agentrec.ui.controller import AppController, View

__all__ = ["MAX_CHOICES", "Slot", "session_id_of", "view_json", "wire_choice", "wire_slot"]

MAX_CHOICES = 4
"""Choice chips shown at most."""


@dataclass
class Slot:
    """One card slot's components: its box, the card HTML and the like / dislike buttons."""

    box: Any  # gr.Column holding the card
    card: Any  # gr.HTML
    like: Any
    dislike: Any


def view_json(view: View) -> dict[str, Any]:
    """A session snapshot as plain JSON: cards (id, title, year, genres, reason, evidence), choices, memory."""
    return {
        "recommendations": [
            {
                "item_id": r.item_id,
                "title": r.title,
                "year": r.year,
                "genres": list(r.genres),
                "reason": r.reason,
                "evidence": [p.text for p in r.evidence],
            }
            for r in view.recommendations
        ],
        "choices": [{"label": c.label, "message": c.message} for c in view.choices],
        "feedback": dict(view.feedback),
        "memory": view.memory,
        "trace": [{"kind": e.kind, "name": e.name, "detail": e.detail} for e in view.trace],
        "messages": len(view.history),
        "user": view.user,
    }


def wire_slot(controller: AppController, i: int, slot: Slot, memory: Any) -> None:
    """Listeners of card slot ``i``: like / dislike feed the agent's memory and mark the card."""

    def mark(liked: bool, request: gr.Request) -> list[Any]:
        rec = controller.selected(session_id_of(request), i)
        if rec is None:
            return [gr.skip(), gr.skip()]
        view = controller.feedback(session_id_of(request), rec.item_id, liked)
        return [controller.card(rec, i + 1, view.feedback.get(rec.item_id)), view.memory]

    def like_card(request: gr.Request) -> list[Any]:
        return mark(True, request)

    def dislike_card(request: gr.Request) -> list[Any]:
        return mark(False, request)

    slot.like.click(like_card, outputs=[slot.card, memory], api_visibility="private")
    slot.dislike.click(dislike_card, outputs=[slot.card, memory], api_visibility="private")


def wire_choice(
    controller: AppController,
    i: int,
    button: Any,
    user: Any,
    turn: Callable[[str, str, str | None], Iterator[list[Any]]],
    outputs: list[Any],
    concurrency_limit: int,
) -> None:
    """Choice chip ``i`` sends the message of the reading it offers, as if typed."""

    def choose(user_id: str | None, request: gr.Request) -> Iterator[list[Any]]:
        sid = session_id_of(request)
        shown = controller.view(sid).choices
        if i >= len(shown):  # a stale chip (the conversation moved on): nothing to send
            yield [gr.skip()] * len(outputs)
            return
        yield from turn(sid, shown[i].message, user_id)

    button.click(
        choose,
        inputs=[user],
        outputs=outputs,
        concurrency_limit=concurrency_limit,
        concurrency_id="chat",
        show_progress="minimal",
        api_visibility="private",
    )


def session_id_of(request: Any) -> str:
    """The Gradio session hash of a request (a throwaway id for the rare call that has none)."""
    return str(request.session_hash or f"anonymous-{uuid.uuid4().hex}")
