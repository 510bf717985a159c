"""RecBole atomic files: ``.inter``, ``.item``, ``.user``, and the sequence form with train / valid / test files.

Every atomic file is tab-separated with a header of ``name:type`` fields (``token``, ``token_seq``, ``float``,
``float_seq``). This loader reads:

- ``<prefix>.inter``: one interaction per row, ``user_id:token item_id:token [rating:float] [timestamp:float]``;
- ``<prefix>.train.inter`` / ``.valid.inter`` / ``.test.inter``: a shipped split, either one interaction per row
  or the sequence form ``user_id:token item_id_list:token_seq item_id:token`` (a user's history and the next
  item). In the sequence form each user's whole sequence is the test row's history plus its target; the
  validation target is the second last item, the test target the last, and train holds the rest (leave one
  out), kept in the user's order;
- ``<prefix>.item``: item features (a title, genres, a year, text; other fields become attributes);
- ``<prefix>.user``: the users (users without interactions keep an id; user features are not used);
- ``<prefix>.item2index`` / ``<prefix>.user2index`` (``raw id <TAB> index``): when present, the ids in the
  ``.inter`` files are these indices and are mapped back to the raw ids;
- ``<prefix>.text`` (UniSRec): ``item_id:token text:token_seq`` keyed by raw item id, one text per item.
  With ``text_layout=("title", "category", "brand")`` the text is read as "title. category path. brand."
  (see :mod:`agentrec.data.category`).
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from agentrec.data._io import DataFormatError
from agentrec.data.base import Dataset, natural_sort
from agentrec.data.category import category_levels, split_product_texts
from agentrec.types import Catalog, Interactions, Item, Split

logger = logging.getLogger(__name__)

__all__ = ["TEXT_LAYOUT_FIELDS", "load_recbole", "read_atomic"]

TEXT_LAYOUT_FIELDS = ("title", "category", "brand")
_TITLE = ("title", "movie_title", "name", "item_name", "product_name")
_GENRES = ("genre", "genres", "class", "categories")
_YEAR = ("year", "release_year")
_TEXT = ("description", "overview", "text", "summary", "plot")


def read_atomic(path: Path) -> pd.DataFrame:
    """Read one atomic file; columns are the field names without their ``:type``, values are strings.

    Raises:
        FileNotFoundError: when the file is missing.
        DataFormatError: when the header is not ``name:type`` fields or a row has the wrong number of fields.
    """
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; check the folder and the dataset prefix of the files")
    with open(path, encoding="utf-8") as fh:
        header = fh.readline().rstrip("\r\n").lstrip("\ufeff").split("\t")
    if not header or any(":" not in h for h in header):
        raise DataFormatError(
            path, 1, f"the header is {header!r}", "tab-separated RecBole fields 'name:type' (e.g. user_id:token)"
        )
    names = [h.split(":", 1)[0].strip() for h in header]
    try:
        df = pd.read_csv(path, sep="\t", header=None, skiprows=1, names=names, dtype=str, quoting=csv.QUOTE_NONE,
                         keep_default_na=False, on_bad_lines="error", engine="c")  # fmt: skip
    except pd.errors.ParserError as exc:
        raise DataFormatError(path, None, str(exc), f"{len(names)} tab-separated fields per row ({names})") from exc
    return df


def _require(df: pd.DataFrame, path: Path, fields: Sequence[str]) -> None:
    missing = [f for f in fields if f not in df.columns]
    if missing:
        raise DataFormatError(path, 1, f"missing field(s) {missing}; the header has {list(df.columns)}",
                              f"fields {list(fields)}")  # fmt: skip


def _index_map(path: Path) -> dict[str, str]:
    """``raw <TAB> index`` lines -> {index: raw}."""
    out: dict[str, str] = {}
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            parts = line.rstrip("\r\n").split("\t")
            if len(parts) != 2 or not parts[1].strip():
                raise DataFormatError(path, lineno, f"found {line.strip()!r}", "'raw id<TAB>index'")
            out[parts[1].strip()] = parts[0].strip()
    return out


def _prefix(folder: Path, dataset: str | None) -> str:
    if dataset:
        return dataset
    stems = {p.name.split(".")[0] for p in folder.glob("*.inter")}
    if len(stems) != 1:
        found = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        raise FileNotFoundError(
            f"{folder} must hold the .inter files of exactly one RecBole dataset (found {found}); pass "
            "dataset='<prefix>' to pick one"
        )
    return stems.pop()


class _Rows:
    """Interaction rows collected from the parts, as raw-id lists."""

    def __init__(self) -> None:
        self.users: list[str] = []
        self.items: list[str] = []
        self.rating: list[float] = []
        self.timestamp: list[float] = []
        self.part: list[int] = []

    def add(self, df: pd.DataFrame, path: Path, part: int) -> None:
        _require(df, path, ["user_id", "item_id"])
        self.users += df["user_id"].tolist()
        self.items += df["item_id"].tolist()
        for field, out in (("rating", self.rating), ("timestamp", self.timestamp)):
            if field in df.columns:
                try:
                    out += [float(v) for v in df[field].tolist()]
                except ValueError as exc:
                    raise DataFormatError(path, None, f"field {field!r}: {exc}", f"numbers in {field!r}") from exc
        self.part += [part] * len(df)


def _sequences(parts: dict[int, tuple[pd.DataFrame, Path]], rows: _Rows) -> None:
    """Leave-one-out parts from the sequence form: train = valid history, valid / test = the targets."""
    test_df, test_path = parts[2]
    _require(test_df, test_path, ["user_id", "item_id_list", "item_id"])
    valid = parts.get(1)
    earlier: dict[str, tuple[list[str], str]] = {}
    if valid is not None:
        vdf, vpath = valid
        _require(vdf, vpath, ["user_id", "item_id_list", "item_id"])
        earlier = {
            u: (h.split(), t) for u, h, t in zip(vdf["user_id"], vdf["item_id_list"], vdf["item_id"], strict=True)
        }
    columns = (test_df[c].tolist() for c in ("user_id", "item_id_list", "item_id"))
    for lineno, (u, h, target) in enumerate(zip(*columns, strict=True), start=2):
        seq = h.split()
        if valid is None:
            train, valid_items = seq, []
        elif u not in earlier or earlier[u][0] + [earlier[u][1]] != seq:
            raise DataFormatError(
                test_path,
                lineno,
                f"user {u!r}: the history is not the validation row's history plus its target",
                "leave-one-out sequence files (test history = valid history + valid target)",
            )
        else:
            train, valid_items = earlier[u][0], [earlier[u][1]]
        for items, part in ((train, 0), (valid_items, 1), ([target], 2)):
            rows.users += [u] * len(items)
            rows.items += items
            rows.part += [part] * len(items)


def _read_interactions(folder: Path, prefix: str) -> _Rows:
    rows = _Rows()
    split_paths = {i: folder / f"{prefix}.{n}.inter" for i, n in enumerate(("train", "valid", "test"))}
    if split_paths[2].is_file():
        parts = {i: (read_atomic(p), p) for i, p in split_paths.items() if p.is_file()}
        if "item_id_list" in parts[2][0].columns:
            _sequences(parts, rows)
        else:
            for i in sorted(parts):
                rows.add(*parts[i], part=i)
    else:
        path = folder / f"{prefix}.inter"
        rows.add(read_atomic(path), path, part=-1)
    if not rows.users:
        raise DataFormatError(folder / f"{prefix}.inter", None, "no interactions", "at least one interaction row")
    return rows


def _pick(columns: Sequence[str], given: str | None, candidates: Sequence[str]) -> str | None:
    if given is not None:
        return given
    return next((c for c in candidates if c in columns), None)


def _item_table(folder: Path, prefix: str, title_field: str | None, genre_field: str | None,
                year_field: str | None) -> dict[str, dict[str, object]]:  # fmt: skip
    """Raw item id -> Item keyword arguments, from the ``.item`` file."""
    path = folder / f"{prefix}.item"
    if not path.is_file():
        return {}
    df = read_atomic(path)
    _require(df, path, ["item_id"])
    cols = list(df.columns)
    title, genres, year = (
        _pick(cols, title_field, _TITLE),
        _pick(cols, genre_field, _GENRES),
        _pick(cols, year_field, _YEAR),
    )
    for name, field in (("title_field", title), ("genre_field", genres), ("year_field", year)):
        if field is not None and field not in cols:
            raise DataFormatError(
                path, 1, f"{name}={field!r} is not a field; the header has {cols}", "an existing field"
            )
    text = [c for c in _TEXT if c in cols]
    out: dict[str, dict[str, object]] = {}
    for rec in df.to_dict("records"):
        y = str(rec[year])[:4] if year else ""
        out[str(rec["item_id"])] = {
            "title": str(rec[title]).strip() if title else "",
            "genres": tuple(str(rec[genres]).split()) if genres else (),
            "year": int(y) if y.isdigit() else None,
            "overview": " ".join(str(rec[c]).strip() for c in text if str(rec[c]).strip()),
            "attributes": {c: str(rec[c]) for c in cols
                           if c not in ("item_id", title, genres, year, *text) and str(rec[c]) != ""},
        }  # fmt: skip
    return out


def _text_items(folder: Path, prefix: str, layout: Sequence[str] | None) -> dict[str, dict[str, object]]:
    """Raw item id -> Item keyword arguments, from the UniSRec ``.text`` file."""
    path = folder / f"{prefix}.text"
    if not path.is_file():
        return {}
    df = read_atomic(path)
    _require(df, path, ["item_id", "text"])
    texts = [" ".join(t.split()) for t in df["text"].tolist()]
    if layout is None:
        return {str(i): {"overview": t} for i, t in zip(df["item_id"], texts, strict=True)}
    if tuple(layout) != TEXT_LAYOUT_FIELDS:
        raise ValueError(f"text_layout must be None or {TEXT_LAYOUT_FIELDS}, got {tuple(layout)!r}")
    fields = split_product_texts(texts)
    levels = category_levels([f.category for f in fields])
    out: dict[str, dict[str, object]] = {}
    for item_id, text, f, lv in zip(df["item_id"], texts, fields, levels, strict=True):
        attrs: dict[str, object] = {}
        if f.brand:
            attrs["brand"] = f.brand
        if lv:
            attrs["category"] = lv
        out[str(item_id)] = {"title": f.title, "overview": text, "attributes": attrs}
    return out


def load_recbole(
    path: str | Path,
    *,
    dataset: str | None = None,
    name: str | None = None,
    title_field: str | None = None,
    genre_field: str | None = None,
    year_field: str | None = None,
    text_layout: Sequence[str] | None = None,
) -> Dataset:
    """Load a dataset in RecBole atomic-file form (see the module docstring for the files).

    Args:
        path: the folder holding the files.
        dataset: the files' prefix (``Scientific`` for ``Scientific.train.inter``); None finds the only one.
        name: the dataset name (default: the prefix).
        title_field: ``.item`` field with the title (default: the first of title, movie_title, name, ...).
        genre_field: ``.item`` field with space-separated genres (default: genre, genres, class, categories).
        year_field: ``.item`` field with a year (default: year, release_year).
        text_layout: how to read the ``.text`` file: None (the whole text is ``Item.overview``) or
            ``("title", "category", "brand")``: the title becomes ``Item.title``, the brand
            ``attributes["brand"]`` and the category path's levels ``attributes["category"]`` (a tuple, broad
            to narrow); the whole text stays the overview.

    Returns:
        The Dataset. With train / valid / test files it carries that split (``split.name == "fixed"``); its
        interactions are train, then valid, then test rows, each in the files' (chronological) order.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder; pass the folder that holds the RecBole atomic files")
    prefix = _prefix(folder, dataset)
    rows = _read_interactions(folder, prefix)
    item_map = _index_map(folder / f"{prefix}.item2index") if (folder / f"{prefix}.item2index").is_file() else None
    user_map = _index_map(folder / f"{prefix}.user2index") if (folder / f"{prefix}.user2index").is_file() else None
    raw_items = [item_map.get(i, i) for i in rows.items] if item_map else rows.items
    raw_users = [user_map.get(u, u) for u in rows.users] if user_map else rows.users
    features = _item_table(folder, prefix, title_field, genre_field, year_field)
    for item_id, extra in _text_items(folder, prefix, text_layout).items():
        base = features.setdefault(item_id, {})
        attrs = {**dict(base.get("attributes", {})), **dict(extra.pop("attributes", {}))}  # type: ignore[call-overload]
        base.update({k: v for k, v in extra.items() if v or k not in base}, attributes=attrs)
    if item_map:
        order = [item_map[k] for k in sorted(item_map, key=int)] if all(k.isdigit() for k in item_map) else []
    else:
        order = list(features)
    known = set(order)
    item_ids = tuple(order + natural_sort([i for i in dict.fromkeys([*features, *raw_items]) if i not in known]))
    user_order: list[str] = []
    if (folder / f"{prefix}.user").is_file():
        udf = read_atomic(folder / f"{prefix}.user")
        _require(udf, folder / f"{prefix}.user", ["user_id"])
        user_order = [user_map.get(u, u) if user_map else u for u in udf["user_id"].tolist()]
    elif user_map:
        user_order = [user_map[k] for k in sorted(user_map, key=int)] if all(k.isdigit() for k in user_map) else []
    seen_users = set(user_order)
    user_ids = tuple(user_order + natural_sort([u for u in dict.fromkeys(raw_users) if u not in seen_users]))
    return _assemble(name or prefix, rows, raw_users, raw_items, user_ids, item_ids, features)


def _assemble(name: str, rows: _Rows, raw_users: list[str], raw_items: list[str], user_ids: tuple[str, ...],
              item_ids: tuple[str, ...], features: dict[str, dict[str, object]]) -> Dataset:  # fmt: skip
    upos = {u: i for i, u in enumerate(user_ids)}
    ipos = {u: i for i, u in enumerate(item_ids)}
    inter = Interactions(
        user_index=np.fromiter((upos[u] for u in raw_users), dtype=np.int64, count=len(raw_users)),
        item_index=np.fromiter((ipos[i] for i in raw_items), dtype=np.int64, count=len(raw_items)),
        user_ids=user_ids,
        item_ids=item_ids,
        rating=np.asarray(rows.rating, dtype=np.float32) if len(rows.rating) == len(raw_users) else None,
        timestamp=np.asarray(rows.timestamp, dtype=np.int64) if len(rows.timestamp) == len(raw_users) else None,
    )
    items = []
    for item_id in item_ids:
        f = features.get(item_id, {})
        title = str(f.get("title") or "") or f"Item {item_id}"
        items.append(Item(item_id, title, f.get("year"), tuple(f.get("genres", ())), (),  # type: ignore[arg-type]
                          str(f.get("overview", "")), dict(f.get("attributes", {}))))  # type: ignore[call-overload]  # fmt: skip
    part = np.asarray(rows.part, dtype=np.int8)
    split = None
    if (part >= 0).all():
        split = Split(train=inter.subset(part == 0), test=inter.subset(part == 2),
                      valid=inter.subset(part == 1) if (part == 1).any() else None, name="fixed")  # fmt: skip
        order = np.argsort(part, kind="stable")  # train, valid, test: the order a shipped split must have
        inter = inter.subset(order)
    ds = Dataset(name=name, interactions=inter, catalog=Catalog(items=tuple(items)), split=split)
    logger.info("loaded %s (RecBole): %d users, %d items, %d interactions%s", name, inter.num_users,
                inter.num_items, len(inter), "" if split is None else f" (train {len(split.train)}, "
                f"valid {0 if split.valid is None else len(split.valid)}, test {len(split.test)})")  # fmt: skip
    return ds
