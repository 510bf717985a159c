"""MovieLens loaders: ml-latest(-small) / ml-25m / ml-32m (CSV), ml-100k (``u.data``/``u.item``), ml-1m (``.dat``)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from agentrec.data._io import BadRows, DataFormatError, duplicate_lines, read_table
from agentrec.data.base import Dataset, index_ids
from agentrec.types import Catalog, Interactions, Item

logger = logging.getLogger(__name__)

__all__ = ["load_movielens", "load_ml100k", "load_ml1m", "split_title", "load_tmdb"]

_TITLE_YEAR = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})(?:\s*[-\u2013]\s*(?:\d{4})?)?\)\s*$")
ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip


def split_title(raw: str) -> tuple[str, int | None]:
    """Split ``"Toy Story (1995)"`` into ``("Toy Story", 1995)``; titles without a year keep year None."""
    raw = raw.strip()
    m = _TITLE_YEAR.match(raw)
    if not m or not m.group("title"):
        return raw, None
    return m.group("title"), int(m.group("year"))


def _check_unique(
    df: pd.DataFrame, keys: Sequence[str], path: Path, strict: bool, what: str, reread: dict
) -> pd.DataFrame:
    """Raise (strict) or drop-and-warn on rows whose ``keys`` repeat an earlier row."""
    dup, first = duplicate_lines(df, keys)
    if not len(dup):
        return df
    if strict:
        lines = read_table(path, line_numbers=True, **reread)["_line"].to_numpy()
        key = ", ".join(f"{k}={df[k].iloc[dup[0]]}" for k in keys)
        raise DataFormatError(
            path, int(lines[dup[0]]), f"duplicate {what} ({key}) already on line {int(lines[first[0]])}",
            f"each {what} once",
            "Fix the file, or pass strict=False to keep the first occurrence",
        )  # fmt: skip
    bad = BadRows(path, strict=False)
    for p in dup:
        bad.bad(None, f"duplicate {what} " + ", ".join(f"{k}={df[k].iloc[p]}" for k in keys), f"each {what} once")
    bad.report()
    return df.drop(index=df.index[dup]).reset_index(drop=True)


def _build(
    name: str,
    ratings: pd.DataFrame,
    items: list[Item],
    ratings_path: Path,
    strict: bool,
    reread: dict,
) -> Dataset:
    """Interactions over the catalogue's item order; users sorted by numeric id."""
    item_ids = [it.item_id for it in items]
    item_index, ids = index_ids(ratings["item"].to_numpy(), known=item_ids)
    unknown = item_index < 0
    if unknown.any():
        first = int(np.flatnonzero(unknown)[0])
        if strict:
            lines = read_table(ratings_path, line_numbers=True, **reread)["_line"].to_numpy()
            raise DataFormatError(
                ratings_path, int(lines[first]), f"item id '{ratings['item'].iloc[first]}' is not in the item file",
                "only item ids listed in the item file", "Pass strict=False to skip such ratings",
            )  # fmt: skip
        bad = BadRows(ratings_path, strict=False)
        for p in np.flatnonzero(unknown):
            bad.bad(None, f"unknown item id {str(ratings['item'].iloc[p])!r}", "item ids listed in the item file")
        bad.report()
        ratings = ratings[~unknown].reset_index(drop=True)
        item_index = item_index[~unknown]
    user_index, user_ids = index_ids(ratings["user"].to_numpy())
    inter = Interactions(
        user_index=user_index,
        item_index=item_index,
        user_ids=user_ids,
        item_ids=ids,
        rating=ratings["rating"].to_numpy(dtype=np.float32),
        timestamp=ratings["timestamp"].to_numpy(dtype=np.int64) if "timestamp" in ratings else None,
    )
    return Dataset(name=name, interactions=inter, catalog=Catalog(items=tuple(items)))


def load_tmdb(path: str | Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Read ``tmdb_5000_movies.csv``: TMDB id -> (overview, keywords)."""
    path = Path(path)
    try:
        df = pd.read_csv(path, usecols=["id", "overview", "keywords"], dtype=str, keep_default_na=False)
    except ValueError as exc:
        raise DataFormatError(
            path, 1, f"cannot read the TMDB movies file ({exc})", "columns id, overview, keywords"
        ) from exc
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    for tmdb_id, overview, keywords in df[["id", "overview", "keywords"]].itertuples(index=False):
        try:
            kw = tuple(str(k["name"]) for k in json.loads(keywords)) if keywords else ()
        except (json.JSONDecodeError, TypeError, KeyError):
            kw = ()
        out[str(tmdb_id).strip()] = (str(overview).strip(), kw)
    return out


def load_movielens(
    path: str | Path,
    *,
    name: str | None = None,
    strict: bool = True,
    enrich: bool = True,
    tmdb_path: str | Path | None = None,
) -> Dataset:
    """Load a MovieLens CSV release (ml-latest-small, ml-latest, ml-25m, ml-32m).

    Reads ``ratings.csv`` and ``movies.csv``, plus ``tags.csv`` and ``links.csv`` when present. Titles lose
    their trailing ``"(1995)"``, which becomes ``Item.year``; genres are split on ``|`` (``"(no genres
    listed)"`` gives ``()``); tags are distinct, lowercased, most frequent first. With ``enrich`` and a TMDB
    movies file (``tmdb_path``, default ``<path>/../tmdb-5000/tmdb_5000_movies.csv``), overviews and
    ``attributes["keywords"]`` are joined through ``links.csv`` ``tmdbId``. LF and CRLF line endings both work.

    Args:
        path: the release folder (holding ``ratings.csv``).
        name: dataset name; defaults to the folder name.
        strict: raise on the first malformed row; False skips bad rows and warns with a count.
        enrich: join TMDB overviews and keywords when the TMDB file exists.
        tmdb_path: the TMDB movies CSV; None looks next to the release folder.

    Returns:
        The Dataset (no shipped split).
    """
    path = Path(path)
    ratings_path, movies_path = path / "ratings.csv", path / "movies.csv"
    for p in (ratings_path, movies_path):
        if not p.is_file():
            raise FileNotFoundError(f"{p} does not exist; {path} must be a MovieLens CSV release folder")
    mcols = {"movieId": "int", "title": "str", "genres": "str"}
    movies = read_table(movies_path, mcols, strict=strict, optional=["genres"])  # type: ignore[arg-type]
    movies = _check_unique(movies, ["movieId"], movies_path, strict, "movieId",
                           {"columns": mcols, "strict": strict, "optional": ["genres"]})  # fmt: skip
    tags: dict[int, tuple[str, ...]] = {}
    if (path / "tags.csv").is_file():
        tdf = read_table(path / "tags.csv", {"movieId": "int", "tag": "str"}, strict=strict)
        tdf["tag"] = tdf["tag"].str.strip().str.lower()
        counts = tdf.groupby(["movieId", "tag"]).size().reset_index(name="n")
        counts = counts.sort_values(["movieId", "n", "tag"], ascending=[True, False, True])
        tags = {int(m): tuple(g["tag"]) for m, g in counts.groupby("movieId", sort=False)}  # type: ignore[arg-type]
    links: dict[int, tuple[str, str]] = {}
    if (path / "links.csv").is_file():
        ldf = read_table(path / "links.csv", {"movieId": "int", "imdbId": "str", "tmdbId": "str"}, strict=strict,
                         optional=["imdbId", "tmdbId"])  # fmt: skip
        links = {int(m): (str(i), str(t)) for m, i, t in ldf.itertuples(index=False)}
    tmdb: dict[str, tuple[str, tuple[str, ...]]] = {}
    if enrich:
        tpath = Path(tmdb_path) if tmdb_path is not None else path.parent / "tmdb-5000" / "tmdb_5000_movies.csv"
        if tpath.is_file():
            tmdb = load_tmdb(tpath)
        elif tmdb_path is not None:
            raise FileNotFoundError(f"tmdb_path {tpath} does not exist; pass the path of tmdb_5000_movies.csv")
    items = []
    for movie_id, raw_title, genres in movies.itertuples(index=False):
        title, year = split_title(raw_title)
        attrs: dict[str, object] = {}
        overview = ""
        imdb_id, tmdb_id = links.get(movie_id, ("", ""))
        if imdb_id:
            attrs["imdb_id"] = imdb_id
        if tmdb_id:
            attrs["tmdb_id"] = tmdb_id
            if tmdb_id in tmdb:
                overview, keywords = tmdb[tmdb_id]
                attrs["keywords"] = keywords
        g = () if genres in ("", "(no genres listed)") else tuple(x for x in genres.split("|") if x)
        items.append(Item(str(movie_id), title, year, g, tags.get(movie_id, ()), overview, attrs))
    rcols = {"userId": "int", "movieId": "int", "rating": "float", "timestamp": "int"}
    ratings = read_table(ratings_path, rcols, strict=strict)  # type: ignore[arg-type]
    ratings = ratings.rename(columns={"userId": "user", "movieId": "item"})
    reread = {"columns": rcols, "strict": strict}
    ratings = _check_unique(ratings, ["user", "item"], ratings_path, strict, "rating of a (userId, movieId)", reread)
    ds = _build(name or path.name, ratings, items, ratings_path, strict, reread)
    logger.info("loaded %s: %d users, %d items, %d ratings", ds.name, ds.num_users, ds.num_items, len(ds.interactions))
    return ds


def load_ml100k(path: str | Path, *, name: str = "ml-100k", strict: bool = True) -> Dataset:
    """Load MovieLens 100K: ``u.data`` (tab-separated ratings) and ``u.item`` (``|``-separated, latin-1).

    Genres come from the 19 genre flags of ``u.item`` (names from ``u.genre`` when present); the year from
    the title, else from the release date.

    Args:
        path: the ``ml-100k`` folder.
        name: dataset name.
        strict: raise on the first malformed row; False skips bad rows and warns with a count.

    Returns:
        The Dataset (no shipped split; ``u1.base`` etc. are not used).
    """
    path = Path(path)
    genre_names = list(ML100K_GENRES)
    if (path / "u.genre").is_file():
        gdf = read_table(path / "u.genre", {"name": "str", "index": "int"}, sep="|", header=False,
                         names=["name", "index"], encoding="latin-1", quoting=False)  # fmt: skip
        genre_names = [n for n, _ in sorted(zip(gdf["name"], gdf["index"], strict=True), key=lambda t: t[1])]
    flags = [f"g{i}" for i in range(len(genre_names))]
    fields = ["item", "title", "release", "video", "url", *flags]
    icols = {"item": "int", "title": "str", "release": "str", **{f: "int" for f in flags}}
    item_path = path / "u.item"
    idf = read_table(item_path, icols, sep="|", header=False, names=fields, encoding="latin-1", strict=strict,  # type: ignore[arg-type]
                     optional=["release", "title"], quoting=False)  # fmt: skip
    idf = _check_unique(idf, ["item"], item_path, strict, "item id",
                        {"columns": icols, "sep": "|", "header": False, "names": fields, "encoding": "latin-1",
                         "strict": strict, "optional": ["release", "title"], "quoting": False})  # fmt: skip
    flag_arr = idf[flags].to_numpy(dtype=np.int64)
    items = []
    for row, (item_id, raw_title, release) in enumerate(idf[["item", "title", "release"]].itertuples(index=False)):
        title, year = split_title(raw_title)
        if year is None and re.search(r"\d{4}$", release):
            year = int(release[-4:])
        genres = tuple(genre_names[j] for j in np.flatnonzero(flag_arr[row]) if genre_names[j] != "unknown")
        items.append(Item(str(item_id), title or f"Movie {item_id}", year, genres, (), "", {"release_date": release}))
    rfields = ["user", "item", "rating", "timestamp"]
    rcols = {"user": "int", "item": "int", "rating": "float", "timestamp": "int"}
    ratings_path = path / "u.data"
    reread = {"columns": rcols, "sep": "\t", "header": False, "names": rfields, "strict": strict, "quoting": False}
    ratings = read_table(ratings_path, line_numbers=False, **reread)  # type: ignore[arg-type]
    ratings = _check_unique(ratings, ["user", "item"], ratings_path, strict, "rating of a (user, item)", reread)
    return _build(name, ratings, items, ratings_path, strict, reread)


def load_ml1m(path: str | Path, *, name: str = "ml-1m", strict: bool = True) -> Dataset:
    """Load MovieLens 1M: ``ratings.dat`` and ``movies.dat`` (``::``-separated, latin-1).

    Args:
        path: the ``ml-1m`` folder.
        name: dataset name.
        strict: raise on the first malformed row; False skips bad rows and warns with a count.

    Returns:
        The Dataset (no shipped split).
    """
    path = Path(path)
    mfields = ["item", "title", "genres"]
    mcols = {"item": "int", "title": "str", "genres": "str"}
    movies_path = path / "movies.dat"
    mread = {"columns": mcols, "sep": "::", "header": False, "names": mfields, "encoding": "latin-1",
             "strict": strict, "optional": ["genres"], "quoting": False}  # fmt: skip
    movies = read_table(movies_path, **mread)  # type: ignore[arg-type]
    movies = _check_unique(movies, ["item"], movies_path, strict, "MovieID", mread)
    items = []
    for item_id, raw_title, genres in movies.itertuples(index=False):
        title, year = split_title(raw_title)
        items.append(Item(str(item_id), title, year, tuple(g for g in genres.split("|") if g)))
    rfields = ["user", "item", "rating", "timestamp"]
    rcols = {"user": "int", "item": "int", "rating": "float", "timestamp": "int"}
    ratings_path = path / "ratings.dat"
    reread = {"columns": rcols, "sep": "::", "header": False, "names": rfields, "encoding": "latin-1",
              "strict": strict, "quoting": False}  # fmt: skip
    ratings = read_table(ratings_path, **reread)  # type: ignore[arg-type]
    ratings = _check_unique(ratings, ["user", "item"], ratings_path, strict, "rating of a (UserID, MovieID)", reread)
    return _build(name, ratings, items, ratings_path, strict, reread)
