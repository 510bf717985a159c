"""The systems compared in the conversational evaluation: baselines and the agent, behind one small interface.

Every system sees the same simulated conversation. Baselines are the project's own candidate bus with a
single source switched on (:class:`agentrec.retrieve.Retriever`): they never repeat an item already shown in
the episode and never show the user's training items, but they understand nothing the user says except, for
semantic search, the words of every user message so far.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from agentrec.evalchat.simulator import SimUser
from agentrec.retrieve import Retriever, RetrieverConfig
from agentrec.types import Query

__all__ = ["SYSTEMS", "AgentSystem", "RetrieverSystem", "System", "TurnOutput", "build_systems"]

SYSTEMS = ("popularity", "semantic", "gnn", "agent", "agent-llm")


@dataclass
class TurnOutput:
    """What a system showed in one turn (item indices, best first) and the LLM tokens it used (all, in, out)."""

    items: list[int]
    tokens: int = 0
    notes: list[str] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0


class System(Protocol):
    """A conversational recommender under evaluation."""

    name: str

    def start(self, user: SimUser, episode: int) -> None:
        """Begin a fresh conversation with ``user``."""
        ...

    def respond(self, message: str, k: int) -> TurnOutput:
        """Answer one user message with up to ``k`` items."""
        ...


class RetrieverSystem:
    """A one-source baseline: ``"popularity"``, ``"semantic"`` (search over the conversation's words) or ``"gnn"``.

    Args:
        name: the source to switch on.
        components: ``agentrec.artifacts.Components`` (catalog, train, model, store).
    """

    def __init__(self, name: str, components: Any) -> None:
        if name not in ("popularity", "semantic", "gnn"):
            raise ValueError(f"name must be one of 'popularity', 'semantic', 'gnn', got {name!r}")
        if name == "semantic" and components.store is None:
            raise ValueError("the 'semantic' baseline needs a vector store; this catalogue has no item text")
        if name == "gnn" and components.model is None:
            raise ValueError("the 'gnn' baseline needs a trained model in the components")
        self.name = name
        self.retriever = Retriever(
            components.catalog,
            components.train,
            model=components.model if name == "gnn" else None,
            store=components.store if name == "semantic" else None,
            config=RetrieverConfig(weights={name: 1.0}),
        )
        self._user: SimUser | None = None
        self._shown: list[int] = []
        self._said: list[str] = []

    def start(self, user: SimUser, episode: int) -> None:
        """Forget the previous episode."""
        self._user, self._shown, self._said = user, [], []

    def respond(self, message: str, k: int) -> TurnOutput:
        """The source's top ``k``, leaving out what was shown already in this episode."""
        assert self._user is not None, "start() must be called first"
        self._said.append(message)
        text = " ".join(self._said) if self.name == "semantic" else ""
        res = self.retriever.retrieve(Query(text=text, user_id=self._user.user_id, seen=tuple(self._shown), k=k))
        items = [c.item_index for c in res.candidates[:k]]
        self._shown += items
        return TurnOutput(items, notes=list(res.notes))


class AgentSystem:
    """The agent (offline planner, or its LLM when ``agent.config`` has one), one fresh session per episode."""

    def __init__(self, agent: Any, name: str = "agent") -> None:
        self.agent = agent
        self.name = name
        self._session = ""
        self._user: SimUser | None = None

    def start(self, user: SimUser, episode: int) -> None:
        """Open a fresh session for the episode (the previous one is dropped)."""
        if self._session:
            self.agent.reset(self._session)
        self._session, self._user = f"evalchat-{self.name}-{episode}", user

    def respond(self, message: str, k: int) -> TurnOutput:
        """One ``agent.chat`` turn, personalised for the simulated user."""
        assert self._user is not None, "start() must be called first"
        state = self.agent.sessions.get(self._session)
        state.k = k
        reply = self.agent.chat(message, session=self._session, user=self._user.user_id)
        usage = reply.usage or {}
        tokens_in, tokens_out = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
        tokens = int(usage.get("total_tokens", 0) or tokens_in + tokens_out)
        items = [r.item_index for r in reply.recommendations[:k]]
        return TurnOutput(items, tokens, list(reply.notes), input_tokens=tokens_in, output_tokens=tokens_out)


def build_systems(names: Sequence[str], components: Any, *, agent: Any = None, llm_agent: Any = None) -> list[System]:
    """Build the named systems over ``components``.

    Args:
        names: a subset of :data:`SYSTEMS`.
        components: ``agentrec.artifacts.Components``.
        agent: the offline ``Agent`` (built from ``components`` when None and ``"agent"`` is asked for).
        llm_agent: an ``Agent`` with an LLM configured (required for ``"agent-llm"``).

    Raises:
        ValueError: for an unknown name, or ``"agent-llm"`` without an LLM agent.
    """
    bad = [n for n in names if n not in SYSTEMS]
    if bad or not names:
        raise ValueError(f"systems: unknown or empty {list(bad) or list(names)}; valid systems are {SYSTEMS}")
    out: list[System] = []
    for name in dict.fromkeys(names):
        if name == "agent":
            if agent is None:
                from agentrec.agent import Agent
                from agentrec.config import AgentConfig

                agent = Agent(components, config=AgentConfig())
            out.append(AgentSystem(agent, "agent"))
        elif name == "agent-llm":
            if llm_agent is None or not llm_agent.config.llm_enabled:
                raise ValueError(
                    "systems: 'agent-llm' needs an LLM; set AGENTREC_LLM_MODEL (and OPENAI_BASE_URL for a local "
                    "server) or leave 'agent-llm' out"
                )
            out.append(AgentSystem(llm_agent, "agent-llm"))
        else:
            out.append(RetrieverSystem(name, components))
    return out
