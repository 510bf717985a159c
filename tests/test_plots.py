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
