"""The chat app's building blocks (Gradio is imported only by :mod:`agentrec.ui.layout`).

- :mod:`agentrec.ui.cards` / :mod:`agentrec.ui.paths`: recommendation cards (facets, overview, rating, one reason)
  and their evidence diagrams; :mod:`agentrec.ui.answer`: the short chat answer and the offered choices;
  :mod:`agentrec.ui.render`: the trace, the memory panel and the mode banner; :mod:`agentrec.ui.users`: the
  user picker's lines; :mod:`agentrec.ui.style`: the CSS.
- :mod:`agentrec.ui.controller` (+ :mod:`agentrec.ui.state`): per-browser-session conversation logic on top of an
  ``Agent`` (no Gradio); :mod:`agentrec.ui.warm`: the warm start.
- :mod:`agentrec.ui.layout` (+ :mod:`agentrec.ui.events`): ``build_demo(agent)``, the Gradio Blocks UI wired to a
  controller.
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
