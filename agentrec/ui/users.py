"""One line about each user of the picker: how many items they chose and the facet values they chose most."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from agentrec.schema import CatalogSchema

__all__ = ["describe_users", "user_picker_choices"]


def _main_facet(schema: CatalogSchema) -> str | None:
    """The facet that best sums up a taste: the first multi-valued categorical one (genre, category), else any."""
    cats = [f for f in schema.facets if f.kind == "categorical" and f.filterable and f.name != "tag"]
    multi = [f for f in cats if f.multi]
    best = multi or cats
    return best[0].name if best else None


def describe_users(
    agent: Any,
    user_ids: Sequence[str],
    *,
    words: tuple[str, str] = ("items", "chose"),
    top: int = 3,
    telling: Any = None,
) -> dict[str, str]:
    """``user id -> "412 films seen · mostly Drama, Comedy, Thriller"`` for the given users of the training data.

    Args:
        agent: an ``Agent`` (its components' ``train``, ``catalog`` and schema are read).
        user_ids: raw user ids; ids not in the training data are left out.
        words: the domain's plural noun and past verb ("films", "seen"; "products", "bought").
        top: how many facet values are named.
        telling: optional ``(facet, values) -> values`` that drops values most of the catalogue shares.
    """
    components = agent.components
    train, catalog = components.train, components.catalog
    schema = getattr(getattr(agent, "toolbox", None), "schema", None) or CatalogSchema.from_catalog(catalog)
    facet = _main_facet(schema)
    index = {u: i for i, u in enumerate(train.user_ids)}
    wanted = {index[u]: u for u in user_ids if u in index}
    if not wanted:
        return {}
    order = np.argsort(train.user_index, kind="stable")
    bounds = np.searchsorted(train.user_index[order], np.arange(train.num_users + 1))
    out: dict[str, str] = {}
    for u, uid in wanted.items():
        items = train.item_index[order[bounds[u] : bounds[u + 1]]]
        line = f"{len(items):,} {words[0]} {words[1]}"
        if facet is not None:
            counts: Counter[str] = Counter()
            for i in np.unique(items):
                values = schema.item_values(catalog[int(i)], facet)
                if isinstance(values, tuple):
                    counts.update(telling(facet, values) if telling is not None else values)
            names = [v for v, _ in counts.most_common(top)]
            if names:
                line += " · mostly " + ", ".join(names)
        out[uid] = line
    return out


def user_picker_choices(new_user: str, user_ids: Sequence[str], lines: dict[str, str]) -> list[tuple[str, str]]:
    """The picker's (label, value) pairs: "new user" first, then "user 42 — 412 films seen · mostly Drama"."""
    choices = [(f"{new_user} — personalise from this conversation only", new_user)]
    for u in user_ids:
        line = lines.get(u)
        choices.append((f"user {u} — {line}" if line else f"user {u}", u))
    return choices
