from __future__ import annotations

import sys

import numpy as np
import pytest

from agentrec.plots import plot_training_curve


def _read_png(path):
    import matplotlib.image

    return matplotlib.image.imread(path)


def test_training_curve_png(tmp_path) -> None:
    path = plot_training_curve(
        tmp_path / "sub" / "curve.png",
        losses=[0.69, 0.4, 0.3, 0.25],
        metrics={"recall@20": [None, 0.1, None, 0.15], "ndcg@20": [None, 0.05, None, 0.08]},
        title="lightgcn on tiny",
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = _read_png(path)
    assert img.shape[0] > 200 and img.shape[1] > 500
    # Something was drawn: the image is not one flat colour.
    assert float(np.std(img[..., :3])) > 0.01
    assert not list(tmp_path.joinpath("sub").glob(".*.png"))  # no temporary file left behind


def test_training_curve_with_sparse_metric_epochs(tmp_path) -> None:
    path = plot_training_curve(
        tmp_path / "c.png", losses=[3.0, 2.0, 1.0], metrics={"recall@20": [0.2]}, metric_epochs=[3]
    )
    assert path.is_file()


def test_plotting_does_not_import_pyplot(tmp_path) -> None:
    plot_training_curve(tmp_path / "c.png", losses=[1.0, 0.5])
    # A bare Figure keeps no global figure registry (safe in servers and threads).
    assert "matplotlib.pyplot" not in sys.modules or not sys.modules["matplotlib.pyplot"].get_fignums()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"path": "c.jpg", "losses": [1.0]}, "must end in .png"),
        ({"path": "c.png", "losses": []}, "both empty"),
        ({"path": "c.png", "losses": [1.0, 2.0], "epochs": [1]}, "epochs has 1 entries but losses has 2"),
        ({"path": "c.png", "losses": [1.0], "metrics": {"recall@20": [0.1, 0.2]}}, "metric 'recall@20' has 2"),
    ],
)
def test_bad_input(tmp_path, kwargs, message: str) -> None:
    kwargs = {**kwargs, "path": tmp_path / kwargs["path"]}
    with pytest.raises(ValueError, match=message):
        plot_training_curve(**kwargs)


def _history(epochs: int, metric_every: int = 2):
    import types

    return types.SimpleNamespace(
        epochs=list(range(epochs)),
        loss=[7.0 / (e + 1) for e in range(epochs)],
        metric="recall@20",
        evals=[{"epoch": float(e), "recall@20": 0.02 * e} for e in range(epochs) if (e + 1) % metric_every == 0],
    )


def _is_png_with_content(path) -> bool:
    img = _read_png(path)
    return path.read_bytes()[:4] == b"\x89PNG" and float(np.std(img[..., :3])) > 0.01


def test_every_helper_draws_a_png(tmp_path) -> None:
    import pandas as pd

    from agentrec.plots import plot_accuracy_time, plot_bars, plot_filter_response, plot_lines, plot_training_curves

    lam = np.linspace(0, 1, 11)
    frame = pd.DataFrame({"popularity": [0.0, 0.0, 0.3], "lightgcn": [0.01, 0.1, 0.35]}, index=["1-2", "3-9", "10+"])
    written = [
        plot_training_curves(tmp_path / "curves.png", {"a": _history(6), "b": _history(3, 1)}, title="t"),
        plot_bars(tmp_path / "bars.png", frame, title="t", xlabel="bucket", ylabel="recall@20"),
        plot_bars(
            tmp_path / "log.png", {"s": [0.0, 0.001, 0.5]}, ["a", "b", "c"], title="t", xlabel="x", ylabel="y", log=True
        ),
        plot_filter_response(tmp_path / "resp.png", lam, {"linear": lam}, spectrum=[0.01, 0.02, 1.0]),
        plot_accuracy_time(
            tmp_path / "acc.png", {"gf": (2.0, 0.3), "lgcn": (30.0, 0.25)}, metric="recall@20", title="t"
        ),
        plot_lines(
            tmp_path / "lines.png", {"tail": ([1, 2, 3], [30, 3, 1])}, title="t", xlabel="x", ylabel="y", logy=True
        ),
    ]
    assert all(_is_png_with_content(p) for p in written)


def test_training_curves_count_epochs_from_one() -> None:
    from agentrec.plots import _history_curves

    epochs, _, metric, metric_epochs, values = _history_curves(_history(4))
    assert epochs == [1, 2, 3, 4] and metric_epochs == [2, 4] and metric == "recall@20" and values == [0.02, 0.06]


def test_zero_bars_are_labelled(tmp_path, monkeypatch) -> None:
    from matplotlib.axes import Axes

    from agentrec.plots import plot_bars

    labels: list[str] = []
    real = Axes.annotate
    monkeypatch.setattr(Axes, "annotate", lambda self, text, *a, **k: labels.append(text) or real(self, text, *a, **k))
    plot_bars(tmp_path / "z.png", {"s": [0.0, 0.25]}, ["a", "b"], title="t", xlabel="x", ylabel="y", log=True)
    assert labels == ["0.000", "0.250"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda p: __import__("agentrec.plots").plots.plot_bars(
                p, {"s": [1.0]}, ["a", "b"], title="t", xlabel="x", ylabel="y"
            ),
            "2 groups",
        ),
        (
            lambda p: __import__("agentrec.plots").plots.plot_bars(
                p, {"s": [float("nan")]}, ["a"], title="t", xlabel="x", ylabel="y"
            ),
            "finite",
        ),
        (lambda p: __import__("agentrec.plots").plots.plot_filter_response(p, [0, 1], {"h": [1.0]}), "2 eigenvalues"),
        (
            lambda p: __import__("agentrec.plots").plots.plot_accuracy_time(
                p, {"m": (0.0, 0.2)}, metric="r", title="t"
            ),
            "positive",
        ),
        (
            lambda p: __import__("agentrec.plots").plots.plot_lines(
                p, {"s": ([1, 2], [1])}, title="t", xlabel="x", ylabel="y"
            ),
            "1 y values",
        ),
        (lambda p: __import__("agentrec.plots").plots.plot_training_curves(p, {"a": _history(0)}), "no history"),
    ],
)
def test_helpers_reject_bad_input(tmp_path, call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(tmp_path / "x.png")
