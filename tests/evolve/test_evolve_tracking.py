"""What a run shows where people already look: TensorBoard events and CSV tables, read back."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from genesis import save_architecture
from genesis.cli import main
from genesis.presets import build_architecture
from genesis.tracking import Tracker


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _events(folder: Path) -> EventAccumulator:
    ea = EventAccumulator(str(folder / "tensorboard"), size_guidance={"scalars": 0, "images": 0})
    ea.Reload()
    return ea


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tracking") / "run"
    argv = ["evolve", "--fitness", "synthetic", "--workers", "1", "--population", "4"]
    assert main([*argv, "--generations", "3", "--out", str(out)]) == 0
    return out


def test_each_generation_is_a_tensorboard_step_that_matches_the_logbook(run):
    ea = _events(run)
    logbook = _csv(run / "logbook.csv")
    assert logbook
    for tag, column in (
        ("search/hypervolume", "hypervolume"),
        ("search/best_accuracy", "best_accuracy"),
        ("search/front_size", "front_size"),
    ):
        got = [(e.step, e.value) for e in ea.Scalars(tag)]
        want = [(int(r["generation"]), float(r[column])) for r in logbook]
        assert [g[0] for g in got] == [w[0] for w in want]
        assert all(abs(g[1] - w[1]) < 1e-5 for g, w in zip(got, want, strict=True)), tag
    util = [e.value for e in ea.Scalars("search/utilization")]
    assert util and all(0 < u <= 1.0 + 1e-6 for u in util)
    assert "search/pareto" in ea.Tags()["images"]  # the front as a figure
    (final,) = json.loads((run / "final.json").read_text())
    (acc,) = ea.Scalars(f"final/{final['hash']}/accuracy")
    assert acc.value == pytest.approx(final["test_accuracy"], abs=1e-6)


def test_the_tables_are_the_log_and_the_front(run):
    log = [json.loads(x) for x in (run / "evaluations.jsonl").read_text().splitlines()]
    rows = _csv(run / "evaluations.csv")
    assert len(rows) == len(log)
    for e, r in zip(log, rows, strict=True):
        assert r["hash"] == e["hash"] and r["kind"] == e["kind"]
        acc = (e.get("result") or {}).get("accuracy")
        assert (r["accuracy"] == "") if acc is None else float(r["accuracy"]) == acc
        assert r["parents"] == ";".join(e.get("parents", []))
    front = json.loads((run / "pareto.json").read_text())
    members = front["members"] if isinstance(front, dict) else front
    prows = _csv(run / "pareto.csv")
    assert [r["hash"] for r in prows] == [m["hash"] for m in members]
    assert [float(r["macs"]) for r in prows] == [m["macs"] for m in members]


def test_a_resumed_writer_replaces_what_an_interrupted_one_wrote_after_its_step(tmp_path):
    t = Tracker(tmp_path)
    for g in range(4):
        t.generation(g, {"hypervolume": g})
    t.close()
    t = Tracker(tmp_path)  # a resume from the checkpoint of generation 1
    for g in range(2, 5):
        t.generation(g, {"hypervolume": 10 + g, "nan": float("nan")})
    t.close()
    ea = _events(tmp_path)
    assert [(e.step, e.value) for e in ea.Scalars("search/hypervolume")] == [
        (0, 0.0),
        (1, 1.0),
        (2, 12.0),
        (3, 13.0),
        (4, 14.0),
    ]
    assert "search/nan" not in ea.Tags()["scalars"]


def test_a_tensorboard_link_is_left_alone(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "tensorboard").symlink_to(outside)
    t = Tracker(tmp_path / "run")
    t.generation(0, {"hypervolume": 1.0})
    t.close()
    assert list(outside.iterdir()) == []


def test_train_and_study_write_their_curves(tmp_path):
    arch = build_architecture("fashion-mnist", "er", {"p": 0.5}, seed=0, nodes=4, channels=4)
    save_architecture(arch, tmp_path / "a.json")
    argv = ["train", str(tmp_path / "a.json"), "--dataset", "canary", "--epochs", "3"]
    argv += ["--allow-class-mismatch"]
    assert main([*argv, "--out", str(tmp_path / "t")]) == 0
    ea = _events(tmp_path / "t")
    record = json.loads((tmp_path / "t" / "result.json").read_text())
    assert [e.step for e in ea.Scalars("train/loss")] == [1, 2, 3]
    assert [round(e.value, 5) for e in ea.Scalars("train/loss")] == [
        round(h["loss"], 5) for h in record["history"]
    ]
    assert ea.Scalars("train/accuracy")[0].value == pytest.approx(record["accuracy"])
    (tmp_path / "s.toml").write_text("[proxy]\nval_size = 200\n")
    argv = ["study", "generators", "--config", str(tmp_path / "s.toml"), "--dataset", "canary"]
    argv += ["--allow-class-mismatch"]
    argv += ["--epochs", "1", "--nodes", "4"]
    argv += ["--setting", "er:p=0.5", "--graph-seeds", "2", "--match-macs", "3e5"]
    assert main([*argv, "--workers", "1", "--out", str(tmp_path / "s")]) == 0
    tags = _events(tmp_path / "s").Tags()["scalars"]
    assert {"study/s0-g0-t0/loss", "study/s0-g1-t0/accuracy"} <= set(tags)
