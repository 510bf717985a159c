"""Tool arguments generated from the schema, and the CLI's facet flags."""

from __future__ import annotations

import argparse

import pytest
from test_schema import product_catalog

from agentrec.cli.facets import add_facet_args, filters_from_args
from agentrec.schema import CatalogSchema
from agentrec.schema_args import filter_arg_specs, filter_args_model
from agentrec.schema_args import filters_from_args as tool_filters
from agentrec.types import Catalog, Filters, Item, Range


@pytest.fixture
def products() -> CatalogSchema:
    return CatalogSchema.from_catalog(product_catalog(100), {"price": {"unit": "$"}})


def test_arguments_follow_the_facets(products: CatalogSchema, tiny_catalog: Catalog) -> None:
    specs = filter_arg_specs(products)
    assert {"brand", "brand_match", "exclude_brand", "category", "price_min", "price_max", "price_ranges"} <= set(specs)
    assert "blurb" not in specs  # a text facet cannot be filtered
    assert "one of: 3M, DAP, Gorilla, HATCHBOX, Loctite, Red Line" in specs["brand"][1]
    assert "$" in specs["price_min"][1]
    movies = filter_arg_specs(CatalogSchema.from_catalog(tiny_catalog))
    assert {"genre", "exclude_genre", "year_min", "year_max", "tag"} <= set(movies) and "brand" not in movies
    assert filter_arg_specs(CatalogSchema()) == {}


def test_tool_arguments_become_filters(products: CatalogSchema) -> None:
    f = tool_filters(
        products,
        {"brand": ["hatchbox", "3m"], "exclude_category": ["Caulk"], "price_max": 20, "exclude_price_min": 5,
         "exclude_price_max": 7.5, "category_match": None},
    )  # fmt: skip
    assert f == Filters(
        include={"brand": ("hatchbox", "3m")},
        exclude={"category": ("Caulk",)},
        ranges={"price": (Range(None, 20),)},
        exclude_ranges={"price": (Range(5, 7.5),)},
    )
    assert products.describe(f) == "brand HATCHBOX or 3M, not Caulk, price up to $20, price not $5-$7.50"
    union = tool_filters(products, {"price_ranges": [[None, 10], [100, None]]})
    assert union.ranges == {"price": (Range(None, 10), Range(100, None))}
    assert tool_filters(products, None) == Filters() and tool_filters(products, {}) == Filters()
    synonyms = tool_filters(products, {"brand": ["gorilla glue"]}, resolve=lambda facet, v: ("Gorilla",))
    assert synonyms.include == {"brand": ("Gorilla",)}


def test_tool_argument_errors_name_the_valid_choices(products: CatalogSchema) -> None:
    with pytest.raises(ValueError, match=r"unknown filter 'colour'; valid filters are: brand, brand_match"):
        tool_filters(products, {"colour": ["red"]})
    with pytest.raises(ValueError, match=r"include: brand 'Acme' is not in this catalogue; valid brand values are: 3M"):
        tool_filters(products, {"brand": ["Acme"]})
    with pytest.raises(ValueError, match=r"filter 'price_max' must be a number, got 'cheap'"):
        tool_filters(products, {"price_max": "cheap"})
    with pytest.raises(ValueError, match=r"give either price_ranges or price_min/price_max, not both"):
        tool_filters(products, {"price_ranges": [[1, 2]], "price_min": 3})
    with pytest.raises(ValueError, match=r"each range must be a \[min, max\] pair"):
        tool_filters(products, {"price_ranges": [[1, 2, 3]]})
    with pytest.raises(ValueError, match=r"unknown filter 'genre'; valid filters are: none"):
        tool_filters(CatalogSchema(), {"genre": ["Comedy"]})


def test_pydantic_model(products: CatalogSchema) -> None:
    model = filter_args_model(products)
    props = model.model_json_schema()["properties"]
    assert set(props) == set(filter_arg_specs(products))
    assert all(len(p.get("description", "")) > 10 for p in props.values())
    got = model.model_validate({"brand": ["3M"], "price_ranges": [[None, 20]]})
    assert tool_filters(products, got.model_dump(exclude_none=True)).ranges == {"price": (Range(None, 20),)}
    with pytest.raises(ValueError, match="colour"):
        model.model_validate({"colour": ["red"]})  # unknown facets are refused, never dropped silently


def _cli(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_facet_args(parser)
    return parser.parse_args(list(argv))


def test_cli_facet_flags() -> None:
    args = _cli("--facet", "brand=3M", "--facet", "brand=DAP", "--match-any", "brand", "--exclude", "category=Caulk",
                "--range", "price=:20", "--range", "price=100:", "--exclude-range", "year=1960:1969")  # fmt: skip
    f = filters_from_args(args, genres=["Comedy"], year_min=1990, min_ratings=3)
    assert f == Filters(
        include={"genre": ("Comedy",), "brand": ("3M", "DAP")},
        match={"brand": "any"},
        exclude={"category": ("Caulk",)},
        ranges={"year": (Range(1990, None),), "price": (Range(None, 20), Range(100, None))},
        exclude_ranges={"year": (Range(1960, 1969),)},
        min_ratings=3,
    )
    for bad, message in (
        (("--facet", "brand"), r"--facet expects NAME=VALUE \(e.g. genre=Comedy\), got 'brand'"),
        (("--range", "price=20"), r"--range expects NAME=LO:HI .*got 'price=20'"),
        (("--range", "price=a:b"), r"--range expects NAME=LO:HI with numbers"),
    ):
        with pytest.raises(ValueError, match=message):
            filters_from_args(_cli(*bad))


def test_cli_filters_are_checked_by_the_schema(tiny_catalog: Catalog) -> None:
    schema = CatalogSchema.from_catalog(tiny_catalog)
    with pytest.raises(ValueError, match="include: unknown facet 'brand'; this catalogue's facets are: genre"):
        schema.validate(filters_from_args(_cli("--facet", "brand=3M")))
    items = (Item("0", "a", 1999), Item("1", "b", 2005))
    assert CatalogSchema.from_catalog(Catalog(items)).describe(filters_from_args(_cli("--range", "year=2000:"))) == (
        "year 2000+"
    )
