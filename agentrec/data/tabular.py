"""Bring your own data: interactions (and optionally items) from CSV / TSV / Parquet with configurable columns."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from agentrec.data._io import BadRows, ColumnType, DataFormatError, duplicate_lines, read_header, read_table
from agentrec.data.base import Dataset, index_ids, natural_sort
from agentrec.types import Catalog, Interactions, Item

logger = logging.getLogger(__name__)

__all__ = ["load_tabular", "AUTO_TEXT_COLUMNS"]

# Items-table columns used as item text when ``text_cols`` is not given.
AUTO_TEXT_COLUMNS = ("overview", "description", "summary", "plot", "text")
_PARQUET = (".parquet", ".pq")


def _infer_sep(path: Path, sep: str | None, encoding: str) -> str:
    if sep is not None:
        if sep == "":
            raise ValueError("sep must be a delimiter such as ',', '\\t' or '|', got ''")
        return sep
    if path.suffix.lower() in (".tsv", ".tab"):
        return "\t"
    if path.suffix.lower() == ".csv":
        return ","
    header = read_header(path, ",", encoding)
    line = ",".join(header)
    for cand in ("\t", ",", ";", "|"):
        if cand in line:
            return cand
    return ","


class _Locator:
    """Names rows of a read table: the exact line for CSV, ``data row N`` for Parquet.

    CSV line numbers come from a second, line-numbered read, done only when a problem needs reporting.
    """

    def __init__(self, path: Path, reread: dict[str, object] | None) -> None:
        self.path = path
        self.reread = reread
        self._lines: np.ndarray | None = None

    def __call__(self, position: int) -> tuple[int | None, str]:
        """``(line, prefix)`` for a row position: the CSV line number, or None and ``"data row N: "``."""
        if self.reread is None:
            return None, f"data row {position + 1}: "
        if self._lines is None:
            self._lines = read_table(self.path, line_numbers=True, **self.reread)["_line"].to_numpy()  # type: ignore[arg-type]
        return int(self._lines[position]), ""


def _read_any(
    path: Path,
    columns: dict[str, ColumnType],
    *,
    sep: str | None,
    encoding: str,
    strict: bool,
    optional: Sequence[str] = (),
) -> tuple[pd.DataFrame, _Locator]:
    """Read CSV/TSV or Parquet; returns the frame and a namer of its row positions (``"line 7"``)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; pass the path of your CSV / TSV / Parquet file")
    if path.suffix.lower() not in _PARQUET:
        reread: dict[str, object] = {"columns": columns, "sep": _infer_sep(path, sep, encoding), "encoding": encoding,
                                     "strict": strict, "optional": optional}  # fmt: skip
        return read_table(path, **reread), _Locator(path, reread)  # type: ignore[arg-type]
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
    except Exception as exc:  # pyarrow raises several types for a non-Parquet file
        raise DataFormatError(path, None, f"not a readable Parquet file ({exc})", "a Parquet file") from exc
    missing = [c for c in columns if c not in names]
    if missing:
        raise DataFormatError(
            path, None, f"missing column(s) {missing}; the file has {names}", f"columns {list(columns)}"
        )
    df = pd.read_parquet(path, columns=list(columns))
    if df.empty:
        raise DataFormatError(path, None, "the file has no rows", "at least one row")
    bad = BadRows(path, strict)
    keep = np.ones(len(df), dtype=bool)
    for c, t in columns.items():
        col = df[c]
        if t == "str":
            empty = col.isna().to_numpy() | (col.astype(str).str.strip() == "").to_numpy()
            df[c] = col.astype(str).str.strip().where(~empty, "")
        else:
            num = pd.to_numeric(col, errors="coerce")
            empty = num.isna().to_numpy() | ~np.isfinite(num.to_numpy(dtype=np.float64, na_value=np.nan))
            df[c] = num
        if c in optional:
            continue
        for r in np.flatnonzero(empty & keep):
            value = "no value" if pd.isna(col.iloc[r]) or str(col.iloc[r]).strip() == "" else repr(col.iloc[r])
            bad.bad(
                None,
                f"data row {r + 1} has {value} in column {c!r}",
                f"a {'number' if t != 'str' else 'value'}",
            )
        keep &= ~empty
    bad.report()
    df = df[keep].reset_index(drop=True)
    for c, t in columns.items():
        if t == "int":
            df[c] = df[c].astype("int64")
        elif t == "float":
            df[c] = df[c].astype("float64")
    return df, _Locator(path, None)


def _timestamps(
    values: pd.Series, path: Path, col: str, strict: bool, where: _Locator
) -> tuple[np.ndarray, np.ndarray]:
    """Unix seconds from numbers or date strings; returns (timestamps, valid mask)."""
    num = pd.to_numeric(values, errors="coerce")
    if num.notna().all():
        return num.to_numpy(dtype=np.int64), np.ones(len(values), dtype=bool)
    dt = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    ok = dt.notna().to_numpy()
    if not ok.all():
        bad = BadRows(path, strict)
        for r in np.flatnonzero(~ok):
            line, prefix = where(int(r))
            bad.bad(line, f"{prefix}column {col!r} has {values.iloc[r]!r}", f"unix seconds or a date in column {col!r}")
        bad.report()
    # Resolution-independent (pandas may store us or ns): seconds since the epoch.
    secs = ((dt - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).fillna(0).to_numpy(dtype=np.int64)
    return np.where(ok, secs, 0).astype(np.int64), ok


def load_tabular(
    interactions_path: str | Path,
    *,
    user_col: str = "user_id",
    item_col: str = "item_id",
    rating_col: str | None = None,
    timestamp_col: str | None = None,
    items_path: str | Path | None = None,
    item_id_col: str | None = None,
    title_col: str | None = None,
    text_cols: Sequence[str] | None = None,
    genre_col: str | None = None,
    genre_sep: str = "|",
    year_col: str | None = None,
    sep: str | None = None,
    encoding: str = "utf-8",
    strict: bool = True,
    name: str | None = None,
) -> Dataset:
    """Load your own interactions (CSV, TSV or Parquet) and optionally an items table.

    Args:
        interactions_path: one row per interaction.
        user_col: column with the raw user id.
        item_col: column with the raw item id.
        rating_col: optional numeric rating column.
        timestamp_col: optional time column: unix seconds or dates (``2024-05-01``, ISO datetimes).
        items_path: optional items table; its items all enter the catalogue, in file order. Without it the
            catalogue holds the interacted items, titled ``"Item <id>"``.
        item_id_col: item id column of the items table (default: ``item_col``).
        title_col: title column of the items table (default: ``"title"`` when present, else the id).
        text_cols: items-table columns joined into ``Item.overview`` (the text the language model embeds).
            None picks whichever of ``AUTO_TEXT_COLUMNS`` exist.
        genre_col: items-table column of genres separated by ``genre_sep``.
        genre_sep: separator inside ``genre_col``.
        year_col: items-table column with a year (or a date whose first 4 characters are the year).
        sep: field delimiter of CSV files; None infers it from the extension (.csv: comma, .tsv: tab) or
            the header line.
        encoding: text encoding of CSV files.
        strict: raise on the first malformed row; False skips bad rows and warns with a count.
        name: dataset name (default: the interactions file's stem).

    Returns:
        The Dataset (no shipped split). Other items-table columns become ``Item.attributes`` (as strings).
        Repeated (user, item) rows are kept; ``agentrec.data.prepare.deduplicate`` removes them.
    """
    ipath = Path(interactions_path)
    cols: dict[str, ColumnType] = {user_col: "str", item_col: "str"}
    if rating_col:
        cols[rating_col] = "float"
    if timestamp_col:
        cols[timestamp_col] = "str"
    if len(cols) != 2 + bool(rating_col) + bool(timestamp_col):
        raise ValueError(f"user_col, item_col, rating_col and timestamp_col must differ, got {list(cols)}")
    inter, where = _read_any(ipath, cols, sep=sep, encoding=encoding, strict=strict)
    pos = np.arange(len(inter))  # row positions in what _read_any returned, to name lines in messages
    timestamps = None
    if timestamp_col:
        timestamps, ok = _timestamps(inter[timestamp_col], ipath, timestamp_col, strict, where)
        inter, timestamps, pos = inter[ok].reset_index(drop=True), timestamps[ok], pos[ok]

    items: list[Item]
    if items_path is None:
        ids = natural_sort(pd.unique(inter[item_col]).tolist())
        items = [Item(item_id=i, title=f"Item {i}") for i in ids]
    else:
        items = _read_items(Path(items_path), item_id_col or item_col, title_col, text_cols, genre_col, genre_sep,
                            year_col, sep, encoding, strict)  # fmt: skip
    item_index, item_ids = index_ids(inter[item_col].to_numpy(), known=[it.item_id for it in items])
    unknown = item_index < 0
    if unknown.any():
        bad = BadRows(ipath, strict)
        for r in np.flatnonzero(unknown):
            line, prefix = where(int(pos[r]))
            bad.bad(line, f"{prefix}item {inter[item_col].iloc[r]!r} is not in {items_path}",
                    "item ids that the items table lists")  # fmt: skip
        bad.report()
        keep = ~unknown
        inter, item_index = inter[keep].reset_index(drop=True), item_index[keep]
        timestamps = None if timestamps is None else timestamps[keep]
    if inter.empty:
        raise DataFormatError(ipath, None, "no interactions left", "at least one valid interaction row")
    user_index, user_ids = index_ids(inter[user_col].to_numpy())
    interactions = Interactions(
        user_index=user_index,
        item_index=item_index,
        user_ids=user_ids,
        item_ids=item_ids,
        rating=inter[rating_col].to_numpy(dtype=np.float32) if rating_col else None,
        timestamp=timestamps,
    )
    n_dup = int(pd.Series(user_index * len(item_ids) + item_index).duplicated().sum())
    if n_dup:
        logger.info("%s: %d repeated (user, item) rows kept; prepare.deduplicate removes them", ipath, n_dup)
    return Dataset(name=name or ipath.stem, interactions=interactions, catalog=Catalog(items=tuple(items)))


def _read_items(
    path: Path,
    id_col: str,
    title_col: str | None,
    text_cols: Sequence[str] | None,
    genre_col: str | None,
    genre_sep: str,
    year_col: str | None,
    sep: str | None,
    encoding: str,
    strict: bool,
) -> list[Item]:
    if not path.is_file():
        raise FileNotFoundError(f"items_path {path} does not exist; pass the path of your items table")
    if path.suffix.lower() in _PARQUET:
        import pyarrow.parquet as pq

        available = list(pq.read_schema(path).names)
    else:
        available = read_header(path, _infer_sep(path, sep, encoding), encoding)
    if title_col is None:
        title_col = "title" if "title" in available else None
    if text_cols is None:
        text_cols = [c for c in AUTO_TEXT_COLUMNS if c in available]
    wanted = [id_col] + [c for c in (title_col, genre_col, year_col, *text_cols) if c]
    extra = [c for c in available if c not in wanted]
    columns: dict[str, ColumnType] = {c: "str" for c in [*dict.fromkeys(wanted), *extra]}
    optional = [c for c in columns if c != id_col]
    df, where = _read_any(path, columns, sep=sep, encoding=encoding, strict=strict, optional=optional)
    dup, first = duplicate_lines(df, [id_col])
    if len(dup):
        if strict:
            line, prefix = where(int(dup[0]))
            first_line, first_prefix = where(int(first[0]))
            earlier = f"line {first_line}" if first_line is not None else first_prefix.rstrip(": ")
            raise DataFormatError(
                path, line, f"{prefix}duplicate item id {df[id_col].iloc[dup[0]]!r}, already on {earlier}",
                "each item id once", "Fix the file, or pass strict=False to keep the first",
            )  # fmt: skip
        bad = BadRows(path, strict=False)
        for p in dup:
            bad.bad(None, f"duplicate item id {df[id_col].iloc[p]!r}", "each item id once")
        bad.report()
        df = df.drop(index=df.index[dup]).reset_index(drop=True)
    items = []
    for rec in df.to_dict("records"):
        item_id = str(rec[id_col])
        year = None
        if year_col and str(rec[year_col])[:4].isdigit():
            year = int(str(rec[year_col])[:4])
        genres = tuple(g.strip() for g in str(rec[genre_col]).split(genre_sep) if g.strip()) if genre_col else ()
        overview = " ".join(str(rec[c]).strip() for c in text_cols if str(rec[c]).strip())
        attrs = {c: str(rec[c]) for c in extra if str(rec[c]) != ""}
        title = str(rec[title_col]).strip() if title_col and str(rec[title_col]).strip() else f"Item {item_id}"
        items.append(Item(item_id, title, year, genres, (), overview, attrs))
    return items
