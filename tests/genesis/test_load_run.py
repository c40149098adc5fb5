"""``genesis.load_run(DIR)``: a run folder as plain records, read as the report reads it."""

from __future__ import annotations

import json
import sys

import pytest

import genesis
from genesis import GenesisError
from genesis.cli import main


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("load") / "run"
    argv = ["evolve", "--fitness", "synthetic", "--workers", "1", "--population", "4"]
    argv += ["--generations", "1", "--final-top-k", "2", "--seed", "3", "--out", str(out)]
    assert main(argv) == 0
    return out


def test_every_log_entry_is_one_plain_record(run):
    loaded = genesis.load_run(run)
    log = [json.loads(x) for x in (run / "evaluations.jsonl").read_text().splitlines()]
    assert len(loaded.evaluations) == len(log) and loaded.problems == []
    assert sorted((r["hash"], r["kind"], r["rung"] or 0) for r in loaded.evaluations) == sorted(
        (e["hash"], e["kind"], e.get("rung") or 0) for e in log
    )
    for record in loaded.evaluations:
        assert all(v is None or isinstance(v, (str, int, float)) for v in record.values())
    trained = [r for r in loaded.evaluations if r["kind"] == "train"]
    assert trained and all(r["status"] == "ok" and 0 < r["accuracy"] < 1 for r in trained)


def test_the_front_and_final_carry_the_test_accuracy(run):
    loaded = genesis.load_run(run)
    final = {f["hash"]: f["test_accuracy"] for f in json.loads((run / "final.json").read_text())}
    pareto = json.loads((run / "pareto.json").read_text())
    assert [m["hash"] for m in loaded.front] == [m["hash"] for m in pareto]
    assert {f["hash"] for f in loaded.final} == set(final)
    for record in [*loaded.evaluations, *loaded.front]:
        assert record["final_test_accuracy"] == final.get(record["hash"])
    assert sum(r["final_test_accuracy"] is not None for r in loaded.evaluations) >= len(final)


def test_a_dataframe_when_pandas_is_there_and_one_line_when_not(run, monkeypatch):
    loaded = genesis.load_run(run)
    df = loaded.dataframe()
    assert len(df) == len(loaded.evaluations) and "accuracy" in df.columns
    assert len(loaded.dataframe("front")) == len(loaded.front)
    with pytest.raises(GenesisError, match="evaluations, front or final"):
        loaded.dataframe("logbook")
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(GenesisError, match=r"genesis-nas\[analysis\]"):
        loaded.dataframe()


def test_a_damaged_folder_gives_what_it_can(run, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    lines = (copy / "evaluations.jsonl").read_text().splitlines()
    i = next(i for i, x in enumerate(lines) if json.loads(x)["kind"] == "train")
    entry = json.loads(lines[i])
    entry["result"]["accuracy"] = "=cmd()"  # a value of the wrong type, from someone else
    lines[i] = json.dumps(entry)
    (copy / "evaluations.jsonl").write_text("\n".join([*lines, "{not json", "{}"]) + "\n")
    (copy / "final.json").write_text("[1, 2")
    loaded = genesis.load_run(copy)
    assert len(loaded.evaluations) == len(lines) and loaded.final == []
    assert loaded.problems  # named, not raised
    assert all(not isinstance(r["accuracy"], str) for r in loaded.evaluations)
    assert [r for r in loaded.evaluations if r["hash"] == entry["hash"]][0]["accuracy"] is None
    with pytest.raises(GenesisError, match="not a genesis run folder"):
        genesis.load_run(tmp_path)
