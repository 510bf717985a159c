"""The request set over amazon-scientific (products: category paths, brands, titles; no genres, years or prices).

Each request carries what every returned item must satisfy, written from the request's words and checked against
the catalogue's own data (the category path, the brand, the title), never against the planner's output:

* ``cat``: a word every item's category path contains; ``cat_any``: at least one of these words;
  ``no_cat``: words no item's category path contains (matched as whole words, case-insensitively);
* ``brand``: the item's brand is one of these; ``no_brand``: it is none of these;
* ``no_text``: words that must not occur in an item's title;
* ``k``: how many results were asked for; ``note``: a word that must appear in the reply's notes (what the
  catalogue cannot filter on is said, never dropped).

A request whose constraints some items meet must return at least ``min(5, k, how many meet them)`` items.
"""

from __future__ import annotations

from typing import Any

Spec = dict[str, Any]

PRODUCT_REQUESTS: list[Spec] = [
    # categories named by the catalogue's own words
    {"text": "3D printer filament", "cat": "filament"},
    {"text": "a 3D printer", "cat": "3D Printers"},
    {"text": "3D printer accessories", "cat": "accessories"},
    {"text": "an extruder for my 3D printer", "cat": "extruders"},
    {"text": "duct tape", "cat": "duct tape"},
    {"text": "electrical tape", "cat": "electrical tape"},
    {"text": "some tape", "cat": "tape"},
    {"text": "a digital caliper", "cat": "calipers"},
    {"text": "exam gloves", "cat": "gloves"},
    {"text": "heat shrink tubing", "cat": "heat-shrink tubing"},
    {"text": "a stethoscope", "cat": "stethoscopes"},
    {"text": "pipe fittings", "cat": "fittings"},
    {"text": "a pH meter", "cat": "ph meters"},
    {"text": "a hydrometer for home brewing", "cat": "hydrometers"},
    {"text": "a borescope", "cat": "borescopes"},
    {"text": "a clamp meter", "cat": "clamp meters"},
    {"text": "machine screws", "cat": "screws"},
    {"text": "LED lamps", "cat": "led lamps"},
    {"text": "prototyping boards", "cat": "prototyping boards"},
    {"text": "butt terminals", "cat": "butt terminals"},
    {"text": "capacitors", "cat": "capacitors"},
    {"text": "resistors", "cat": "resistors"},
    {"text": "a robot vacuum", "cat": "vacuums"},
    {"text": "vacuum bags", "cat": "vacuum bags"},
    {"text": "toothbrushes", "cat": "toothbrushes"},
    {"text": "hook and loop strips", "cat": "hook & loop strips"},
    {"text": "thermometers", "cat": "thermometers"},
    # brands
    {"text": "anything from uxcell", "brand": ["uxcell"]},
    {"text": "HATCHBOX filament", "brand": ["HATCHBOX"], "cat": "filament"},
    {"text": "filament from eSUN", "brand": ["eSUN"], "cat": "filament"},
    {"text": "something from SainSmart", "brand": ["SainSmart"]},
    {"text": "Gorilla glue", "brand": ["Gorilla"]},
    {"text": "products by 3M", "brand": ["3M"]},
    {"text": "a Kreg jig", "brand": ["Kreg"]},
    {"text": "TEKTON tools", "brand": ["TEKTON"]},
    {"text": "an electric toothbrush from Philips Sonicare", "brand": ["Philips Sonicare"]},
    {"text": "Forney welding supplies", "brand": ["Forney"]},
    {"text": "filament from eSUN or HATCHBOX", "brand": ["eSUN", "HATCHBOX"], "cat": "filament"},
    # exclusions: brands, categories, words
    {"text": "filament but not HATCHBOX", "cat": "filament", "no_brand": ["HATCHBOX"]},
    {"text": "3D printer filament, no HATCHBOX and no eSUN", "cat": "filament", "no_brand": ["HATCHBOX", "eSUN"]},
    {"text": "glue, no Gorilla", "no_brand": ["Gorilla"]},
    {"text": "caulk but nothing latex", "no_text": ["latex"]},
    {"text": "exam gloves, nothing latex", "cat": "gloves", "no_text": ["latex"]},
    {"text": "duct tape but not from Duck", "cat": "duct tape", "no_brand": ["Duck"]},
    {"text": "calipers, not Neiko", "cat": "calipers", "no_brand": ["Neiko"]},
    {"text": "a 3D printer but not XYZprinting", "cat": "3D Printers", "no_brand": ["XYZprinting"]},
    {"text": "a toothbrush, no Philips Sonicare", "no_brand": ["Philips Sonicare"]},
    {"text": "tape, but not duct tape", "cat": "tape", "no_cat": ["duct tape"]},
    {"text": "resistors, nothing from uxcell", "cat": "resistors", "no_brand": ["uxcell"]},
    {
        "text": "trash cans not from Rubbermaid Commercial Products",
        "cat": "trash cans",
        "no_brand": ["Rubbermaid Commercial Products"],
    },  # fmt: skip
    {"text": "lab supplies without glass", "no_text": ["glass"]},
    {"text": "a trash can", "cat": "trash cans"},
    # unions
    {"text": "gloves or stethoscopes", "cat_any": ["gloves", "stethoscopes"]},
    {"text": "exam gloves and stethoscopes", "cat_any": ["gloves", "stethoscopes"]},
    {"text": "duct tape or electrical tape", "cat_any": ["duct tape", "electrical tape"]},
    # counts
    {"text": "5 products from 3M", "brand": ["3M"], "k": 5},
    {"text": "3 filaments, no HATCHBOX", "cat": "filament", "no_brand": ["HATCHBOX"], "k": 3},
    {"text": "show me 7 digital calipers", "cat": "calipers", "k": 7},
    # what the catalogue cannot filter on is said, and the rest still answered
    {"text": "cheap filament under $20", "cat": "filament", "note": "prices"},
    {"text": "a 3D printer from the 90s", "cat": "3D Printers", "note": "years"},
    {"text": "gloves rated 4 stars or more", "cat": "gloves", "note": "star"},
    # free text only
    {"text": "something to clean my keyboard"},
    {"text": "a gift for someone who brews beer"},
    {"text": "safety equipment for a workshop"},
]

# Requests the agent still gets wrong, each with why; test_agent_products.py expects them to fail (strict xfail),
# so a fix shows up as a test to move back into the set above.
KNOWN_WRONG: list[Spec] = []

PRODUCT_CONVERSATIONS: list[list[Spec]] = [
    [
        {"text": "3D printer filament", "cat": "filament"},
        {"text": "not these, I'm afraid", "cat": "filament"},  # words beside a reference are never a new subject
        # words alone that fit nothing of the standing wish are a new request, said in a note
        {"text": "glue", "no_cat": ["filament"], "note": "new request"},
        {"text": "waterproof", "no_cat": ["filament"]},  # ... and later words refine the new one
    ],
    [
        {"text": "3D printer filament", "cat": "filament"},
        {"text": "not HATCHBOX", "cat": "filament", "no_brand": ["HATCHBOX"]},
        {"text": "not the first one", "cat": "filament", "no_brand": ["HATCHBOX"], "reject_pos": [0]},
        {"text": "now something completely different: a stethoscope", "cat": "stethoscopes", "no_brand": ["HATCHBOX"]},
    ],
    [
        {"text": "duct tape", "cat": "duct tape"},
        {"text": "no, I meant electrical tape", "cat": "electrical tape"},
        {"text": "nothing from 3M", "cat": "electrical tape", "no_brand": ["3M"]},
    ],
    [
        {"text": "exam gloves, nothing latex", "cat": "gloves", "no_text": ["latex"]},
        {"text": "more like the second one", "cat": "gloves", "no_text": ["latex"], "like_pos": [1]},
    ],
]
