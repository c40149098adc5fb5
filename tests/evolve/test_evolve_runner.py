"""``run_search``: the configured executor runs the search; how a run ended is in run.json."""

from __future__ import annotations

import pytest

import evolve.search
from evolve.config import EvolveConfig, ProxyConfig
from evolve.runner import run_search
from genesis.runfolder import RunFolder

CFG = EvolveConfig(proxy=ProxyConfig(fitness="synthetic")).with_overrides(
    search={"population": 2, "generations": 0}, final={"top_k": 0}
)


def _folder(tmp_path) -> RunFolder:
    folder = RunFolder(tmp_path / "run")
    folder.create(CFG)
    return folder


def test_a_finished_search_returns_its_outcome_and_passes_the_log(tmp_path):
    lines = []
    outcome = run_search(CFG, _folder(tmp_path), log=lines.append)
    assert outcome.trained == 2
    assert lines and all(isinstance(line, str) for line in lines)
    assert RunFolder(tmp_path / "run").state()["status"] == "finished"


@pytest.mark.parametrize(
    "exc, status, error",
    [
        (RuntimeError("worker\n  lost"), "failed", "RuntimeError: worker lost"),
        (KeyboardInterrupt(), "interrupted", "KeyboardInterrupt:"),
    ],
)
def test_a_search_that_stops_is_recorded_then_reraised(exc, status, error, tmp_path, monkeypatch):
    def stop(self):
        raise exc

    monkeypatch.setattr(evolve.search.Search, "run", stop)
    folder = _folder(tmp_path)
    with pytest.raises(type(exc)):
        run_search(CFG, folder)
    state = folder.state()
    assert state["status"] == status and state["error"] == error


def test_an_unwritable_run_json_does_not_hide_the_error(tmp_path, monkeypatch):
    def stop(self):
        raise RuntimeError("the real error")

    def broken(self, status, **extra):
        raise OSError("disk full")

    folder = _folder(tmp_path)
    monkeypatch.setattr(evolve.search.Search, "run", stop)
    monkeypatch.setattr(RunFolder, "write_state", broken)
    with pytest.raises(RuntimeError, match="the real error"):
        run_search(CFG, folder)
