"""Shared fixtures: tiny known-answer data, the real-data root, and network isolation."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import numpy as np
import pytest

from agentrec.types import Catalog, Interactions, Item

REPO_ROOT = Path(__file__).resolve().parents[1]
# Tests that build a real dataset's components keep the default retriever's training to a minute.
os.environ.setdefault("AGENTREC_TRAIN_BUDGET_S", "60")


def _shared_data_dir() -> Path | None:
    env = os.environ.get("AGENTREC_DATA_DIR")
    for candidate in ([Path(env)] if env else []) + [REPO_ROOT.parent / "shared" / "data"]:
        if candidate.is_dir() and (candidate / "ml-latest-small").is_dir():
            return candidate
    return None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real datasets (``../shared/data``); tests that need them skip when absent."""
    path = _shared_data_dir()
    if path is None:
        pytest.skip("real datasets not found (set AGENTREC_DATA_DIR or place them at ../shared/data)")
    return path


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests may only reach 127.0.0.1 / localhost."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "localhost", "::1") and self.family != socket.AF_UNIX:
            raise OSError(f"tests must not reach the network (tried {address!r})")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep caches written by libraries out of the home directory."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture
def tiny_interactions() -> Interactions:
    """Two taste clusters: users 0-3 like items 0-2, users 4-7 like items 3-5; item 6 is unseen."""
    rows = [(u, i) for u in range(4) for i in range(3)] + [(u, i) for u in range(4, 8) for i in range(3, 6)]
    users, items = zip(*rows, strict=True)
    return Interactions.from_arrays(np.array(users), np.array(items), num_users=8, num_items=7)


@pytest.fixture
def tiny_catalog() -> Catalog:
    """Seven items matching ``tiny_interactions``."""
    return Catalog(
        items=(
            Item(
                "0",
                "Alien",
                1979,
                ("Horror", "Sci-Fi"),
                ("space", "creature"),
                "A crew meets a deadly alien.",
            ),
            Item("1", "Aliens", 1986, ("Action", "Sci-Fi"), ("space", "marines"), "Marines fight aliens."),
            Item("2", "The Thing", 1982, ("Horror", "Sci-Fi"), ("antarctica",), "A shape-shifter in the ice."),
            Item("3", "Toy Story", 1995, ("Animation", "Comedy"), ("pixar", "toys"), "Toys come alive."),
            Item("4", "Shrek", 2001, ("Animation", "Comedy"), ("fairy tale",), "An ogre rescues a princess."),
            Item(
                "5",
                "Finding Nemo",
                2003,
                ("Animation", "Adventure"),
                ("ocean", "pixar"),
                "A fish finds his son.",
            ),
            Item("6", "Inception", 2010, ("Action", "Sci-Fi"), ("dreams", "heist"), "Thieves enter dreams."),
        )
    )
