"""Bytes a search writes to its checkpoint: a 200-candidate synthetic search, one worker.

The search saves its state after every finished job so that a kill loses nothing. If every
save rewrites the whole archive, a run of N candidates writes O(N^2) bytes. This script runs
the same search (the ``synthetic`` fitness, seed 0, population 20, 200 candidates, rungs 1 and
3) and counts what :meth:`genesis.runfolder.RunFolder.save_checkpoint` wrote in all, how many
saves there were, and the size of the last one, plus the append-only ``archive.jsonl`` where
the archive lives once it left the checkpoint; the log (``evaluations.jsonl``) is counted
apart for scale.

Run: ``python benchmarks/bench_checkpoint.py [--candidates 200] [--out FILE]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from genesis.cli import main
from genesis.runfolder import RunFolder


def measure(candidates: int, population: int) -> dict[str, float]:
    written = {"bytes": 0, "saves": 0, "last": 0}
    real = RunFolder.save_checkpoint

    def counting(self, state):
        real(self, state)
        size = self.checkpoint_path.stat().st_size
        written["bytes"] += size
        written["saves"] += 1
        written["last"] = size

    RunFolder.save_checkpoint = counting
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "run"
            argv = ["evolve", "--fitness", "synthetic", "--workers", "1", "--seed", "0"]
            argv += ["--population", str(population), "--budget-evals", str(candidates)]
            argv += ["--rungs", "1,3", "--search-seconds", "none"]
            argv += ["--max-macs", "none", "--max-params", "none", "--final-top-k", "0"]
            started = time.perf_counter()
            assert main([*argv, "--out", str(out)]) == 0
            written["seconds"] = time.perf_counter() - started
            written["log"] = (out / "evaluations.jsonl").stat().st_size
            archive = out / "archive.jsonl"  # append-only: its size is what was written
            written["archive"] = archive.stat().st_size if archive.exists() else 0
    finally:
        RunFolder.save_checkpoint = real
    return written


def main_() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--candidates", type=int, default=200)
    ap.add_argument("--population", type=int, default=20)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    w = measure(args.candidates, args.population)
    lines = [
        f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}",
        f"search: synthetic, {args.candidates} candidates, population {args.population}, "
        f"rungs 1,3, one worker, {w['seconds']:.1f} s",
        f"checkpoint: {w['saves']} saves, {w['bytes'] / 1e6:.2f} MB written in all, "
        f"last {w['last'] / 1e3:.1f} kB ({w['bytes'] / max(1, w['saves']) / 1e3:.1f} kB a save)",
        f"archive.jsonl (appended, where the archive lives apart): {w['archive'] / 1e3:.1f} kB",
        f"log (evaluations.jsonl): {w['log'] / 1e3:.1f} kB; (checkpoint + archive) bytes / log "
        f"bytes {(w['bytes'] + w['archive']) / max(1, w['log']):.1f}",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main_()
