"""Hard filters for retrieval: the policy; the matching itself lives in :mod:`agentrec.schema`.

Policy for bad and contradictory input (documented once, used everywhere):

* malformed values (an unknown facet or value, an item index outside the catalogue, a range on a categorical
  facet) raise ``ValueError`` naming the argument, the bad value and the valid choices
  (:meth:`~agentrec.schema.CatalogSchema.validate`);
* logically unsatisfiable but well-formed filters (an inverted range, a value both included and excluded,
  or constraints no item meets) give an **empty result with the reason** in ``RetrievalResult.notes``
  (:meth:`~agentrec.schema.CatalogSchema.conflicts`); they never raise, so an agent can relax them and try
  again.
"""

from __future__ import annotations

from agentrec.schema import CatalogSchema, FacetIndex
from agentrec.types import Catalog, Filters, Item

__all__ = ["FacetIndex", "item_passes"]


def item_passes(
    filters: Filters,
    item: Item,
    *,
    schema: CatalogSchema | None = None,
    catalog: Catalog | None = None,
    num_ratings: int | None = None,
    item_index: int | None = None,
) -> bool:
    """True when ``item`` meets every hard constraint of ``filters``.

    Args:
        filters: the constraints.
        item: the catalogue entry.
        schema: the catalogue's schema; derived from ``catalog`` (or the item alone) when None.
        catalog: the catalogue, used only to derive a missing schema.
        num_ratings: the item's training interaction count (for ``min_ratings``).
        item_index: the item's index (for ``exclude_items``).
    """
    if schema is None:
        schema = CatalogSchema.from_catalog(catalog if catalog is not None else Catalog((item,)))
    return not schema.item_violations(filters, item, num_ratings=num_ratings, item_index=item_index)
