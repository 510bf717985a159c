"""The Gradio Blocks UI of the chat app: ``build_demo(agent)`` (this module imports Gradio).

Layout: a mode banner; on the left the user picker, the streaming chat and a collapsible trace of the
agent's tool calls; on the right what the conversation remembers, the picture of a selected card's graph
paths and the recommendation cards, each with like / dislike / paths buttons. Card slots are fixed
components shown or hidden per turn, so every button has a plain event listener.

Public API endpoints (``gradio_client``): ``/respond(message, user)`` streams a turn (its fifth output is
the finished turn's ``session_state`` JSON),
``/new_conversation(user)`` starts over, ``/feedback(item_id, liked)`` likes or dislikes a shown item and
``/session_state()`` returns the session's cards and memory as JSON (what scripts and tests read).
Each browser tab or client is one session (Gradio's session hash).
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from agentrec.ui.controller import NEW_USER, AppController, View
from agentrec.ui.render import CARD_CSS, card_html, memory_markdown, trace_markdown

__all__ = ["build_demo", "launch", "view_json"]

logger = logging.getLogger(__name__)

BUSY_STATUS = "⏳ *Answering…*"

EXAMPLES = [
    "A funny animated movie for the whole family",
    "Dark sci-fi from the 80s, no horror",
    "Something like Toy Story",
]


@dataclass
class _Slot:
    box: Any  # gr.Column holding the card
    card: Any  # gr.HTML
    like: Any
    dislike: Any
    paths: Any


def view_json(view: View) -> dict[str, Any]:
    """A session snapshot as plain JSON: cards (id, title, year, genres, reason, evidence), feedback, memory."""
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
        "feedback": dict(view.feedback),
        "memory": view.memory,
        "trace": [{"kind": e.kind, "name": e.name, "detail": e.detail} for e in view.trace],
        "messages": len(view.history),
    }


def build_demo(
    agent: Any,
    *,
    dataset: str | None = None,
    user_choices: list[str] | None = None,
    max_cards: int = 10,
    concurrency_limit: int = 8,
    max_message_chars: int = 2000,
) -> gr.Blocks:
    """Build the chat app around an agent.

    Args:
        agent: an ``agentrec.agent.Agent``.
        dataset: dataset name for the banner.
        user_choices: raw user ids offered in the user picker (any id can also be typed in).
        max_cards: how many recommendation cards are shown at most.
        concurrency_limit: how many chat turns run at the same time across all sessions.
        max_message_chars: longer chat messages are cut to this length (the user is told).

    Returns:
        The ``gr.Blocks`` app (analytics off); serve it with :func:`launch`.
    """
    if max_cards < 1:
        raise ValueError(f"max_cards must be at least 1, got {max_cards}")
    if concurrency_limit < 1:
        raise ValueError(f"concurrency_limit must be at least 1, got {concurrency_limit}")

    controller = AppController(agent, dataset=dataset, max_message_chars=max_message_chars)
    # The domain's words and examples (the movie pack's for films, the product pack's for products, ...).
    pack = getattr(getattr(agent, "toolbox", None), "pack", None)
    examples = list(pack.examples) if pack is not None and pack.examples else list(EXAMPLES)
    pack_verb = pack.verb if pack is not None else "watch"
    choices = [NEW_USER] + [str(u) for u in (user_choices or [])]

    with gr.Blocks(title="agentrec — conversational recommender", analytics_enabled=False) as demo:
        gr.Markdown(controller.banner(), elem_id="agentrec-banner", elem_classes=["agentrec-banner"])
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                user = gr.Dropdown(
                    choices=choices,
                    value=NEW_USER,
                    label="Personalise for",
                    info="An existing user id from the dataset (type or pick one), or “new user”.",
                    allow_custom_value=True,
                    filterable=True,
                    elem_id="agentrec-user",
                )
                chatbot = gr.Chatbot(
                    label="Conversation",
                    height=520,
                    elem_id="agentrec-chat",
                    feedback_options=None,
                    placeholder=f"Ask for something to {pack_verb} — e.g. *{examples[0]}*.",
                )
                with gr.Row():
                    message = gr.Textbox(
                        placeholder="What would you like to watch?",
                        show_label=False,
                        lines=1,
                        max_lines=4,
                        scale=6,
                        elem_id="agentrec-message",
                    )
                    send = gr.Button("Send", variant="primary", scale=1, min_width=80, elem_id="agentrec-send")
                status = gr.Markdown("", elem_id="agentrec-status")  # "answering…" while a turn streams
                with gr.Row():
                    gr.Examples(examples, inputs=message, label="Try")
                    restart = gr.Button("New conversation", size="sm", scale=0, elem_id="agentrec-restart")
                with gr.Accordion("Agent trace: tool calls of the last turn", open=False, elem_id="agentrec-trace"):
                    trace = gr.Markdown(trace_markdown([]), elem_id="agentrec-trace-body")
            with gr.Column(scale=2, min_width=340):
                gr.Markdown("### Recommendations")
                with gr.Accordion("What I remember", open=True):
                    memory = gr.Markdown(
                        memory_markdown(user_id=None, query=None, feedback={}, titles={}), elem_id="agentrec-memory"
                    )
                paths_image = gr.Image(
                    label="Evidence paths of the selected card",
                    visible=False,
                    interactive=False,
                    buttons=["download", "fullscreen"],
                    elem_id="agentrec-paths",
                )
                paths_caption = gr.Markdown("", elem_id="agentrec-paths-caption")
                # The finished turn's cards and memory as JSON, for API clients (hidden in the page).
                state_json = gr.JSON(visible=False, elem_id="agentrec-state")
                slots: list[_Slot] = []
                for i in range(max_cards):
                    with gr.Column(visible=False, elem_classes=["agentrec-slot"]) as box:
                        card = gr.HTML("", elem_id=f"agentrec-card-{i}")
                        with gr.Row(elem_classes=["agentrec-card-actions"]):
                            like = gr.Button("👍 Like", size="sm", elem_id=f"agentrec-like-{i}")
                            dislike = gr.Button("👎 Dislike", size="sm", elem_id=f"agentrec-dislike-{i}")
                            paths = gr.Button("🔎 Paths", size="sm", elem_id=f"agentrec-paths-{i}")
                    slots.append(_Slot(box, card, like, dislike, paths))

        slot_outputs = [s.box for s in slots] + [s.card for s in slots]

        def _slot_updates(view: View, previous: list[str] | None) -> tuple[list[Any], list[str]]:
            cards = [
                card_html(r, rank=i + 1, feedback=view.feedback.get(r.item_id))
                for i, r in enumerate(view.recommendations[:max_cards])
            ]
            cards += [""] * (max_cards - len(cards))
            if previous == cards:
                return [gr.skip()] * (2 * max_cards), cards
            boxes = [gr.Column(visible=bool(c)) for c in cards]
            return boxes + cards, cards

        def respond(message_text: str, user_id: str | None, request: gr.Request) -> Iterator[list[Any]]:
            previous: list[str] | None = None
            for view in controller.respond(_sid(request), message_text, user_id):
                slot_values, previous = _slot_updates(view, previous)
                final = gr.skip() if view.busy else view_json(view)
                note = BUSY_STATUS if view.busy else ""
                yield ["", view.history, trace_markdown(view.trace), view.memory, final, note, *slot_values]

        respond_outputs = [message, chatbot, trace, memory, state_json, status, *slot_outputs]
        gr.on(
            triggers=[message.submit, send.click],
            fn=respond,
            inputs=[message, user],
            outputs=respond_outputs,
            concurrency_limit=concurrency_limit,
            concurrency_id="chat",
            show_progress="minimal",
        )

        def new_conversation(user_id: str | None, request: gr.Request) -> list[Any]:
            view = controller.reset(_sid(request), user_id)
            slot_values, _ = _slot_updates(view, None)
            return [
                view.history,
                trace_markdown(view.trace),
                view.memory,
                gr.Image(value=None, visible=False),
                "",
                *slot_values,
            ]

        reset_outputs = [chatbot, trace, memory, paths_image, paths_caption, *slot_outputs]
        restart.click(new_conversation, inputs=[user], outputs=reset_outputs)
        user.input(new_conversation, inputs=[user], outputs=reset_outputs, api_visibility="private")

        for i, slot in enumerate(slots):
            _wire_slot(controller, i, slot, memory, paths_image, paths_caption)

        def feedback(item_id: str, liked: bool, request: gr.Request) -> dict[str, Any]:
            """Like (liked=True) or dislike (liked=False) one of the items on screen, by its item id."""
            return view_json(controller.feedback(_sid(request), str(item_id), bool(liked)))

        def session_state(request: gr.Request) -> dict[str, Any]:
            """The calling session's cards, likes / dislikes, memory and last trace as JSON."""
            return view_json(controller.view(_sid(request)))

        gr.api(feedback, api_name="feedback")
        gr.api(session_state, api_name="session_state")

        def _forget(request: gr.Request) -> None:
            controller.forget(_sid(request))

        demo.unload(_forget)
    return demo


def launch(
    demo: gr.Blocks,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: tuple[str, str] | None = None,
    block: bool = True,
    max_threads: int = 40,
    inline: bool = False,
) -> str:
    """Start the app (queue on, analytics off, no share link) and return its local URL.

    Args:
        demo: the app from :func:`build_demo`.
        host: interface to bind; ``127.0.0.1`` keeps it on this machine.
        port: TCP port.
        auth: optional ``(user, password)`` the browser must log in with.
        block: keep serving until interrupted (False returns at once; stop with ``demo.close()``).
        max_threads: worker threads for the app's handlers.
        inline: also show the app in a frame under the notebook cell (Jupyter only; the frame goes blank once
            the app is closed).
    """
    if not 0 < port < 65536:
        raise ValueError(f"port must be between 1 and 65535, got {port}")
    demo.queue(default_concurrency_limit=4)
    try:
        _, url, _ = demo.launch(
            server_name=host,
            server_port=port,
            auth=auth,
            share=False,
            prevent_thread_lock=not block,
            inline=inline,
            show_error=True,
            quiet=True,  # no "share=True" hint: this app offers no public link; the CLI logs the URL
            max_threads=max_threads,
            css=CARD_CSS,
            footer_links=["api"],
            ssr_mode=False,
            mcp_server=False,
        )
    except OSError as exc:
        raise RuntimeError(f"could not serve on {host}:{port} ({exc}); choose another port with --port") from exc
    return str(url)


def _wire_slot(
    controller: AppController, i: int, slot: _Slot, memory: Any, paths_image: Any, paths_caption: Any
) -> None:
    """Listeners of card slot ``i``: like / dislike feed the agent's memory, paths shows the picture."""

    def mark(liked: bool, request: gr.Request) -> list[Any]:
        rec = controller.selected(_sid(request), i)
        if rec is None:
            return [gr.skip(), gr.skip()]
        view = controller.feedback(_sid(request), rec.item_id, liked)
        return [card_html(rec, rank=i + 1, feedback=view.feedback.get(rec.item_id)), view.memory]

    def like_card(request: gr.Request) -> list[Any]:
        return mark(True, request)

    def dislike_card(request: gr.Request) -> list[Any]:
        return mark(False, request)

    def show_paths(request: gr.Request) -> list[Any]:
        rec = controller.selected(_sid(request), i)
        if rec is None:
            return [gr.Image(value=None, visible=False), ""]
        if not rec.evidence:
            return [gr.Image(value=None, visible=False), f"**{rec.title}**: no graph path to draw for this item."]
        try:
            picture = _paths_picture(rec)
        except Exception as exc:  # a drawing failure must not break the app
            logger.exception("drawing the paths of %s failed", rec.item_id)
            return [gr.Image(value=None, visible=False), f"Could not draw the paths of **{rec.title}**: {exc}"]
        words = "\n".join(f"- {p.text}" for p in rec.evidence)
        return [gr.Image(value=picture, visible=True), f"**{rec.title}**\n{words}"]

    slot.like.click(like_card, outputs=[slot.card, memory], api_visibility="private")
    slot.dislike.click(dislike_card, outputs=[slot.card, memory], api_visibility="private")
    slot.paths.click(show_paths, outputs=[paths_image, paths_caption], api_visibility="private")


def _sid(request: Any) -> str:
    """The Gradio session hash of a request (a throwaway id for the rare call that has none)."""
    return str(request.session_hash or f"anonymous-{uuid.uuid4().hex}")


def _paths_picture(rec: Any) -> Any:
    """The PNG of a recommendation's evidence paths, as a PIL image for ``gr.Image``."""
    from PIL import Image

    from agentrec.graph.render import paths_png

    png = paths_png(list(rec.evidence))
    return Image.open(io.BytesIO(png))
