"""Hostile input, round 2, on the search's side: warm starts are data, a resumed run writes
only inside its folder, and ``genesis compare`` holds one folder in memory at a time.

A warm start (``--init FILE``, ``--init-run DIR``) is the way an architecture file from
someone else reaches the final step, which writes ``final/H.py`` and checks it: a name that
tries to leave its string must never run, at the check or when anyone imports the file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from genesis import architecture_hash, save_architecture
from genesis.cli import main
from genesis.presets import build_architecture

SYNTHETIC = ["--fitness", "synthetic", "--workers", "1", "--population", "4"]


def _call(argv) -> int:
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:
        return exc.code


def _payload() -> str:
    """A printable name that closes the generated file's docstring or a string if pasted
    (the marker file ``PWNED`` in the working folder)."""
    code = "__import__('os').system('touch PWNED')"
    return f'""" + {code} + """ \' + {code} + \' # {code}'


def test_a_warm_started_payload_never_runs_in_the_final_step(tmp_path, monkeypatch):
    """A real search (the canary set) whose first generation is the hostile architecture alone:
    the final step retrains it and writes final/H.py; nothing of its name ever runs."""
    mark = tmp_path / "PWNED"
    arch = build_architecture("fashion-mnist", "er", {"p": 0.5}, seed=0, nodes=3, channels=4)
    arch = arch.replace(name=_payload())
    save_architecture(arch, tmp_path / "hostile.json")
    run = tmp_path / "run"
    (tmp_path / "tiny.toml").write_text("[proxy]\nval_size = 200\n")
    argv = [
        *("evolve", "--config", tmp_path / "tiny.toml", "--dataset", "canary", "--subset", "320"),
        "--allow-class-mismatch",  # the warm start has 10 outputs, the canary 4 classes
        *("--population", "2", "--budget-evals", "1", "--rungs", "1"),
        *("--final-top-k", "1", "--final-epochs", "1", "--final-batch", "none"),
        *("--workers", "1", "--device", "cpu", "--init", tmp_path / "hostile.json"),
        *("--out", run),
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-m", "genesis", *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    h = architecture_hash(arch)
    final = json.loads((run / "final.json").read_text())
    assert [m["hash"] for m in final] == [h]
    assert final[0].get("python_error") is None, final[0]
    source = (run / "final" / f"{h}.py").read_text()
    assert not mark.exists()  # the final step's check ran the file's code: nothing of the name
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "model"}
    exec(compile(source, "model.py", "exec"), namespace)  # what importing it runs
    namespace["build_model"](str(run / "final" / f"{h}.pt"))
    assert not mark.exists()
    assert namespace["NAME"] == arch.name


def test_a_warm_start_with_a_line_breaking_name_is_refused_before_the_run(tmp_path, capsys):
    data = json.loads(build_architecture("fashion-mnist", seed=0).to_json())
    data["name"] = 'x"""\nimport os\n"""'
    (tmp_path / "bad.json").write_text(json.dumps(data))
    out = tmp_path / "o"
    assert _call(["evolve", *SYNTHETIC, "--init", tmp_path / "bad.json", "--out", out]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "printable" in err
    assert not out.exists()


@pytest.fixture
def front_run(tmp_path) -> Path:
    run = tmp_path / "first"
    assert _call(["evolve", *SYNTHETIC, "--generations", "0", "--out", run]) == 0
    return run


def _members(run: Path) -> list[str]:
    front = json.loads((run / "pareto.json").read_text())
    members = front["members"] if isinstance(front, dict) else front
    return [m["hash"] for m in members]


def test_init_run_refuses_an_architecture_filed_under_another_hash(front_run, tmp_path, capsys):
    h = _members(front_run)[0]
    other = build_architecture("fashion-mnist", "ba", {"m": 2}, seed=99, nodes=5, channels=8)
    save_architecture(other, front_run / "architectures" / f"{h}.json")
    out = tmp_path / "second"
    assert _call(["evolve", *SYNTHETIC, "--init-run", front_run, "--out", out]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds another network" in err
    assert not out.exists()


def test_init_run_reads_no_file_but_the_front_and_its_architectures(front_run, tmp_path):
    """The folder's log, config and checkpoint may be anything: a warm start never reads
    them (a FIFO there would block a read; garbage would fail one)."""
    for name in ("evaluations.jsonl", "config.toml", "run.json", "logbook.csv"):
        (front_run / name).unlink()
    os.mkfifo(front_run / "evaluations.jsonl")
    (front_run / "checkpoint.pkl").write_bytes(b"cos\nsystem\n(S'touch PWNED'\ntR.")
    out = tmp_path / "second"
    argv = ["evolve", *SYNTHETIC, "--generations", "0", "--population", "6"]
    assert _call([*argv, "--init-run", front_run, "--out", out]) == 0
    assert not (tmp_path / "PWNED").exists() and not Path("PWNED").exists()


def test_init_run_refuses_a_linked_architectures_folder(front_run, tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    (front_run / "architectures").rename(elsewhere)
    (front_run / "architectures").symlink_to(elsewhere)
    assert _call(["evolve", *SYNTHETIC, "--init-run", front_run, "--out", tmp_path / "o"]) == 2
    assert "architectures/ is a link" in capsys.readouterr().err


@pytest.mark.parametrize("sub", ["final", "rungs", "tensorboard", "architectures"])
def test_resume_refuses_a_run_folder_whose_subfolder_is_a_link(tmp_path, capsys, sub):
    run = tmp_path / "run"
    argv = ["evolve", *SYNTHETIC, "--generations", "2", "--budget-evals", "3", "--out", run]
    assert _call(argv) == 0
    outside = tmp_path / "outside"
    outside.mkdir()
    target = run / sub
    if target.exists():
        for p in target.iterdir():
            p.rename(outside / p.name)
        target.rmdir()
    target.symlink_to(outside)
    before = sorted(p.name for p in outside.iterdir())
    capsys.readouterr()
    assert _call(["evolve", "--resume", run, "--budget-evals", "6"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a link" in err
    assert sorted(p.name for p in outside.iterdir()) == before  # nothing written through it


def test_resume_refuses_a_linked_log(tmp_path, capsys):
    run = tmp_path / "run"
    assert _call(["evolve", *SYNTHETIC, "--generations", "0", "--out", run]) == 0
    outside = tmp_path / "log.jsonl"
    (run / "evaluations.jsonl").rename(outside)
    (run / "evaluations.jsonl").symlink_to(outside)
    size = outside.stat().st_size
    capsys.readouterr()
    assert _call(["evolve", "--resume", run, "--generations", "1"]) == 2
    assert "is a link" in capsys.readouterr().err
    assert outside.stat().st_size == size


def test_compare_holds_one_folder_in_memory_at_a_time(tmp_path, monkeypatch, capsys):
    """Each folder is summarized and let go before the next is read: the number of RunData
    objects alive never passes one, however many folders are compared."""
    import gc
    import weakref

    import visualize.runs as runs

    folders = []
    for seed in range(4):
        run = tmp_path / f"r{seed}"
        assert (
            _call(["evolve", *SYNTHETIC, "--generations", "0", "--seed", seed, "--out", run]) == 0
        )
        folders.append(run)
    alive: list[weakref.ref] = []
    most = [0]
    real = runs.read_run

    def counting(path):
        gc.collect()
        most[0] = max(most[0], sum(r() is not None for r in alive))
        data = real(path)
        alive.append(weakref.ref(data))
        return data

    monkeypatch.setattr(runs, "read_run", counting)
    capsys.readouterr()
    assert _call(["compare", *folders, "-o", tmp_path / "c.png"]) == 0
    assert len(alive) == 4 and most[0] == 0
    assert capsys.readouterr().out.count("\n") >= 4


def test_compare_refuses_more_folders_than_its_cap(tmp_path, monkeypatch, capsys):
    import visualize.compare as compare

    monkeypatch.setattr(compare, "MAX_COMPARE_RUNS", 2)
    assert _call(["compare", tmp_path, tmp_path, tmp_path]) == 2
    assert "MAX_COMPARE_RUNS = 2" in capsys.readouterr().err
