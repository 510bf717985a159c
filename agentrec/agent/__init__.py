"""The agent layer: tools over the retriever, offline planner, LLM agent, memory and output guard.

``Agent`` is exported lazily so that ``import agentrec.agent`` stays light (no langchain import).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentrec.agent.core import Agent

__all__ = ["Agent"]


def __getattr__(name: str) -> Any:
    if name == "Agent":
        from agentrec.agent.core import Agent

        return Agent
    raise AttributeError(f"module 'agentrec.agent' has no attribute {name!r}")
