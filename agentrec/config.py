"""Configuration read from the environment in ONE place.

Stage-specific settings (training, retrieval, ...) are dataclasses next to the code that uses them
and are passed explicitly; only this module reads environment variables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "AgentConfig",
    "Paths",
    "apply_torch_threads",
    "default_artifacts_dir",
    "default_data_dir",
    "profiles_url_from_env",
    "torch_threads_from_env",
]

DEFAULT_TORCH_THREADS = 1


def _env(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def default_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where raw datasets live: ``AGENTREC_DATA_DIR`` or ``<user cache>/agentrec/data``."""
    env = _env(environ)
    if env.get("AGENTREC_DATA_DIR"):
        return Path(env["AGENTREC_DATA_DIR"]).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("agentrec")) / "data"


def default_artifacts_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where built artifacts live: ``AGENTREC_ARTIFACTS_DIR`` or ``<user cache>/agentrec/artifacts``."""
    env = _env(environ)
    if env.get("AGENTREC_ARTIFACTS_DIR"):
        return Path(env["AGENTREC_ARTIFACTS_DIR"]).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("agentrec")) / "artifacts"


def profiles_url_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """Where per-user profiles live: ``AGENTREC_PROFILES_URL``, or None (nothing is persisted).

    The value is a SQLite file or a database URL such as ``postgresql://user:password@host:5432/agentrec``.
    """
    return _env(environ).get("AGENTREC_PROFILES_URL", "").strip() or None


def torch_threads_from_env(environ: Mapping[str, str] | None = None) -> int:
    """PyTorch intra-op threads for serving: ``AGENTREC_TORCH_THREADS``, default 1 (0 keeps PyTorch's default).

    Each request runs small tensor ops (one query embedding, one score vector). On a few busy cores PyTorch's
    default pool (one thread per core) spins and waits on the others; one thread per request measured several
    times faster per query under load. Raise it for bulk work (training, embedding a catalogue) on a quiet machine.

    Raises:
        ValueError: when the variable is not a whole number >= 0.
    """
    raw = _env(environ).get("AGENTREC_TORCH_THREADS", "").strip()
    if not raw:
        return DEFAULT_TORCH_THREADS
    try:
        n = int(raw)
    except ValueError:
        n = -1
    if n < 0:
        raise ValueError(f"AGENTREC_TORCH_THREADS must be a whole number >= 0 (0 keeps PyTorch's default), got {raw!r}")
    return n


def apply_torch_threads(n: int | None = None) -> int:
    """Set PyTorch's intra-op thread count to ``n`` (None: :func:`torch_threads_from_env`; 0: leave it alone).

    Returns:
        The thread count PyTorch now uses.

    Raises:
        ValueError: when ``n`` is negative.
    """
    n = torch_threads_from_env() if n is None else n
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"torch threads must be a whole number >= 0 (0 keeps PyTorch's default), got {n!r}")
    import torch  # lazy: config is imported by light modules that must not pull in torch

    if n and torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return int(torch.get_num_threads())


@dataclass(frozen=True)
class Paths:
    """Raw-data and artifacts roots."""

    data_dir: Path
    artifacts_dir: Path

    @classmethod
    def from_env(
        cls,
        data_dir: str | Path | None = None,
        artifacts_dir: str | Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Paths:
        """Explicit arguments win over the environment, which wins over the defaults."""
        return cls(
            data_dir=Path(data_dir).expanduser() if data_dir else default_data_dir(environ),
            artifacts_dir=Path(artifacts_dir).expanduser() if artifacts_dir else default_artifacts_dir(environ),
        )

    def dataset_artifacts(self, dataset: str) -> Path:
        """The artifacts directory of one dataset."""
        return self.artifacts_dir / dataset


@dataclass(frozen=True)
class AgentConfig:
    """LLM and service settings.

    ``model`` is None when no LLM is configured: the agent then runs its offline planner.
    """

    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    timeout_s: float = 60.0
    max_retries: int = 2
    chroma_url: str | None = None
    embeddings_url: str | None = None
    embeddings_model: str | None = None
    max_tool_calls: int = 6
    max_turn_tokens: int = 30000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AgentConfig:
        """Read the LLM and service settings from the environment.

        Variables: ``AGENTREC_LLM_MODEL``, ``OPENAI_BASE_URL``, ``OPENAI_API_KEY``, ``AGENTREC_LLM_TIMEOUT``,
        ``AGENTREC_CHROMA_URL``, ``AGENTREC_EMBEDDINGS_URL``, ``AGENTREC_EMBEDDINGS_MODEL``, and the per-turn caps of
        the LLM agent ``AGENTREC_LLM_MAX_TOOL_CALLS`` (default 6) and ``AGENTREC_LLM_MAX_TURN_TOKENS`` (default 30000).
        """
        env = _env(environ)
        caps = {}
        for var, name in (
            ("AGENTREC_LLM_MAX_TOOL_CALLS", "max_tool_calls"),
            ("AGENTREC_LLM_MAX_TURN_TOKENS", "max_turn_tokens"),
        ):
            raw = env.get(var)
            if raw:
                try:
                    caps[name] = int(raw)
                except ValueError as exc:
                    raise ValueError(f"{var} must be a whole number, got {raw!r}") from exc
                if caps[name] < 1:
                    raise ValueError(f"{var} must be at least 1, got {raw!r}")
        timeout = env.get("AGENTREC_LLM_TIMEOUT")
        try:
            timeout_s = float(timeout) if timeout else 60.0
        except ValueError as exc:
            raise ValueError(f"AGENTREC_LLM_TIMEOUT must be a number of seconds, got {timeout!r}") from exc
        return cls(
            model=env.get("AGENTREC_LLM_MODEL") or None,
            base_url=env.get("OPENAI_BASE_URL") or None,
            api_key=env.get("OPENAI_API_KEY") or None,
            timeout_s=timeout_s,
            chroma_url=env.get("AGENTREC_CHROMA_URL") or None,
            embeddings_url=env.get("AGENTREC_EMBEDDINGS_URL") or None,
            embeddings_model=env.get("AGENTREC_EMBEDDINGS_MODEL") or None,
            **caps,
        )

    @property
    def llm_enabled(self) -> bool:
        """True when an LLM model is configured."""
        return self.model is not None
