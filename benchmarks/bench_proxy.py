"""Proxy fidelity: how well each cheap score ranks architectures as a long training does.

A fixed, seeded sample of architectures from the default search space, under a parameter cap,
is trained once with the longest training this machine affords (the reference; by default 10k
examples x 5 epochs, scored on a 5,000-example validation split). Every candidate proxy scores
the same architectures:

- today's default proxy (``ProxyConfig()``: 4,000 examples x 2 epochs, 2,000 validation);
- trainings of other fidelities, among them the rungs of a successive-halving schedule
  (eta = 3: 1/3, 1 and 3 epochs of a 10k subset);
- zero-cost scores at initialization, on one training batch: NASWOT and synflow
  (:mod:`genesis.zero_cost`);
- the free baselines: MACs alone and params alone.

For each proxy it prints Kendall's tau and Spearman's rho against the reference
(``scipy.stats``), and the seconds it spent per architecture. Every training runs through the
search's own evaluation task (:func:`evolve.evaluate.make_task`) on the validation split; the
test split is never read. Records go to ``--out`` as they finish, so a killed benchmark
continues where it stopped.

Run: ``python benchmarks/bench_proxy.py [--archs 24] [--max-params 100000] [--workers 2]
[--out DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch
from scipy import stats

from evolve.config import ProxyConfig
from evolve.evaluate import make_task
from evolve.executors import make_executor
from evolve.space import SearchSpace, SpaceConfig
from genesis.compiler import compile_architecture
from genesis.complexity import count_complexity
from genesis.data import load_dataset, make_splits
from genesis.zero_cost import naswot_score, synflow_score

#: name -> (subset, epochs, val_size) of each training proxy; "reference" is the long one.
TRAININGS = {
    "reference (10k x 5 ep)": (10_000, 5.0, 5000),
    "default (4k x 2 ep)": (None, None, None),  # ProxyConfig() as the search uses it
    "4k x 1 ep": (4000, 1.0, 2000),
    "rung 0: 10k x 1/3 ep": (10_000, 1 / 3, 2000),
    "rung 1: 10k x 1 ep": (10_000, 1.0, 2000),
    "rung 2: 10k x 3 ep": (10_000, 3.0, 2000),
}
REFERENCE = "reference (10k x 5 ep)"


def sample_architectures(n: int, max_params: int, seed: int):
    """``n`` architectures of the default space under ``max_params``, from one seeded draw."""
    space, rng, out = SearchSpace(SpaceConfig()), random.Random(seed), []
    while len(out) < n:
        arch = space.sample(rng)
        if count_complexity(arch).params <= max_params:
            out.append(arch)
    return out


def proxy_config(name: str) -> ProxyConfig:
    subset, epochs, val = TRAININGS[name]
    if subset is None:
        return ProxyConfig(device="cpu")
    return replace(
        ProxyConfig(), subset=subset, epochs=epochs, val_size=val, time_limit=None, device="cpu"
    )


def run_trainings(archs, names, workers: int, log: Path) -> dict:
    """(proxy, index) -> record, training what ``log`` does not hold yet."""
    done = {}
    if log.exists():
        for line in log.read_text().splitlines():
            if line.strip():
                e = json.loads(line)
                done[(e["proxy"], e["index"])] = e["record"]
    todo = [
        ((name, i), make_task(a, 1000 + i, proxy_config(name)))
        for name in names
        for i, a in enumerate(archs)
        if (name, i) not in done
    ]
    if todo:
        print(f"training {len(todo)} proxy evaluations with {workers} workers", file=sys.stderr)
        with make_executor("local", workers) as ex, open(log, "a") as f:

            def finished(key, record):
                done[key] = record
                f.write(json.dumps({"proxy": key[0], "index": key[1], "record": record}) + "\n")
                f.flush()
                print(f"  {key[0]} #{key[1]}: {record['status']} "
                      f"{record.get('accuracy')}", file=sys.stderr)  # fmt: skip

            ex.run(todo, finished)
    return done


def zero_cost(archs, seed: int) -> dict[str, list[tuple[float, float]]]:
    """(score, seconds) per architecture for NASWOT and synflow, on one training batch."""
    splits = make_splits(load_dataset("fashion-mnist"), val_size=5000, subset=10_000)
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(splits.train_y), generator=g)[:64]
    x = splits.train_x[idx].float().div(255)
    x = (x - x.mean()) / x.std()
    out = {"NASWOT (init, 64 ex)": [], "synflow (init)": []}
    for i, arch in enumerate(archs):
        model = compile_architecture(arch, seed=1000 + i)
        t = time.perf_counter()
        out["NASWOT (init, 64 ex)"].append((naswot_score(model, x), time.perf_counter() - t))
        t = time.perf_counter()
        score = synflow_score(model, arch.input_shape)
        out["synflow (init)"].append((score, time.perf_counter() - t))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", type=int, default=24)
    parser.add_argument("--max-params", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("runs/bench_proxy"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    archs = sample_architectures(args.archs, args.max_params, args.seed)
    records = run_trainings(archs, list(TRAININGS), args.workers, args.out / "records.jsonl")
    ok = [i for i in range(len(archs)) if records[(REFERENCE, i)]["status"] == "ok"]
    ref = [records[(REFERENCE, i)]["accuracy"] for i in ok]

    rows = []  # (name, scores, seconds per architecture)
    for name in TRAININGS:
        recs = [records[(name, i)] for i in ok]
        scores = [r["accuracy"] if r["status"] == "ok" else 0.0 for r in recs]
        rows.append((name, scores, statistics.mean(r["train_seconds"] for r in recs)))
    for name, values in zero_cost(archs, args.seed).items():
        rows.append((name, [values[i][0] for i in ok], statistics.mean(values[i][1] for i in ok)))
    cx = [count_complexity(archs[i]) for i in ok]
    rows.append(("MACs alone", [c.macs for c in cx], 0.0))
    rows.append(("params alone", [c.params for c in cx], 0.0))

    threads = torch.get_num_threads()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores ({threads} torch threads), "
        f"torch {torch.__version__}; {len(archs)} architectures of the default space under "
        f"{args.max_params} params (seed {args.seed}), {len(ok)} with a working reference"
    )
    print(
        f"reference: {REFERENCE}, validation accuracy {min(ref):.4f}-{max(ref):.4f} "
        f"(mean {statistics.mean(ref):.4f}); every training on the validation split, "
        f"{args.workers} workers"
    )
    print(f"{'proxy':<26} {'tau':>7} {'rho':>7} {'s/arch':>8}")
    for name, scores, seconds in rows:
        tau = stats.kendalltau(scores, ref).statistic
        rho = stats.spearmanr(scores, ref).statistic
        print(f"{name:<26} {tau:7.3f} {rho:7.3f} {seconds:8.2f}")


if __name__ == "__main__":
    main()
