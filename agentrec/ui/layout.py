"""The Gradio Blocks UI of the chat app: ``build_demo(agent)`` (this module imports Gradio).

Layout: a mode banner; on the left the user picker (each user with a line about their taste; switching asks
before discarding a conversation), the chat (a short answer naming the top picks), the readings the agent
offers as clickable choices, the message box, examples and a collapsible trace of the agent's tool calls; on the
right the recommendation cards (facets, overview, rating, one reason, expandable evidence; like / dislike) and
what the conversation remembers. On a narrow screen the cards come right after the answer. Card and choice
slots are fixed components shown or hidden per turn, so every button has a plain event listener.

Public API endpoints (``gradio_client``): ``/respond(message, user)`` streams a turn (its fifth output is
the finished turn's ``session_state`` JSON), ``/new_conversation(user)`` starts over, ``/feedback(item_id,
liked)`` likes or dislikes a shown item and ``/session_state()`` returns the session's cards, choices and
memory as JSON (what scripts and tests read). Each browser tab or client is one session (Gradio's session hash).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from agentrec.ui.answer import md_escape
from agentrec.ui.controller import NEW_USER, AppController, View
from agentrec.ui.events import MAX_CHOICES, Slot, session_id_of, view_json, wire_choice, wire_slot
from agentrec.ui.render import memory_markdown, trace_markdown
from agentrec.ui.style import APP_CSS
from agentrec.ui.users import describe_users, user_picker_choices
from agentrec.ui.warm import warm_up

__all__ = ["build_demo", "launch", "view_json"]

logger = logging.getLogger(__name__)

BUSY_STATUS = "⏳ *Answering…*"

EXAMPLES = [
    "A funny animated movie for the whole family",
    "Dark sci-fi from the 80s, no horror",
    "Something like Toy Story",
]


def build_demo(
    agent: Any,
    *,
    dataset: str | None = None,
    user_choices: list[str] | None = None,
    max_cards: int = 10,
    concurrency_limit: int = 8,
    max_message_chars: int = 2000,
    warm: bool = False,
    progress: Callable[[str], None] | None = None,
) -> gr.Blocks:
    """Build the chat app around an agent.

    Args:
        agent: an ``agentrec.agent.Agent``.
        dataset: dataset name for the banner.
        user_choices: raw user ids offered in the user picker (any id can also be typed in).
        max_cards: how many recommendation cards are shown at most.
        concurrency_limit: how many chat turns run at the same time across all sessions.
        max_message_chars: longer chat messages are cut to this length (the user is told).
        warm: load the text encoder, indexes, card statistics and LLM client now (see
            :func:`agentrec.ui.warm.warm_up`), so that the first turn is as fast as the next ones.
        progress: receives a line per warm-up step (default: the log).

    Returns:
        The ``gr.Blocks`` app (analytics off); serve it with :func:`launch`.
    """
    if max_cards < 1:
        raise ValueError(f"max_cards must be at least 1, got {max_cards}")
    if concurrency_limit < 1:
        raise ValueError(f"concurrency_limit must be at least 1, got {concurrency_limit}")

    controller = AppController(agent, dataset=dataset, max_message_chars=max_message_chars, max_cards=max_cards)
    if warm:
        warm_up(agent, controller=controller, progress=progress)
    # The domain's words and examples (the movie pack's for films, the product pack's for products, ...).
    pack = getattr(getattr(agent, "toolbox", None), "pack", None)
    examples = list(pack.examples) if pack is not None and pack.examples else list(EXAMPLES)
    verb, items, seen = (pack.verb, pack.items, pack.seen) if pack is not None else ("watch", "films", "seen")
    ids = [str(u) for u in (user_choices or [])]
    facts = controller.card_facts if ids else None
    lines = describe_users(agent, ids, words=(items, seen), telling=facts.telling if facts else None) if ids else {}
    choices = user_picker_choices(NEW_USER, ids, lines)

    with gr.Blocks(title="agentrec — conversational recommender", analytics_enabled=False) as demo:
        gr.Markdown(controller.banner(), elem_id="agentrec-banner", elem_classes=["agentrec-banner"])
        with gr.Row(equal_height=False, elem_id="agentrec-main"):
            with gr.Column(scale=3, min_width=360, elem_id="agentrec-left"):
                user = gr.Dropdown(
                    choices=choices,
                    value=NEW_USER,
                    label="Personalise for",
                    info=f"A user of the dataset (how many {items} they have {seen}, what kinds), or “new user”.",
                    allow_custom_value=True,
                    filterable=True,
                    elem_id="agentrec-user",
                )
                with gr.Group(visible=False, elem_id="agentrec-switch") as switch_box:
                    switch_text = gr.Markdown("", elem_id="agentrec-switch-text")
                    with gr.Row():
                        switch_reset = gr.Button(
                            "Start over", variant="primary", size="sm", elem_id="agentrec-switch-reset"
                        )
                        switch_keep = gr.Button("Keep the conversation", size="sm", elem_id="agentrec-switch-keep")
                        switch_cancel = gr.Button("Cancel", size="sm", elem_id="agentrec-switch-cancel")
                chatbot = gr.Chatbot(
                    label="Conversation",
                    height=440,
                    elem_id="agentrec-chat",
                    feedback_options=None,
                    latex_delimiters=[],  # a "$" in a title is a dollar sign, not maths
                    placeholder=f"Ask for something to {verb} — e.g. *{md_escape(examples[0])}*.",
                )
                with gr.Row(visible=False, elem_id="agentrec-choices") as choice_row:
                    choice_buttons = [
                        gr.Button(
                            "",
                            size="sm",
                            visible=False,
                            elem_id=f"agentrec-choice-{i}",
                            elem_classes=["agentrec-choice"],
                        )
                        for i in range(MAX_CHOICES)
                    ]
                with gr.Row(elem_id="agentrec-input"):
                    message = gr.Textbox(
                        placeholder=f"What would you like to {verb}?",
                        show_label=False,
                        lines=1,
                        max_lines=4,
                        scale=6,
                        elem_id="agentrec-message",
                    )
                    send = gr.Button("Send", variant="primary", scale=1, min_width=80, elem_id="agentrec-send")
                status = gr.Markdown("", elem_id="agentrec-status")  # "answering…" while a turn streams
                with gr.Row(elem_id="agentrec-examples"):
                    gr.Examples(examples, inputs=message, label="Try")
                    restart = gr.Button("New conversation", size="sm", scale=0, elem_id="agentrec-restart")
                with gr.Accordion("Agent trace: tool calls of the last turn", open=False, elem_id="agentrec-trace"):
                    trace = gr.Markdown(trace_markdown([]), elem_id="agentrec-trace-body")
            with gr.Column(scale=2, min_width=320, elem_id="agentrec-right"):
                gr.Markdown(f"### Recommended {items}", elem_id="agentrec-cards-title")
                slots: list[Slot] = []
                for i in range(max_cards):
                    # Always rendered (mounting ten cards on the first answer costs a visible moment); CSS hides
                    # a slot while it holds no card.
                    with gr.Column(elem_classes=["agentrec-slot"]) as box:
                        card = gr.HTML("", elem_id=f"agentrec-card-{i}", padding=False)
                        with gr.Row(elem_classes=["agentrec-card-actions"]):
                            like = gr.Button("👍 Like", size="sm", elem_id=f"agentrec-like-{i}")
                            dislike = gr.Button("👎 Dislike", size="sm", elem_id=f"agentrec-dislike-{i}")
                    slots.append(Slot(box, card, like, dislike))
                with gr.Accordion("What I remember", open=True, elem_id="agentrec-memory-box"):
                    memory = gr.Markdown(
                        memory_markdown(user_id=None, query=None, feedback={}, titles={}), elem_id="agentrec-memory"
                    )
                # The finished turn's cards and memory as JSON, for API clients (hidden in the page).
                state_json = gr.JSON(visible=False, elem_id="agentrec-state")

        slot_outputs = [s.card for s in slots]
        choice_outputs = [choice_row, *choice_buttons]

        def _slot_updates(view: View) -> list[Any]:
            cards = [
                controller.card(r, i + 1, view.feedback.get(r.item_id))
                for i, r in enumerate(view.recommendations[:max_cards])
            ]
            return cards + [""] * (max_cards - len(cards))

        def _choice_updates(view: View) -> list[Any]:
            shown = view.choices[:MAX_CHOICES]
            buttons = [
                gr.Button(value=shown[i].label, visible=True) if i < len(shown) else gr.Button(visible=False)
                for i in range(MAX_CHOICES)
            ]
            return [gr.Row(visible=bool(shown)), *buttons]

        def _turn(sid: str, message_text: str, user_id: str | None) -> Iterator[list[Any]]:
            for view in controller.respond(sid, message_text, user_id):
                if view.busy:  # while answering: the chat, the trace and the status line only
                    skips = [gr.skip()] * (len(choice_outputs) + len(slot_outputs))
                    yield ["", view.history, trace_markdown(view.trace), gr.skip(), gr.skip(), BUSY_STATUS, *skips]
                    continue
                slot_values = _slot_updates(view)
                chips = _choice_updates(view)
                yield [
                    "",
                    view.history,
                    trace_markdown(view.trace),
                    view.memory,
                    view_json(view),
                    "",
                    *chips,
                    *slot_values,
                ]

        def respond(message_text: str, user_id: str | None, request: gr.Request) -> Iterator[list[Any]]:
            yield from _turn(session_id_of(request), message_text, user_id)

        respond_outputs = [message, chatbot, trace, memory, state_json, status, *choice_outputs, *slot_outputs]
        gr.on(
            triggers=[message.submit, send.click],
            fn=respond,
            inputs=[message, user],
            outputs=respond_outputs,
            concurrency_limit=concurrency_limit,
            concurrency_id="chat",
            show_progress="minimal",
        )
        for i, button in enumerate(choice_buttons):
            wire_choice(controller, i, button, user, _turn, respond_outputs, concurrency_limit)

        def new_conversation(user_id: str | None, request: gr.Request) -> list[Any]:
            view = controller.reset(session_id_of(request), user_id)
            slot_values = _slot_updates(view)
            return [view.history, trace_markdown(view.trace), view.memory, gr.Group(visible=False),
                    *_choice_updates(view), *slot_values]  # fmt: skip

        reset_outputs = [chatbot, trace, memory, switch_box, *choice_outputs, *slot_outputs]
        restart.click(new_conversation, inputs=[user], outputs=reset_outputs)
        switch_reset.click(new_conversation, inputs=[user], outputs=reset_outputs, api_visibility="private")

        def pick_user(user_id: str | None, request: gr.Request) -> list[Any]:
            """A new pick: ask first when it would discard a conversation, else start fresh for that user."""
            sid = session_id_of(request)
            if not str(user_id or "").strip() or controller.same_user(sid, user_id):
                return [gr.skip()] * (len(reset_outputs) + 2)  # the text was cleared, or nothing changed
            if not controller.needs_confirmation(sid, user_id):
                return [*new_conversation(user_id, request), gr.skip(), gr.skip()]
            who = "a new user" if not user_id or user_id == NEW_USER else f"user {user_id}"
            text = f"**Switch to {md_escape(who)}?** Starting over clears this conversation and what it remembers."
            keep = bool(user_id) and user_id != NEW_USER  # a known user can take over the conversation as it is
            kept = [gr.skip()] * (len(choice_outputs) + len(slot_outputs))
            return [gr.skip(), gr.skip(), gr.skip(), gr.Group(visible=True), *kept, text, gr.Button(visible=keep)]

        user.input(
            pick_user, inputs=[user], outputs=[*reset_outputs, switch_text, switch_keep], api_visibility="private"
        )

        def keep_conversation(user_id: str | None, request: gr.Request) -> list[Any]:
            view = controller.keep_as(session_id_of(request), user_id)
            return [view.history, view.memory, gr.Group(visible=False)]

        switch_keep.click(
            keep_conversation, inputs=[user], outputs=[chatbot, memory, switch_box], api_visibility="private"
        )

        def cancel_switch(request: gr.Request) -> list[Any]:
            view = controller.view(session_id_of(request))
            return [gr.Dropdown(value=view.user or NEW_USER), gr.Group(visible=False)]

        switch_cancel.click(cancel_switch, outputs=[user, switch_box], api_visibility="private")

        for i, slot in enumerate(slots):
            wire_slot(controller, i, slot, memory)

        def feedback(item_id: str, liked: bool, request: gr.Request) -> dict[str, Any]:
            """Like (liked=True) or dislike (liked=False) one of the items on screen, by its item id."""
            return view_json(controller.feedback(session_id_of(request), str(item_id), bool(liked)))

        def session_state(request: gr.Request) -> dict[str, Any]:
            """The calling session's cards, choices, likes / dislikes, memory and last trace as JSON."""
            return view_json(controller.view(session_id_of(request)))

        gr.api(feedback, api_name="feedback")
        gr.api(session_state, api_name="session_state")

        def _forget(request: gr.Request) -> None:
            controller.forget(session_id_of(request))

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
    warm_request: bool = False,
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
        warm_request: send one request through the server before returning (or blocking): the server's own
            first-event costs (about a second on a small machine) are then paid before anyone asks.
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
            prevent_thread_lock=True,
            inline=inline,
            show_error=True,
            quiet=True,  # no "share=True" hint: this app offers no public link; the CLI logs the URL
            max_threads=max_threads,
            css=APP_CSS,
            footer_links=["api"],
            ssr_mode=False,
            mcp_server=False,
        )
    except OSError as exc:
        raise RuntimeError(f"could not serve on {host}:{port} ({exc}); choose another port with --port") from exc
    if warm_request:
        _first_request(str(url), auth)
    if block:
        demo.block_thread()
    return str(url)


def _first_request(url: str, auth: tuple[str, str] | None) -> None:
    """One empty chat message through the running server, as a browser would send it (errors are only logged)."""
    httpx_log = logging.getLogger("httpx")
    level = httpx_log.level
    httpx_log.setLevel(logging.WARNING)  # the client's own request lines say nothing to the person starting the app
    try:
        from gradio_client import Client

        client = Client(url, auth=auth, verbose=False, download_files=False, analytics_enabled=False)
        client.predict("", NEW_USER, api_name="/respond")
        client.close()
    except Exception as exc:  # the app serves anyway; only its first turn is slower
        logger.warning("the warm-up request to %s failed (%s: %s)", url, type(exc).__name__, exc)
    finally:
        httpx_log.setLevel(level)
