import numpy as np
import pytest

from agentrec.text import DEFAULT_ITEM_TEMPLATE, ItemTextTemplate, item_text, user_profile_text
from agentrec.types import Catalog, Item


def test_default_template_renders_all_fields(tiny_catalog: Catalog) -> None:
    text = item_text(tiny_catalog[0])
    assert text == "Alien (1979). Genres: Horror, Sci-Fi. A crew meets a deadly alien. Tags: space, creature."


def test_missing_fields_drop_their_sections() -> None:
    item = Item("9", "Untitled", None, (), (), "", {"keywords": ("heist", "dreams")})
    assert item_text(item) == "Untitled Keywords: heist, dreams."
    assert item_text(Item("8", "Bare")) == "Bare"


def test_custom_template_and_keywords_from_string() -> None:
    item = Item("7", "Heat", 1995, ("Crime",), ("pacino", "Pacino"), "Cops and robbers.", {"keywords": "bank|heist"})
    assert item_text(item, "{title} [{year}] [kw: {keywords}] [{tags}]") == "Heat 1995 kw: bank, heist pacino"
    assert item_text(item, ItemTextTemplate("{title}[; {genres}]", max_list=1)) == "Heat; Crime"


def test_template_fingerprint_changes_with_template() -> None:
    assert ItemTextTemplate().fingerprint == ItemTextTemplate(DEFAULT_ITEM_TEMPLATE).fingerprint
    assert ItemTextTemplate().fingerprint != ItemTextTemplate("{title}").fingerprint


@pytest.mark.parametrize("bad", ["{title} {director}", "no fields at all", "{title"])
def test_bad_template_is_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="field|format"):
        ItemTextTemplate(bad)


def test_unknown_field_error_lists_valid_fields() -> None:
    with pytest.raises(ValueError, match="valid fields are: item_id, title, year, genres, tags, overview, keywords"):
        item_text(Item("1", "x"), "{director}")


def test_user_profile_prefers_highly_rated_items(tiny_catalog: Catalog) -> None:
    # Rated Alien 5, The Thing 5, Toy Story 1, Shrek 2: the liked items are the horror sci-fi ones.
    text = user_profile_text(tiny_catalog, [0, 2, 3, 4], [5.0, 5.0, 1.0, 2.0])
    assert text.startswith("Likes: Alien (1979), The Thing (1982).")
    assert "Toy Story" not in text and "Shrek" not in text
    assert "Favourite genres: Horror, Sci-Fi." in text or "Favourite genres: Sci-Fi, Horror." in text
    assert "Comedy" not in text


def test_user_profile_favours_less_popular_items(tiny_catalog: Catalog) -> None:
    popularity = np.array([100, 1, 50, 0, 0, 0, 0])
    text = user_profile_text(tiny_catalog, [0, 1], popularity=popularity, max_items=1)
    assert text.startswith("Likes: Aliens (1986).")


def test_user_profile_genres_by_lift_not_frequency() -> None:
    drama = [Item(str(i), f"Drama {i}", 2000, ("Drama",)) for i in range(10)]
    catalog = Catalog(
        items=(*drama, Item("w1", "West 1", 1960, ("Western", "Drama")), Item("w2", "West 2", 1961, ("Western",)))
    )
    # The user likes two dramas and two westerns; westerns are rare in the catalogue, so they lead.
    text = user_profile_text(catalog, [0, 1, 10, 11], max_genres=1)
    assert "Favourite genres: Western." in text


def test_user_profile_edge_cases(tiny_catalog: Catalog) -> None:
    assert user_profile_text(tiny_catalog, []) == ""
    with pytest.raises(ValueError, match="item_indices must lie in"):
        user_profile_text(tiny_catalog, [99])
    with pytest.raises(ValueError, match="ratings has 1 values"):
        user_profile_text(tiny_catalog, [0, 1], [5.0])
    with pytest.raises(ValueError, match="max_items must be >= 1"):
        user_profile_text(tiny_catalog, [0], max_items=0)
