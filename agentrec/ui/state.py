"""The per-session screen state of the chat app and small helpers of the controller (no Gradio)."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentrec.types import Query, Recommendation
from agentrec.ui.answer import Choice, md_escape
from agentrec.ui.render import TraceLike

__all__ = ["NEW_USER", "UISession", "View", "empty_message_notice"]

NEW_USER = "new user"
"""The user-picker choice that means "no known user: personalise from this conversation only"."""


def empty_message_notice(verb: str = "watch", examples: Sequence[str] = ()) -> str:
    """What an empty message gets back: what to ask, in the domain's words."""
    shown = " or ".join(f"“{md_escape(e)}”" for e in list(examples)[:2])
    return f"Your message was empty, so there was nothing to answer. Tell me what you'd like to {verb}" + (
        f" — for example {shown}." if shown else "."
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
    choices: list[Choice] = field(default_factory=list)
    user: str | None = None


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
    choices: list[Choice] = field(default_factory=list)
    generation: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    turn_lock: threading.Lock = field(default_factory=threading.Lock)


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
