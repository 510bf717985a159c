"""The chat app's CSS: cards, evidence diagrams, choice chips, and the narrow-screen order (cards after the answer)."""

from __future__ import annotations

__all__ = ["APP_CSS", "NARROW_PX"]

NARROW_PX = 900
"""Below this window width the two columns become one, ordered: chat, choices, cards, message box, the rest."""

APP_CSS = (
    """
.agentrec-banner {padding: 6px 12px; border-radius: 8px; background: var(--background-fill-secondary);}
.agentrec-slot:not(:has(.agentrec-card)) {display: none !important;}
.agentrec-slot {border: 1px solid var(--border-color-primary); border-radius: 12px; padding: 10px 12px 8px;
  background: var(--background-fill-secondary); gap: 6px !important;}
.agentrec-card {display: flex; gap: 10px; align-items: flex-start; border-left: 4px solid transparent;
  padding-left: 6px; font-size: 14px; line-height: 1.4;}
.agentrec-card.agentrec-disliked {opacity: 0.5;}
.agentrec-card.agentrec-liked {border-left-color: #2e9e5b;}
.agentrec-thumb {position: relative; flex: 0 0 56px; width: 56px; height: 78px; border-radius: 6px; overflow: hidden;
  background: var(--color-accent-soft); display: flex; align-items: center; justify-content: center;
  font-size: 26px; font-weight: 700; color: var(--body-text-color-subdued);}
.agentrec-img {position: absolute; inset: 0; width: 100%; height: 100%; object-fit: cover;}
.agentrec-body {flex: 1 1 auto; min-width: 0;}
.agentrec-title {font-weight: 600; font-size: 1.05em; margin-bottom: 3px; overflow-wrap: anywhere;}
.agentrec-rank {color: var(--body-text-color-subdued); margin-right: 2px;}
.agentrec-year {font-weight: 400; color: var(--body-text-color-subdued);}
.agentrec-chip {display: inline-block; font-size: 12px; padding: 1px 8px; margin: 0 4px 4px 0;
  border-radius: 999px; background: var(--color-accent-soft); color: var(--body-text-color);}
.agentrec-chip.agentrec-tag {background: transparent; border: 1px solid var(--border-color-primary);}
.agentrec-meta {font-size: 12px; color: var(--body-text-color-subdued); margin-bottom: 2px;}
.agentrec-reason {margin: 3px 0;}
.agentrec-overview {font-size: 12.5px; color: var(--body-text-color-subdued); margin: 2px 0 4px;}
.agentrec-evidence {font-size: 12px; margin-top: 2px;}
.agentrec-evidence summary {cursor: pointer; color: var(--body-text-color-subdued);}
.agentrec-diagram {display: flex; flex-direction: column; gap: 6px; margin: 6px 0;}
.agentrec-path {display: flex; flex-wrap: wrap; align-items: center; gap: 2px 4px;}
.agentrec-node {display: inline-block; max-width: 12em; padding: 2px 7px; border-radius: 6px; font-size: 12px;
  line-height: 1.3; white-space: normal; overflow-wrap: anywhere; color: #fff; background: #6b7280;}
.agentrec-node-user {background: #4c72b0;} .agentrec-node-item {background: #b5651d;}
.agentrec-node-users {background: #3d8a52;} .agentrec-node-genre {background: #b23b3f;}
.agentrec-node-tag {background: #6f5fa8;} .agentrec-node-query {background: #7a6248;}
.agentrec-node-text {background: #a8527f;}
.agentrec-edge {font-size: 11px; color: var(--body-text-color-subdued); white-space: nowrap;}
.agentrec-edge::after {content: " →";}
.agentrec-path-words {margin: 2px 0 0; padding-left: 18px; color: var(--body-text-color-subdued);}
.agentrec-badge {display: inline-block; font-size: 12px; margin-top: 4px;}
.agentrec-card-actions {gap: 6px !important;}
.agentrec-card-actions button {min-width: 0 !important;}
#agentrec-choices {gap: 6px !important; flex-wrap: wrap;}
#agentrec-choices button.agentrec-choice {flex: 0 1 auto !important; min-width: 0 !important; border-radius: 999px;
  border: 1px solid var(--color-accent); background: var(--color-accent-soft); font-size: 13px;}
#agentrec-switch {padding: 8px 10px; border: 1px solid var(--color-accent); border-radius: 8px;}
"""
    + f"""
@media (max-width: {NARROW_PX}px) {{
  #agentrec-main {{flex-direction: column !important; flex-wrap: nowrap !important;}}
  #agentrec-left, #agentrec-right {{display: contents !important;}}
  #agentrec-user {{order: 1;}}
  #agentrec-switch {{order: 2;}}
  #agentrec-chat {{order: 3; height: auto !important; max-height: 65vh; min-height: 180px;}}
  #agentrec-choices {{order: 4;}}
  #agentrec-cards-title {{order: 5;}}
  #agentrec-main .agentrec-slot {{order: 6;}}
  #agentrec-input {{order: 7;}}
  #agentrec-status {{order: 8;}}
  #agentrec-memory-box {{order: 9;}}
  #agentrec-examples {{order: 10;}}
  #agentrec-trace {{order: 11;}}
}}
"""
)
