"""First-answer quality: would a person accept what a system shows on the first turn.

Hit rate measures narrowing down to one hidden target; it does not see whether the first list is made of
well-known, well-regarded items or of obscure ones. For every system this module scores the items of each
episode's first answer by the training data: their median interaction count and their mean shrunk rating
(Bayesian average, see :class:`agentrec.retrieve.quality.QualityPrior`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from agentrec.evalchat.runner import EpisodeLog
from agentrec.retrieve.quality import QualityPrior

__all__ = ["first_answer_quality"]


def first_answer_quality(
    logs: Sequence[EpisodeLog], prior: QualityPrior, id_to_index: Mapping[str, int]
) -> dict[str, Any]:
    """Median interaction count and mean shrunk rating of the items shown on each episode's first turn.

    Args:
        logs: one system's episodes (their transcripts hold the shown item ids per turn).
        prior: the quality prior of the training data (``count`` and ``shrunk`` per item index).
        id_to_index: item id -> item index.

    Returns:
        ``{"items", "median_count", "mean_shrunk"}``; ``mean_shrunk`` is None for implicit data and both
        figures are None when no first answer showed an item.
    """
    shown = [id_to_index[i] for lg in logs if lg.transcript for i in lg.transcript[0]["shown"] if i in id_to_index]
    idx = np.asarray(shown, dtype=np.int64)
    if not len(idx):
        return {"items": 0, "median_count": None, "mean_shrunk": None}
    return {
        "items": len(idx),
        "median_count": float(np.median(prior.count[idx])),
        "mean_shrunk": float(prior.shrunk[idx].mean()) if prior.shrunk is not None else None,
    }
