"""Candidate retrieval: one bus fusing personalised, semantic, item-to-item and popularity sources.

``Retriever.retrieve(query)`` applies hard filters exactly; see :mod:`agentrec.retrieve.filters` for
how bad and contradictory input is handled.
"""

from agentrec.retrieve.bus import DEFAULT_WEIGHTS, RetrievalResult, Retriever, RetrieverConfig
from agentrec.retrieve.filters import FacetIndex, item_passes
from agentrec.retrieve.sources import SOURCES

__all__ = [
    "DEFAULT_WEIGHTS",
    "SOURCES",
    "FacetIndex",
    "RetrievalResult",
    "Retriever",
    "RetrieverConfig",
    "item_passes",
]
