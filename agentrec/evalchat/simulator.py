"""A deterministic simulated user built from held-out data (InteRecAgent / iEvaLM protocol).

The user has a training history and a held-out target item. The opening request describes the target vaguely
from its attributes (one or two genres plus a decade or a keyword), never by title. Each later turn reacts to
the list shown: a hit when the target is in the top ``k``; otherwise the list is turned down (sometimes naming a
shown item it dislikes) and one more attribute is revealed (a more specific keyword, the decade, another genre,
an item from its history it liked). Phrasing comes from varied templates; every message passes the leakage
guard (:func:`agentrec.evalchat.leakage.leaks`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from agentrec.evalchat.leakage import leaks
from agentrec.types import Catalog, Item, Split

__all__ = ["Act", "Reaction", "RuleSimulator", "SimUser", "Stated", "select_users", "spoken_title"]

_SKIP_GENRES = {"(no genres listed)", "imax"}
_GENRE_WORDS = {"Sci-Fi": "sci-fi", "Children": "family", "Film-Noir": "film noir", "Science Fiction": "sci-fi"}
_DECADE_WORDS = {1920: "twenties", 1930: "thirties", 1940: "forties", 1950: "fifties", 1960: "sixties",
                 1970: "seventies", 1980: "eighties", 1990: "nineties"}  # fmt: skip

_OPEN = (
    "I'm looking for a {genres} movie{extra}.",
    "Can you recommend a {genres} film{extra}?",
    "Something {genres}{extra}, please.",
    "I feel like watching a {genres} film{extra}.",
    "Any good {genres} movies{extra}?",
    "Recommend me a {genres} movie{extra}.",
)
_OPEN_DECADE = (" from the {d}", " made in the {d}", " from the {d} if possible")
_OPEN_TAG = (" about {t}", " involving {t}", " that has {t} in it")
_REJECT = (
    "None of these, sorry.",
    "Hmm, none of those are quite it.",
    "Not these, I'm afraid.",
    "No, that's not what I'm after.",
    "I don't think any of those fit.",
    "Nope, not quite.",
)
_DISLIKE = ("I didn't like {title}.", "{title} was not for me.", "I really disliked {title}.")
_REVEAL = {
    "decade": ("It should be from the {v}.", "Preferably something from the {v}.", "Ideally made in the {v}."),
    "tag": ("Ideally it involves {v}.", "Something with {v} in it.", "I'm thinking of {v}.", "It should have {v}."),
    "genre": ("It should also be {v}.", "Make it {v} as well.", "A bit of {v} too."),
    "liked": ("I loved {v}.", "Something in the spirit of {v}.", "I really enjoyed {v}."),
}
# A tag naming a period ("1970s", "70s", "1984") would read as a second period contradicting the stated decade
# ("It should have 1970s" for a film made in the 2010s), as a genre-word tag would read as a genre: never said.
_PERIOD_TAG = re.compile(
    r"\b(?:1[89]|20)?\d0['’]?s\b|\b(?:18|19|20)\d{2}\b|\b(?:twenties|thirties|forties|fifties|sixties|seventies|"
    r"eighties|nineties)\b"
)
_AGE_TAGS = {"old", "older", "oldies", "new", "newer", "recent", "modern", "vintage"}
_NOTHING_NEW = ("Anything else?", "Can you try again?", "Show me something different.")


@dataclass(frozen=True)
class SimUser:
    """A simulated user: a known user with a training history and one held-out target.

    Attributes:
        user_id: raw user id (what the systems receive).
        user_index: user position in the split.
        target_index: item index of the held-out target.
        liked: item indices from the training history the user liked, most target-like first.
    """

    user_id: str
    user_index: int
    target_index: int
    liked: tuple[int, ...] = ()


@dataclass
class Stated:
    """Hard constraints the user has stated so far (checked independently against the catalogue)."""

    genres: list[str] = field(default_factory=list)
    year_min: int | None = None
    year_max: int | None = None

    def violations(self, item: Item) -> list[str]:
        """What ``item`` breaks: a stated genre it lacks, or a year outside the stated decade."""
        out = [f"lacks genre {g}" for g in self.genres if g.lower() not in {x.lower() for x in item.genres}]
        if self.year_min is not None and (
            item.year is None or not self.year_min <= item.year <= (self.year_max or 9999)
        ):
            out.append(f"year {item.year} outside {self.year_min}-{self.year_max}")
        return out


@dataclass(frozen=True)
class Act:
    """One thing said in a message: ``kind`` in open / reject / dislike / decade / tag / genre / liked / more."""

    kind: str
    value: str = ""


@dataclass(frozen=True)
class Reaction:
    """The user's answer to a list: ``hit`` ends the episode; else ``message`` and the items turned down."""

    hit: bool
    message: str | None = None
    rejected: tuple[int, ...] = ()


def spoken_title(title: str) -> str:
    """A catalogue title as a person would type it: "Matrix, The (1999)" -> "The Matrix"."""
    t = re.sub(r"\s*\([^)]*\)", "", title).strip() or title
    m = re.match(r"^(.*),\s*(The|A|An)$", t)
    return f"{m.group(2)} {m.group(1)}" if m else t


def _genre_word(g: str) -> str:
    return _GENRE_WORDS.get(g, g.lower())


def _decade(year: int, rng: random.Random) -> str:
    d = year // 10 * 10
    forms = [f"{d}s"] + ([f"{d % 100:02d}s", _DECADE_WORDS[d]] if d in _DECADE_WORDS else [])
    return rng.choice(forms)


def _usable_genres(item: Item) -> list[str]:
    return [g for g in item.genres if g.lower() not in _SKIP_GENRES]


def select_users(split: Split, catalog: Catalog, n: int, *, seed: int = 0, min_history: int = 5) -> list[SimUser]:
    """Pick ``n`` simulated users from the held-out test split, reproducibly.

    A user is eligible with at least ``min_history`` training interactions and a test item that has a genre
    and a year (preferring items rated 4 or more when ratings exist). The target is drawn with ``seed``.

    Raises:
        ValueError: when ``n`` < 1 or fewer than ``n`` users are eligible.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"episodes must be a positive integer, got {n!r}")
    rng = np.random.default_rng(seed)
    train, test = split.train, split.test
    hist_count = np.bincount(train.user_index, minlength=train.num_users)
    by_user: dict[int, list[int]] = {}
    good = test.rating >= 4 if test.rating is not None else np.ones(len(test), dtype=bool)
    for row in np.flatnonzero(good):
        u, i = int(test.user_index[row]), int(test.item_index[row])
        it = catalog[i]
        if hist_count[u] >= min_history and it.year is not None and _usable_genres(it):
            by_user.setdefault(u, []).append(i)
    eligible = sorted(by_user)
    if len(eligible) < n:
        raise ValueError(
            f"episodes={n} but only {len(eligible)} test users are eligible (>= {min_history} training items and a "
            "held-out item rated >= 4 with a genre and a year); ask for at most that many episodes"
        )
    chosen = sorted(rng.choice(len(eligible), size=n, replace=False).tolist())
    users = []
    for pos in chosen:
        u = eligible[pos]
        target = int(rng.choice(sorted(by_user[u])))
        users.append(SimUser(train.user_ids[u], u, target, _liked(split, catalog, u, target)))
    return users


def _liked(split: Split, catalog: Catalog, u: int, target: int, limit: int = 5) -> tuple[int, ...]:
    tr = split.train
    rows = np.flatnonzero(tr.user_index == u)
    if tr.rating is not None:
        rows = rows[tr.rating[rows] >= 4]
    tg = {g.lower() for g in catalog[target].genres}

    def sim(i: int) -> float:
        g = {x.lower() for x in catalog[i].genres}
        return len(g & tg) / len(g | tg) if g | tg else 0.0

    items = sorted({int(tr.item_index[r]) for r in rows}, key=lambda i: (-sim(i), i))
    return tuple(items[:limit])


class RuleSimulator:
    """The rule-based simulated user for one episode.

    Args:
        catalog: the catalogue (titles and attributes of the target, the shown and the liked items).
        user: the simulated user and its target.
        seed: the episode's seed (same seed, same messages).
        k: a hit is the target within the first ``k`` items shown.
        dislike_rate: chance of naming a shown item it dislikes when turning a list down.
    """

    def __init__(self, catalog: Catalog, user: SimUser, *, seed: int = 0, k: int = 10, dislike_rate: float = 0.4):
        self.catalog = catalog
        self.user = user
        self.k = k
        self.dislike_rate = dislike_rate
        self.rng = random.Random(seed * 1_000_003 + user.target_index * 7919 + user.user_index)
        self.target = catalog[user.target_index]
        self.stated = Stated()
        self.messages: list[str] = []
        genres = _usable_genres(self.target)
        self.rng.shuffle(genres)
        n_open = min(len(genres), self.rng.choice((1, 2)))
        self._open_genres, rest = genres[:n_open], genres[n_open:]
        tags = self._tags()
        self._open_with = self.rng.choice(("decade", "tag")) if tags else "decade"
        reveals: list[Act] = []
        if self._open_with == "tag":
            self._open_tag = tags.pop(0)
            reveals.append(Act("decade", _decade(self.target.year or 0, self.rng)))
        reveals += [Act("tag", t) for t in tags[:2]]
        reveals += [Act("genre", _genre_word(g)) for g in rest[:1]]
        for i in user.liked:
            title = spoken_title(catalog[i].title)
            if not leaks(title, self.target.title):
                reveals.append(Act("liked", title))
                break
        self.rng.shuffle(reveals)
        self._reveals = reveals

    def _tags(self) -> list[str]:
        kw = self.target.attributes.get("keywords", ()) if self.target.attributes else ()
        genre_words = {g.lower() for g in self.catalog.genres} | {_genre_word(g) for g in self.catalog.genres}
        seen: list[str] = []
        for t in [*self.target.tags, *(kw if isinstance(kw, (list, tuple)) else ())]:
            t = str(t).strip().lower()
            if (
                2 < len(t) <= 30
                and t not in genre_words
                and not _PERIOD_TAG.search(t)
                and t not in _AGE_TAGS
                and t not in seen
                and not leaks(t, self.target.title)
            ):
                seen.append(t)
        return seen[:4]

    # ------------------------------------------------------------------ protocol
    def opening(self) -> str:
        """The first request: one or two genres plus a decade or a keyword; never the title."""
        acts = [Act("genre", _genre_word(g)) for g in self._open_genres]
        self.stated.genres += self._open_genres
        if self._open_with == "decade":
            acts.append(Act("decade", _decade(self.target.year or 0, self.rng)))
            self._state_decade()
        else:
            acts.append(Act("tag", self._open_tag))
        return self._say([Act("open")] + acts)

    def react(self, shown: Sequence[int]) -> Reaction:
        """React to the list ``shown`` (item indices, best first)."""
        top = [int(i) for i in shown[: self.k]]
        if self.user.target_index in top:
            return Reaction(hit=True)
        acts = [Act("reject")]
        if top and self.rng.random() < self.dislike_rate:
            tg = {g.lower() for g in self.target.genres}
            worst = min(top, key=lambda i: (len(tg & {g.lower() for g in self.catalog[i].genres}), top.index(i)))
            acts.append(Act("dislike", spoken_title(self.catalog[worst].title)))
        if self._reveals:
            act = self._reveals.pop(0)
            acts.append(act)
            if act.kind == "decade":
                self._state_decade()
            elif act.kind == "genre":
                self.stated.genres += [g for g in _usable_genres(self.target) if _genre_word(g) == act.value]
        else:
            acts.append(Act("more"))
        return Reaction(hit=False, message=self._say(acts), rejected=tuple(top))

    def _state_decade(self) -> None:
        d = (self.target.year or 0) // 10 * 10
        self.stated.year_min, self.stated.year_max = d, d + 9

    # ------------------------------------------------------------------ phrasing
    def _say(self, acts: list[Act], attempts: int = 5) -> str:
        for _ in range(attempts):
            msg = self._render(acts)
            if not leaks(msg, self.target.title):
                self.messages.append(msg)
                return msg
        # Still leaking (an unlucky dislike title): drop the optional parts, keep the protocol's core.
        core = [a for a in acts if a.kind != "dislike"]
        msg = self._render(core)
        if leaks(msg, self.target.title):
            raise RuntimeError(f"simulated message leaks the target title {self.target.title!r}: {msg!r}")
        self.messages.append(msg)
        return msg

    def _render(self, acts: list[Act]) -> str:
        rng = self.rng
        if acts and acts[0].kind == "open":
            genres = " ".join(a.value for a in acts if a.kind == "genre")
            extra = ""
            for a in acts:
                if a.kind == "decade":
                    extra = rng.choice(_OPEN_DECADE).format(d=a.value)
                elif a.kind == "tag":
                    extra = rng.choice(_OPEN_TAG).format(t=a.value)
            return rng.choice(_OPEN).format(genres=genres, extra=extra)
        parts = []
        for a in acts:
            if a.kind == "reject":
                parts.append(rng.choice(_REJECT))
            elif a.kind == "dislike":
                parts.append(rng.choice(_DISLIKE).format(title=a.value))
            elif a.kind == "more":
                parts.append(rng.choice(_NOTHING_NEW))
            else:
                parts.append(rng.choice(_REVEAL[a.kind]).format(v=a.value))
        return " ".join(parts)
