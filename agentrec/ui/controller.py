"""Per-browser-session conversation logic of the chat app, on top of an ``agentrec.agent.Agent``.

No Gradio here: :mod:`agentrec.ui.layout` turns the :class:`View` snapshots this module produces into
component updates. Each browser tab (Gradio session hash) owns one :class:`UISession` — chat history,
the cards on screen, like/dislike marks, the last trace — and the agent keeps the conversation memory
under the same session id, so sessions never see each other's memory.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any

from agentrec.types import Recommendation
from agentrec.ui.answer import md_escape, reply_choices, short_answer
from agentrec.ui.cards import CardFacts, card_html
from agentrec.ui.render import banner_markdown, memory_markdown
from agentrec.ui.state import (
    NEW_USER,
    UISession,
    View,
    _clip,
    _display_title,
    _normalise_user,
    _Note,
    _trace_of,
    _with_notes,
    empty_message_notice,
)

__all__ = ["AppController", "UISession", "View", "NEW_USER"]

logger = logging.getLogger(__name__)


class AppController:
    """The chat app's behaviour, independent of the widget toolkit.

    Args:
        agent: an ``agentrec.agent.Agent`` (anything with ``stream``, ``feedback``, ``reset`` and ``mode``).
        dataset: dataset name shown in the banner.
        max_message_chars: longer messages are cut to this length (and the user is told so).
        max_sessions: the least recently used UI sessions beyond this are forgotten.
        stream_interval_s: at most one streamed UI update per this many seconds (tokens are batched).
        max_cards: recommendations kept on screen per turn (None: all the agent gives).
    """

    def __init__(
        self,
        agent: Any,
        *,
        dataset: str | None = None,
        max_message_chars: int = 2000,
        max_sessions: int = 1000,
        stream_interval_s: float = 0.05,
        max_cards: int | None = None,
    ) -> None:
        if max_message_chars < 1:
            raise ValueError(f"max_message_chars must be a positive number of characters, got {max_message_chars}")
        if max_sessions < 1:
            raise ValueError(f"max_sessions must be at least 1, got {max_sessions}")
        self.agent = agent
        self.dataset = dataset
        self.max_message_chars = max_message_chars
        self.max_sessions = max_sessions
        self.stream_interval_s = stream_interval_s
        self.max_cards = max_cards
        train = getattr(getattr(agent, "components", None), "train", None)
        self._user_ids: frozenset[str] | None = frozenset(train.user_ids) if train is not None else None
        pack = getattr(getattr(agent, "toolbox", None), "pack", None)
        self.words = (getattr(pack, "item", "item"), getattr(pack, "items", "items"))
        self.verb = str(getattr(pack, "verb", "try"))
        self.examples = tuple(getattr(pack, "examples", ()) or ())
        self.schema = getattr(getattr(agent, "toolbox", None), "schema", None)
        self._facts: CardFacts | None = None
        self._facts_lock = threading.Lock()
        self._sessions: OrderedDict[str, UISession] = OrderedDict()
        self._sessions_lock = threading.Lock()

    # ----------------------------------------------------------------------------------------- sessions
    @property
    def mode(self) -> str:
        """The agent's mode: ``"offline"`` or ``"llm:<model>"``."""
        return str(self.agent.mode)

    def banner(self) -> str:
        """Markdown naming the mode (the LLM model, or offline)."""
        return banner_markdown(self.mode, dataset=self.dataset)

    @property
    def card_facts(self) -> CardFacts | None:
        """What the cards show, read from the agent's catalogue (built once, at warm-up or on first use)."""
        with self._facts_lock:
            if self._facts is None:
                self._facts = CardFacts.for_agent(self.agent)
            return self._facts

    def card(self, rec: Recommendation, rank: int, feedback: bool | None = None) -> str:
        """The HTML card of one recommendation."""
        facts = self.card_facts
        view = facts.view(rec.item_index) if facts is not None else None
        return card_html(rec, rank=rank, feedback=feedback, view=view)

    def needs_confirmation(self, session_id: str, user: str | None) -> bool:
        """True when switching ``session_id`` to ``user`` would discard a conversation the person has had."""
        sess = self.session(session_id)
        with sess.lock:
            talked = any(m["role"] == "user" for m in sess.history)
            return talked and _normalise_user(user) != sess.user

    def same_user(self, session_id: str, user: str | None) -> bool:
        """True when ``user`` is the one the session already talks for."""
        sess = self.session(session_id)
        with sess.lock:
            return _normalise_user(user) == sess.user

    def keep_as(self, session_id: str, user: str | None) -> View:
        """Personalise the ongoing conversation for ``user`` from the next turn on, keeping what it remembers."""
        user = _normalise_user(user)
        sess = self.session(session_id)
        with sess.lock:
            if user is not None and user != sess.user:
                sess.user = user
                sess.history.append(
                    {
                        "role": "assistant",
                        "content": f"From now on I personalise for user {md_escape(user)}; "
                        "the conversation so far is kept.",
                    }
                )
            return self._snapshot(sess)

    def session(self, session_id: str) -> UISession:
        """The UI session for ``session_id`` (created on first use; least recently used ones are evicted)."""
        with self._sessions_lock:
            sess = self._sessions.get(session_id)
            if sess is None:
                sess = self._sessions[session_id] = UISession()
                while len(self._sessions) > self.max_sessions:
                    old, _ = self._sessions.popitem(last=False)
                    self._reset_agent(old)
            else:
                self._sessions.move_to_end(session_id)
            return sess

    def forget(self, session_id: str) -> None:
        """Drop a session's UI state and the agent's memory of it (the browser tab was closed)."""
        with self._sessions_lock:
            self._sessions.pop(session_id, None)
        self._reset_agent(session_id)

    def view(self, session_id: str) -> View:
        """The current snapshot of a session's screen."""
        sess = self.session(session_id)
        with sess.lock:
            return self._snapshot(sess)

    # ----------------------------------------------------------------------------------------- actions
    def reset(self, session_id: str, user: str | None = None) -> View:
        """Start a fresh conversation (for ``user``, a raw user id, or None / "new user")."""
        user = _normalise_user(user)
        sess = self.session(session_id)
        self._reset_agent(session_id)
        with sess.lock:
            sess.generation += 1
            sess.user = user
            sess.history.clear()
            sess.recommendations = []
            sess.feedback.clear()
            sess.titles.clear()
            sess.trace = []
            sess.query = None
            sess.choices = []
            who = "a new user" if user is None else f"user {md_escape(user)}"
            sess.history.append({"role": "assistant", "content": f"Started a fresh conversation for {who}."})
            return self._snapshot(sess)

    def feedback(self, session_id: str, item_id: str, liked: bool) -> View:
        """Record a like / dislike from a card; the agent remembers it for the next turns.

        Raises:
            ValueError: when ``item_id`` is not among the cards on this session's screen.
        """
        sess = self.session(session_id)
        with sess.lock:
            shown = {r.item_id: r for r in sess.recommendations}
            if item_id not in shown:
                raise ValueError(
                    f"item_id {item_id!r} is not one of the recommendations on screen; "
                    f"valid choices: {sorted(shown) or 'none (ask for recommendations first)'}"
                )
            sess.feedback[item_id] = liked
            sess.titles[item_id] = _display_title(shown[item_id])
        self.agent.feedback(session_id, item_id, liked)
        with sess.lock:
            return self._snapshot(sess)

    def selected(self, session_id: str, slot: int) -> Recommendation | None:
        """The recommendation in card slot ``slot`` (0-based), or None when the slot is empty."""
        sess = self.session(session_id)
        with sess.lock:
            return sess.recommendations[slot] if 0 <= slot < len(sess.recommendations) else None

    def respond(self, session_id: str, message: str | None, user: str | None = None) -> Iterator[View]:
        """Answer one chat message, yielding screen snapshots as the reply streams in.

        Never raises for bad input or agent failures: empty, too long or overlapping messages and errors
        from the agent (a dead LLM endpoint included) end up as a message in the chat saying what happened.
        """
        sess = self.session(session_id)
        text = (message or "").strip()
        if not text:
            with sess.lock:
                notice = empty_message_notice(self.verb, self.examples)
                sess.history.append({"role": "assistant", "content": notice})
                snap = self._snapshot(sess)
            yield snap
            return
        if not sess.turn_lock.acquire(blocking=False):
            with sess.lock:
                sess.history.append({"role": "user", "content": md_escape(_clip(text, 300))})
                sess.history.append(
                    {
                        "role": "assistant",
                        "content": "⏳ I'm still answering your previous message, so I skipped this one. "
                        "Send it again once the answer above is complete.",
                    }
                )
                snap = self._snapshot(sess)  # not busy: this request is over (the other one is not)
            yield snap
            return
        try:
            yield from self._turn(session_id, sess, text, _normalise_user(user))
        finally:
            sess.turn_lock.release()

    # ----------------------------------------------------------------------------------------- internals
    def _turn(self, session_id: str, sess: UISession, text: str, user: str | None) -> Iterator[View]:
        notes: list[str] = []
        if len(text) > self.max_message_chars:
            notes.append(
                f"Your message was {len(text):,} characters long; I read only the first "
                f"{self.max_message_chars:,}. Shorter requests work best."
            )
            text = text[: self.max_message_chars]
        if user != sess.user:
            had_history = bool(sess.history)
            self._reset_agent(session_id)
            with sess.lock:
                sess.user = user
                sess.recommendations, sess.trace, sess.query = [], [], None
                sess.feedback.clear()
            if had_history:
                notes.append(f"Switched to {'a new user' if user is None else f'user {user}'}; memory was cleared.")
        live = self.mode.startswith("llm")  # offline answers appear at once; a language model's text streams
        with sess.lock:
            sess.choices = []
            sess.history.append({"role": "user", "content": md_escape(text)})
            answer = {"role": "assistant", "content": "…"}  # updated in place (survives a reset)
            sess.history.append(answer)
            generation = sess.generation
            sess.trace = []
            snap = self._snapshot(sess, busy=True)
        yield snap
        tokens: list[str] = []
        final: str | None = None
        last_yield = time.monotonic()
        with sess.lock:  # "New conversation" may have been pressed before the turn even started
            current = sess.generation == generation
        try:
            stream = self.agent.stream(text, session=session_id, user=user) if current else iter(())
            for event in stream:
                kind = event.kind
                update: View | None = None
                with sess.lock:
                    if sess.generation != generation:
                        break  # "New conversation" was pressed meanwhile: this turn no longer has a screen
                    if kind == "token":
                        tokens.append(event.text)
                        if live:
                            answer["content"] = md_escape("".join(tokens)) or "…"
                    elif kind == "tool":
                        sess.trace.append(_trace_of(event))
                    elif kind == "recommendations" and event.data:
                        self._show(sess, list(event.data))
                    elif kind == "done":
                        final = self._finish(sess, event.data)
                    elif kind == "error":
                        notes.append(f"⚠️ {event.text}")
                        answer["content"] = _with_notes(md_escape("".join(tokens)), [md_escape(n) for n in notes])
                    now = time.monotonic()
                    # Recommendations and done are shown by the final snapshot below. A language model's tokens and
                    # tool calls stream (batched); offline, the whole turn takes milliseconds and its events arrive
                    # at once, so one update with the answer is quicker to show than a dozen partial ones.
                    streamed = live and kind in ("token", "tool") and now - last_yield >= self.stream_interval_s
                    due = kind == "error" or streamed
                    if due:
                        last_yield = now
                        update = self._snapshot(sess, busy=True)
                if update is not None:
                    yield update
        except Exception as exc:  # the app must survive any agent failure and say what happened
            logger.exception("agent turn failed for session %s", session_id)
            notes.append(
                f"⚠️ Something went wrong while answering: {type(exc).__name__}: {exc}. "
                "The conversation is still open — try again or rephrase your request."
            )
            with sess.lock:
                sess.trace.append(_Note("error", f"{type(exc).__name__}: {exc}"))
        with sess.lock:
            if sess.generation == generation:
                body = final if final is not None else md_escape("".join(tokens))
                answer["content"] = _with_notes(body, [md_escape(n) for n in notes])
            snap = self._snapshot(sess)
        yield snap

    def _finish(self, sess: UISession, reply: Any) -> str | None:
        """The finished turn's answer: a short text naming the top picks (the cards carry the rest).

        Also keeps the recommendations, trace, query and the readings offered as choices.
        """
        if reply is None:
            return None
        sess.choices = reply_choices(reply)
        if reply.recommendations or not sess.choices:  # a question keeps the cards it is about on screen
            self._show(sess, list(reply.recommendations))
        sess.trace = list(reply.trace)
        sess.query = reply.query
        return short_answer(reply, items=self.words, schema=self.schema, shown=self.max_cards)

    def _show(self, sess: UISession, recommendations: Sequence[Recommendation]) -> None:
        sess.recommendations = list(recommendations)[: self.max_cards]
        for rec in recommendations:
            sess.titles.setdefault(rec.item_id, _display_title(rec))

    def _snapshot(self, sess: UISession, busy: bool = False) -> View:
        components = getattr(self.agent, "components", None)
        catalog = getattr(components, "catalog", None) if components is not None else None
        memory = memory_markdown(
            user_id=sess.user,
            query=sess.query,
            feedback=sess.feedback,
            titles=sess.titles,
            catalog=catalog,
            known_user=self._user_ids is None or sess.user is None or sess.user in self._user_ids,
            schema=getattr(components, "schema", None),
        )
        return View(
            history=[dict(m) for m in sess.history],
            recommendations=list(sess.recommendations),
            feedback=dict(sess.feedback),
            trace=list(sess.trace),
            memory=memory,
            busy=busy,
            choices=list(sess.choices),
            user=sess.user,
        )

    def _reset_agent(self, session_id: str) -> None:
        try:
            self.agent.reset(session_id)
        except KeyError:
            pass  # the agent never saw this session
