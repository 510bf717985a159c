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
from typing import Any

from agentrec.agent.grammar import Request
from agentrec.facet_index import item_text
from agentrec.filters_types import mentions_word
from agentrec.schema import Filters, Range
from agentrec.types import Candidate

__all__ = ["Wish", "merge", "soft_rerank"]

Counter = Callable[[Filters], int]
#: The most words a words-only wish carries from turn to turn.
MAX_TEXT_WORDS = 24
Fits = Callable[[Filters, Filters], bool]


@dataclass(frozen=True)
class Wish:
    """What the conversation asks for so far.

    Attributes:
        filters: the hard constraints (facet values, spans, words the items' text must not mention).
        prefer / avoid: facet -> values that only steer the ranking.
        avoid_terms: words that only steer the ranking down ("not too heavy").
        inferred: facet -> included values read only from topic words (given up first).
        last_added: facet -> values the latest message added (what a correction takes back).
        text: the free words a wish that began without a facet value searches for, kept across refinements
            ("glue", then "waterproof" -> "glue waterproof"); empty when the wish began with facet values (those
            carry it) or the words start a new request.
    """

    filters: Filters = field(default_factory=Filters)
    prefer: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    avoid: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    avoid_terms: tuple[str, ...] = ()
    inferred: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    last_added: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    text: str = ""

    @property
    def has_wish(self) -> bool:
        """True when something is asked for (values or spans), beyond exclusions."""
        return bool(self.filters.include or self.filters.ranges)


def _spans(raw: list[tuple[float | None, float | None]]) -> tuple[Range, ...]:
    return tuple(Range(lo, hi) for lo, hi in raw)


def _with(f: Filters, **changes: object) -> Filters:
    out = replace(f, **changes)  # type: ignore[arg-type]
    if set(out.match) - set(out.include):  # a facet no longer asked for keeps no match mode
        out = replace(out, match={k: v for k, v in out.match.items() if k in out.include})
    return out


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
        kept = "; ".join(x for x in (_words(wish.filters.exclude, {}), ", ".join(wish.filters.exclude_words)) if x)
        notes.append(
            f"{why}: I dropped the earlier wish ({dropped})" + (f"; still leaving out {kept}." if kept else ".")
        )
    f = wish.filters
    kept_filters = Filters(
        exclude=f.exclude,
        exclude_ranges=f.exclude_ranges,
        min_ratings=f.min_ratings,
        exclude_items=f.exclude_items,
        exclude_words=f.exclude_words,
    )
    return Wish(filters=kept_filters)


def _words_alone(req: Request) -> bool:
    """A message of free words only: no facet value (not even a soft one), no refinement wording, no mode."""
    return req.mode is None and req.form != "refine" and not (req.include or req.ranges or req.prefer or req.avoid)


def merge(
    wish: Wish,
    req: Request,
    *,
    count: Counter,
    fits: Fits | None = None,
    subject: Fits | None = None,
    topic: Callable[[str, str], bool] | None = None,
) -> tuple[Wish, list[str]]:
    """The wish after one more message, and the notes that say what changed.

    Args:
        wish: the conversation's wish so far.
        req: the message, read by :func:`agentrec.agent.grammar.parse`.
        count: how many items (not turned down) meet some filters, counting up to what a list needs; used to tell
            a refinement that narrows from one that leaves nothing.
        fits: ``fits(with_heads, without_heads)`` says whether the request's words fit the items its head nouns
            select about as well as the items without them (judged on the item text); None skips the check.
        subject: ``subject(wish, fresh)`` says whether a message of words alone still fits the standing wish;
            when it does not ("glue" after "3D printer filament"), the message is a new request. None: it fits.
        topic: ``topic(standing, words)`` says whether a message's words fit the items a words-only wish's text
            finds ("waterproof" after "glue" does, "safety glasses" does not). None: they fit.
    """
    notes: list[str] = []
    standing = wish.text
    if req.mode == "switch":
        wish, standing = _start_fresh(wish, notes, "Something different"), ""
    elif req.form == "head" and wish.has_wish and req.mode is None and (req.include or req.ranges):
        wish, standing = _start_fresh(wish, notes, "A new request"), ""
    elif subject is not None and wish.filters.include and _words_alone(req):
        fresh = _start_fresh(wish, [], "")
        if count(fresh.filters) and not subject(wish.filters, fresh.filters):
            why = f"Nothing you asked for before fits '{req.text}', so this is a new request"
            wish, standing = _start_fresh(wish, notes, why), ""
    if standing and req.text and _words_alone(req) and topic is not None and not topic(standing, req.text):
        notes.append(
            f"'{req.text}' is not about '{standing}', so this is a new request: I no longer search for '{standing}'."
        )
        standing = ""
    include = {k: tuple(v) for k, v in wish.filters.include.items()}
    match = dict(wish.filters.match)
    ranges = dict(wish.filters.ranges)
    if req.mode == "correct":
        for facet in req.include:
            # What the latest wish on this facet said; without one, the whole facet ("no, I meant X" replaces it).
            taken = wish.last_added.get(facet) or include.get(facet, ())
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
    prefer: dict[str, list[str]] = {}
    if req.weak and count(merged) == 0:
        merged = _drop_weak(req, merged, count, notes)
    elif req.weak and fits is not None:
        lighter = _without_weak(req, merged)
        if count(lighter) and not fits(merged, lighter):
            named = list(dict.fromkeys(v for vals in req.weak.values() for v in vals))
            values = ", ".join(named[:3]) + (" ..." if len(named) > 3 else "")
            words = ", ".join(f"'{w}'" for w in req.weak_terms)
            notes.append(
                f"I did not limit the list to {values}: the rest of your request fits other items far better, so I "
                f"searched for {words} in the item text. Name the category to keep to it."
            )
            merged = lighter
    if req.include and merged.include != before.include:
        merged = _relax(wish, req, before, merged, count, prefer, notes)
    text = _text(standing, req, notes) if standing or not merged.include else ""
    return replace(_soft(wish, req, merged, extra_prefer=prefer), text=text), notes


def _text(standing: str, req: Request, notes: list[str]) -> str:
    """The free words the wish searches for after ``req``: the standing ones, with the message's added."""
    if not standing or not req.text:
        return standing or req.text
    if req.mode in ("correct", "instead"):
        notes.append(f"Searching for '{req.text}' instead of '{standing}'.")
        return req.text
    words = list(dict.fromkeys(f"{standing} {req.text}".split()))
    combined = " ".join(words[-MAX_TEXT_WORDS:])  # a long conversation keeps its latest words
    if combined != standing:
        notes.append(f"I kept '{standing}' from before: searching for '{combined}'.")
    return combined


def _without_weak(req: Request, merged: Filters) -> Filters:
    include = {f: tuple(v for v in vals if v not in req.weak.get(f, [])) for f, vals in merged.include.items()}
    return _with(merged, include={f: v for f, v in include.items() if v})


def _drop_weak(req: Request, merged: Filters, count: Counter, notes: list[str]) -> Filters:
    """Values read only from a head noun that leave nothing: searched as text instead, with a note."""
    lighter = _without_weak(req, merged)
    if count(lighter) == 0:
        return merged
    values = [v for vals in req.weak.values() for v in vals]
    shown = ", ".join(values[:3]) + (" ..." if len(values) > 3 else "")
    notes.append(f"Nothing else you asked for is in {shown}, so I looked for those words in the item text instead.")
    return lighter


def _relax(
    wish: Wish,
    req: Request,
    before: Filters,
    merged: Filters,
    count: Counter,
    prefer: dict[str, list[str]],
    notes: list[str],
) -> Filters:
    """A refinement that leaves fewer than a list's worth: give up topic readings first, then keep the earlier wish.

    Values read only from a topic word ("detective" -> Mystery) go first when that leaves more items. When the
    new values still meet no item together with the earlier wish, the earlier wish stays (what the user stated is
    never dropped unasked) and the new values only steer the ranking; the note says how to switch instead.
    """
    n = count(merged)
    named_now = {(f, v) for f, vals in req.include.items() for v in vals if v not in req.inferred.get(f, [])}
    topical = {f: [v for v in vals if v in wish.inferred.get(f, ()) and (f, v) not in named_now]
               for f, vals in merged.include.items()}  # fmt: skip
    if any(topical.values()) and n < count(Filters()):
        relaxed = _with(merged, include={f: tuple(v for v in vals if v not in topical.get(f, ()))
                                         for f, vals in merged.include.items()})  # fmt: skip
        m = count(relaxed)
        if m > n:
            gone = ", ".join(v for vals in topical.values() for v in vals)
            few = "Nothing" if n == 0 else f"Only {n} item(s) not turned down yet"
            notes.append(f"{few} {'is' if n == 0 else 'are'} {_words(merged.include, {})} together, so I dropped "
                         f"{gone}, which I had only read from a topic word.")  # fmt: skip
            return relaxed
    if n > 0 or req.mode in ("instead", "correct"):
        return merged
    new = {f: [v for v in vals if v not in before.include.get(f, ())] for f, vals in req.include.items()}
    new_words = ", ".join(v for vals in new.values() for v in vals)
    if not new_words or not before.include:
        return merged
    for f, vals in new.items():
        prefer.setdefault(f, []).extend(vals)
    kept = _words(before.include, {})
    notes.append(f"Nothing is {_words(merged.include, {})} together, so I kept {kept} and looked for {new_words} "
                 f"among those; say '{new_words} instead' to switch.")  # fmt: skip
    return before


def _add_values(
    f: Filters,
    req: Request,
    include: dict[str, tuple[str, ...]],
    match: dict[str, Any],
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
    exclude_ranges = dict(f.exclude_ranges)
    for facet, raw in req.exclude_ranges.items():
        exclude_ranges[facet] = tuple(dict.fromkeys([*exclude_ranges.get(facet, ()), *_spans(raw)]))
    return _with(
        f,
        include={k: v for k, v in include.items() if v},
        exclude={k: v for k, v in exclude.items() if v},
        exclude_ranges=exclude_ranges,
        exclude_words=tuple(dict.fromkeys([*f.exclude_words, *req.exclude_terms])),
    )


def _soft(wish: Wish, req: Request, filters: Filters, *, extra_prefer: Mapping[str, list[str]]) -> Wish:
    def joined(old: Mapping[str, tuple[str, ...]], new: Mapping[str, list[str]]) -> dict[str, tuple[str, ...]]:
        out = {k: tuple(v) for k, v in old.items()}
        for k, v in new.items():
            out[k] = tuple(dict.fromkeys([*out.get(k, ()), *v]))
        return out

    # A value is a topic reading while the user has only ever spoken of it through topic words: named once
    # ("a war movie"), it stays firm even when a later topic word repeats it ("I'm thinking of war crimes").
    firm = {(f, v) for f, vals in wish.filters.include.items() for v in vals if v not in wish.inferred.get(f, ())}
    firm |= {(f, v) for f, vals in req.include.items() for v in vals if v not in req.inferred.get(f, [])}
    inferred = joined(wish.inferred, req.inferred)
    inferred = {f: tuple(v for v in vals if v in filters.include.get(f, ()) and (f, v) not in firm)
                for f, vals in inferred.items()}  # fmt: skip
    return Wish(
        filters=filters,
        prefer=joined(joined(wish.prefer, req.prefer), extra_prefer),
        avoid=joined(wish.avoid, req.avoid),
        avoid_terms=tuple(dict.fromkeys([*wish.avoid_terms, *req.avoid_terms])),
        inferred={f: v for f, v in inferred.items() if v},
        last_added={f: tuple(v) for f, v in req.include.items()} or dict(wish.last_added),
    )


def soft_rerank(cands: list[Candidate], wish: Wish, toolbox: Any) -> list[Candidate]:
    """Candidates with the wish's preferences first and what it asks to avoid last; otherwise in retrieval order.

    Preferred values (``wish.prefer``) lift a candidate that carries one; an avoided value (``wish.avoid``) or a
    word to avoid in its text (``wish.avoid_terms``) puts it after the others. Nothing is removed: these are
    wishes, not filters.
    """
    if not (wish.prefer or wish.avoid or wish.avoid_terms):
        return cands
    schema, catalog = toolbox.schema, toolbox.catalog

    def carries(item: Any, table: Mapping[str, tuple[str, ...]]) -> bool:
        for facet, values in table.items():
            have = schema.item_values(item, facet) if schema.has(facet) else None
            if isinstance(have, tuple) and {v.casefold() for v in have} & {v.casefold() for v in values}:
                return True
        return False

    def key(pair: tuple[int, Candidate]) -> tuple[bool, bool, int]:
        rank, c = pair
        item = catalog[c.item_index]
        text = item_text(item)
        avoid = carries(item, wish.avoid) or any(mentions_word(text, w) for w in wish.avoid_terms)
        return avoid, not carries(item, wish.prefer), rank

    return [c for _r, c in sorted(enumerate(cands), key=key)]
