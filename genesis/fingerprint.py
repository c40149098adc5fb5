"""Canonical hash of an architecture: equal for isomorphic genomes, different otherwise.

Stage graphs are hashed with Weisfeiler–Lehman refinement (networkx's
``weisfeiler_lehman_graph_hash``, which from networkx 3.5 on tracks in- and out-edges apart) over
op-labelled nodes, so relabelling the nodes never changes the hash while a moved edge or a
changed op does.
Everything that changes what is trained enters the hash (input, classes, stem, widths, strides,
head, training hyperparameters); provenance (``name``, ``meta``, stage ``origin``) does not.

The hash is an invariant, not a certificate: 1-WL cannot tell some non-isomorphic graphs apart
(regular bipartite layers, e.g. one 8-cycle against two 4-cycles between four source and four
sink nodes), so two different networks can share a hash. :func:`same_architecture` is the exact
check, for a cache to confirm a hit before it reuses a result.
"""

from __future__ import annotations

import hashlib
import json
import warnings

import networkx as nx

from genesis.genome import Architecture, Stage

__all__ = ["architecture_hash", "same_architecture", "stage_hash"]

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
    H = _labelled(stage.graph)
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
    return _digest({**_trained(arch), "stages": [stage_hash(stage) for stage in arch.stages]})


#: Keys of :meth:`Architecture.to_dict` that say where a genome came from, not what it trains.
PROVENANCE = ("schema", "version", "name", "meta")


def _trained(arch: Architecture) -> dict:
    """The genome's JSON form without provenance and without its stage graphs (hashed apart)."""
    d = arch.to_dict()
    for key in (*PROVENANCE, "stages"):
        del d[key]
    return d


def same_architecture(a: Architecture, b: Architecture) -> bool:
    """Whether ``a`` and ``b`` train the same network: the exact check behind the hash.

    True when every field that enters :func:`architecture_hash` is equal (input shape, classes,
    stem, head, training hyperparameters, and each stage's width and stride) and each stage's
    graph is isomorphic to the other's with ops matched and the input and output nodes mapped
    onto each other. Provenance (``name``, ``meta``, stage ``origin``) is ignored, as by the hash.
    Unlike the hash, it tells apart the graphs that defeat Weisfeiler-Lehman refinement.

    Notes
    -----
    Cost: one VF2 isomorphism search per stage (networkx's ``is_isomorphic``), after a cheap
    rejection by :func:`stage_hash`. VF2 is exponential in the worst case; on stage DAGs of a
    few dozen nodes with op labels it takes milliseconds.

    References
    ----------
    .. [1] L. P. Cordella et al. "A (sub)graph isomorphism algorithm for matching large graphs".
       IEEE TPAMI 26(10), 2004.

    Examples
    --------
    >>> from graphs import watts_strogatz
    >>> from genesis.genome import StemLayer
    >>> G = watts_strogatz(8, 4, 0.5, seed=1)
    >>> a = Architecture((1, 28, 28), 10, (StemLayer(8),), (Stage(G, 16),))
    >>> same_architecture(a, a.replace(name="copy")), same_architecture(a, a.replace(num_classes=5))
    (True, False)
    """
    if _trained(a) != _trained(b) or len(a.stages) != len(b.stages):
        return False
    for s, t in zip(a.stages, b.stages, strict=True):
        if s.channels != t.channels or s.stride != t.stride:
            return False
        if stage_hash(s) != stage_hash(t):  # isomorphic graphs always share the WL hash
            return False
        if not nx.is_isomorphic(
            _labelled(s.graph),
            _labelled(t.graph),
            node_match=lambda x, y: x["label"] == y["label"],
        ):
            return False
    return True


def _labelled(G: nx.DiGraph) -> nx.DiGraph:
    """A copy of a stage DAG whose only node attribute ``label`` is its role or op."""
    src, dst = G.graph["input"], G.graph["output"]
    H = nx.DiGraph()
    for v, data in G.nodes(data=True):
        H.add_node(v, label="<in>" if v == src else "<out>" if v == dst else data["op"])
    H.add_edges_from(G.edges)
    return H


def _digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:_HEX]
