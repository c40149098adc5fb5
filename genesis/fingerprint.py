"""Canonical hash of an architecture: equal for isomorphic genomes, different otherwise.

Stage graphs are hashed with Weisfeiler–Lehman refinement (networkx's
``weisfeiler_lehman_graph_hash``, which from networkx 3.5 on tracks in- and out-edges apart) over
op-labelled nodes, so relabelling the nodes never changes the hash while a moved edge or a
changed op does.
Everything that changes what is trained enters the hash (input, classes, stem, widths, strides,
head, training hyperparameters); provenance (``name``, ``meta``, stage ``origin``) does not.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import asdict

import networkx as nx

from genesis.genome import Architecture, Stage

__all__ = ["architecture_hash", "stage_hash"]

_HEX = 20  # 80-bit digests: collisions are negligible for any search genesis runs


def stage_hash(stage: Stage) -> str:
    """WL hash of one stage's op-labelled DAG, its width and its stride.

    Notes
    -----
    Cost: O(n (V + E)) with ``n`` refinement rounds, one per node, enough for labels to carry
    the whole depth of the DAG.

    References
    ----------
    .. [1] N. Shervashidze et al. "Weisfeiler-Lehman Graph Kernels". JMLR 12, 2011.
    """
    G = stage.graph
    src, dst = G.graph["input"], G.graph["output"]
    H = nx.DiGraph()
    for v, data in G.nodes(data=True):
        H.add_node(v, label="<in>" if v == src else "<out>" if v == dst else data["op"])
    H.add_edges_from(G.edges)
    with warnings.catch_warnings():  # networkx >= 3.5 notes that directed hashes changed in 3.5
        warnings.simplefilter("ignore", UserWarning)
        wl = nx.weisfeiler_lehman_graph_hash(H, node_attr="label", iterations=H.number_of_nodes())
    return _digest([wl, stage.channels, stage.stride])


def architecture_hash(arch: Architecture) -> str:
    """Canonical hash of an architecture (hex).

    Examples
    --------
    >>> from graphs import watts_strogatz
    >>> from genesis.genome import StemLayer
    >>> G = watts_strogatz(8, 4, 0.5, seed=1)
    >>> a = Architecture((1, 28, 28), 10, (StemLayer(8),), (Stage(G, 16),))
    >>> import networkx as nx
    >>> R = nx.relabel_nodes(G, {v: 100 - v for v in G})
    >>> R.graph.update(input=100, output=100 - G.graph["output"])
    >>> architecture_hash(a) == architecture_hash(a.replace(stages=(Stage(R, 16),)))
    True
    """
    return _digest(
        {
            "input_shape": list(arch.input_shape),
            "num_classes": arch.num_classes,
            "stem": [asdict(layer) for layer in arch.stem],
            "stages": [stage_hash(stage) for stage in arch.stages],
            "head": asdict(arch.head),
            "train": asdict(arch.train),
        }
    )


def _digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:_HEX]
