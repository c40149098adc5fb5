"""Graph features of a stage DAG (graphs.features): hand-checked, deterministic, fixed length."""

from __future__ import annotations

import math

import networkx as nx
import pytest

from graphs import DAG_FEATURES, dag_features, random_dag


def test_a_hand_checked_dag():
    # input -1 feeds 0 and 1; 0 -> 1, 0 -> 2, 1 -> 2; 2 and 1 feed output -2.
    # input-output paths: -1,0,1,2,-2 (4 edges); -1,0,1,-2 (3); -1,0,2,-2 (3); -1,1,2,-2 (3);
    # -1,1,-2 (2): five paths, 15 edges in all
    G = nx.DiGraph(
        [(-1, 0), (-1, 1), (0, 1), (0, 2), (1, 2), (2, -2), (1, -2)], input=-1, output=-2
    )
    f = dag_features(G)
    assert list(f) == list(DAG_FEATURES)
    assert f["nodes"] == 3 and f["edges"] == 3 and f["density"] == 1.0
    assert f["in_degree_mean"] == pytest.approx(5 / 3) and f["in_degree_max"] == 2
    assert f["out_degree_mean"] == pytest.approx(5 / 3) and f["out_degree_max"] == 2
    assert f["input_fanout"] == 2 and f["output_fanin"] == 2
    assert f["longest_path"] == 4 and f["shortest_path"] == 2
    assert f["mean_path"] == pytest.approx(15 / 5)
    assert f["log_paths"] == pytest.approx(math.log(6))
    assert f["longest_path_nodes"] == 3


@pytest.mark.parametrize(
    "family, params", [("er", {"p": 0.4}), ("ws", {"k": 4, "p": 0.5}), ("ba", {"m": 2})]
)
def test_features_are_deterministic_finite_and_named(family, params):
    G = random_dag(family, 12, seed=3, **params)
    a, b = dag_features(G), dag_features(G.copy())
    assert a == b and list(a) == list(DAG_FEATURES)
    assert all(isinstance(v, float) and math.isfinite(v) for v in a.values())
    assert a["nodes"] == 12 and a["longest_path"] >= a["shortest_path"] >= 2


def test_the_path_count_of_a_dense_dag_stays_finite():
    # a complete DAG on 200 nodes has 2**200 input-output paths: only their logarithm is kept
    n = 200
    G = nx.DiGraph([(i, j) for i in range(n) for j in range(i + 1, n)], input=0, output=n - 1)
    f = dag_features(G)
    assert f["log_paths"] == pytest.approx((n - 2) * math.log(2), rel=1e-6)
    assert all(math.isfinite(v) for v in f.values())
