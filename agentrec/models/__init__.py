"""Retrieval models: LightGCN (+ text fusion), GAT, and baselines behind one interface."""
