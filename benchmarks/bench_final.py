"""The final step's fidelity: test accuracy against seconds, by epochs and batch size.

The main job ends by retraining its chosen Pareto members on all 60,000 training examples and
scoring them once on the test set. How long, at which batch size? This benchmark answers it for
networks the default search space draws: a fixed, seeded sample of architectures under the
default parameter cap and a MAC cap, each trained with every (epochs, batch) setting, one
worker process per core, as the search's final step runs them (the search's own final task,
:func:`evolve.evaluate.make_task` with ``final=True``). It prints, per setting, the mean test
accuracy, the best, and the seconds per member, with the machine they came from.

This is the one benchmark that reads the test split: it measures the final step itself, which
is the only use of the test set a search makes; nothing here chooses an architecture.

Run: ``python benchmarks/bench_final.py [--archs 2] [--settings 2x128,3x128,3x256]
[--max-macs 4e6] [--workers 2] [--out FILE]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import time
from dataclasses import replace
from pathlib import Path

import torch

from evolve.config import ProxyConfig
from evolve.evaluate import make_task
from evolve.executors import make_executor
from evolve.space import SearchSpace, SpaceConfig
from genesis.complexity import count_complexity


def sample(n: int, max_params: int, max_macs: float, seed: int) -> list:
    """``n`` architectures of the default space under both caps, drawn from ``seed``."""
    space, rng, out = SearchSpace(SpaceConfig()), random.Random(seed), []
    while len(out) < n:
        arch = space.sample(rng)
        cx = count_complexity(arch)
        if cx.params < max_params and cx.macs <= max_macs:
            out.append((arch, cx))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", type=int, default=2)
    ap.add_argument("--settings", default="2x128,3x128,3x256", help="EPOCHSxBATCH,...")
    ap.add_argument("--max-params", type=int, default=100_000)
    ap.add_argument("--max-macs", type=float, default=4e6)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    settings = [tuple(float(v) for v in s.split("x")) for s in args.settings.split(",")]
    archs = sample(args.archs, args.max_params, args.max_macs, args.seed)
    proxy = ProxyConfig()
    tasks = []
    for epochs, batch in settings:
        for i, (arch, cx) in enumerate(archs):
            a = replace(arch, train=replace(arch.train, batch_size=int(batch)))
            cost = (cx.macs, cx.params)
            task = make_task(a, 0, proxy, complexity=cost, final=True, epochs=epochs)
            tasks.append(((epochs, int(batch), i), task))
    records: dict = {}
    log = args.out.with_suffix(".jsonl").open("w") if args.out else None

    def finished(key, record) -> None:  # printed and kept as each training ends
        records[key] = record
        print(f"{key}: test {record['test_accuracy']} in {record['train_seconds']} s", flush=True)
        if log:
            log.write(json.dumps({"key": list(key), "record": record}) + "\n")
            log.flush()

    t0 = time.perf_counter()
    with make_executor("local", args.workers) as pool:
        pool.run(tasks, finished)
    wall = time.perf_counter() - t0

    lines = [
        f"machine: {platform.machine()} {platform.processor() or ''} "
        f"cores={torch.get_num_threads()} workers={args.workers} torch={torch.__version__}, "
        f"{time.strftime('%Y-%m-%d')}",
        f"architectures: {args.archs} of the default space, params < {args.max_params}, "
        f"MACs <= {args.max_macs:g}, seed {args.seed}: "
        + ", ".join(f"{c.params / 1e3:.1f}k params / {c.macs / 1e6:.2f}M MACs" for _, c in archs),
        "",
        f"{'epochs x batch':<16}{'mean test':>10}{'best':>8}{'s/member':>10}",
    ]
    for epochs, batch in settings:
        got = [records[(epochs, int(batch), i)] for i in range(len(archs))]
        acc = [r["test_accuracy"] or 0.0 for r in got]
        secs = [r["train_seconds"] for r in got]
        lines.append(
            f"{f'{epochs:g} x {int(batch)}':<16}{statistics.mean(acc):>10.4f}{max(acc):>8.4f}"
            f"{statistics.mean(secs):>10.1f}"
        )
    lines.append(f"\nwall {wall:.0f} s for {len(tasks)} trainings on {args.workers} workers")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
