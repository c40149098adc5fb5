"""The caps of :mod:`graphs.limits`, and every networkx generator bounded in time and memory."""

from __future__ import annotations

import time

import networkx as nx
import pytest

from graphs import (
    MAX_EDGES,
    MAX_NODES,
    GenesisError,
    check_size,
    from_networkx,
    limits,
    random_dag,
    to_dag,
    validate_dag,
)
from graphs.generators import _nx_generator


def _generator_names() -> list[str]:
    names = []
    for name in sorted(dir(nx)):
        try:
            _nx_generator(name)
        except GenesisError:
            continue
        names.append(name)
    return names


GENERATORS = _generator_names()


def test_there_are_many_generators():
    assert len(GENERATORS) > 100
    assert {"hypercube_graph", "waxman_graph", "random_regular_graph"} <= set(GENERATORS)


@pytest.mark.parametrize("n", [8, 32])
def test_every_networkx_generator_works_or_is_refused_in_time(n, monkeypatch):
    monkeypatch.setattr(limits, "GENERATOR_SECONDS", 1.0)
    outcomes = {}
    for name in GENERATORS:
        start = time.monotonic()
        try:
            G = random_dag(f"nx:{name}", n, seed=0)
        except GenesisError as exc:
            message = str(exc)
            assert "\n" not in message and name in message, message
            outcomes[name] = "refused"
        else:
            validate_dag(G)
            assert G.number_of_nodes() - 2 <= MAX_NODES
            outcomes[name] = "ok"
        elapsed = time.monotonic() - start
        assert elapsed < 3.0, (name, elapsed)
    assert list(outcomes.values()).count("ok") >= 20, outcomes


def test_a_generator_that_grows_exponentially_is_stopped(monkeypatch):
    monkeypatch.setattr(limits, "GENERATOR_SECONDS", 1.0)
    start = time.monotonic()
    with pytest.raises(GenesisError, match="hypercube_graph ran past GENERATOR_SECONDS = 1 s"):
        from_networkx("hypercube_graph", n=60)
    assert time.monotonic() - start < 3.0


def test_a_generator_that_raises_anything_is_one_error():
    with pytest.raises(GenesisError, match=r"networkx waxman_graph\(n=8, L=0\) failed: float div"):
        from_networkx("waxman_graph", n=8, L=0)
    with pytest.raises(GenesisError, match="failed"):
        from_networkx("random_regular_graph", n=8, d="x")


def test_a_generator_past_the_caps_is_refused():
    with pytest.raises(GenesisError, match=f"the cap is MAX_NODES = {MAX_NODES}"):
        from_networkx("path_graph", n=MAX_NODES + 1)
    with pytest.raises(GenesisError, match=f"the cap is MAX_EDGES = {MAX_EDGES}"):
        from_networkx("complete_graph", n=100)
    with pytest.raises(GenesisError, match="n=100000 nodes is past the cap MAX_NODES"):
        random_dag("ws", 100_000, k=4, p=0.5, seed=0)


def test_the_child_process_gives_the_same_graph():
    # The generator runs in a forked child: its graph is the one the call in this process gives.
    G = from_networkx("random_regular_graph", d=3, n=16, seed=7)
    H = to_dag(nx.random_regular_graph(3, 16, seed=7))
    assert sorted(G.edges) == sorted(H.edges)


def test_check_size_and_validate_dag():
    check_size(MAX_NODES, MAX_EDGES)
    with pytest.raises(GenesisError, match="stage 3 has 257 compute nodes"):
        check_size(MAX_NODES + 1, 0, "stage 3")
    with pytest.raises(GenesisError, match="MAX_NODES"):
        validate_dag(to_dag(nx.path_graph(MAX_NODES + 1)))
    validate_dag(to_dag(nx.path_graph(MAX_NODES)))


def test_mutate_never_takes_a_stage_past_the_edge_cap(monkeypatch):
    import graphs.mutations as mutations

    G = to_dag(nx.complete_graph(12))  # 66 inner edges; delete_node would add more
    monkeypatch.setattr(mutations, "MAX_EDGES", G.number_of_edges())
    for seed in range(30):
        H, name = mutations.mutate(G, seed=seed)
        assert H.number_of_edges() <= G.number_of_edges(), name
        validate_dag(H)
