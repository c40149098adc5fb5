"""Mutations and crossover of stage DAGs that keep them valid.

Each operator takes a valid stage DAG (see :mod:`graphs.dag`) and ``seed`` (int,
:class:`random.Random` or None) and returns a *new* valid stage DAG in canonical labels (input
``0``, compute nodes ``1..n`` in topological order, output ``n + 1``). When no valid move exists
(no edge to remove, a single compute node to delete, one op to choose from...) it returns a copy
equal to the parent. The input and output edges are always re-derived the RandWire way
(:func:`graphs.dag.attach_io`), so moves only ever act on the compute nodes.

All operators are pure: the parent is never modified. (Genomes are immutable, so DEAP's
in-place, 1-tuple operator contract does not fit them; the search uses DEAP for selection and
Pareto sorting, and calls these operators directly.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import networkx as nx
from networkx.utils import py_random_state

from graphs.dag import attach_io, compute_nodes, relabel_canonical
from graphs.limits import MAX_EDGES

__all__ = [
    "MUTATIONS",
    "add_edge",
    "remove_edge",
    "rewire_edge",
    "insert_node",
    "delete_node",
    "mutate_op",
    "mutate",
    "crossover",
]


def _finish(G: nx.DiGraph) -> nx.DiGraph:
    return relabel_canonical(attach_io(G))


def _inner_edges(G: nx.DiGraph) -> list[tuple]:
    io = {G.graph["input"], G.graph["output"]}
    return sorted((u, v) for u, v in G.edges if u not in io and v not in io)


@py_random_state("seed")
def add_edge(G: nx.DiGraph, seed=None) -> nx.DiGraph:
    """Add one edge between two compute nodes, from the earlier to the later in topological order.

    Any non-adjacent pair qualifies (a later node never reaches an earlier one, so no cycle can
    form). No valid move: the compute nodes already form a tournament.

    Examples
    --------
    >>> from graphs.generators import watts_strogatz
    >>> G = watts_strogatz(8, 2, 0.0, seed=0)
    >>> add_edge(G, seed=1).number_of_edges() >= G.number_of_edges()
    True
    """
    order = compute_nodes(G)
    pairs = [(u, v) for i, u in enumerate(order) for v in order[i + 1 :] if not G.has_edge(u, v)]
    H = G.copy()
    if pairs:
        H.add_edge(*seed.choice(pairs))
    return _finish(H)


@py_random_state("seed")
def remove_edge(G: nx.DiGraph, seed=None) -> nx.DiGraph:
    """Remove one edge between two compute nodes.

    A node left without predecessors is fed by the input node; one left without successors feeds
    the output. No valid move: there are no edges between compute nodes.
    """
    edges = _inner_edges(G)
    H = G.copy()
    if edges:
        H.remove_edge(*seed.choice(edges))
    return _finish(H)


@py_random_state("seed")
def rewire_edge(G: nx.DiGraph, seed=None) -> nx.DiGraph:
    """Move one end of an edge between compute nodes, Watts–Strogatz style.

    The edge ``u -> v`` becomes ``u -> w`` or ``w -> v`` for a node ``w`` that keeps the graph
    acyclic and free of duplicate edges. No valid move: no edge can be moved anywhere.
    """
    order = compute_nodes(G)
    reach = {v: nx.descendants(G, v) for v in order}
    candidates = []
    for u, v in _inner_edges(G):
        for w in order:
            if w in (u, v):
                continue
            # u -> w closes a cycle only if w already reaches u; w -> v only if v reaches w.
            if not G.has_edge(u, w) and u not in reach[w]:
                candidates.append(((u, v), (u, w)))
            if not G.has_edge(w, v) and w not in reach[v]:
                candidates.append(((u, v), (w, v)))
    H = G.copy()
    if candidates:
        old, new = seed.choice(candidates)
        H.remove_edge(*old)
        H.add_edge(*new)
    return _finish(H)


@py_random_state("seed")
def insert_node(G: nx.DiGraph, seed=None, ops: Sequence[str] | None = None) -> nx.DiGraph:
    """Split one edge ``u -> v`` into ``u -> w -> v`` with a new compute node ``w``.

    Any edge qualifies, including those from the input node and to the output node.

    Parameters
    ----------
    ops : sequence of str, optional
        The op of ``w`` is drawn from these; default: the op of ``u`` (or of ``v`` when ``u`` is
        the input node).
    """
    H = G.copy()
    edges = sorted(G.edges)
    u, v = seed.choice(edges)
    op = seed.choice(sorted(set(ops))) if ops else G.nodes[u if u != G.graph["input"] else v]["op"]
    w = max(G.nodes) + 1
    H.remove_edge(u, v)
    H.add_node(w, op=op)
    H.add_edges_from([(u, w), (w, v)])
    return _finish(H)


@py_random_state("seed")
def delete_node(G: nx.DiGraph, seed=None) -> nx.DiGraph:
    """Delete one compute node and join each of its predecessors to each of its successors.

    Paths through the node survive as direct edges (never a cycle: they already were paths).
    No valid move: the stage has a single compute node.
    """
    order = compute_nodes(G)
    H = G.copy()
    if len(order) > 1:
        w = seed.choice(order)
        H.add_edges_from((p, s) for p in G.predecessors(w) for s in G.successors(w))
        H.remove_node(w)
    return _finish(H)


@py_random_state("seed")
def mutate_op(G: nx.DiGraph, ops: Sequence[str], seed=None) -> nx.DiGraph:
    """Give one compute node a different op drawn from ``ops``.

    No valid move: ``ops`` offers no op other than the ones a node already has.
    """
    order = compute_nodes(G)
    H = G.copy()
    choices = [(v, o) for v in order for o in sorted(set(ops)) if o != G.nodes[v]["op"]]
    if choices:
        v, op = seed.choice(choices)
        H.nodes[v]["op"] = op
    return _finish(H)


#: Structural mutation name -> operator ``(G, seed) -> G``.
MUTATIONS: dict[str, Callable[..., nx.DiGraph]] = {
    "add_edge": add_edge,
    "remove_edge": remove_edge,
    "rewire_edge": rewire_edge,
    "insert_node": insert_node,
    "delete_node": delete_node,
}


@py_random_state("seed")
def mutate(
    G: nx.DiGraph, seed=None, ops: Sequence[str] | None = None, max_nodes: int | None = None
) -> tuple[nx.DiGraph, str]:
    """Apply one mutation drawn uniformly from :data:`MUTATIONS` (plus ``mutate_op`` with ``ops``).

    ``max_nodes`` bars ``insert_node`` once the stage has that many compute nodes. A move that
    would take the stage past :data:`graphs.limits.MAX_EDGES` is not made (the child is a copy).
    Returns the child and the name of the mutation applied.
    """
    names = sorted(MUTATIONS)
    if max_nodes is not None and len(compute_nodes(G)) >= max_nodes:
        names.remove("insert_node")
    if ops and len(set(ops)) > 1:
        names.append("mutate_op")
    name = seed.choice(names)
    if name == "mutate_op":
        return mutate_op(G, ops, seed=seed), name
    if name == "insert_node":
        H = insert_node(G, seed=seed, ops=ops)
    else:
        H = MUTATIONS[name](G, seed=seed)
    if H.number_of_edges() > MAX_EDGES:  # delete_node joins every predecessor to every successor
        return G.copy(), name  # no move rather than a stage past the cap
    return H, name


@py_random_state("seed")
def crossover(G1: nx.DiGraph, G2: nx.DiGraph, seed=None) -> tuple[nx.DiGraph, nx.DiGraph]:
    """One-point crossover in topological order: swap the tails of two stage DAGs.

    Both parents are put in canonical labels, so their compute nodes ``1..n`` are numbered in
    topological order and every edge runs from lower to higher number. For a cut ``c``, the
    first child takes nodes ``1..c-1`` with their edges (including those leaving the head) from
    ``G1`` and nodes ``c..`` with the edges among them from ``G2``; the second child the other
    way round. Edges still run from lower to higher number, so the children are acyclic; the
    input and output edges are re-derived.

    Returns
    -------
    (networkx.DiGraph, networkx.DiGraph)
        Two valid stage DAGs. With a single compute node in either parent there is no cut, and
        the children are copies of the parents.
    """
    A, B = relabel_canonical(G1), relabel_canonical(G2)
    na, nb = A.number_of_nodes() - 2, B.number_of_nodes() - 2
    if min(na, nb) < 2:
        return A, B
    cut = seed.randint(2, min(na, nb))
    return _splice(A, B, cut), _splice(B, A, cut)


def _splice(head: nx.DiGraph, tail: nx.DiGraph, cut: int) -> nx.DiGraph:
    n_head, n_tail = head.number_of_nodes() - 2, tail.number_of_nodes() - 2
    H = nx.DiGraph(input=0, output=n_tail + 1)
    H.add_nodes_from([0, n_tail + 1])
    H.add_nodes_from((v, {"op": head.nodes[v]["op"]}) for v in range(1, cut))
    H.add_nodes_from((v, {"op": tail.nodes[v]["op"]}) for v in range(cut, n_tail + 1))
    # v <= n_head: an edge to the head's output node (n_head + 1) is not an edge to a compute node.
    H.add_edges_from(
        (u, v) for u, v in head.edges if 1 <= u < cut and 1 <= v <= min(n_head, n_tail)
    )
    H.add_edges_from((u, v) for u, v in tail.edges if u >= cut and v <= n_tail)
    return _finish(H)
