"""Tests of the random stage-DAG generators: seeds, statistics, RandWire numbering, registry."""

import json
import os
import random
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import graphs
from graphs import (
    DEFAULT_OP,
    FAMILIES,
    GenesisError,
    barabasi_albert,
    erdos_renyi,
    family_names,
    from_networkx,
    get_family,
    random_dag,
    to_dag,
    validate_dag,
    watts_strogatz,
)

ROOT = Path(__file__).resolve().parents[2]

#: Parameters of every registered family: its registered defaults, or the values these tests
#: were written with for the built-in ones.
FAMILY_PARAMS = {name: dict(get_family(name).defaults) for name in family_names()} | {
    "er": {"p": 0.3},
    "ws": {"k": 4, "p": 0.5},
    "ba": {"m": 3},
}

#: networkx generators reached by name, with their parameters other than ``n``.
NX_GENERATORS = {
    "powerlaw_cluster_graph": {"m": 2, "p": 0.3},
    "random_regular_graph": {"d": 3},
    "newman_watts_strogatz_graph": {"k": 4, "p": 0.3},
}

#: Every way to generate a stage DAG with ``n`` compute nodes: (family, params).
ALL_FAMILIES = [(name, FAMILY_PARAMS[name]) for name in sorted(family_names())] + [
    (f"nx:{name}", params) for name, params in NX_GENERATORS.items()
]
ALL_IDS = [name for name, _ in ALL_FAMILIES]
_NX = len(family_names())  # where the networkx generators start in ALL_FAMILIES


def snapshot(G):
    """Everything that defines a stage DAG, in a comparable form."""
    return (
        dict(G.graph),
        sorted((v, dict(d)) for v, d in G.nodes(data=True)),
        sorted(G.edges),
    )


def inner_edges(G):
    """Edges between compute nodes."""
    io = {G.graph["input"], G.graph["output"]}
    return sorted((u, v) for u, v in G.edges if u not in io and v not in io)


def assert_randwire(G, n=None):
    """``G`` is a valid stage DAG numbered the RandWire way, every node on an input-output path."""
    validate_dag(G)
    if n is None:
        n = G.number_of_nodes() - 2
    src, dst = G.graph["input"], G.graph["output"]
    assert (src, dst) == (0, n + 1)
    assert set(G) == set(range(n + 2))
    compute = range(1, n + 1)
    assert all(G.nodes[v]["op"] == G.nodes[1]["op"] for v in compute)
    assert all(u < v for u, v in inner_edges(G))
    has_inner_pred = {v for _, v in inner_edges(G)}
    has_inner_succ = {u for u, _ in inner_edges(G)}
    assert set(G.successors(src)) == set(compute) - has_inner_pred
    assert set(G.predecessors(dst)) == set(compute) - has_inner_succ
    for v in compute:
        assert nx.has_path(G, src, v) and nx.has_path(G, v, dst)


def shifted(graph):
    """Edges of an undirected graph on ``0..n-1`` as the compute-node edges of its stage DAG."""
    return sorted((min(u, v) + 1, max(u, v) + 1) for u, v in graph.edges if u != v)


# --- fixed-seed expectations ---------------------------------------------------------------


@pytest.mark.parametrize(("family", "params"), ALL_FAMILIES, ids=ALL_IDS)
def test_same_seed_same_graph(family, params):
    first = random_dag(family, 12, seed=123, **params)
    second = random_dag(family, 12, seed=123, **params)
    assert snapshot(first) == snapshot(second)
    others = {tuple(inner_edges(random_dag(family, 12, seed=s, **params))) for s in range(5)}
    assert len(others) > 1, "different seeds should give different graphs"


@pytest.mark.parametrize(("family", "params"), ALL_FAMILIES, ids=ALL_IDS)
def test_random_instance_seed(family, params):
    a = random_dag(family, 12, seed=random.Random(7), **params)
    b = random_dag(family, 12, seed=random.Random(7), **params)
    assert snapshot(a) == snapshot(b)
    assert_randwire(a, 12)
    if not family.startswith("nx:"):
        # py_random_state: an int seeds a fresh random.Random, so both spell the same stream.
        assert snapshot(a) == snapshot(random_dag(family, 12, seed=7, **params))


@pytest.mark.parametrize(("family", "params"), ALL_FAMILIES, ids=ALL_IDS)
def test_none_seed(family, params):
    assert_randwire(random_dag(family, 12, seed=None, **params), 12)


@pytest.mark.parametrize(("family", "params"), ALL_FAMILIES, ids=ALL_IDS)
def test_seeded_generation_leaves_global_generators_alone(family, params):
    random.seed(99)
    np.random.seed(99)
    py_state, np_state = random.getstate(), np.random.get_state()
    random_dag(family, 12, seed=5, **params)
    random_dag(family, 12, seed=random.Random(5), **params)
    assert random.getstate() == py_state
    after = np.random.get_state()
    assert after[0] == np_state[0] and np.array_equal(after[1], np_state[1])
    assert after[2:] == np_state[2:]


def test_same_seed_same_graph_in_fresh_process():
    code = textwrap.dedent(
        """
        import json
        from graphs import random_dag
        families = json.loads(%r)
        out = {}
        for family, params in families:
            G = random_dag(family, 16, seed=123, **params)
            out[family] = [sorted(G.edges), sorted(G.nodes(data="op"), key=str)]
        print(json.dumps(out))
        """
    ) % json.dumps(ALL_FAMILIES)
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ, "PYTHONHASHSEED": "random"},  # other string hashes than this process
    )
    there = json.loads(result.stdout)
    assert sorted(there) == sorted(ALL_IDS)
    for family, params in ALL_FAMILIES:
        G = random_dag(family, 16, seed=123, **params)
        here = json.loads(json.dumps([sorted(G.edges), sorted(G.nodes(data="op"), key=str)]))
        assert there[family] == here, family


def test_ba_isolated_golden_edges():
    # Our own generator draws with random.Random.choice only: its output is pinned.
    G = graphs.ba_isolated_graph(6, 2, seed=123)
    assert sorted(G.edges) == [(0, 2), (0, 3), (0, 5), (1, 2), (1, 4), (1, 5), (2, 3), (3, 4)]
    again = graphs.ba_isolated_graph(6, 2, seed=random.Random(123))
    assert sorted(G.edges) == sorted(again.edges)


def test_op_is_given_to_every_compute_node():
    for family, params in ALL_FAMILIES:
        G = random_dag(family, 10, seed=1, op="conv_1x1", **params)
        assert {G.nodes[v]["op"] for v in range(1, 11)} == {"conv_1x1"}
        assert "op" not in G.nodes[0] and "op" not in G.nodes[11]
    assert erdos_renyi(5, 0.5, seed=0).nodes[1]["op"] == DEFAULT_OP


# --- statistics with tolerances --------------------------------------------------------------


def test_er_is_gnp_one_to_one():
    for seed in range(20):
        G = erdos_renyi(15, 0.4, seed=seed)
        assert inner_edges(G) == shifted(nx.gnp_random_graph(15, 0.4, seed=seed))


@pytest.mark.parametrize("p", [0.1, 0.3, 0.75])
def test_er_edge_density(p):
    n, seeds = 30, 200
    pairs = n * (n - 1) / 2
    density = np.mean([len(inner_edges(erdos_renyi(n, p, seed=s))) / pairs for s in range(seeds)])
    sigma = (p * (1 - p) / (pairs * seeds)) ** 0.5
    assert abs(density - p) < max(6 * sigma, 0.005)


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_er_extreme_p(p):
    G = erdos_renyi(9, p, seed=0)
    assert len(inner_edges(G)) == (36 if p else 0)
    assert_randwire(G, 9)


@pytest.mark.parametrize(("n", "k", "p"), [(16, 4, 0.75), (20, 6, 0.2), (9, 2, 1.0), (5, 4, 0.5)])
def test_ws_edge_count_and_mean_degree(n, k, p):
    for seed in range(20):
        G = watts_strogatz(n, k, p, seed=seed)
        edges = inner_edges(G)
        assert len(edges) == n * k // 2
        assert 2 * len(edges) / n == k  # mean degree before conversion
        assert edges == shifted(nx.watts_strogatz_graph(n, k, p, seed=seed))


def test_ws_ring_lattice_numbering_clockwise():
    n, k = 10, 4
    G = watts_strogatz(n, k, 0.0, seed=0)
    ring = {(i, (i + j) % n) for i in range(n) for j in (1, 2)}
    assert inner_edges(G) == sorted((min(u, v) + 1, max(u, v) + 1) for u, v in ring)
    assert list(G.successors(0)) == [1]
    assert list(G.predecessors(n + 1)) == [n]


def test_ws_rewiring_fraction():
    # Each lattice edge is rewired with probability p (unless every target is taken).
    n, k, p = 40, 4, 0.3
    lattice = set(shifted(nx.watts_strogatz_graph(n, k, 0.0)))
    kept = np.mean(
        [len(lattice & set(inner_edges(watts_strogatz(n, k, p, seed=s)))) for s in range(100)]
    )
    # A rewired edge lands back on a lattice slot only rarely; kept ~ (1 - p) * n k / 2.
    assert abs(kept / len(lattice) - (1 - p)) < 0.03


@pytest.mark.parametrize(("n", "m"), [(2, 1), (10, 3), (32, 5), (12, 11)])
def test_ba_isolated_counts(n, m):
    for seed in range(20):
        G = barabasi_albert(n, m, seed=seed)
        assert len(inner_edges(G)) == m * (n - m)
        # The m seed nodes have no predecessors; each later node brings m edges to earlier ones.
        assert sorted(G.successors(0)) == list(range(1, m + 1))
        indeg = {v: 0 for v in range(1, n + 1)}
        for _, v in inner_edges(G):
            indeg[v] += 1
        assert all(indeg[v] == m for v in range(m + 1, n + 1))
        # The first arrival joins all m seeds.
        assert sorted(G.predecessors(m + 1)) == list(range(1, m + 1))
        assert_randwire(G, n)


@pytest.mark.parametrize(("n", "m"), [(2, 1), (10, 3), (32, 5), (12, 11)])
def test_ba_star_counts(n, m):
    for seed in range(20):
        G = barabasi_albert(n, m, seed=seed, initial="star")
        assert len(inner_edges(G)) == m + m * (n - m - 1)
        assert list(G.successors(0)) == [1]
        assert inner_edges(G) == shifted(nx.barabasi_albert_graph(n, m, seed=seed))
        assert_randwire(G, n)


def test_ba_attachment_is_preferential():
    # Older nodes gather more edges: the seeds' mean degree exceeds the late arrivals' by far.
    n, m = 60, 2
    early, late = [], []
    for seed in range(100):
        degree = nx.Graph(inner_edges(barabasi_albert(n, m, seed=seed))).degree
        early.append(np.mean([degree[v] for v in range(1, m + 2)]))
        late.append(np.mean([degree[v] for v in range(n - 10, n + 1)]))
    assert np.mean(early) > 3 * np.mean(late)
    assert np.mean(late) == pytest.approx(m, abs=0.5)


# --- RandWire numbering and connectivity ----------------------------------------------------


def params_for(family, params, n):
    """``params`` adjusted so that ``family`` has a graph with ``n`` nodes; None if it has none."""
    if family == "ws":
        return {**params, "k": min(params["k"], (n - 1) // 2 * 2)} if n >= 3 else None
    if family == "ba":
        return {**params, "m": min(params["m"], n - 1)}
    if family == "nx:random_regular_graph":
        return {"d": 3 if n % 2 == 0 and n > 3 else 2 if n >= 3 else 1}
    if family == "nx:newman_watts_strogatz_graph":
        return {**params, "k": params["k"] if n > params["k"] else 2}
    return params


@pytest.mark.parametrize(("family", "params"), ALL_FAMILIES, ids=ALL_IDS)
@pytest.mark.parametrize("n", [2, 3, 5, 16, 33])
def test_randwire_numbering(family, params, n):
    adjusted = params_for(family, params, n)
    if adjusted is None:  # no graph of this size: the family must say so
        with pytest.raises(GenesisError, match="needs even k with 2 <= k < n"):
            random_dag(family, n, seed=0, **params)
        return
    params = adjusted
    for seed in range(10):
        assert_randwire(random_dag(family, n, seed=seed, **params), n)


def test_registry_matches_test_parameters():
    assert set(FAMILIES) == set(FAMILY_PARAMS)
    assert FAMILIES["er"] is erdos_renyi
    assert FAMILIES["ws"] is watts_strogatz
    assert FAMILIES["ba"] is barabasi_albert


@pytest.mark.parametrize("family", sorted(family_names()))
def test_registry_entry_callable_directly(family):
    G = FAMILIES[family](12, seed=3, **FAMILY_PARAMS[family])
    assert snapshot(G) == snapshot(random_dag(family, 12, seed=3, **FAMILY_PARAMS[family]))
    assert_randwire(G, 12)


@pytest.mark.parametrize(
    "graph",
    [
        nx.empty_graph(5),
        nx.empty_graph(1),
        nx.Graph([(0, 1), (1, 2), (3, 4), (4, 5), (3, 5)]),
        nx.Graph([(0, 4), (1, 3)]),
        nx.disjoint_union(nx.complete_graph(4), nx.path_graph(3)),
    ],
    ids=["empty5", "single", "two-components", "crossed-pairs", "clique+path"],
)
def test_isolated_nodes_and_components(graph):
    G = to_dag(graph)
    n = graph.number_of_nodes()
    assert_randwire(G, n)
    assert len(inner_edges(G)) == graph.number_of_edges()


def test_isolated_nodes_feed_from_input_to_output():
    G = to_dag(nx.empty_graph(5))
    assert sorted(G.edges) == [(0, v) for v in range(1, 6)] + [(v, 6) for v in range(1, 6)]
    G = erdos_renyi(7, 0.0, seed=1)
    assert sorted(G.successors(0)) == sorted(G.predecessors(8)) == list(range(1, 8))


def test_components_each_get_input_and_output():
    G = to_dag(nx.Graph([(0, 1), (1, 2), (3, 4)]))
    assert sorted(G.successors(0)) == [1, 4]
    assert sorted(G.predecessors(6)) == [3, 5]
    G = from_networkx("gnp_random_graph", n=12, p=0.1, seed=2)
    parts = nx.Graph(inner_edges(G))
    parts.add_nodes_from(range(1, 13))
    assert nx.number_connected_components(parts) > 1
    assert_randwire(G, 12)


def test_to_dag_order_and_ops():
    G = to_dag(nx.path_graph(3), order=[2, 0, 1], op=["a", "b", "c"])
    # node 2 -> 1, node 0 -> 2, node 1 -> 3; edges 0-1 and 1-2 become 2-3 and 1-3.
    assert sorted(G.edges) == [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4)]
    assert [G.nodes[v]["op"] for v in (1, 2, 3)] == ["a", "b", "c"]
    validate_dag(G)


def test_to_dag_drops_self_loops_and_parallel_edges():
    graph = nx.MultiGraph([(0, 1), (0, 1), (1, 1), (1, 2)])
    G = to_dag(graph)
    assert inner_edges(G) == [(1, 2), (2, 3)]
    validate_dag(G)


# --- any networkx generator by name ----------------------------------------------------------


@pytest.mark.parametrize(("name", "params"), NX_GENERATORS.items(), ids=list(NX_GENERATORS))
def test_from_networkx_matches_generator(name, params):
    n = 14
    G = from_networkx(name, seed=4, n=n, **params)
    expected = getattr(nx, name)(n=n, seed=4, **params)
    assert inner_edges(G) == shifted(expected)
    assert_randwire(G, n)


@pytest.mark.parametrize(("name", "params"), NX_GENERATORS.items(), ids=list(NX_GENERATORS))
def test_random_dag_nx_prefix(name, params):
    G = random_dag(f"nx:{name}", 14, seed=4, **params)
    assert snapshot(G) == snapshot(from_networkx(name, seed=4, n=14, **params))
    assert_randwire(G, 14)


def test_random_regular_graph_degrees():
    G = random_dag("nx:random_regular_graph", 12, seed=0, d=3)
    degree = nx.Graph(inner_edges(G)).degree
    assert all(degree[v] == 3 for v in range(1, 13))


def test_from_networkx_deterministic_generators_and_directed_results():
    G = from_networkx("path_graph", n=4)
    assert inner_edges(G) == [(1, 2), (2, 3), (3, 4)]
    # A directed result is made undirected, then numbered the RandWire way.
    G = from_networkx("gnp_random_graph", n=10, p=0.3, seed=1, directed=True)
    assert_randwire(G, 10)
    # Non-integer labels are numbered in sorted order.
    G = from_networkx("grid_2d_graph", m=2, n=3)
    assert_randwire(G, 6)
    assert len(inner_edges(G)) == 7


def test_from_networkx_random_instance_seed():
    a = from_networkx("powerlaw_cluster_graph", seed=random.Random(1), n=20, m=2, p=0.5)
    b = from_networkx("powerlaw_cluster_graph", seed=random.Random(1), n=20, m=2, p=0.5)
    assert snapshot(a) == snapshot(b)


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("family", sorted(family_names()))
@pytest.mark.parametrize("n", [1, 0, -3, True, 2.0, "8", None])
def test_n_below_two_for_each_family(family, n):
    name = FAMILIES[family].__name__
    match = f"{name} needs n >= 2 nodes, got n={n!r}"
    with pytest.raises(GenesisError, match=re.escape(match)):
        FAMILIES[family](n, seed=0, **FAMILY_PARAMS[family])
    with pytest.raises(GenesisError, match=re.escape(match)):
        random_dag(family, n, seed=0, **FAMILY_PARAMS[family])


@pytest.mark.parametrize(("family", "params"), ALL_FAMILIES[_NX:], ids=ALL_IDS[_NX:])
@pytest.mark.parametrize("n", [1, 0])
def test_n_below_two_for_networkx_families(family, params, n):
    with pytest.raises(GenesisError, match=rf"networkx {family[3:]}.*(n >= 2|failed)"):
        random_dag(family, n, seed=0, **params)


@pytest.mark.parametrize(("n", "k"), [(8, 3), (8, 1), (9, 5)])
def test_ws_odd_k(n, k):
    match = f"watts_strogatz needs even k with 2 <= k < n, got k={k}, n={n}"
    with pytest.raises(GenesisError, match=re.escape(match)):
        watts_strogatz(n, k, 0.5, seed=0)
    with pytest.raises(GenesisError, match=re.escape(match)):
        random_dag("ws", n, k=k, p=0.5)


@pytest.mark.parametrize(
    ("n", "k"), [(8, 8), (6, 10), (4, 4), (8, 0), (8, -2), (8, True), (8, 4.0)]
)
def test_ws_k_out_of_range(n, k):
    match = f"watts_strogatz needs even k with 2 <= k < n, got k={k!r}, n={n}"
    with pytest.raises(GenesisError, match=re.escape(match)):
        watts_strogatz(n, k, 0.5, seed=0)


BAD_P = [-0.1, 1.5, 1.0000001, float("nan"), float("inf"), "0.5", None, True]


@pytest.mark.parametrize("p", BAD_P)
def test_er_p_outside_unit_interval(p):
    match = f"erdos_renyi needs a probability p in [0, 1], got p={p!r}"
    with pytest.raises(GenesisError, match=re.escape(match)):
        erdos_renyi(8, p, seed=0)


@pytest.mark.parametrize("p", BAD_P)
def test_ws_p_outside_unit_interval(p):
    match = f"watts_strogatz needs a probability p in [0, 1], got p={p!r}"
    with pytest.raises(GenesisError, match=re.escape(match)):
        watts_strogatz(8, 4, p, seed=0)


@pytest.mark.parametrize("family", ["er", "ws"])
@pytest.mark.parametrize("p", [-0.5, 2.0, float("nan"), float("inf")])
def test_random_dag_p_outside_unit_interval(family, p):
    params = {"p": p, **({"k": 4} if family == "ws" else {})}
    with pytest.raises(GenesisError, match=r"(probability p in \[0, 1\]|must be finite), got"):
        random_dag(family, 8, seed=0, **params)


@pytest.mark.parametrize(("n", "m"), [(5, 5), (5, 7), (2, 2), (5, 0), (5, -1), (5, True), (5, 2.0)])
def test_ba_m_out_of_range(n, m):
    match = f"barabasi_albert needs 1 <= m < n, got m={m!r}, n={n}"
    with pytest.raises(GenesisError, match=re.escape(match)):
        barabasi_albert(n, m, seed=0)
    with pytest.raises(GenesisError, match=re.escape(match)):
        random_dag("ba", n, m=m)


def test_ba_unknown_initial():
    with pytest.raises(GenesisError, match="initial must be 'isolated' or 'star', got 'ring'"):
        barabasi_albert(8, 2, initial="ring")


@pytest.mark.parametrize("family", ["xx", "ER", "", "erdos_renyi", "nx"])
def test_unknown_family(family):
    match = f"unknown graph family {family!r}; known: ba, er, ws, nx:<name>"
    with pytest.raises(GenesisError, match=re.escape(match)):
        random_dag(family, 8, p=0.3)


@pytest.mark.parametrize("name", ["nope", "shortest_path", "_dispatchable", "Graph", "utils", ""])
def test_unknown_networkx_generator(name):
    match = f"unknown networkx generator {name!r}; give a generator function of networkx"
    with pytest.raises(GenesisError, match=re.escape(match)):
        from_networkx(name, n=8)
    with pytest.raises(GenesisError, match=re.escape(match)):
        random_dag(f"nx:{name}", 8)


@pytest.mark.parametrize(
    ("name", "params", "match"),
    [
        ("random_regular_graph", {"d": 3, "n": 7}, r"\(d=3, n=7\) failed: n \* d must be even"),
        ("random_regular_graph", {"d": 3}, r"\(d=3\) failed: .*missing .*'n'"),
        ("random_regular_graph", {"d": 2, "n": 8, "bogus": 1}, r"failed: .*unexpected keyword"),
        ("powerlaw_cluster_graph", {"n": 8, "m": 2, "p": 2.0}, r"failed: .*p must be in \[0,1\]"),
        ("newman_watts_strogatz_graph", {"n": 4, "k": 6, "p": 0.1}, r"failed: k>=n"),
    ],
)
def test_networkx_generator_rejects_params(name, params, match):
    with pytest.raises(GenesisError, match=rf"networkx {name}.*{match}"):
        from_networkx(name, seed=0, **params)


def test_random_dag_networkx_generator_rejects_params():
    match = r"networkx random_regular_graph\(d=3, n=7\) failed: n \* d must be even"
    with pytest.raises(GenesisError, match=match):
        random_dag("nx:random_regular_graph", 7, seed=0, d=3)


@pytest.mark.parametrize("n", [0, 1])
def test_networkx_generator_too_few_nodes(n):
    match = f"networkx path_graph gave {n} node(s); a stage needs n >= 2"
    with pytest.raises(GenesisError, match=re.escape(match)):
        from_networkx("path_graph", n=n)
    with pytest.raises(GenesisError, match=re.escape(match)):
        random_dag("nx:path_graph", n)


def test_networkx_generator_not_returning_a_graph():
    with pytest.raises(GenesisError, match="random_powerlaw_tree_sequence returned list, not a"):
        from_networkx("random_powerlaw_tree_sequence", n=10, seed=1, tries=1000)


@pytest.mark.parametrize(
    ("family", "params", "missing"),
    [("er", {}, ["p"]), ("ws", {"p": 0.5}, ["k"]), ("ws", {}, ["k", "p"]), ("ba", {}, ["m"])],
)
def test_missing_family_params(family, params, missing):
    match = f"family {family!r} needs parameters {missing}"
    with pytest.raises(GenesisError, match=re.escape(match)):
        random_dag(family, 8, seed=0, **params)


@pytest.mark.parametrize(
    ("family", "params", "allowed", "unknown"),
    [
        ("er", {"p": 0.3, "k": 2}, ["p"], ["k"]),
        ("ws", {"k": 2, "p": 0.3, "m": 1}, ["k", "p"], ["m"]),
        ("ba", {"m": 2, "p": 0.1}, ["initial", "m"], ["p"]),
    ],
)
def test_unknown_family_params(family, params, allowed, unknown):
    match = f"family {family!r} takes parameters {allowed}, got unknown {unknown}"
    with pytest.raises(GenesisError, match=re.escape(match)):
        random_dag(family, 8, seed=0, **params)


def test_genesis_error_is_a_value_error():
    assert issubclass(GenesisError, ValueError)
    with pytest.raises(ValueError, match="needs n >= 2"):
        erdos_renyi(1, 0.5)
