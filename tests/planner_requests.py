"""The visible request set of the offline planner over ml-latest-small, with independently checkable constraints.

Each single request (``REQUESTS``) and each turn of a conversation (``CONVERSATIONS``) carries what every
returned item must satisfy, written from the request's words, not from the planner's output:

* ``all``: genres every item must have; ``any``: at least one of them; ``none``: genres no item may have;
* ``years``: (min, max) inclusive, None for open; ``year_spans``: a list of such spans, one of which holds;
  ``not_years``: a span no item's year may fall in (items without a year pass);
* ``like``: raw movieIds the request names ("like Toy Story"): the planner must use them as seeds and never
  return them; ``user``: a known user id whose training items must never come back;
* in a conversation, ``reject_pos`` / ``like_pos``: positions in the previous answer that the turn rejects
  (never shown again in this conversation) or builds on (never shown again either).

Constraints in a conversation accumulate as the user states them; each turn lists the full set in force.
"""

from __future__ import annotations

from typing import Any

Spec = dict[str, Any]

REQUESTS: list[Spec] = [
    # genres and synonyms
    {"text": "some sci-fi please", "all": ["Sci-Fi"]},
    {"text": "I want something funny", "all": ["Comedy"]},
    {"text": "a scary movie for tonight", "all": ["Horror"]},
    {"text": "a good cartoon", "all": ["Animation"]},
    {"text": "science fiction with robots", "all": ["Sci-Fi"]},
    {"text": "a romantic comedy", "all": ["Romance", "Comedy"]},
    {"text": "film noir", "all": ["Film-Noir"]},
    {"text": "westerns", "all": ["Western"]},
    {"text": "a documentary about music", "all": ["Documentary"]},
    {"text": "a war movie", "all": ["War"]},
    {"text": "horror or thriller", "any": ["Horror", "Thriller"]},
    {"text": "a mystery", "all": ["Mystery"]},
    {"text": "animated movies for kids", "all": ["Animation", "Children"]},
    {"text": "a crime drama", "all": ["Crime", "Drama"]},
    {"text": "fantasy adventure", "all": ["Fantasy", "Adventure"]},
    # decades and ranges
    {"text": "sci-fi from the 90s", "all": ["Sci-Fi"], "years": (1990, 1999)},
    {"text": "comedies from the eighties", "all": ["Comedy"], "years": (1980, 1989)},
    {"text": "1970s thrillers", "all": ["Thriller"], "years": (1970, 1979)},
    {"text": "a drama between 1995 and 2005", "all": ["Drama"], "years": (1995, 2005)},
    {"text": "action after 2010", "all": ["Action"], "years": (2011, None)},
    {"text": "horror before 1980", "all": ["Horror"], "years": (None, 1979)},
    {"text": "only 90s movies", "years": (1990, 1999)},
    {"text": "early 2000s animation", "all": ["Animation"], "years": (2000, 2003)},
    {"text": "musicals from the sixties", "all": ["Musical"], "years": (1960, 1969)},
    {"text": "anything since 2015", "years": (2015, None)},
    # exclusions
    {"text": "a comedy but no romance", "all": ["Comedy"], "none": ["Romance"]},
    {"text": "thrillers, nothing too violent", "all": ["Thriller"]},  # a preference, not a filter
    {"text": "sci-fi that is not horror", "all": ["Sci-Fi"], "none": ["Horror"]},
    {"text": "anything but drama", "none": ["Drama"]},
    {
        "text": "adventure without animation from the 80s",
        "all": ["Adventure"],
        "none": ["Animation"],
        "years": (1980, 1989),
    },  # fmt: skip
    {"text": "no horror or war please", "none": ["Horror", "War"]},
    {"text": "a family film, not romantic", "all": ["Children"], "none": ["Romance"]},
    # the grammar: negation scope, unions, excluded periods, soft wishes (issue #14)
    {"text": "some science fiction, but nothing with horror in it", "all": ["Sci-Fi"], "none": ["Horror"]},
    {"text": "a war movie from the 60s or 70s", "all": ["War"], "year_spans": [(1960, 1969), (1970, 1979)]},
    {"text": "80s or 90s comedies", "all": ["Comedy"], "year_spans": [(1980, 1989), (1990, 1999)]},
    {"text": "westerns, but not from the 60s", "all": ["Western"], "not_years": (1960, 1969)},
    {"text": "nothing before 1990", "not_years": (None, 1989)},
    {"text": "scary but not gory", "all": ["Horror"]},
    {"text": "comedy or drama from the 90s", "any": ["Comedy", "Drama"], "years": (1990, 1999)},
    {"text": "no horror and no romance, please", "none": ["Horror", "Romance"]},
    {
        "text": "a funny animated movie for the whole family, nothing before 1995",
        "all": ["Comedy", "Animation", "Children"],
        "not_years": (None, 1994),
    },  # fmt: skip
    {"text": "a thriller, not too violent", "all": ["Thriller"]},
    {"text": "recent horror", "all": ["Horror"], "years": (2014, None)},
    {"text": "old westerns", "all": ["Western"], "years": (None, 1979)},
    {"text": "a movie from 1994", "years": (1994, 1994)},
    {"text": "romantic comedies but not from the 2000s", "all": ["Romance", "Comedy"], "not_years": (2000, 2009)},
    {"text": "a comedy under 2 hours", "all": ["Comedy"]},  # no runtimes here: said in a note, never dropped
    # like <title>
    {"text": "something like Toy Story", "like": ["1"]},
    {"text": "movies similar to The Matrix", "like": ["2571"]},
    {"text": "like Alien but from the 80s", "like": ["1214"], "years": (1980, 1989)},
    {"text": "I loved Heat, more please", "like": ["6"]},
    {"text": "in the style of Pulp Fiction, no comedy", "like": ["296"], "none": ["Comedy"]},
    {"text": "similar to jurassic park", "like": ["480"]},
    {"text": "I enjoyed Shrek and Finding Nemo", "like": ["4306", "6377"]},
    {"text": "like the godfather but after 1990", "like": ["858"], "years": (1991, None)},
    {"text": "something like Inception, sci-fi only", "like": ["79132"], "all": ["Sci-Fi"]},
    {"text": "like Forrest Gump", "like": ["356"]},
    # personalised
    {"text": "recommend something for me", "user": "1"},
    {"text": "a comedy for me", "user": "42", "all": ["Comedy"]},
    {"text": "for user 15: sci-fi from the 90s", "user": "15", "all": ["Sci-Fi"], "years": (1990, 1999)},
    {"text": "drama, no war", "user": "100", "all": ["Drama"], "none": ["War"]},
    {"text": "anything after 2000", "user": "414", "years": (2001, None)},
    {"text": "horror or mystery", "user": "599", "any": ["Horror", "Mystery"]},
]

CONVERSATIONS: list[list[Spec]] = [
    [
        {"text": "sci-fi from the 90s", "all": ["Sci-Fi"], "years": (1990, 1999)},
        {"text": "a funny crime movie after 2000", "all": ["Comedy", "Crime"], "years": (2001, None)},
    ],
    [
        {"text": "sci-fi from the 90s", "all": ["Sci-Fi"], "years": (1990, 1999)},
        {"text": "now something completely different: a documentary", "all": ["Documentary"]},
    ],
    [
        {"text": "a comedy", "all": ["Comedy"]},
        {"text": "no, I meant horror", "all": ["Horror"]},
    ],
    [
        {"text": "sci-fi from the 90s", "all": ["Sci-Fi"], "years": (1990, 1999)},
        {"text": "after 2005", "all": ["Sci-Fi"], "years": (2006, None)},
    ],
    [
        {"text": "sci-fi from the 90s", "all": ["Sci-Fi"], "years": (1990, 1999)},
        {"text": "no horror", "all": ["Sci-Fi"], "years": (1990, 1999), "none": ["Horror"]},
        {"text": "not the first one", "all": ["Sci-Fi"], "years": (1990, 1999), "none": ["Horror"], "reject_pos": [0]},
        {
            "text": "more like the second one",
            "all": ["Sci-Fi"],
            "years": (1990, 1999),
            "none": ["Horror"],
            "like_pos": [1],
        },  # fmt: skip
    ],
    [
        {"text": "something like Toy Story", "like": ["1"]},
        {"text": "no musicals", "none": ["Musical"]},
        {"text": "not the last two", "none": ["Musical"], "reject_pos": [-1, -2]},
        {"text": "only after 2000", "none": ["Musical"], "years": (2001, None)},
    ],
    [
        {"text": "a thriller", "user": "42", "all": ["Thriller"]},
        {"text": "nothing too violent", "user": "42", "all": ["Thriller"]},
        {
            "text": "none of these",
            "user": "42",
            "all": ["Thriller"],
            "reject_pos": [0, 1, 2, 3, 4],
        },  # fmt: skip
    ],
    [
        {"text": "comedy from the eighties", "all": ["Comedy"], "years": (1980, 1989)},
        {"text": "I've already seen the first one", "all": ["Comedy"], "years": (1980, 1989), "reject_pos": [0]},
        {"text": "not romantic", "all": ["Comedy"], "years": (1980, 1989), "none": ["Romance"]},
    ],
]


def num_requests() -> int:
    """Single requests plus conversation turns."""
    return len(REQUESTS) + sum(len(c) for c in CONVERSATIONS)
