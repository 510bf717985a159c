"""Tiny components with a held-out split for the eval-chat tests (no torch model, no vector store)."""

from __future__ import annotations

import types

import numpy as np

from agentrec.graph.paths import Explainer
from agentrec.retrieve import Retriever
from agentrec.types import Catalog, Interactions, Split

# Held out: user 0 -> "The Thing" (item 2), user 4 -> "Finding Nemo" (item 5).
HELD_OUT = ((0, 2), (4, 5))


def tiny_components(catalog: Catalog, interactions: Interactions) -> types.SimpleNamespace:
    """``tiny_interactions`` minus the held-out rows as train; the held-out rows (rated 5) as test."""
    pairs = set(HELD_OUT)
    keep = np.array(
        [(int(u), int(i)) not in pairs for u, i in zip(interactions.user_index, interactions.item_index, strict=True)]
    )
    train = interactions.subset(keep)
    users, items = zip(*HELD_OUT, strict=True)
    test = Interactions(
        user_index=np.array(users, dtype=np.int64),
        item_index=np.array(items, dtype=np.int64),
        user_ids=interactions.user_ids,
        item_ids=interactions.item_ids,
        rating=np.full(len(users), 5.0, dtype=np.float32),
    )
    return types.SimpleNamespace(
        name="tiny",
        pack="movies",  # the tiny catalogue is films
        catalog=catalog,
        train=train,
        split=Split(train=train, test=test),
        retriever=Retriever(catalog, train),
        explainer=Explainer(catalog, train),
        model=None,
        store=None,
    )
