"""Settings of the graph-filter retriever (:class:`~agentrec.models.graphfilter.GraphFilter`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from agentrec.models.graphfilter_response import RESPONSES, Response, chebyshev_coefficients

__all__ = ["GraphFilterConfig"]


@dataclass
class GraphFilterConfig:
    """Graph-filter settings (defaults: the gowalla choice on a validation split, see BENCHMARKS.md).

    Attributes:
        response: ``"plateau"`` (ChebyCF), ``"bspm"`` or ``"linear"`` (GF-CF).
        rank: singular vectors kept; the response is exact on these eigenvalues.
        order: Chebyshev order of the plateau response.
        flatness: plateau flatness (1 = linear ramp, larger = flatter ends, sharper cut).
        sharpen_time: BSPM sharpening time ``T``.
        sharpen_steps: BSPM RK4 steps.
        ideal_rank: the ideal low-pass term acts on the top ``ideal_rank`` directions (``<= rank``).
        ideal_weight: its weight (0 turns it off).
        degree_power: ``b'``: the history is divided by ``item_degree ** b'`` and scores multiplied back.
        user_power: ``a`` in ``R~ = D_u^-a R D_i^-b``.
        item_power: ``b``.
        tail: ``"linear"`` (straight-line fit below the kept spectrum) or ``"exact"`` (Chebyshev recursion).
        text_weight: weight of the text item-item graph blended in (0: off; needs ``item_features``); items
            without interactions are reached through it (:mod:`agentrec.models.graphfilter_text`).
        text_neighbors: text neighbours kept per item.
        text_cold_boost: multiplies the text score of items without training interactions.
        svd_niter: power iterations of the randomized SVD.
        svd_oversample: extra random directions of the randomized SVD.
        block_size: users filtered per block on the CPU (its sparse product is fastest with blocks of a few
            hundred); 16 times as many on a GPU.
        device: ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda[:N]"``.
        seed: seed of the randomized SVD.
    """

    response: Response = "plateau"
    rank: int = 512
    order: int = 8
    flatness: float = 2.5
    sharpen_time: float = 2.5
    sharpen_steps: int = 1
    ideal_rank: int = 256
    ideal_weight: float = 0.2
    degree_power: float = 0.4
    user_power: float = 0.5
    item_power: float = 0.5
    tail: Literal["linear", "exact"] = "linear"
    text_weight: float = 0.0
    text_neighbors: int = 20
    text_cold_boost: float = 1.0
    svd_niter: int = 4
    svd_oversample: int = 128
    block_size: int = 256
    device: str = "auto"
    seed: int = 0

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad field."""
        if self.response not in RESPONSES:
            raise ValueError(f"response must be one of {RESPONSES}, got {self.response!r}")
        for name in ("rank", "block_size", "order", "sharpen_steps", "text_neighbors"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name in ("ideal_rank", "svd_niter", "svd_oversample"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        if self.ideal_rank > self.rank:
            raise ValueError(f"ideal_rank ({self.ideal_rank}) must be <= rank ({self.rank})")
        for name in ("ideal_weight", "degree_power", "user_power", "item_power", "sharpen_time", "flatness"):
            if not np.isfinite(float(getattr(self, name))):
                raise ValueError(f"{name} must be a finite number, got {getattr(self, name)!r}")
        if not 0.0 <= float(self.text_weight) <= 1.0:
            raise ValueError(f"text_weight must be in [0, 1], got {self.text_weight!r}")
        if not float(self.text_cold_boost) > 0 or not np.isfinite(float(self.text_cold_boost)):
            raise ValueError(f"text_cold_boost must be a positive number, got {self.text_cold_boost!r}")
        if self.tail not in ("linear", "exact"):
            raise ValueError(f"tail must be 'linear' or 'exact', got {self.tail!r}")
        chebyshev_coefficients(
            self.response, order=self.order, flatness=self.flatness, sharpen_time=self.sharpen_time,
            sharpen_steps=self.sharpen_steps,
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly config."""
        return asdict(self)
