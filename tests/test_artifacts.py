"""load_components: builds once from a tiny dataset, reloads the same model, wires retriever + explainer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agentrec.artifacts import load_components
from agentrec.data import Dataset
from agentrec.train import TrainConfig
from agentrec.types import Catalog, Interactions, Query


def _tiny_train_config() -> TrainConfig:
    return TrainConfig(epochs=3, batch_size=64, eval_every=1, device="cpu", show_progress=False)


@pytest.mark.slow
def test_build_then_reload(tiny_interactions: Interactions, tiny_catalog: Catalog, tmp_path: Path) -> None:
    ds = Dataset("tiny", tiny_interactions, tiny_catalog)
    comps = load_components(
        ds,
        data_dir=tmp_path / "data",
        artifacts_dir=tmp_path / "art",
        train_config=_tiny_train_config(),
        show_progress=False,
    )
    assert comps.name == "tiny" and comps.path == tmp_path / "art" / "tiny"
    assert (comps.path / "retriever-text-lightgcn.pt").is_file()
    manifest = json.loads((comps.path / "components.json").read_text())
    assert "retriever-text-lightgcn.pt" in manifest["checkpoints"]
    assert comps.item_text_embeddings is not None and comps.item_text_embeddings.shape[0] == 7
    assert comps.store is not None and comps.store.count() == 7
    user = comps.train.user_ids[0]
    result = comps.retriever.retrieve(Query(text="pixar toys", user_id=user, k=3))
    assert result.candidates and "semantic" in {s for c in result.candidates for s in c.sources}
    for cand in result.candidates:
        for path in comps.explainer.explain(user, cand.item_index, Query(text="pixar toys")):
            assert comps.explainer.verify(path)
    before = comps.model.item_embeddings().numpy()
    again = load_components(
        ds, data_dir=tmp_path / "data", artifacts_dir=tmp_path / "art", build_missing=False, show_progress=False
    )
    np.testing.assert_allclose(again.model.item_embeddings().numpy(), before, rtol=1e-5, atol=1e-6)


def test_missing_artifacts_without_build(
    tiny_interactions: Interactions, tiny_catalog: Catalog, tmp_path: Path
) -> None:
    ds = Dataset("tiny", tiny_interactions, tiny_catalog)
    with pytest.raises(FileNotFoundError, match="agentrec index --dataset tiny"):
        load_components(ds, artifacts_dir=tmp_path, build_missing=False, show_progress=False)
    with pytest.raises(ValueError, match="model must be one of"):
        load_components(ds, artifacts_dir=tmp_path, model="gat")
