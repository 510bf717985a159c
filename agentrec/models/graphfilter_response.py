"""Spectral responses of the graph-filter family (GF-CF, ChebyCF, BSPM) as functions of an eigenvalue.

Every filter of :mod:`agentrec.models.graphfilter` acts on the normalised item-item graph
``P = R~^T R~`` (eigenvalues ``lam`` in ``[0, 1]``) through a response ``h(lam)``: a polynomial part, stored
as Chebyshev coefficients in ``x = 1 - 2 lam`` (the eigenvalue of the rescaled Laplacian ``I - 2P``), and an
ideal low-pass part that only acts on the top ``ideal_rank`` singular directions.

- ``"linear"`` (GF-CF, Shen et al. CIKM 2021): ``h(lam) = lam``; ideal part ``ideal_weight``.
- ``"plateau"`` (ChebyCF, Kim et al. SIGIR 2025): the Chebyshev interpolant of order ``order`` of a plateau
  ``0.5 + 0.5 sign(-x) |x| ** flatness``, a smoothed low-pass with flat ends; ideal part ``ideal_weight``.
- ``"bspm"`` (Choi et al. SIGIR 2023, the Euler-blur / RK4-sharpen variant): blurring ``lam`` plus the ideal
  term, then sharpening ``ds/dt = -s P`` integrated over ``sharpen_time`` with ``sharpen_steps`` RK4 steps,
  which multiplies both parts by ``k(lam) = taylor4(-sharpen_time * lam / steps) ** steps``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.polynomial import chebyshev as C
from numpy.polynomial import polynomial as Pn

__all__ = ["RESPONSES", "Response", "chebyshev_coefficients", "ideal_response", "polynomial_response", "tail_fit"]

Response = Literal["linear", "plateau", "bspm"]
RESPONSES: tuple[str, ...] = ("linear", "plateau", "bspm")


def _plateau(x: np.ndarray, flatness: float) -> np.ndarray:
    """``1`` at ``x = -1`` (the smoothest signals), ``0`` at ``x = 1``, flat near both ends."""
    mag = np.abs(x) ** flatness
    return np.where(x < 0, 0.5 + 0.5 * mag, 0.5 - 0.5 * mag)


def _sharpen_poly(time: float, steps: int) -> np.ndarray:
    """Power-series coefficients (in ``lam``) of ``steps`` RK4 steps of ``ds/dt = -lam s`` over ``time``."""
    h = time / steps
    # One RK4 step of a linear ODE multiplies by the 4th-order Taylor polynomial of exp(-h lam).
    step = np.array([1.0, -h, h**2 / 2, -(h**3) / 6, h**4 / 24])
    out = np.array([1.0])
    for _ in range(steps):
        out = Pn.polymul(out, step)
    return out


def _lam_to_x(power_coef: np.ndarray) -> np.ndarray:
    """Chebyshev coefficients in ``x = 1 - 2 lam`` of a polynomial given by power coefficients in ``lam``."""
    # Substitute lam = (1 - x) / 2, then change basis.
    in_x = np.array([0.0])
    term = np.array([1.0])
    for c in power_coef:
        in_x = Pn.polyadd(in_x, c * term)
        term = Pn.polymul(term, [0.5, -0.5])
    return C.poly2cheb(in_x)


def chebyshev_coefficients(
    response: Response, *, order: int = 8, flatness: float = 1.5, sharpen_time: float = 2.5, sharpen_steps: int = 1
) -> np.ndarray:
    """Chebyshev coefficients (in ``x = 1 - 2 lam``) of the polynomial part of a response.

    Returns:
        ``(degree + 1,)`` float64: degree 1 for ``linear``, ``order`` for ``plateau``, ``1 + 4 sharpen_steps``
        for ``bspm``.

    Raises:
        ValueError: for an unknown response or out-of-range settings.
    """
    if response == "linear":
        return _lam_to_x(np.array([0.0, 1.0]))
    if response == "plateau":
        if not isinstance(order, int | np.integer) or order < 1:
            raise ValueError(f"order must be a positive integer (Chebyshev degree), got {order!r}")
        if not flatness > 0:
            raise ValueError(f"flatness must be > 0, got {flatness!r}")
        return C.chebinterpolate(lambda x: _plateau(x, flatness), int(order))
    if response == "bspm":
        if not isinstance(sharpen_steps, int | np.integer) or sharpen_steps < 1:
            raise ValueError(f"sharpen_steps must be a positive integer, got {sharpen_steps!r}")
        if sharpen_time < 0:
            raise ValueError(f"sharpen_time must be >= 0, got {sharpen_time!r}")
        return _lam_to_x(Pn.polymul([0.0, 1.0], _sharpen_poly(sharpen_time, int(sharpen_steps))))
    raise ValueError(f"response must be one of {RESPONSES}, got {response!r}")


def polynomial_response(coef: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """The polynomial part ``p(lam)`` at eigenvalues ``lam`` (any shape)."""
    return C.chebval(1.0 - 2.0 * np.asarray(lam, dtype=np.float64), coef)


def ideal_response(
    response: Response,
    lam: np.ndarray,
    *,
    ideal_rank: int,
    ideal_weight: float,
    sharpen_time: float = 2.5,
    sharpen_steps: int = 1,
) -> np.ndarray:
    """The ideal low-pass part at the top eigenvalues ``lam`` (sorted, largest first): ``(len(lam),)``."""
    lam = np.asarray(lam, dtype=np.float64)
    out = np.where(np.arange(len(lam)) < ideal_rank, float(ideal_weight), 0.0)
    if response == "bspm":
        out = out * Pn.polyval(lam, _sharpen_poly(sharpen_time, int(sharpen_steps)))
    return out


def tail_fit(coef: np.ndarray, lam_min: float, full_rank: bool, points: int = 256) -> tuple[float, float]:
    """``(q0, q1)``: the straight line ``q0 + q1 lam`` closest (least squares) to ``p`` on ``[0, lam_min]``.

    The eigenvalues below the kept ones lie in ``[0, lam_min]``; there the response is applied as
    ``q0 I + q1 P`` (one sparse product) instead of exactly. With ``full_rank`` every non-zero eigenvalue is
    kept, the rest are exactly 0, and the line is the constant ``p(0)``.
    """
    if full_rank or lam_min <= 0:
        return float(polynomial_response(coef, np.zeros(1))[0]), 0.0
    grid = np.linspace(0.0, lam_min, points)
    q1, q0 = np.polyfit(grid, polynomial_response(coef, grid), 1)
    return float(q0), float(q1)
