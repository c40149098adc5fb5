"""Failures that say so: a search or tuning run in which nothing trained exits 1 with its most
common cause, warns while most candidates fail, and warns at chance level; the data a run
needs (shape, classes, validation split) is checked before its folder exists."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from evolve.executors import root_cause
from evolve.failures import Failures
from genesis import save_architecture
from genesis.cli import main
from genesis.presets import build_architecture

SYNTHETIC = ["--fitness", "synthetic", "--workers", "1", "--population", "4"]


def _call(argv) -> int:
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:
        return exc.code


def _slow_config(tmp_path: Path) -> Path:
    """A config under which every real training times out at its first step."""
    path = tmp_path / "timeout.toml"
    path.write_text("[proxy]\nval_size = 64\ntime_limit = 1e-9\n[space]\nchannels = [4]\n")
    return path


def test_a_search_in_which_nothing_trains_exits_1_with_the_cause(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["evolve", "--config", _slow_config(tmp_path), "--dataset", "synthetic"]
    argv += ["--subset", "64", "--workers", "1", "--population", "4", "--generations", "0"]
    assert _call([*argv, "--out", out]) == 1
    captured = capsys.readouterr()
    err = [line for line in captured.err.splitlines() if line.startswith("genesis evolve")]
    assert len(err) == 1, captured.err
    assert "no candidate of the search trained (4 failed" in err[0]
    assert "4 x timeout: over the time limit" in err[0]
    assert str(out / "evaluations.jsonl") in err[0]
    # the warning came during the run, before the end
    assert "warning: 4 of 4 candidates failed so far" in captured.err
    assert "Pareto front of 0" not in captured.out  # no normal summary


def test_a_tuning_run_in_which_nothing_trains_exits_1(tmp_path, capsys):
    arch = build_architecture("fashion-mnist", "er", {"p": 0.5}, seed=0, nodes=3, channels=4)
    save_architecture(arch, tmp_path / "a.json")
    argv = ["tune", tmp_path / "a.json", "--config", _slow_config(tmp_path)]
    argv += ["--dataset", "synthetic", "--subset", "64", "--workers", "1", "--budget-evals", "2"]
    assert _call([*argv, "--out", tmp_path / "t"]) == 1
    err = capsys.readouterr().err
    assert "no candidate of the tuning run trained" in err and "timeout" in err


def test_the_failure_count_names_the_most_common_cause():
    f = Failures()
    for record in [
        {"status": "ok"},
        {"status": "error", "error": "RuntimeError: x (pid=1)"},
        {"status": "error", "error": "RuntimeError: x (pid=2)"},
        {"status": "ok"},
    ]:
        f.add(record)
    assert f.most_common() == "2 x error: RuntimeError: x (pid=)"
    assert f.warning() is None  # half failed, not more
    f.add({"status": "diverged", "error": "loss became nan"})
    assert f.warning().startswith("warning: 3 of 5 candidates failed so far")
    assert f.warning() is None  # once
    f.check("search", "log")  # one trained: no error


def test_a_wrapped_error_keeps_its_root_cause():
    class RayLike(Exception):  # Ray's RayTaskError keeps the task's exception as .cause
        def __init__(self, cause):
            super().__init__("ray::evaluate_task() failed")
            self.cause = cause

    remote = RuntimeError(
        "The remote function failed to import on the worker.\n"
        "Traceback (most recent call last):\n"
        '  File "x.py", line 1, in <module>\n'
        "ModuleNotFoundError: No module named 'genesis.cli'\n"
    )
    line = root_cause(RayLike(remote))
    assert line.startswith("ModuleNotFoundError: No module named 'genesis.cli'"), line
    assert "\n" not in line


def test_a_search_at_chance_level_warns(tmp_path, capsys):
    """Networks that learn nothing (a learning rate of 1e-6) score about 0.1 for 10 classes."""
    config = tmp_path / "still.toml"
    config.write_text(
        '[space]\nchannels = [4]\nnodes = [3, 3]\noptimizers = ["sgd"]\nlr_sgd = [1e-6, 2e-6]\n'
    )
    argv = ["evolve", "--dataset", "synthetic", "--subset", "32", "--val-size", "400"]
    argv += ["--workers", "1", "--population", "2", "--budget-evals", "2", "--rungs", "none"]
    argv += ["--proxy-epochs", "1", "--final-top-k", "0", "--config", config]
    assert _call([*argv, "--out", tmp_path / "run"]) == 0
    err = capsys.readouterr().err
    assert "warning: the best candidate scores" in err and "of chance (0.1000 for 10" in err


def _tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text("[space]\nchannels = [4]\nnodes = [3, 3]\n")
    return path


def test_the_validation_split_is_checked_before_the_run_folder(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["evolve", "--dataset", "synthetic", "--val-size", "5000", "--out", out]
    assert _call(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--val-size" in err and "512 training examples" in err
    assert not out.exists()


def test_a_class_count_mismatch_is_an_error_unless_asked_for(tmp_path, capsys):
    base = ["evolve", "--dataset", "canary", "--val-size", "200", "--subset", "200"]
    base += ["--workers", "1", "--population", "2", "--budget-evals", "2", "--rungs", "none"]
    base += ["--proxy-epochs", "0.2", "--final-top-k", "0", "--config", _tiny(tmp_path)]
    assert _call([*base, "--out", tmp_path / "a"]) == 2  # canary: 4 classes, preset: 10
    err = capsys.readouterr().err
    assert "has 4 classes, the networks 10 outputs" in err and "--classes 4" in err
    assert not (tmp_path / "a").exists()
    assert _call([*base, "--classes", "4", "--out", tmp_path / "b"]) == 0
    from genesis import load_architecture

    archs = list((tmp_path / "b" / "architectures").glob("*.json"))
    assert archs and all(load_architecture(p).num_classes == 4 for p in archs)
    assert _call([*base, "--allow-class-mismatch", "--out", tmp_path / "c"]) == 0


def test_evolve_takes_a_preset_flag(tmp_path):
    from evolve.config import load_config

    out = tmp_path / "run"
    argv = ["evolve", *SYNTHETIC, "--generations", "0", "--preset", "cifar10", "--out", out]
    assert _call(argv) == 0
    assert load_config(out / "config.toml").space.preset == "cifar10"


def test_version_and_help_wording(capsys):
    assert _call(["--version"]) == 0
    assert capsys.readouterr().out.startswith("genesis 0.")
    assert _call(["train", "--help"]) == 0
    assert "canary" not in capsys.readouterr().out  # a test set, not offered to users
    assert _call(["export", "--help"]) == 0
    assert "--python" in capsys.readouterr().out.split("positional arguments")[0]


def test_info_labels_every_column(tmp_path, capsys):
    save_architecture(build_architecture("fashion-mnist", seed=0), tmp_path / "a.json")
    assert _call(["info", tmp_path / "a.json"]) == 0
    header = next(line for line in capsys.readouterr().out.splitlines() if "stage" in line)
    assert header.split() == [
        *("stage", "width", "stride", "nodes", "edges", "in", "out", "depth"),
        *("path", "clust", "deg", "MACs", "params", "ops"),
    ]


@pytest.mark.slow
def test_ray_from_a_folder_that_holds_a_genesis_folder(tmp_path):
    """Ray puts the caller's folder first on its workers' path: standing in the folder one
    cloned genesis into, every worker used to import that folder and fail."""
    pytest.importorskip("ray")
    (tmp_path / "genesis").mkdir()
    (tmp_path / "evolve").mkdir()
    proc = subprocess.run(
        # the console script, as a user runs it (python -m would put the folder first itself)
        [str(Path(sys.executable).parent / "genesis"), "evolve", *SYNTHETIC, "--workers", "2"]
        + ["--generations", "0", "--executor", "ray", "--out", "run"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=dict(os.environ, RAY_USAGE_STATS_ENABLED="0"),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Pareto front of 0" not in proc.stdout


def _study(tmp_path: Path, *extra) -> list:
    argv = ["study", "generators", "--dataset", "synthetic", "--subset", "32", "--val-size"]
    argv += ["400", "--graph-seeds", "1", "--setting", "er:p=0.5", "--setting", "ws:k=2,p=0.5"]
    argv += ["--nodes", "4", "--match-macs", "none", "--channels", "4", "--workers", "1"]
    return [*argv, *extra]


def test_a_study_in_which_nothing_trains_exits_1(tmp_path, capsys):
    config = tmp_path / "study.toml"
    config.write_text("[proxy]\ntime_limit = 1e-9\n")
    argv = _study(tmp_path, "--config", config, "--epochs", "1", "--out", tmp_path / "s")
    assert _call(argv) == 1
    err = capsys.readouterr().err
    assert "no candidate of the study trained (2 failed" in err and "timeout" in err


def test_a_study_at_chance_level_warns_per_setting(tmp_path, capsys):
    """Under one step of training (1% of an epoch of 32 examples) a network is at chance."""
    assert _call(_study(tmp_path, "--epochs", "0.01", "--out", tmp_path / "s")) == 0
    err = capsys.readouterr().err
    assert err.count("within 0.02 of chance (0.1000 for 10 classes)") == 2, err


def test_evaluations_csv_carries_the_final_test_accuracy(tmp_path):
    import csv
    import json

    out = tmp_path / "run"
    argv = ["evolve", *SYNTHETIC, "--generations", "0", "--final-top-k", "2", "--out", out]
    assert _call(argv) == 0
    final = {f["hash"]: f["test_accuracy"] for f in json.loads((out / "final.json").read_text())}
    assert final and all(v is not None for v in final.values())
    rows = list(csv.DictReader((out / "evaluations.csv").read_text().splitlines()))
    for row in rows:
        want = final.get(row["hash"])
        assert row["final_test_accuracy"] == ("" if want is None else str(want))
    assert sum(row["final_test_accuracy"] != "" for row in rows) >= len(final)
    members = list(csv.DictReader((out / "pareto.csv").read_text().splitlines()))
    assert all(
        m["final_test_accuracy"] == str(final[m["hash"]]) for m in members if m["hash"] in final
    )
