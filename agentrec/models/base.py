"""The interface every retrieval model implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np
import torch

__all__ = ["Recommender"]


class Recommender(ABC):
    """A model that scores every item for a user.

    Concrete models set ``num_users`` and ``num_items`` and the training positives they saw
    (``seen``: a ``scipy.sparse.csr_matrix`` of shape ``(num_users, num_items)``) so that
    ``recommend`` can exclude them.
    """

    name: str = "recommender"
    num_users: int
    num_items: int

    @abstractmethod
    def score(self, user_index: np.ndarray | torch.Tensor) -> torch.Tensor:
        """Scores of all items for a batch of users: ``(batch, num_items)`` float32 on the CPU."""

    @abstractmethod
    def seen_items(self, user_index: np.ndarray) -> list[np.ndarray]:
        """For each user of the batch, the item indices seen in training (to exclude)."""

    def user_embeddings(self) -> torch.Tensor:
        """``(num_users, embedding_dim)`` final user embeddings (models without any raise)."""
        raise NotImplementedError(f"{self.name} has no user embeddings")

    def item_embeddings(self) -> torch.Tensor:
        """``(num_items, embedding_dim)`` final item embeddings (models without any raise)."""
        raise NotImplementedError(f"{self.name} has no item embeddings")

    def recommend(
        self, user_index: np.ndarray | list[int], k: int, exclude_seen: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` items per user.

        Returns:
            ``(scores, item_index)``, both ``(batch, k)``, best first.
        """
        users = np.asarray(user_index, dtype=np.int64).reshape(-1)
        if not isinstance(k, int | np.integer) or k <= 0 or k > self.num_items:
            raise ValueError(f"k must be an integer in [1, {self.num_items}] (the catalogue size), got {k!r}")
        if len(users) and (users.min() < 0 or users.max() >= self.num_users):
            bad = users[(users < 0) | (users >= self.num_users)][0]
            raise ValueError(f"unknown user index {int(bad)}; valid user indices are 0..{self.num_users - 1}")
        scores = self.score(users).clone()
        if exclude_seen:
            # Exclude training items: a user should never be recommended what they already have.
            for row, seen in enumerate(self.seen_items(users)):
                if len(seen):
                    scores[row, torch.as_tensor(seen, dtype=torch.long)] = -torch.inf
        top = torch.topk(scores, k, dim=1)
        return top.values.numpy(), top.indices.numpy()

    @abstractmethod
    def save(self, path: str | Path) -> None:
        """Write the model to ``path`` atomically."""
