"""The request grammar: one message -> constraints over the catalogue's facets, for any catalogue.

A message is read as clauses. Within a clause, a negation ("no", "nothing with", "without", "except", "not
from") opens a negative scope that covers every facet value and quantity after it up to the clause's end
("no horror and no gore", "nothing with horror in it"); "not too X" / "nothing too X" / "less X" is a soft
preference, never a contradiction. Values of one facet joined by "or" (or "/") are a union ("comedy or drama",
"60s or 70s"); disjoint periods joined by "and" are a union too ("from the 60s and 70s"); overlapping ones
intersect ("90s, after 1995"). Quantities go to the facet of their kind (a year to the year facet, "$20" to the
facet priced in dollars, "2 hours" to the one measured in minutes); words for a facet the catalogue does not have
stay search text and the request says so (``unapplied``) — never an empty answer from a filter that cannot exist.
Negated words that name no facet value ("nothing latex") become text exclusions (``exclude_terms``), stated back.

The grammar also says how the message relates to the conversation (``form`` and ``mode``): a full new request
("a funny crime movie after 2000") replaces the earlier wish, a refinement ("only 90s please") adds to it, a
correction ("no, I meant horror") replaces what the previous message said, and a topic switch ("now something
completely different") clears it. Memory applies that; the grammar only reads the message.
"""

from __future__ import annotations

import re

from agentrec.agent.grammar_numbers import apply_quantities, is_topic_period, length_spans
from agentrec.agent.lexicon import STOPWORDS, Lexicon
from agentrec.agent.quantities import find_quantities
from agentrec.agent.request import Hit, Request, add, linked

__all__ = ["Request", "parse"]


_STRONG = re.compile(r"[.;!?]|\b(?:but|however|though|although|yet|whereas)\b")
_NEGATOR = re.compile(
    r"\b(?:no|not|nothing|none|without|never|avoid(?:ing)?|skip|exclud(?:e|ing)|except|minus|neither|nor|"
    r"hate|hated|dislike|disliked|(?:don'?t|do\s+not|didn'?t|did\s+not)\s+(?:want|like|care\s+for|need)|"
    r"not\s+into|no\s+more|sick\s+of|tired\s+of|enough\s+of|other\s+than|apart\s+from|rather\s+than|instead\s+of|"
    r"anything\s+but|everything\s+but|free\s+of|-free)\b"
)
_SOFT = re.compile(
    r"\b(?:(?:not|nothing|no|none)\s+(?:too|overly|very|so|that|super|particularly|excessively|too\s+much)|"
    r"less|a\s+bit\s+less|without\s+too\s+much|not\s+much)\b"
)
_RESET_POSITIVE = re.compile(r"^\s*(?:and|or|,)?\s*(?:a|an|some|something|i|also|plus|then)\b")
_SUFFIX_NEG = re.compile(
    r"^[^.;!?,]{0,20}?\b(?:is|are)\s+(?:out|a\s+no|off\s+the\s+table|not\s+for\s+me)\b|^\s*please\s+no\b"
)
_FILLER = STOPWORDS
_HEAD = re.compile(
    r"^\W*(?:(?:ok(?:ay)?|so|well|hmm+|now|then|and\s+now|alright|hey|hi|hello|great|thanks)\W+)*"
    r"(?:(?:i(?:'d|\s+would)?\s+(?:want|like|love|need)(?:\s+to\s+\w+)?|i'?m\s+(?:looking\s+for|after|in\s+the\s+mood\s+for)|"
    r"show\s+me|give\s+me|find\s+me|get\s+me|recommend(?:\s+me)?|suggest|got\s+any|any\s+good|can\s+you\s+(?:recommend|"
    r"suggest|find|show\s+me)|looking\s+for|how\s+about|what\s+about)\W+)?(?:a|an|some|any|\d+|two|three|four|five|ten)\b"
)
_REFINE_OPEN = re.compile(
    r"^\W*(?:only|just|but|and|also|with|without|no|not|nothing|none|from|in|after|before|since|under|over|less|more|"
    r"make\s+it|preferably|ideally|maybe|something|anything|ideally|same|older|newer|shorter|longer|cheaper)\b"
)
# Words that add to the wish wherever they stand ("a bit of drama too", "also a comedy").
_REFINE_ANY = re.compile(r"\b(?:too|also|as\s+well|a\s+bit\s+of|a\s+little|a\s+touch\s+of|add|plus|extra)\b")
_CORRECT = re.compile(
    r"\b(?:i\s+meant|i\s+mean|meant|i\s+said)\b|^\W*(?:no|nope|sorry|oops)\W+(?:i\s+)?(?:wanted|want)\b"
)
_SWITCH = re.compile(
    r"\b(?:something|anything)\s+(?:completely|totally|entirely|really|very)?\s*(?:different|else)\b|"
    r"\bchange\s+of\s+(?:plan|plans|pace|topic|mood)\b|\bnew\s+topic\b|\bforget\s+(?:that|it|about\s+(?:that|it)|all\s+that|those)\b"
)
_INSTEAD = re.compile(r"\b(?:instead|rather)\b")


def parse(message: str, lexicon: Lexicon) -> Request:
    """Read one message (already stripped of titles and references) into facet constraints.

    Args:
        message: the user's words; titles and list references should be blanked out first.
        lexicon: the catalogue's phrases (:class:`agentrec.agent.lexicon.Lexicon`).

    Returns:
        The :class:`Request`; nothing the user said is dropped without a line in ``unapplied`` or ``notes``.
    """
    text = " " + re.sub(r"\s+", " ", message.replace("’", "'").lower()) + " "
    req = Request()
    hits = _find_hits(text, lexicon, req)
    masked = _mask(text, hits)
    _assign_polarity(masked, hits)
    _apply_values(text, [h for h in hits if h.ref is not None], lexicon, req)
    apply_quantities(text, [h for h in hits if h.span is not None], lexicon, req)
    _free_words(masked, req, lexicon)
    _resolve_conflicts(req, [h for h in hits if h.ref is not None])
    req.form, req.mode = _form(text, req), _mode(text, req)
    return req


def _find_hits(text: str, lexicon: Lexicon, req: Request) -> list[Hit]:
    spans = find_quantities(text, lexicon.pack.units)
    spans += [s for s in length_spans(text, lexicon) if not any(x.start < s.end and s.start < x.end for x in spans)]
    topics = [s for s in spans if is_topic_period(text, s)]
    spans = [s for s in spans if s not in topics]
    req.notes.extend(f"I read '{s.phrase}' as what it is about, not as when it was made." for s in topics)
    hits = [Hit(s.start, s.end, s.phrase, span=s) for s in spans]
    for start, end, ref in lexicon.find(text):
        if not any(h.start < end and start < h.end for h in hits):
            hits.append(Hit(start, end, text[start:end], ref=ref))
    hits.sort(key=lambda h: h.start)
    return hits


def _mask(text: str, hits: list[Hit]) -> str:
    """``text`` with every hit replaced by a placeholder of the same length (``#``), so scopes see only words."""
    chars = list(text)
    for h in hits:
        chars[h.start : h.end] = "#" * (h.end - h.start)
    return "".join(chars)


def _assign_polarity(masked: str, hits: list[Hit]) -> None:
    """Walk each clause left to right: a negation covers what follows it up to the clause's end."""
    for hit in hits:
        cut = max((m.end() for m in _STRONG.finditer(masked, 0, hit.start)), default=0)
        clause = masked[cut : hit.start]
        # A comma ends a negation unless the next words continue it ("no horror, no gore" is two negations).
        parts = re.split(r",", clause)
        scope = parts[-1]
        if _RESET_POSITIVE.search(scope.split("#")[-1]) and not _NEGATOR.search(scope.split("#")[-1]):
            scope = scope.split("#")[-1]
        neg = [m for m in _NEGATOR.finditer(scope)]
        soft = [m for m in _SOFT.finditer(scope)]
        if hit.span is not None and neg and "#" in scope[neg[-1].end() :]:
            # A period or an amount is negated only by a negation right before it ("not from the 60s", "nothing
            # before 1990"); in "adventure without animation from the 80s" the negation is about animation.
            neg, soft = [], []
        if soft and (not neg or soft[-1].start() >= neg[-1].start() - 1):
            hit.polarity = "avoid"
        elif neg:
            hit.polarity = "exclude"
        elif _SUFFIX_NEG.search(masked[hit.end :]):
            hit.polarity = "exclude"


def _apply_values(text: str, hits: list[Hit], lexicon: Lexicon, req: Request) -> None:
    """Facet values: includes (with or-groups), exclusions, soft avoidances, topic-word inferences."""
    for hit in hits:
        assert hit.ref is not None
        req.mentions.append(("not " if hit.polarity == "exclude" else "less " if hit.polarity == "avoid" else "")
                            + f"{hit.phrase} -> {hit.ref.facet}: {'/'.join(hit.ref.values) or 'nothing'}")  # fmt: skip
    valued = [h for h in hits if h.ref is not None and h.ref.values]
    for hit in valued:
        assert hit.ref is not None
        facet, values = hit.ref.facet, list(hit.ref.values)
        if hit.polarity == "exclude":
            add(req.exclude, facet, values)
            if facet in lexicon.soft and hit.phrase not in req.exclude_terms:
                req.exclude_terms.append(hit.phrase)  # free tags are sparse: the text must not mention it either
                req.notes.append(f"I left out items tagged '{hit.phrase}' and items whose text mentions it.")
        elif hit.polarity == "avoid":
            add(req.avoid, facet, values)
            if facet in lexicon.soft and hit.phrase not in req.avoid_terms:
                req.avoid_terms.append(hit.phrase)  # free tags are sparse: a text that mentions it counts too
            else:
                req.notes.append(
                    f"I took less {facet} {', '.join(values)} as a preference (those come last), not a filter."
                )
        if hit.ref.origin == "compound":
            req.notes.append(f"I read '{hit.phrase}' as {' and '.join(values)}.")
    positive = [h for h in valued if h.polarity == "include"]
    for facet in dict.fromkeys(h.ref.facet for h in positive if h.ref is not None):
        group = [h for h in positive if h.ref is not None and h.ref.facet == facet]
        _include_group(text, facet, group, lexicon, req)


def _include_group(text: str, facet: str, group: list[Hit], lexicon: Lexicon, req: Request) -> None:
    links = [linked(text, a, b) for a, b in zip(group, group[1:], strict=False)]
    for i in range(len(links) - 2, -1, -1):  # "comedy, horror or thriller": the commas belong to the "or"
        if links[i] == "," and links[i + 1] == "or":
            links[i] = "or"
    values = [v for h in group if h.ref is not None for v in h.ref.values]
    multi = lexicon.facets[facet].multi if facet in lexicon.facets else True
    if facet in lexicon.soft or not lexicon.facets[facet].filterable:
        add(req.prefer, facet, values)
        req.text = " ".join(dict.fromkeys([*req.text.split(), *(h.phrase for h in group)]))
        return
    group, links = _compounds(text, facet, group, links, lexicon, req)
    values = [v for h in group if h.ref is not None for v in h.ref.values]
    if len(group) == 1 and group[0].ref is not None and group[0].ref.origin == "head":
        add(req.include, facet, values)  # a head noun: "tape" is any kind of tape
        add(req.weak, facet, values)
        req.weak_terms.append(group[0].phrase)
        req.match[facet] = "any"
        req.text = " ".join(dict.fromkeys([*req.text.split(), group[0].phrase]))
        return
    if any(h.ref is not None and h.ref.any_of for h in group):
        links = ["or" if h.ref is not None and h.ref.any_of else link for h, link in zip(group, links, strict=False)]
    if "or" in links and "and" in links:
        in_choice = [
            (i > 0 and links[i - 1] == "or") or (i < len(links) and links[i] == "or") for i in range(len(group))
        ]
        must = [v for h, c in zip(group, in_choice, strict=True) if not c and h.ref for v in h.ref.values]
        choice = [v for h, c in zip(group, in_choice, strict=True) if c and h.ref for v in h.ref.values]
        add(req.include, facet, must)
        req.match[facet] = "all"
        add(req.prefer, facet, choice)
        req.notes.append(
            f"One filter cannot hold {' and '.join(must)} together with '{' or '.join(choice)}', so {', '.join(must)} "
            f"is a must and {' or '.join(choice)} a preference."
        )
    else:
        add(req.include, facet, values)
        any_of = "or" in links or not multi
        if len(set(values)) > 1 or facet not in req.match:
            req.match[facet] = "any" if any_of else "all"
    topical = [h for h in group if h.ref is not None and (h.ref.origin == "topic" or _in_topic(text, h))]
    topics = [v for h in topical if h.ref is not None for v in h.ref.values]
    named = {v for h in group if h.ref is not None and h not in topical for v in h.ref.values}
    inferred = [v for v in topics if v not in named]
    if inferred:
        add(req.inferred, facet, inferred)
        words = ", ".join(f"'{h.phrase}'" for h in topical)
        req.notes.append(f"I read {words} as {facet} {', '.join(dict.fromkeys(inferred))}.")


_TOPIC_CONTEXT = re.compile(r"\b(?:involv(?:es|ing)|about|featuring|with|has|have|thinking of)\b[^.;!?,]*$")
_TOPIC_AFTER = re.compile(r"\s+(?:in\s+it|as\s+(?:a\s+|the\s+)?(?:setting|backdrop|theme))\b")


def _in_topic(text: str, hit: Hit) -> bool:
    """True when a value word sits in a topic phrase ("something with cold war in it", "it involves magic")."""
    cut = max((m.end() for m in _STRONG.finditer(text, 0, hit.start)), default=0)
    prefix = text[cut : hit.start].split(",")[-1]
    return bool(_TOPIC_CONTEXT.search(prefix) or _TOPIC_AFTER.match(text, hit.end))


_PURPOSE = re.compile(
    r"^\s*(?:for|to\s+go\s+with|compatible\s+with|that\s+fits?|to\s+fit)\s+(?:my|a|an|the|your|our)?\s*$"
)


def _compounds(
    text: str, facet: str, group: list[Hit], links: list[str], lexicon: Lexicon, req: Request
) -> tuple[list[Hit], list[str]]:
    """Values no item carries together, joined by "and": a compound keeps its head, a list becomes a union.

    "3D printer filament" (two category values side by side that never meet on one item) is filament for a 3D
    printer: the last one is the must, the first a preference. "gloves and stethoscopes" (apart) means either.
    On a catalogue where they do meet ("a crime drama") both stay musts.
    """
    if len(group) < 2:
        return group, links
    keep, out_links = [group[0]], []
    for b, link in zip(group[1:], links, strict=True):
        a = keep[-1]
        assert a.ref is not None and b.ref is not None
        if link != "and" or lexicon.cooccur(facet, a.ref.values, b.ref.values):
            keep.append(b)
            out_links.append(link)
        elif not text[a.end : b.start].strip() or _PURPOSE.match(text[a.end : b.start]):
            # A compound: one value only describes the other. Side by side the last word is the head ("3D printer
            # filament"); after "for" the first is ("an extruder for my 3D printer").
            head, mod = (b, a) if not text[a.end : b.start].strip() else (a, b)
            keep[-1] = head
            add(req.prefer, facet, list(mod.ref.values))  # type: ignore[union-attr]
            req.text = " ".join(dict.fromkeys([*req.text.split(), mod.phrase]))
            req.notes.append(f"I read '{text[a.start : b.end].strip()}' as {', '.join(head.ref.values)} "  # type: ignore[union-attr]
                             f"(for {mod.phrase}).")  # fmt: skip
        else:
            keep.append(b)
            out_links.append("or")
            req.notes.append(f"Nothing is both {a.phrase} and {b.phrase}, so I show either.")
    return keep, out_links


def _free_words(masked: str, req: Request, lexicon: Lexicon) -> None:
    """Words that name no facet value: positive ones are search text, negated ones text exclusions."""
    pack = lexicon.pack
    nouns = {*pack.nouns, pack.item, pack.items, pack.verb, pack.seen}
    kept: list[str] = []
    free: list[str] = []
    for clause in _STRONG.split(masked):
        for part in clause.split(","):
            neg = _NEGATOR.search(part)
            soft = _SOFT.search(part)
            cut = min((m.start() for m in (neg, soft) if m is not None), default=len(part))
            kept.extend(_content(part[:cut], nouns))
            if cut < len(part):
                words = _content(part[cut:], nouns)
                target = req.avoid_terms if soft is not None and soft.start() == cut else free
                target.extend(w for w in words if w not in target)
    req.text = " ".join(dict.fromkeys([*req.text.split(), *kept]))
    req.exclude_terms.extend(w for w in free if w not in req.exclude_terms)
    if free:
        req.notes.append(
            "Nothing in the catalogue's facets matches "
            + ", ".join(f"'{w}'" for w in free)
            + ", so I left out items whose text mentions it."
        )
    if req.avoid_terms:
        req.notes.append(
            "I took "
            + ", ".join(f"'{w}'" for w in req.avoid_terms)
            + " as a preference (less of it first), not a filter."
        )


def _content(words: str, nouns: set[str]) -> list[str]:
    out = []
    for w in re.findall(r"[a-z0-9][a-z0-9'&+.-]*", words):
        w = w.strip(".'-")
        if len(w) > 1 and w not in _FILLER and w not in nouns and not w.isdigit():
            out.append(w)
    return out


def _resolve_conflicts(req: Request, hits: list[Hit]) -> None:
    """A value both asked for and excluded: contradictory only when the same word does both.

    "scary but not gory" (both read as Horror) keeps Horror and ranks the gory ones last; "horror but not horror"
    is a contradiction, answered with a question.
    """
    for facet, values in list(req.exclude.items()):
        both = [v for v in values if v in req.include.get(facet, [])]
        if not both:
            continue

        def words(polarity: str, value: str) -> set[str]:
            return {h.phrase for h in hits if h.ref and h.polarity == polarity and value in h.ref.values}

        same = [v for v in both if words("include", v) & words("exclude", v)]
        if same:
            req.conflicts.append(f"you asked for {facet} {', '.join(same)} and also to exclude it")
            continue
        req.exclude[facet] = [v for v in values if v not in both]
        if not req.exclude[facet]:
            del req.exclude[facet]
        said = sorted({w for v in both for w in words("exclude", v)})
        req.avoid_terms.extend(w for w in said if w not in req.avoid_terms)
        req.notes.append(
            f"{', '.join(repr(w) for w in said)} also reads as {facet} {', '.join(both)}, which you asked for, so I "
            f"kept {', '.join(both)} and put the most {said[0]} ones last instead of leaving them all out."
        )


def _form(text: str, req: Request) -> str:
    if req.is_empty():
        return "none"
    if _REFINE_OPEN.match(text) or _REFINE_ANY.search(text):
        return "refine"
    return "head" if _HEAD.match(text) else "bare"


def _mode(text: str, req: Request) -> str | None:
    m = _SWITCH.search(text)
    # "Show me something different" after a list turned down asks for other items, not another topic: a switch
    # needs an intensifier ("completely different"), a topic word, or a new wish in the same message.
    if m and (re.search(r"completely|totally|entirely|topic|plan|forget", m.group(0)) or req.include or req.ranges):
        return "switch"
    if _CORRECT.search(text):
        return "correct"
    if _INSTEAD.search(text):
        return "instead"
    return None
