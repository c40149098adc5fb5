"""A study folder from someone else, a study stopped in its output phase, names that are
mathtext, outputs that name a study's files, and formulas in a study's tables (issue 25)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from runfiles import kill_when, snapshot

import evolve.executors
import evolve.study
from genesis import build_architecture, load_architecture, save_architecture
from genesis.cli import Terminated, main
from genesis.compiler import compile_architecture
from genesis.runfolder import STUDY_DIRS, refuse_run_file
from visualize import write_report
from visualize.damage import damage_plots, write_damage_outputs
from visualize.study import write_study_outputs
from visualize.studyfiles import OPS_FILES, STUDY_FILES
from visualize.studyplots import ops_plot
from visualize.studystats import ops_analysis

#: A study that trains nothing (synthetic fitness) and takes seconds: two settings, one graph
#: each, on the synthetic dataset (what ``study damage`` scores on).
SYNTHETIC = [
    "--fitness", "synthetic", "--dataset", "synthetic", "--subset", "256", "--workers", "1",
    "--setting", "er:p=0.5", "--setting", "ws:k=2,p=0.5", "--graph-seeds", "1", "--nodes", "4",
    "--match-macs", "3e5",
]  # fmt: skip

#: What a study writes after its trainings, compared byte for byte between an uninterrupted
#: study and one stopped and resumed.
OUTPUTS = (
    "study.csv",
    "summary.csv",
    "summary.txt",
    "study_bars.png",
    "study_macs.png",
    "study_stats.png",
    "study_heatmap.png",
    "drawings/setting-0.svg",
    "drawings/setting-1.svg",
)

#: Names that break matplotlib's mathtext, or fonts, or layouts, when drawn as they are.
NASTY = [
    "$", "$$", "\\frac{", "$\\frac{$", "$\\undefined$", "$x^$", "_", "^", "%", "a\nb",
    "\u202eabc\u200f", "x" * 500, "\\", "$a$b$", "\ud800", "\x00", "\U0001f600",
]  # fmt: skip


def _call(argv) -> int:
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:  # argparse errors
        return exc.code


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _log(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "evaluations.jsonl").read_text().splitlines()]


def _write_log(folder: Path, entries: list[dict]) -> None:
    (folder / "evaluations.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))


def _inline(*args, **kwargs) -> evolve.executors.InlineExecutor:
    """make_executor's stand-in: trainings in this process (no worker processes to start)."""
    return evolve.executors.InlineExecutor()


def _study(out: Path, *argv) -> int:
    """Run a synthetic study in this process."""
    (out.parent / "q.toml").write_text("[proxy]\nval_size = 64\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(evolve.executors, "make_executor", _inline)
        return _call(
            ["study", "generators", "--config", out.parent / "q.toml", *argv, "--out", out]
        )


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted synthetic study, with (untrained) weights for every network."""
    out = tmp_path_factory.mktemp("ref") / "S"
    assert _study(out, *SYNTHETIC) == 0
    for e in _log(out):
        arch = load_architecture(out / "architectures" / f"{e['hash']}.json")
        torch.save(
            compile_architecture(arch, seed=0).state_dict(), out / "weights" / f"{e['key']}.pt"
        )
    return out


@pytest.fixture
def folder(reference, tmp_path):
    shutil.copytree(reference, tmp_path / "S")
    return tmp_path / "S"


# -- a study stopped in its output phase resumes and finishes ------------------------------------
def _stop_before(target: str, monkeypatch) -> None:
    """Raise Terminated (what the CLI's SIGTERM handler raises) instead of the write that
    would put the file named ``target`` in place, once the trainings are over."""
    run_study, replace = evolve.study.run_study, os.replace
    armed = []

    def trainings(*a, **k):
        entries = run_study(*a, **k)
        armed.append(True)
        return entries

    def guarded(src, dst, *a, **k):
        if armed and Path(dst).name == target:
            raise Terminated()
        return replace(src, dst, *a, **k)

    monkeypatch.setattr(evolve.study, "run_study", trainings)
    monkeypatch.setattr(os, "replace", guarded)


@pytest.fixture(scope="module")
def stopped(tmp_path_factory):
    """A study stopped (SIGTERM) after its trainings, before its first output."""
    out = tmp_path_factory.mktemp("stopped") / "S"
    with pytest.MonkeyPatch.context() as mp:
        _stop_before("study.csv", mp)
        assert _study(out, *SYNTHETIC) == 143
    return out


def _state(folder: Path) -> str:
    return json.loads((folder / "run.json").read_text())["status"]


def _temps(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.rglob(".*.tmp"))


def _resume(folder: Path) -> int:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(evolve.executors, "make_executor", _inline)
        return _call(["study", "generators", "--resume", folder])


def test_a_study_stopped_before_its_outputs_is_interrupted_not_finished(stopped):
    assert _state(stopped) == "interrupted"
    assert not (stopped / "study.csv").exists() and len(_log(stopped)) == 2


@pytest.mark.parametrize(
    "target",
    ["study.csv", "summary.txt", "study_bars.png", "setting-1.svg", "evaluations.csv", "run.json"],
)
def test_a_study_stopped_at_any_output_resumes_to_the_same_outputs(
    stopped, reference, tmp_path, monkeypatch, capsys, target
):
    folder = tmp_path / "S"
    shutil.copytree(stopped, folder)
    with monkeypatch.context() as mp:  # a resume stopped in its own output phase
        _stop_before(target, mp)
        assert _resume(folder) == 143
    assert _state(folder) != "finished"
    assert _resume(folder) == 0, capsys.readouterr().err
    assert _state(folder) == "finished" and not _temps(folder)
    assert len(_log(folder)) == 2  # nothing trained again
    for name in OUTPUTS:
        assert (folder / name).read_bytes() == (reference / name).read_bytes(), name


def test_sigterm_in_the_output_phase_then_resume_finishes(reference, tmp_path):
    (tmp_path / "q.toml").write_text("[proxy]\nval_size = 64\n")
    cmd = [sys.executable, "-m", "genesis", "study", "generators"]
    proc = subprocess.Popen(
        [*cmd, "--config", "q.toml", *SYNTHETIC, "--out", "S"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    kill_when(proc, lambda: (tmp_path / "S" / "summary.csv").exists(), "summary.csv", sig=15)
    assert proc.returncode == 143 and _state(tmp_path / "S") == "interrupted"
    done = subprocess.run(
        [*cmd, "--resume", "S"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert _state(tmp_path / "S") == "finished"
    for name in OUTPUTS:
        assert (tmp_path / "S" / name).read_bytes() == (reference / name).read_bytes(), name


# -- names drawn as text -------------------------------------------------------------------------
def _nasty_folder(folder: Path) -> None:
    """One entry per nasty name: as its label, setting, family and op."""
    first = _log(folder)[0]
    entries = [
        {**first, "key": f"s{i}-g0-t0", "setting": i, "group": i, "label": name,
         "base": name, "family": name, "op": name, "result": {**first["result"],
         "accuracy": 0.5 + i / 100}}
        for i, name in enumerate(NASTY)
    ]  # fmt: skip
    _write_log(folder, entries)


def test_nasty_names_reach_every_study_figure_and_the_report_as_text(folder):
    _nasty_folder(folder)
    result = write_study_outputs(folder)
    assert {"bars", "macs", "stats", "heatmap"} <= set(result["figures"])
    assert len(_csv(folder / "study.csv")) == len(NASTY)
    assert write_report(folder).stat().st_size > 1000


def test_nasty_names_reach_the_ops_and_damage_figures_as_text(tmp_path):
    rows = [
        {"setting": f"{b} [{o}]", "base": b, "op": o, "accuracy": 0.5 + (i + j) / 100}
        for i, b in enumerate(NASTY)
        for j, o in enumerate(NASTY[:3])
    ]
    analysis = ops_analysis(rows)
    assert analysis is not None and len(analysis.ops) == 3
    assert ops_plot(analysis, "validation", tmp_path / "ops.png")["ops"].stat().st_size > 1000
    damage = [
        {"kind": kind, "family": name, "out_degree": 1 + i % 3, "in_degree": 1 + i % 2,
         "drop": (i % 5) / 100, "split": "val"}
        for i, name in enumerate(NASTY * 2)
        for kind in ("node", "edge")
    ]  # fmt: skip
    assert set(damage_plots(damage, tmp_path)) == {"node", "edge"}


def test_a_setting_label_that_is_mathtext_is_drawn_not_parsed(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(
        "[proxy]\nval_size = 64\n[study]\ngraph_seeds = 1\nmatch_macs = 3e5\nsettings = "
        '[{family = "er", params = {p = 0.5}, nodes = 4, label = "$\\\\frac{$"},'
        ' {family = "ws", params = {k = 2, p = 0.5}, nodes = 4, label = "$\\\\undefined$"}]\n'
    )
    argv = ["--fitness", "synthetic", "--dataset", "synthetic", "--config", tmp_path / "s.toml"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(evolve.executors, "make_executor", _inline)
        code = _call(["study", "generators", *argv, "--out", tmp_path / "S"])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "S" / "study_bars.png").stat().st_size > 1000
    assert {r["setting"] for r in _csv(tmp_path / "S" / "summary.csv")} == {
        "$\\frac{$",
        "$\\undefined$",
    }


# -- formulas in a study's tables ----------------------------------------------------------------
HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def test_text_from_the_log_is_no_formula_in_any_study_table(folder):
    first = _log(folder)[0]
    entries = []
    for i, bad in enumerate(HOSTILE):
        for j, op in enumerate(("=op", "-op")):
            entries.append(
                {**first, "key": f"s{i}-o{j}-g0-t0", "setting": i, "group": 2 * i + j,
                 "label": f"{bad} [{op}]", "base": bad, "family": bad, "op": op, "widths": bad,
                 "result": {**first["result"], "accuracy": 0.5 + i / 50 + j / 100,
                            "status": "failed" if i == 0 and j == 0 else "ok", "error": bad}}
            )  # fmt: skip
    _write_log(folder, entries)
    write_study_outputs(folder, plots=False)
    for name in ("study.csv", "summary.csv", "ops.csv", "ops_correlation.csv"):
        text = (folder / name).read_text(encoding="utf-8")
        with open(folder / name, newline="", encoding="utf-8") as f:
            cells = [c for row in csv.reader(f) for c in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")], (name, text)
        assert not [c for c in cells if c.startswith("-") and not _number(c)], (name, text)
    study = _csv(folder / "study.csv")
    assert {r["setting"] for r in study} >= {f"'{HOSTILE[1]} [-op]", f"'{HOSTILE[3]} [=op]"}
    assert {r["family"] for r in study} == {f"'{b}" for b in HOSTILE}
    assert study[0]["error"] == "'" + HOSTILE[0]
    ops = _csv(folder / "ops.csv")
    assert "'=op mean" in ops[0] and "'-op mean" in ops[0]
    # numbers stay numbers: a difference from the best is negative, written as a number
    diffs = [float(r["diff_vs_best"]) for r in _csv(folder / "summary.csv") if r["diff_vs_best"]]
    assert min(diffs) < 0


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_damage_csv_quotes_text_and_keeps_negative_numbers(tmp_path):
    rows = [
        {"key": "s0-g0-t0", "setting": "=cmd|' /C calc'!A0", "family": "@x", "kind": "none",
         "accuracy": 0.5, "drop": 0.0, "split": "val"},
        {"key": "s0-g0-t0", "setting": "-1+1", "family": "+x", "kind": "node", "node": 3,
         "out_degree": 2, "accuracy": 0.6, "drop": -0.1, "split": "val"},
    ]  # fmt: skip
    columns = ("key", "setting", "family", "kind", "node", "out_degree", "accuracy", "drop")
    write_damage_outputs(rows, tmp_path / "d", columns, plots=False)
    out = _csv(tmp_path / "d" / "damage.csv")
    assert [r["setting"] for r in out] == ["'=cmd|' /C calc'!A0", "'-1+1"]
    assert [r["family"] for r in out] == ["'@x", "'+x"]
    assert out[1]["drop"] == "-0.1"


# -- genesis study damage --study on a folder from someone else ----------------------------------
def test_an_architecture_file_that_is_another_network_is_refused_naming_the_key(folder, capsys):
    a, b = _log(folder)
    # the file named by the first network's hash holds the second network
    shutil.copy(
        folder / "architectures" / f"{b['hash']}.json",
        folder / "architectures" / f"{a['hash']}.json",
    )
    assert _call(["study", "damage", "--study", folder, "--examples", "8"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and a["key"] in err[0] and "another network" in err[0], err
    assert "Traceback" not in err[0]
    assert not (folder / "damage" / "damage.jsonl").exists()  # nothing scored


def test_an_architectures_folder_that_is_a_link_is_not_followed(folder, tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    shutil.move(folder / "architectures", elsewhere)
    (folder / "architectures").symlink_to(elsewhere)
    assert _call(["study", "damage", "--study", folder, "--examples", "8"]) == 2
    err = capsys.readouterr().err  # refused before anything is read: the folder holds a link
    assert err.count("\n") == 1 and "architectures" in err and "is a link" in err


@pytest.mark.parametrize(
    "edit, match",
    [
        (("val_size = 64", "val_size = -3"), "val_size"),
        (('dataset = "synthetic"', "dataset = 7"), "dataset"),
        (("subset = 256", 'subset = "lots"'), "subset"),
        (("seed = 0", "seed = -1"), "seed"),
        (("[proxy]", "[proxy]\nevil = 1"), "evil"),
        (("graph_seeds = 1", "graph_seeds = 100000"), "MAX_STUDY_NETWORKS"),
    ],
)
def test_a_study_config_is_validated_as_a_fresh_studys(folder, capsys, edit, match):
    config = folder / "config.toml"
    assert edit[0] in config.read_text()
    config.write_text(config.read_text().replace(edit[0], edit[1], 1))
    assert _call(["study", "damage", "--study", folder]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and match in err[0] and "Traceback" not in err[0], err
    assert not (folder / "damage").exists()


def test_damage_names_its_dataset_and_writes_no_formula_nor_mathtext(folder, capsys):
    entries = _log(folder)
    entries[0]["label"], entries[0]["family"] = '=HYPERLINK("http://x")', "$\\frac{$"
    entries[1]["label"], entries[1]["family"] = "-2+3", "@evil"
    _write_log(folder, entries)
    argv = ["study", "damage", "--study", folder, "--examples", "8", "--nodes-only"]
    assert _call(argv) == 0, capsys.readouterr().err
    assert "dataset 'synthetic' (the study's config)" in capsys.readouterr().err
    rows = _csv(folder / "damage" / "damage.csv")
    assert {r["setting"] for r in rows} == {'\'=HYPERLINK("http://x")', "'-2+3"}
    assert {r["family"] for r in rows} == {"$\\frac{$", "'@evil"}
    assert all(_number(r["drop"]) for r in rows)
    assert (folder / "damage" / "damage_nodes.png").stat().st_size > 1000
    # rows read back from damage.jsonl are plain cells of the table's columns only
    log = folder / "damage" / "damage.jsonl"
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    for r in lines[0]["rows"]:
        r.update(family="f" * 10_000, drop={"nested": [1]}, extra="=1+1")
    log.write_text("".join(json.dumps(x) + "\n" for x in lines))
    assert _call(argv) == 0, capsys.readouterr().err
    rows = _csv(folder / "damage" / "damage.csv")
    assert "extra" not in rows[0] and max(len(r["family"]) for r in rows) == 80
    assert {r["drop"] for r in rows if r["key"] == lines[0]["key"]} == {""}


# -- outputs never name a study's files ----------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [*STUDY_FILES, *OPS_FILES, *(f"{d}/x.png" for d in STUDY_DIRS), "damage/damage.csv"],
)
def test_every_study_file_is_refused(reference, name):
    with pytest.raises(Exception, match="is a file of the run folder"):
        refuse_run_file(reference / name)


@pytest.mark.parametrize(
    "argv",
    [
        ["generate", "er", "-o", "{S}/study.csv"],
        ["generate", "er", "-o", "{S}/damage/damage.csv"],
        ["export", "{arch}", "--onnx", "{S}/weights/s0-g0-t0.pt"],
        ["export", "{arch}", "--python", "{S}/summary.txt"],
        ["export", "{arch}", "--program", "{S}/ops_correlation.csv"],
        ["render", "{arch}", "-o", "{S}/drawings/setting-0.svg"],
        ["render", "{arch}", "-o", "{S}/study_bars.png"],
        ["render", "{arch}", "-o", "{S}/evaluations.jsonl"],
        ["report", "{S}", "-o", "{S}/study.csv"],
        ["report", "{S}", "-o", "{S}/drawings/x.html"],
        ["compare", "{S}", "-o", "{S}/study_macs.png"],
        ["tune", "{arch}", "--fitness", "synthetic", "-o", "{S}/ops.csv"],
        ["train", "{arch}", "--out", "{S}/damage"],
        ["study", "damage", "{arch}", "--weights", "{w}", "--out", "{S}/damage"],
        ["study", "generators", *SYNTHETIC, "--out", "{S}/damage"],
        ["evolve", "--fitness", "synthetic", "--out", "{S}/drawings/run"],
    ],
)
def test_no_verb_writes_over_a_study_file(reference, tmp_path, capsys, argv):
    arch = tmp_path / "arch.json"
    save_architecture(build_architecture(seed=0), arch)
    weights = tmp_path / "w.pt"
    torch.save(compile_architecture(load_architecture(arch)).state_dict(), weights)
    before = snapshot(reference)
    code = _call([a.format(S=reference, arch=arch, w=weights) for a in argv])
    err = capsys.readouterr().err
    assert code == 2 and "run folder" in err and err.count("\n") == 1, err
    assert snapshot(reference) == before
