"""Validating readers for delimited text files.

Every reader has a fast path (pandas' C parser) that is accepted only when it finds nothing wrong, and an
exact slow path (the ``csv`` module, line by line) that runs only when the fast path saw a problem. The slow
path names the file, the line and what was expected; with ``strict=False`` it skips bad rows, counts them and
reports the count as a warning (``DataWarning``) and in the log. Nothing is dropped silently.
"""

from __future__ import annotations

import csv
import io
import logging
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

__all__ = ["DataFormatError", "DataWarning", "BadRows", "read_table", "ColumnType", "duplicate_lines"]

ColumnType = Literal["int", "float", "str"]
_SEP_NAMES = {",": "comma", "\t": "tab", "|": "'|'", ";": "';'", "::": "'::'", " ": "space"}


class DataFormatError(ValueError):
    """A data file does not have the expected format.

    Attributes:
        path: the file.
        line: 1-based line number of the problem, or None when it concerns the whole file.
        problem: what is wrong.
        expected: what was expected instead.
    """

    def __init__(self, path: str | Path, line: int | None, problem: str, expected: str, hint: str = "") -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        self.expected = expected
        where = f"{self.path}" + (f", line {line}" if line is not None else "")
        msg = f"{where}: {problem}; expected {expected}"
        if hint:
            msg += f". {hint}"
        super().__init__(msg)


class DataWarning(UserWarning):
    """Rows were skipped because they were malformed (only with ``strict=False``)."""


class BadRows:
    """Collects bad rows of one file: raises at the first in strict mode, else counts and reports them."""

    def __init__(self, path: str | Path, strict: bool) -> None:
        self.path = Path(path)
        self.strict = strict
        self.count = 0
        self.examples: list[str] = []

    def bad(self, line: int | None, problem: str, expected: str, hint: str = "") -> None:
        """Record one bad row (raise ``DataFormatError`` when strict)."""
        if self.strict:
            raise DataFormatError(self.path, line, problem, expected, hint)
        self.count += 1
        if len(self.examples) < 3:
            self.examples.append(f"line {line}: {problem} (expected {expected})" if line else problem)

    def report(self) -> None:
        """Warn about the skipped rows, if any."""
        if not self.count:
            return
        msg = (
            f"{self.path}: skipped {self.count} malformed row(s) because strict=False; "
            f"first: {'; '.join(self.examples)}"
        )
        logger.warning(msg)
        warnings.warn(msg, DataWarning, stacklevel=3)


def _sep_name(sep: str) -> str:
    return _SEP_NAMES.get(sep, repr(sep))


def _guess_sep(line: str, sep: str) -> str | None:
    for cand in ("\t", ",", ";", "|", "::", " "):
        if cand != sep and cand in line:
            return cand
    return None


def _decoded_lines(path: Path, encoding: str, bad: BadRows) -> Iterator[str]:
    """Decode line by line so an encoding error can name its line."""
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                yield raw.decode(encoding)
            except UnicodeDecodeError as exc:
                bad.bad(
                    lineno,
                    f"byte {raw[exc.start : exc.start + 1]!r} at column {exc.start + 1} is not valid {encoding}",
                    f"{encoding} text",
                    "Pass the file's real encoding (e.g. encoding='latin-1') or re-save it as UTF-8",
                )
                yield "\n"  # keep line numbers aligned; the blank line is then ignored


def read_header(path: Path, sep: str, encoding: str) -> list[str]:
    """The header fields of ``path`` (line 1)."""
    with open(path, "rb") as fh:
        first = fh.readline()
    if not first.strip():
        raise DataFormatError(path, None, "the file is empty", "a header line followed by data rows")
    try:
        text = first.decode(encoding).lstrip("\ufeff").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise DataFormatError(path, 1, f"the header is not valid {encoding}", f"{encoding} text") from exc
    return [f.strip() for f in _split(text, sep)]


def _split(line: str, sep: str) -> list[str]:
    if len(sep) == 1:
        return next(csv.reader([line], delimiter=sep))
    return line.split(sep)


def check_columns(path: Path, found: Sequence[str], required: Sequence[str], sep: str) -> None:
    """Raise when a required column is missing from the header, with a delimiter hint."""
    missing = [c for c in required if c not in found]
    if not missing:
        return
    hint = ""
    if len(found) == 1:
        guess = _guess_sep(found[0], sep)
        if guess:
            hint = f"The file looks {_sep_name(guess)}-separated (sep={guess!r}), not {_sep_name(sep)}-separated"
    raise DataFormatError(
        path,
        1,
        f"missing column(s) {missing}; the header has {list(found)}",
        f"a {_sep_name(sep)}-separated header with columns {list(required)}",
        hint,
    )


def read_table(
    path: str | Path,
    columns: Mapping[str, ColumnType],
    *,
    sep: str = ",",
    header: bool = True,
    names: Sequence[str] | None = None,
    encoding: str = "utf-8",
    strict: bool = True,
    optional: Sequence[str] = (),
    quoting: bool = True,
    line_numbers: bool = False,
) -> pd.DataFrame:
    """Read a delimited file and validate it.

    Args:
        path: the file.
        columns: the columns to keep and their types. Numbers must parse; every kept column except those
            in ``optional`` must be non-empty.
        sep: field delimiter (``"::"`` is supported).
        header: whether line 1 names the columns; otherwise ``names`` gives every field by position.
        names: the field names of a header-less file (all of them, in order).
        encoding: text encoding of the file.
        strict: raise ``DataFormatError`` at the first bad row; otherwise skip bad rows and warn with a count.
        optional: kept columns that may be empty (read as NaN / "").
        quoting: honour ``"``-quoted fields (CSV); False for formats that never quote (MovieLens ``.dat``).
        line_numbers: also return a ``_line`` column with each row's 1-based line number (slower; used to
            name the lines of a problem found after reading, such as a duplicate id).

    Returns:
        A DataFrame with the keys of ``columns`` (plus ``_line`` when asked); ints as int64, floats as
        float64, strings as object.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; check the data directory")
    if path.stat().st_size == 0:
        raise DataFormatError(path, None, "the file is empty", "a header line followed by data rows")
    if header:
        fields = read_header(path, sep, encoding)
        check_columns(path, fields, list(columns), sep)
    else:
        assert names is not None, "header-less files need names"
        fields = list(names)
    df = None
    if not line_numbers:
        df = _fast_read(path, fields, columns, sep=sep, header=header, encoding=encoding, optional=optional,
                        quoting=quoting)  # fmt: skip
    if df is None:
        # A line-numbered read is a second pass: its skipped rows were already reported by the first.
        df = _slow_read(path, fields, columns, sep=sep, header=header, encoding=encoding, strict=strict,
                        optional=optional, quoting=quoting, report=not line_numbers)  # fmt: skip
        if not line_numbers:
            df = df.drop(columns="_line")
    if df.empty:
        raise DataFormatError(path, None, "the file has no data rows", "at least one row after the header")
    return df


def _fast_read(
    path: Path,
    fields: list[str],
    columns: Mapping[str, ColumnType],
    *,
    sep: str,
    header: bool,
    encoding: str,
    optional: Sequence[str],
    quoting: bool,
) -> pd.DataFrame | None:
    dtype = {c: ("int64" if t == "int" else "float64" if t == "float" else "str") for c, t in columns.items()}
    source: str | io.StringIO | Path = path
    read_sep = sep
    try:
        if len(sep) > 1:
            text = path.read_text(encoding=encoding)
            if "\x1f" in text:
                return None
            source, read_sep = io.StringIO(text.replace(sep, "\x1f")), "\x1f"
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            df = pd.read_csv(
                source,
                sep=read_sep,
                header=None,
                skiprows=1 if header else 0,
                names=fields,
                dtype=dtype,  # type: ignore[arg-type]
                encoding=encoding,
                engine="c",
                quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE,
                keep_default_na=False,
                na_values=[""],
                on_bad_lines="error",
                skip_blank_lines=True,
            )
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, Warning):
        return None
    required = [c for c in columns if c not in optional]
    if required and bool(df[required].isna().to_numpy().any()):
        return None
    for c, t in columns.items():
        if t == "str":
            df[c] = df[c].fillna("").astype(object)
        elif t == "float" and not np.isfinite(df[c].to_numpy()[~df[c].isna().to_numpy()]).all():
            return None
    return df[list(columns)]


def _slow_read(
    path: Path,
    fields: list[str],
    columns: Mapping[str, ColumnType],
    *,
    sep: str,
    header: bool,
    encoding: str,
    strict: bool,
    optional: Sequence[str],
    quoting: bool,
    report: bool = True,
) -> pd.DataFrame:
    bad = BadRows(path, strict)
    positions = {c: fields.index(c) for c in columns}
    out: dict[str, list[object]] = {c: [] for c in columns}
    kept_lines: list[int] = []
    lines = _decoded_lines(path, encoding, bad)
    if len(sep) > 1:
        rows: Iterator[list[str]] = (line.rstrip("\r\n").split(sep) for line in lines)
        reader = None
    else:
        reader = csv.reader(lines, delimiter=sep, quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE)
        rows = reader
    expected_row = f"{len(fields)} {_sep_name(sep)}-separated fields ({', '.join(fields)})"
    lineno = 0
    for row in rows:
        lineno = reader.line_num if reader is not None else lineno + 1
        if header and lineno == 1:
            continue
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank line
        if len(row) != len(fields):
            guess = _guess_sep(row[0], sep) if len(row) == 1 else None
            hint = f"The line looks {_sep_name(guess)}-separated (sep={guess!r})" if guess else ""
            bad.bad(lineno, f"found {len(row)} field(s)", expected_row, hint)
            continue
        values: dict[str, object] = {}
        ok = True
        for c, t in columns.items():
            raw = row[positions[c]].strip()
            if raw == "":
                if c in optional:
                    values[c] = "" if t == "str" else np.nan
                    continue
                bad.bad(lineno, f"column {c!r} is empty", f"a {_type_name(t)} in column {c!r}")
                ok = False
                break
            if t == "str":
                values[c] = raw
                continue
            try:
                num = int(raw) if t == "int" else float(raw)
            except ValueError:
                bad.bad(lineno, f"column {c!r} has {raw!r}", f"a {_type_name(t)} in column {c!r}")
                ok = False
                break
            if t == "float" and not np.isfinite(num):
                bad.bad(lineno, f"column {c!r} has {raw!r}", f"a finite number in column {c!r}")
                ok = False
                break
            values[c] = num
        if ok:
            kept_lines.append(lineno)
            for c in columns:
                out[c].append(values[c])
    if report:
        bad.report()
    df = pd.DataFrame(out)
    df["_line"] = np.asarray(kept_lines, dtype=np.int64)
    for c, t in columns.items():
        if t == "int":
            df[c] = df[c].astype("int64")
        elif t == "float":
            df[c] = df[c].astype("float64")
        else:
            df[c] = df[c].astype(object)
    return df


def _type_name(t: ColumnType) -> str:
    return {"int": "whole number", "float": "number", "str": "non-empty value"}[t]


def duplicate_lines(df: pd.DataFrame, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Positions of rows whose ``keys`` repeat an earlier row, and the position of that earlier row.

    Returns:
        ``(dup_positions, first_positions)``, both ``(num_duplicates,)`` int64 row positions in ``df``.
    """
    dup = df.duplicated(list(keys), keep="first").to_numpy()
    if not dup.any():
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    # Position of the first row of each key group, broadcast to every row of the group.
    first_of_group = df.reset_index(drop=True).groupby(list(keys), sort=False).ngroup().to_numpy()
    first_pos = np.full(first_of_group.max() + 1, -1, dtype=np.int64)
    firsts = np.flatnonzero(~dup)  # exactly one per group
    first_pos[first_of_group[firsts]] = firsts
    positions = np.flatnonzero(dup).astype(np.int64)
    return positions, first_pos[first_of_group[positions]]
