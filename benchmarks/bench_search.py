"""Search strategies compared at equal compute, over several seeds, scored on held-out data.

Every arm gets the same compute budget (``search.budget``, in epoch-equivalents of the proxy's
training subset; a candidate trained to rung r costs ``rungs[r]``):

- ``nsga2`` (the default), ``regularized``, ``rl``: multi-fidelity, with the rungs of
  ``--rungs`` (asynchronous successive halving inside the search, promotion rate ``--eta``);
- ``random``: plain random sampling, every candidate trained to the top rung's epochs;
- ``random+asha``: random sampling with the same rungs as the multi-fidelity arms (the
  Hyperband-style strong baseline).

``rl`` is a single-objective strategy: as in earlier versions of this benchmark it searches
under the MAC target as a hard budget (``--target-macs``, 0 for none).

Per arm, mean +- standard error over seeds:

- ``HV``: hypervolume of the run's front (:func:`evolve.fitness.hypervolume`, the config's
  reference point), the front rebuilt from the log: each network at the highest rung it
  reached, as the search reports it (checked against ``run.json``);
- ``gap val``: the front gap to plain ``random`` in accuracy points. MAC levels, log-spaced
  (``--levels``) over the range that every front of the arms aiming at the whole front
  (:data:`FRONT_ARMS`: nsga2 and both random baselines) covers: from the largest of those
  fronts' smallest MACs to the smallest of their largest. At each level the front's best
  validation accuracy at or below it (the front as a step function; 0 where the front has no
  network that small: ``regularized`` and ``rl`` optimise accuracy alone and may not reach
  down, ``cover`` says the share of levels they reach); the arm minus ``random`` of the same
  seed, averaged over the levels;
- ``gap held``: the same, each level's member (picked by validation accuracy, as a user of the
  front would pick it) scored on its ``holdout_accuracy``: examples cut from the validation
  split that the search never reads (``--holdout``). The headline number. ``gap held/ra``: the
  same against ``random+asha``. The synthetic fitness has no held-out score: there the stand-in
  is each member's synthetic accuracy at the top rung (what full training would give it);
- ``to random HV``: compute (epoch-equivalents, the log's job costs added in order) after which
  the arm's front first reaches the hypervolume of plain ``random``'s final front of the same
  seed; the mean over the seeds that reach it, and how many do;
- compute spent, trained candidates, jobs (rung trainings) and utilization, from ``run.json``.

Then the target line: the default (nsga2) ahead of both random baselines on the held-out gap by
at least 1.0 point and by more than 2 standard errors.

Every run keeps its folder under ``--out``; a finished run found there is read, not rerun (a
run killed earlier resumes), so a killed benchmark continues where it stopped; a folder made
with another config is an error. No strategy sees the test split.

Run: ``python benchmarks/bench_search.py [--seeds 5] [--budget 12] [--rungs 1,3] [--eta 3]
[--subset 2000] [--val-size 2000] [--holdout 1000] [--workers 1] [--fitness train|synthetic]
[--out DIR] [--table FILE] [--plot FILE]``.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from evolve.config import EvolveConfig, load_config
from evolve.configfile import NONE
from evolve.evaluate import synthetic_accuracy
from evolve.executors import InlineExecutor, make_executor
from evolve.fitness import hypervolume
from evolve.search import Search
from genesis import GenesisError
from genesis.runfolder import RunFolder, objectives, pareto_front
from visualize import read_run
from visualize.runs import RunData

#: Arm name -> (strategy, whether it trains on the multi-fidelity rungs).
ARMS: dict[str, tuple[str, bool]] = {
    "nsga2": ("nsga2", True),
    "regularized": ("regularized", True),
    "rl": ("rl", True),
    "random": ("random", False),
    "random+asha": ("random", True),
}

#: Arms that aim at the whole front: the range of MACs the front gap covers is theirs.
FRONT_ARMS = ("nsga2", "random", "random+asha")

#: Strategies that search under the MAC target (given to them as a hard budget).
TARGETED = ("rl",)

#: The target: the default ahead of both random baselines by this many points (and > 2 SE).
TARGET_POINTS = 1.0

COLORS = {
    "nsga2": "#4477AA",
    "regularized": "#CCBB44",
    "rl": "#AA3377",
    "random": "#BBBBBB",
    "random+asha": "#228833",
}


# -- running ---------------------------------------------------------------------------------------
def _cap(value: float | None) -> Any:
    """A cap for the config: the number, or the config's none."""
    return NONE if value is None or value == math.inf or not value else value


def arm_config(arm: str, seed: int, args: argparse.Namespace) -> EvolveConfig:
    """The config of one arm's run with ``seed``: every arm under the same compute budget."""
    strategy, multi = ARMS[arm]
    rungs = tuple(args.rungs)
    return EvolveConfig().with_overrides(
        search={
            "strategy": strategy,
            "population": args.population,
            "budget": args.budget,
            "seed": seed,
            # the same space for every arm: the caps given (the main job's by default), no
            # wall clock (the budget is compute); rl searches under its MAC target as a cap
            "max_macs": _cap(
                min(args.max_macs or math.inf, args.target_macs or math.inf)
                if strategy in TARGETED
                else args.max_macs
            ),
            "max_params": _cap(args.max_params),
            "seconds": NONE,
        },
        proxy={
            "subset": args.subset,
            "val_size": args.val_size,
            "holdout": args.holdout,
            "fitness": args.fitness,
            "lookup": args.lookup if args.fitness == "lookup" else NONE,
            "epochs": rungs[-1],
            "rungs": rungs if multi and len(rungs) > 1 else (),
            "eta": args.eta,
        },
        final={"top_k": 0},
        execution={"workers": args.workers},
    )


def run_one(cfg: EvolveConfig, out: Path, threads: int) -> float:
    """Run one search into ``out`` (unless it finished there already); its wall seconds."""
    folder = RunFolder(out)
    if out.exists():
        saved = load_config(folder.check())
        if saved.to_dict() != cfg.to_dict():
            raise GenesisError(
                f"run folder {str(out)!r} holds a search with another config: use another --out"
            )
        if read_run(out).status == "finished":
            return 0.0
        cfg = saved  # killed earlier: resume it
    else:
        folder.create(cfg)
    # Workaround: the search saves rung states under rungs/ without creating it (reported).
    (out / "rungs").mkdir(exist_ok=True)
    t = time.perf_counter()
    if not cfg.proxy.trains or cfg.execution.workers == 1:
        torch.set_num_threads(threads)  # one process: this one trains (or scores) everything
        executor = InlineExecutor(cfg.execution.workers)
        Search(cfg, folder, executor, log=lambda _line: None).run()
    else:
        with make_executor("local", cfg.execution.workers) as executor:
            Search(cfg, folder, executor, log=lambda _line: None).run()
    return time.perf_counter() - t


# -- reading a run ---------------------------------------------------------------------------------
def rung_costs(run: RunData) -> list[float]:
    """Compute of a job to each rung, in epoch-equivalents (as :meth:`ProxyConfig.rung_cost`)."""
    proxy = run.config.get("proxy", {})
    schedule = [e or 1.0 for e in (list(proxy.get("rungs") or []) or [proxy.get("epochs")])]
    return [s - (schedule[i - 1] if i else 0.0) for i, s in enumerate(schedule)]


def front_of(records: dict[str, dict[str, Any]]) -> list[tuple[float, float, str]]:
    """(accuracy, MACs, hash) of the front of ``records`` (hash -> its latest working record),
    by increasing MACs."""
    pts = [(*objectives(r), h) for h, r in records.items()]
    return pareto_front([p for p in pts if p[0] > 0], key=lambda p: p[:2])


def replay(run: RunData) -> tuple[list[tuple[float, float]], dict[str, dict[str, Any]]]:
    """The log's trained jobs in order: (cumulative compute, front hypervolume) after each, and
    each network's record at the highest rung it reached (a failed promotion keeps the rung
    below; a candidate whose first rung failed is out)."""
    costs = rung_costs(run)
    ref = float(run.config.get("search", {}).get("ref_macs", 20e6))
    latest: dict[str, dict[str, Any]] = {}
    curve, spent = [], 0.0
    jobs = [e for e in run.evaluations if e.get("kind") == "train" and e.get("result")]
    for e in jobs:  # every rung's job (RunData.trained() keeps the first rung's only)
        rung = e.get("rung") or 0
        spent += costs[min(rung, len(costs) - 1)]
        r = e["result"]
        if r.get("status") == "ok":
            latest[e["hash"]] = {**r, "_seed": e.get("seed")}
        elif rung == 0:
            latest.pop(e["hash"], None)
        curve.append((spent, hypervolume([p[:2] for p in front_of(latest)], ref)))
    return curve, latest


def held_out(run: RunData, h: str, record: dict[str, Any]) -> float | None:
    """A front member's held-out accuracy; for the synthetic fitness, its stand-in (the
    synthetic accuracy at the top rung)."""
    value = record.get("holdout_accuracy")
    if value is not None:
        return float(value)
    if run.config.get("proxy", {}).get("fitness") == "synthetic":
        arch = run.architecture(h)
        if arch is not None and record.get("_seed") is not None:
            return synthetic_accuracy(arch, int(record["macs"]), int(record["_seed"]))
    return None


def summarize(run: RunData) -> dict[str, Any]:
    """What the tables need of one finished run."""
    curve, latest = replay(run)
    front = front_of(latest)
    hv = curve[-1][1] if curve else 0.0
    logged = run.state.get("hypervolume")
    if logged is not None and abs(float(logged) - hv) > 1e-9:
        print(
            f"warning: {run.path.name}: front rebuilt from the log has HV {hv:.6f}, run.json "
            f"{float(logged):.6f}",
            file=sys.stderr,
        )
    held = [held_out(run, h, latest[h]) for _, _, h in front]
    ref = float(run.config.get("search", {}).get("ref_macs", 20e6))
    return {
        "hv": hv,
        # the front the search chose (on validation), each member scored on held-out data
        "hv_held": None
        if None in held
        else hypervolume([(a, p[1]) for a, p in zip(held, front, strict=True)], ref),
        "curve": curve,
        "front": front,
        "held": held,
        "compute": run.state.get("compute"),
        "trained": run.state.get("trained"),
        "jobs": run.state.get("jobs"),
        "utilization": run.state.get("utilization"),
        "seconds": run.state.get("search_seconds"),
    }


# -- scoring ---------------------------------------------------------------------------------------
def mac_levels(fronts: list[list[tuple[float, float, str]]], count: int) -> list[float]:
    """``count`` MAC levels, log-spaced over the range every (non-empty) front covers."""
    fronts = [f for f in fronts if f]
    if not fronts:
        raise GenesisError("no run of nsga2, random or random+asha has a working evaluation")
    lo = max(f[0][1] for f in fronts)
    hi = min(f[-1][1] for f in fronts)
    lo = max(lo, 1.0)
    hi = max(hi, lo)
    if count == 1 or hi == lo:
        return [lo] * count
    step = (math.log(hi) - math.log(lo)) / (count - 1)
    return [math.exp(math.log(lo) + i * step) for i in range(count)]


def step_values(
    front: list[tuple[float, float, str]], values: list[float | None], levels: list[float]
) -> list[float | None]:
    """At each level, ``values`` of the front member with the best validation accuracy at or
    below it (the front is sorted by MACs, accuracy rising: the last one at or below)."""
    out = []
    for level in levels:
        below = [i for i, p in enumerate(front) if p[1] <= level * (1 + 1e-12)]
        out.append(values[below[-1]] if below else 0.0)  # no network that small: accuracy 0
    return out


def cover(front: list[tuple[float, float, str]], levels: list[float]) -> float:
    """Share of the levels at or above the front's smallest MACs."""
    if not front:
        return 0.0
    return sum(level * (1 + 1e-12) >= front[0][1] for level in levels) / len(levels)


def gap(a: list[float | None], b: list[float | None]) -> float | None:
    """Mean of ``a - b`` over the levels, in accuracy points; None when a value is missing."""
    if any(x is None for x in a) or any(x is None for x in b):
        return None
    return 100.0 * statistics.mean(x - y for x, y in zip(a, b, strict=True))


def mean_se(xs: list[float | None]) -> tuple[float, float] | None:
    """Mean and standard error of the mean; None when any value is missing."""
    if not xs or any(x is None for x in xs):
        return None
    m = statistics.mean(xs)
    se = statistics.stdev(xs) / math.sqrt(len(xs)) if len(xs) > 1 else float("nan")
    return m, se


def show(ms: tuple[float, float] | None, digits: int = 2, signed: bool = True) -> str:
    if ms is None:
        return "n/a"
    sign = "+" if signed else ""
    return f"{ms[0]:{sign}.{digits}f} +- {ms[1]:.{digits}f}"


def reach(curve: list[tuple[float, float]], target: float) -> float | None:
    """Compute after which the hypervolume first reaches ``target``; None if it never does."""
    return next((c for c, hv in curve if hv >= target - 1e-12), None)


def score(rows: dict[str, list[dict[str, Any]]], count: int) -> tuple[dict, list[float]]:
    """Per arm: the columns of the table (means and standard errors over seeds)."""
    fronts = [r["front"] for a, rs in rows.items() if a in FRONT_ARMS for r in rs]
    levels = mac_levels(fronts, count)
    val = {
        a: [step_values(r["front"], [p[0] for p in r["front"]], levels) for r in rs]
        for a, rs in rows.items()
    }
    held = {a: [step_values(r["front"], r["held"], levels) for r in rs] for a, rs in rows.items()}
    table = {}
    for arm, rs in rows.items():
        n = len(rs)
        reached = [reach(r["curve"], rows["random"][s]["hv"]) for s, r in enumerate(rs)]
        got = [x for x in reached if x is not None]
        table[arm] = {
            "hv": mean_se([r["hv"] for r in rs]),
            "gap_val": mean_se([gap(val[arm][s], val["random"][s]) for s in range(n)]),
            "gap_held": mean_se([gap(held[arm][s], held["random"][s]) for s in range(n)]),
            "gap_held_ra": mean_se([gap(held[arm][s], held["random+asha"][s]) for s in range(n)])
            if "random+asha" in rows
            else None,
            "cover": mean_se([cover(r["front"], levels) for r in rs]),
            "reach": (statistics.mean(got) if got else None, len(got), n),
            "compute": mean_se([r["compute"] for r in rs]),
            "trained": mean_se([r["trained"] for r in rs]),
            "jobs": mean_se([r["jobs"] for r in rs]),
            "utilization": mean_se([r["utilization"] for r in rs]),
        }
    return table, levels


def _mean(ms: tuple[float, float] | None, width: int, digits: int) -> str:
    return f"{'n/a':>{width}}" if ms is None else f"{ms[0]:{width}.{digits}f}"


def table_lines(table: dict, seeds: int) -> list[str]:
    head = (
        f"{'arm':>12} | {'HV':>15} | {'gap val (pt)':>14} | {'gap held (pt)':>14} | "
        f"{'gap held/ra':>14} | {'cover':>5} | {'to random HV':>16} | {'compute':>6} | "
        f"{'trained':>7} | {'jobs':>5} | util"
    )
    lines = [f"mean +- SE over {seeds} seeds; gaps in accuracy points, paired by seed", head]
    lines.append("-" * len(head))
    for arm, t in table.items():
        mean_reach, k, n = t["reach"]
        to = "not reached" if mean_reach is None else f"{mean_reach:.1f} ({k}/{n})"
        lines.append(
            f"{arm:>12} | {show(t['hv'], 4, False):>15} | {show(t['gap_val']):>14} | "
            f"{show(t['gap_held']):>14} | {show(t['gap_held_ra']):>14} | "
            f"{t['cover'][0]:5.2f} | {to:>16} | {_mean(t['compute'], 6, 1)} | "
            f"{_mean(t['trained'], 7, 1)} | {_mean(t['jobs'], 5, 1)} | "
            f"{_mean(t['utilization'], 4, 2)}"
        )
    return lines


def paired_lines(rows: dict[str, list[dict[str, Any]]], ref: str = "random+asha") -> list[str]:
    """Each arm against ``ref``, paired by seed: median [IQR] of the differences in HV (on
    validation, as the search saw it) and in held-out HV (its front scored on data it never
    read), a bootstrap 95% CI of the median difference and the Wilcoxon signed-rank p; and the
    compute after which the arm's front reaches ``ref``'s final HV, as a share of ``ref``'s
    compute (median [IQR] over the seeds that reach it, and how many do)."""
    from scipy import stats

    if ref not in rows or len(rows[ref]) < 6:
        return [f"(paired tests need {ref} and at least 6 seeds)"]

    def q(xs: list[float]) -> str:
        lo, med, hi = np.percentile(xs, [25, 50, 75])
        return f"{med:+.2f} [{lo:+.2f}, {hi:+.2f}]"

    def ci(xs: list[float]) -> str:
        if len(set(xs)) < 2:
            return f"[{xs[0]:+.2f}, {xs[0]:+.2f}]"
        res = stats.bootstrap((np.array(xs),), np.median, n_resamples=2000, random_state=0)
        return f"[{res.confidence_interval.low:+.2f}, {res.confidence_interval.high:+.2f}]"

    def p_value(xs: list[float]) -> str:
        if all(x == 0 for x in xs):
            return "   n/a"
        return f"{stats.wilcoxon(xs).pvalue:6.3f}"

    head = (
        f"{'arm':>12} | {'dHV val x100, median [IQR]':>27} | {'95% CI':>16} | {'p':>6} | "
        f"{'dHV held x100':>27} | {'95% CI':>16} | {'p':>6} | to {ref} HV (share of compute)"
    )
    lines = [
        f"paired by seed against {ref} ({len(rows[ref])} seeds): HV differences x 100, "
        "bootstrap CI of the median, Wilcoxon signed-rank p",
        head,
        "-" * len(head),
    ]
    for arm, rs in rows.items():
        if arm == ref:
            continue
        pairs = list(zip(rs, rows[ref], strict=False))
        dv = [100 * (a["hv"] - b["hv"]) for a, b in pairs]
        dh = [
            100 * (a["hv_held"] - b["hv_held"])
            for a, b in pairs
            if a["hv_held"] is not None and b["hv_held"] is not None
        ]
        shares = [
            c / b["compute"]
            for a, b in pairs
            if (c := reach(a["curve"], b["hv"])) is not None and b["compute"]
        ]
        share = "not reached"
        if shares:
            lo, med, hi = np.percentile(shares, [25, 50, 75])
            share = f"{med:.2f} [{lo:.2f}, {hi:.2f}] ({len(shares)}/{len(pairs)})"
        held = (
            f"{q(dh):>27} | {ci(dh):>16} | {p_value(dh)}"
            if dh
            else f"{'n/a':>27} | {'':>16} | {'':>6}"
        )
        lines.append(f"{arm:>12} | {q(dv):>27} | {ci(dv):>16} | {p_value(dv)} | {held} | {share}")
    return lines


def target_line(table: dict) -> str:
    """Whether nsga2 is ahead of both random baselines on the held-out gap by enough."""
    t = table.get("nsga2")
    if t is None:
        return "default (nsga2) not run: no target line"
    checks = [t["gap_held"]]
    if "random+asha" in table:
        checks.append(t["gap_held_ra"])
    ok = all(c is not None and c[0] >= TARGET_POINTS and c[0] > 2 * c[1] for c in checks)
    parts = ", ".join(
        f"vs {name} {show(c)} pt"
        for name, c in zip(("random", "random+asha"), checks, strict=False)
    )
    return (
        f"default (nsga2) ahead of both random baselines by >= {TARGET_POINTS} point and > 2 SE "
        f"(held-out front gap): {'yes' if ok else 'no'} ({parts})"
    )


def plot(rows: dict[str, list[dict[str, Any]]], table: dict, levels: list[float], out: str):
    """Fronts per arm (every seed) and the held-out gap per arm."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11.0, 3.8), gridspec_kw={"width_ratios": [2, 1]})
    ax = axes[0]
    for arm, rs in rows.items():
        for s, r in enumerate(rs):
            f = r["front"]
            ax.step(
                [p[1] for p in f],
                [p[0] for p in f],
                where="post",
                color=COLORS.get(arm),
                lw=1.2,
                alpha=0.8,
                label=arm if s == 0 else None,
            )
            ax.scatter([p[1] for p in f], [p[0] for p in f], s=8, color=COLORS.get(arm))
    ax.axvspan(levels[0], levels[-1], color="black", alpha=0.05, label="gap range")
    ax.set_xscale("log")
    ax.set_xlabel("MACs per example")
    ax.set_ylabel("validation accuracy")
    ax.set_title("fronts, every seed", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    ax = axes[1]
    arms = [a for a in table if table[a]["gap_held"] is not None]
    ax.bar(
        arms,
        [table[a]["gap_held"][0] for a in arms],
        yerr=[table[a]["gap_held"][1] for a in arms],
        color=[COLORS.get(a) for a in arms],
        capsize=3,
    )
    ax.axhline(0, color="black", lw=0.8)
    ax.set_ylabel("held-out front gap vs random (points)")
    ax.tick_params(axis="x", labelsize=7, rotation=30)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


# -- the command -----------------------------------------------------------------------------------
def parse_rungs(text: str) -> list[float]:
    try:
        rungs = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise GenesisError(f"--rungs takes increasing epochs like 1,3, got {text!r}") from None
    if (
        not rungs
        or any(not math.isfinite(r) or r <= 0 for r in rungs)
        or rungs != sorted(set(rungs))
    ):
        raise GenesisError(f"--rungs takes increasing positive epochs like 1,3, got {text!r}")
    return rungs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=float, default=12.0, help="epoch-equivalents per run")
    parser.add_argument("--rungs", default="1,3", help="rungs of the multi-fidelity arms")
    parser.add_argument("--eta", type=int, default=3, help="promotion rate of the rungs")
    parser.add_argument("--population", type=int, default=6)
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    parser.add_argument("--target-macs", type=float, default=2e6, help="rl's MAC cap; 0: none")
    parser.add_argument(
        "--max-macs", type=float, default=3e6, help="every arm's MAC cap (the main job's); 0: none"
    )
    parser.add_argument(
        "--max-params", type=int, default=100_000, help="every arm's parameter cap; 0: none"
    )
    parser.add_argument("--subset", type=int, default=2000, help="proxy training examples")
    parser.add_argument("--val-size", type=int, default=2000, help="validation examples")
    parser.add_argument("--holdout", type=int, default=1000, help="of those, held out")
    parser.add_argument("--levels", type=int, default=20, help="MAC levels of the front gap")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (one process)")
    parser.add_argument("--fitness", default="train", choices=("train", "synthetic", "lookup"))
    parser.add_argument(
        "--lookup", default=None, help="with --fitness lookup: the recorded table's folder"
    )
    parser.add_argument("--out", default=None, help="folder for the run folders (default: temp)")
    parser.add_argument("--table", default=None, help="also write the output to this file")
    parser.add_argument("--plot", default=None, help="write the plot (PNG) here")
    parser.add_argument("--note", default=None, help="a line written at the top of --table")
    args = parser.parse_args(argv)
    try:
        args.rungs = parse_rungs(args.rungs)
        if args.seeds < 2 or args.levels < 1 or args.threads < 1:
            raise GenesisError(
                f"--seeds must be >= 2 (for a standard error) and --levels, --threads >= 1, got "
                f"{args.seeds}, {args.levels}, {args.threads}"
            )
        if "random" not in args.arms:
            raise GenesisError(f"--arms must include random (the reference), got {args.arms}")
        lines = bench(args)
    except GenesisError as exc:
        print(f"bench_search: {exc}", file=sys.stderr)
        sys.exit(2)
    if args.table:
        head = [f"# {args.note}"] if args.note else []
        head.append("# python benchmarks/bench_search.py " + shlex.join(sys.argv[1:]))
        Path(args.table).write_text("\n".join(head + lines) + "\n")


def bench(args: argparse.Namespace) -> list[str]:
    """Run (or read) every arm and seed; the output lines."""
    configs = {(a, s): arm_config(a, s, args) for s in range(args.seeds) for a in args.arms}
    root = Path(args.out or tempfile.mkdtemp(prefix="genesis-bench-"))
    out: list[str] = []

    def say(line: str) -> None:
        out.append(line)
        print(line, flush=True)

    start = time.perf_counter()
    say(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, torch "
        f"{torch.__version__}, cuda {torch.cuda.is_available()}; runs in {root}"
    )
    macs_cap = f"{args.max_macs:.3g}" if args.max_macs else "none"
    say(
        f"budget {args.budget:g} epoch-equivalents per run; rungs {args.rungs} (eta {args.eta}) "
        f"for {', '.join(a for a in args.arms if ARMS[a][1])}; random: one rung of "
        f"{args.rungs[-1]:g} epochs; population {args.population}; proxy {args.subset} examples, "
        f"val {args.val_size} of which {args.holdout} held out; fitness {args.fitness}; "
        f"{args.workers} worker(s), {args.threads} torch thread(s); caps: max_macs "
        f"{macs_cap}, max_params {args.max_params or 'none'}, no wall clock; "
        f"rl under max_macs {args.target_macs:.3g}"
    )
    rows: dict[str, list[dict[str, Any]]] = {a: [] for a in args.arms}
    for seed in range(args.seeds):
        for arm in args.arms:
            path = root / f"{arm}-seed{seed}"
            wall = run_one(configs[arm, seed], path, args.threads)
            run = read_run(path)
            if run.status != "finished":
                raise GenesisError(f"run {str(path)!r} did not finish (status {run.status})")
            r = summarize(run)
            rows[arm].append(r)
            say(
                f"{arm:>12} seed {seed}: HV {r['hv']:.4f}, front {len(r['front'])}, compute "
                f"{r['compute']:g}, {r['trained']} trained, {r['jobs']} jobs, "
                f"{wall:.0f} s this call ({r['seconds'] or 0:.0f} s search)"
            )
    table, levels = score(rows, args.levels)
    say(
        f"\nfront gap over {args.levels} MAC levels, {levels[0] / 1e6:.3g}M .. "
        f"{levels[-1] / 1e6:.3g}M (the range every front of {', '.join(FRONT_ARMS)} covers)"
    )
    if levels[0] == levels[-1]:
        say(
            "note: the fronts overlap at one MAC level only: every gap is the accuracy at "
            "that level (too few networks per front for a range)"
        )
    if args.fitness == "synthetic":
        say("synthetic fitness: the held-out score is the stand-in (top-rung synthetic accuracy)")
    for line in table_lines(table, args.seeds):
        say(line)
    say("")
    for line in paired_lines(rows):
        say(line)
    say(target_line(table))
    if args.plot:
        say(f"plot: {plot(rows, table, levels, args.plot)}")
    say(f"wall time of this call: {time.perf_counter() - start:.0f} s")
    return out


if __name__ == "__main__":
    main()
