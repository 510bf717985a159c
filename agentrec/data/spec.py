"""Bring any catalogue in one step: a dataset spec file (TOML) or ``register_dataset``.

A spec names the files, their format and columns, loader options and the split::

    name = "books"                 # default: the spec file's name
    format = "tabular"             # tabular (CSV / TSV / Parquet) or recbole (atomic files)
    pack = "generic"               # optional: the domain pack the agent should use (passed through)

    [files]                        # paths relative to the spec file
    interactions = "events.csv"    # tabular; recbole: folder = "data/", and options.dataset = "<prefix>"
    items = "books.csv"

    [columns]                      # tabular only
    user = "user"
    item = "book"
    rating = "stars"
    timestamp = "when"
    item_id = "book"
    title = "name"
    text = ["blurb"]
    genres = "subjects"
    year = "published"

    [options]                      # loader options: genre_sep, sep, encoding (tabular); dataset,
    genre_sep = "|"                # text_layout, title_field, genre_field, year_field (recbole)

    [split]                        # kind: auto | fixed | random | temporal | cold, and prepare_dataset's
    kind = "temporal"              # seed, test_fraction, valid_fraction, cold_fraction,
    valid_fraction = 0.1           # implicit_threshold, kcore, dedup

    [facets]                       # optional; passed through untouched to the catalogue schema

After that, ``Agent.load("books.toml")``, ``load_components("books.toml")`` and every ``--dataset`` option
accept the spec's path; ``register_dataset("books", "books.toml")`` makes the name work in this process, and
preparing a spec once records it under ``<artifacts>/<name>/dataset-spec.json`` so that the bare name and the
artifacts folder keep working in later processes.
"""

from __future__ import annotations

import json
import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentrec.data._io import DataFormatError
from agentrec.data.base import Dataset
from agentrec.types import Split

logger = logging.getLogger(__name__)

__all__ = [
    "SPEC_FILE",
    "SPLIT_KINDS",
    "DatasetSpec",
    "describe_split",
    "register_dataset",
    "registered_datasets",
    "resolve_dataset",
    "split_options",
]

#: Where a prepared spec is recorded, under ``<artifacts>/<name>/``.
SPEC_FILE = "dataset-spec.json"
FORMATS = ("tabular", "recbole")
_TOP = ("name", "format", "pack", "files", "columns", "options", "split", "facets")
_COLUMNS = {"user": "user_col", "item": "item_col", "rating": "rating_col", "timestamp": "timestamp_col",
            "item_id": "item_id_col", "title": "title_col", "text": "text_cols", "genres": "genre_col",
            "year": "year_col"}  # fmt: skip
_OPTIONS = {"tabular": ("genre_sep", "sep", "encoding", "strict"),
            "recbole": ("dataset", "text_layout", "title_field", "genre_field", "year_field")}  # fmt: skip
_FILES = {"tabular": ("interactions", "items"), "recbole": ("folder",)}
SPLIT_KEYS = ("kind", "seed", "test_fraction", "valid_fraction", "cold_fraction", "implicit_threshold", "kcore",
              "dedup")  # fmt: skip
_REGISTRY: dict[str, DatasetSpec] = {}
SPLIT_KINDS: tuple[str, ...] = ("auto", "fixed", "random", "temporal", "cold")


@dataclass(frozen=True)
class DatasetSpec:
    """How to load one catalogue from files (see the module docstring for the TOML form).

    Attributes:
        name: the dataset name (also its artifacts folder name).
        format: ``"tabular"`` or ``"recbole"``.
        files: role -> absolute path (``interactions`` / ``items`` for tabular, ``folder`` for recbole).
        columns: spec column key -> column name (tabular).
        options: loader options.
        split: ``kind`` and ``prepare_dataset`` options; empty when the spec gives no split.
        facets: passed through untouched for the catalogue schema.
        pack: the domain pack's name, or None.
        source: the spec file, or None for a spec built in Python.
    """

    name: str
    format: str
    files: Mapping[str, Path]
    columns: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    split: Mapping[str, Any] = field(default_factory=dict)
    facets: Mapping[str, Any] = field(default_factory=dict)
    pack: str | None = None
    source: Path | None = None

    def __post_init__(self) -> None:
        where = f" in {self.source}" if self.source else ""
        if self.format not in FORMATS:
            raise ValueError(f"format must be one of {list(FORMATS)}{where}, got {self.format!r}")
        if not self.name or "/" in self.name or "\\" in self.name:
            raise ValueError(f"name must be a plain name without slashes{where}, got {self.name!r}")
        from agentrec.data.registry import DATASETS

        if self.name in DATASETS:
            raise ValueError(f"name {self.name!r}{where} is a built-in dataset; give your catalogue another name")
        for table, allowed in (("files", _FILES[self.format]), ("columns", tuple(_COLUMNS)),
                               ("options", _OPTIONS[self.format]), ("split", SPLIT_KEYS)):  # fmt: skip
            given = getattr(self, table)
            unknown = sorted(set(given) - set(allowed))
            if unknown:
                raise ValueError(f"[{table}] has unknown key(s) {unknown}{where}; valid keys are {list(allowed)}")
        required = _FILES[self.format][:1]
        if not all(r in self.files for r in required):
            raise ValueError(f"[files] needs {required[0]!r}{where} (the {self.format} format reads it)")
        if self.format == "recbole" and self.columns:
            raise ValueError(f"[columns] is for the tabular format{where}; RecBole files name their fields")

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], base_dir: Path | None = None, source: Path | None = None
    ) -> DatasetSpec:
        """A spec from the TOML's tables; relative file paths are taken from ``base_dir``."""
        where = f" in {source}" if source else ""
        unknown = sorted(set(data) - set(_TOP))
        if unknown:
            raise ValueError(f"unknown key(s) {unknown}{where}; a dataset spec has {list(_TOP)}")
        if "format" not in data:
            raise ValueError(f'the spec{where} needs format = "tabular" or "recbole"')
        base = base_dir or Path.cwd()
        files = {k: (base / str(v)).expanduser().resolve() for k, v in dict(data.get("files", {})).items()}
        name = data.get("name") or (source.stem if source else None)
        if not name:
            raise ValueError("the spec needs a name")
        return cls(name=str(name), format=str(data["format"]), files=files, columns=dict(data.get("columns", {})),
                   options=dict(data.get("options", {})), split=dict(data.get("split", {})),
                   facets=dict(data.get("facets", {})), pack=data.get("pack"), source=source)  # fmt: skip

    @classmethod
    def from_toml(cls, path: str | Path) -> DatasetSpec:
        """Read a spec file.

        Raises:
            FileNotFoundError: when the file is missing.
            ValueError: when it is not valid TOML or not a valid spec (the message names the key to fix).
        """
        path = Path(path).expanduser().resolve()
        if not path.is_file():
            raise FileNotFoundError(f"dataset spec {path} does not exist; pass the path of your .toml spec file")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path} is not valid TOML ({exc}); fix the spec file") from exc
        return cls.from_dict(data, base_dir=path.parent, source=path)

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain values (absolute paths), as recorded in ``dataset-spec.json``."""
        return {"name": self.name, "format": self.format, "pack": self.pack,
                "files": {k: str(v) for k, v in self.files.items()}, "columns": dict(self.columns),
                "options": {k: list(v) if isinstance(v, tuple) else v for k, v in self.options.items()},
                "split": dict(self.split), "facets": dict(self.facets)}  # fmt: skip

    def key(self) -> dict[str, Any]:
        """Everything that shapes the loaded data (files, format, columns, options): part of the cache key."""
        d = self.to_dict()
        return {k: d[k] for k in ("format", "files", "columns", "options")}

    def signature(self) -> dict[str, object]:
        """Size and modification time of every file the spec reads, to notice changed sources."""
        paths: list[Path] = []
        for p in self.files.values():
            paths += sorted(q for q in p.iterdir() if q.is_file()) if p.is_dir() else [p]
        return {str(p): [p.stat().st_size, p.stat().st_mtime_ns] for p in paths if p.is_file()}

    def _check_files(self) -> None:
        for role, p in self.files.items():
            want_dir = role == "folder"
            if not (p.is_dir() if want_dir else p.is_file()):
                where = f" (from {self.source})" if self.source else ""
                what = "folder" if want_dir else "file"
                raise FileNotFoundError(f"[files] {role}: the {what} {p} does not exist{where}; fix the path "
                                        "(relative paths are taken from the spec file's folder)")  # fmt: skip

    def load(self, *, strict: bool | None = None) -> Dataset:
        """Load the catalogue and its interactions.

        Raises:
            FileNotFoundError: a file of ``[files]`` is missing.
            DataFormatError: a column or field is missing or a row is malformed; the message names the file,
                the line and the spec key to fix.
        """
        self._check_files()
        try:
            if self.format == "recbole":
                from agentrec.data.recbole import load_recbole

                return load_recbole(self.files["folder"], name=self.name, **dict(self.options))
            from agentrec.data.tabular import load_tabular

            kwargs: dict[str, Any] = {_COLUMNS[k]: v for k, v in self.columns.items()}
            if isinstance(kwargs.get("text_cols"), str):
                kwargs["text_cols"] = [kwargs["text_cols"]]
            kwargs.update(self.options)
            if strict is not None:
                kwargs["strict"] = strict
            return load_tabular(self.files["interactions"], items_path=self.files.get("items"), name=self.name,
                                **kwargs)  # fmt: skip
        except DataFormatError as exc:
            if self.source is None or "missing column" not in exc.problem and "field" not in exc.problem:
                raise
            raise DataFormatError(
                exc.path,
                exc.line,
                exc.problem,
                exc.expected,
                f"Fix [columns] (or [options]) in {self.source} to name the file's columns",
            ) from exc


_DEFAULTS: dict[str, object] = {"seed": 0, "test_fraction": 0.2, "valid_fraction": 0.1, "cold_fraction": 0.1,
                                "implicit_threshold": None, "kcore": 0, "dedup": True}  # fmt: skip


def split_options(
    source: str | Dataset | DatasetSpec, split: str = "auto", **given: object
) -> tuple[dict[str, object], str]:
    """The split kind and preparation options to use, and where the kind came from.

    Each option is the first that is set of: the argument (not None), the spec's ``[split]``, the built-in
    dataset's defaults, the library default. The kind is the argument unless it is ``"auto"``, then the spec's.

    Returns:
        ``(options, origin)``: options has ``split`` plus every key of ``prepare_dataset``'s preparation
        options; origin is ``"argument"``, ``"spec"`` or ``"auto"``.
    """
    unknown = sorted(set(given) - set(_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown preparation option(s) {unknown}; valid options are {sorted(_DEFAULTS)}")
    spec = source.split if isinstance(source, DatasetSpec) else {}
    from agentrec.data.registry import DATASETS

    builtin = DATASETS[source].prepare_options if isinstance(source, str) and source in DATASETS else {}
    out: dict[str, object] = {}
    for key, default in _DEFAULTS.items():
        value = given.get(key)
        out[key] = value if value is not None else spec.get(key, builtin.get(key, default))
    origin = "argument" if split != "auto" else ("spec" if spec.get("kind", "auto") != "auto" else "auto")
    out["split"] = split if split != "auto" else spec.get("kind", "auto")
    if out["split"] not in SPLIT_KINDS:
        raise ValueError(f"split must be one of {list(SPLIT_KINDS)}, got {out['split']!r}")
    return out, origin


def describe_split(split: Split, origin: str, options: dict[str, object]) -> str:
    """One line saying which split was used and why (for the log and ``agentrec data info``)."""
    if origin == "argument":
        return f"{split.name} (asked for)"
    if origin == "spec":
        return f"{split.name} (from the dataset spec's [split])"
    if split.name == "fixed":
        return "fixed (the split the dataset ships with)"
    return (
        f"random per-user hold-out (default: no split was given and the dataset ships none; seed {options['seed']}, "
        f"test {options['test_fraction']}, validation {options['valid_fraction']}; set [split] kind in the "
        "dataset spec or pass a split to choose)"
    )


def register_dataset(name: str, spec: DatasetSpec | str | Path | Mapping[str, Any]) -> DatasetSpec:
    """Make a catalogue loadable by name in this process (``Agent.load(name)``, ``load_components(name)``).

    Args:
        name: the name to use (overrides the spec's own).
        spec: a :class:`DatasetSpec`, the path of a spec file, or the spec's tables as a dict (file paths
            relative to the current directory).

    Returns:
        The registered spec.
    """
    if isinstance(spec, DatasetSpec):
        base = spec
    elif isinstance(spec, str | Path):
        base = DatasetSpec.from_toml(spec)
    else:
        base = DatasetSpec.from_dict({**spec, "name": name})
    registered = DatasetSpec(name, base.format, base.files, base.columns, base.options, base.split, base.facets,
                             base.pack, base.source)  # fmt: skip
    _REGISTRY[name] = registered
    return registered


def registered_datasets() -> dict[str, DatasetSpec]:
    """The catalogues registered in this process, by name."""
    return dict(_REGISTRY)


def record_spec(spec: DatasetSpec, dataset_artifacts: Path) -> None:
    """Write ``dataset-spec.json`` into a dataset's artifacts folder (so later processes find the catalogue)."""
    dataset_artifacts.mkdir(parents=True, exist_ok=True)
    (dataset_artifacts / SPEC_FILE).write_text(json.dumps(spec.to_dict(), indent=2, default=str))


def read_recorded_spec(folder: Path) -> DatasetSpec | None:
    """The spec recorded in a dataset's artifacts folder by ``prepare_dataset``, or None for a built-in dataset."""
    return _recorded(folder)


def _recorded(folder: Path) -> DatasetSpec | None:
    file = folder / SPEC_FILE
    if not file.is_file():
        return None
    data = json.loads(file.read_text())
    data["options"] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.get("options", {}).items()}
    return DatasetSpec.from_dict({k: v for k, v in data.items() if v is not None}, source=file)


def resolve_dataset(
    ref: str | Path | Dataset | DatasetSpec, artifacts_dir: Path | None = None
) -> tuple[str | Dataset | DatasetSpec, Path | None]:
    """What a dataset reference means.

    Args:
        ref: a built-in name, a registered name, a spec file (``.toml``), a dataset's artifacts folder
            (``<artifacts>/<name>``), the name of a catalogue prepared from a spec before, a Dataset or a spec.
        artifacts_dir: the artifacts root, to find catalogues prepared from a spec in an earlier process.

    Returns:
        ``(source, artifacts_root)``: a built-in name, a Dataset or a DatasetSpec, and the artifacts root the
        reference implies (the parent of an artifacts folder), or None.

    Raises:
        ValueError: when the reference is none of these (the message lists what is accepted).
    """
    from agentrec.data.registry import DATASETS

    if isinstance(ref, Dataset | DatasetSpec):
        return ref, None
    text = str(ref)
    if text in DATASETS and not isinstance(ref, Path):
        return text, None
    if text in _REGISTRY:
        return _REGISTRY[text], None
    path = Path(text).expanduser()
    if path.suffix.lower() == ".toml" or path.is_file():
        return DatasetSpec.from_toml(path), None
    path_like = isinstance(ref, Path) or "/" in text or "\\" in text or text in (".", "..")
    if path_like and not path.is_dir():
        raise ValueError(
            f"dataset: {text!r} is not a directory or a spec file; pass a dataset name such as 'ml-latest-small', "
            "a dataset spec (.toml) or the built artifacts directory of one dataset (<artifacts>/<name>)"
        )
    if path_like:
        spec = _recorded(path)
        if spec is not None:
            return spec, path.resolve().parent
        if path.resolve().name in DATASETS:
            return path.resolve().name, path.resolve().parent
        raise ValueError(f"{path} is not the artifacts folder of a dataset (no {SPEC_FILE} and not named after a "
                         f"built-in dataset {sorted(DATASETS)}); pass a dataset name, a spec file or "
                         "<artifacts>/<name>")  # fmt: skip
    if artifacts_dir is not None and (Path(artifacts_dir) / text / SPEC_FILE).is_file():
        spec = _recorded(Path(artifacts_dir) / text)
        assert spec is not None
        return spec, None
    raise ValueError(
        f"unknown dataset {text!r}: not a built-in dataset {sorted(DATASETS)}, a registered one "
        f"{sorted(_REGISTRY)}, a spec file (.toml) or an artifacts folder; to bring your own catalogue write a "
        "dataset spec (README: 'Bring your own data') or call agentrec.data.register_dataset"
    )
