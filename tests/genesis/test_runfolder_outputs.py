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


@pytest.mark.parametrize(
    "argv",
    [
        ["generate", "er", "-o", "{run}/evaluations.jsonl"],
        ["export", "{arch}", "--onnx", "{run}/config.toml"],
        ["export", "{arch}", "--program", "{run}/architectures/x.pt2"],
        ["render", "{arch}", "-o", "{run}/final/x.png"],
        ["compare", "{run}", "-o", "{run}/logbook.csv"],
        ["tune", "{arch}", "--fitness", "synthetic", "-o", "{run}/pareto.json"],
    ],
)
def test_no_verb_writes_over_a_run_file(run, tmp_path, capsys, argv):
    from genesis import build_architecture, save_architecture
    from genesis.cli import main

    arch = tmp_path / "arch.json"
    save_architecture(build_architecture(seed=0), arch)
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    argv = [a.format(run=run, arch=arch) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "is a file of the run folder" in err and err.count("\n") == 1
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
