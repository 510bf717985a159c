"""Checkpoints: weights + config + dataset fingerprint + metrics in one file, written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

__all__ = ["CHECKPOINT_FORMAT", "check_fingerprint", "load_checkpoint", "save_checkpoint"]

CHECKPOINT_FORMAT = "agentrec-checkpoint/1"


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (tensors, numbers, strings, dicts) to ``path`` atomically.

    The file is written to a temporary file in the same directory and moved into place with
    ``os.replace``, so a crash never leaves a half-written checkpoint behind.

    Args:
        path: destination file; parent directories are created.
        payload: what to store; ``"format"`` is added.

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save({"format": CHECKPOINT_FORMAT, **payload}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | Path, expected_fingerprint: str | None = None) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Args:
        path: the checkpoint file.
        expected_fingerprint: when given, the dataset fingerprint the checkpoint must carry.

    Returns:
        The stored payload.

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        ValueError: when the file is not an agentrec checkpoint or was trained on another dataset.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist; train a model first (agentrec train ...)")
    payload = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{str(path)!r} is not an agentrec checkpoint (expected format {CHECKPOINT_FORMAT!r})")
    if expected_fingerprint is not None:
        check_fingerprint(payload.get("fingerprint"), expected_fingerprint, source=str(path))
    return payload


def check_fingerprint(stored: str | None, expected: str, source: str = "checkpoint") -> None:
    """Raise ``ValueError`` naming both fingerprints when a checkpoint belongs to another dataset."""
    if stored != expected:
        raise ValueError(
            f"{source} was trained on a different dataset: its fingerprint is {stored!r} but the training "
            f"interactions given have fingerprint {expected!r}; load it with the graph of the data it was "
            "trained on, or retrain on this data"
        )
