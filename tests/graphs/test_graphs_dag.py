"""Tests of stage DAGs: RandWire conversion, input/output edges, canonical labels, validation."""

import re

import networkx as nx
import pytest

from graphs import (
    DEFAULT_OP,
    GenesisError,
    attach_io,
    compute_nodes,
    relabel_canonical,
    to_dag,
    validate_dag,
)

OPS = ["conv_1x1", "sep_conv_3x3"]


def stage(edges, input=0, output=None, ops=None, nodes=()):
    """A DiGraph from ``edges``; every node but input and output gets an op."""
    G = nx.DiGraph()
    G.add_nodes_from(nodes)
    G.add_edges_from(edges)
    if output is None:
        output = max(G)
    G.graph.update(input=input, output=output)
    for v in G:
        if v not in (input, output):
            G.nodes[v]["op"] = (ops or {}).get(v, DEFAULT_OP)
    return G


def snapshot(G):
    return (
        dict(G.graph),
        sorted((v, dict(d)) for v, d in G.nodes(data=True)),
        sorted(G.edges),
    )


# --- to_dag, attach_io, compute_nodes, relabel_canonical -------------------------------------


def test_to_dag_path():
    G = to_dag(nx.path_graph(3))
    assert sorted(G.edges) == [(0, 1), (1, 2), (2, 3), (3, 4)]
    assert G.graph == {"input": 0, "output": 4}
    assert [G.nodes[v]["op"] for v in (1, 2, 3)] == [DEFAULT_OP] * 3
    validate_dag(G)


def test_to_dag_numbers_sorted_labels():
    G = to_dag(nx.Graph([("b", "c"), ("a", "c")]))
    # a -> 1, b -> 2, c -> 3.
    assert sorted(G.edges) == [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4)]


def test_to_dag_edges_point_from_lower_to_higher_number():
    graph = nx.gnp_random_graph(20, 0.3, seed=1)
    order = list(reversed(range(20)))
    G = to_dag(graph, order=order)
    number = {v: i + 1 for i, v in enumerate(order)}
    inner = {(u, v) for u, v in G.edges if 0 not in (u, v) and 21 not in (u, v)}
    assert inner == {(min(number[a], number[b]), max(number[a], number[b])) for a, b in graph.edges}
    validate_dag(G)


def test_to_dag_errors():
    with pytest.raises(
        GenesisError, match="to_dag needs an undirected graph, got a directed DiGraph"
    ):
        to_dag(nx.DiGraph([(0, 1)]))
    with pytest.raises(GenesisError, match="to_dag needs a graph with at least one node"):
        to_dag(nx.Graph())
    with pytest.raises(GenesisError, match="order must list every node of the graph once, got 2 "):
        to_dag(nx.path_graph(3), order=[0, 1])
    with pytest.raises(GenesisError, match="got 3 entries for 3 nodes"):
        to_dag(nx.path_graph(3), order=[0, 0, 1])
    with pytest.raises(GenesisError, match="got 3 entries for 3 nodes"):
        to_dag(nx.path_graph(3), order=[0, 1, 7])
    with pytest.raises(GenesisError, match="to_dag needs one op per node, got 2 for 3 nodes"):
        to_dag(nx.path_graph(3), op=["a", "b"])


def test_attach_io_rederives_edges():
    G = stage([(0, 1), (0, 2), (1, 2), (2, 4), (0, 4)], output=4, nodes=[3])
    attach_io(G)
    # 1 has no other predecessor, 3 none at all; 1 feeds 2, 2 and 3 feed nothing.
    assert sorted(G.edges) == [(0, 1), (0, 3), (1, 2), (2, 4), (3, 4)]
    before = snapshot(G)
    assert attach_io(G) is G
    assert snapshot(G) == before


def test_compute_nodes_topological():
    G = stage([(0, 5), (5, 2), (2, 9), (5, 3), (3, 9)], output=9)
    assert compute_nodes(G) == [5, 2, 3]


def test_relabel_canonical():
    G = stage(
        [(10, 7), (7, 3), (3, -1), (10, 5), (5, 3)],
        input=10,
        output=-1,
        ops={7: "a", 5: "b", 3: "c"},
    )
    G.graph["note"] = "kept"
    H = relabel_canonical(G)
    assert H.graph == {"input": 0, "output": 4, "note": "kept"}
    assert sorted(H.edges) == [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4)]
    assert [H.nodes[v]["op"] for v in (1, 2, 3)] == ["b", "a", "c"]
    assert list(H) == [0, 1, 2, 3, 4]
    validate_dag(H)
    assert G.graph["input"] == 10  # the original is left alone
    # Canonical graphs come back unchanged.
    assert snapshot(relabel_canonical(H)) == snapshot(H)


def test_relabel_canonical_keeps_canonical_labels():
    G = to_dag(nx.gnp_random_graph(15, 0.3, seed=4))
    assert snapshot(relabel_canonical(G)) == snapshot(G)


# --- validate_dag: each broken rule ----------------------------------------------------------


def test_validate_accepts_valid_stage():
    validate_dag(stage([(0, 1), (0, 2), (1, 3), (2, 3), (3, 4)]), ops=OPS + [DEFAULT_OP])


def test_validate_cycle_names_its_nodes():
    G = stage([(0, 1), (1, 2), (2, 3), (3, 1), (3, 4)])
    with pytest.raises(GenesisError, match=re.escape("stage has a cycle through nodes [1, 2, 3]")):
        validate_dag(G)
    G = stage([(0, 1), (1, 5), (1, 2), (2, 4), (4, 3), (3, 2)], output=5)
    with pytest.raises(
        GenesisError, match=re.escape("stage 2 has a cycle through nodes [2, 3, 4]")
    ):
        validate_dag(G, name="stage 2")


def test_validate_self_loop():
    G = stage([(0, 1), (1, 1), (1, 2)])
    with pytest.raises(GenesisError, match="stage has a self-loop on node 1"):
        validate_dag(G)


@pytest.mark.parametrize(
    ("edges", "nodes", "off"),
    [
        ([(0, 1), (1, 3), (0, 2)], [], [2]),  # dead end
        ([(0, 1), (1, 3), (2, 3)], [], [2]),  # unreachable from the input
        ([(0, 1), (1, 3)], [2], [2]),  # isolated
        ([(0, 1), (1, 4), (0, 2), (2, 3)], [], [2, 3]),  # dead-end chain
    ],
)
def test_validate_node_off_every_path(edges, nodes, off):
    G = stage(edges, output=max(v for e in edges for v in e), nodes=nodes)
    output = G.graph["output"]
    with pytest.raises(
        GenesisError, match=re.escape(f"nodes {off} lie on no path from input 0 to output {output}")
    ):
        validate_dag(G)


def test_validate_unknown_op_lists_known_ones():
    G = stage([(0, 1), (1, 2), (2, 3)], ops={2: "bogus"})
    match = "stage node 2 has unknown op 'bogus'; known ops: conv_1x1, sep_conv_3x3"
    with pytest.raises(GenesisError, match=re.escape(match)):
        validate_dag(G, ops=["sep_conv_3x3", "conv_1x1"])
    validate_dag(G)  # without ops, any name goes


def test_validate_missing_or_bad_op_attribute():
    G = stage([(0, 1), (1, 2), (2, 3)])
    del G.nodes[2]["op"]
    with pytest.raises(GenesisError, match="stage node 2 needs an op name, got None"):
        validate_dag(G)
    G.nodes[2]["op"] = 3
    with pytest.raises(GenesisError, match="stage node 2 needs an op name, got 3"):
        validate_dag(G)


def test_validate_input_with_predecessors():
    G = stage([(0, 1), (1, 3), (2, 0)], output=3)
    with pytest.raises(
        GenesisError, match=re.escape("input node 0 must have no predecessors, got [2]")
    ):
        validate_dag(G)


def test_validate_output_with_successors():
    G = stage([(0, 1), (1, 2), (2, 3)], output=2)
    with pytest.raises(
        GenesisError, match=re.escape("output node 2 must have no successors, got [3]")
    ):
        validate_dag(G)


def test_validate_direct_input_to_output_edge():
    G = stage([(0, 1), (1, 2), (0, 2)])
    with pytest.raises(GenesisError, match="stage joins its input node 0 directly to its output 2"):
        validate_dag(G)


@pytest.mark.parametrize("role", ["input", "output"])
def test_validate_missing_input_or_output_attribute(role):
    G = stage([(0, 1), (1, 2)])
    del G.graph[role]
    with pytest.raises(
        GenesisError, match=f"stage must name its {role} node, one of its nodes; got None"
    ):
        validate_dag(G)
    G.graph[role] = 7
    with pytest.raises(
        GenesisError, match=f"stage must name its {role} node, one of its nodes; got 7"
    ):
        validate_dag(G)


def test_validate_same_input_and_output():
    G = stage([(0, 1), (1, 2)])
    G.graph["output"] = 0
    with pytest.raises(GenesisError, match="input and output must be different nodes, both are 0"):
        validate_dag(G)


def test_validate_node_fed_by_input_and_another_node():
    G = stage([(0, 1), (0, 2), (1, 2), (2, 3)])
    match = "stage node 2 is fed by the input node and by [1]; a node the input feeds takes"
    with pytest.raises(GenesisError, match=re.escape(match)):
        validate_dag(G)


def test_validate_needs_a_compute_node():
    G = nx.DiGraph(input=0, output=1)
    G.add_nodes_from([0, 1])
    with pytest.raises(GenesisError, match="stage needs at least one compute node, got none"):
        validate_dag(G)


@pytest.mark.parametrize("cls", [nx.Graph, nx.MultiDiGraph])
def test_validate_needs_a_digraph(cls):
    G = cls([(0, 1), (1, 2)], input=0, output=2)
    with pytest.raises(GenesisError, match=f"stage must be a networkx.DiGraph, got {cls.__name__}"):
        validate_dag(G)
