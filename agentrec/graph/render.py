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


def _short(text: str, width: int = 22) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def paths_png(paths: Sequence[GraphPath], out_path: str | Path | None = None, *, dpi: int = 100) -> bytes:
    """Draw ``paths`` as one small graph (shared nodes merged) and return the PNG bytes.

    Args:
        paths: explanation paths, usually for one recommended item.
        out_path: when given, the PNG is also written there.
        dpi: resolution.

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
            labels[key] = _short(node.label)
            graph.add_node(key, kind=node.kind)
        for a, b, edge in zip(path.nodes[:-1], path.nodes[1:], path.edges, strict=True):
            support = f" ({int(edge.support)})" if edge.support != 1 else ""
            graph.add_edge((a.kind, a.key), (b.kind, b.key), label=f"{edge.relation}{support}")
    xy = {k: (sum(p[0] for p in v) / len(v), sum(p[1] for p in v) / len(v)) for k, v in pos.items()}
    fig = Figure(figsize=(2.4 * width, 1.2 + 1.1 * len(paths)), dpi=dpi)
    FigureCanvasAgg(fig)  # a pyplot-free Agg canvas: safe in threads and servers
    ax = fig.add_subplot()
    colours = [_COLOURS.get(graph.nodes[k]["kind"], "#999999") for k in graph.nodes]
    nx.draw_networkx_nodes(graph, xy, ax=ax, node_color=colours, node_size=500, alpha=0.9)
    nx.draw_networkx_edges(graph, xy, ax=ax, arrows=True, arrowsize=12, node_size=500)
    nx.draw_networkx_labels(graph, {k: (x, y - 0.22) for k, (x, y) in xy.items()}, labels, ax=ax, font_size=7)
    nx.draw_networkx_edge_labels(graph, xy, nx.get_edge_attributes(graph, "label"), ax=ax, font_size=6)
    ax.set_axis_off()
    ax.margins(x=0.15, y=0.3)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    data = buf.getvalue()
    if out_path is not None:
        Path(out_path).write_bytes(data)
    return data
