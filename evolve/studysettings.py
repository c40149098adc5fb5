"""The settings of a generator study: a graph family with its parameters, nodes per stage and
node op (:class:`Setting`), and the named grids of them (``--grid``: RandWire's Figure 3).

References
----------
.. [1] S. Xie, A. Kirillov, R. Girshick, K. He. "Exploring Randomly Wired Neural Networks for
   Image Recognition". ICCV 2019.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from evolve.checks import check_types
from genesis import GenesisError
from genesis.limits import MAX_NODES

__all__ = ["DEFAULT_GRID", "GRIDS", "PAPER_GRID", "PAPER_OPS", "Setting"]

#: The node ops of RandWire's Figure 6 (``genesis study ops``' default): its separable 3x3
#: conv, a plain 3x3 conv, and 3x3 max- or average-pooling followed by a 1x1 conv.
PAPER_OPS = ("sep_conv_3x3", "conv_3x3", "max_pool_conv_1x1", "avg_pool_conv_1x1")


@dataclass(frozen=True)
class Setting:
    """One bar of the study: a graph family, its parameters, nodes per stage and node op."""

    family: str  # a registered family (graphs.family_names()) or "nx:<generator>"
    params: Mapping[str, Any] = field(default_factory=dict)  # the family's parameters
    nodes: int = 8  # compute nodes per stage (N)
    op: str = "sep_conv_3x3"  # op of every compute node (genesis.ops.OPS)
    label: str = ""  # its name in tables and plots; default from family and params

    def __post_init__(self) -> None:
        from genesis.ops import OPS
        from graphs import random_dag

        if not isinstance(self.family, str) or not self.family:
            raise GenesisError(f"study setting family must be a family name, got {self.family!r}")
        if not isinstance(self.params, Mapping):
            raise GenesisError(
                f"study setting params must be a table of the family's parameters, got "
                f"{self.params!r}"
            )
        object.__setattr__(self, "params", dict(self.params))
        if isinstance(self.nodes, bool) or not isinstance(self.nodes, int) or self.nodes < 2:
            raise GenesisError(f"study setting nodes must be an integer >= 2, got {self.nodes!r}")
        if self.nodes > MAX_NODES:
            raise GenesisError(
                f"study setting nodes is {self.nodes}; the cap is MAX_NODES = {MAX_NODES}"
            )
        if self.op not in OPS:
            raise GenesisError(
                f"study setting op must be one of {', '.join(sorted(OPS))}, got {self.op!r}"
            )
        if not isinstance(self.label, str):
            raise GenesisError(f"study setting label must be a string, got {self.label!r}")
        random_dag(self.family, self.nodes, seed=0, op=self.op, **self.params)  # refuses bad ones
        if not self.label:
            object.__setattr__(self, "label", self.default_label())
        check_types(self, "study setting")

    def default_label(self) -> str:
        """``WS(k=4, p=0.75)``: the family in capitals (an ``nx:`` one as given), its
        parameters in order, and ``N=..`` when the nodes are not the default 8."""
        name = self.family if self.family.startswith("nx:") else self.family.upper()
        parts = [
            f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.params.items()
        ]
        if self.nodes != 8:
            parts.append(f"N={self.nodes}")
        return f"{name}({', '.join(parts)})"


def _grid(*specs: tuple[str, dict[str, Any]], nodes: int = 8) -> tuple[Setting, ...]:
    return tuple(Setting(f, p, nodes) for f, p in specs)


#: The default generator study: fits a 2-core CPU in minutes (RandWire's families, a dense and
#: a sparse setting of each; BA(1) is the paper's clear loser, WS(4, 0.75) its pick).
DEFAULT_GRID = _grid(
    ("er", {"p": 0.2}),
    ("er", {"p": 0.6}),
    ("ba", {"m": 1}),
    ("ba", {"m": 5}),
    ("ws", {"k": 4, "p": 0.25}),
    ("ws", {"k": 4, "p": 0.75}),
)

#: The grid of RandWire's Figure 3, as the paper plots it: ER(P) for P = 0.1 ... 0.9, BA(M)
#: for M = 1 ... 8 and WS(K, P) for K = 2, 4, 6, 8 and P = 0, 0.25, 0.5, 0.75, 1 (P = 0 is
#: a regular ring lattice), N = 32 nodes per stage.
PAPER_GRID = _grid(
    *[("er", {"p": round(0.1 * i, 1)}) for i in range(1, 10)],
    *[("ba", {"m": m}) for m in range(1, 9)],
    *[("ws", {"k": k, "p": p}) for k in (2, 4, 6, 8) for p in (0.0, 0.25, 0.5, 0.75, 1.0)],
    nodes=32,
)

#: Named grids (``--grid``).
GRIDS: dict[str, tuple[Setting, ...]] = {"default": DEFAULT_GRID, "paper": PAPER_GRID}
