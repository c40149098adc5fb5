"""A run folder interrupted by an earlier genesis resumes with this one and ends as an
uninterrupted run does.

``fixtures/interrupted-asha-2026-12-05`` was made by genesis before the search was split into
its parts (state, rungs, records): a synthetic search with rungs 1 and 3 under a compute
budget, stopped after 14 finished jobs, its checkpoint holding the archive and the rung
tracks in their old forms. Resuming it must lose nothing and find exactly what the same
search finds uninterrupted today.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from genesis.cli import main

FIXTURE = Path(__file__).with_name("fixtures") / "interrupted-asha-2026-12-05"


def _entry(line: str) -> dict:
    """A log entry without its time; a record written before ``preprocess`` existed reads as
    one whose ``preprocess`` is None (what a search's log records hold)."""
    entry = {k: v for k, v in json.loads(line).items() if k != "time"}
    if isinstance(entry.get("result"), dict):
        entry["result"] = {"preprocess": None, **entry["result"]}
    return entry


def _front(run: Path) -> list:
    return json.loads((run / "pareto.json").read_text())


def test_an_interrupted_run_of_the_old_form_resumes_to_the_same_end(tmp_path):
    old = tmp_path / "old"
    shutil.copytree(FIXTURE, old)
    before = [line for line in (old / "evaluations.jsonl").read_text().splitlines()]
    assert main(["evolve", "--resume", str(old)]) == 0
    after = (old / "evaluations.jsonl").read_text().splitlines()
    assert after[: len(before)] == before  # nothing logged again, nothing lost

    fresh = tmp_path / "fresh"
    shutil.copy(FIXTURE / "config.toml", tmp_path / "config.toml")
    assert main(["evolve", "--config", str(tmp_path / "config.toml"), "--out", str(fresh)]) == 0
    assert _front(old) == _front(fresh)
    strip = [_entry(x) for x in after]
    want = [_entry(x) for x in (fresh / "evaluations.jsonl").read_text().splitlines()]
    assert strip == want
