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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentrec.types import Query, Recommendation
from agentrec.ui.render import TraceLike, banner_markdown, memory_markdown

__all__ = ["AppController", "UISession", "View", "NEW_USER"]

logger = logging.getLogger(__name__)

NEW_USER = "new user"
"""The user-picker choice that means "no known user: personalise from this conversation only"."""

EMPTY_MESSAGE_NOTICE = (
    "Your message was empty, so there was nothing to answer. Tell me what you'd like to watch — for example "
    "*“a funny animated movie from the 90s”* or *“something like Alien but less scary”*."
)


@dataclass(frozen=True)
class View:
    """A snapshot of one session's screen, handed to the UI layer (copies, safe to keep)."""

    history: list[dict[str, str]]
    recommendations: list[Recommendation]
    feedback: dict[str, bool]
    trace: list[TraceLike]
    memory: str
    busy: bool = False


@dataclass
class UISession:
    """Everything one browser session shows; guarded by ``lock`` (``busy`` by ``turn_lock``)."""

    user: str | None = None
    history: list[dict[str, str]] = field(default_factory=list)
    recommendations: list[Recommendation] = field(default_factory=list)
    feedback: dict[str, bool] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    trace: list[Any] = field(default_factory=list)
    query: Query | None = None
    generation: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    turn_lock: threading.Lock = field(default_factory=threading.Lock)


class AppController:
    """The chat app's behaviour, independent of the widget toolkit.

    Args:
        agent: an ``agentrec.agent.Agent`` (anything with ``stream``, ``feedback``, ``reset`` and ``mode``).
        dataset: dataset name shown in the banner.
        max_message_chars: longer messages are cut to this length (and the user is told so).
        max_sessions: the least recently used UI sessions beyond this are forgotten.
        stream_interval_s: at most one streamed UI update per this many seconds (tokens are batched).
    """

    def __init__(
        self,
        agent: Any,
        *,
        dataset: str | None = None,
        max_message_chars: int = 2000,
        max_sessions: int = 1000,
        stream_interval_s: float = 0.05,
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
        train = getattr(getattr(agent, "components", None), "train", None)
        self._user_ids: frozenset[str] | None = frozenset(train.user_ids) if train is not None else None
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
            who = "a new user" if user is None else f"user {user}"
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
                sess.history.append({"role": "assistant", "content": EMPTY_MESSAGE_NOTICE})
                snap = self._snapshot(sess)
            yield snap
            return
        if not sess.turn_lock.acquire(blocking=False):
            with sess.lock:
                sess.history.append({"role": "user", "content": _clip(text, 300)})
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
        with sess.lock:
            sess.history.append({"role": "user", "content": text})
            answer = {"role": "assistant", "content": "…"}  # updated in place (survives a reset)
            sess.history.append(answer)
            generation = sess.generation
            sess.trace = []
            snap = self._snapshot(sess, busy=True)
        yield snap
        tokens: list[str] = []
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
                        answer["content"] = "".join(tokens) or "…"
                    elif kind == "tool":
                        sess.trace.append(_trace_of(event))
                    elif kind == "recommendations":
                        self._show(sess, list(event.data or []))
                    elif kind == "done":
                        self._finish(sess, event.data, tokens, notes)
                        answer["content"] = _with_notes("".join(tokens), notes)
                    elif kind == "error":
                        notes.append(f"⚠️ {event.text}")
                        answer["content"] = _with_notes("".join(tokens), notes)
                    now = time.monotonic()
                    # Recommendations and done are shown by the final snapshot below; stream the rest.
                    due = kind in ("tool", "error") or (kind == "token" and now - last_yield >= self.stream_interval_s)
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
            answer["content"] = _with_notes("".join(tokens), notes)
            snap = self._snapshot(sess)
        yield snap

    def _finish(self, sess: UISession, reply: Any, tokens: list[str], notes: list[str]) -> None:
        if reply is None:
            return
        if reply.text:  # the reply's text is authoritative (streamed tokens may hold only part of it)
            tokens[:] = [reply.text]
        self._show(sess, list(reply.recommendations))
        sess.trace = list(reply.trace)
        sess.query = reply.query
        notes.extend(str(n) for n in reply.notes if str(n) not in reply.text)  # the text may already say it

    def _show(self, sess: UISession, recommendations: Sequence[Recommendation]) -> None:
        sess.recommendations = list(recommendations)
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
        )

    def _reset_agent(self, session_id: str) -> None:
        try:
            self.agent.reset(session_id)
        except KeyError:
            pass  # the agent never saw this session


@dataclass(frozen=True)
class _Note:
    """A trace line the app itself adds (an error it caught, a tool event without structured data)."""

    kind: str
    detail: str
    name: str = "app"


def _trace_of(event: Any) -> Any:
    """A live ``tool`` stream event as a trace line (the full trace replaces these when the turn is done)."""
    data = event.data
    if all(hasattr(data, a) for a in ("kind", "name", "detail")):
        return data
    name = str(data.get("name", "agent")) if isinstance(data, Mapping) else "agent"
    return _Note("tool_call", event.text, name=name)


def _normalise_user(user: str | None) -> str | None:
    if user is None:
        return None
    user = str(user).strip()
    return None if not user or user.lower() == NEW_USER else user


def _display_title(rec: Recommendation) -> str:
    if rec.year is not None and f"({rec.year})" not in rec.title:
        return f"{rec.title} ({rec.year})"
    return rec.title


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _with_notes(text: str, notes: Sequence[str]) -> str:
    body = text.strip() or "(no answer text)"
    if not notes:
        return body
    return body + "\n\n" + "\n".join(f"> {n}" for n in notes)
