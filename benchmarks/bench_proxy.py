"""Proxy fidelity: how well each cheap score ranks architectures as a long training does.

A fixed, seeded sample of architectures from the default search space, under a parameter cap,
is trained once with the longest training this machine affords: the reference. By default
(and in ``benchmarks/results/bench_proxy-cpu-2026-12-02*``) it is 10k examples of
Fashion-MNIST x 5 epochs from scratch, seed ``1000 + i`` for architecture ``i``, scored on a
5,000-example validation split (split seed 0); the test split is never read. Every candidate
proxy scores the same architectures:

- today's default proxy (``ProxyConfig()``: 4,000 examples x 2 epochs, 2,000 validation);
- independent trainings of other fidelities, from scratch, among them the rungs of a
  successive-halving schedule (eta = 3: 1/3, 1 and 3 epochs of a 10k subset);
- continued rungs: what the search's successive halving (ASHA, ``[proxy] rungs``) sees. Each
  architecture trains rung 0 of a schedule (``SCHEDULES``), saves its training state, then
  continues from it (weights, momentum, generator; a warm restart of the LR schedule) for the
  epochs up to the next rung, as a promoted candidate does; its row's s/arch is that segment's
  seconds alone. Here every architecture goes on, so each rung is scored on all of them;
- zero-cost scores at initialization, on one training batch: NASWOT and synflow
  (:mod:`genesis.zero_cost`);
- the free baselines: MACs alone and params alone.

For each proxy it prints Kendall's tau and Spearman's rho against the reference
(``scipy.stats``), each with a 95% bootstrap confidence interval over architectures (the
architectures resampled with replacement, paired, ``--resamples`` times, seeded; percentile
interval), the same for its tau minus MACs alone's tau on the same resamples, and the seconds
it spent per architecture. Every training runs through the search's
own evaluation task (:func:`evolve.evaluate.make_task`, :func:`evolve.evaluate.evaluate_task`)
on the validation split. Records go to ``--records`` as they finish, so a killed benchmark
continues where it stopped; continued rungs keep their states under ``--out``.

Run: ``python benchmarks/bench_proxy.py [--archs 24] [--max-params 100000] [--workers 2]
[--threads N] [--schedules 1,3 1/3,1,3] [--records FILE] [--out DIR]``. Independent trainings
run on ``--workers`` processes (threads: the cores over the workers); continued rungs run in
this process, one at a time, on ``--threads`` torch threads.
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
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
from scipy import stats

from evolve.config import ProxyConfig
from evolve.evaluate import evaluate_task, make_task
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
MACS = "MACs alone"
#: subset and validation size of the continued-rung schedules (those of the rung rows above).
CONTINUED = (10_000, 2000)


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


def read_records(log: Path) -> dict:
    """(proxy, index) -> record of every line of ``log``."""
    done = {}
    if log.exists():
        for line in log.read_text().splitlines():
            if line.strip():
                e = json.loads(line)
                done[(e["proxy"], e["index"])] = e["record"]
    return done


def append_record(log: Path, done: dict, key: tuple[str, int], record: dict) -> None:
    done[key] = record
    with open(log, "a") as f:
        f.write(json.dumps({"proxy": key[0], "index": key[1], "record": record}) + "\n")
    print(f"  {key[0]} #{key[1]}: {record['status']} {record.get('accuracy')} "
          f"({record.get('segment_seconds', record.get('train_seconds'))} s)",
          file=sys.stderr)  # fmt: skip


def run_trainings(archs, names, workers: int, log: Path, done: dict) -> None:
    """Train into ``done`` every (proxy, index) of ``names`` that it does not hold yet."""
    todo = [
        ((name, i), make_task(a, 1000 + i, proxy_config(name)))
        for name in names
        for i, a in enumerate(archs)
        if (name, i) not in done
    ]
    if todo:
        print(f"training {len(todo)} proxy evaluations with {workers} workers", file=sys.stderr)
        with make_executor("local", workers) as ex:
            ex.run(todo, lambda key, record: append_record(log, done, key, record))


def parse_schedule(text: str) -> tuple[Fraction, ...]:
    """``"1/3,1,3"`` -> cumulative epochs of each rung, increasing."""
    try:
        rungs = tuple(Fraction(p) for p in text.split(","))
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(
            f"a schedule is comma-separated epochs such as 1/3,1,3; got {text!r}"
        ) from None
    if not rungs or rungs[0] <= 0 or list(rungs) != sorted(set(rungs)):
        raise argparse.ArgumentTypeError(
            f"a schedule's epochs must be positive and increase; got {text!r}"
        )
    return rungs


def rung_names(schedule: tuple[Fraction, ...]) -> list[str]:
    """The row name of each rung of a continued ``schedule``."""
    label = "[" + ", ".join(str(r) for r in schedule) + "]"
    names = [f"ASHA {label} rung 0: {schedule[0]} ep"]
    for k in range(1, len(schedule)):
        names.append(f"ASHA {label} rung {k}: {schedule[k - 1]}->{schedule[k]} ep (cont.)")
    return names


def run_continued(archs, schedule, log: Path, done: dict, states: Path) -> list[str]:
    """Train every architecture through ``schedule``, each rung continuing the last one's state.

    Rung by rung, as successive halving does (all of rung 0, then the continuations); records
    get ``segment_seconds``, the wall seconds of that rung's segment alone. Returns the rows'
    names.
    """
    names = rung_names(schedule)
    subset, val = CONTINUED
    tag = "-".join(str(r).replace("/", "_") for r in schedule)
    for k, name in enumerate(names):
        segment = float(schedule[k] - (schedule[k - 1] if k else 0))
        cfg = replace(
            ProxyConfig(), subset=subset, epochs=segment, val_size=val, time_limit=None,
            device="cpu",
        )  # fmt: skip
        for i, arch in enumerate(archs):
            if (name, i) in done:
                continue
            task = make_task(arch, 1000 + i, cfg, epochs=segment)
            task["state_path"] = str(states / f"{tag}-rung{k}-{i}.pt")
            if k:
                before = states / f"{tag}-rung{k - 1}-{i}.pt"
                if done[(names[k - 1], i)]["status"] != "ok" or not before.exists():
                    record = {"status": "skipped", "accuracy": None, "segment_seconds": 0.0,
                              "error": f"no state after {names[k - 1]}"}  # fmt: skip
                    append_record(log, done, (name, i), record)
                    continue
                task["resume_path"] = str(before)
            t = time.perf_counter()
            record = evaluate_task(task)
            record["segment_seconds"] = round(time.perf_counter() - t, 3)
            record["threads"] = torch.get_num_threads()
            append_record(log, done, (name, i), record)
    return names


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


def bootstrap(scores, ref, resamples: int, seed: int) -> dict[str, tuple[float, np.ndarray]]:
    """Kendall's tau and Spearman's rho of ``scores`` against ``ref``, and their bootstrap.

    The pairs (score, reference) of the architectures are resampled with replacement
    ``resamples`` times, from one seeded generator: the same draws for every proxy, so two
    proxies' resampled statistics can be subtracted draw by draw. Returns stat -> (value, the
    resampled values); a resample with a constant side has no rank statistic (NaN).
    """
    s, r = np.asarray(scores, dtype=float), np.asarray(ref, dtype=float)
    draws = np.random.default_rng(seed).integers(0, len(s), size=(resamples, len(s)))
    out = {}
    for stat, fn in (("tau", stats.kendalltau), ("rho", stats.spearmanr)):
        boot = np.array([fn(s[d], r[d]).statistic for d in draws], dtype=float)
        out[stat] = (float(fn(s, r).statistic), boot)
    return out


def interval(boot: np.ndarray) -> tuple[float, float]:
    """The 95% percentile interval of resampled values (NaNs left out)."""
    lo, hi = np.nanpercentile(boot, [2.5, 97.5])
    return float(lo), float(hi)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", type=int, default=24)
    parser.add_argument("--max-params", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch threads, this process")
    parser.add_argument(
        "--schedules", nargs="*", type=parse_schedule, default=[(1, 3), (Fraction(1, 3), 1, 3)]
    )
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=Path("runs/bench_proxy"))
    parser.add_argument("--records", type=Path, default=None, help="default: OUT/records.jsonl")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    schedules = [tuple(Fraction(r) for r in s) for s in args.schedules]
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.records or args.out / "records.jsonl"
    archs = sample_architectures(args.archs, args.max_params, args.seed)
    records = read_records(log)
    run_trainings(archs, list(TRAININGS), args.workers, log, records)
    continued = [run_continued(archs, s, log, records, args.out) for s in schedules]
    ok = [i for i in range(len(archs)) if records[(REFERENCE, i)]["status"] == "ok"]
    ref = [records[(REFERENCE, i)]["accuracy"] for i in ok]

    rows = []  # (name, scores, seconds per architecture)
    for name in TRAININGS:
        recs = [records[(name, i)] for i in ok]
        scores = [r["accuracy"] if r["status"] == "ok" else 0.0 for r in recs]
        rows.append((name, scores, statistics.mean(r["train_seconds"] for r in recs)))
    for names in continued:
        for name in names:
            recs = [records[(name, i)] for i in ok]
            scores = [r["accuracy"] if r["status"] == "ok" else 0.0 for r in recs]
            rows.append((name, scores, statistics.mean(r["segment_seconds"] for r in recs)))
    for name, values in zero_cost(archs, args.seed).items():
        rows.append((name, [values[i][0] for i in ok], statistics.mean(values[i][1] for i in ok)))
    cx = [count_complexity(archs[i]) for i in ok]
    rows.append((MACS, [c.macs for c in cx], 0.0))
    rows.append(("params alone", [c.params for c in cx], 0.0))

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores ({torch.get_num_threads()} torch "
        f"threads in this process), torch {torch.__version__}; {len(archs)} architectures of the "
        f"default space under {args.max_params} params (seed {args.seed}), {len(ok)} with a "
        f"working reference"
    )
    print(
        f"reference: {REFERENCE}, validation accuracy {min(ref):.4f}-{max(ref):.4f} "
        f"(mean {statistics.mean(ref):.4f}); every training on the validation split; "
        f"95% CIs: {args.resamples} paired bootstrap resamples of the architectures (seed "
        f"{args.seed})"
    )
    print(
        f"{'proxy':<42} {'tau [95% CI]':>23} {'rho [95% CI]':>23} {'tau - MACs [95% CI]':>23} "
        f"{'s/arch':>8}"
    )
    results = [
        (name, bootstrap(scores, ref, args.resamples, args.seed)) for name, scores, _ in rows
    ]
    macs = dict(results)[MACS]["tau"]
    good = []
    for (name, b), (_, _, seconds) in zip(results, rows, strict=True):
        cells = []
        for value, boot in (b["tau"], b["rho"], (b["tau"][0] - macs[0], b["tau"][1] - macs[1])):
            lo, hi = interval(boot)
            cells.append(f"{value:6.3f} [{lo:6.3f}, {hi:6.3f}]")
        print(f"{name:<42} {cells[0]:>23} {cells[1]:>23} {cells[2]:>23} {seconds:8.2f}")
        if name != REFERENCE and b["tau"][0] >= 0.6 and interval(b["tau"][1])[0] > macs[0]:
            good.append(name)
    print(
        f"tau >= 0.6 and the tau CI's lower bound above MACs alone's tau ({macs[0]:.3f}): "
        + (", ".join(good) if good else "none")
    )
    print(
        "tau - MACs: the proxy's tau minus MACs alone's, on the same resampled architectures "
        "(a CI above 0: it ranks better than MACs)"
    )
    print(
        "continued rows: s/arch is the segment alone; a rung's cost is the sum of the segments "
        "up to it"
    )


if __name__ == "__main__":
    main()
