"""Tests of the mutation and crossover operators: validity over random chains, each operator's move."""

import random

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphs import (
    MUTATIONS,
    add_edge,
    barabasi_albert,
    crossover,
    delete_node,
    erdos_renyi,
    insert_node,
    mutate,
    mutate_op,
    remove_edge,
    rewire_edge,
    to_dag,
    validate_dag,
    watts_strogatz,
)

OPS = ("sep_conv_3x3", "conv_1x1", "max_pool_3x3")


# --- helpers ---------------------------------------------------------------------------------


def snapshot(G):
    """Everything that defines a stage DAG, copied, in a comparable form."""
    return (
        dict(G.graph),
        sorted((v, dict(d)) for v, d in G.nodes(data=True)),
        sorted(G.edges(data=True)),
    )


def inner_edges(G):
    io = {G.graph["input"], G.graph["output"]}
    return sorted((u, v) for u, v in G.edges if u not in io and v not in io)


def n_compute(G):
    return G.number_of_nodes() - 2


def ops_of(G):
    return [G.nodes[v]["op"] for v in range(1, n_compute(G) + 1)]


def with_ops(G, ops):
    """``G`` with compute node ``i`` given ``ops[i - 1]``."""
    for v, op in zip(range(1, n_compute(G) + 1), ops, strict=True):
        G.nodes[v]["op"] = op
    return G


def unique_ops(G, prefix="op"):
    return with_ops(G, [f"{prefix}{v}" for v in range(1, n_compute(G) + 1)])


def assert_stage(G, ops=None):
    """``G`` is a valid stage DAG in canonical labels, wired the RandWire way."""
    validate_dag(G, ops=ops)
    assert isinstance(G, nx.DiGraph) and not G.is_multigraph()
    assert nx.is_directed_acyclic_graph(G)
    assert nx.number_of_selfloops(G) == 0
    assert len(set(G.edges)) == G.number_of_edges()
    n = n_compute(G)
    assert n >= 1
    assert (G.graph["input"], G.graph["output"]) == (0, n + 1)
    assert set(G) == set(range(n + 2))
    assert all(u < v for u, v in G.edges)
    reach, back = nx.descendants(G, 0), nx.ancestors(G, n + 1)
    assert all(v in reach and v in back for v in range(1, n + 2) if v != n + 1)
    assert all(v in back for v in range(0, n + 1))
    edges = inner_edges(G)
    assert set(G.successors(0)) == set(range(1, n + 1)) - {v for _, v in edges}
    assert set(G.predecessors(n + 1)) == set(range(1, n + 1)) - {u for u, _ in edges}


def tournament(n):
    """Stage DAG whose compute nodes form a complete DAG."""
    return to_dag(nx.complete_graph(n))


# --- property-based: long random chains -------------------------------------------------------


@st.composite
def stage_dags(draw, max_n=16):
    """A valid stage DAG of 2..max_n compute nodes from a generator or from arbitrary edges."""
    n = draw(st.integers(2, max_n))
    seed = draw(st.integers(0, 2**32 - 1))
    kind = draw(st.sampled_from(["er", "ws", "ba", "edges"]))
    if kind == "ws" and n < 3:
        kind = "er"
    if kind == "er":
        G = erdos_renyi(n, draw(st.floats(0.0, 1.0)), seed=seed)
    elif kind == "ws":
        k = draw(st.sampled_from(range(2, n, 2)))
        G = watts_strogatz(n, k, draw(st.floats(0.0, 1.0)), seed=seed)
    elif kind == "ba":
        m = draw(st.integers(1, n - 1))
        G = barabasi_albert(n, m, seed=seed, initial=draw(st.sampled_from(["isolated", "star"])))
    else:
        pair = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
        graph = nx.empty_graph(n)
        graph.add_edges_from(draw(st.sets(pair, max_size=n * (n - 1) // 2)))
        G = to_dag(graph, order=draw(st.permutations(range(n))))
    return with_ops(G, draw(st.lists(st.sampled_from(OPS), min_size=n, max_size=n)))


STEPS = [
    "add_edge",
    "remove_edge",
    "rewire_edge",
    "insert_node",
    "delete_node",
    "mutate_op",
    "mutate",
    "crossover",
]


def partner(rng):
    """Another parent for crossover, sometimes with a single compute node."""
    n = rng.randint(1, 16)
    G = to_dag(nx.empty_graph(1)) if n == 1 else erdos_renyi(n, rng.random(), seed=rng)
    return with_ops(G, [rng.choice(OPS) for _ in range(n)])


def apply_step(G, name, step_seed):
    """Apply one named operator to ``G``; check the move's own promise on the way."""
    rng = random.Random(step_seed)
    n = n_compute(G)
    if name == "mutate_op":
        child = mutate_op(G, OPS, seed=rng)
        assert sum(a != b for a, b in zip(ops_of(G), ops_of(child), strict=True)) == 1
    elif name == "insert_node":
        child = insert_node(G, seed=rng, ops=OPS if step_seed % 2 else None)
        assert n_compute(child) == n + 1
        assert len(inner_edges(child)) == len(inner_edges(G)) + 1
    elif name == "delete_node":
        child = delete_node(G, seed=rng)
        assert n_compute(child) == max(n - 1, 1)
    elif name == "add_edge":
        child = add_edge(G, seed=rng)
        assert set(inner_edges(G)) <= set(inner_edges(child))
        full = len(inner_edges(G)) == n * (n - 1) // 2
        assert len(inner_edges(child)) == len(inner_edges(G)) + (0 if full else 1)
    elif name == "remove_edge":
        child = remove_edge(G, seed=rng)
        assert set(inner_edges(child)) <= set(inner_edges(G))
        assert len(inner_edges(child)) == max(len(inner_edges(G)) - 1, 0)
    elif name == "rewire_edge":
        child = rewire_edge(G, seed=rng)
        assert len(inner_edges(child)) == len(inner_edges(G))
        assert sorted(ops_of(child)) == sorted(ops_of(G))
    elif name == "mutate":
        child, applied = mutate(G, seed=rng, ops=OPS, max_nodes=24)
        assert applied in MUTATIONS or applied == "mutate_op"
        assert n_compute(child) <= max(n, 24)
    else:
        other = partner(rng)
        before = snapshot(other)
        child, second = crossover(G, other, seed=rng)
        assert_stage(second, OPS)
        assert snapshot(other) == before
        assert {n_compute(child), n_compute(second)} == {n, n_compute(other)}
        assert set(ops_of(child)) | set(ops_of(second)) <= set(ops_of(G)) | set(ops_of(other))
    if name != "mutate":
        assert n_compute(child) - n in (-1, 0, 1) or name == "crossover"
    return child


@settings(max_examples=300, deadline=None)
@given(
    G=stage_dags(),
    steps=st.lists(st.tuples(st.sampled_from(STEPS), st.integers(0, 2**32 - 1)), min_size=5, max_size=15),
)
def test_mutation_chains_keep_stages_valid(G, steps):
    assert_stage(G, OPS)
    for name, step_seed in steps:
        before = snapshot(G)
        child = apply_step(G, name, step_seed)
        assert snapshot(G) == before, f"{name} changed its parent"
        assert child is not G
        assert_stage(child, OPS)
        G = child


@settings(max_examples=100, deadline=None)
@given(G=stage_dags(), seed=st.integers(0, 2**32 - 1))
def test_one_shared_generator_drives_a_chain(G, seed):
    # A random.Random passed down is consumed, never reseeded: same seed, same chain.
    def chain(rng):
        H = G
        for _ in range(10):
            H, _ = mutate(H, seed=rng, ops=OPS, max_nodes=20)
        return snapshot(H)

    assert chain(random.Random(seed)) == chain(random.Random(seed))
