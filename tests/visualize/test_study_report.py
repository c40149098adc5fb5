"""A study folder's figures and report: written, embedded, and loaded in headless Chromium; a
hostile study folder gets a report that writes nothing else."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from browser import dump_dom, snapshot

from genesis.cli import main
from visualize import write_report
from visualize.study import write_study_outputs
from visualize.studyfiles import STUDY_FILES


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("study") / "s"
    argv = [
        "study",
        "generators",
        "--fitness",
        "synthetic",
        "--workers",
        "1",
        "--graph-seeds",
        "3",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    return out


def test_the_figures_and_drawings_are_written(study):
    for name in STUDY_FILES:
        path = study / name
        assert path.is_file() and path.stat().st_size > 0, name
        if name.endswith(".png"):
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    drawings = sorted(p.name for p in (study / "drawings").iterdir())
    assert drawings == [f"setting-{i}.svg" for i in range(6)]
    assert all("<svg" in (study / "drawings" / d).read_text() for d in drawings)


def test_the_report_of_a_study_loads_in_headless_chromium(study, tmp_path):
    report = write_report(study)
    text = report.read_text()
    for label in ("ER(p=0.2)", "BA(m=1)", "WS(k=4, p=0.75)", "Welch", "validation split"):
        assert label in text, label
    assert text.count("<svg") >= 6  # one drawing per setting
    dom = dump_dom(report, tmp_path / "a")
    assert 'data-images="4/4"' in dom  # bars, MACs, statistics, heat map: all decoded


def test_report_cli_on_a_study_folder(study, capsys):
    assert main(["report", str(study)]) == 0, capsys.readouterr().err
    assert (study / "report.html").exists()


def test_a_hostile_study_folder_gets_a_report_and_nothing_else(study, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(study, bad)
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.rmtree(bad / "drawings")
    os.symlink(outside, bad / "drawings")  # a link out of the folder
    (bad / "report.html").unlink(missing_ok=True)
    log = bad / "evaluations.jsonl"
    entries = [json.loads(x) for x in log.read_text().splitlines()]
    entries[0]["label"] = "<script>alert(1)</script>"
    entries[1]["hash"] = "../../outside/x"
    entries[2]["setting"] = "s0"
    log.write_text("".join(json.dumps(e) + "\n" for e in entries))
    before = snapshot(tmp_path)
    report = write_report(bad)
    after = snapshot(tmp_path)
    assert set(after) - set(before) == {str(report)}  # the report alone was written
    text = report.read_text()
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text
    # its own tables refuse to draw through the link
    with pytest.raises(Exception, match="not a plain folder"):
        write_study_outputs(bad)
    assert list(outside.iterdir()) == []


def test_an_ops_study_with_damage_shows_both_in_its_report(tmp_path):
    out = tmp_path / "ops"
    argv = ["study", "ops", "--fitness", "synthetic", "--workers", "1", "--graph-seeds", "2"]
    argv += ["--setting", "er:p=0.2", "--setting", "ba:m=1", "--setting", "ws:k=4,p=0.75"]
    assert main([*argv, "--ops", "sep_conv_3x3,conv_3x3", "--out", str(out)]) == 0
    # damage scores as genesis study damage --study writes them, and lines a hostile folder
    # could hold: wrong types, markup, a damaged line
    (out / "damage").mkdir()
    rows = [
        {"kind": "none", "family": "er", "accuracy": 0.8, "drop": 0.0},
        *(
            {"kind": k, "family": f, "out_degree": d, "in_degree": d, "drop": 0.01 * d}
            for k in ("node", "edge")
            for f in ("er", "ba")
            for d in (1, 2, 3)
        ),
        {"kind": "node", "family": "<script>alert(1)</script>", "out_degree": "x", "drop": None},
    ]
    lines = [json.dumps({"key": "s0-o0-g0-t0", "rows": rows}), '{"rows": "x"}', "not json", "{}"]
    (out / "damage" / "damage.jsonl").write_text("\n".join(lines) + "\n")
    report = write_report(out)
    text = report.read_text()
    for label in ("Node ops", "sep_conv_3x3 vs conv_3x3: Pearson r", "Graph damage"):
        assert label in text, label
    assert "node removals: 6" in text and "<script>alert(1)</script>" not in text
    assert "damage/damage.jsonl line 3 is damaged" in text
    dom = dump_dom(report, tmp_path / "a")
    assert 'data-images="7/7"' in dom  # 4 study figures, the ops figure, 2 damage figures
