"""Gradient NAS (``genesis oneshot``) against random sampling and the main job, at equal compute.

Per seed:

- ``oneshot``: the default oneshot run (its config's supernet), then the final step;
- ``random`` and ``nsga2`` (the main job): a search of the same ``[proxy]`` subset under
  ``search.budget`` = the oneshot run's compute in epoch-equivalents of the subset: its search
  seconds divided by the seconds of one epoch of the derived network on the subset (measured
  here, the same way, on this machine: supernet epochs counted at their real cost), then the
  same final step for the most accurate member of the front.

Reported, mean +- standard error over seeds: test accuracy, MACs, params of each arm's final
network, and the oneshot network's MACs over its target. Then the supernet's ranking fidelity
(seed 0): Kendall's tau (``scipy.stats.kendalltau``) between the inherited-weight validation
accuracy (batch norm recalibrated) of ``--subgraphs`` random subnetworks of the trained
supernet and their stand-alone validation accuracy after ``--standalone-epochs`` epochs; and
the collapse check: the share of parameter-free ops (identity, pools without their 1x1) among
the derived nodes.

Run: ``python benchmarks/bench_oneshot.py [--seeds 3] [--subgraphs 20] [--standalone-epochs 2]
[--dataset fashion-mnist] [--out DIR] [--smoke]``. ``--smoke`` shrinks everything to the
synthetic data set (a check that the script runs, not a measurement). A full run on a 2-core CPU
takes about 3 x (10 + 2 x 10) minutes for the arms plus 20 stand-alone trainings: 2 to 3 hours.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
from scipy.stats import kendalltau

from evolve.config import EvolveConfig
from evolve.configfile import NONE
from evolve.executors import InlineExecutor
from evolve.oneshot import OneshotRunConfig, build_template
from evolve.oneshotrun import (
    STATE,
    inherited_accuracy,
    load_splits,
    run_oneshot,
    run_oneshot_final,
)
from evolve.search import Search
from genesis import load_architecture
from genesis.runfolder import RunFolder
from genesis.supernet import Supernet
from genesis.train import Budget, train_architecture

#: Ops that learn no weights where the width does not change (DARTS' collapse goes to them).
FREE_OPS = {"identity", "max_pool_3x3", "avg_pool_3x3"}


def oneshot_config(seed: int, args) -> OneshotRunConfig:
    cfg = OneshotRunConfig().with_overrides(
        oneshot={"seed": seed, "final": True}, proxy={"dataset": args.dataset}
    )
    if args.smoke:
        cfg = cfg.with_overrides(
            oneshot={"channels": 2, "nodes": 3, "stages": 1, "epochs": 2, "warmup_epochs": 0},
            proxy={"subset": 128, "val_size": 64},
            final={"epochs": 1.0, "seconds": NONE, "export_onnx": False},
        )
    return cfg


def run_arm_oneshot(cfg: OneshotRunConfig, out: Path) -> dict:
    folder = RunFolder(out)
    if not out.exists():
        folder.create(cfg)
    summary = run_oneshot(cfg, folder)
    final = run_oneshot_final(cfg, folder, summary)
    return {**summary, "test_accuracy": final[0]["test_accuracy"] if final else None}


def epoch_seconds(arch_path: Path, cfg: OneshotRunConfig) -> float:
    """Seconds of one epoch of the derived network on the subset, on this machine."""
    arch = load_architecture(arch_path)
    result = train_architecture(arch, load_splits(cfg), budget=Budget(epochs=1.0), device="cpu")
    return max(result.train_seconds, 1e-3)


def run_arm_search(
    strategy: str, seed: int, budget: float, cfg: OneshotRunConfig, out: Path, smoke: bool
):
    """A search of ``strategy`` at ``budget`` epoch-equivalents, then the same final step."""
    ecfg = EvolveConfig()
    if smoke:  # two candidates of one epoch: a check that the arm runs
        ecfg = ecfg.with_overrides(
            search={"population": 2, "generations": 0}, proxy={"epochs": 1.0, "rungs": ()}
        )
    ecfg = ecfg.with_overrides(
        search={"strategy": strategy, "budget": budget, "seed": seed, "seconds": NONE},
        proxy={"dataset": cfg.proxy.dataset, "subset": cfg.proxy.subset,
               "val_size": cfg.proxy.val_size},
        final={k: (NONE if v is None else v) for k, v in vars(cfg.final).items()} | {"top_k": 1},
    )  # fmt: skip
    folder = RunFolder(out)
    if not out.exists():
        folder.create(ecfg)
    (out / "rungs").mkdir(exist_ok=True)
    outcome = Search(ecfg, folder, InlineExecutor(1), log=lambda _line: None).run()
    final = json.loads((out / "final.json").read_text()) if (out / "final.json").exists() else []
    best = final[0] if final else {}
    del outcome
    return {"test_accuracy": best.get("test_accuracy"), "macs": best.get("macs"),
            "params": best.get("params")}  # fmt: skip


def ranking(cfg: OneshotRunConfig, out: Path, count: int, epochs: float) -> dict:
    """Kendall's tau between inherited and stand-alone accuracy of ``count`` subnetworks."""
    o = cfg.oneshot
    net = Supernet(build_template(o), o.ops, seed=o.seed)
    state = torch.load(out / STATE, map_location="cpu", weights_only=True)
    net.load_state_dict(state["model"])
    splits = load_splits(cfg)
    trained = {a: p.detach().clone() for a, p in enumerate(net.arch_parameters())}
    g = torch.Generator().manual_seed(1234)
    inherited, alone = [], []
    for _ in range(count):
        with torch.no_grad():
            for p in net.arch_parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 3)
        choice = net.choice(o.top_k)
        inherited.append(inherited_accuracy(net, choice, splits, seed=o.seed))
        arch = net.derive(o.top_k)
        result = train_architecture(arch, splits, budget=Budget(epochs=epochs), device="cpu")
        alone.append(result.accuracy or 0.0)
    with torch.no_grad():
        for a, p in enumerate(net.arch_parameters()):
            p.copy_(trained[a])
    tau = kendalltau(inherited, alone)
    ops = [d["op"] for s in net.derive(o.top_k).stages for _, d in s.graph.nodes(data=True) if d]
    return {
        "tau": float(tau.statistic),
        "p": float(tau.pvalue),
        "n": count,
        "free_share": sum(op in FREE_OPS for op in ops) / max(1, len(ops)),
        "ops": ops,
    }


def mean_se(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    se = statistics.stdev(xs) / math.sqrt(len(xs)) if len(xs) > 1 else float("nan")
    return f"{statistics.mean(xs):.4g} +- {se:.2g} (n={len(xs)})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--subgraphs", type=int, default=20)
    parser.add_argument("--standalone-epochs", type=float, default=2.0)
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--arms", nargs="+", default=["oneshot", "random", "nsga2"])
    parser.add_argument("--out", default="runs/bench-oneshot")
    parser.add_argument("--smoke", action="store_true", help="tiny synthetic check, no figures")
    args = parser.parse_args(argv)
    if args.smoke:
        args.dataset, args.subgraphs, args.standalone_epochs = "synthetic", 4, 1.0
    torch.set_num_threads(2)
    root = Path(args.out)
    rows: dict[str, list[dict]] = {arm: [] for arm in args.arms}
    started = time.perf_counter()
    for seed in range(args.seeds):
        cfg = oneshot_config(seed, args)
        one = run_arm_oneshot(cfg, root / f"oneshot-s{seed}")
        rows.setdefault("oneshot", []).append(one)
        budget = one["search_seconds"] / epoch_seconds(root / f"oneshot-s{seed}" /
                                                       one["architecture"], cfg)  # fmt: skip
        budget = min(budget, 1.0) if args.smoke else budget
        one["budget"] = budget
        for arm in ("random", "nsga2"):
            if arm in args.arms:
                out = root / f"{arm}-s{seed}"
                rows[arm].append(run_arm_search(arm, seed, max(budget, 1.0), cfg, out, args.smoke))
    fidelity = ranking(oneshot_config(0, args), root / "oneshot-s0", args.subgraphs,
                       args.standalone_epochs)  # fmt: skip
    print(f"# bench_oneshot on {platform.node()} ({platform.processor() or 'cpu'}), "
          f"torch {torch.__version__}, {args.dataset}, {args.seeds} seeds"
          + (" [smoke: not a measurement]" if args.smoke else ""))  # fmt: skip
    print("budget (epoch-equivalents):", mean_se([r.get("budget") for r in rows["oneshot"]]))
    for arm, rs in rows.items():
        print(f"{arm:8s} test accuracy {mean_se([r.get('test_accuracy') for r in rs])}; "
              f"MACs {mean_se([r.get('macs') for r in rs])}; "
              f"params {mean_se([r.get('params') for r in rs])}")  # fmt: skip
    print("oneshot MACs / target:", mean_se([r.get("macs_ratio") for r in rows["oneshot"]]))
    print(f"ranking fidelity: Kendall tau {fidelity['tau']:.3f} (p = {fidelity['p']:.3g}, "
          f"n = {fidelity['n']} subnetworks); parameter-free ops among the derived nodes: "
          f"{fidelity['free_share']:.0%} ({', '.join(fidelity['ops'])})")  # fmt: skip
    print(f"wall: {time.perf_counter() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
