"""The LLM simulated user: the same protocol as :class:`RuleSimulator`, worded by an OpenAI-compatible model.

The rules decide what each message says (which attributes, which item is turned down), so both simulators
reveal the same information turn by turn; the model only phrases it, prompted with the user's liked history
and the target, and told never to name the target. A message that leaks the title is regenerated at most
``max_regenerations`` times; after that the rule-based wording is used and counted in ``fallbacks``.
"""

from __future__ import annotations

import logging
from typing import Any

from agentrec.config import AgentConfig
from agentrec.evalchat.leakage import leaks
from agentrec.evalchat.simulator import Act, RuleSimulator, SimUser, spoken_title
from agentrec.types import Catalog

__all__ = ["LLMSimulator", "check_llm_config"]

logger = logging.getLogger(__name__)

_SYSTEM = (
    "You play a person chatting with a movie recommender. You secretly want one film: {target} ({year}). "
    "NEVER write its title, any part of its title, or its sequels' titles. Films you liked before: {liked}. "
    "Write ONE short, casual message (at most two sentences) that says exactly what you are told to say, "
    "in your own words, and nothing else."
)
_ACTS = {
    "open": "Ask for a film.",
    "genre": "Say you want the genre: {v}.",
    "decade": "Say it should be from the {v}.",
    "tag": "Mention the theme or keyword: {v}.",
    "reject": "Say none of the films just shown are right.",
    "dislike": "Say you did not like {v}.",
    "liked": "Say you loved {v}.",
    "more": "Ask for something different.",
}


def check_llm_config(config: AgentConfig | None) -> AgentConfig:
    """Return ``config`` when it names a model, else raise a ValueError saying what to set."""
    if config is None or not config.llm_enabled:
        raise ValueError(
            "simulator='llm' needs an LLM endpoint: set AGENTREC_LLM_MODEL (and OPENAI_BASE_URL for a local "
            "OpenAI-compatible server, OPENAI_API_KEY for a hosted one), or use simulator='rules'"
        )
    return config


class LLMSimulator(RuleSimulator):
    """A simulated user worded by an LLM.

    Args:
        catalog: the catalogue.
        user: the simulated user and its target.
        config: the model settings (``AgentConfig`` with a model).
        chat_model: a ready LangChain chat model (built from ``config`` when None).
        seed: the episode's seed (what is said is deterministic; the wording depends on the model).
        k: a hit is the target within the first ``k`` items shown.
        max_regenerations: new tries for a message that leaks the title.
    """

    def __init__(
        self,
        catalog: Catalog,
        user: SimUser,
        config: AgentConfig | None,
        *,
        chat_model: Any = None,
        seed: int = 0,
        k: int = 10,
        max_regenerations: int = 3,
    ) -> None:
        self.config = check_llm_config(config)
        if chat_model is None:
            from agentrec.agent.llm_client import make_chat_model

            chat_model = make_chat_model(self.config)
        self.chat_model = chat_model
        self.max_regenerations = max_regenerations
        self.tokens = 0
        self.regenerations = 0
        self.fallbacks = 0
        super().__init__(catalog, user, seed=seed, k=k)

    def _say(self, acts: list[Act], attempts: int = 5) -> str:
        target = self.target
        liked = ", ".join(spoken_title(self.catalog[i].title) for i in self.user.liked[:3]) or "none given"
        system = _SYSTEM.format(target=spoken_title(target.title), year=target.year, liked=liked)
        instruction = " ".join(_ACTS[a.kind].format(v=a.value) for a in acts)
        if acts and acts[0].kind == "open":
            instruction = "Ask for a film. " + " ".join(_ACTS[a.kind].format(v=a.value) for a in acts[1:])
        messages: list[tuple[str, str]] = [("system", system), ("user", instruction)]
        for attempt in range(self.max_regenerations + 1):
            reply = self.chat_model.invoke(messages)
            usage = getattr(reply, "usage_metadata", None) or {}
            self.tokens += int(usage.get("total_tokens", 0))
            text = str(getattr(reply, "content", reply)).strip()
            if text and not leaks(text, target.title):
                self.messages.append(text)
                return text
            if attempt < self.max_regenerations:
                self.regenerations += 1
                messages += [("assistant", text), ("user", "That names the film (or is empty). Say it again WITHOUT "
                                                           "any part of its title.")]  # fmt: skip
        self.fallbacks += 1
        logger.info("LLM simulator leaked %d times; using the rule-based wording", self.max_regenerations + 1)
        return super()._say(acts, attempts)
