"""Warm starts: ``genesis evolve --init ARCH.json`` and ``--init-run DIR`` open the first
generation; validated, deduplicated, copied into the run folder and counted like any candidate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evolve.config import load_config
from genesis import architecture_hash, save_architecture
from genesis.cli import main
from genesis.presets import build_architecture

SYNTHETIC = ["--fitness", "synthetic", "--workers", "1", "--population", "4"]


def _call(argv):
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:
        return exc.code


def _log(folder: Path) -> list[dict]:
    return [json.loads(x) for x in (folder / "evaluations.jsonl").read_text().splitlines()]


@pytest.fixture
def archs(tmp_path):
    paths = []
    for i, (family, params) in enumerate([("ws", {"k": 4, "p": 0.5}), ("er", {"p": 0.3})]):
        arch = build_architecture("fashion-mnist", family, params, seed=10 + i, nodes=6, channels=8)
        save_architecture(arch, tmp_path / f"a{i}.json")
        paths.append(tmp_path / f"a{i}.json")
    return paths


def test_init_architectures_open_the_first_generation_in_order(archs, tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["evolve", *SYNTHETIC, "--generations", "1", "--init", archs[0], "--init", archs[1]]
    assert _call([*argv, "--init", archs[0], "--out", out]) == 0, capsys.readouterr().err
    hashes = [architecture_hash(load(p)) for p in archs]
    cfg = load_config(out / "config.toml")
    assert cfg.search.init == tuple(hashes)  # the duplicate given twice is dropped
    for h in hashes:  # the run folder holds them: it resumes without the files
        assert architecture_hash(load(out / "architectures" / f"{h}.json")) == h
    log = _log(out)
    assert [e["hash"] for e in log[:2]] == hashes
    assert all(e["origin"] == "init" and e["generation"] == 0 for e in log[:2])
    assert all(e["kind"] == "train" for e in log[:2])
    assert all(e["origin"] != "init" for e in log[2:] if not e.get("rung"))  # promotions aside
    first = [e for e in log if e["kind"] == "train" and not e.get("rung")][:4]
    assert all(e["generation"] == 0 for e in first)  # the generation holds 2 init + 2 drawn


def load(path):
    from genesis import load_architecture

    return load_architecture(path)


def test_a_warm_start_counts_against_the_budget(archs, tmp_path):
    out = tmp_path / "run"
    argv = ["evolve", *SYNTHETIC, "--budget-evals", "3", "--init", archs[0], "--init", archs[1]]
    assert _call([*argv, "--out", out]) == 0
    trained = [e for e in _log(out) if e["kind"] == "train" and not e.get("rung")]
    assert len(trained) == 3 and [e["origin"] for e in trained[:2]] == ["init", "init"]


def test_an_init_over_a_cap_is_skipped_like_any_candidate(archs, tmp_path):
    # a cap that the init is over, but samples may fit: it is logged, never trained
    big = build_architecture("fashion-mnist", "ws", {"k": 4, "p": 0.5}, seed=3, channels=48)
    save_architecture(big, tmp_path / "big.json")
    argv = ["evolve", *SYNTHETIC, "--generations", "0", "--init", tmp_path / "big.json"]
    assert _call([*argv, "--max-params", "60000", "--out", tmp_path / "r2"]) == 0
    first = _log(tmp_path / "r2")[0]
    assert first["origin"] == "init" and first["kind"] == "skipped"
    assert first["hash"] == architecture_hash(big)


def test_init_run_starts_from_an_earlier_front(tmp_path, capsys):
    first = tmp_path / "first"
    assert _call(["evolve", *SYNTHETIC, "--generations", "1", "--out", first]) == 0
    front = json.loads((first / "pareto.json").read_text())
    members = front["members"] if isinstance(front, dict) else front
    out = tmp_path / "second"
    argv = ["evolve", *SYNTHETIC, "--population", "6", "--generations", "0", "--seed", "5"]
    assert _call([*argv, "--init-run", first, "--out", out]) == 0, capsys.readouterr().err
    log = _log(out)
    n = len(members)
    assert [e["hash"] for e in log[:n]] == [m["hash"] for m in members]
    # a front member evaluated before is trained again here: a new run measures it itself
    assert all(e["kind"] == "train" and e["origin"] == "init" for e in log[:n])


@pytest.mark.parametrize(
    "extra, match",
    [
        (["--init", "missing.json"], "missing.json"),
        (["--init", "cifar.json"], "do not fit the search's (1, 28, 28)"),
        (["--init-run", "nowhere"], "nowhere"),
        (
            ["--population", "2", "--init", "a0.json", "--init", "a1.json", "--init", "a2.json"],
            "takes 2",
        ),
    ],
)
def test_bad_warm_starts_are_one_line_and_exit_2(
    archs, tmp_path, capsys, monkeypatch, extra, match
):
    monkeypatch.chdir(tmp_path)
    save_architecture(build_architecture("cifar10", seed=0), tmp_path / "cifar.json")
    save_architecture(build_architecture("fashion-mnist", seed=7), tmp_path / "a2.json")
    assert _call(["evolve", *SYNTHETIC, *extra, "--out", tmp_path / "o"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and match in err[0], err
    assert not (tmp_path / "o").exists()


def test_resume_refuses_a_new_warm_start(archs, tmp_path, capsys):
    out = tmp_path / "run"
    assert _call(["evolve", *SYNTHETIC, "--generations", "0", "--out", out]) == 0
    capsys.readouterr()
    assert _call(["evolve", "--resume", out, "--init", archs[0]]) == 2
    assert "--init" in capsys.readouterr().err
