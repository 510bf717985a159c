"""The LLM client: ``ChatOpenAI`` from ``AgentConfig``, the structured final-answer schema, failure reasons.

Kept apart from :mod:`agentrec.agent.llm` (the agent loop) so each stays small. Nothing here is imported by
``import agentrec``; langchain-openai and openai are imported inside the functions that need them.
"""

from __future__ import annotations

from typing import Any

from agentrec.config import AgentConfig

__all__ = ["FINAL_TOOL_NAME", "LLMUnavailable", "describe_failure", "final_schema", "make_chat_model"]

FINAL_TOOL_NAME = "RecommendationList"


class LLMUnavailable(RuntimeError):
    """The LLM cannot be used for this turn; ``reason`` says why and how to fix it.

    ``trace`` and ``usage`` hold what the turn did and spent before it failed (filled in by the agent).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.trace: list[Any] = []
        self.usage: dict[str, int] = {}


def make_chat_model(config: AgentConfig) -> Any:
    """Build the ``ChatOpenAI`` client described by ``config`` (model, base URL, key, timeout, retries).

    A local server (vLLM, Ollama, llama.cpp) usually needs no key; a placeholder is sent when
    ``OPENAI_BASE_URL`` is set without ``OPENAI_API_KEY``.

    Raises:
        LLMUnavailable: when no model is configured, langchain-openai is missing, or no key is set for
            the default OpenAI endpoint.
    """
    if not config.model:
        raise LLMUnavailable("no LLM is configured; set AGENTREC_LLM_MODEL (and OPENAI_BASE_URL for a local server)")
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise LLMUnavailable("the LLM agent needs langchain-openai: pip install 'agentrec[agent]'") from exc
    api_key = config.api_key
    if api_key is None:
        if config.base_url is None:
            raise LLMUnavailable(
                "OPENAI_API_KEY is not set; set it for api.openai.com, or set OPENAI_BASE_URL to a local "
                "OpenAI-compatible server (vLLM, Ollama, llama.cpp)"
            )
        api_key = "not-needed"
    return ChatOpenAI(
        model=config.model,
        base_url=config.base_url,
        api_key=api_key,  # type: ignore[arg-type]
        timeout=config.timeout_s,
        max_retries=config.max_retries,
        temperature=0.0,
        stream_usage=True,
    )


def final_schema() -> type:
    """The pydantic schema of the final answer; its class name is the structured-output tool's name.

    It is lenient on purpose (ids as numbers, evidence as one string, a missing reason): what the model meant is
    read by the agent, and the guard decides what is true.
    """
    from pydantic import BaseModel, Field

    class RecommendedItem(BaseModel):
        """One item."""

        item_id: str | int | float = Field(description="the id exactly as a tool result showed it")
        reason: str = Field(default="", description="one or two sentences for the person: why it fits")
        evidence: list[str] | str = Field(
            default_factory=list, description="path refs from explain ('p3') or facts ('genre: Comedy')"
        )

    class RecommendationList(BaseModel):
        """Your final answer, once, at the end: a short message and the items (or a question and no items)."""

        message: str = Field(description="one or two sentences for the person (or your question)")
        items: list[RecommendedItem] = Field(default_factory=list, description="the recommendations, best first")
        fill: bool | None = Field(
            default=None, description="true to let the application add catalogue picks up to the number wanted"
        )

    return RecommendationList


def describe_failure(exc: BaseException, config: AgentConfig) -> str | None:
    """A user-facing reason for an LLM client failure, or None when ``exc`` is not one."""
    try:
        import openai
    except ImportError:  # pragma: no cover - depends on the install
        return None
    where = config.base_url or "https://api.openai.com/v1"
    tries = f"after {config.max_retries} retries" if config.max_retries else "(retries disabled)"
    if isinstance(exc, openai.NotFoundError):
        return (
            f"the LLM server at {where} does not serve model {config.model!r} (404: {_message(exc)}); set "
            f"AGENTREC_LLM_MODEL to one of the models it lists at {where.rstrip('/')}/models"
        )
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return f"the LLM server at {where} rejected the API key ({_message(exc)}); check OPENAI_API_KEY"
    if isinstance(exc, openai.RateLimitError):
        return f"the LLM server at {where} is still rate-limiting requests (429) {tries}; try again later"
    if isinstance(exc, openai.APITimeoutError):
        return (
            f"the LLM at {where} did not answer within {config.timeout_s:g} s {tries}; raise "
            "AGENTREC_LLM_TIMEOUT or use a faster model"
        )
    if isinstance(exc, openai.APIConnectionError):
        return (
            f"could not connect to the LLM server at {where} {tries}; check that it is running and that "
            "OPENAI_BASE_URL is right (it usually ends in /v1)"
        )
    if isinstance(exc, openai.InternalServerError):
        return f"the LLM server at {where} kept failing ({exc.status_code}: {_message(exc)}) {tries}"
    if isinstance(exc, openai.BadRequestError):
        return (
            f"the LLM server at {where} rejected the request (400: {_message(exc)}); model {config.model!r} "
            "may not support tool calling"
        )
    if isinstance(exc, openai.APIStatusError):
        return f"the LLM server at {where} answered HTTP {exc.status_code}: {_message(exc)}"
    if isinstance(exc, openai.OpenAIError):
        return f"the LLM client failed: {exc}"
    return None


def _message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if body.get("message"):
            return str(body["message"])
    return str(getattr(exc, "message", exc))
