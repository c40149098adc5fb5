"""A reference interpreter: runs a compiled model's modules node by node over the DAG.

This is how public RandWire implementations run a stage (a topological loop, a dict of outputs,
``torch.stack`` and ``sigmoid`` weights on every call). genesis does not train with it: it is the
independent second reading of the DAG that the compiler's output is checked against, and the
baseline of ``benchmarks/bench_compiler.py``.
"""

from __future__ import annotations

import networkx as nx
import torch
from torch import fx, nn

from genesis.genome import Architecture

__all__ = ["InterpretedNet"]


class InterpretedNet(nn.Module):
    """Interpret ``arch`` with the very modules and parameters of ``compiled`` (shared, not copied).

    Examples
    --------
    >>> from genesis.compiler import compile_architecture
    >>> from genesis.presets import build_architecture
    >>> arch = build_architecture("fashion-mnist", seed=0)
    >>> model = compile_architecture(arch)
    >>> x = torch.randn(2, 1, 28, 28)
    >>> torch.allclose(InterpretedNet(arch, model)(x), model(x), atol=1e-5)
    True
    """

    def __init__(self, arch: Architecture, compiled: fx.GraphModule):
        super().__init__()
        self.arch = arch
        self.model = compiled

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.model
        x = m.check_input(x)
        for i in range(len(self.arch.stem)):
            x = getattr(m, f"stem{i}")(x)
        for k, stage in enumerate(self.arch.stages):
            G = stage.graph
            src, dst = G.graph["input"], G.graph["output"]
            block = getattr(m, f"s{k}")
            outputs = {src: x}
            for v in nx.topological_sort(G):
                if v == src:
                    continue
                inputs = [outputs[p] for p in sorted(G.predecessors(v))]
                if v == dst:
                    x = torch.stack(inputs).mean(0)
                    break
                if len(inputs) == 1:
                    agg = inputs[0]
                else:
                    w = torch.sigmoid(getattr(block, f"gate{v}"))
                    agg = (torch.stack(inputs) * w.view(-1, 1, 1, 1, 1)).sum(0)
                outputs[v] = getattr(block, f"n{v}")(agg)
        return m.head(x)
