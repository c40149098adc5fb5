"""Start-up time of ``genesis info``: this checkout against another one, side by side.

Runs ``python -m genesis info FILE`` on the default preset's architecture, alternating between
this checkout and ``--baseline DIR`` (another checkout of genesis, e.g. ``git worktree add
/tmp/old <commit>``), and prints the median wall time of each, their ratio, and which of
torch, deap and ray each run imported. Both use this interpreter; ``PYTHONPATH`` picks the
checkout.

    python benchmarks/bench_startup.py --baseline /tmp/old --runs 9
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
PROBE = (
    "import sys, runpy; sys.argv = ['genesis', 'info', {file!r}]\n"
    "try:\n    runpy.run_module('genesis', run_name='__main__')\n"
    "except SystemExit:\n    pass\n"
    "print('IMPORTED', *[m for m in ('torch', 'deap', 'ray') if m in sys.modules])"
)


def _once(checkout: Path, file: str) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(file=file)],
        env=env,
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    seconds = time.perf_counter() - t
    imported = next(line for line in out.splitlines() if line.startswith("IMPORTED"))
    return seconds, imported.removeprefix("IMPORTED").strip() or "none of them"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="another genesis checkout")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        file = str(Path(tmp) / "arch.json")
        subprocess.run(
            [sys.executable, "-m", "genesis", "generate", "er", "--seed", "0", "-o", file],
            env={**os.environ, "PYTHONPATH": str(HERE)},
            check=True,
            capture_output=True,
        )
        times: dict[str, list[float]] = {"this": [], "baseline": []}
        imports = {}
        for _ in range(args.runs):  # interleaved, so load on the machine hits both alike
            for name, checkout in (("this", HERE), ("baseline", args.baseline.resolve())):
                seconds, imported = _once(checkout, file)
                times[name].append(seconds)
                imports[name] = imported
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"machine: {machine}")
    for name in ("baseline", "this"):
        t = times[name]
        print(
            f"{name:>8}: median {statistics.median(t):.3f} s (min {min(t):.3f}, max {max(t):.3f}) "
            f"over {len(t)} runs; imported: {imports[name]}"
        )
    ratio = statistics.median(times["this"]) / statistics.median(times["baseline"])
    print(f"ratio this / baseline: {ratio:.3f} (target <= 0.5)")


if __name__ == "__main__":
    main()
