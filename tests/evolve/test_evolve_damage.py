"""``genesis study damage --study DIR``: every network of a real study, pooled, resumable, and
never writing outside the folder or trusting its names."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from genesis.cli import main


def _call(argv):
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:
        return exc.code


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


STUDY = [
    "study", "generators", "--dataset", "canary", "--allow-class-mismatch",
    "--epochs", "6", "--nodes", "5",
    "--setting", "ws:k=2,p=0.5", "--setting", "er:p=0.5", "--graph-seeds", "1",
    "--match-macs", "5e5", "--workers", "1",
]  # fmt: skip


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A real study on the canary (2 networks, 6 epochs each, seconds)."""
    root = tmp_path_factory.mktemp("study")
    (root / "s.toml").write_text("[proxy]\nval_size = 200\n")
    assert _call([*STUDY, "--config", root / "s.toml", "--out", root / "st"]) == 0
    return root / "st"


@pytest.fixture
def folder(study, tmp_path):
    shutil.copytree(study, tmp_path / "st")
    return tmp_path / "st"


def test_every_network_is_scored_undamaged_as_recorded_then_damaged(folder, capsys):
    assert _call(["study", "damage", "--study", folder]) == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert err.count("undamaged, as recorded") == 2
    rows = _csv(folder / "damage" / "damage.csv")
    log = [json.loads(line) for line in (folder / "evaluations.jsonl").read_text().splitlines()]
    assert {r["key"] for r in rows} == {e["key"] for e in log}
    assert {r["family"] for r in rows} == {"ws", "er"}
    for e in log:
        mine = [r for r in rows if r["key"] == e["key"]]
        assert mine[0]["kind"] == "none"
        assert float(mine[0]["accuracy"]) == pytest.approx(e["result"]["accuracy"], abs=1e-9)
        assert {r["split"] for r in mine} == {"val"}
        assert any(float(r["drop"]) > 0 for r in mine[1:])  # learned nets can be broken
    for name in ("damage_nodes.png", "damage_edges.png"):
        assert (folder / "damage" / name).stat().st_size > 1000


def test_a_cut_short_run_resumes_and_ends_with_the_same_table(folder, capsys):
    assert _call(["study", "damage", "--study", folder]) == 0
    first = (folder / "damage" / "damage.csv").read_text()
    log = folder / "damage" / "damage.jsonl"
    lines = log.read_text().splitlines(keepends=True)
    log.write_text(lines[0] + lines[1][:50])  # one network done, the next cut mid-line
    capsys.readouterr()
    assert _call(["study", "damage", "--study", folder]) == 0
    err = capsys.readouterr().err
    assert "resuming: 1 of 2 networks" in err and err.count("undamaged") == 1
    assert (folder / "damage" / "damage.csv").read_text() == first


def test_other_settings_are_refused_not_mixed_in(folder, capsys):
    assert _call(["study", "damage", "--study", folder, "--nodes-only"]) == 0
    before = (folder / "damage" / "damage.jsonl").read_bytes()
    capsys.readouterr()
    assert _call(["study", "damage", "--study", folder, "--examples", "10"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "other settings" in err[0]
    assert (folder / "damage" / "damage.jsonl").read_bytes() == before


def test_a_hostile_folder_gets_no_write_outside_and_no_path_from_its_log(folder, tmp_path, capsys):
    outside = tmp_path / "outside"
    outside.mkdir()
    (folder / "damage").symlink_to(outside)
    assert _call(["study", "damage", "--study", folder]) == 2
    assert "not a plain folder" in capsys.readouterr().err
    assert list(outside.iterdir()) == []
    (folder / "damage").unlink()
    # a log entry whose key would lead out of weights/, and weights that are a link
    log = folder / "evaluations.jsonl"
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    (tmp_path / "evil.pt").write_bytes(
        (folder / "weights" / f"{entries[1]['key']}.pt").read_bytes()
    )
    (folder / "weights" / f"{entries[1]['key']}.pt").unlink()
    (folder / "weights" / f"{entries[1]['key']}.pt").symlink_to(tmp_path / "evil.pt")
    bad = {**entries[0], "key": "../../evil"}
    log.write_text("".join(json.dumps(e) + "\n" for e in [*entries, bad]))
    assert _call(["study", "damage", "--study", folder]) == 0
    err = capsys.readouterr().err
    assert "../../evil: skipped, not a study entry" in err
    assert f"{entries[1]['key']}: skipped" in err and "symbolic link" in err
    keys = {r["key"] for r in _csv(folder / "damage" / "damage.csv")}
    assert keys == {entries[0]["key"]}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.pt", "outside", "st"]


def test_a_study_without_weights_is_one_line_and_exit_2(study, tmp_path, capsys):
    argv = [*STUDY, "--config", study.parent / "s.toml", "--epochs", "1", "--no-weights"]
    assert _call([*argv, "--out", tmp_path / "nw"]) == 0
    capsys.readouterr()
    assert _call(["study", "damage", "--study", tmp_path / "nw"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "error:" in err[-1] and "could be scored" in err[-1]
    assert "Traceback" not in "".join(err)


def test_a_search_folder_is_not_a_study(tmp_path, capsys):
    (tmp_path / "config.toml").write_text("[search]\nstrategy = 'random'\n")
    assert _call(["study", "damage", "--study", tmp_path]) == 2
    assert "unknown table" in capsys.readouterr().err
