"""What a measured objective changes: nsga2 over accuracy x MACs against nsga2 over accuracy x
latency (and over accuracy x latency x memory), at equal compute and seeds, on real data.

Every arm measures every candidate's latency (batch 1, on this machine, one worker) and peak
memory, whatever it optimises, so all fronts can be scored in every space. Per arm, mean +-
standard error over seeds:

- ``HV lat``: hypervolume of the front over (accuracy, latency) of everything the arm evaluated
  (reference: accuracy 0, ``--ref-latency-ms``);
- ``HV mem``: the same over (accuracy, peak memory) (reference ``--ref-memory-kb``);
- ``HV macs``: the same over (accuracy, MACs) (reference ``ref_macs``, 2e7);
- ``lat@front``: the lowest latency of a front member within 1 accuracy point of the arm's best;
- ``rho``: Spearman's rho of latency against MACs over every candidate the arm measured.

And the repeatability of latency: a network that several runs evaluated was measured once in
each; the spread of those measurements (max - min over their mean) is the noise the latency
objective carries on this machine.

Then the ratios of each arm's HV to the MACs arm's in each space, seed by seed. Each run keeps
its folder under ``--out``; a finished run found there is read, not rerun.

Run: ``python benchmarks/bench_objectives.py [--seeds 2] [--budget 24] [--subset 2000]
[--val-size 2000] [--out DIR] [--table FILE]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from scipy import stats

from evolve.fitness import hypervolume
from genesis.runfolder import objectives, pareto_front

#: Arm name -> its --objective.
ARMS = {"macs": "macs", "latency": "latency", "latency+memory": "latency,memory"}

#: Spaces every arm's evaluations are scored in: cost, reference flag default.
SPACES = (("latency", "lat"), ("memory", "mem"), ("macs", "macs"))


#: The genesis command, in this interpreter.
_GENESIS = (sys.executable, "-c", "import sys; from genesis.cli import main; sys.exit(main())")


def _run(arm: str, seed: int, args: argparse.Namespace, out: Path) -> Path:
    folder = out / f"{arm.replace('+', '-')}-s{seed}"
    state = folder / "run.json"
    if state.exists() and json.loads(state.read_text()).get("status") == "finished":
        return folder
    argv = [
        *_GENESIS, "evolve",
        "--objective", ARMS[arm], "--measure", "latency,memory",
        "--ref-latency-ms", str(args.ref_latency_ms), "--ref-memory-kb", str(args.ref_memory_kb),
        "--budget", str(args.budget), "--subset", str(args.subset),
        "--search-seconds", "none", "--final-top-k", "0", "--workers", "1",
        "--seed", str(seed), "--out", str(folder),
    ]  # fmt: skip
    if folder.exists():
        argv = [*_GENESIS, "evolve", "--resume", str(folder)]
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return folder


def _records(folder: Path) -> dict[str, dict]:
    """Each network's record at the highest rung it finished (as the search reports it)."""
    best: dict[str, dict] = {}
    for line in (folder / "evaluations.jsonl").read_text().splitlines():
        e = json.loads(line)
        r = e.get("result")
        if e.get("kind") == "train" and r and r.get("status") == "ok":
            best[e["hash"]] = r
    return best


def _score(records: dict[str, dict], args: argparse.Namespace) -> dict[str, float]:
    refs = {"latency": args.ref_latency_ms, "memory": args.ref_memory_kb, "macs": 20e6}
    row = {}
    for cost, short in SPACES:
        pts = [objectives(r, (cost,)) for r in records.values()]
        row[f"HV {short}"] = hypervolume(pareto_front(pts, key=lambda p: p), refs[cost])
    front = pareto_front([objectives(r, ("latency",)) for r in records.values()], lambda p: p)
    best = max(p[0] for p in front)
    row["lat@front"] = min(p[1] for p in front if p[0] >= best - 0.01)
    lat = [r["latency_ms"] for r in records.values()]
    macs = [r["macs"] for r in records.values()]
    row["rho"] = stats.spearmanr(macs, lat).statistic
    row["trained"] = len(records)
    return row


def _mean_se(values: list[float]) -> str:
    m = statistics.fmean(values)
    se = statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else 0.0
    return f"{m:.4f} ± {se:.4f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--budget", type=float, default=24.0)
    ap.add_argument("--subset", type=int, default=2000)
    ap.add_argument("--ref-latency-ms", type=float, default=20.0)
    ap.add_argument("--ref-memory-kb", type=float, default=2048.0)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--table", type=Path, default=None)
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench_objectives-"))
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# bench_objectives: {platform.machine()} {platform.processor() or ''}, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}, "
        f"{time.strftime('%Y-%m-%d')}",
        f"# nsga2, budget {args.budget:g} epoch-equivalents of a {args.subset}-example subset, "
        f"rungs 1,3, 1 worker, no clock; every arm measures latency (batch 1, cpu) and memory",
        f"# references: latency {args.ref_latency_ms:g} ms, memory {args.ref_memory_kb:g} KiB, "
        "MACs 2e7",
    ]
    rows: dict[str, list[dict[str, float]]] = {arm: [] for arm in ARMS}
    measured: dict[str, list[float]] = {}  # hash -> its latency in each run that measured it
    start = time.perf_counter()
    runs_seconds = 0.0  # the runs' own wall time (run.json), also when read, not rerun
    for seed in range(args.seeds):
        for arm in ARMS:
            folder = _run(arm, seed, args, out)
            runs_seconds += json.loads((folder / "run.json").read_text())["seconds"]
            records = _records(folder)
            rows[arm].append(_score(records, args))
            for h, r in records.items():
                measured.setdefault(h, []).append(r["latency_ms"])
    keys = ("HV lat", "HV mem", "HV macs", "lat@front", "rho", "trained")
    lines.append(f"{'arm':<16}" + "".join(f"{k:>20}" for k in keys))
    for arm, rs in rows.items():
        lines.append(f"{arm:<16}" + "".join(f"{_mean_se([r[k] for r in rs]):>20}" for k in keys))
    lines.append("# HV ratio to the macs arm, seed by seed (mean ± SE of the ratios)")
    for arm in ARMS:
        if arm == "macs":
            continue
        cells = []
        for _, short in SPACES:
            k = f"HV {short}"
            ratios = [a[k] / b[k] for a, b in zip(rows[arm], rows["macs"], strict=True) if b[k]]
            cells.append(f"{k} {_mean_se(ratios)}")
        lines.append(f"{arm:<16} " + "; ".join(cells))
    spread = sorted(
        (max(v) - min(v)) / statistics.fmean(v) for v in measured.values() if len(v) > 1
    )
    if spread:
        lines.append(
            f"# latency repeatability: {len(spread)} networks measured in 2+ runs; spread "
            f"(max - min) / mean: median {statistics.median(spread):.1%}, max {spread[-1]:.1%}"
        )
    lines.append(
        f"# runs took {runs_seconds:.0f} s (run.json); this invocation "
        f"{time.perf_counter() - start:.0f} s; folders in {out}"
    )
    text = "\n".join(lines)
    print(text)
    if args.table:
        args.table.write_text(text + "\n")


if __name__ == "__main__":
    main()
