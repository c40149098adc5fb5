"""The recording of the space benchmark (benchmarks/spacebench.py): a recording killed part-way
resumes with the same command and loses nothing, nor trains anything twice."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "benchmarks" / "results" / "spacebench-cpu-2026-12-05"


@pytest.fixture
def spacebench(monkeypatch):
    """The script as a module, its training replaced by a stand-in that says which job ran."""
    spec = importlib.util.spec_from_file_location(
        "spacebench", ROOT / "benchmarks" / "spacebench.py"
    )
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "spacebench", module)  # the pool's children find it
    spec.loader.exec_module(module)

    monkeypatch.setattr(module, "run_job", fake_job)
    return module


def fake_job(job, entry):
    """The stand-in of one training: the line it records, nothing trained."""
    kind, index, seed = job
    return {"key": f"{kind}-{index:03d}-s{seed}", "kind": kind, "index": index, "seed": seed,
            "hash": entry["hash"], "rungs": [{"epochs": 1.0, "val": 0.5}], "wall": 0.0}  # fmt: skip


def _args(out: Path, limit: int | None) -> argparse.Namespace:
    return argparse.Namespace(
        out=out, archs=4, seeds2=2, finals=1, seed=0, workers=1, threads=1, limit=limit
    )


def test_a_killed_recording_resumes_and_loses_nothing(spacebench, tmp_path):
    out = tmp_path / "table"
    out.mkdir()
    plan = (TABLE / "architectures.jsonl").read_text().splitlines()[:4]
    (out / "architectures.jsonl").write_text("\n".join(plan) + "\n")  # the plan is kept
    spacebench.record(_args(out, limit=3))
    first = (out / "records.jsonl").read_text()
    assert len(first.splitlines()) == 3
    with (out / "records.jsonl").open("a") as fh:  # killed while writing the 4th line
        fh.write('{"key": "screen-001-s0", "kind": "scr')
    spacebench.record(_args(out, limit=None))
    lines = (out / "records.jsonl").read_text().splitlines()
    assert (out / "records.jsonl").read_text().startswith(first)  # nothing recorded is rewritten
    done = spacebench.read_records(out / "records.jsonl")
    want = [spacebench.key(*j) for j in spacebench.jobs(4, 2, 1)]
    assert sorted(done) == sorted(want)
    keys = [json.loads(line)["key"] for line in lines if line.endswith("}")]
    assert len(keys) == len(set(keys)) == len(want)  # each job exactly once
    spacebench.record(_args(out, limit=None))  # a finished recording trains nothing more
    assert (out / "records.jsonl").read_text().splitlines() == lines


def test_the_committed_table_is_readable_and_names_its_machine():
    meta = json.loads((TABLE / "meta.json").read_text())
    assert "cores" in meta["machine"] and meta["protocol"]["proxy"]["subset"] == 10_000
    from evolve.lookup import load_table

    load_table.cache_clear()
    table = load_table(str(TABLE))
    assert len(table.members) >= 100 and {1.0, 3.0} <= set(table.epochs())
