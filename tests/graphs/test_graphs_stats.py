"""Tests of graph_stats: known values on small hand-made graphs."""

import math

import networkx as nx
import pytest

from graphs import family_names, get_family, graph_stats, random_dag, to_dag, watts_strogatz

KEYS = {
    "nodes",
    "edges",
    "input_nodes",
    "output_nodes",
    "depth",
    "components",
    "avg_path_length",
    "clustering",
    "degree_mean",
    "degree_std",
    "degree_min",
    "degree_max",
}

#: Every registered family's defaults, or the values these tests were written with.
FAMILY_PARAMS = {name: dict(get_family(name).defaults) for name in family_names()} | {
    "er": {"p": 0.3},
    "ws": {"k": 4, "p": 0.5},
    "ba": {"m": 3},
}


@pytest.mark.parametrize("family", sorted(family_names()))
def test_keys_and_types(family):
    s = graph_stats(random_dag(family, 16, seed=0, **FAMILY_PARAMS[family]))
    assert set(s) == KEYS
    for key in ("nodes", "edges", "input_nodes", "output_nodes", "depth", "components"):
        assert isinstance(s[key], int), key
    for key in ("degree_min", "degree_max"):
        assert type(s[key]) is int, key
    for key in ("avg_path_length", "clustering", "degree_mean", "degree_std"):
        assert type(s[key]) is float, key
    assert s["nodes"] == 16
    assert s["degree_mean"] == pytest.approx(2 * s["edges"] / 16)


def test_path_graph():
    s = graph_stats(to_dag(nx.path_graph(4)))
    assert s == {
        "nodes": 4,
        "edges": 3,
        "input_nodes": 1,
        "output_nodes": 1,
        "depth": 5,  # input -> 1 -> 2 -> 3 -> 4 -> output
        "components": 1,
        "avg_path_length": pytest.approx(10 / 6),  # distances 1, 2, 3, 1, 2, 1
        "clustering": 0.0,
        "degree_mean": 1.5,
        "degree_std": 0.5,
        "degree_min": 1,
        "degree_max": 2,
    }


@pytest.mark.parametrize("n", [12, 20, 41])
def test_ring_lattice_k4(n):
    s = graph_stats(watts_strogatz(n, 4, 0.0, seed=0))
    assert s["nodes"] == n
    assert s["edges"] == 2 * n
    assert s["clustering"] == pytest.approx(0.5)  # 3 (k - 2) / (4 (k - 1)) for k = 4
    assert s["degree_mean"] == 4.0 and s["degree_std"] == 0.0
    assert s["degree_min"] == s["degree_max"] == 4
    assert s["components"] == 1
    assert s["input_nodes"] == s["output_nodes"] == 1
    assert s["depth"] == n + 1  # 1 -> 2 -> ... -> n, plus the input and output edges
    # From any node, two nodes lie at each distance d <= (n - 1) / 2 on each side, in steps of 2.
    dists = [math.ceil(min(j, n - j) / 2) for j in range(1, n)]
    assert s["avg_path_length"] == pytest.approx(sum(dists) / (n - 1))


def test_ring_lattice_k6_clustering():
    s = graph_stats(watts_strogatz(30, 6, 0.0, seed=0))
    assert s["clustering"] == pytest.approx(3 * 4 / (4 * 5))


def test_isolated_nodes():
    s = graph_stats(to_dag(nx.empty_graph(3)))
    assert s == {
        "nodes": 3,
        "edges": 0,
        "input_nodes": 3,
        "output_nodes": 3,
        "depth": 2,
        "components": 3,
        "avg_path_length": 0.0,
        "clustering": 0.0,
        "degree_mean": 0.0,
        "degree_std": 0.0,
        "degree_min": 0,
        "degree_max": 0,
    }


def test_complete_graph():
    s = graph_stats(to_dag(nx.complete_graph(5)))
    assert s["edges"] == 10
    assert s["clustering"] == 1.0
    assert s["avg_path_length"] == 1.0
    assert s["depth"] == 6
    assert s["input_nodes"] == s["output_nodes"] == 1
    assert s["degree_min"] == s["degree_max"] == 4


def test_two_components_and_single_node():
    s = graph_stats(to_dag(nx.Graph([(0, 1), (1, 2), (3, 4)])))
    assert (s["components"], s["edges"], s["input_nodes"], s["output_nodes"]) == (2, 3, 2, 2)
    assert s["avg_path_length"] == pytest.approx((2 * (1 + 1 + 2) + 2 * 1) / 8)
    assert s["depth"] == 4
    s = graph_stats(to_dag(nx.empty_graph(1)))
    assert (s["nodes"], s["edges"], s["depth"], s["components"]) == (1, 0, 2, 1)


def test_triangle_with_tail_clustering():
    # Triangle 0-1-2 plus tail 2-3: clustering 1, 1, 1/3, 0.
    s = graph_stats(to_dag(nx.Graph([(0, 1), (1, 2), (0, 2), (2, 3)])))
    assert s["clustering"] == pytest.approx((1 + 1 + 1 / 3 + 0) / 4)
    assert s["degree_max"] == 3 and s["degree_min"] == 1


def test_stats_match_networkx_on_generated_graphs():
    for seed in range(5):
        G = random_dag("ws", 24, seed=seed, k=4, p=0.5)
        inner = G.subgraph(range(1, 25)).to_undirected()
        s = graph_stats(G)
        assert s["clustering"] == pytest.approx(nx.average_clustering(inner))
        if nx.is_connected(inner):
            assert s["avg_path_length"] == pytest.approx(nx.average_shortest_path_length(inner))
        assert s["depth"] == nx.dag_longest_path_length(G)
