"""Domain packs: the words of a catalogue's domain, as data (TOML), never as code.

A pack names the catalogue's entries and what a person does with them ("film" / "watch", "product" / "buy"),
gives example prompts, unit words for numeric facets, and the facet-value synonyms the catalogue's own
values miss ("scary" -> genre Horror). ``generic`` serves any catalogue; ``movies`` ships for film catalogues;
a user writes their own TOML file (same keys) and passes its path. A pack may ``extends = "<pack>"``:
its tables are laid over the parent's.

Keys (all optional except ``name``)::

    name = "books"
    extends = "generic"
    [words]      item, items, verb, seen (strings); nouns (list of request nouns that carry no constraint)
    examples = ["..."]
    demo = ["...", "..."]   a short conversation `agentrec demo` plays
    [units]      word -> unit ("dollars" = "$")
    [synonyms.<facet>]   value -> [phrases]   phrases that name the value
    [topics.<facet>]     value -> [phrases]   weaker evidence for the value (topic words)
    [compounds.<facet>]  phrase -> [values]   one phrase, several values ("rom-com")
    [not_values]         facet -> [phrases]   phrases that look like a value but name none
    [lengths]            unit, short, long    what "short" / "long" mean on the facet with that unit
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["DomainPack", "available_packs", "load_pack"]

_HERE = Path(__file__).resolve().parent
_WORD_KEYS = ("item", "items", "verb", "seen")
_TABLES = ("synonyms", "topics", "compounds")


@dataclass(frozen=True)
class DomainPack:
    """The words of one domain (see the module docstring for the keys).

    Attributes:
        name: the pack's name.
        item / items / verb / seen: how to speak of an entry ("film", "films", "watch", "seen").
        nouns: request nouns that carry no constraint ("movies", "products").
        examples: example prompts for the app and the CLI.
        demo: a short conversation that ``agentrec demo`` plays (the examples when the pack has none).
        units: unit word -> unit ("dollars" -> "$").
        synonyms / topics: facet -> value -> phrases (topics are weaker evidence).
        compounds: facet -> phrase -> values.
        not_values: facet -> phrases that name no value.
        lengths: ``{"unit": "min", "short": 100, "long": 140}`` or empty.
    """

    name: str
    item: str = "item"
    items: str = "items"
    verb: str = "try"
    seen: str = "tried"
    nouns: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    demo: tuple[str, ...] = ()
    units: Mapping[str, str] = field(default_factory=dict)
    synonyms: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    topics: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    compounds: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    not_values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    lengths: Mapping[str, Any] = field(default_factory=dict)


def available_packs() -> tuple[str, ...]:
    """The names of the packs that ship with agentrec."""
    return tuple(sorted(p.stem for p in _HERE.glob("*.toml")))


def load_pack(pack: str | Path | None = None) -> DomainPack:
    """Load a shipped pack by name (``"movies"``, ``"generic"``) or a TOML file by path; None gives ``generic``.

    Raises:
        ValueError: an unknown pack name, a file that is not valid TOML, or a key with the wrong type; the message
            names the file, the key and what was expected.
    """
    raw = _read(pack if pack is not None else "generic", seen=())
    return _build(raw)


def _read(pack: str | Path, *, seen: tuple[str, ...]) -> dict[str, Any]:
    path = Path(pack)
    if path.suffix != ".toml":
        path = _HERE / f"{pack}.toml"
        if not path.is_file():
            raise ValueError(
                f"unknown domain pack {str(pack)!r}; shipped packs are: {', '.join(available_packs())}, "
                "or give the path of your own .toml pack"
            )
    elif not path.is_file():
        raise ValueError(f"domain pack file {str(path)!r} does not exist; check the path")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"domain pack {str(path)!r} is not valid TOML: {e}") from e
    if not isinstance(raw.get("name"), str) or not raw["name"].strip():
        raise ValueError(f'domain pack {str(path)!r} needs a `name = "..."` line')
    parent = raw.get("extends")
    if parent is None:
        return raw
    if not isinstance(parent, str) or parent in seen or parent == raw["name"]:
        raise ValueError(f"domain pack {str(path)!r}: `extends` must name another pack, got {parent!r}")
    return _overlay(_read(parent, seen=(*seen, raw["name"])), raw)


def _overlay(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """``top`` laid over ``base``: tables merge key by key, everything else is replaced."""
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _overlay(out[key], value)
        else:
            out[key] = value
    return out


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"domain pack {where}: expected a list of strings, got {value!r}")
    return tuple(v.strip().lower() for v in value if v.strip())


def _facet_table(raw: Any, where: str) -> dict[str, dict[str, tuple[str, ...]]]:
    if not isinstance(raw, dict):
        raise ValueError(f"domain pack [{where}]: expected tables keyed by facet name, got {raw!r}")
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for facet, table in raw.items():
        if not isinstance(table, dict):
            raise ValueError(f"domain pack [{where}.{facet}]: expected `value = [phrases]` lines, got {table!r}")
        out[str(facet)] = {str(k): _strings(v, f"[{where}.{facet}] {k}") for k, v in table.items()}
    return out


def _build(raw: dict[str, Any]) -> DomainPack:
    words = raw.get("words", {})
    if not isinstance(words, dict):
        raise ValueError(f"domain pack [words]: expected a table, got {words!r}")
    for key in _WORD_KEYS:
        if key in words and not isinstance(words[key], str):
            raise ValueError(f"domain pack [words] {key}: expected a string, got {words[key]!r}")
    units = raw.get("units", {})
    if not isinstance(units, dict) or not all(isinstance(v, str) for v in units.values()):
        raise ValueError(f'domain pack [units]: expected `word = "unit"` lines, got {units!r}')
    not_values = raw.get("not_values", {})
    if not isinstance(not_values, dict):
        raise ValueError(f"domain pack [not_values]: expected `facet = [phrases]` lines, got {not_values!r}")
    tables = {t: _facet_table(raw.get(t, {}), t) for t in _TABLES}
    lengths = raw.get("lengths", {})
    if lengths and not (isinstance(lengths, dict) and {"unit", "short", "long"} <= set(lengths)):
        raise ValueError(f"domain pack [lengths]: expected unit, short and long, got {lengths!r}")
    # Compounds keep the values' case (they name values); phrases are lower-cased.
    compounds = {
        facet: {phrase.lower(): tuple(raw["compounds"][facet][phrase]) for phrase in table}
        for facet, table in tables["compounds"].items()
    }
    return DomainPack(
        name=raw["name"].strip(),
        **{k: words[k] for k in _WORD_KEYS if k in words},
        nouns=_strings(words.get("nouns", []), "[words] nouns"),
        examples=tuple(str(e) for e in raw.get("examples", [])),
        demo=tuple(str(e) for e in raw.get("demo", raw.get("examples", []))),
        units={str(k).lower(): v for k, v in units.items()},
        synonyms=tables["synonyms"],
        topics=tables["topics"],
        compounds=compounds,
        not_values={str(f): _strings(v, f"[not_values] {f}") for f, v in not_values.items()},
        lengths=dict(lengths),
    )
