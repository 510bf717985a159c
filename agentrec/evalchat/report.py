"""Write an evaluation's JSON, Markdown table and hit-rate-by-turn plot."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from agentrec.evalchat.runner import EvalResult

__all__ = ["markdown_table", "write_report"]


def markdown_table(metrics: Mapping[str, Mapping[str, Any]], turns: int) -> str:
    """One row per system: hit rate within T turns, average turns, faults, latency and tokens.

    When first-answer quality was measured (``metrics[system]["first_answer"]``), two more columns: the
    median interaction count and the mean shrunk rating of the items shown on the first turn.
    """
    head = ["system", *[f"hit@{t}" for t in range(1, turns + 1)], "avg turns", "repeated rejections",
            "constraint violations", "latency p50 / p95 (ms)", "tokens / episode (in / out)"]  # fmt: skip
    quality = any("first_answer" in m for m in metrics.values())
    if quality:
        head += ["1st answer median count", "1st answer shrunk rating"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, m in metrics.items():
        hits = m["hit_rate"]
        lat = m["latency_ms"]
        row = [name, *[f"{hits[t]:.3f}" for t in range(1, turns + 1)], f"{m['avg_turns']:.2f}",
               str(m["repeated_rejections"]), str(m["constraint_violations"]),
               f"{lat['p50']:.0f} / {lat['p95']:.0f}", _tokens(m)]  # fmt: skip
        if quality:
            first = m.get("first_answer") or {}
            row += [_fmt(first.get("median_count"), ".1f"), _fmt(first.get("mean_shrunk"), ".2f")]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def write_report(
    result: EvalResult, out_dir: str | Path, *, name: str = "eval_chat", meta: Mapping[str, Any] | None = None
) -> dict[str, Path]:
    """Write ``<name>.json`` (settings, metrics, transcripts), ``<name>.md`` and ``<name>.png`` under ``out_dir``.

    An incomplete run (``result.complete`` False) is labelled INCOMPLETE in all three.

    Returns:
        ``{"json": path, "markdown": path, "plot": path}``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    metrics = result.metrics()
    status = "complete" if result.complete else "INCOMPLETE (stopped early; only finished episodes are scored)"
    payload = {
        "benchmark": name,
        "status": status,
        "complete": result.complete,
        "turns": result.turns,
        "k": result.k,
        **dict(meta or {}),
        "metrics": metrics,
        "episodes": {s: [asdict(lg) for lg in logs] for s, logs in result.episodes.items()},
    }
    paths = {"json": out / f"{name}.json", "markdown": out / f"{name}.md", "plot": out / f"{name}.png"}
    paths["json"].write_text(json.dumps(payload, indent=1, default=str) + "\n")
    n = max((m["episodes"] for m in metrics.values()), default=0)
    lines = [f"# Conversational evaluation ({status})", ""]
    lines += [f"- {key}: {value}" for key, value in (meta or {}).items() if not isinstance(value, (dict, list))]
    lines += [f"- episodes per system: {n}, turns: {result.turns}, k: {result.k}", ""]
    lines += [markdown_table(metrics, result.turns), ""]
    first = next(iter(result.episodes.values()), [])
    if first:
        lines += ["## Example transcript", "", f"System `{first[0].system}`, target item {first[0].target}:", ""]
        lines += [f"{t['turn']}. user: {t['user']} -> {'hit' if t['hit'] else 'miss'}" for t in first[0].transcript]
    paths["markdown"].write_text("\n".join(lines) + "\n")
    _plot(metrics, result.turns, paths["plot"], status)
    return paths


def _plot(metrics: Mapping[str, Mapping[str, Any]], turns: int, path: Path, status: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    xs = list(range(1, turns + 1))
    for name, m in metrics.items():
        ax.plot(xs, [m["hit_rate"][t] for t in xs], marker="o", label=name)
    ax.set_xlabel("turn")
    ax.set_ylabel("hit rate within turn")
    ax.set_xticks(xs)
    ax.set_ylim(0, 1)
    ax.set_title("Hit rate by turn" + ("" if status == "complete" else " (INCOMPLETE)"))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _tokens(m: Mapping[str, Any]) -> str:
    total = f"{m['tokens_per_episode']:.0f}"
    tokens_in, tokens_out = m.get("input_tokens_per_episode", 0.0), m.get("output_tokens_per_episode", 0.0)
    return f"{total} ({tokens_in:.0f} / {tokens_out:.0f})" if tokens_in or tokens_out else total
