"""Pick the torch device: CUDA when present, else CPU; an explicit choice is checked."""

from __future__ import annotations

import torch

__all__ = ["resolve_device"]

_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """Turn a device name into a ``torch.device``.

    Args:
        name: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Returns:
        The device to use.

    Raises:
        ValueError: for an unknown name, or ``"cuda"`` on a machine where CUDA is not available.
    """
    if isinstance(name, torch.device):
        name = str(name)
    if not isinstance(name, str):
        raise ValueError(f"device must be one of {_CHOICES} (or 'cuda:N'), got {name!r}")
    key = name.strip().lower()
    if key == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if key == "cpu":
        return torch.device("cpu")
    if key == "cuda" or key.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ValueError(
                f"device {name!r} was asked for but CUDA is not available on this machine "
                f"(torch {torch.__version__}, CUDA build: {torch.version.cuda}); use --device cpu or --device auto, "
                "or install a CUDA build of torch on a machine with an NVIDIA GPU"
            )
        device = torch.device(key)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(
                f"device {name!r}: there are only {torch.cuda.device_count()} CUDA device(s) "
                f"(valid: cuda:0..cuda:{torch.cuda.device_count() - 1})"
            )
        return device
    raise ValueError(f"device must be one of {_CHOICES} (or 'cuda:N'), got {name!r}")
