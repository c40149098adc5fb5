"""Candidate graphs of a supernet stage: every wiring a gradient search may keep.

A candidate graph is a stage DAG (:mod:`graphs.dag`) over compute nodes ``1..n``, input ``0`` and
output ``n + 1``, whose compute edges are the choices a one-shot search weighs: the node-ordered
complete DAG (DARTS' cell), or the union of ``K`` random graphs of a family (RandWire's
generators). The input feeds the nodes without another predecessor, which take it alone; every
compute node is a candidate input of the output node. :class:`genesis.supernet.Supernet` puts a
gate on each compute edge and a mixed op on each node.
"""

from __future__ import annotations

import networkx as nx
from networkx.utils import create_py_random_state

from graphs.dag import DEFAULT_OP, attach_io
from graphs.errors import GenesisError
from graphs.families import get_family, random_dag

__all__ = ["GRAPHS", "MAX_GRAPH_SAMPLES", "MAX_SUPERNET_NODES", "candidate_graph"]

#: Most compute nodes of one supernet stage: a complete DAG of N nodes has N (N - 1) / 2 gated
#: edges and N mixed ops, each of every op, all trained at once.
MAX_SUPERNET_NODES = 32

#: Most random graphs a stage's candidate graph may be the union of.
MAX_GRAPH_SAMPLES = 64

#: Candidate graphs besides a registered graph family (whose K samples are united).
GRAPHS = ("complete",)


def candidate_graph(n: int, graph: str = "complete", samples: int = 1, seed=None) -> nx.DiGraph:
    """The candidate DAG of a supernet stage over ``n`` compute nodes ``1..n``.

    ``graph="complete"``: every edge ``u -> v`` with ``u < v``. A registered family name
    (:func:`graphs.family_names`): the union of ``samples`` stage DAGs drawn from it, each with
    parameters the family's ranges give for ``n`` nodes. Either way the input feeds the nodes
    without another predecessor (they take it alone) and every compute node is a candidate input
    of the output node.

    Examples
    --------
    >>> G = candidate_graph(3)
    >>> sorted(G.edges)
    [(0, 1), (1, 2), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4)]
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= MAX_SUPERNET_NODES:
        raise GenesisError(
            f"a supernet stage needs 2..{MAX_SUPERNET_NODES} nodes, got {n!r}; the cap is "
            f"MAX_SUPERNET_NODES = {MAX_SUPERNET_NODES}"
        )
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise GenesisError(f"supernet graph samples must be an integer >= 1, got {samples!r}")
    if samples > MAX_GRAPH_SAMPLES:
        raise GenesisError(
            f"supernet graph samples is {samples}; the cap is MAX_GRAPH_SAMPLES = "
            f"{MAX_GRAPH_SAMPLES}"
        )
    G = nx.DiGraph(input=0, output=n + 1)
    G.add_nodes_from([0, n + 1])
    G.add_nodes_from(range(1, n + 1), op=DEFAULT_OP)
    if graph == "complete":
        G.add_edges_from((u, v) for v in range(1, n + 1) for u in range(1, v))
    else:
        rng = create_py_random_state(seed)
        family = get_family(graph)  # an unknown name lists the known ones
        for _ in range(samples):
            drawn = random_dag(graph, n, seed=rng, **family.sample(rng, n))
            G.add_edges_from((u, v) for u, v in drawn.edges if u >= 1 and v <= n)
    attach_io(G)
    G.add_edges_from((v, n + 1) for v in range(1, n + 1))
    return G
