"""The user-item bipartite graph: normalised adjacency for propagation and path search."""

from agentrec.graph.adjacency import BipartiteGraph, build_graph, interactions_fingerprint

__all__ = ["BipartiteGraph", "build_graph", "interactions_fingerprint"]
