"""Graph damage: remove one node or one edge of a trained network and score it again, untrained.

RandWire (Xie et al. 2019, section 4.2 and Figure 5) asks how much a randomly wired network
depends on any one part of its graph: remove one node, or one edge, from a trained network and
measure the accuracy without retraining. Its finding: removing a node hurts more the higher its
out-degree; removing an edge hurts more the lower the in-degree of the node it feeds (that
node's input is then mostly gone).

Here a removal is a set of cut edges (:func:`genesis.compiler.cut_edges`: an edge carries zeros,
as if its weight were 0):

- removing compute node ``v`` cuts all its out-edges (its output reaches nothing);
- removing edge ``(u, v)`` cuts that one.

The stage's input and output nodes are not removed (that is removing the stage); every edge is,
including those from the input and into the output node. :func:`damage_rows` scores every
removal of an architecture, with the undamaged network first (kind ``none``: removing nothing
must change nothing, and its accuracy is what the training's record says when the scorer
normalises as the training did, :func:`genesis.train.scorer`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from genesis.compiler import Edge, cut_edges
from genesis.genome import Architecture
from graphs import compute_nodes

__all__ = ["DAMAGE_COLUMNS", "Removal", "removals", "damage_rows"]

#: Columns of a damage table: what was removed, its degrees, the accuracy after and the drop.
DAMAGE_COLUMNS = (
    "kind",  # none, node or edge
    "stage",
    "node",  # the removed node (kind node)
    "source",  # the removed edge's source and target (kind edge)
    "target",
    "out_degree",  # node: its out-degree; edge: its source's
    "in_degree",  # node: its in-degree; edge: its target's (RandWire's Figure 5 x-axis)
    "accuracy",
    "drop",  # the undamaged accuracy minus this one (a fraction; > 0: the removal hurt)
)


@dataclass(frozen=True)
class Removal:
    """One removal: a compute node (all its out-edges cut) or one edge, with its degrees."""

    kind: str  # "node" or "edge"
    stage: int
    node: Any  # the node removed, or the edge's target
    source: Any  # the edge's source (None for a node)
    out_degree: int
    in_degree: int
    edges: tuple[Edge, ...]  # the edges cut

    def row(self) -> dict[str, Any]:
        """Its identity and degrees as a damage-table row (without the scores)."""
        edge = self.kind == "edge"
        return {
            "kind": self.kind,
            "stage": self.stage,
            "node": None if edge else self.node,
            "source": self.source if edge else None,
            "target": self.node if edge else None,
            "out_degree": self.out_degree,
            "in_degree": self.in_degree,
        }


def removals(arch: Architecture, nodes: bool = True, edges: bool = True) -> list[Removal]:
    """Every node removal, then every edge removal, stage by stage (nodes in topological order,
    edges sorted).

    Examples
    --------
    >>> from genesis.presets import build_architecture
    >>> arch = build_architecture("fashion-mnist", seed=0)
    >>> found = removals(arch)
    >>> sum(r.kind == "edge" for r in found) == sum(s.graph.number_of_edges() for s in arch.stages)
    True
    """
    out = []
    for k, stage in enumerate(arch.stages):
        G = stage.graph
        if nodes:
            for v in compute_nodes(G):
                out.append(
                    Removal(
                        "node",
                        k,
                        v,
                        None,
                        G.out_degree(v),
                        G.in_degree(v),
                        tuple((k, v, w) for w in sorted(G.successors(v))),
                    )
                )
        if edges:
            for u, v in sorted(G.edges):
                out.append(Removal("edge", k, v, u, G.out_degree(u), G.in_degree(v), ((k, u, v),)))
    return out


def damage_rows(
    arch: Architecture,
    model: nn.Module,
    score: Callable[[nn.Module], float],
    *,
    nodes: bool = True,
    edges: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Score ``model`` (``arch`` compiled, trained) undamaged and after each removal.

    Parameters
    ----------
    arch, model : Architecture, torch.nn.Module
        The architecture and its trained :func:`~genesis.compiler.compile_architecture` module
        (on the device ``score`` evaluates on).
    score : callable
        ``model -> accuracy`` (:func:`genesis.train.scorer`).
    nodes, edges : bool
        Which removals to make.
    progress : callable, optional
        Called with (removals scored, removals in all) after each.

    Returns
    -------
    list of dict
        One row per :data:`DAMAGE_COLUMNS`: first kind ``none`` (the undamaged network, drop 0
        by definition), then each :func:`removals` entry.

    Examples
    --------
    >>> from genesis.compiler import compile_architecture
    >>> from genesis.data import make_splits, synthetic_dataset
    >>> from genesis.presets import build_architecture
    >>> from genesis.train import scorer
    >>> arch = build_architecture("fashion-mnist", "er", {"p": 0.5}, seed=0, nodes=3)
    >>> splits = make_splits(synthetic_dataset(n_train=64, n_test=16), val_size=16)
    >>> rows = damage_rows(arch, compile_architecture(arch), scorer(splits, device="cpu"))
    >>> rows[0]["kind"], rows[0]["drop"]
    ('none', 0.0)
    """
    todo = removals(arch, nodes=nodes, edges=edges)
    model.eval()
    base = score(model)
    rows = [
        {
            "kind": "none",
            "stage": None,
            "node": None,
            "source": None,
            "target": None,
            "out_degree": None,
            "in_degree": None,
            "accuracy": base,
            "drop": 0.0,
        }
    ]
    for i, removal in enumerate(todo, start=1):
        acc = score(cut_edges(model, arch, removal.edges))
        rows.append({**removal.row(), "accuracy": acc, "drop": round(base - acc, 10)})
        if progress is not None:
            progress(i, len(todo))
    return rows
