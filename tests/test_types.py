import numpy as np
import pytest

from agentrec.types import GraphPath, Interactions, PathEdge, PathNode, Split


def test_interactions_maps_both_ways(tiny_interactions: Interactions) -> None:
    assert tiny_interactions.num_users == 8
    assert tiny_interactions.num_items == 7
    assert tiny_interactions.user_id_to_index["5"] == 5
    assert tiny_interactions.item_ids[tiny_interactions.item_id_to_index["6"]] == "6"
    assert len(tiny_interactions) == 24


def test_interactions_rejects_out_of_range_index() -> None:
    with pytest.raises(ValueError, match="item_index must lie"):
        Interactions(np.array([0]), np.array([3]), ("a",), ("x", "y"))


def test_split_requires_shared_id_space(tiny_interactions: Interactions) -> None:
    other = Interactions.from_arrays([0], [0], num_users=1, num_items=1)
    with pytest.raises(ValueError, match="share"):
        Split(train=tiny_interactions, test=other)


def test_graph_path_edge_count() -> None:
    nodes = (PathNode("user", "1", "you"), PathNode("item", "2", "Alien"))
    with pytest.raises(ValueError, match="needs 1 edges"):
        GraphPath("co_interaction", nodes, (), 1.0, "")
    assert GraphPath("co_interaction", nodes, (PathEdge("liked"),), 1.0, "").edges[0].support == 1.0
