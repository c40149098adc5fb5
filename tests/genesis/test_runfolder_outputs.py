"""No output replaces what a run folder keeps (its log, config, checkpoints, architectures)."""

from __future__ import annotations

import pytest

from genesis import GenesisError
from genesis.runfolder import RunFolder, refuse_run_file


@pytest.fixture
def run(tmp_path):
    folder = RunFolder(tmp_path / "run")
    folder.create("[search]\n")
    return folder.path


@pytest.mark.parametrize(
    "name",
    ["evaluations.jsonl", "config.toml", "run.json", "checkpoint.pkl", "architectures/a.json",
     "final/a.pt", "final/a.onnx", "logbook.csv", "pareto.json", "run.lock"],
)  # fmt: skip
def test_a_run_file_is_refused(run, name):
    with pytest.raises(GenesisError, match="is a file of the run folder"):
        refuse_run_file(run / name)


@pytest.mark.parametrize("name", ["report.html", "plots/front.png", "notes.txt"])
def test_other_files_in_a_run_folder_and_files_elsewhere_are_fine(run, tmp_path, name):
    refuse_run_file(run / name)
    refuse_run_file(tmp_path / "evaluations.jsonl")  # not inside a run folder


def test_a_relative_path_through_dots_is_resolved(run, monkeypatch):
    monkeypatch.chdir(run / "architectures")
    with pytest.raises(GenesisError, match="is a file of the run folder"):
        refuse_run_file("../evaluations.jsonl")
