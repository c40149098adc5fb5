"""Cheap features of a stage DAG for accuracy predictors (GRAF style).

Counts, degrees and input-to-output path statistics of the directed stage graph, the input and
output nodes included: what a random forest needs to tell wirings apart, in microseconds per
graph and without a neural network. Pure networkx and numpy.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np

__all__ = ["DAG_FEATURES", "dag_features"]

#: The names of :func:`dag_features`, in order.
DAG_FEATURES = (
    "nodes",
    "edges",
    "density",
    "in_degree_mean",
    "in_degree_max",
    "out_degree_mean",
    "out_degree_max",
    "input_fanout",
    "output_fanin",
    "longest_path",
    "shortest_path",
    "mean_path",
    "log_paths",
    "longest_path_nodes",
)


def dag_features(G: nx.DiGraph) -> dict[str, float]:
    """Features of one stage DAG, named and in the order of :data:`DAG_FEATURES`.

    Parameters
    ----------
    G : networkx.DiGraph
        A stage DAG (:mod:`graphs.dag`): ``G.graph["input"]`` and ``G.graph["output"]`` name its
        single source and sink.

    Returns
    -------
    dict
        ``nodes`` and ``edges`` of the compute nodes (input and output excluded); ``density``
        edges / (nodes (nodes - 1) / 2) among compute nodes (0 for one node); in- and
        out-degree mean and maximum over compute nodes, in the whole DAG; ``input_fanout``
        and ``output_fanin``; ``longest_path``, ``shortest_path`` and ``mean_path``: edges on
        the longest, the shortest and the average input-to-output path (every path counted
        once); ``log_paths``: ``log(1 + number of input-to-output paths)``;
        ``longest_path_nodes``: compute nodes on the longest path. Every value is a finite float.

    Notes
    -----
    Cost: O(V + E), path counts and lengths by dynamic programming in topological order
    (the number of paths may be exponential; only its logarithm is kept, computed in floats).

    References
    ----------
    .. [1] H. Kadlecová, T. Pevný, R. Neruda, A. Mehl. "Surprisingly Strong Performance
       Prediction with Neural Graph Features" (GRAF). ICML 2024.

    Examples
    --------
    A chain input -> 0 -> 1 -> output, and a shortcut input -> 1:

    >>> G = nx.DiGraph([(-1, 0), (0, 1), (-1, 1), (1, -2)], input=-1, output=-2)
    >>> f = dag_features(G)
    >>> f["nodes"], f["edges"], f["longest_path"], f["shortest_path"], f["mean_path"]
    (2.0, 1.0, 3.0, 2.0, 2.5)
    >>> round(math.exp(f["log_paths"]) - 1), f["longest_path_nodes"], f["input_fanout"]
    (2, 2.0, 2.0)
    """
    src, dst = G.graph["input"], G.graph["output"]
    inner = [v for v in G if v not in (src, dst)]
    n = len(inner)
    edges = sum(1 for u, v in G.edges if u not in (src, dst) and v not in (src, dst))
    ins = np.array([G.in_degree(v) for v in inner], dtype=float) if n else np.zeros(1)
    outs = np.array([G.out_degree(v) for v in inner], dtype=float) if n else np.zeros(1)
    # per node: number of paths from the input, their summed length, longest and shortest
    count: dict = {src: 1.0}
    total: dict = {src: 0.0}
    longest: dict = {src: 0}
    shortest: dict = {src: 0}
    for v in nx.topological_sort(G):
        preds = [u for u in G.predecessors(v) if u in count]
        if v == src or not preds:
            continue
        count[v] = sum(count[u] for u in preds)
        total[v] = sum(total[u] + count[u] for u in preds)
        longest[v] = max(longest[u] for u in preds) + 1
        shortest[v] = min(shortest[u] for u in preds) + 1
    paths = count.get(dst, 0.0)
    return {
        "nodes": float(n),
        "edges": float(edges),
        "density": float(2 * edges / (n * (n - 1))) if n > 1 else 0.0,
        "in_degree_mean": float(ins.mean()),
        "in_degree_max": float(ins.max()),
        "out_degree_mean": float(outs.mean()),
        "out_degree_max": float(outs.max()),
        "input_fanout": float(G.out_degree(src)),
        "output_fanin": float(G.in_degree(dst)),
        "longest_path": float(longest.get(dst, 0)),
        "shortest_path": float(shortest.get(dst, 0)),
        "mean_path": float(total[dst] / paths) if paths else 0.0,
        "log_paths": math.log1p(paths),
        "longest_path_nodes": float(max(longest.get(dst, 0) - 1, 0)),
    }
