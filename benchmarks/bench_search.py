"""Search quality and overhead, measured side by side in one run.

- Quality: at an equal budget of trained evaluations on the Fashion-MNIST proxy, hypervolume
  (validation accuracy x MACs, fixed reference point) of ``nsga2`` against ``random``, over
  several seeds; prints each run, the means and their ratio (target >= 1.05).
- Overhead: share of each run's wall time spent outside evaluations (selection, variation,
  hashing, logging, checkpointing), from the run's own accounting (target < 2%).

Run: ``python benchmarks/bench_search.py [--seeds 3] [--budget 24] [--strategies nsga2 random]
[--out DIR]``. Every run keeps its folder under ``--out`` for ``genesis report``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from evolve.config import EvolveConfig
from evolve.executors import make_executor
from evolve.runfolder import RunFolder
from evolve.search import Search


def run_one(cfg: EvolveConfig, out: Path) -> dict:
    folder = RunFolder(out)
    folder.create(cfg)
    t = time.perf_counter()
    with make_executor("local", cfg.execution.workers) as executor:
        outcome = Search(cfg, folder, executor, log=lambda _line: None).run()
    wall = time.perf_counter() - t
    state = json.loads((out / "run.json").read_text())
    return {
        "hypervolume": outcome.hypervolume,
        "best": max((i.result.get("accuracy") or 0.0) for i in outcome.archive),
        "front": len(outcome.front),
        "trained": outcome.trained,
        "wall": wall,
        "overhead": state["overhead"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=int, default=24, help="trained evaluations per run")
    parser.add_argument("--population", type=int, default=6)
    parser.add_argument("--strategies", nargs="+", default=["nsga2", "random"])
    parser.add_argument("--subset", type=int, default=3000, help="proxy training examples")
    parser.add_argument("--epochs", type=float, default=1.0, help="proxy epochs")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--fitness", default="train", choices=("train", "synthetic"))
    parser.add_argument("--out", default=None, help="folder for the run folders (default: temp)")
    args = parser.parse_args()
    root = Path(args.out or tempfile.mkdtemp(prefix="genesis-bench-"))
    print(
        f"machine: {platform.node()} {platform.machine()}, {torch.get_num_threads()} threads, "
        f"torch {torch.__version__}, cuda {torch.cuda.is_available()}; runs in {root}"
    )
    results: dict[str, list[dict]] = {s: [] for s in args.strategies}
    for seed in range(args.seeds):
        for strategy in args.strategies:
            cfg = EvolveConfig().with_overrides(
                search={
                    "strategy": strategy,
                    "population": args.population,
                    "budget_evals": args.budget,
                    "seed": seed,
                },
                proxy={"subset": args.subset, "epochs": args.epochs, "fitness": args.fitness},
                final={"top_k": 0},
                execution={"workers": args.workers},
            )
            r = run_one(cfg, root / f"{strategy}-seed{seed}")
            results[strategy].append(r)
            print(
                f"{strategy:>12} seed {seed}: HV {r['hypervolume']:.4f}, best val acc "
                f"{r['best']:.4f}, front {r['front']}, {r['trained']} trained, "
                f"{r['wall']:.0f} s, overhead {100 * r['overhead']:.2f}%",
                flush=True,
            )
    means = {s: statistics.mean(r["hypervolume"] for r in rs) for s, rs in results.items()}
    for s, m in means.items():
        over = statistics.mean(r["overhead"] for r in results[s])
        print(
            f"{s:>12}: mean HV {m:.4f} over {len(results[s])} seeds, mean overhead "
            f"{100 * over:.2f}%"
        )
    if "nsga2" in means and "random" in means and means["random"] > 0:
        print(f"HV ratio nsga2 / random: {means['nsga2'] / means['random']:.3f} (target >= 1.05)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
