"""The ``openai:<model>`` encoder backend: any OpenAI-compatible ``/v1/embeddings`` endpoint."""

from __future__ import annotations

import logging

import numpy as np

from agentrec.config import AgentConfig

__all__ = ["OpenAIBackend"]

logger = logging.getLogger("agentrec.text.encoder")

_CHARS_PER_TOKEN = 4  # no tokenizer for endpoint models, so their token limit is approximated in characters


class OpenAIBackend:
    """Embeds through an OpenAI-compatible endpoint (URL and key from an :class:`AgentConfig`)."""

    def __init__(self, model: str, config: AgentConfig, batch_size: int, max_tokens: int) -> None:
        try:
            import openai
        except ImportError as exc:
            raise RuntimeError("openai: embeddings need the 'openai' package: pip install 'agentrec[agent]'") from exc
        base_url = config.embeddings_url or config.base_url
        if not config.api_key and not base_url:
            raise ValueError(
                f"model 'openai:{model}' needs an endpoint: set OPENAI_API_KEY for api.openai.com, or "
                "AGENTREC_EMBEDDINGS_URL / OPENAI_BASE_URL for an OpenAI-compatible server"
            )
        self.base_url = base_url
        self.client = openai.OpenAI(
            base_url=base_url,
            api_key=config.api_key or "unused",
            timeout=config.timeout_s,
            max_retries=config.max_retries,
        )
        self.model = model
        self.model_id = f"openai:{model}"
        self.batch_size = batch_size
        self._max_tokens = max_tokens
        self._dim: int | None = None

    @property
    def dim(self) -> int:
        if self._dim is None:
            self.embed(["dimension probe"], show_progress=False)
        assert self._dim is not None
        return self._dim

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def embed(self, texts: list[str], show_progress: bool) -> np.ndarray:
        import openai
        from tqdm.auto import tqdm

        limit = self._max_tokens * _CHARS_PER_TOKEN
        over = [i for i, t in enumerate(texts) if len(t) > limit]
        if over:
            logger.warning(
                "%d of %d texts exceed about %d tokens (%d characters), the limit of %s, and were truncated",
                len(over),
                len(texts),
                self._max_tokens,
                limit,
                self.model_id,
            )
            texts = [t[:limit] for t in texts]
        out = []
        starts = range(0, len(texts), self.batch_size)
        for start in tqdm(starts, desc="embedding", disable=not show_progress or len(starts) < 2):
            batch = texts[start : start + self.batch_size]
            try:
                response = self.client.embeddings.create(model=self.model, input=batch)
            except openai.APIConnectionError as exc:
                raise RuntimeError(
                    f"could not reach the embeddings endpoint {self.base_url or 'https://api.openai.com/v1'} "
                    f"({exc}); check AGENTREC_EMBEDDINGS_URL / OPENAI_BASE_URL and that the server is running"
                ) from exc
            except openai.APIStatusError as exc:
                raise RuntimeError(
                    f"the embeddings endpoint rejected model {self.model!r}: HTTP {exc.status_code} {exc.message}"
                ) from exc
            rows = sorted(response.data, key=lambda d: d.index)
            out.append(np.asarray([row.embedding for row in rows], dtype=np.float32))
        vecs = np.concatenate(out) if out else np.zeros((0, self._dim or 0), dtype=np.float32)
        if len(vecs):
            self._dim = int(vecs.shape[1])
        return vecs
