"""The `agentrec search` command, and the text stage on real ml-latest-small data."""

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from agentrec.cli import main
from agentrec.data import Dataset, load_dataset
from agentrec.text import (
    TextEncoder,
    VectorStore,
    build_index,
    default_cache_dir,
    default_store_path,
    item_popularity,
    user_profile_text,
)
from agentrec.types import Catalog, Interactions


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """On a shared, oversubscribed CPU two torch threads make small encodes ~10x slower (bench/text_query.py)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_cli_search_prints_ranked_hits(tmp_path: Path, tiny_catalog: Catalog, capsys: pytest.CaptureFixture) -> None:
    encoder = TextEncoder.from_name(device="cpu", cache_dir=default_cache_dir(tmp_path), show_progress=False)
    store = VectorStore.open(default_store_path(tmp_path, "ml-latest-small"), encoder=encoder)
    store.build(tiny_catalog, popularity=np.arange(7))
    argv = ["search", "dark sci-fi about dreams", "--artifacts-dir", str(tmp_path), "--device", "cpu", "--k", "2"]
    assert main(argv + ["--genre", "Sci-Fi", "--year-from", "1980", "--exclude-genre", "Horror"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert re.match(r"\s*1\. Inception \(2010\)  \[Action, Sci-Fi\]  score=0\.\d{3}", lines[0])
    assert lines[1].lstrip().startswith("2. Aliens (1986)")

    assert main(argv + ["--genre", "Animation", "--year-to", "1980"]) == 0
    assert "no items match" in capsys.readouterr().out
    assert main(argv + ["--genre", "scifi"]) == 1
    assert "genre 'scifi' is not in this catalogue; valid genre values are:" in capsys.readouterr().err
    assert main(argv + ["--year-from", "2005", "--year-to", "1990"]) == 1
    assert "year range 2005-1990 is empty" in capsys.readouterr().err
    # The generic facet flags say the same as the genre / year ones.
    assert main(argv + ["--facet", "genre=Sci-Fi", "--range", "year=1980:", "--exclude", "genre=Horror"]) == 0
    assert capsys.readouterr().out.strip().splitlines() == lines
    assert main(argv + ["--facet", "brand=3M"]) == 1
    assert "unknown facet 'brand'; this catalogue's facets are: genre, year, tag" in capsys.readouterr().err
    assert main(argv[:1] + ["   "] + argv[2:]) == 1
    assert "query text is empty" in capsys.readouterr().err


def test_cli_search_without_index_says_to_build(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["search", "anything", "--dataset", "ml-100k", "--artifacts-dir", str(tmp_path)]) == 1
    assert "agentrec index --dataset ml-100k" in capsys.readouterr().err


def test_cli_bad_model_path(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    argv = ["search", "x", "--artifacts-dir", str(tmp_path), "--model", str(tmp_path / "missing-model")]
    assert main(argv) == 1
    assert "does not exist. Fix:" in capsys.readouterr().err


@pytest.mark.data
@pytest.mark.slow
def test_real_catalogue_overview_sentences_find_their_movie(shared_data: Path, tmp_path: Path) -> None:
    full = load_dataset("ml-latest-small", shared_data)
    with_overview = [i for i, it in enumerate(full.catalog.items) if it.overview.strip()]
    assert len(with_overview) > 3000  # TMDB overviews are joined
    keep = np.array(with_overview[:: len(with_overview) // 150][:150])
    # A small real sub-catalogue (with the real interactions of those items) keeps this test fast.
    catalog = Catalog(items=tuple(full.catalog[int(i)] for i in keep))
    remap = -np.ones(len(full.catalog), dtype=np.int64)
    remap[keep] = np.arange(len(keep))
    mask = remap[full.interactions.item_index] >= 0
    inter = Interactions(
        user_index=full.interactions.user_index[mask],
        item_index=remap[full.interactions.item_index[mask]],
        user_ids=full.interactions.user_ids,
        item_ids=tuple(it.item_id for it in catalog.items),
        rating=None if full.interactions.rating is None else full.interactions.rating[mask],
    )
    dataset = Dataset(name="ml-sample", interactions=inter, catalog=catalog)
    store = build_index(dataset, tmp_path, show_progress=False)
    assert store.count() == 150
    emb = np.load(tmp_path / "ml-sample" / "item_text_embeddings.npy")
    assert emb.shape == (150, 384)
    np.testing.assert_allclose(store.item_vectors([0, 149]), emb[[0, 149]], atol=1e-5)
    pop = item_popularity(inter)
    hit = store.search(catalog[0].title, k=1)[0]
    assert hit.metadata["popularity"] == int(pop[hit.item_index])

    found = 0
    for i in range(0, 150, 5):
        sentence = re.split(r"(?<=[.!?])\s", catalog[i].overview.strip())[0]
        found += i in [h.item_index for h in store.search(sentence, k=10)]
    assert found / 30 >= 0.6  # measured on the full catalogue: see bench/results/text_index.json

    user = int(inter.user_index[0])
    rows = inter.user_index == user
    profile = user_profile_text(
        catalog, inter.item_index[rows], inter.rating[rows] if inter.rating is not None else None
    )
    assert profile.startswith("Likes: ")
