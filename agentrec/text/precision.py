"""Numeric precision of sentence-transformers encoders: fp32, or bf16 autocast where the CPU runs it fast."""

from __future__ import annotations

import os

__all__ = ["BF16_SUFFIX", "FP32_QUERY_MAX", "PRECISIONS", "PRECISION_ENV", "resolve_precision"]

#: ``precision`` values: ``"auto"`` picks bf16 on a CPU with AMX bf16 units (about 2x the fp32 encode rate there,
#: vectors within cosine 0.9999 of fp32) and fp32 everywhere else.
PRECISIONS = ("auto", "fp32", "bf16")
#: Overrides ``precision="auto"`` (e.g. ``AGENTREC_TEXT_PRECISION=fp32``).
PRECISION_ENV = "AGENTREC_TEXT_PRECISION"
BF16_SUFFIX = "+bf16"
#: Uncached encodes of at most this many texts (search queries) run in fp32 even for a bf16 encoder: one short
#: text gains nothing from bf16 (the casts cost more), and such vectors are never cached or stored.
FP32_QUERY_MAX = 8


def _cpu_has_amx_bf16() -> bool:
    """True on a CPU that reports the ``amx_bf16`` flag (Linux ``/proc/cpuinfo``), where oneDNN runs bf16 fast."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    return "amx_bf16" in line.split()
    except OSError:
        pass
    return False


def resolve_precision(precision: str, device: str) -> str:
    """Map ``"auto"`` (or the ``AGENTREC_TEXT_PRECISION`` override) to ``"fp32"`` or ``"bf16"``."""
    if precision == "auto":
        precision = os.environ.get(PRECISION_ENV, "").strip().lower() or "auto"
        if precision not in PRECISIONS:
            raise ValueError(f"{PRECISION_ENV} must be one of {', '.join(PRECISIONS)}; got {precision!r}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
    if precision != "auto":
        return precision
    # bf16 only where it is known to pay off: a CPU with AMX (decided without importing torch, which keeps a
    # warm rebuild fast). An explicit GPU device keeps fp32.
    return "bf16" if device in ("auto", "cpu") and _cpu_has_amx_bf16() else "fp32"
