"""Compiler benchmark: generate + compile times, and compiled vs interpreted training throughput.

Prints, side by side in one run:
- time to generate and to compile the ``randwire-small`` and ``fashion-mnist`` presets (and to
  count their MACs from the genome);
- forward + backward throughput (examples/s) of the compiled module against the reference
  node-by-node interpreter (:class:`genesis.interpreter.InterpretedNet`) running the same modules
  and weights, ``fashion-mnist`` preset, batch 256, on the CPU (and on CUDA when present), with
  the ratio and the largest output difference. Target: ratio >= 1.0, difference <= 1e-5.

Run: ``python benchmarks/bench_compiler.py [--steps N] [--device cpu|cuda]``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch

from genesis.compiler import compile_architecture
from genesis.complexity import count_complexity
from genesis.interpreter import InterpretedNet
from genesis.presets import build_architecture


def _timed(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def build_times() -> None:
    for preset in ("randwire-small", "fashion-mnist"):
        gen = _timed(lambda p=preset: build_architecture(p, seed=0))
        arch = build_architecture(preset, seed=0)
        count = _timed(lambda a=arch: count_complexity(a))
        comp = _timed(lambda a=arch: compile_architecture(a), repeat=3)
        print(
            f"{preset:>16}: generate {gen * 1e3:7.1f} ms   count MACs {count * 1e3:6.2f} ms   "
            f"compile {comp * 1e3:7.1f} ms"
        )


def throughput(device: str, steps: int, batch: int = 256) -> None:
    arch = build_architecture("fashion-mnist", seed=0)
    compiled = compile_architecture(arch).to(device)
    interpreted = InterpretedNet(arch, compiled).to(device)
    g = torch.Generator(device="cpu").manual_seed(0)
    x = torch.randn(batch, *arch.input_shape, generator=g).to(device)
    y = torch.randint(0, arch.num_classes, (batch,), generator=g).to(device)
    loss_fn = torch.nn.CrossEntropyLoss()

    compiled.eval(), interpreted.eval()
    with torch.no_grad():
        diff = (compiled(x) - interpreted(x)).abs().max().item()
    compiled.train(), interpreted.train()

    def step(model):
        model.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()

    def rate(model) -> float:
        for _ in range(2):
            step(model)
        if device == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        for _ in range(steps):
            step(model)
        if device == "cuda":
            torch.cuda.synchronize()
        return steps * batch / (time.perf_counter() - t)

    # Alternate the two, three rounds each, and keep each one's best: fair under machine noise.
    fast, slow = [], []
    for _ in range(3):
        fast.append(rate(compiled))
        slow.append(rate(interpreted))
    print(
        f"{device}: fashion-mnist fwd+bwd batch {batch}: compiled {max(fast):8.0f} ex/s, "
        f"interpreter {max(slow):8.0f} ex/s, ratio {max(fast) / max(slow):.3f}, "
        f"max |output diff| {diff:.2e}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="timed steps per round")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: both if present)")
    args = parser.parse_args()
    print(
        f"machine: {platform.node()} {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}"
    )
    build_times()
    devices = (
        [args.device] if args.device else ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    )
    for device in devices:
        throughput(device, args.steps)


if __name__ == "__main__":
    main()
