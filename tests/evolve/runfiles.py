"""Helpers the evolve tests share: run a search in-process and read what a run folder holds.

A plain module (not collected as tests): the test files import it by name, pytest putting
this folder on ``sys.path``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from evolve.config import EvolveConfig
from evolve.executors import Executor
from evolve.search import Search
from genesis.runfolder import RunFolder


def run_search(cfg: EvolveConfig, path: Path, executor: Executor, create: bool = True):
    """Run (``create``) or resume the search in ``path``: its outcome and its log lines."""
    folder = RunFolder(path)
    if create:
        folder.create(cfg)
    lines: list[str] = []
    return Search(cfg, folder, executor, log=lines.append).run(), lines


def read_log(folder: Path) -> list[dict]:
    """Entries of evaluations.jsonl, tolerating an unfinished last line (a kill mid-append)."""
    entries = []
    for line in (folder / "evaluations.jsonl").read_text().splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            entries.append(json.loads(line))
    return entries


def trained(folder: Path) -> int:
    """How many trained evaluations the folder's log holds so far."""
    if not (folder / "evaluations.jsonl").exists():
        return 0
    return sum(e["kind"] == "train" for e in read_log(folder))


def logbook(folder: Path) -> list[list[str]]:
    """The logbook's rows without the wall-clock column (the last), which no rerun repeats."""
    rows = [line.split(",") for line in (folder / "logbook.csv").read_text().splitlines()]
    assert rows[0][-1] == "seconds"
    return [row[:-1] for row in rows]


def log_multiset(folder: Path, exact: bool = True) -> Counter:
    """The log as a multiset (order within a generation depends on which worker ends first);
    ``exact`` compares seeds and whole records, otherwise slot, hash, kind and accuracy."""

    def key(e: dict) -> tuple:
        if exact:
            return (
                e["generation"],
                e["index"],
                e["hash"],
                e["seed"],
                e["kind"],
                json.dumps(e["result"]),
            )
        return (
            e["generation"],
            e["index"],
            e["hash"],
            e["kind"],
            (e["result"] or {}).get("accuracy"),
        )

    return Counter(key(e) for e in read_log(folder))


def assert_same_run(a: Path, b: Path, exact: bool = True) -> None:
    """Two run folders that hold the same search: front, final step, logbook and log."""
    for name in ("pareto.json", "final.json"):
        assert (a / name).read_text() == (b / name).read_text(), name
    assert logbook(a) == logbook(b)
    assert log_multiset(a, exact) == log_multiset(b, exact)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of the folder, by relative path: to show a failed start changed nothing."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def kill_when(
    proc: subprocess.Popen, ready, what: str, timeout: float = 120.0, sig: int = signal.SIGKILL
) -> None:
    """Send ``sig`` (SIGKILL) to the process group of ``proc`` (the CLI and its workers) once
    ``ready()``, and wait for it to end."""
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            if proc.poll() is not None:
                pytest.fail(f"the run ended (exit {proc.returncode}) before {what}")
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}")
            time.sleep(0.01)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
        proc.wait(timeout=30)
