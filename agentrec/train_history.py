"""What happened during training (:class:`TrainHistory`), kept apart from the trainer so it stays small."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["TrainHistory"]


@dataclass
class TrainHistory:
    """What happened during :func:`fit`.

    ``wall_seconds[e]`` is the time since the start of training at the end of epoch ``epochs[e]``
    (evaluation included); ``evals`` holds one dict per evaluation with ``epoch``, ``wall_s`` and the
    metrics.
    """

    epochs: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    wall_seconds: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    evals: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int | None = None
    best_value: float | None = None
    metric: str = "recall@20"
    eval_part: str = "none"
    stopped: str = "epochs"
    device: str = "cpu"

    def time_to(self, metric: str, value: float) -> float | None:
        """Seconds of training until ``metric`` first reached ``value`` at an evaluation (None if never)."""
        for ev in self.evals:
            if ev.get(metric, -math.inf) >= value:
                return float(ev["wall_s"])
        return None

    def best_within(self, metric: str, seconds: float) -> float | None:
        """Best ``metric`` over the evaluations finished within ``seconds``."""
        vals = [ev[metric] for ev in self.evals if metric in ev and ev["wall_s"] <= seconds]
        return max(vals) if vals else None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-friendly)."""
        return asdict(self)
