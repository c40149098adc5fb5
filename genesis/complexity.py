"""Exact multiply-adds and parameters of an architecture, from the genome alone.

No torch module is built: every stem layer, node op and head layer is counted by the complexity
function registered beside its factory (:mod:`genesis.ops`), pycls-style. The counts equal what
torch reports on the compiled module: ``params`` equals ``sum(p.numel() for p in
model.parameters())`` and ``macs`` equals half of ``torch.utils.flop_counter.FlopCounterMode``'s
total for one example.

What is counted: MACs (multiply-adds) of convolutions and linear layers, the quantity RandWire,
NSGA-Net and NNI call "FLOPs"; ``flops = 2 * macs``. Batch norm, ReLU, pooling, the weighted sums
of the aggregation and the output averages are not counted (they are a fraction of a percent).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from genesis.genome import Architecture
from genesis.ops import Complexity, bn_cx, conv_cx, get_op, linear_cx
from graphs import GenesisError

__all__ = [
    "ArchComplexity",
    "FeaturePlan",
    "check_costs",
    "count_complexity",
    "feature_plan",
    "format_count",
]


@dataclass(frozen=True)
class FeaturePlan:
    """Width and size of the tensors entering and leaving each stem layer and stage."""

    stem: tuple[tuple[int, int, int], ...]  # (channels, h, w) after each stem layer
    stages_in: tuple[tuple[int, int, int], ...]  # (channels, h, w) entering each stage
    stages_out: tuple[tuple[int, int, int], ...]  # (channels, h, w) leaving each stage


def _half(size: int) -> int:
    return -(-size // 2)


def feature_plan(arch: Architecture) -> FeaturePlan:
    """Follow the feature map through the network; refuse what cannot work.

    Raises
    ------
    GenesisError
        When a stride-2 layer meets a feature map already 1 pixel high or wide, i.e. the
        architecture downsamples more often than its input size allows.
    """
    c, h, w = arch.input_shape
    limit, size = 0, min(h, w)
    while size > 1:
        limit, size = limit + 1, _half(size)
    strided = sum(layer.stride == 2 for layer in arch.stem) + sum(
        s.stride == 2 for s in arch.stages
    )

    def step(where: str, stride: int) -> tuple[int, int]:
        if stride == 2 and min(h, w) < 2:
            raise GenesisError(
                f"{where} downsamples a {h}x{w} feature map: input "
                f"{arch.input_shape[1]}x{arch.input_shape[2]} allows at most {limit} stride-2 "
                f"layers, the architecture has {strided}"
            )
        return (_half(h), _half(w)) if stride == 2 else (h, w)

    stem = []
    for i, layer in enumerate(arch.stem):
        h, w = step(f"stem layer {i}", layer.stride)
        c = layer.channels
        stem.append((c, h, w))
    ins, outs = [], []
    for i, stage in enumerate(arch.stages):
        ins.append((c, h, w))
        h, w = step(f"stage {i}", stage.stride)
        c = stage.channels
        outs.append((c, h, w))
    return FeaturePlan(tuple(stem), tuple(ins), tuple(outs))


@dataclass(frozen=True)
class ArchComplexity:
    """Complexity of a whole architecture for one input example."""

    macs: int  # multiply-adds of convolutions and linear layers
    params: int  # trainable parameters
    stem: Complexity = field(repr=False)  # the stem layers together
    stages: tuple[Complexity, ...] = field(repr=False)  # each random stage
    head: Complexity = field(repr=False)  # 1x1 conv (if any) and classifier
    # feature-map elements the layers output for one example: every stem layer, every compute
    # node and the head's conv (a lower bound on what a forward holds; what the cost cap reads)
    activations: int = field(default=0, repr=False)

    @property
    def flops(self) -> int:
        """Floating-point operations, counting a multiply-add as two: ``2 * macs``."""
        return 2 * self.macs

    def as_dict(self) -> dict[str, int]:
        """``{"macs", "flops", "params"}`` for reports and ``genesis info --json``."""
        return {"macs": self.macs, "flops": self.flops, "params": self.params}


def count_complexity(arch: Architecture) -> ArchComplexity:
    """Exact MACs and parameters of ``arch`` for one example, without building it.

    Notes
    -----
    Cost: one op-complexity call per node; milliseconds for a 100-node architecture.

    Examples
    --------
    >>> from genesis.presets import build_architecture
    >>> cx = count_complexity(build_architecture("fashion-mnist", seed=0))
    >>> cx.flops == 2 * cx.macs
    True
    """
    plan = feature_plan(arch)
    c, h, w = arch.input_shape
    stem = Complexity(0, 0, h, w)
    activations = 0
    for layer in arch.stem:
        conv = conv_cx(c, layer.channels, layer.kernel, layer.stride, h, w)
        stem = stem + conv + bn_cx(layer.channels, conv.h, conv.w)
        c, h, w = layer.channels, conv.h, conv.w
        activations += c * h * w
    stages = []
    for stage, (c_in, h_in, w_in) in zip(arch.stages, plan.stages_in, strict=True):
        G = stage.graph
        src, dst = G.graph["input"], G.graph["output"]
        _, h_out, w_out = plan.stages_out[len(stages)]
        activations += stage.num_nodes * stage.channels * h_out * w_out
        total = Complexity(0, 0)
        for v, data in G.nodes(data=True):
            if v in (src, dst):
                continue
            first = G.has_edge(src, v)
            op = get_op(data["op"]).complexity(
                c_in if first else stage.channels,
                stage.channels,
                stage.stride if first else 1,
                h_in if first else h_out,
                w_in if first else w_out,
            )
            gates = G.in_degree(v) if G.in_degree(v) > 1 else 0
            total = total + op + Complexity(0, gates)
        stages.append(total)
    c_last = plan.stages_out[-1][0]
    head = Complexity(0, 0)
    if arch.head.channels:
        _, h_last, w_last = plan.stages_out[-1]
        activations += arch.head.channels * h_last * w_last
        head = conv_cx(c_last, arch.head.channels, 1, 1, h_last, w_last) + bn_cx(
            arch.head.channels, h_last, w_last
        )
        c_last = arch.head.channels
    head = head + linear_cx(c_last, arch.num_classes)
    parts = [stem, *stages, head]
    return ArchComplexity(
        macs=sum(p.macs for p in parts),
        params=sum(p.params for p in parts),
        stem=stem,
        stages=tuple(stages),
        head=head,
        activations=activations,
    )


def check_costs(arch: Architecture, cx: ArchComplexity | None = None) -> ArchComplexity:
    """Refuse ``arch`` before anything is allocated when building it would take more memory
    than genesis builds: more than :data:`~genesis.limits.MAX_PARAMS` parameters or
    :data:`~genesis.limits.MAX_ACTIVATIONS` feature-map elements for one example, both counted
    from the genome (:func:`count_complexity`). Returns the count.

    Every genome within the graph and width caps can still be too big to build (one stage of
    256 nodes of width 4096 has 4.3G parameters: 17 GB of weights); this is the check that
    :func:`genesis.compiler.compile_architecture` makes first, so every verb that compiles
    (``info --costs``, ``export``, ``render`` with weights, ``train``, ``study``, ``study
    damage``, a search's worker) refuses it in one line.

    Examples
    --------
    >>> from genesis.presets import build_architecture
    >>> check_costs(build_architecture("fashion-mnist", seed=0)).params
    59171
    >>> check_costs(build_architecture("fashion-mnist", seed=0, channels=512, nodes=64))
    Traceback (most recent call last):
    ...
    graphs.errors.GenesisError: network has 332.72M parameters; the cap is MAX_PARAMS = 100000000
    """
    from genesis.limits import MAX_ACTIVATIONS, MAX_PARAMS

    cx = cx or count_complexity(arch)
    if cx.params > MAX_PARAMS:
        raise GenesisError(
            f"network has {format_count(cx.params)} parameters; the cap is "
            f"MAX_PARAMS = {MAX_PARAMS}"
        )
    if cx.activations > MAX_ACTIVATIONS:
        raise GenesisError(
            f"network's layers output {format_count(cx.activations)} feature-map elements "
            f"for one example; the cap is MAX_ACTIVATIONS = {MAX_ACTIVATIONS}"
        )
    return cx


def format_count(value: float | None) -> str:
    """A count in k/M/G units for people, e.g. ``583.90M``; ``-`` for None.

    Examples
    --------
    >>> format_count(583_898_036), format_count(59_171), format_count(512)
    ('583.90M', '59.17k', '512')
    """
    if value is None:
        return "-"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.2f}{unit}"
    return str(value)
