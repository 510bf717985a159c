"""Pictures a learner can read, as PNG files (matplotlib, Agg backend, no pyplot state).

Every helper titles its figure, labels both axes, draws integer epochs as integers, adds a legend when there
is more than one series, and writes the PNG atomically:

- :func:`plot_training_curve` / :func:`plot_training_curves`: loss and validation metric per epoch, one model
  or several (log-scaled loss when the losses span orders of magnitude);
- :func:`plot_bars`: grouped bars with the value written on each bar, so a zero is visible;
- :func:`plot_filter_response`: a graph filter's response over the eigenvalues of the item-item graph;
- :func:`plot_accuracy_time`: accuracy against time for a few models (log-scaled time);
- :func:`plot_lines`: any few lines (log axes on request).
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "plot_accuracy_time",
    "plot_bars",
    "plot_filter_response",
    "plot_lines",
    "plot_training_curve",
    "plot_training_curves",
]


def _finite(values: Sequence[float | None]) -> list[tuple[int, float]]:
    return [(i, float(v)) for i, v in enumerate(values) if v is not None and math.isfinite(float(v))]


def _png_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"path must end in .png, got {str(path)!r}")
    return path


def _figure(width: float, height: float) -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    # A bare Figure (no pyplot) keeps no global state and is safe in threads and servers.
    return Figure(figsize=(width, height), dpi=110)


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, format="png", bbox_inches="tight")
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def _integer_ticks(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _spans_decades(values: Sequence[float], ratio: float = 30.0) -> bool:
    positive = [v for v in values if v > 0]
    return len(positive) > 1 and max(positive) / min(positive) >= ratio and len(positive) == len(values)


def _history_curves(history: Any) -> tuple[list[int], list[float], str, list[int], list[float | None]]:
    """(epochs, losses, metric name, metric epochs, metric values) of an ``agentrec.train`` history.

    ``agentrec.train`` numbers epochs from 0; a reader counts them from 1 ("after the first epoch"), so 1 is added.
    """
    metric = str(getattr(history, "metric", "metric"))
    evals = list(getattr(history, "evals", []))
    return (
        [int(e) + 1 for e in history.epochs],
        [float(v) for v in history.loss],
        metric,
        [int(ev["epoch"]) + 1 for ev in evals],
        [ev.get(metric) for ev in evals],
    )


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
    path = _png_path(path)
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
    fig = _figure(9, 3.6)
    ax_loss, ax_metric = fig.subplots(1, 2)
    pts = _finite(losses)
    ax_loss.plot([x_loss[i] for i, _ in pts], [v for _, v in pts], marker="o", ms=3, color="tab:blue")
    ax_loss.set(xlabel="epoch", ylabel="training loss", title="training loss")
    for name, values in metrics.items():
        pts = _finite(values)
        if pts:
            ax_metric.plot([x_metric[i] for i, _ in pts], [v for _, v in pts], marker="o", ms=3, label=name)
    ax_metric.set(xlabel="epoch", ylabel="validation metric", title="validation")
    if any(_finite(v) for v in metrics.values()):
        ax_metric.legend(loc="lower right")
    for ax in (ax_loss, ax_metric):
        ax.grid(alpha=0.3)
        _integer_ticks(ax)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def plot_training_curves(path: str | Path, histories: Mapping[str, Any], title: str | None = None) -> Path:
    """Loss and validation metric per epoch of several trained models, one line each.

    Args:
        path: the ``.png`` file to write.
        histories: label -> the history :func:`agentrec.train.fit` returned (``epochs``, ``loss``, ``evals``,
            ``metric``); epochs are drawn from 1 (the first epoch is epoch 1).
        title: figure title.

    Raises:
        ValueError: when no history has an epoch, or the suffix is not ``.png``.
    """
    path = _png_path(path)
    curves = {name: _history_curves(h) for name, h in histories.items()}
    if not any(c[0] for c in curves.values()):
        raise ValueError("no history has a trained epoch; train a model before plotting its curves")
    all_losses = [v for c in curves.values() for _, v in _finite(c[1])]
    fig = _figure(10, 3.6)
    ax_loss, ax_metric = fig.subplots(1, 2)
    metric_names = set()
    for name, (epochs, losses, metric, m_epochs, m_values) in curves.items():
        pts = _finite(losses)
        ax_loss.plot([epochs[i] for i, _ in pts], [v for _, v in pts], marker="o", ms=3, label=name)
        pts = _finite(m_values)
        if pts:
            ax_metric.plot([m_epochs[i] for i, _ in pts], [v for _, v in pts], marker="o", ms=3, label=name)
            metric_names.add(metric)
    if _spans_decades(all_losses):
        ax_loss.set_yscale("log")
    ax_loss.set(xlabel="epoch", ylabel="training loss (each model its own loss)", title="training loss")
    shown = " / ".join(sorted(metric_names)) or "metric"
    ax_metric.set(xlabel="epoch", ylabel=f"validation {shown}", title=f"validation {shown}")
    for ax in (ax_loss, ax_metric):
        ax.grid(alpha=0.3)
        _integer_ticks(ax)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def plot_bars(
    path: str | Path,
    values: Mapping[str, Sequence[float]] | Any,
    groups: Sequence[str] | None = None,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    log: bool = False,
    fmt: str = "{:.3f}",
) -> Path:
    """Grouped bars (one colour per series) with each value written above its bar, so zeros show.

    Args:
        path: the ``.png`` file to write.
        values: series name -> one value per group, or a pandas ``DataFrame`` (columns are the series, the
            index the groups).
        groups: the group labels on the x axis (taken from the frame's index when ``values`` is a frame).
        title: figure title.
        xlabel: x-axis label (what the groups are).
        ylabel: y-axis label (what the values are).
        log: logarithmic y axis (zeros are then drawn at the bottom edge and labelled 0).
        fmt: format of the value labels.

    Raises:
        ValueError: when a series has another length than ``groups``, a value is not finite, or nothing is given.
    """
    path = _png_path(path)
    if hasattr(values, "columns") and hasattr(values, "index"):
        groups = [str(g) for g in values.index] if groups is None else list(groups)
        values = {str(c): [float(v) for v in values[c]] for c in values.columns}
    series = {str(k): [float(v) for v in vs] for k, vs in dict(values).items()}
    if not series or groups is None or not len(groups):
        raise ValueError("plot_bars needs at least one series and one group")
    for name, vs in series.items():
        if len(vs) != len(groups):
            raise ValueError(f"series {name!r} has {len(vs)} values but there are {len(groups)} groups")
        if not all(math.isfinite(v) for v in vs):
            raise ValueError(f"series {name!r} has a value that is not a finite number: {vs}")
    n = len(series)
    width = 0.8 / n
    fig = _figure(max(6.0, 1.1 * len(groups) * max(1, n) ** 0.5 + 2), 3.8)
    ax = fig.add_subplot()
    top = max((v for vs in series.values() for v in vs), default=0.0)
    floor = min((v for vs in series.values() for v in vs if v > 0), default=1.0) / 3 if log else 0.0
    for j, (name, vs) in enumerate(series.items()):
        xs = [g + (j - (n - 1) / 2) * width for g in range(len(groups))]
        heights = [max(v, floor) for v in vs]  # on a log axis a zero bar stops at the floor, labelled 0
        ax.bar(xs, [h - floor for h in heights], width * 0.95, bottom=floor, label=name)
        for x, v, h in zip(xs, vs, heights, strict=True):
            ax.annotate(fmt.format(v), (x, h), ha="center", va="bottom", fontsize=7, rotation=90 if n > 3 else 0,
                        xytext=(0, 2), textcoords="offset points")  # fmt: skip
    ax.set_xticks(range(len(groups)), [str(g) for g in groups])
    if log:
        ax.set_yscale("log")
        ax.set_ylim(bottom=floor)
    else:
        ax.set_ylim(0, top * 1.25 if top > 0 else 1.0)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel + (" (log scale)" if log else ""))
    ax.grid(axis="y", alpha=0.3)
    if n > 1:
        ax.legend(fontsize=8, ncols=min(n, 3))
    fig.tight_layout()
    return _save(fig, path)


def plot_filter_response(
    path: str | Path,
    eigenvalues: Sequence[float],
    responses: Mapping[str, Sequence[float]],
    *,
    spectrum: Sequence[float] | None = None,
    title: str = "graph filter response",
) -> Path:
    """Filter responses ``h(lam)`` over the eigenvalues ``lam`` of the normalised item-item graph.

    Args:
        path: the ``.png`` file to write.
        eigenvalues: the x values (eigenvalues in ``[0, 1]``; 1 = the smoothest signal on the graph).
        responses: label -> ``h`` at each of ``eigenvalues``.
        spectrum: optional eigenvalues of an actual graph, drawn as a histogram below the curves.
        title: figure title.

    Raises:
        ValueError: when a response has another length than ``eigenvalues``, or nothing is given.
    """
    path = _png_path(path)
    lam = [float(v) for v in eigenvalues]
    if not lam or not responses:
        raise ValueError("plot_filter_response needs eigenvalues and at least one response")
    for name, h in responses.items():
        if len(h) != len(lam):
            raise ValueError(f"response {name!r} has {len(h)} values but there are {len(lam)} eigenvalues")
    fig = _figure(7, 4.2 if spectrum is not None else 3.6)
    if spectrum is not None:
        ax, ax_hist = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    else:
        ax, ax_hist = fig.add_subplot(), None
    for name, h in responses.items():
        ax.plot(lam, [float(v) for v in h], label=name)
    ax.axhline(0, color="black", lw=0.5)
    ax.set(title=title, ylabel="response h(λ)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if ax_hist is not None and spectrum is not None:
        ax_hist.hist([float(v) for v in spectrum], bins=40, color="tab:gray")
        ax_hist.set_yscale("log")
        ax_hist.set(xlabel="eigenvalue λ of the item-item graph (1 = smoothest, 0 = noisiest)", ylabel="count")
    else:
        ax.set_xlabel("eigenvalue λ of the item-item graph (1 = smoothest, 0 = noisiest)")
    fig.tight_layout()
    return _save(fig, path)


def plot_accuracy_time(
    path: str | Path,
    points: Mapping[str, tuple[float, float]],
    *,
    metric: str,
    title: str,
    time_label: str = "wall time (s, log scale)",
) -> Path:
    """One labelled point per model: time on the x axis (log scale), accuracy on the y axis.

    Args:
        path: the ``.png`` file to write.
        points: label -> ``(seconds, metric value)``.
        metric: the y-axis metric name, e.g. ``"recall@20"``.
        title: figure title.
        time_label: x-axis label.

    Raises:
        ValueError: when there is no point, or a time is not positive.
    """
    path = _png_path(path)
    if not points:
        raise ValueError("plot_accuracy_time needs at least one (seconds, value) point")
    bad = {k: t for k, (t, _) in points.items() if not (math.isfinite(float(t)) and float(t) > 0)}
    if bad:
        raise ValueError(f"times must be positive seconds (log scale), got {bad}")
    fig = _figure(6.5, 3.8)
    ax = fig.add_subplot()
    for name, (t, v) in points.items():
        ax.scatter([float(t)], [float(v)], s=50, label=name)
    ax.set_xscale("log")
    ax.set(title=title, xlabel=time_label, ylabel=metric)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return _save(fig, path)


def plot_lines(
    path: str | Path,
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    logx: bool = False,
    logy: bool = False,
    integer_x: bool = False,
) -> Path:
    """One line per series (``label -> (xs, ys)``), with a legend when there are several.

    Raises:
        ValueError: when there is no series, or a series' xs and ys differ in length.
    """
    path = _png_path(path)
    if not series:
        raise ValueError("plot_lines needs at least one series")
    fig = _figure(6.5, 3.6)
    ax = fig.add_subplot()
    for name, (xs, ys) in series.items():
        if len(xs) != len(ys):
            raise ValueError(f"series {name!r} has {len(xs)} x values but {len(ys)} y values")
        ax.plot([float(x) for x in xs], [float(y) for y in ys], label=name)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    if integer_x:
        _integer_ticks(ax)
    suffix = {(True, True): " (log-log)", (True, False): " (log x)", (False, True): " (log y)"}.get((logx, logy), "")
    ax.set(title=title + suffix, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3, which="both")
    if len(series) > 1:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)
