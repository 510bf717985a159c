"""Catalogue text is data, never a format string; a real title is item text, a generated one is not."""

from __future__ import annotations

import pytest

from agentrec.data.base import bare_catalog
from agentrec.text.profile import ItemTextTemplate, has_item_text, is_generated_title, item_text
from agentrec.types import Catalog, Item


@pytest.mark.parametrize(
    "title",
    ["{F.B.R}", "{}", "{0}", "}{", "{title}", 'The "Quoted" Band', "It's", "**Bold** _em_ `code`", "<b>x</b> &amp;"],
)
def test_titles_with_braces_quotes_markdown_and_html_render_verbatim(title: str) -> None:
    item = Item("1", title, 1999, ("Rock",), ("{tag}",), "An {overview} with [brackets] and {{double}}.")
    text = item_text(item)
    assert text == f"{title} (1999). Genres: Rock. An {{overview}} with [brackets] and {{{{double}}}}. Tags: {{tag}}."


def test_optional_sections_still_drop_when_empty() -> None:
    assert item_text(Item("1", "{F.B.R}")) == "{F.B.R}"
    tpl = ItemTextTemplate("{title}[ by {keywords}][ ({year})]")
    assert tpl.render(Item("1", "A {b}", attributes={"keywords": "x}{y"})) == "A {b} by x}{y"
    assert ItemTextTemplate("{{literal}} {title}").render(Item("1", "T")) == "{literal} T"


def test_titles_count_as_item_text() -> None:
    names = Catalog(items=(Item("a1", "Blur"), Item("a2", "{F.B.R}")))
    assert has_item_text(names)
    assert not has_item_text(bare_catalog(["1", "2"]))  # "Item 1", "Item 2": placeholders, no text
    place = Item("7", "Location 12345", attributes={"org_id": "12345"})
    assert is_generated_title(place) and not is_generated_title(Item("7", "Blur"))
    assert not has_item_text(Catalog(items=(place,)))
