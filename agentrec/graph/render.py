"""Render explanation paths: one sentence per path, and a small PNG picture (networkx + matplotlib Agg)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from agentrec.types import GraphPath, PathNode

__all__ = ["path_text", "paths_png"]


def _you(node: PathNode) -> str:
    return node.label or "You"


def path_text(path: GraphPath) -> str:
    """One plain sentence for ``path``.

    Examples: ``"You liked Alien (1979); 212 people who liked Alien (1979) also liked Galaxy Quest (1999)"``,
    ``"You liked Alien (1979), which shares the tag 'space' with Galaxy Quest (1999)"``,
    ``'You asked for "space comedy"; Galaxy Quest (1999) matches: space, comedy'``.
    """
    n, e = path.nodes, path.edges
    if path.kind == "co_interaction" and len(n) == 4:
        verb = "said you like" if e[0].relation == "stated_like" else "liked"
        count = int(e[1].support)
        people = "person" if count == 1 else "people"
        return f"{_you(n[0])} {verb} {n[1].label}; {count} {people} who liked {n[1].label} also liked {n[3].label}"
    if path.kind == "attribute" and len(n) == 4:
        verb = "said you like" if e[0].relation == "stated_like" else "liked"
        return f"{_you(n[0])} {verb} {n[1].label}, which shares the {n[2].kind} '{n[2].label}' with {n[3].label}"
    if path.kind == "semantic" and len(n) == 3:
        return f'You asked for "{n[0].label}"; {n[2].label} matches: {n[1].label}'
    return " -> ".join(f"{node.label}" for node in n)


_COLOURS = {
    "user": "#4c72b0",
    "item": "#dd8452",
    "users": "#55a868",
    "genre": "#c44e52",
    "tag": "#8172b3",
    "query": "#937860",
    "text": "#da8bc3",
}


_KIND_NAMES = {
    "user": "you / a user",
    "item": "item",
    "users": "people who liked both",
    "genre": "genre",
    "tag": "tag",
    "query": "your request",
    "text": "words of the request",
}


def _wrap(text: str, width: int = 20, lines: int = 3) -> str:
    """The whole label on up to ``lines`` lines (only a label longer than that is cut, with an ellipsis)."""
    import textwrap

    parts = textwrap.wrap(text, width) or [""]
    if len(parts) > lines:
        parts = parts[:lines]
        parts[-1] = parts[-1][: width - 1] + "…"
    return "\n".join(parts)


def paths_png(
    paths: Sequence[GraphPath], out_path: str | Path | None = None, *, dpi: int = 100, title: str | None = None
) -> bytes:
    """Draw ``paths`` as one small graph (shared nodes merged, a legend of node colours) and return the PNG bytes.

    Args:
        paths: explanation paths, usually for one recommended item.
        out_path: when given, the PNG is also written there.
        dpi: resolution.
        title: a title above the picture (e.g. the recommended item's full title).

    Returns:
        The PNG file content.

    Raises:
        ValueError: when ``paths`` is empty.
    """
    if not paths:
        raise ValueError("paths is empty; give at least one GraphPath to draw")
    import networkx as nx
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    graph = nx.DiGraph()
    pos: dict[tuple[str, str], list[tuple[float, float]]] = {}
    labels: dict[tuple[str, str], str] = {}
    width = max(len(p.nodes) for p in paths)
    for row, path in enumerate(paths):
        cols = len(path.nodes)
        for col, node in enumerate(path.nodes):
            key = (node.kind, node.key)
            # The first and last nodes (user / query, recommended item) line up across paths.
            x = 0.0 if col == 0 else (width - 1.0 if col == cols - 1 else float(col))
            pos.setdefault(key, []).append((x, -float(row)))
            labels[key] = _wrap(node.label)
            graph.add_node(key, kind=node.kind)
        for a, b, edge in zip(path.nodes[:-1], path.nodes[1:], path.edges, strict=True):
            support = f" ({int(edge.support)})" if edge.support != 1 else ""
            graph.add_edge((a.kind, a.key), (b.kind, b.key), label=f"{edge.relation}{support}")
    xy = {k: (sum(p[0] for p in v) / len(v), sum(p[1] for p in v) / len(v)) for k, v in pos.items()}
    fig = Figure(figsize=(2.8 * width, 1.6 + 1.4 * len(paths)), dpi=dpi)
    FigureCanvasAgg(fig)  # a pyplot-free Agg canvas: safe in threads and servers
    ax = fig.add_subplot()
    colours = [_COLOURS.get(graph.nodes[k]["kind"], "#999999") for k in graph.nodes]
    nx.draw_networkx_nodes(graph, xy, ax=ax, node_color=colours, node_size=500, alpha=0.9)
    nx.draw_networkx_edges(graph, xy, ax=ax, arrows=True, arrowsize=12, node_size=500)
    nx.draw_networkx_labels(
        graph, {k: (x, y - 0.16) for k, (x, y) in xy.items()}, labels, ax=ax, font_size=7, verticalalignment="top"
    )
    nx.draw_networkx_edge_labels(
        graph, xy, nx.get_edge_attributes(graph, "label"), ax=ax, font_size=7,
        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85},
    )  # fmt: skip
    from matplotlib.patches import Patch

    kinds = sorted(
        {graph.nodes[k]["kind"] for k in graph.nodes}, key=lambda k: list(_COLOURS).index(k) if k in _COLOURS else 99
    )
    handles = [Patch(color=_COLOURS.get(k, "#999999"), label=_KIND_NAMES.get(k, k)) for k in kinds]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncols=min(len(handles), 4), fontsize=7,
              frameon=False)  # fmt: skip
    if title:
        ax.set_title(title, fontsize=9)
    ax.set_axis_off()
    ax.margins(x=0.15, y=0.35)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    data = buf.getvalue()
    if out_path is not None:
        Path(out_path).write_bytes(data)
    return data
