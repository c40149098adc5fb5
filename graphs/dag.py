"""Stage DAGs: the RandWire conversion of an undirected graph, validation and canonical labels.

A *stage DAG* is a :class:`networkx.DiGraph` with one input node and one output node, named by
``G.graph["input"]`` and ``G.graph["output"]``. Every other node is a *compute node* and carries
its operation name in the node attribute ``"op"``. A valid stage DAG

- is acyclic, has no self-loops, and has at least one compute node;
- has an input node with no predecessors and an output node with no successors, not joined
  directly;
- puts every node on some path from the input to the output;
- feeds each node that the input node feeds from the input alone (RandWire: the stage's first
  nodes take the stage input, which has another width and resolution than the rest).

:func:`to_dag` builds one from an undirected graph the RandWire way and :func:`attach_io`
re-derives the input and output edges after a change to the compute nodes; after it the input
feeds exactly the compute nodes without predecessors and the output takes exactly those without
successors.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import networkx as nx

from graphs.errors import GenesisError
from graphs.limits import MAX_EDGES, MAX_NODES

__all__ = [
    "DEFAULT_OP",
    "to_dag",
    "attach_io",
    "compute_nodes",
    "relabel_canonical",
    "validate_dag",
    "check_size",
]

#: The op a generated compute node gets: RandWire's ReLU -> separable 3x3 conv -> BN node.
DEFAULT_OP = "sep_conv_3x3"


def compute_nodes(G: nx.DiGraph) -> list:
    """The compute nodes of a stage DAG (all but input and output), in topological order.

    Examples
    --------
    >>> G = to_dag(nx.path_graph(3))
    >>> compute_nodes(G)
    [1, 2, 3]
    """
    io = {G.graph["input"], G.graph["output"]}
    return [v for v in nx.lexicographical_topological_sort(G) if v not in io]


def attach_io(G: nx.DiGraph) -> nx.DiGraph:
    """Re-derive the input and output edges of ``G`` in place, RandWire style, and return it.

    The input node is made to feed every compute node without another predecessor and the output
    node to take every compute node without another successor; all other edges touching the
    input or output node are dropped.
    """
    src, dst = G.graph["input"], G.graph["output"]
    G.remove_edges_from([(src, v) for v in list(G.successors(src))])
    G.remove_edges_from([(u, dst) for u in list(G.predecessors(dst))])
    inner = [v for v in G if v != src and v != dst]
    G.add_edges_from((src, v) for v in inner if G.in_degree(v) == 0)
    G.add_edges_from((v, dst) for v in inner if G.out_degree(v) == 0)
    return G


def to_dag(
    graph: nx.Graph, order: Iterable | None = None, op: str | Sequence[str] = DEFAULT_OP
) -> nx.DiGraph:
    """Turn an undirected graph into a stage DAG the way RandWire does.

    The nodes are numbered ``1..n`` in ``order`` (default: the graph's sorted node labels), every
    edge points from the lower to the higher number, and an input node ``0`` feeds every node
    without predecessors while an output node ``n + 1`` takes every node without successors.
    Isolated nodes and separate components are fed by the input and feed the output, so every
    node lies on an input-to-output path.

    Parameters
    ----------
    graph : networkx.Graph
        Undirected graph with at least one node. Self-loops and parallel edges are dropped.
    order : iterable, optional
        All nodes of ``graph`` in the order that numbers them (RandWire: ER any order, BA the seed
        nodes then arrival order, WS clockwise around the ring). Default ``sorted(graph)``.
    op : str or sequence of str
        Op of every compute node, or one op per node in ``order``.

    Returns
    -------
    networkx.DiGraph
        A valid stage DAG with nodes ``0..n+1``; ``G.graph["input"] == 0`` and
        ``G.graph["output"] == n + 1``.

    Raises
    ------
    GenesisError
        If the graph is directed or empty, or ``order`` is not a permutation of its nodes.

    References
    ----------
    .. [1] S. Xie, A. Kirillov, R. Girshick, K. He. "Exploring Randomly Wired Neural Networks for
       Image Recognition". ICCV 2019, section 3.2.

    Examples
    --------
    >>> G = to_dag(nx.Graph([(0, 1), (1, 2), (3, 4)]))
    >>> sorted(G.edges)
    [(0, 1), (0, 4), (1, 2), (2, 3), (3, 6), (4, 5), (5, 6)]
    """
    if graph.is_directed():
        raise GenesisError(
            f"to_dag needs an undirected graph, got a directed {type(graph).__name__}"
        )
    if graph.number_of_nodes() == 0:
        raise GenesisError("to_dag needs a graph with at least one node, got an empty graph")
    nodes = list(order) if order is not None else sorted(graph)
    if len(nodes) != graph.number_of_nodes() or set(nodes) != set(graph):
        raise GenesisError(
            f"to_dag order must list every node of the graph once, got {len(nodes)} entries "
            f"for {graph.number_of_nodes()} nodes"
        )
    ops = [op] * len(nodes) if isinstance(op, str) else list(op)
    if len(ops) != len(nodes):
        raise GenesisError(f"to_dag needs one op per node, got {len(ops)} for {len(nodes)} nodes")
    number = {v: i + 1 for i, v in enumerate(nodes)}
    n = len(nodes)
    G = nx.DiGraph(input=0, output=n + 1)
    G.add_nodes_from([0, n + 1])
    G.add_nodes_from((i + 1, {"op": o}) for i, o in enumerate(ops))
    for u, v in graph.edges():
        a, b = number[u], number[v]
        if a != b:
            G.add_edge(min(a, b), max(a, b))
    return attach_io(G)


def relabel_canonical(G: nx.DiGraph) -> nx.DiGraph:
    """A copy of ``G`` numbered ``0..n+1``: input 0, compute nodes in topological order, output n+1.

    Ties in the topological order keep the old label order, so a graph that is already canonical
    comes back with the same labels. Node and graph attributes are kept.
    """
    src, dst = G.graph["input"], G.graph["output"]
    inner = compute_nodes(G)
    mapping = {src: 0, dst: len(inner) + 1}
    mapping.update({v: i + 1 for i, v in enumerate(inner)})
    H = nx.relabel_nodes(G, mapping, copy=True)
    H.graph.update(input=0, output=len(inner) + 1)
    # Rebuild so that node and edge iteration orders are sorted, whatever the input's were.
    out = nx.DiGraph(**H.graph)
    out.add_nodes_from(sorted(H.nodes(data=True), key=lambda item: item[0]))
    out.add_edges_from(sorted(H.edges()))
    return out


def check_size(nodes: int, edges: int, name: str = "stage") -> None:
    """Refuse a stage of more than ``MAX_NODES`` compute nodes or ``MAX_EDGES`` edges.

    Examples
    --------
    >>> check_size(5000, 5001)
    Traceback (most recent call last):
    ...
    graphs.errors.GenesisError: stage has 5000 compute nodes; the cap is MAX_NODES = 256
    """
    if nodes > MAX_NODES:
        raise GenesisError(f"{name} has {nodes} compute nodes; the cap is MAX_NODES = {MAX_NODES}")
    if edges > MAX_EDGES:
        raise GenesisError(f"{name} has {edges} edges; the cap is MAX_EDGES = {MAX_EDGES}")


def validate_dag(G: nx.DiGraph, ops: Iterable[str] | None = None, name: str = "stage") -> None:
    """Check that ``G`` is a valid stage DAG; raise :class:`GenesisError` naming the broken rule.

    Parameters
    ----------
    G : networkx.DiGraph
        The graph to check.
    ops : iterable of str, optional
        The known op names. When given, every compute node's op must be one of them.
    name : str
        What to call the graph in messages (e.g. ``"stage 2"``).

    Notes
    -----
    Cost: O(V + E) for the structure, plus one cycle search when the graph is cyclic. The caps
    :data:`graphs.limits.MAX_NODES` (compute nodes) and :data:`graphs.limits.MAX_EDGES` are
    checked first, in O(1).

    Examples
    --------
    >>> G = nx.DiGraph([(0, 1), (1, 2), (2, 1), (1, 3)], input=0, output=3)
    >>> validate_dag(G)
    Traceback (most recent call last):
    ...
    graphs.errors.GenesisError: stage has a cycle through nodes [1, 2]
    """
    if not isinstance(G, nx.DiGraph) or G.is_multigraph():
        raise GenesisError(f"{name} must be a networkx.DiGraph, got {type(G).__name__}")
    check_size(G.number_of_nodes() - 2, G.number_of_edges(), name)
    src, dst = G.graph.get("input"), G.graph.get("output")
    for role, node in (("input", src), ("output", dst)):
        if node is None or node not in G:
            raise GenesisError(f"{name} must name its {role} node, one of its nodes; got {node!r}")
    if src == dst:
        raise GenesisError(f"{name} input and output must be different nodes, both are {src!r}")
    loops = list(nx.selfloop_edges(G))
    if loops:
        raise GenesisError(f"{name} has a self-loop on node {loops[0][0]!r}")
    if not nx.is_directed_acyclic_graph(G):
        cycle = sorted({u for u, _ in nx.find_cycle(G)}, key=repr)
        raise GenesisError(f"{name} has a cycle through nodes {cycle}")
    if G.in_degree(src) != 0:
        raise GenesisError(
            f"{name} input node {src!r} must have no predecessors, "
            f"got {sorted(G.predecessors(src), key=repr)}"
        )
    if G.out_degree(dst) != 0:
        raise GenesisError(
            f"{name} output node {dst!r} must have no successors, "
            f"got {sorted(G.successors(dst), key=repr)}"
        )
    if G.number_of_nodes() < 3:
        raise GenesisError(f"{name} needs at least one compute node, got none")
    if G.has_edge(src, dst):
        raise GenesisError(f"{name} joins its input node {src!r} directly to its output {dst!r}")
    reach = nx.descendants(G, src) | {src}
    back = nx.ancestors(G, dst) | {dst}
    off = sorted((v for v in G if v not in reach or v not in back), key=repr)
    if off:
        raise GenesisError(
            f"{name} nodes {off} lie on no path from input {src!r} to output {dst!r}"
        )
    for v in G.successors(src):
        if G.in_degree(v) != 1:
            others = sorted((u for u in G.predecessors(v) if u != src), key=repr)
            raise GenesisError(
                f"{name} node {v!r} is fed by the input node and by {others}; a node the input "
                "feeds takes the stage input alone"
            )
    known = None if ops is None else set(ops)
    for v, data in G.nodes(data=True):
        if v in (src, dst):
            continue
        op = data.get("op")
        if not isinstance(op, str):
            raise GenesisError(f"{name} node {v!r} needs an op name, got {op!r}")
        if known is not None and op not in known:
            raise GenesisError(
                f"{name} node {v!r} has unknown op {op!r}; known ops: {', '.join(sorted(known))}"
            )
