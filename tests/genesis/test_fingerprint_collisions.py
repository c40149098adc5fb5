"""Hash collisions: graphs that 1-WL cannot tell apart share a hash; same_architecture does not.

The colliding pairs are RandWire DAGs of regular bipartite graphs: ``k`` source nodes (fed by
the input) and ``k`` sink nodes (feeding the output), every source wired to ``d`` sinks and every
sink to ``d`` sources. Directed WL gives every source one colour and every sink another at every
round, so the wiring pattern (one long cycle, or several short ones) never reaches the hash.
"""

from __future__ import annotations

import random
from dataclasses import replace

import networkx as nx
import pytest

from genesis import Architecture, Head, Stage, StemLayer, TrainConfig, architecture_hash
from genesis.fingerprint import same_architecture, stage_hash
from graphs import to_dag


def cycles_bipartite(cycles: list[int]) -> nx.Graph:
    """A 2-regular bipartite graph: one even cycle of ``2m`` nodes per ``m`` in ``cycles``.

    Sources are numbered ``1..k`` and sinks ``k+1..2k`` (``k = sum(cycles)``), so
    :func:`graphs.to_dag`, which points edges from lower to higher numbers, makes every edge run
    from a source to a sink.
    """
    k = sum(cycles)
    U = nx.Graph()
    start = 0
    for m in cycles:
        a = [1 + start + i for i in range(m)]
        b = [1 + k + start + i for i in range(m)]
        for i in range(m):
            U.add_edge(a[i], b[i])
            U.add_edge(b[i], a[(i + 1) % m])
        start += m
    return U


def cubic_bipartite(cycles: list[int]) -> nx.Graph:
    """A 3-regular bipartite graph: the complement in ``K(5,5)`` of :func:`cycles_bipartite`."""
    k = sum(cycles)
    U = nx.complete_bipartite_graph(range(1, k + 1), range(k + 1, 2 * k + 1))
    U.remove_edges_from(cycles_bipartite(cycles).edges)
    return nx.Graph(U.edges)


def ops_by_layer(G: nx.DiGraph, k: int, source_op: str, sink_op: str) -> nx.DiGraph:
    for v in G:
        if v not in (G.graph["input"], G.graph["output"]):
            G.nodes[v]["op"] = source_op if v <= k else sink_op
    return G


def arch_of(G: nx.DiGraph) -> Architecture:
    return Architecture(
        (1, 28, 28), 10, (StemLayer(8),), (Stage(G, 16, 1), Stage(to_dag(nx.path_graph(3)), 32))
    )


PAIRS = {
    "C8 vs 2xC4": (cycles_bipartite([4]), cycles_bipartite([2, 2])),
    "C12 vs 2xC6": (cycles_bipartite([6]), cycles_bipartite([3, 3])),
    "C12 vs C4+C8": (cycles_bipartite([6]), cycles_bipartite([2, 4])),
    "C12 vs 3xC4": (cycles_bipartite([6]), cycles_bipartite([2, 2, 2])),
    "cubic K55-C10 vs K55-(C4+C6)": (cubic_bipartite([5]), cubic_bipartite([2, 3])),
}


def colliding(name: str, source_op: str = "sep_conv_3x3", sink_op: str = "sep_conv_3x3"):
    U, V = PAIRS[name]
    k = U.number_of_nodes() // 2
    G = ops_by_layer(to_dag(U), k, source_op, sink_op)
    H = ops_by_layer(to_dag(V), k, source_op, sink_op)
    return arch_of(G), arch_of(H)


def relabel(G: nx.DiGraph, rng: random.Random) -> nx.DiGraph:
    """``G`` with every node renamed by a random permutation, in a shuffled insertion order."""
    nodes = list(G)
    mapping = dict(zip(nodes, rng.sample(range(1000), len(nodes)), strict=True))
    R = nx.DiGraph(input=mapping[G.graph["input"]], output=mapping[G.graph["output"]])
    items = list(G.nodes(data=True))
    rng.shuffle(items)
    R.add_nodes_from((mapping[v], dict(d)) for v, d in items)
    edges = [(mapping[u], mapping[v]) for u, v in G.edges]
    rng.shuffle(edges)
    R.add_edges_from(edges)
    return R


@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize("ops", [("sep_conv_3x3", "sep_conv_3x3"), ("conv_3x3", "max_pool_3x3")])
def test_wl_hash_collides_on_non_isomorphic_regular_graphs(name, ops):
    a, b = colliding(name, *ops)
    G, H = a.stages[0].graph, b.stages[0].graph
    # the pair is what it claims: same size and degrees, not isomorphic, and a real collision
    assert G.number_of_nodes() == H.number_of_nodes()
    assert G.number_of_edges() == H.number_of_edges()
    assert sorted(d for _, d in G.degree()) == sorted(d for _, d in H.degree())
    assert not nx.is_isomorphic(G, H)
    assert stage_hash(a.stages[0]) == stage_hash(b.stages[0])
    assert architecture_hash(a) == architecture_hash(b)
    # the exact check tells them apart, both ways round
    assert not same_architecture(a, b)
    assert not same_architecture(b, a)
    assert same_architecture(a, a)
    assert same_architecture(b, b)


@pytest.mark.parametrize("name", PAIRS)
def test_same_architecture_accepts_relabelled_copies(name):
    rng = random.Random(7)
    for arch in colliding(name, "conv_3x3", "max_pool_3x3"):
        for _ in range(3):
            stages = tuple(replace(s, graph=relabel(s.graph, rng)) for s in arch.stages)
            copy = arch.replace(stages=stages, name="relabelled", meta={"seed": 1})
            assert list(copy.stages[0].graph) != list(arch.stages[0].graph)
            assert architecture_hash(copy) == architecture_hash(arch)
            assert same_architecture(arch, copy)
            assert same_architecture(copy, arch)


def test_same_architecture_matches_ops():
    a, _ = colliding("C8 vs 2xC4", "conv_3x3", "max_pool_3x3")
    # the same wiring with the layers' ops swapped is another network
    G = a.stages[0].graph.copy()
    for v in G:
        if "op" in G.nodes[v]:
            G.nodes[v]["op"] = "max_pool_3x3" if G.nodes[v]["op"] == "conv_3x3" else "conv_3x3"
    swapped = a.replace(stages=(replace(a.stages[0], graph=G), a.stages[1]))
    assert not same_architecture(a, swapped)
    # a chain with its ops in reverse order is another network
    P = to_dag(nx.path_graph(3))
    Q = P.copy()
    nx.set_node_attributes(P, {1: "conv_3x3", 2: "conv_1x1", 3: "max_pool_3x3"}, "op")
    nx.set_node_attributes(Q, {1: "max_pool_3x3", 2: "conv_1x1", 3: "conv_3x3"}, "op")
    x = Architecture((1, 28, 28), 10, (StemLayer(8),), (Stage(P, 16),))
    assert nx.is_isomorphic(P, Q)
    assert not same_architecture(x, x.replace(stages=(Stage(Q, 16),)))


@pytest.mark.parametrize(
    "change",
    [
        {"input_shape": (1, 32, 32)},
        {"num_classes": 5},
        {"stem": (StemLayer(8, stride=2),)},
        {"head": Head(channels=64)},
        {"train": TrainConfig(lr=0.05)},
    ],
    ids=lambda c: next(iter(c)),
)
def test_same_architecture_compares_every_trained_field(change):
    a, _ = colliding("C8 vs 2xC4")
    assert same_architecture(a, a.replace(name="other", meta={"x": 1}))
    assert not same_architecture(a, a.replace(**change))


def test_same_architecture_compares_stage_width_stride_and_count():
    a, _ = colliding("C8 vs 2xC4")
    s0, s1 = a.stages
    assert not same_architecture(a, a.replace(stages=(replace(s0, channels=24), s1)))
    assert not same_architecture(a, a.replace(stages=(replace(s0, stride=2), s1)))
    assert not same_architecture(a, a.replace(stages=(s0,)))
    assert not same_architecture(a, a.replace(stages=(s1, s0)))
    assert same_architecture(a, a.replace(stages=(replace(s0, origin={"family": "x"}), s1)))
