"""The chat bubble of a turn: one or two sentences and the top picks by name (the detail lives on the cards).

Also the agent's notes, and the readings it offers as clickable choices.

Built from the agent's :class:`~agentrec.agent.types.Reply` fields (recommendations, query, notes, mode); the
agent's composed text is used only for its lead (the language model's own words, or a message without
recommendations). Everything from data or the user is Markdown-escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agentrec.schema import CatalogSchema
from agentrec.types import Recommendation

__all__ = ["Choice", "md_escape", "reply_choices", "short_answer"]

_NUMBERED = re.compile(r"^\s*\d+\.\s")
_OFFLINE = "[offline mode]"
_DID_YOU_MEAN = re.compile(r"Did you mean (?P<title>.+?)\? Say yes")
_FACET_CONFLICT = re.compile(r"you asked for (?P<facet>[\w ]+?) (?P<values>[^;]+?) and also to exclude it")
_RANGE_CONFLICT = re.compile(r"the (?P<phrases>'[^;]+?') do not overlap")
# A language model's own question with readings: "Did you mean the 1979 film or the 1986 sequel?"
_OPTIONS_QUESTION = re.compile(r"\b(?:Did|Do) you mean:?\s+(?P<options>[^?\n]{3,240})\?", re.IGNORECASE)
_OPTION_SPLIT = re.compile(r",?\s+or\s+")  # only "or" separates readings: titles hold commas ("Monsters, Inc.")


@dataclass(frozen=True)
class Choice:
    """A reading the agent offers: the chip's label and the message a click sends."""

    label: str
    message: str


def md_escape(text: Any) -> str:
    """``text`` shown literally in Markdown: no emphasis, code, links, HTML, tables, maths or autolinks."""
    out = html.escape(str(text), quote=False)
    for ch in "\\`*_[]<>|~$#":
        out = out.replace(ch, "\\" + ch)
    return out.replace("://", ":\\/\\/").replace("www.", "www\\.")


def short_title(title: str, max_chars: int = 60) -> str:
    """A title cut at a word boundary (long product titles); the card shows it whole."""
    title = " ".join(title.split())
    if len(title) <= max_chars:
        return title
    return title[:max_chars].rsplit(" ", 1)[0].rstrip(" ,;:(") + "…"


def _picks(recs: Sequence[Recommendation], n: int) -> str:
    names = []
    for r in recs[:n]:
        year = f" ({r.year})" if r.year is not None and f"({r.year})" not in r.title else ""
        names.append(f"**{md_escape(short_title(r.title))}**{year}")
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def lead_text(text: str) -> str:
    """The part of a composed reply before its numbered list, without note lines and the offline tag."""
    lines = []
    for line in text.splitlines():
        if _NUMBERED.match(line):
            break
        if line.startswith("Note: "):
            continue
        lines.append(line)
    return " ".join(" ".join(lines).split()).removeprefix(_OFFLINE).strip()


def _sentences(text: str, n: int) -> str:
    parts = re.split(r"(?<=[.!?])\s+", text.strip())
    return " ".join(parts[:n]).strip()


def short_answer(
    reply: Any,
    *,
    items: tuple[str, str] = ("item", "items"),
    schema: CatalogSchema | None = None,
    max_picks: int = 3,
    shown: int | None = None,
) -> str:
    """The chat bubble for a finished turn (Markdown).

    Args:
        reply: the agent's ``Reply`` (text, recommendations, notes, query, mode).
        items: the domain's words for one / several entries ("film", "films").
        schema: the catalogue's facets, for the applied constraints in words.
        max_picks: how many top picks are named.
        shown: how many of the recommendations are on screen (None: all).
    """
    recs: list[Recommendation] = list(reply.recommendations)[:shown]
    notes = [str(n) for n in reply.notes]
    lead = lead_text(reply.text)
    if not recs:
        body = md_escape(lead or reply.text.strip() or "I found nothing that fits.")
        return _with_notes(body, [n for n in notes if n not in lead])
    mode = str(getattr(reply, "mode", "offline"))
    if mode.startswith("llm") and lead and not reply.text.lstrip().startswith(_OFFLINE):
        first = md_escape(_sentences(lead, 2))
    else:
        n = len(recs)
        query = getattr(reply, "query", None)
        what = (schema or CatalogSchema()).describe(query.filters, facets_only=True) if query is not None else ""
        first = f"Here {'is' if n == 1 else 'are'} {n} {items[0] if n == 1 else items[1]}"
        first += f" for {md_escape(what)}" if what else ""
        if query is not None and query.user_id:
            first += f", personalised for user {md_escape(query.user_id)}"
        first += "."
    word = "Top pick" if min(len(recs), max_picks) == 1 else "Top picks"
    body = f"{first} {word}: {_picks(recs, max_picks)}."
    return _with_notes(body, notes)


def _with_notes(body: str, notes: Sequence[str]) -> str:
    kept = list(dict.fromkeys(n.strip() for n in notes if n.strip()))
    if not kept:
        return body
    return body + "\n\n" + "\n".join(f"> {md_escape(n)}" for n in kept)


def reply_choices(reply: Any, *, limit: int = 4) -> list[Choice]:
    """The readings a reply offers, as choices: "Did you mean X?" -> yes; a self-contradicting request -> each side."""
    out: list[Choice] = []
    texts = [str(reply.text), *(str(n) for n in reply.notes)]
    for text in texts:
        m = _DID_YOU_MEAN.search(text)
        if m:
            out.append(Choice(f"Yes, {m.group('title')}", "yes"))
        else:
            q = _OPTIONS_QUESTION.search(text)
            options = [o.strip(" '\"“”") for o in _OPTION_SPLIT.split(q.group("options"))] if q else []
            if 2 <= len(options) <= limit and all(0 < len(o) <= 80 for o in options):
                out.extend(Choice(o, o) for o in options)
        for m in _FACET_CONFLICT.finditer(text):
            facet, values = m.group("facet").strip(), m.group("values").strip()
            out.append(Choice(f"{facet} {values}", f"{facet} {values}"))
            out.append(Choice(f"no {values}", f"no {values}"))
        for m in _RANGE_CONFLICT.finditer(text):
            for phrase in re.findall(r"'([^']+)'", m.group("phrases")):
                out.append(Choice(phrase, phrase))
    return list(dict.fromkeys(out))[:limit]
