"""Run folders under real kills: ``genesis evolve`` in subprocesses, SIGKILLed and resumed.

With the deterministic ``synthetic`` fitness, a run killed mid-generation (and again during the
final step) and resumed must lose no finished evaluation, retrain nothing, and end exactly as an
uninterrupted run. Damaged or refused folders must fail with one line, exit 2, and stay as
they were.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from runfiles import kill_when as _kill_when
from runfiles import log_multiset
from runfiles import logbook as _logbook
from runfiles import read_log as _read_log
from runfiles import snapshot as _snapshot
from runfiles import trained as _trained

from genesis.cli import main

CONFIG = """\
[search]
population = 6
generations = 2
max_macs = 2000000.0
max_params = "none"
seconds = "none"
seed = 10  # every kind of log line: trained, skipped, cached
[proxy]
fitness = "synthetic"
synthetic_seconds = 0.2
rungs = []
[final]
top_k = 3
[execution]
workers = 1
"""
TRAINED_PER_GEN = 6
BUDGET = 18
FINAL_K = 3


def _evolve(*args: str) -> list[str]:
    return [sys.executable, "-m", "genesis", "evolve", *map(str, args)]


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        _evolve(*args), cwd=cwd, capture_output=True, text=True, timeout=180, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def _final_entries(folder: Path) -> int:
    try:
        return len(json.loads((folder / "final.json").read_text()))
    except (FileNotFoundError, json.JSONDecodeError):
        return 0


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """Run A: the same search, never interrupted."""
    root = tmp_path_factory.mktemp("reference")
    (root / "search.toml").write_text(CONFIG)
    _run(root, "--config", "search.toml", "--out", "A")
    return root / "A"


def test_reference_run_spends_the_budget(reference):
    log = _read_log(reference)
    assert sum(e["kind"] == "train" for e in log) == BUDGET
    assert all(e["result"]["macs"] <= 2e6 for e in log if e["kind"] == "train")
    # the config exercises every kind of log line, so the comparisons below cover them
    assert {e["kind"] for e in log} >= {"train", "skipped", "cached"}
    skipped = {e["generation"] for e in log if e["kind"] == "skipped"}
    assert 0 in skipped and max(skipped) > 0, "over-budget draws both sampled and bred"
    assert json.loads((reference / "run.json").read_text())["status"] == "finished"
    assert _final_entries(reference) == FINAL_K


def test_killed_twice_and_resumed_ends_as_the_uninterrupted_run(reference, tmp_path):
    (tmp_path / "search.toml").write_text(CONFIG)
    run = tmp_path / "B"
    stderr = tmp_path / "stderr.txt"

    # 1. kill in the middle of generation 1 (its skipped candidates are already logged)
    with open(stderr, "w") as err:
        proc = subprocess.Popen(
            _evolve("--config", "search.toml", "--out", "B"),
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
        _kill_when(proc, lambda: _trained(run) >= TRAINED_PER_GEN + 2, "generation 1 half done")
    done = _trained(run)
    assert TRAINED_PER_GEN + 2 <= done < 2 * TRAINED_PER_GEN, "the kill missed generation 1"
    assert json.loads((run / "run.json").read_text())["status"] == "running"
    assert (run / "checkpoint.pkl").exists() and not (run / "final.json").exists()
    # what a kill during an append leaves: an unfinished last line
    with open(run / "evaluations.jsonl", "a") as f:
        f.write('{"generation": 1, "index": 5, "hash": "0123')

    # 2. resume, kill in the final step (one worker: the asynchronous loop is then sequential,
    # so the resumed run must end exactly as the uninterrupted one)
    with open(stderr, "w") as err:
        proc = subprocess.Popen(
            _evolve("--resume", "B", "--workers", "1"),
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
        _kill_when(proc, lambda: _final_entries(run) >= 1, "the first final record")
    assert "resuming:" in stderr.read_text()
    finals_done = _final_entries(run)
    assert 1 <= finals_done < FINAL_K, "the kill missed the final step"
    assert _trained(run) == BUDGET

    # 3. resume to the end
    proc = _run(tmp_path, "--resume", "B")
    assert f"final: retraining {FINAL_K - finals_done} Pareto member(s)" in proc.stderr
    assert json.loads((run / "run.json").read_text())["status"] == "finished"

    for name in ("pareto.json", "final.json"):
        assert (run / name).read_text() == (reference / name).read_text(), name
    assert _logbook(run) == _logbook(reference)
    assert log_multiset(run, exact=False) == log_multiset(reference, exact=False)
    slots = Counter((e["generation"], e["index"]) for e in _read_log(run) if e["kind"] == "train")
    assert max(slots.values()) == 1, "a finished evaluation was trained again"
    assert sorted(p.name for p in (run / "architectures").iterdir()) == sorted(
        p.name for p in (reference / "architectures").iterdir()
    )


def _copy(reference: Path, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(reference, run)
    return run


def _fails(argv: list[str], capsys) -> str:
    """Run the CLI in-process; it must exit 2 with one line on stderr. Returns that line."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    return err


def test_out_into_a_non_empty_folder_is_refused(reference, tmp_path, capsys):
    run = _copy(reference, tmp_path)
    before = _snapshot(run)
    err = _fails(
        ["evolve", "--fitness", "synthetic", "--population", "4", "--out", str(run)], capsys
    )
    assert "already exists and is not empty" in err and "--resume" in err
    assert _snapshot(run) == before


def test_out_into_a_folder_with_one_foreign_file_is_refused(tmp_path, capsys):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "notes.txt").write_text("mine")
    _fails(["evolve", "--fitness", "synthetic", "--out", str(tmp_path / "run")], capsys)
    assert [p.name for p in (tmp_path / "run").iterdir()] == ["notes.txt"]


@pytest.mark.parametrize(
    "flags, named",
    [
        (["--population", "4"], "search.population"),
        (["--seed", "1"], "search.seed"),
        (["--proxy-epochs", "2"], "proxy.epochs"),
        (["--final-top-k", "1"], "final.top_k"),
        (["--config", "x.toml"], "--config"),
    ],
)
def test_resume_refuses_search_flags(reference, tmp_path, capsys, flags, named):
    run = _copy(reference, tmp_path)
    before = _snapshot(run)
    err = _fails(["evolve", "--resume", str(run), *flags], capsys)
    assert named in err
    assert _snapshot(run) == before


def test_truncated_checkpoint_names_the_file_and_the_previous_one(reference, tmp_path, capsys):
    run = _copy(reference, tmp_path)
    data = (run / "checkpoint.pkl").read_bytes()
    (run / "checkpoint.pkl").write_bytes(data[: len(data) // 2])
    before = _snapshot(run)
    err = _fails(["evolve", "--resume", str(run)], capsys)
    assert str(run / "checkpoint.pkl") in err
    assert "checkpoint.prev.pkl" in err
    assert _snapshot(run) == before


def test_damaged_line_in_the_log_names_file_and_line(reference, tmp_path, capsys):
    run = _copy(reference, tmp_path)
    lines = (run / "evaluations.jsonl").read_text().splitlines(keepends=True)
    lines[2] = lines[2][: len(lines[2]) // 2] + "\n"
    (run / "evaluations.jsonl").write_text("".join(lines))
    before = _snapshot(run)
    err = _fails(["evolve", "--resume", str(run)], capsys)
    assert str(run / "evaluations.jsonl") in err and "line 3" in err
    assert _snapshot(run) == before


def test_resume_of_a_missing_folder_or_a_foreign_one(tmp_path, capsys):
    err = _fails(["evolve", "--resume", str(tmp_path / "nothing")], capsys)
    assert "does not exist" in err
    (tmp_path / "other").mkdir()
    err = _fails(["evolve", "--resume", str(tmp_path / "other")], capsys)
    assert "config.toml" in err
