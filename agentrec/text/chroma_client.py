"""Connecting to Chroma: an embedded ``PersistentClient`` under a folder, or a server through ``HttpClient``."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

__all__ = ["chroma_query", "connect"]


def connect(path: str | Path | None, url: str | None, *, create: bool = True) -> tuple[Any, str]:
    """A Chroma client and its location in words (the URL or the folder).

    Raises:
        ValueError: when neither path nor url is given, or for a malformed url.
        RuntimeError: when the server at ``url`` cannot be reached (the URL is named, with how to start one).
        FileNotFoundError: when ``create`` is False and ``path`` does not exist.
    """
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if url:
        parsed = urlparse(url if "://" in url else f"http://{url}")
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"chroma url must look like http://HOST:PORT, got {url!r}")
        port = parsed.port or (443 if parsed.scheme == "https" else 8000)
        try:
            client = chromadb.HttpClient(
                host=parsed.hostname, port=port, ssl=parsed.scheme == "https", settings=settings
            )
            client.heartbeat()
        except Exception as exc:  # chromadb raises ValueError / httpx errors depending on the failure
            raise RuntimeError(
                f"could not connect to the Chroma server at {url} ({type(exc).__name__}: {exc}). Start one with "
                "`chroma run --host 127.0.0.1 --port PORT --path DIR`, fix AGENTREC_CHROMA_URL / --chroma-url, "
                "or unset it to use the embedded store"
            ) from exc
        location = url
    elif path is not None:
        path = Path(path).expanduser()
        if not create and not path.exists():
            raise FileNotFoundError(f"no vector index at {path}; build it first with `agentrec index --dataset NAME`")
        client = chromadb.PersistentClient(path=str(path), settings=settings)
        location = str(path)
    else:
        raise ValueError("VectorStore.open needs a path (embedded store) or a url (Chroma server)")

    return client, location


def chroma_query(
    collection: Any,
    vector: np.ndarray,
    n: int,
    where: dict[str, Any] | None,
    *,
    words: tuple[str, ...] = (),
    only: np.ndarray | None = None,
) -> Any:
    """One nearest-neighbour query: ``where`` on the metadata, items among ``only``, texts without ``words``.

    Chroma matches ``words`` as substrings, a superset of word mentions: callers re-check hits with the exact
    rule (:func:`agentrec.filters_types.mentions_word`).
    """
    if only is not None:
        within = {"item_index": {"$in": [int(i) for i in only]}}
        where = within if where is None else {"$and": [where, within]}
    without = [{"$not_contains": w} for w in words]
    return collection.query(
        query_embeddings=[vector],
        n_results=n,
        where=where,
        where_document=None if not without else without[0] if len(without) == 1 else {"$and": without},
        include=["metadatas", "distances"],
    )
