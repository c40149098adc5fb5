"""``genesis evolve`` in-process: the run folder it leaves; one line and exit 2 for bad input."""

from __future__ import annotations

import csv
import json

import pytest

from evolve.config import EvolveConfig, FinalConfig, ProxyConfig, SearchConfig, load_config
from genesis import architecture_hash, load_architecture
from genesis.cli import main


def _call(argv):
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:  # argparse errors
        return exc.code


def test_a_synthetic_search_writes_the_whole_run_folder(tmp_path, capsys):
    run = tmp_path / "run"
    argv = ["evolve", "--fitness", "synthetic", "--out", run, "--rungs", "none"]
    code = _call([*argv, "--population", "4", "--generations", "1", "--final-top-k", "1"])
    out, err = capsys.readouterr()
    assert code == 0, err

    expected = EvolveConfig(
        search=SearchConfig(population=4, generations=1),
        proxy=ProxyConfig(fitness="synthetic", rungs=()),
        final=FinalConfig(top_k=1),
    )
    assert load_config(run / "config.toml") == expected
    state = json.loads((run / "run.json").read_text())
    assert state["status"] == "finished" and state["trained"] == 8
    assert 0 < state["hypervolume"] <= 1

    log = [json.loads(line) for line in (run / "evaluations.jsonl").read_text().splitlines()]
    assert sum(e["kind"] == "train" for e in log) == 8
    with open(run / "logbook.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["generation"] for r in rows] == ["0", "1"] and rows[-1]["trained"] == "8"

    # every evaluated architecture is saved under its hash and loads back
    saved = sorted((run / "architectures").glob("*.json"))
    assert {p.stem for p in saved} == {e["hash"] for e in log if e["kind"] == "train"}
    for path in saved:
        assert architecture_hash(load_architecture(path)) == path.stem

    pareto = json.loads((run / "pareto.json").read_text())
    assert pareto and all((run / p["architecture"]).exists() for p in pareto)
    assert all(p["split"] == "val" and p["status"] == "ok" for p in pareto)

    final = json.loads((run / "final.json").read_text())
    assert len(final) == 1
    best = max(pareto, key=lambda p: p["accuracy"])
    assert final[0]["hash"] == best["hash"] and final[0]["status"] == "ok"
    assert 0 < final[0]["test_accuracy"] < 1
    assert final[0]["val_accuracy_search"] == best["accuracy"]
    # the synthetic fitness trains nothing: no weights and no ONNX are written or claimed
    assert final[0]["weights"] is None and final[0]["onnx"] is None
    assert not any((run / "final").iterdir())

    # the summary: the folder, the budget, the front, the final record
    lines = out.splitlines()
    assert lines[0].startswith(f"run folder {run}: 8 trained evaluations, Pareto front of ")
    assert f"hypervolume {state['hypervolume']:.4f}" in lines[0]
    for p in pareto:
        assert any(line.strip().startswith(p["hash"]) for line in lines[1:])
    assert lines[-1].startswith(f"final {final[0]['hash']}: test accuracy ")
    assert "gen   1 | trained    8/8" in err


@pytest.mark.parametrize(
    "flags, match",
    [
        (["--population", "1"], "population must be at least 2, got 1"),
        (["--population", "four"], "invalid int value: 'four'"),
        (["--strategy", "greedy"], "invalid choice: 'greedy'"),
        (
            ["--strategy", "constrained", "--max-macs", "none"],
            "strategy constrained needs max_macs",
        ),
        (["--max-macs", "lots"], "--max-macs: must be a number or none, got 'lots'"),
        (["--workers", "0"], "execution workers must be a positive integer, got 0"),
        (["--executor", "dask"], "invalid choice: 'dask'"),
        (["--final-top-k", "-1"], "final top_k must be an integer >= 0, got -1"),
        (["--proxy-epochs", "0"], "proxy epochs must be a positive number, got 0"),
        (["--max-macs", "-3"], "search max_macs must be a positive number, got -3.0"),
        (["--max-params", "0"], "search max_params must be a positive integer, got 0"),
        (["--time-budget", "nan"], "search seconds must be a positive number, got nan"),
        (["--search-seconds", "0"], "search seconds must be a positive number, got 0.0"),
        (["--final-seconds", "-1"], "final seconds must be a positive number, got -1.0"),
        (["--fitness", "magic"], "invalid choice: 'magic'"),
        (["--config", "missing.toml"], "config file 'missing.toml' does not exist"),
        (["--fitness", "train", "--dataset", "nowhere/at/all"], "nowhere/at/all"),
        (["--resume", "elsewhere"], "not allowed with argument --out"),
    ],
)
def test_bad_flags_exit_2_with_one_line_and_no_folder(flags, match, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["evolve", "--out", "run"]
    if "--fitness" not in flags:
        argv += ["--fitness", "synthetic"]
    code = _call([*argv, *flags])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("genesis")
    assert match in err
    assert not (tmp_path / "run").exists()


def test_an_unwritable_out_is_one_line(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    code = _call(["evolve", "--fitness", "synthetic", "--out", tmp_path / "file" / "run"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "cannot create run folder" in err


def test_a_tiny_real_training_run(tmp_path, capsys):
    """The one test that trains: one candidate on the synthetic dataset, then retrained."""
    torch = pytest.importorskip("torch")
    from genesis.compiler import compile_architecture

    (tmp_path / "tiny.toml").write_text(
        """\
[search]
population = 2
generations = 0
budget_evals = 1
[space]
channels = [4]
nodes = [3, 4]
batch_sizes = [32]
[proxy]
dataset = "synthetic"
subset = 96
val_size = 64
epochs = 0.2
device = "cpu"
[final]
top_k = 1
epochs = 0.2
export_onnx = false
[execution]
workers = 1
"""
    )
    run = tmp_path / "run"
    code = _call(["evolve", "--config", tmp_path / "tiny.toml", "--out", run])
    out, err = capsys.readouterr()
    assert code == 0, err

    log = [json.loads(line) for line in (run / "evaluations.jsonl").read_text().splitlines()]
    trained = [e for e in log if e["kind"] == "train"]
    assert len(trained) == 1
    for e in trained:
        r = e["result"]
        assert r["status"] == "ok", r.get("error")
        assert r["split"] == "val" and r["test_accuracy"] is None
        assert 0 <= r["accuracy"] <= 1 and r["epochs"] > 0 and r["device"] == "cpu"

    final = json.loads((run / "final.json").read_text())
    assert len(final) == 1 and final[0]["status"] == "ok"
    assert 0 <= final[0]["test_accuracy"] <= 1
    assert final[0]["weights"] == f"final/{final[0]['hash']}.pt" and final[0]["onnx"] is None
    state = torch.load(run / final[0]["weights"], weights_only=True)
    arch = load_architecture(run / final[0]["architecture"])
    model = compile_architecture(arch)
    model.load_state_dict(state)  # the weights fit the saved architecture exactly
    assert f"final {final[0]['hash']}: test accuracy" in out
