"""agentrec: a conversational recommender.

A GNN retriever trained on the user-item graph (with language-model item text) supplies candidates and
explanatory graph paths as tools to an LLM agent, which talks with the user, reranks and justifies
every recommendation with evidence the data contains.
"""

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

__version__ = "0.1.0"

__all__ = [
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
