"""Quality: the ``fashion-mnist`` preset trained with its defaults, against the dataset's table.

Trains the default network (``genesis generate ws --seed 0``) on the full Fashion-MNIST training
set (``final``: train + val) and reports its test accuracy, parameters, MACs and wall time next
to anchors read from the benchmark table of the dataset's own README (Debian's
``/usr/share/doc/dataset-fashion-mnist/README.md.gz``). Target: >= 0.925 test accuracy with
< 100k parameters in at most 15 epochs.

Run: ``python benchmarks/bench_quality.py [--epochs N] [--seed S] [--device D]``.
"""

from __future__ import annotations

import argparse
import gzip
import platform
import re
from pathlib import Path

import torch

from genesis.data import load_dataset, make_splits
from genesis.presets import build_architecture
from genesis.train import Budget, resolve_device, train_architecture

README = Path("/usr/share/doc/dataset-fashion-mnist/README.md.gz")
#: Row of the README's table -> what it must say in the preprocessing column ("" for anything).
ANCHORS = {"2 Conv <100K parameters": "", "Google AutoML": "24 compute hours", "DENSER": ""}


def anchors() -> dict[str, str]:
    """Fashion test accuracy of the anchor rows, as the README's table gives them."""
    if not README.exists():
        return {}
    found = {}
    with gzip.open(README, "rt", encoding="utf-8") as text:
        for line in text:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            for name, detail in ANCHORS.items():
                if (
                    len(cells) > 2
                    and cells[0].startswith(name)
                    and detail in cells[1]
                    and re.match(r"0\.\d+", cells[2])
                ):
                    found.setdefault(f"{name} {detail}".strip(), cells[2])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=float, default=None, help="default: the preset's")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    device = resolve_device(args.device)
    arch = build_architecture("fashion-mnist", seed=args.seed)
    splits = make_splits(load_dataset("fashion-mnist"))
    print(
        f"machine: {platform.node()} {platform.machine()}, {torch.get_num_threads()} threads, "
        f"torch {torch.__version__}, device {device}"
        + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else "")
    )
    result = train_architecture(
        arch,
        splits,
        seed=args.seed,
        device=device,
        final=True,
        budget=Budget(epochs=args.epochs),
        progress=True,
    )
    print(
        f"genesis fashion-mnist preset (ws, seed {args.seed}): status {result.status}, "
        f"test accuracy {result.test_accuracy}, {result.params} params, {result.macs} MACs, "
        f"{result.epochs:g} epochs, {result.train_seconds:.0f} s training "
        f"({result.samples_per_second:.0f} ex/s)"
    )
    for name, acc in anchors().items():
        print(f"  anchor from the dataset README: {name:<34} {acc}")
    ok = (result.test_accuracy or 0) >= 0.925 and result.params < 100_000 and result.epochs <= 15
    verdict = "met" if ok else "NOT met"
    print(f"target (>= 0.925 test accuracy, < 100k params, <= 15 epochs): {verdict}")


if __name__ == "__main__":
    main()
