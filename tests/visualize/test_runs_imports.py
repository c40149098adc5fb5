"""Reading a run folder (what report and compare do) needs neither the search nor DEAP."""

from __future__ import annotations

import subprocess
import sys


def test_reading_a_run_imports_neither_evolve_nor_deap(make_run, tmp_path):
    run = make_run(tmp_path / "run")
    code = (
        "import sys; from visualize.runs import read_run; "
        f"r = read_run({str(run)!r}); assert r.evaluations and r.pareto, r.problems; "
        "print(sorted(m for m in ('evolve', 'deap', 'ray') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
