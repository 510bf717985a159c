"""agentrec: a conversational recommender.

A GNN retriever trained on the user-item graph (with language-model item text) supplies candidates and
explanatory graph paths as tools to an LLM agent, which talks with the user, reranks and justifies
every recommendation with evidence the data contains.
"""

from typing import TYPE_CHECKING, Any

from agentrec.types import (
    Candidate,
    Catalog,
    Filters,
    GraphPath,
    Interactions,
    Item,
    Query,
    Recommendation,
    Split,
)

if TYPE_CHECKING:
    from agentrec.agent.core import Agent

__version__ = "0.1.0"

__all__ = [
    "Agent",
    "Candidate",
    "Catalog",
    "Filters",
    "GraphPath",
    "Interactions",
    "Item",
    "Query",
    "Recommendation",
    "Split",
    "__version__",
]


def __getattr__(name: str) -> Any:
    # Agent is loaded lazily so that `import agentrec` stays light for people who only train retrievers.
    if name == "Agent":
        from agentrec.agent.core import Agent

        return Agent
    raise AttributeError(f"module 'agentrec' has no attribute {name!r}")
