"""The catalogue schema: derivation, validation, words, facts, metadata and vectorised matching."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from agentrec.schema import CatalogSchema, FacetIndex, Filters, Range
from agentrec.types import Catalog, Item


@pytest.fixture(scope="module")
def movielens_catalog() -> Catalog:
    from conftest import _shared_data_dir

    from agentrec.data.movielens import load_movielens

    root = _shared_data_dir()
    if root is None:
        pytest.skip("real datasets not found")
    return load_movielens(Path(root) / "ml-latest-small").catalog


def product_catalog(n: int = 300, seed: int = 0) -> Catalog:
    """Products: a category path (tuple of str), a brand (str), a price (float, some missing), a long blurb."""
    rng = random.Random(seed)
    paths = [
        ("Industrial & Scientific", "Tapes, Adhesives & Sealants", "Glues"),
        ("Industrial & Scientific", "Tapes, Adhesives & Sealants", "Caulk"),
        ("Industrial & Scientific", "Additive Manufacturing", "3D Printing Filament"),
        ("Industrial & Scientific", "Lab & Scientific Products"),
    ]
    brands = ["3M", "Gorilla", "HATCHBOX", "DAP", "Loctite", "Red Line"]
    items = []
    for i in range(n):
        attrs: dict[str, object] = {
            "category": paths[rng.randrange(len(paths))],
            "brand": brands[rng.randrange(len(brands))],
            "blurb": f"A product number {i} that does several useful things in the workshop, lab or home.",
            "asin": f"B{i:09d}",
        }
        if rng.random() < 0.8:
            attrs["price"] = round(rng.uniform(1, 120), 2)
        items.append(Item(str(i), f"Product {i}", attributes=attrs))
    return Catalog(tuple(items))


# ---- derivation ---------------------------------------------------------------------------------------------


def test_movielens_facets(movielens_catalog: Catalog) -> None:
    schema = CatalogSchema.from_catalog(movielens_catalog, name="ml-latest-small")
    genre, year, tag = schema.facet("genre"), schema.facet("year"), schema.facet("tag")
    assert genre.kind == "categorical" and genre.multi and "Sci-Fi" in genre.values and "Comedy" in genre.values
    assert list(genre.values) == sorted(genre.values, key=str.casefold)
    assert year.kind == "numeric" and year.integer and year.bounds is not None and year.bounds[0] < 1920
    assert tag.kind == "categorical" and tag.filterable and len(tag.values) > 100
    assert not schema.has("imdb_id") and not schema.has("tmdb_id")  # identifiers are not facets
    assert [f.name for f in schema.categorical][:1] == ["genre"] and [f.name for f in schema.numeric] == ["year"]
    assert not schema.has("runtime")  # no item carries a runtime


def test_movielens_runtime_when_joined(movielens_catalog: Catalog) -> None:
    # A TMDB join puts the runtime (minutes) into attributes; only some movies have one.
    items = tuple(
        replace(it, attributes={**it.attributes, "runtime": 80 + i % 90}) if i % 3 == 0 else it
        for i, it in enumerate(movielens_catalog.items)
    )
    schema = CatalogSchema.from_catalog(Catalog(items))
    runtime = schema.facet("runtime")
    assert (
        runtime.kind == "numeric" and runtime.unit == "min" and runtime.bounds == (80.0, 167.0)
    )  # i % 90 <= 87 for i % 3 == 0
    assert schema.describe(Filters(ranges={"runtime": [Range(None, 120)]})) == "runtime up to 120 min"
    index = FacetIndex.build(schema, Catalog(items), np.zeros(len(items)))
    mask = index.mask(Filters(ranges={"runtime": [Range(None, 120)]}))
    expected = [i % 3 == 0 and 80 + i % 90 <= 120 for i in range(len(items))]
    assert mask.tolist() == expected


def test_product_facets() -> None:
    catalog = product_catalog()
    schema = CatalogSchema.from_catalog(catalog)
    category, brand, price = schema.facet("category"), schema.facet("brand"), schema.facet("price")
    assert category.kind == "categorical" and category.multi and "Glues" in category.values
    assert brand.kind == "categorical" and not brand.multi and brand.values[0] == "3M"
    assert price.kind == "numeric" and not price.integer and price.bounds is not None
    assert schema.facet("blurb").kind == "text" and not schema.facet("blurb").filterable
    assert not schema.has("asin")  # many distinct short strings: an identifier, not a facet
    assert any(f.startswith("category: ") for f in schema.facts(catalog[0]))
    assert any(f.startswith("brand: ") for f in schema.facts(catalog[0]))
    assert schema.canonical("brand", "  hatchbox ") == "HATCHBOX" and schema.canonical("brand", "Nope") is None


def test_numeric_strings_become_numeric() -> None:
    # The tabular loader keeps extra columns as strings.
    items = tuple(Item(str(i), f"x{i}", attributes={"price": f"{i}.50", "colour": "red" if i % 2 else "Blue"})
                  for i in range(10))  # fmt: skip
    schema = CatalogSchema.from_catalog(Catalog(items))
    assert schema.facet("price").kind == "numeric" and schema.facet("price").bounds == (0.5, 9.5)
    assert schema.facet("colour").values == ("Blue", "red")


def test_ids_only_catalogue_every_call_works() -> None:
    catalog = Catalog(tuple(Item(str(i), f"place {i}") for i in range(5)))
    schema = CatalogSchema.from_catalog(catalog)
    assert schema.facets == () and schema.categorical == () and schema.numeric == ()
    empty = Filters(min_ratings=1, exclude_items=(2,))
    schema.validate(empty)
    assert schema.conflicts(empty) == [] and schema.describe(Filters()) == "no filters"
    assert schema.facts(catalog[0]) == () and schema.vector_metadata(catalog[0]) == {}
    assert schema.canonical("genre", "Comedy") is None and not schema.has("genre")
    index = FacetIndex.build(schema, catalog, np.array([0, 1, 2, 3, 4]))
    assert index.mask(empty).tolist() == [False, True, False, True, True]
    with pytest.raises(ValueError, match=r"unknown facet 'genre'; this catalogue's facets are: none"):
        schema.validate(Filters(include={"genre": ("Comedy",)}))
    assert CatalogSchema.from_dict(json.loads(json.dumps(schema.to_dict()))).facets == ()


# ---- validation ---------------------------------------------------------------------------------------------


def test_validate_errors_name_facet_value_and_choices(tiny_catalog: Catalog) -> None:
    schema = CatalogSchema.from_catalog(tiny_catalog)
    with pytest.raises(ValueError, match=r"include: unknown facet 'genr'; this catalogue's facets are: genre, year"):
        schema.validate(Filters(include={"genr": ("Comedy",)}))
    with pytest.raises(ValueError, match=r"exclude: genre 'scifi' is not in this catalogue; valid genre values are: "
                                         r"Action, .*Sci-Fi"):  # fmt: skip
        schema.validate(Filters(exclude={"genre": ("scifi",)}))
    with pytest.raises(
        ValueError, match=r"ranges: facet 'genre' is categorical, not numeric .*numeric facets are: year"
    ):
        schema.validate(Filters(ranges={"genre": [Range(1, 2)]}))
    with pytest.raises(ValueError, match=r"include: facet 'year' is numeric, not categorical"):
        schema.validate(Filters(include={"year": ("1995",)}))
    with pytest.raises(ValueError, match=r"exclude_items: item index 7 does not exist; valid: 0..6"):
        schema.validate(Filters(exclude_items=(7,)))
    with pytest.raises(ValueError, match=r"min_ratings must be >= 0"):
        schema.validate(Filters(min_ratings=-1))
    with pytest.raises(ValueError, match=r"must be a list of values, not the string 'Horror'; wrap it"):
        Filters(include={"genre": "Horror"})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match=r"match\['genre'\] must be 'all' or 'any'"):
        Filters(include={"genre": ("Horror",)}, match={"genre": "most"})  # type: ignore[dict-item]
    schema.validate(Filters(include={"Genre": (" sci-fi ",)}, ranges={"year": [(1980, None)]}))  # case-insensitive


def test_text_facet_is_not_filterable() -> None:
    schema = CatalogSchema.from_catalog(product_catalog(50))
    with pytest.raises(ValueError, match=r"facet 'blurb' cannot be filtered on \(it is text\)"):
        schema.validate(Filters(include={"blurb": ("lab",)}))


def test_conflicts(tiny_catalog: Catalog) -> None:
    schema = CatalogSchema.from_catalog(tiny_catalog)
    assert schema.conflicts(Filters(include={"genre": ("Horror",)}, exclude={"genre": ("horror",)})) == [
        "genre Horror both wanted and excluded"
    ]
    # With "any", one excluded genre of two leaves the other possible.
    mixed = Filters(include={"genre": ("Horror", "Action")}, match={"genre": "any"}, exclude={"genre": ("Horror",)})
    assert schema.conflicts(mixed) == []
    assert schema.conflicts(Filters(ranges={"year": [Range(2000, 1990)]})) == [
        "year range 2000-1990 is empty (low > high)"
    ]
    assert schema.conflicts(Filters(ranges={"year": [Range(2000, 1990), Range(1970, 1979)]})) == []
    brands = CatalogSchema.from_catalog(product_catalog(50))
    both = Filters(include={"brand": ("3M", "DAP")}, match={"brand": "all"})
    assert brands.conflicts(both) == ["an item has one brand, so it cannot be 3M and DAP at once"]
    assert brands.conflicts(Filters(include={"brand": ("3M", "DAP")})) == []  # single-valued: "any" by default


# ---- words, facts, metadata ---------------------------------------------------------------------------------


def test_describe(tiny_catalog: Catalog) -> None:
    schema = CatalogSchema.from_catalog(tiny_catalog)
    f = Filters(
        include={"genre": ("comedy", "Crime")},
        exclude={"genre": ("Horror",)},
        ranges={"year": [Range(1990, 1999), Range(2010, None)]},
    )
    assert schema.describe(f) == "genre Comedy and Crime, not Horror, year 1990-1999 or 2010+"
    anyf = Filters(
        include={"genre": ("Action", "Drama")}, match={"genre": "any"}, exclude_ranges={"year": [(1960, 1969)]}
    )
    assert schema.describe(anyf) == "genre Action or Drama, year not 1960-1969"
    assert schema.describe(Filters(min_ratings=5, exclude_items=(1, 2))) == "at least 5 ratings, 2 excluded items"
    products = CatalogSchema.from_catalog(product_catalog(50), {"price": {"unit": "$"}})
    assert products.describe(Filters(ranges={"price": [Range(None, 20)]}, exclude={"brand": ("gorilla",)})) == (
        "not Gorilla, price up to $20"
    )
    assert products.describe(Filters(ranges={"price": [Range(5.5, 20)]})) == "price $5.50-$20"


def test_facts_and_fact_holds(tiny_catalog: Catalog) -> None:
    schema = CatalogSchema.from_catalog(tiny_catalog)
    alien = tiny_catalog[0]
    assert schema.facts(alien) == ("genre: Horror", "genre: Sci-Fi", "year: 1979", "tag: space", "tag: creature")
    for fact in schema.facts(alien):
        assert schema.fact_holds(alien, fact)
    assert schema.fact_holds(alien, "Genre: sci-fi") and schema.fact_holds(alien, "year = 1979".replace("=", ":"))
    assert not schema.fact_holds(alien, "genre: Comedy") and not schema.fact_holds(alien, "year: 1980")
    assert not schema.fact_holds(alien, "brand: 3M") and not schema.fact_holds(alien, "no colon")
    products = CatalogSchema.from_catalog(product_catalog(50), {"price": {"unit": "$"}})
    item = next(it for it in product_catalog(50).items if "price" in it.attributes)
    price_fact = next(f for f in products.facts(item) if f.startswith("price: "))
    assert products.fact_holds(item, price_fact) and products.fact_holds(item, f"price: ${item.attributes['price']}")


def test_vector_metadata(tiny_catalog: Catalog) -> None:
    schema = CatalogSchema.from_catalog(tiny_catalog)
    meta = schema.vector_metadata(tiny_catalog[0])
    assert meta == {
        "genre=horror": True,
        "genre=sci-fi": True,
        "has_year": True,
        "year": 1979,
        "tag=space": True,
        "tag=creature": True,
    }
    assert all(isinstance(v, str | int | float | bool) for v in meta.values())


def test_item_values(tiny_catalog: Catalog) -> None:
    schema = CatalogSchema.from_catalog(tiny_catalog)
    assert schema.item_values(tiny_catalog[0], "genre") == ("Horror", "Sci-Fi")
    assert schema.item_values(tiny_catalog[0], "year") == 1979.0
    nothing = Item("x", "nothing")
    assert schema.item_values(nothing, "genre") == () and schema.item_values(nothing, "year") is None
    with pytest.raises(ValueError, match="unknown facet 'brand'"):
        schema.item_values(nothing, "brand")


# ---- declaration and persistence ----------------------------------------------------------------------------


def test_declaration_overrides() -> None:
    catalog = product_catalog(100)
    declaration = {
        "brand": {"label": "maker", "name": "maker"},
        "price": {"unit": "$", "label": "price"},
        "category": {"soft": True},
        "blurb": {"drop": True},
        "asin": {"kind": "categorical"},
        "colour": {"label": "colour"},  # absent from the data: ignored with a warning
    }
    schema = CatalogSchema.from_catalog(catalog, declaration)
    assert [f.name for f in schema.facets] == ["asin", "maker", "category", "price"]
    assert schema.facet("maker").label == "maker" and schema.facet("maker").source == "attributes.brand"
    assert schema.facet("price").unit == "$" and not schema.facet("category").filterable
    assert len(schema.facet("asin").values) == 100
    assert "maker: " + str(catalog[0].attributes["brand"]) in schema.facts(catalog[0])
    with pytest.raises(ValueError, match=r"facet declaration 'price': unknown option\(s\) 'units'; valid options"):
        CatalogSchema.from_catalog(catalog, {"price": {"units": "$"}})
    with pytest.raises(ValueError, match=r"facet declaration 'price': kind 'number' is not one of categorical"):
        CatalogSchema.from_catalog(catalog, {"price": {"kind": "number"}})
    with pytest.raises(ValueError, match=r"facet declaration 'price' must be a table of options"):
        CatalogSchema.from_catalog(catalog, {"price": "$"})


def test_to_dict_round_trip(movielens_catalog: Catalog) -> None:
    for catalog in (movielens_catalog, product_catalog()):
        schema = CatalogSchema.from_catalog(catalog, {"price": {"unit": "$"}}, name="x")
        again = CatalogSchema.from_dict(json.loads(json.dumps(schema.to_dict())))
        assert again.facets == schema.facets and again.name == "x" and again.num_items == len(catalog)
        assert again.facts(catalog[0]) == schema.facts(catalog[0])


# ---- matching -----------------------------------------------------------------------------------------------


def test_mask_semantics(tiny_catalog: Catalog) -> None:
    schema = CatalogSchema.from_catalog(tiny_catalog)
    index = FacetIndex.build(schema, tiny_catalog, np.arange(7))
    titles = np.array([it.title for it in tiny_catalog.items])

    def names(f: Filters) -> list[str]:
        return titles[index.mask(f)].tolist()

    assert names(Filters(include={"genre": ("Horror", "Sci-Fi")})) == ["Alien", "The Thing"]
    any_of = names(Filters(include={"genre": ("Horror", "Action")}, match={"genre": "any"}))
    assert any_of == [it.title for it in tiny_catalog.items if {"Horror", "Action"} & set(it.genres)]
    assert "Alien" not in names(Filters(exclude={"genre": ("horror",)}))
    union = names(Filters(ranges={"year": [Range(1979, 1979), Range(1986, 1986)]}))
    assert union == [it.title for it in tiny_catalog.items if it.year in (1979, 1986)]
    assert names(Filters(exclude_ranges={"year": [Range(None, 1985)]})) == [
        it.title for it in tiny_catalog.items if it.year is None or it.year > 1985
    ]
    assert index.count(Filters(min_ratings=5)) == 2 and not index.mask(Filters(exclude_items=(0,)))[0]
    assert index.count(Filters(include={"genre": ("Nope",)})) == 0  # unknown values are carried by nobody
    assert index.count(Filters(exclude={"brand": ("3M",)})) == 7


def test_items_without_a_value() -> None:
    items = (Item("0", "a", 1990), Item("1", "b"), Item("2", "c", 2005))
    schema = CatalogSchema.from_catalog(Catalog(items))
    index = FacetIndex.build(schema, Catalog(items), np.zeros(3))
    # No year fails an allowed range and passes an excluded one.
    assert index.mask(Filters(ranges={"year": [Range(1900, 2100)]})).tolist() == [True, False, True]
    assert index.mask(Filters(exclude_ranges={"year": [Range(2000, None)]})).tolist() == [True, True, False]
    assert index.violations(Filters(ranges={"year": [Range(1900, 2100)]}), 1) == ["has no year"]
    assert index.violations(Filters(ranges={"year": [Range(1991, None)]}), 0) == ["year 1990 outside 1991+"]
    assert index.violations(Filters(exclude_ranges={"year": [Range(2000, None)]}), 2) == ["year 2005 in excluded 2000+"]


def _reference(schema: CatalogSchema, f: Filters, item: Item, index: int, num_ratings: int) -> bool:
    """A plain, independent statement of the semantics."""

    def carried(facet: str) -> set[str]:
        return {v.lower() for v in schema.item_values(item, facet)}  # type: ignore[union-attr]

    for facet, values in f.include.items():
        hits = [v.lower() in carried(facet) for v in values]
        mode = f.match.get(facet, "all" if schema.facet(facet).multi else "any")
        if not (all(hits) if mode == "all" else any(hits)):
            return False
    if any(v.lower() in carried(facet) for facet, values in f.exclude.items() for v in values):
        return False
    for facet, ranges in f.ranges.items():
        x = schema.item_values(item, facet)
        if x is None or not any((r.low is None or x >= r.low) and (r.high is None or x <= r.high) for r in ranges):
            return False
    for facet, ranges in f.exclude_ranges.items():
        x = schema.item_values(item, facet)
        if x is not None and any((r.low is None or x >= r.low) and (r.high is None or x <= r.high) for r in ranges):
            return False
    return not (f.min_ratings and num_ratings < f.min_ratings) and index not in f.exclude_items


def _random_filters(rng: random.Random, schema: CatalogSchema, n: int) -> Filters:
    def pick(facet: str) -> tuple[str, ...]:
        values = schema.facet(facet).values
        return tuple(
            rng.choice(values).upper() if rng.random() < 0.2 else rng.choice(values) for _ in range(rng.randint(1, 3))
        )

    def ranges(facet: str) -> list[Range]:
        lo, hi = schema.facet(facet).bounds  # type: ignore[misc]
        out = []
        for _ in range(rng.randint(1, 2)):
            a, b = sorted(rng.uniform(lo, hi) for _ in range(2))
            out.append(Range(None if rng.random() < 0.25 else a, None if rng.random() < 0.25 else b))
        return out

    cats, nums = [f.name for f in schema.categorical], [f.name for f in schema.numeric]
    return Filters(
        include={c: pick(c) for c in cats if rng.random() < 0.4},
        match={c: rng.choice(("all", "any")) for c in cats if rng.random() < 0.3},
        exclude={c: pick(c) for c in cats if rng.random() < 0.3},
        ranges={c: ranges(c) for c in nums if rng.random() < 0.4},
        exclude_ranges={c: ranges(c) for c in nums if rng.random() < 0.3},
        min_ratings=rng.choice((None, 0, 1, 3)),
        exclude_items=tuple(rng.sample(range(n), rng.randint(0, 3))),
    )


@pytest.mark.parametrize("seed", range(4))
def test_mask_equals_violations_and_reference(seed: int) -> None:
    catalog = product_catalog(200, seed=seed)
    schema = CatalogSchema.from_catalog(catalog)
    rng = random.Random(seed)
    num_ratings = np.array([rng.randint(0, 5) for _ in range(len(catalog))])
    index = FacetIndex.build(schema, catalog, num_ratings)
    for _ in range(60):
        f = _random_filters(rng, schema, len(catalog))
        f = Filters(**{**f.__dict__, "match": {k: v for k, v in f.match.items() if k in f.include}})
        schema.validate(f)
        mask = index.mask(f)
        for i, item in enumerate(catalog.items):
            violations = index.violations(f, i)
            assert mask[i] == (not violations), (schema.describe(f), i, violations)
            assert mask[i] == _reference(schema, f, item, i, int(num_ratings[i]))


def test_mask_equals_reference_on_movielens(movielens_catalog: Catalog) -> None:
    schema = CatalogSchema.from_catalog(movielens_catalog)
    rng = random.Random(7)
    num_ratings = np.array([rng.randint(0, 50) for _ in range(len(movielens_catalog))])
    index = FacetIndex.build(schema, movielens_catalog, num_ratings)
    sample = rng.sample(range(len(movielens_catalog)), 300)
    for _ in range(20):
        f = _random_filters(rng, schema, len(movielens_catalog))
        f = Filters(**{**f.__dict__, "match": {k: v for k, v in f.match.items() if k in f.include}})
        mask = index.mask(f)
        for i in sample:
            assert mask[i] == _reference(schema, f, movielens_catalog[i], i, int(num_ratings[i]))
            assert mask[i] == (not index.violations(f, i))


def test_filters_value_semantics() -> None:
    a = Filters(include={"Genre": ["Horror"]}, ranges={"year": (1990, 1999)})
    b = Filters(include={"genre": ("Horror",)}, ranges={"year": [Range(1990, 1999)]})
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a.facet_names() == {"genre", "year"} and not a.is_empty()
    assert Filters(include={"genre": ()}).is_empty() and Filters().facet_names() == set()
    assert Range(1, 2).contains(1) and Range(1, 2).contains(2) and not Range(1, 2).contains(2.5)
    assert Range(None, 2).contains(-1e9) and Range(2, 1).is_empty
