"""The search's cache trusts a hash only after an exact check: a Weisfeiler-Lehman collision
(two different networks, one hash) is trained as a new network; a relabelled copy is not.

The strategy here is registered in the test itself (one class, as every strategy is), and
proposes a fixed list: the cycle C8 as a RandWire DAG, a relabelled copy of it, then two C4s
(which 1-WL cannot tell from C8).
"""

from __future__ import annotations

import networkx as nx
import pytest
from runfiles import read_log
from test_evolve_search import InlineExecutor

from evolve.config import EvolveConfig, FinalConfig, ProxyConfig, SearchConfig
from evolve.search import Search
from evolve.strategies import Proposal, Strategy, register_strategy
from evolve.strategies.base import _REGISTRY
from genesis import Architecture, Stage, StemLayer, architecture_hash
from genesis.runfolder import RunFolder
from graphs import to_dag


def _cycles(cycles: list[int]) -> nx.DiGraph:
    """2-regular bipartite graph of even cycles, sources 1..k and sinks k+1..2k, as a DAG."""
    k, U, start = sum(cycles), nx.Graph(), 0
    for m in cycles:
        a = [1 + start + i for i in range(m)]
        b = [1 + k + start + i for i in range(m)]
        for i in range(m):
            U.add_edge(a[i], b[i])
            U.add_edge(b[i], a[(i + 1) % m])
        start += m
    return to_dag(U)


def _arch(G: nx.DiGraph) -> Architecture:
    return Architecture((1, 28, 28), 10, (StemLayer(8),), (Stage(G, 16, 1),))


ONE, TWO = _arch(_cycles([4])), _arch(_cycles([2, 2]))
G = ONE.stages[0].graph
R = nx.relabel_nodes(G, {v: 100 - v for v in G})
R.graph.update(input=100 - G.graph["input"], output=100 - G.graph["output"])
COPY = _arch(R)


@pytest.fixture
def fixed_strategy():
    @register_strategy
    class Fixed(Strategy):
        name = "fixed-test"

        def propose(self, gen, population, rng):
            yield from (Proposal(a, origin="fixed") for a in (ONE, COPY, TWO))

    yield Fixed
    _REGISTRY.unregister("fixed-test")


def test_a_hash_collision_is_trained_apart_and_a_copy_is_not(fixed_strategy, tmp_path):
    assert architecture_hash(ONE) == architecture_hash(TWO)  # the collision is real
    assert architecture_hash(ONE) == architecture_hash(COPY)
    cfg = EvolveConfig(
        search=SearchConfig(strategy="fixed-test", population=3, budget_evals=2),
        proxy=ProxyConfig(fitness="synthetic"),
        final=FinalConfig(top_k=0),
    )
    folder = RunFolder(tmp_path / "run")
    folder.create(cfg)
    outcome = Search(cfg, folder, InlineExecutor(), log=lambda _: None).run()
    kinds = [(e["kind"], e["hash"]) for e in read_log(folder.path)]
    trained = [h for k, h in kinds if k == "train"]
    assert len(trained) == 2 and len(set(trained)) == 2  # the two networks, apart
    assert trained[0] == architecture_hash(ONE) and trained[1].startswith(trained[0] + "-")
    # the copy, relabelled or not, is not trained again: it reuses ONE's record
    assert [k for k, _ in kinds].count("cached") == 1
    cached = next(e for e in read_log(folder.path) if e["kind"] == "cached")
    assert cached["hash"] == trained[0]
    assert outcome.trained == 2
    for h in trained:
        assert folder.arch_path(h).exists()
