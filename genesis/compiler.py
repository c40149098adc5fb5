"""Compile an architecture genome into a PyTorch module with straight-line forward code.

:func:`compile_architecture` builds the submodules (stem, one op module per compute node, a gate
vector per aggregating node, head) and writes the forward pass as a :class:`torch.fx.Graph`,
node by node in topological order, so the module is a :class:`torch.fx.GraphModule` whose
``model.code`` reads like hand-written PyTorch: no interpreter loop, no dict of outputs.

Node semantics follow RandWire (Xie et al. 2019, section 3.3):

- aggregation: a weighted sum of the inputs with positive weights ``sigmoid(w)``, one learnable
  ``w`` per edge (a node with a single input takes it as is);
- transformation: the node's op (default ReLU -> separable 3x3 conv -> BN); the nodes the stage
  input feeds take it with the stage's stride and change the width;
- distribution: the same output goes to every successor;
- the output node averages the nodes that feed it.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from typing import Any

import torch
from torch import fx, nn

from genesis.complexity import check_costs, feature_plan
from genesis.genome import Architecture
from genesis.ops import get_op
from graphs import GenesisError, compute_nodes

__all__ = ["compile_architecture", "cut_edges", "InputCheck", "init_weights"]

#: An edge of a stage graph, ``(stage, u, v)``.
Edge = tuple[int, Any, Any]


class InputCheck(nn.Module):
    """Pass a batch through unchanged; raise :class:`GenesisError` unless its shape is right."""

    def __init__(self, shape: tuple[int, int, int]):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or tuple(x.shape[1:]) != self.shape:
            c, h, w = self.shape
            raise GenesisError(
                f"model expects input of shape (N, {c}, {h}, {w}), got {tuple(x.shape)}"
            )
        return x

    def extra_repr(self) -> str:
        return f"shape={self.shape}"


def init_weights(model: nn.Module, seed: int = 0) -> nn.Module:
    """Initialise every parameter from one :class:`torch.Generator` seeded with ``seed``.

    Convolutions: Kaiming normal (fan-out, ReLU); batch norm: weight 1, bias 0; linear layers:
    normal with std 0.01 and zero bias; aggregation gates: 0 (every input weighted
    ``sigmoid(0) = 0.5``). The global random state is not touched.
    """
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(
                    module.weight, mode="fan_out", nonlinearity="relu", generator=g
                )
                if module.bias is not None:
                    module.bias.zero_()
            elif isinstance(module, nn.BatchNorm2d):
                module.weight.fill_(1.0)
                module.bias.zero_()
            elif isinstance(module, nn.Linear):
                module.weight.normal_(0.0, 0.01, generator=g)
                module.bias.zero_()
        for name, param in model.named_parameters():
            if name.rsplit(".", 1)[-1].startswith("gate"):
                param.zero_()
    return model


def _stem_layer(c_in: int, c_out: int, kernel: int, stride: int, first: bool) -> nn.Sequential:
    conv = nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=False)
    layers = [conv, nn.BatchNorm2d(c_out)]
    return nn.Sequential(*([] if first else [nn.ReLU()]), *layers)


def _head(c_in: int, channels: int, dropout: float, classes: int) -> nn.Sequential:
    layers: list[nn.Module] = [nn.ReLU()]
    if channels:
        layers += [nn.Conv2d(c_in, channels, 1, bias=False), nn.BatchNorm2d(channels), nn.ReLU()]
        c_in = channels
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(c_in, classes))
    return nn.Sequential(*layers)


def compile_architecture(arch: Architecture, seed: int = 0) -> fx.GraphModule:
    """Build ``arch`` as a :class:`torch.fx.GraphModule` with generated forward code.

    Parameters
    ----------
    arch : Architecture
        A valid genome.
    seed : int
        Seed of the weight initialisation (:func:`init_weights`): the same architecture and seed
        give the same initial weights, in any process.

    Returns
    -------
    torch.fx.GraphModule
        On the CPU, in training mode. ``model.code`` is its forward source. Submodules:
        ``stem<i>``, ``s<k>.n<v>`` (the op of node ``v`` of stage ``k``), parameters
        ``s<k>.gate<v>`` (one entry per input edge of a node with several inputs, predecessors
        in ascending order) and ``head``. ``model.meta`` holds the architecture JSON.

    Raises
    ------
    GenesisError
        When the architecture cannot work (e.g. more stride-2 layers than the input size
        allows) or is over a cost cap (:func:`genesis.complexity.check_costs`); a forward with
        an input of the wrong shape names the expected shape.

    Examples
    --------
    >>> from genesis.presets import build_architecture
    >>> model = compile_architecture(build_architecture("fashion-mnist", seed=0))
    >>> model(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    """
    check_costs(arch)  # a genome within every cap can still be too big to build: refuse it first
    plan = feature_plan(arch)
    # Module constructors draw their default init from the global generator: fork it, so that
    # compiling leaves the caller's random state as it was (init_weights re-draws everything).
    with torch.random.fork_rng(devices=[]):
        model = _build(arch, plan)
    model.meta["architecture"] = arch.to_json(indent=None)
    return init_weights(model, seed)


def cut_edges(model: fx.GraphModule, arch: Architecture, edges: Iterable[Edge]) -> fx.GraphModule:
    """``model`` with the given edges carrying zeros: RandWire's graph damage (Xie et al. 2019,
    section 4.2), without retraining.

    Each edge ``(stage, u, v)``'s term in the aggregation of ``v`` is replaced by zeros, as if
    its weight were 0 (into the output node: its term of the average; the divisor is kept).
    Removing a node is cutting all its out-edges: its output reaches nothing.

    The result shares ``model``'s modules and parameters (nothing is copied; train or load
    weights into either, the other sees them); only the forward graph is new. With no edges it
    computes exactly what ``model`` does.

    Raises
    ------
    GenesisError
        If an edge is not an edge of ``arch``.

    Examples
    --------
    >>> from genesis.presets import build_architecture
    >>> arch = build_architecture("fashion-mnist", seed=0)
    >>> model = compile_architecture(arch).eval()
    >>> x = torch.randn(2, 1, 28, 28)
    >>> bool(torch.equal(cut_edges(model, arch, [])(x), model(x)))
    True
    >>> G = arch.stages[0].graph
    >>> u, v = next(iter(G.edges))
    >>> bool(torch.equal(cut_edges(model, arch, [(0, u, v)])(x), model(x)))
    False
    """
    cut = set()
    for e in edges:
        k, u, v = e
        if not (0 <= k < len(arch.stages)) or not arch.stages[k].graph.has_edge(u, v):
            raise GenesisError(f"({k}, {u}, {v}) is not an edge of the architecture's stages")
        cut.add((k, u, v))
    built = _build(arch, feature_plan(arch), cut=frozenset(cut), root=model)
    damaged = fx.GraphModule(model, built, class_name=type(model).__name__)
    damaged.meta.update(model.meta)
    damaged.train(model.training)
    return damaged


def _build(
    arch: Architecture, plan, cut: frozenset = frozenset(), root: nn.Module | None = None
) -> fx.GraphModule | fx.Graph:
    """The module (its submodules and forward graph), or with ``root`` (a module built here
    before) only the graph over ``root``'s submodules, with the ``cut`` edges carrying zeros."""
    make = root is None
    root = nn.Module() if make else root
    graph = fx.Graph()

    def call(kind: str, target, args, name: str) -> fx.Node:
        return graph.create_node(kind, target, args, {}, name=name)

    x = graph.placeholder("x")
    if make:
        root.check_input = InputCheck(arch.input_shape)
    x = call("call_module", "check_input", (x,), "x_checked")

    def term(k: int, out: dict, u, v, j: int, tag: str) -> fx.Node:
        """What edge (u, v) of stage k carries into v: u's output, or zeros where it is cut."""
        if (k, u, v) not in cut:
            return out[u]
        return call("call_function", torch.zeros_like, (out[u],), f"{tag}_cut{j}")

    c = arch.input_shape[0]
    for i, layer in enumerate(arch.stem):
        if make:
            setattr(
                root,
                f"stem{i}",
                _stem_layer(c, layer.channels, layer.kernel, layer.stride, i == 0),
            )
        x = call("call_module", f"stem{i}", (x,), f"stem{i}")
        c = layer.channels

    for k, (stage, (c_in, _, _)) in enumerate(zip(arch.stages, plan.stages_in, strict=True)):
        G = stage.graph
        src, dst = G.graph["input"], G.graph["output"]
        if make:
            block = nn.Module()
            setattr(root, f"s{k}", block)
        out: dict = {src: x}

        for v in [*compute_nodes(G), dst]:
            preds = sorted(G.predecessors(v))
            tag = f"s{k}_n{v}" if v != dst else f"s{k}_out"
            if v == dst:
                total = term(k, out, preds[0], v, 0, tag)
                for j, p in enumerate(preds[1:], start=1):
                    total = call(
                        "call_function",
                        operator.add,
                        (total, term(k, out, p, v, j, tag)),
                        f"{tag}_sum{j}",
                    )
                if len(preds) > 1:
                    total = call("call_function", operator.mul, (total, 1.0 / len(preds)), tag)
                out[v] = total
                continue
            if len(preds) == 1:
                agg = term(k, out, preds[0], v, 0, tag)
            else:
                gate_name = f"gate{v}"
                if make:
                    block.register_parameter(gate_name, nn.Parameter(torch.zeros(len(preds))))
                gate = call("get_attr", f"s{k}.{gate_name}", (), f"{tag}_gate")
                weights = call("call_function", torch.sigmoid, (gate,), f"{tag}_w")
                w0 = call("call_function", operator.getitem, (weights, 0), f"{tag}_w0")
                agg = call(
                    "call_function",
                    operator.mul,
                    (w0, term(k, out, preds[0], v, 0, tag)),
                    f"{tag}_agg0",
                )
                for j, p in enumerate(preds[1:], start=1):
                    wj = call("call_function", operator.getitem, (weights, j), f"{tag}_w{j}")
                    agg = call(
                        "call_function",
                        torch.addcmul,
                        (agg, wj, term(k, out, p, v, j, tag)),
                        f"{tag}_agg{j}",
                    )
            if make:
                first = preds == [src]
                spec = get_op(G.nodes[v]["op"])
                module = spec.factory(
                    c_in if first else stage.channels, stage.channels, stage.stride if first else 1
                )
                setattr(block, f"n{v}", module)
            out[v] = call("call_module", f"s{k}.n{v}", (agg,), tag)
        x = out[dst]

    if make:
        root.head = _head(
            plan.stages_out[-1][0], arch.head.channels, arch.head.dropout, arch.num_classes
        )
    logits = call("call_module", "head", (x,), "logits")
    graph.output(logits)
    graph.lint()
    return fx.GraphModule(root, graph, class_name="RandWireNet") if make else graph
