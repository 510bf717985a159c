"""The explainer's shortcuts give exactly what the plain computations give."""

from __future__ import annotations

import numpy as np
import pytest

from agentrec.graph.paths import Explainer, item_terms, text_terms
from agentrec.types import Catalog, Interactions, Item, Query


@pytest.fixture
def random_explainer() -> Explainer:
    rng = np.random.default_rng(0)
    num_users, num_items = 60, 40
    users = rng.integers(0, num_users, 900)
    items = rng.integers(0, num_items, 900)
    genres = ("Action", "Comedy", "Drama", "Sci-Fi")
    catalog = Catalog(
        items=tuple(
            Item(
                str(i), f"Film {i}", 1990 + i % 20, (genres[i % 4], genres[(i + 1) % 4]), (f"tag{i % 5}", "space opera")
            )
            for i in range(num_items)
        )
    )
    train = Interactions.from_arrays(users, items, num_users=num_users, num_items=num_items)
    return Explainer(catalog, train, max_paths=3)


@pytest.mark.parametrize("exclude", [None, 3])
def test_seed_co_like_counts_match_the_full_vector(random_explainer: Explainer, exclude: int | None) -> None:
    rng = np.random.default_rng(1)
    for _ in range(20):
        seeds = np.unique(rng.integers(0, 40, 8))
        item = int(rng.integers(0, 40))
        full = random_explainer.co_like_counts(item, exclude_user=exclude)[seeds]
        # Twice: the second call is served from the cached seed columns.
        for _ in range(2):
            got = random_explainer.seed_co_like_counts(item, seeds, exclude_user=exclude)
            np.testing.assert_array_equal(got, full)


def test_every_path_verifies_with_cached_terms(random_explainer: Explainer) -> None:
    query = Query(text="a space opera with drama")
    n = 0
    for user in ("0", "5", "17"):
        for item in range(40):
            for path in random_explainer.explain(user, item, query):
                assert random_explainer.verify(path), path.text
                n += 1
    assert n > 50


def test_semantic_terms_match_a_direct_scan(random_explainer: Explainer) -> None:
    text = "Space opera, drama and tag3 please"
    words = text_terms(text)
    for i, item in enumerate(random_explainer.catalog.items):
        expected = sorted(t for t in item_terms(item) if t in words or t in text.lower())
        assert random_explainer._query_matches(text, i) == expected
