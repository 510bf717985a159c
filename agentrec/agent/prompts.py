"""Prompt templates shipped inside the package (``prompts/*.md``, also at the repository top level).

Templates are Markdown with ``$name`` placeholders (:class:`string.Template`), so braces in examples need
no escaping. Users may edit the files in ``prompts/`` of a source checkout; an installed wheel carries the
same files as ``agentrec/prompts/``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Template

__all__ = ["PROMPT_NAMES", "load_prompt", "render_prompt", "system_prompt"]

PROMPT_NAMES = ("system", "rerank", "justify")


@cache
def load_prompt(name: str) -> str:
    """Return the raw text of one prompt template.

    Args:
        name: one of ``"system"``, ``"rerank"``, ``"justify"``.

    Returns:
        The Markdown template, with ``$placeholders`` left in place.

    Raises:
        ValueError: for an unknown name.
        FileNotFoundError: when the package was installed without its prompt files.
    """
    if name not in PROMPT_NAMES:
        raise ValueError(f"name must be one of {', '.join(PROMPT_NAMES)}; got {name!r}")
    resource = resources.files("agentrec").joinpath("prompts", f"{name}.md")
    if not resource.is_file():
        raise FileNotFoundError(
            f"prompt file prompts/{name}.md is missing from the agentrec package; reinstall agentrec "
            "(`pip install --force-reinstall agentrec`) or restore the prompts/ folder of your checkout"
        )
    return resource.read_text(encoding="utf-8")


def render_prompt(name: str, **values: object) -> str:
    """Fill a template's ``$placeholders``; placeholders without a value are left as they are.

    Args:
        name: the template name (see :func:`load_prompt`).
        **values: placeholder values; each is converted with ``str``.

    Returns:
        The rendered text.
    """
    return Template(load_prompt(name)).safe_substitute({k: str(v) for k, v in values.items()})


def system_prompt(
    *, catalog: str, k: int, state: str, items: str = "items", filters: str = "", max_tool_calls: int = 6
) -> str:
    """The LLM agent's full system prompt: ``system.md`` with ``rerank.md`` and ``justify.md`` inlined.

    Args:
        catalog: the catalogue's name, e.g. ``"ml-latest-small"``.
        k: how many recommendations to return.
        state: the rendered conversation state (liked, rejected, constraints, suggestions, last list).
        items: the domain's word for its entries ("films", "products").
        filters: the shared Filters object, one line per key (:func:`agentrec.agent.lctools.filters_spec`).
        max_tool_calls: the tool calls allowed per turn.

    Returns:
        The system prompt.
    """
    return render_prompt(
        "system",
        catalog=catalog,
        k=k,
        items=items,
        max_tool_calls=max_tool_calls,
        rerank=load_prompt("rerank").strip(),
        justify=load_prompt("justify").strip(),
        filters=filters.strip() or "(this catalogue has no filterable facets)",
        state=state.strip() or "(nothing yet)",
    )
