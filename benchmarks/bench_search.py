"""Search quality and overhead of every strategy, measured side by side in one run.

- Quality: at an equal budget of trained evaluations on the Fashion-MNIST proxy, for each
  strategy and seed: the hypervolume (validation accuracy x MACs, fixed reference point) and the
  best validation accuracy under a MAC target. Prints each run, the means, and each strategy's
  hypervolume ratio to ``random`` (issue target: nsga2 / random >= 1.05), and the hypervolume
  of the front of all evaluations pooled: the ceiling the proxy leaves for any one run.
- Overhead: share of each run's wall time spent outside evaluations (selection, variation,
  hashing, logging, checkpointing), from the run's own accounting (target < 2%).
- The strategies aimed at a MAC target (``constrained``, ``rl``) get it as a hard budget
  (``max_macs``); ``nsga2``, ``regularized`` and ``random`` search without one.

Every run keeps its folder under ``--out``; a finished run found there is read, not rerun, so a
killed benchmark continues where it stopped. ``--plot FILE`` writes the comparison plot
(:func:`visualize.comparison_plot`, the same as ``genesis compare``). No strategy sees the test
split: every score here is validation accuracy.

Run: ``python benchmarks/bench_search.py [--seeds 3] [--budget 24] [--population 6]
[--strategies random nsga2 ...] [--workers 2] [--out DIR] [--plot FILE]``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from evolve.config import EvolveConfig, load_config
from evolve.executors import make_executor
from evolve.fitness import hypervolume
from evolve.search import Search
from evolve.strategies import strategy_names
from genesis.runfolder import RunFolder
from visualize import comparison_plot, read_run, summarize_run

#: Strategies that search under the MAC target (given to them as a hard budget).
TARGETED = ("constrained", "rl")


def run_one(cfg: EvolveConfig, out: Path) -> float:
    """Run one search into ``out`` (unless it finished there already); its wall seconds."""
    if out.exists() and read_run(out).status == "finished":
        return 0.0
    folder = RunFolder(out)
    if out.exists():  # killed earlier: resume it with its own config
        cfg = load_config(folder.check())
    else:
        folder.create(cfg)
    t = time.perf_counter()
    with make_executor("local", cfg.execution.workers) as executor:
        Search(cfg, folder, executor, log=lambda _line: None).run()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=int, default=24, help="trained evaluations per run")
    parser.add_argument("--population", type=int, default=6)
    parser.add_argument("--strategies", nargs="+", default=list(strategy_names("architectures")))
    parser.add_argument("--target-macs", type=float, default=2e6, help="MAC target")
    parser.add_argument("--subset", type=int, default=3000, help="proxy training examples")
    parser.add_argument("--epochs", type=float, default=2.0, help="proxy epochs")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--fitness", default="train", choices=("train", "synthetic"))
    parser.add_argument("--out", default=None, help="folder for the run folders (default: temp)")
    parser.add_argument("--plot", default=None, help="write the comparison plot here")
    args = parser.parse_args()
    root = Path(args.out or tempfile.mkdtemp(prefix="genesis-bench-"))
    print(
        f"machine: {platform.node()} {platform.machine()}, {torch.get_num_threads()} threads, "
        f"torch {torch.__version__}, cuda {torch.cuda.is_available()}; runs in {root}\n"
        f"budget {args.budget} trained evaluations, population {args.population}, proxy "
        f"{args.subset} examples x {args.epochs} epochs, {args.workers} workers, MAC target "
        f"{args.target_macs:.3g}",
        flush=True,
    )
    rows: dict[str, list[dict]] = {s: [] for s in args.strategies}
    runs = []  # every run folder, read once
    for seed in range(args.seeds):
        for strategy in args.strategies:
            cfg = EvolveConfig().with_overrides(
                search={
                    "strategy": strategy,
                    "population": args.population,
                    "budget_evals": args.budget,
                    "seed": seed,
                    "max_macs": args.target_macs if strategy in TARGETED else None,
                },
                proxy={"subset": args.subset, "epochs": args.epochs, "fitness": args.fitness},
                final={"top_k": 0},
                execution={"workers": args.workers},
            )
            out = root / f"{strategy}-seed{seed}"
            wall = run_one(cfg, out)
            runs.append(read_run(out))
            r = summarize_run(runs[-1], args.target_macs)
            rows[strategy].append(r)
            print(
                f"{strategy:>12} seed {seed}: HV {r['hypervolume']:.4f}, best val acc "
                f"{r['best']:.4f}, under target {r['best_under_target']:.4f}, front "
                f"{r['front']}, {r['trained']} trained, {wall:.0f} s, overhead "
                f"{100 * r['overhead']:.2f}%",
                flush=True,
            )
    means = {s: statistics.mean(r["hypervolume"] for r in rs) for s, rs in rows.items()}
    print(
        f"\n{'strategy':>12}  mean HV  HV/random  best<target  overhead  (over {args.seeds} seeds)"
    )
    for s, rs in rows.items():
        ratio = means[s] / means["random"] if means.get("random") else float("nan")
        print(
            f"{s:>12}  {means[s]:.4f}  {ratio:9.3f}  "
            f"{statistics.mean(r['best_under_target'] for r in rs):11.4f}  "
            f"{100 * statistics.mean(r['overhead'] for r in rs):7.2f}%"
        )
    if "nsga2" in means and means.get("random"):
        print(f"HV ratio nsga2 / random: {means['nsga2'] / means['random']:.3f} (target >= 1.05)")
    # The ceiling: the front of every evaluation of every run above, pooled. No run of one
    # budget can pass it by much, so it says how much room the proxy leaves above random.
    pooled = [p[:2] for run in runs for p in run.points() if p[0] > 0]
    ceiling = hypervolume(pooled, EvolveConfig().search.ref_macs)
    shares = ", ".join(f"{s} {means[s] / ceiling:.1%}" for s in rows)
    print(
        f"pooled front of all {len(pooled)} evaluations: HV {ceiling:.4f}; "
        f"each strategy's mean HV as a share of it: {shares}"
    )
    if args.plot:
        print(f"plot: {comparison_plot(runs, args.plot, args.target_macs)}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
