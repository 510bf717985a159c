"""Shared pieces of the offline planner: the parsed request and the clause / negation helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agentrec.agent.grammar import Request
from agentrec.agent.types import TitleMatch

__all__ = ["ParsedRequest"]

_NEGATORS = re.compile(
    r"\b(no|not|nothing|none|without|except|excluding|exclude|avoid|skip|hate|hated|dislike|disliked|never|"
    r"neither|nor|don't|dont|do not|didn't|didnt|isn't|isnt|aren't|arent|won't|less|minus|drop|remove|"
    r"other than|apart from|rather than|instead of)\b"
)
_CLAUSE_SPLIT = re.compile(r"[.;!?,]|\b(?:but|however|though|although|and|also|plus|with|yet|just|only)\b")
_NUM_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
              "ten": 10}  # fmt: skip
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
             "ninth": 9, "tenth": 10, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "6th": 6, "7th": 7,
             "8th": 8, "9th": 9, "10th": 10}  # fmt: skip
_FILLER = set(
    "a an the some any me i im i'm id i'd we us you please want wanna would like love recommend recommendation "
    "recommendations suggest suggestions give show find get looking look for something anything to see good great "
    "nice really very more another other one ones that this it is are be can could should of in on from about with "
    "and or but too so kind sort type tonight today maybe perhaps also just only similar same stuff let lets let's my "
    "mood feel feeling need what which i've ive already have has had".split()
)


@dataclass
class ParsedRequest:
    """What one message asks for. Positions (``ref_*``) are 0-based indices into the last list shown.

    Attributes:
        request: the facet constraints, soft wishes and search text (:class:`agentrec.agent.grammar.Request`).
        like_items / dislike_items / seen_items: item indices named by title.
        confirm: titles matched only loosely ("the Gorilla Glue I bought"): asked back, never assumed.
        ref_like / ref_reject / ref_seen: positions in the last list the user referred to.
        user_id: a user id named in the message ("for user 42").
        k: how many results were asked for.
        reset: the user asked to start over.
        yes: the message confirms a question ("yes", "that's the one").
        notes: how ambiguous words were read, unsupported wishes.
        mentions: the phrases recognised, for the trace.
    """

    request: Request = field(default_factory=Request)
    like_items: list[int] = field(default_factory=list)
    dislike_items: list[int] = field(default_factory=list)
    seen_items: list[int] = field(default_factory=list)
    confirm: list[TitleMatch] = field(default_factory=list)
    ref_like: list[int] = field(default_factory=list)
    ref_reject: list[int] = field(default_factory=list)
    ref_seen: list[int] = field(default_factory=list)
    user_id: str | None = None
    k: int | None = None
    reset: bool = False
    yes: bool = False
    notes: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The residual free-text intent for semantic search ("" when none)."""
        return self.request.text

    @property
    def conflicts(self) -> list[str]:
        """Contradictions inside the message (the turn is answered with a question instead)."""
        return self.request.conflicts


def _negated(text: str, start: int) -> bool:
    """True when the clause before ``start`` carries a negation."""
    prefix = text[:start]
    cut = 0
    for m in _CLAUSE_SPLIT.finditer(prefix):
        cut = m.end()
    return bool(_NEGATORS.search(prefix[cut:]))


def _negated_near(text: str, start: int, words: int = 2) -> bool:
    """True when one of the ``words`` words right before ``start`` (same clause) is a negation."""
    before = re.findall(r"[\w']+", _clause_prefix(text, start))[-words:]
    return bool(_NEGATORS.search(" ".join(before)))


def _clause_prefix(text: str, start: int) -> str:
    cut = 0
    for m in _CLAUSE_SPLIT.finditer(text[:start]):
        cut = m.end()
    return text[cut:start]


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]
