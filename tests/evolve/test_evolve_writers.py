"""One writer per run folder, older checkpoints that replay instead of retraining, and signals.

``genesis evolve`` runs in subprocesses on the deterministic ``synthetic`` fitness, so a
resumed or replayed run must end exactly as an uninterrupted one (the same log, as a multiset:
no evaluation logged twice).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from runfiles import assert_same_run, read_log, snapshot, trained

from genesis.cli import main

CONFIG = """\
[search]
population = 3
generations = 3
seed = 4
[proxy]
fitness = "synthetic"
synthetic_seconds = {seconds}
[final]
top_k = 2
[execution]
workers = 1
"""


def _evolve(*args) -> list[str]:
    return [sys.executable, "-m", "genesis", "evolve", *map(str, args)]


def _default_sigint() -> None:
    # A suite started in the background of a script inherits SIGINT ignored, and Python then
    # installs no Ctrl-C handler; the run under test must get the terminal's default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(cwd: Path, *args, stderr=subprocess.PIPE) -> subprocess.Popen:
    return subprocess.Popen(
        _evolve(*args),
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        text=True,
        start_new_session=True,
        preexec_fn=_default_sigint,
    )


def _wait(ready, proc: subprocess.Popen, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, f"the run ended before {what}: {proc.stderr.read()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _status(run: Path) -> str:
    return json.loads((run / "run.json").read_text())["status"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The search, never interrupted (fast: no sleeping in the fitness)."""
    root = tmp_path_factory.mktemp("writers")
    (root / "fast.toml").write_text(CONFIG.format(seconds=0.0))
    assert main(["evolve", "--config", str(root / "fast.toml"), "--out", str(root / "A")]) == 0
    return root / "A"


def test_a_second_writer_is_refused_at_once_and_a_killed_one_blocks_nothing(
    reference, tmp_path, capsys
):
    (tmp_path / "slow.toml").write_text(CONFIG.format(seconds=0.3))
    run = tmp_path / "B"
    proc = _start(tmp_path, "--config", "slow.toml", "--out", "B")
    try:
        _wait(lambda: trained(run) >= 1, proc, "a first evaluation")
        before = snapshot(run)
        t = time.monotonic()
        assert main(["evolve", "--resume", str(run)]) == 2
        err = capsys.readouterr().err
        assert f"is in use by process {proc.pid}" in err and err.count("\n") == 1
        assert main(["evolve", "--config", str(tmp_path / "slow.toml"), "--out", str(run)]) == 2
        assert "already exists and is not empty" in capsys.readouterr().err
        assert time.monotonic() - t < 10, "the refusal must not wait for the lock"
        after = snapshot(run)
        # every file the run had is still there (a write in flight, a hidden .tmp file that an
        # atomic rename consumes, is the running writer's own)
        kept = {k for k in before if not Path(k).name.startswith(".")}
        assert kept <= after.keys()
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # a stale lock: its holder died without a word
        proc.wait(timeout=30)
    (tmp_path / "slow.toml").write_text(CONFIG.format(seconds=0.0))  # the config is the run's
    assert main(["evolve", "--resume", str(run)]) == 0
    assert_same_run(reference, run)


@pytest.mark.parametrize("damage", ["older checkpoint", "no checkpoint"])
def test_an_older_or_missing_checkpoint_replays_what_was_logged(reference, tmp_path, damage):
    run = tmp_path / "C"
    shutil.copytree(reference, run)
    generations = {e["generation"] for e in read_log(run)}
    if damage == "older checkpoint":
        os.replace(run / "checkpoint.prev.pkl", run / "checkpoint.pkl")
    else:
        (run / "checkpoint.pkl").unlink()
        (run / "checkpoint.prev.pkl").unlink()
    (run / "final.json").unlink()  # the final step runs again too
    assert main(["evolve", "--resume", str(run)]) == 0
    assert {e["generation"] for e in read_log(run)} == generations
    assert_same_run(reference, run)  # the same log as a multiset: nothing logged twice


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_sigterm_and_ctrl_c_mark_the_run_interrupted_without_a_traceback(tmp_path, sig, code):
    (tmp_path / "slow.toml").write_text(CONFIG.format(seconds=0.3))
    run = tmp_path / "D"
    proc = _start(tmp_path, "--config", "slow.toml", "--out", "D")
    _wait(lambda: trained(run) >= 1, proc, "a first evaluation")
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)  # Ctrl-C reaches the whole group: the CLI and its workers
    else:
        proc.send_signal(sig)  # e.g. a scheduler stopping the job
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err, err
    assert err.strip().endswith("genesis evolve: interrupted")
    assert _status(run) == "interrupted"
