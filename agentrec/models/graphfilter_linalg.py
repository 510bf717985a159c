"""Linear algebra of the graph filter: degree powers, CSR conversion and truncated SVDs (exact and randomized)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from agentrec.graph.adjacency import torch_csr

__all__ = ["DENSE_SVD_RANK", "exact_svd", "orthonormal", "power", "randomized_svd", "torch_csr"]

# When the smaller side has at most this many rows, R~ is decomposed exactly (eigh of its Gram matrix).
DENSE_SVD_RANK = 4096


def power(degree: np.ndarray, p: float) -> np.ndarray:
    """``degree ** -p`` with 0 for degree 0 (items or users without interactions contribute nothing)."""
    out = np.zeros(len(degree), dtype=np.float64)
    nz = degree > 0
    out[nz] = degree[nz].astype(np.float64) ** (-p)
    return out


def exact_svd(rn: sp.csr_matrix, rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact top-``rank`` singular pairs ``(V, S)`` of a matrix with a small side, via its Gram matrix."""
    r64 = rn.astype(np.float64)
    items_side = rn.shape[1] <= rn.shape[0]
    gram = (r64.T @ r64 if items_side else r64 @ r64.T).toarray()
    lam, vec = np.linalg.eigh(gram)
    order = np.argsort(-lam)[: min(rank, len(lam))]
    s = np.sqrt(np.clip(lam[order], 0.0, None))
    if items_side:
        v = vec[:, order]
    else:
        # V = R~^T U S^-1; directions with S = 0 add nothing to P and stay zero.
        inv = np.where(s > 1e-9 * max(s[0], 1e-30), 1.0 / np.where(s > 0, s, 1.0), 0.0)
        v = np.asarray(r64.T @ vec[:, order]) * inv
    return torch.from_numpy(v).float().contiguous(), torch.from_numpy(s).float()


def orthonormal(y: torch.Tensor) -> torch.Tensor:
    """An orthonormal basis of the columns of ``y`` (tall): Cholesky QR, Householder QR when that fails."""
    gram = y.T @ y
    chol, info = torch.linalg.cholesky_ex(gram + 1e-7 * gram.diagonal().mean() * torch.eye(len(gram), device=y.device))
    if int(info) == 0:
        return torch.linalg.solve_triangular(chol, y.T, upper=False).T
    return torch.linalg.qr(y).Q


def randomized_svd(
    a: torch.Tensor, a_t: torch.Tensor, q: int, niter: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Top ``q`` right singular pairs ``(V (n, q), S (q,))`` of a sparse ``a`` (m, n), largest first.

    The randomized range finder with power iterations of ``torch.svd_lowrank`` (Halko et al. 2011,
    algorithms 4.4 and 5.1), written with ``a`` and its transpose as explicit CSR matrices so that every
    product is a CSR SpMM on the CPU and on CUDA alike, and orthonormalised by Cholesky QR (GEMM speed).
    """
    omega = torch.randn(a.shape[1], q, generator=gen, device=a.device)
    y = a @ omega  # (m, q)
    for _ in range(niter):
        y = a @ (a_t @ orthonormal(y))
    bt = a_t @ orthonormal(y)  # (n, q) = (Q^T A)^T
    lam, z = torch.linalg.eigh((bt.T @ bt).double())
    lam, z = lam.flip(0).clamp(min=0.0), z.flip(1)
    s = lam.sqrt()
    v = (bt.double() @ z) / s.clamp(min=1e-12)
    return v.float(), s.float()
