"""How well the predictor strategy's forest ranks networks of our own space, by training size.

On the recorded table of the main job's space (``benchmarks/spacebench.py``: every network
trained with the main job's rungs), the forest of :mod:`evolve.predictor` is fit on ``n``
networks drawn at random and ranks the others; Kendall's tau between its predictions and their
3-epoch validation accuracy (seed 0) is compared, on the same held-out networks, with that of
MACs alone and of parameters alone. ``--splits`` random splits per size; the table gives the
mean over splits and a bootstrap 95% interval of that mean (resampling the splits).

Only complete lines of ``records.jsonl`` are read (the recording may still be appending), and
only networks whose 3-epoch rung finished.

Run: ``python benchmarks/predictor_tau.py --table TABLE --out OUT.txt`` with TABLE the folder
``benchmarks/results/spacebench-cpu-2026-12-05`` of the main checkout.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
from pathlib import Path

import numpy as np
import sklearn
from scipy.stats import kendalltau

from evolve.predictor import Predictor
from genesis import Architecture
from genesis.complexity import count_complexity
from genesis.features import feature_matrix


def _complete_lines(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.split("\n")[:-1] if line.strip()]


def load(table: Path) -> tuple[list[Architecture], np.ndarray]:
    """The recorded networks with a finished 3-epoch rung (seed 0) and that accuracy."""
    archs = {e["index"]: e for e in _complete_lines(table / "architectures.jsonl")}
    acc = {}
    for r in _complete_lines(table / "records.jsonl"):
        if r.get("kind") == "rungs" and r.get("seed") == 0:
            top = r["rungs"][-1] if r.get("rungs") else None
            if top and top.get("status") == "ok" and top.get("epochs") == 3.0:
                acc[r["index"]] = float(top["val"])
    order = sorted(acc)
    return [Architecture.from_dict(archs[i]["arch"]) for i in order], np.array(
        [acc[i] for i in order]
    )


def _tau(a, b) -> float:
    t = kendalltau(a, b).statistic
    return 0.0 if np.isnan(t) else float(t)


def _ci(values: list[float], rng: np.random.Generator, n: int = 2000) -> tuple[float, float]:
    v = np.array(values)
    means = v[rng.integers(0, len(v), size=(n, len(v)))].mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--table", type=Path, required=True)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--sizes", default="20,50,100,150,200")
    ap.add_argument("--splits", type=int, default=20)
    ap.add_argument("--trees", type=int, default=100)
    args = ap.parse_args()

    archs, y = load(args.table)
    cxs = [count_complexity(a) for a in archs]
    X = feature_matrix(archs, [(c.macs, c.params) for c in cxs])
    macs = np.array([c.macs for c in cxs], dtype=float)
    params = np.array([c.params for c in cxs], dtype=float)
    boot = np.random.default_rng(0)
    lines = [
        "predictor_tau: Kendall tau on held-out networks of the recorded space table, target = "
        "3-epoch validation accuracy (seed 0)",
        f"table: {args.table} ({len(y)} networks with a finished 3-epoch rung, read "
        "from complete lines)",
        f"machine: 2-core Intel Xeon VM ({platform.machine()}), torch 2.13.0+cpu, scikit-learn "
        f"{sklearn.__version__}; forest: {args.trees} trees, min_samples_leaf 2",
        f"{args.splits} random splits per training size; mean tau [bootstrap 95% CI of the "
        "mean over splits]",
        "",
        f"{'train n':>7} {'held out':>8}  {'forest':>22}  {'MACs alone':>22}  {'params alone':>22}",
    ]
    for n in (int(s) for s in args.sizes.split(",")):
        if n > len(y) - 10:
            lines.append(f"{n:>7}  skipped: only {len(y)} networks recorded (10 held out at least)")
            continue
        rows = {"forest": [], "macs": [], "params": []}
        for split in range(args.splits):
            idx = list(range(len(y)))
            random.Random(split).shuffle(idx)
            tr, te = np.array(idx[:n]), np.array(idx[n:])
            mean, _ = Predictor(args.trees, split).fit(X[tr], y[tr]).predict(X[te])
            rows["forest"].append(_tau(mean, y[te]))
            rows["macs"].append(_tau(macs[te], y[te]))
            rows["params"].append(_tau(params[te], y[te]))
        cells = []
        for key in ("forest", "macs", "params"):
            lo, hi = _ci(rows[key], boot)
            cells.append(f"{np.mean(rows[key]):+.3f} [{lo:+.3f}, {hi:+.3f}]")
        lines.append(f"{n:>7} {len(y) - n:>8}  " + "  ".join(f"{c:>22}" for c in cells))
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
