"""Costs MACs do not show: peak inference memory and measured latency.

FLOPs do not predict latency (every user of a MAC counter learns this), and microcontroller NAS
(μNAS, Liberis et al. 2021) bounds model size and peak memory besides MACs. Two measures:

- :func:`peak_memory`: the bytes of the activations alive at once during one inference at
  batch 1, at the worst moment, plus the bytes of the parameters. The network is traced to its
  leaf layers (convolutions, batch norms, ReLUs, pooling, the aggregation's arithmetic) with
  :mod:`torch.fx`, shapes come from :class:`torch.fx.passes.shape_prop.ShapeProp`, and layers
  run in the compiler's topological order, each output freed after its last use (no in-place
  reuse assumed). Exact for that schedule, deterministic, no device needed.
- :func:`measure_latency`: milliseconds per forward pass on a device, measured with
  :class:`torch.utils.benchmark.Timer`: warm-up passes, then the median of repeated blocks
  (``blocked_autorange``), in eval mode without gradients, with the threads the process has.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import fx, nn
from torch.fx.passes.shape_prop import ShapeProp

from genesis.compiler import InputCheck, compile_architecture
from genesis.genome import Architecture

__all__ = ["Memory", "peak_memory", "measure_latency", "latencies"]


@dataclass(frozen=True)
class Memory:
    """Peak inference memory at batch 1, in bytes."""

    activations: int  # the most bytes of activations alive at once
    params: int  # bytes of the parameters and buffers (batch-norm statistics)

    @property
    def total(self) -> int:
        return self.activations + self.params

    @property
    def kb(self) -> float:
        """The total in KiB (what ``--max-memory-kb`` bounds)."""
        return self.total / 1024


class _LeafTracer(fx.Tracer):
    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return isinstance(m, InputCheck) or super().is_leaf_module(m, qualname)


def _bytes(meta) -> int:
    if meta is None or not hasattr(meta, "shape"):
        return 0
    n = 1
    for d in meta.shape:
        n *= int(d)
    return n * torch.empty((), dtype=meta.dtype).element_size()


def peak_memory(arch: Architecture, model: nn.Module | None = None) -> Memory:
    """Peak memory of one inference of ``arch`` at batch 1 (float32).

    Examples
    --------
    >>> from genesis.presets import build_architecture
    >>> m = peak_memory(build_architecture("fashion-mnist", seed=0))
    >>> m.activations > 28 * 28 * 4 and m.params > 0
    True
    """
    model = compile_architecture(arch) if model is None else model
    was = model.training
    model.eval()
    try:
        graph = _LeafTracer().trace(model)
        traced = fx.GraphModule(model, graph)
        with torch.no_grad():
            ShapeProp(traced).propagate(torch.zeros(1, *arch.input_shape))
    finally:
        model.train(was)
    nodes = list(traced.graph.nodes)
    last = {n: i for i, n in enumerate(nodes)}
    for i, n in enumerate(nodes):
        for arg in n.all_input_nodes:
            last[arg] = max(last[arg], i)
    live: dict[fx.Node, int] = {}
    current = peak = 0
    for i, n in enumerate(nodes):
        if n.op not in ("get_attr", "output"):  # parameters are counted apart
            size = _bytes(n.meta.get("tensor_meta"))
            live[n] = size
            current += size
            peak = max(peak, current)
        for arg in set(n.all_input_nodes):
            if last[arg] == i and arg in live:
                current -= live.pop(arg)
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    buffers = sum(b.numel() * b.element_size() for b in model.buffers())
    return Memory(activations=peak, params=params + buffers)


def measure_latency(
    model: nn.Module,
    input_shape: tuple[int, int, int],
    device: str | torch.device = "cpu",
    batch: int = 1,
    min_run_time: float = 0.2,
) -> float:
    """Median milliseconds of one forward pass of ``batch`` examples on ``device``.

    Warm-up (three passes, which also settle cuDNN's choices), then
    :meth:`torch.utils.benchmark.Timer.blocked_autorange` for at least ``min_run_time``
    seconds; the median of its blocks. Eval mode, no gradients; the module is left on
    ``device`` in eval mode.
    """
    from torch.utils import benchmark

    dev = torch.device(device)
    model = model.to(dev).eval()
    x = torch.randn(batch, *input_shape, device=dev)
    with torch.no_grad():
        for _ in range(3):
            model(x)
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        timer = benchmark.Timer(
            stmt="model(x)",
            globals={"model": model, "x": x},
            num_threads=torch.get_num_threads(),
        )
        result = timer.blocked_autorange(min_run_time=min_run_time)
    return result.median * 1e3


def latencies(arch: Architecture, device: str | torch.device, batch: int = 64) -> dict[str, object]:
    """The latency fields a record keeps: ``latency_ms`` (batch 1), ``latency_batch``,
    ``latency_batch_ms`` and ``latency_device``, measured on a freshly compiled ``arch``."""
    model = compile_architecture(arch)
    return {
        "latency_ms": round(measure_latency(model, arch.input_shape, device), 4),
        "latency_batch": batch,
        "latency_batch_ms": round(measure_latency(model, arch.input_shape, device, batch), 4),
        "latency_device": str(device),
    }
