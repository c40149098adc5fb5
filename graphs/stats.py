"""Graph statistics of a stage DAG: the measures of RandWire's and "Graph Structure of NNs"."""

from __future__ import annotations

import networkx as nx
import numpy as np

__all__ = ["graph_stats"]


def graph_stats(G: nx.DiGraph) -> dict[str, float | int]:
    """Statistics of a stage DAG.

    Path length, clustering and degrees are taken on the undirected graph of the compute nodes
    (the wiring the generator drew, without the input and output nodes).

    Returns
    -------
    dict
        ``nodes`` compute nodes; ``edges`` edges between compute nodes; ``input_nodes`` nodes fed
        by the input node; ``output_nodes`` nodes feeding the output node; ``depth`` edges on the
        longest input-to-output path; ``components`` connected components;
        ``avg_path_length`` mean shortest-path length over connected pairs (0 when there are
        none); ``clustering`` average clustering coefficient; ``degree_mean``, ``degree_std``,
        ``degree_min``, ``degree_max``.

    Notes
    -----
    Cost: O(V E) for the all-pairs breadth-first searches.

    References
    ----------
    .. [1] J. You, J. Leskovec, K. He, S. Xie. "Graph Structure of Neural Networks". ICML 2020.

    Examples
    --------
    >>> from graphs.generators import watts_strogatz
    >>> s = graph_stats(watts_strogatz(8, 2, 0.0, seed=0))
    >>> s["nodes"], s["edges"], s["input_nodes"], s["output_nodes"], s["clustering"]
    (8, 8, 1, 1, 0.0)
    """
    src, dst = G.graph["input"], G.graph["output"]
    inner = G.subgraph(v for v in G if v not in (src, dst)).to_undirected(as_view=False)
    degrees = np.array([d for _, d in inner.degree()], dtype=float)
    lengths = [
        d for _, dists in nx.all_pairs_shortest_path_length(inner) for d in dists.values() if d > 0
    ]
    return {
        "nodes": inner.number_of_nodes(),
        "edges": inner.number_of_edges(),
        "input_nodes": G.out_degree(src),
        "output_nodes": G.in_degree(dst),
        "depth": nx.dag_longest_path_length(G),
        "components": nx.number_connected_components(inner),
        "avg_path_length": float(np.mean(lengths)) if lengths else 0.0,
        "clustering": float(nx.average_clustering(inner)),
        "degree_mean": float(degrees.mean()),
        "degree_std": float(degrees.std()),
        "degree_min": int(degrees.min()),
        "degree_max": int(degrees.max()),
    }
