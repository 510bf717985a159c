"""Training-curve pictures: loss and validation metrics per epoch, as a PNG (matplotlib, Agg backend)."""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["plot_training_curve"]


def _finite(values: Sequence[float | None]) -> list[tuple[int, float]]:
    return [(i, float(v)) for i, v in enumerate(values) if v is not None and math.isfinite(float(v))]


def plot_training_curve(
    path: str | Path,
    losses: Sequence[float],
    metrics: Mapping[str, Sequence[float | None]] | None = None,
    epochs: Sequence[int] | None = None,
    metric_epochs: Sequence[int] | None = None,
    title: str | None = None,
) -> Path:
    """Draw the training loss and validation metrics per epoch and save them as a PNG.

    Args:
        path: the ``.png`` file to write (written atomically; parent directories are created).
        losses: mean training loss of each epoch.
        metrics: validation curves by name, e.g. ``{"recall@20": [...], "ndcg@20": [...]}``; ``None``
            entries (epochs without evaluation) are skipped.
        epochs: epoch numbers of ``losses`` (default ``1..len(losses)``).
        metric_epochs: epoch numbers of the metric values (default: the same as ``epochs``).
        title: figure title.

    Returns:
        The path written.

    Raises:
        ValueError: when there is nothing to draw, lengths disagree, or the suffix is not ``.png``.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"path must end in .png, got {str(path)!r}")
    metrics = dict(metrics or {})
    if not losses and not any(metrics.values()):
        raise ValueError("losses and metrics are both empty; train for at least one epoch before plotting")
    x_loss = list(epochs) if epochs is not None else list(range(1, len(losses) + 1))
    if len(x_loss) != len(losses):
        raise ValueError(f"epochs has {len(x_loss)} entries but losses has {len(losses)}; they must match")
    x_metric = list(metric_epochs) if metric_epochs is not None else x_loss
    for name, values in metrics.items():
        if len(values) != len(x_metric):
            raise ValueError(
                f"metric {name!r} has {len(values)} values but there are {len(x_metric)} metric epochs; they must match"
            )

    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    # A bare Figure (no pyplot) keeps no global state and is safe in threads and servers.
    fig = Figure(figsize=(9, 3.6), dpi=110)
    ax_loss, ax_metric = fig.subplots(1, 2)
    pts = _finite(losses)
    ax_loss.plot([x_loss[i] for i, _ in pts], [v for _, v in pts], marker="o", ms=3, color="tab:blue")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("training loss")
    ax_loss.set_title("loss")
    ax_loss.grid(alpha=0.3)
    for name, values in metrics.items():
        pts = _finite(values)
        if pts:
            ax_metric.plot([x_metric[i] for i, _ in pts], [v for _, v in pts], marker="o", ms=3, label=name)
    ax_metric.set_xlabel("epoch")
    ax_metric.set_ylabel("validation metric")
    ax_metric.set_title("validation")
    ax_metric.grid(alpha=0.3)
    if any(_finite(v) for v in metrics.values()):
        ax_metric.legend(loc="lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, format="png")
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path
