"""The chat app's building blocks (Gradio is imported only by :mod:`agentrec.ui.layout`).

- :mod:`agentrec.ui.render`: HTML / Markdown for cards, the trace, the memory panel and the mode banner.
- :mod:`agentrec.ui.controller`: per-browser-session conversation logic on top of an ``Agent`` (no Gradio).
- :mod:`agentrec.ui.layout`: ``build_demo(agent)``, the Gradio Blocks UI wired to a controller.
"""

from __future__ import annotations

from typing import Any

__all__ = ["AppController", "build_demo"]


def __getattr__(name: str) -> Any:
    # Lazy so that importing agentrec.ui never pulls in gradio.
    if name == "AppController":
        from agentrec.ui.controller import AppController

        return AppController
    if name == "build_demo":
        from agentrec.ui.layout import build_demo

        return build_demo
    raise AttributeError(f"module 'agentrec.ui' has no attribute {name!r}")
