"""Plots and the HTML report of a run folder, checked in a real (headless) browser."""

import json
import re
import shutil
import subprocess

import matplotlib.image
import pytest
from browser import CHROMIUM_FLAGS, dump_dom
from browser import chromium as browser_path

from genesis import GenesisError
from genesis.cli import main
from visualize.plots import front_points, lineage_graph, pareto_plot, progress_plot, stats_plot
from visualize.report import write_report
from visualize.runs import read_run


@pytest.fixture(scope="module")
def runs(tmp_path_factory, make_run):
    root = tmp_path_factory.mktemp("runs")
    return make_run(root / "nsga2"), make_run(root / "random", "random", seed=1)


def test_front_points_are_non_dominated():
    pts = [(0.5, 10, "a"), (0.6, 20, "b"), (0.55, 30, "c"), (0.4, 5, "d"), (0.6, 25, "e")]
    assert [p[2] for p in front_points(pts)] == ["d", "a", "b"]


def test_plots(runs, tmp_path):
    run, base = (read_run(p) for p in runs)
    for out in (
        pareto_plot(run, tmp_path / "p.png", base),
        progress_plot(run, tmp_path / "g.png"),
        stats_plot(run, tmp_path / "s.svg"),
    ):
        assert out is not None and out.stat().st_size > 1000
    assert "lineage" in lineage_graph(run, run.pareto[0]["hash"]).source


def test_report_content(runs):
    run_dir, base_dir = runs
    out = write_report(run_dir, base_dir)
    text = out.read_text()
    run = read_run(run_dir)
    assert out == run_dir / "report.html"
    for member in run.pareto:
        assert member["hash"] in text
    for rec in run.final:
        assert f"{rec['test_accuracy']:.4f}" in text
    assert text.count("<svg") >= len(run.pareto) + 1  # every member drawn, plus the lineage
    assert (
        text.count("data:image/png;base64,") == 4
    )  # Pareto, progress, fronts per generation, statistics
    assert "[search]" in text and "nsga2" in text and "random (baseline)" not in text
    for href in set(re.findall(r"href='([^']+)'", text)):
        assert (run_dir / href).exists(), href  # relative links resolve
    urls = set(re.findall(r"(?:src|href)=['\"](https?://[^'\"]+)", text))
    assert not urls  # self-contained: nothing fetched from the network


def test_partial_run_gives_partial_report(runs, tmp_path):
    part = tmp_path / "part"
    shutil.copytree(runs[0], part)
    (part / "pareto.json").unlink()
    (part / "final.json").unlink()
    (part / "report.html").unlink(missing_ok=True)
    state = json.loads((part / "run.json").read_text())
    (part / "run.json").write_text(json.dumps({**state, "status": "running"}))
    log = (part / "evaluations.jsonl").read_text()
    (part / "evaluations.jsonl").write_text(log[: len(log) - 40])  # a line cut by a kill
    text = write_report(part).read_text()
    assert "has not finished" in text and "no generation has finished yet" in text
    assert main(["report", str(part)]) == 0


def test_not_a_run_folder(tmp_path, capsys):
    with pytest.raises(GenesisError, match="not a genesis run folder"):
        write_report(tmp_path)
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_report_loads_in_headless_chromium(runs, tmp_path):
    chromium = browser_path()
    report = write_report(runs[0], runs[1])
    dom = dump_dom(report, tmp_path / "a")
    assert 'data-images="4/4"' in dom  # every embedded plot decoded (fronts included)
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'b'}",
            "--window-size=1200,1600",
            f"--screenshot={shot}",
            report.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[0] >= 1000 and pixels.std() > 0.05  # content, not a blank page
