"""The conversation's wish over facets, and how each new message changes it.

A message read by :mod:`agentrec.agent.grammar` changes the remembered wish by one rule, chosen from how it is
phrased and what it says (the reply always says what changed):

* a topic switch ("now something completely different") starts a new wish; exclusions stay (they are dislikes);
* a correction ("no, I meant horror") takes back what the previous message added on the facets it names;
* "instead" / "rather" replaces the values of the facets the message names;
* a full new request ("a funny crime movie after 2000", with an article or a request verb, naming values) replaces
  the earlier wish;
* anything else refines it: values are added, a new span on a numeric facet replaces the earlier one, exclusions
  accumulate. A refinement that no item can meet together with the earlier wish makes the newest statement win,
  with a note that names what was dropped and how to get it back.

Asking for a value that was excluded lifts the exclusion (and excluding one that was asked for drops it), with a
note. Nothing is dropped without a line in the notes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from agentrec.agent.grammar import Request
from agentrec.schema import Filters, Range

__all__ = ["Wish", "merge"]

Counter = Callable[[Filters], int]


@dataclass(frozen=True)
class Wish:
    """What the conversation asks for so far.

    Attributes:
        filters: the hard constraints (facet values, spans, text exclusions in ``exclude["text"]``).
        prefer / avoid: facet -> values that only steer the ranking.
        avoid_terms: words that only steer the ranking down ("not too heavy").
        inferred: facet -> included values read only from topic words (given up first).
        last_added: facet -> values the latest message added (what a correction takes back).
    """

    filters: Filters = field(default_factory=Filters)
    prefer: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    avoid: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    avoid_terms: tuple[str, ...] = ()
    inferred: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    last_added: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def has_wish(self) -> bool:
        """True when something is asked for (values or spans), beyond exclusions."""
        return bool(self.filters.include or self.filters.ranges)


def _spans(raw: list[tuple[float | None, float | None]]) -> tuple[Range, ...]:
    return tuple(Range(lo, hi) for lo, hi in raw)


def _with(f: Filters, **changes: object) -> Filters:
    return replace(f, **changes)  # type: ignore[arg-type]


def _words(include: Mapping[str, tuple[str, ...]], ranges: Mapping[str, tuple[Range, ...]]) -> str:
    parts = [f"{facet} {', '.join(values)}" for facet, values in include.items()]
    for facet, spans in ranges.items():
        parts.append(f"{facet} " + " or ".join(_span_words(r) for r in spans))
    return "; ".join(parts)


def _span_words(r: Range) -> str:
    def num(x: float) -> str:
        return str(int(x)) if float(x).is_integer() else f"{x:g}"

    if r.low is not None and r.high is not None:
        return num(r.low) if r.low == r.high else f"{num(r.low)}-{num(r.high)}"
    return f"from {num(r.low)}" if r.low is not None else f"up to {num(r.high)}"  # type: ignore[arg-type]


def _start_fresh(wish: Wish, notes: list[str], why: str) -> Wish:
    dropped = _words(wish.filters.include, wish.filters.ranges)
    if dropped:
        kept = _words(wish.filters.exclude, {})
        notes.append(
            f"{why}: I dropped the earlier wish ({dropped})" + (f"; still leaving out {kept}." if kept else ".")
        )
    f = wish.filters
    kept_filters = Filters(
        exclude=f.exclude, exclude_ranges=f.exclude_ranges, min_ratings=f.min_ratings, exclude_items=f.exclude_items
    )
    return Wish(filters=kept_filters)


def merge(wish: Wish, req: Request, *, count: Counter) -> tuple[Wish, list[str]]:
    """The wish after one more message, and the notes that say what changed.

    Args:
        wish: the conversation's wish so far.
        req: the message, read by :func:`agentrec.agent.grammar.parse`.
        count: how many items (not turned down) meet some filters, counting up to what a list needs; used to tell
            a refinement that narrows from one that leaves nothing.
    """
    notes: list[str] = []
    if req.mode == "switch":
        wish = _start_fresh(wish, notes, "Something different")
    elif req.form == "head" and wish.has_wish and req.mode is None and (req.include or req.ranges):
        wish = _start_fresh(wish, notes, "A new request")
    include = {k: tuple(v) for k, v in wish.filters.include.items()}
    match = dict(wish.filters.match)
    ranges = dict(wish.filters.ranges)
    if req.mode == "correct":
        for facet in req.include:
            taken = wish.last_added.get(facet, ())
            include[facet] = tuple(v for v in include.get(facet, ()) if v not in taken)
            if taken:
                notes.append(f"Changed {facet} {', '.join(taken)} to {', '.join(req.include[facet])}.")
    elif req.mode == "instead":
        for facet in req.include:
            if include.get(facet):
                notes.append(f"Switched {facet} {', '.join(include[facet])} to {', '.join(req.include[facet])}.")
            include[facet] = ()
    before = _with(wish.filters, include=include, match=match, ranges=ranges)
    merged = _add_values(before, req, include, match, ranges, notes)
    merged = _exclusions(merged, req, notes)
    if req.include and merged.include != before.include and count(merged) == 0:
        alone = _with(merged, include={**{f: v for f, v in merged.include.items() if f not in req.include},
                                       **{f: tuple(v) for f, v in req.include.items()}})  # fmt: skip
        if count(alone) > 0 and alone.include != merged.include:
            gone = {f: tuple(v for v in merged.include.get(f, ()) if v not in alone.include.get(f, ()))
                    for f in req.include}  # fmt: skip
            gone_words = _words({f: v for f, v in gone.items() if v}, {})
            notes.append(f"Nothing is {_words(merged.include, {})} together, so I went with your latest wish and "
                         f"dropped {gone_words}; say so to bring it back.")  # fmt: skip
            merged = alone
    return _soft(wish, req, merged), notes


def _add_values(
    f: Filters,
    req: Request,
    include: dict[str, tuple[str, ...]],
    match: dict[str, str],
    ranges: dict[str, tuple[Range, ...]],
    notes: list[str],
) -> Filters:
    for facet, values in req.include.items():
        old = include.get(facet, ())
        include[facet] = tuple(dict.fromkeys([*old, *values]))
        if facet in req.match:
            old_mode = match.get(facet)
            match[facet] = "any" if req.match[facet] == "any" and not old else req.match[facet]
            if old and old_mode == "any" != req.match[facet]:
                match[facet] = "all"
    for facet, raw in req.ranges.items():
        new = _spans(raw)
        if ranges.get(facet) and ranges[facet] != new:
            old_words = " or ".join(_span_words(r) for r in ranges[facet])
            notes.append(
                f"I replaced your earlier {facet} ({old_words}) with {' or '.join(_span_words(r) for r in new)}."
            )
        ranges[facet] = new
    return _with(f, include={k: v for k, v in include.items() if v}, match=match, ranges=ranges)


def _exclusions(f: Filters, req: Request, notes: list[str]) -> Filters:
    include = {k: tuple(v) for k, v in f.include.items()}
    exclude = {k: tuple(v) for k, v in f.exclude.items()}
    for facet, values in req.include.items():
        lifted = [v for v in exclude.get(facet, ()) if v in values]
        if lifted:
            exclude[facet] = tuple(v for v in exclude[facet] if v not in lifted)
            notes.append(f"You asked for {', '.join(lifted)} now, so I dropped your earlier exclusion of it.")
    for facet, values in req.exclude.items():
        dropped = [v for v in include.get(facet, ()) if v in values]
        if dropped:
            include[facet] = tuple(v for v in include[facet] if v not in dropped)
            notes.append(f"You now exclude {', '.join(dropped)}, so I dropped your earlier wish for it.")
        exclude[facet] = tuple(dict.fromkeys([*exclude.get(facet, ()), *values]))
    if req.exclude_terms:
        exclude["text"] = tuple(dict.fromkeys([*exclude.get("text", ()), *req.exclude_terms]))
    exclude_ranges = dict(f.exclude_ranges)
    for facet, raw in req.exclude_ranges.items():
        exclude_ranges[facet] = tuple(dict.fromkeys([*exclude_ranges.get(facet, ()), *_spans(raw)]))
    return _with(
        f,
        include={k: v for k, v in include.items() if v},
        exclude={k: v for k, v in exclude.items() if v},
        exclude_ranges=exclude_ranges,
    )


def _soft(wish: Wish, req: Request, filters: Filters) -> Wish:
    def joined(old: Mapping[str, tuple[str, ...]], new: Mapping[str, list[str]]) -> dict[str, tuple[str, ...]]:
        out = {k: tuple(v) for k, v in old.items()}
        for k, v in new.items():
            out[k] = tuple(dict.fromkeys([*out.get(k, ()), *v]))
        return out

    inferred = joined(wish.inferred, req.inferred)
    inferred = {f: tuple(v for v in vals if v in filters.include.get(f, ())) for f, vals in inferred.items()}
    return Wish(
        filters=filters,
        prefer=joined(wish.prefer, req.prefer),
        avoid=joined(wish.avoid, req.avoid),
        avoid_terms=tuple(dict.fromkeys([*wish.avoid_terms, *req.avoid_terms])),
        inferred={f: v for f, v in inferred.items() if v},
        last_added={f: tuple(v) for f, v in req.include.items()},
    )
