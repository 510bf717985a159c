"""The user-item bipartite graph of a training split and its symmetric-normalised adjacency.

Nodes ``0..num_users-1`` are users and ``num_users..num_users+num_items-1`` are items. The normalised
adjacency ``D^-1/2 A D^-1/2`` is built once (scipy CSR and torch sparse CSR) and reused by training,
evaluation and path explanations.
"""

from __future__ import annotations

import hashlib
import importlib
import warnings
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp
import torch

from agentrec.types import Interactions

__all__ = ["BipartiteGraph", "build_graph", "interactions_fingerprint", "torch_csr"]


def interactions_fingerprint(train: Interactions) -> str:
    """A sha256 over the shape and the (user, item) index arrays of ``train``.

    Falls back to this when ``agentrec.data.fingerprint`` is not available.
    """
    try:
        fingerprint = getattr(importlib.import_module("agentrec.data"), "fingerprint", None)
    except ImportError:
        fingerprint = None
    if callable(fingerprint):
        return str(fingerprint(train))
    h = hashlib.sha256()
    h.update(f"{train.num_users}x{train.num_items}:{len(train)}".encode())
    h.update(np.ascontiguousarray(train.user_index, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(train.item_index, dtype=np.int64).tobytes())
    return h.hexdigest()


@dataclass(eq=False)
class BipartiteGraph:
    """User-item graph of the training interactions.

    Attributes:
        num_users: number of users (rows of ``interaction``).
        num_items: number of items (columns of ``interaction``).
        interaction: binary ``scipy.sparse.csr_matrix`` of shape ``(num_users, num_items)``; duplicates
            collapse to 1.
        norm_adj: ``scipy.sparse.csr_matrix`` ``(N, N)``, ``N = num_users + num_items``, the symmetric
            normalised adjacency ``D^-1/2 A D^-1/2`` (isolated nodes have all-zero rows).
        user_degree: ``(num_users,)`` int64 training items per user.
        item_degree: ``(num_items,)`` int64 training users per item.
        fingerprint: identifies the training interactions (for checkpoints).
    """

    num_users: int
    num_items: int
    interaction: sp.csr_matrix
    norm_adj: sp.csr_matrix
    user_degree: np.ndarray
    item_degree: np.ndarray
    fingerprint: str
    _torch_cache: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)

    @property
    def num_nodes(self) -> int:
        """``num_users + num_items``."""
        return self.num_users + self.num_items

    @property
    def num_edges(self) -> int:
        """Number of distinct user-item training pairs."""
        return int(self.interaction.nnz)

    @cached_property
    def norm_adj_torch(self) -> torch.Tensor:
        """The normalised adjacency as a float32 torch sparse CSR tensor ``(N, N)`` on the CPU."""
        return self.norm_adj_on(torch.device("cpu"))

    def norm_adj_on(self, device: torch.device | str) -> torch.Tensor:
        """The normalised adjacency as a float32 sparse CSR tensor on ``device`` (cached per device)."""
        key = str(torch.device(device))
        if key not in self._torch_cache:
            t = torch_csr(self.norm_adj, device)
            self._torch_cache[key] = t
        return self._torch_cache[key]

    def edge_index(self) -> torch.Tensor:
        """``(2, 2 * num_edges)`` int64 PyG ``edge_index`` of the undirected bipartite graph."""
        coo = self.interaction.tocoo()
        u = torch.from_numpy(coo.row.astype(np.int64))
        i = torch.from_numpy(coo.col.astype(np.int64)) + self.num_users
        return torch.stack([torch.cat([u, i]), torch.cat([i, u])])

    def seen_items(self, user_index: np.ndarray) -> list[np.ndarray]:
        """Training items of each user of the batch."""
        ptr, idx = self.interaction.indptr, self.interaction.indices
        return [idx[ptr[u] : ptr[u + 1]] for u in np.asarray(user_index, dtype=np.int64).reshape(-1)]


def build_graph(train: Interactions) -> BipartiteGraph:
    """Build the bipartite graph and its symmetric-normalised adjacency from training interactions.

    Args:
        train: the training interactions (indices in ``[0, num_users)`` and ``[0, num_items)``).

    Returns:
        A :class:`BipartiteGraph`; repeated (user, item) rows count once.

    Raises:
        ValueError: when ``train`` has no users or no items.
    """
    nu, ni = train.num_users, train.num_items
    if nu == 0 or ni == 0:
        raise ValueError(f"train must have at least one user and one item, got {nu} users and {ni} items")
    r = sp.csr_matrix((np.ones(len(train), dtype=np.float32), (train.user_index, train.item_index)), shape=(nu, ni))
    r.sum_duplicates()
    r.data[:] = 1.0
    r.sort_indices()
    user_degree = np.diff(r.indptr).astype(np.int64)
    item_degree = np.bincount(r.indices, minlength=ni).astype(np.int64)
    deg = np.concatenate([user_degree, item_degree]).astype(np.float64)
    with np.errstate(divide="ignore"):
        d_inv_sqrt = np.where(deg > 0, 1.0 / np.sqrt(deg), 0.0)
    # Only the off-diagonal blocks are non-zero: A = [[0, R], [R^T, 0]]; normalise R directly.
    r_norm = sp.diags(d_inv_sqrt[:nu]) @ r @ sp.diags(d_inv_sqrt[nu:])
    norm_adj = sp.bmat([[None, r_norm], [r_norm.T, None]], format="csr", dtype=np.float32)
    norm_adj.sort_indices()
    return BipartiteGraph(
        num_users=nu,
        num_items=ni,
        interaction=r,
        norm_adj=norm_adj,
        user_degree=user_degree,
        item_degree=item_degree,
        fingerprint=interactions_fingerprint(train),
    )


def torch_csr(a: sp.spmatrix, device: torch.device | str) -> torch.Tensor:
    """A scipy sparse matrix as a float32 torch sparse CSR tensor on ``device``.

    int32 indices where they fit: the CPU SpMM is about twice as fast as with int64 (memory bound).
    """
    a = sp.csr_matrix(a)
    itype = np.int32 if a.nnz < 2**31 - 1 else np.int64  # int32 indices: faster CPU products
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Ss]parse.*")
        t = torch.sparse_csr_tensor(
            torch.from_numpy(a.indptr.astype(itype)),
            torch.from_numpy(a.indices.astype(itype)),
            torch.from_numpy(a.data.astype(np.float32)),
            size=a.shape,
            check_invariants=False,
        )
    return t.to(device)
