"""The report of a live run, read in headless Chromium; the finished report's plots by content.

A real ``genesis evolve`` process (synthetic fitness, each evaluation slowed to 0.4 s) is
reported on while it runs. Then the finished report's figures are checked by what they draw:
the points of the Pareto plot are the front in ``pareto.json`` and every evaluation in the log,
the progress curves are the logbook, and the PNGs embedded in the page are those figures.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from browser import CHROMIUM_FLAGS
from browser import chromium as browser_path

import visualize.plots
from genesis.cli import main

CONFIG = """\
[search]
population = 4
generations = 5
seed = 2
max_macs = "none"
max_params = "none"
seconds = "none"
[proxy]
fitness = "synthetic"
synthetic_seconds = 0.4
rungs = []
[final]
top_k = 2
[execution]
workers = 1
"""


def trained(run: Path) -> int:
    log = run / "evaluations.jsonl"
    if not log.exists():
        return 0
    count = 0
    for line in log.read_text().splitlines():
        with contextlib.suppress(json.JSONDecodeError):  # a line being written
            count += json.loads(line)["kind"] == "train"
    return count


def dump_dom(page: Path, profile: Path) -> str:
    chromium = browser_path()
    return subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A run reported on mid-search: (run folder, live page, trained at report time, process)."""
    root = tmp_path_factory.mktemp("live")
    (root / "slow.toml").write_text(CONFIG)
    run = root / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "genesis", "evolve", "--config", "slow.toml", "--out", "run"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
    )
    try:
        deadline = time.monotonic() + 120
        while trained(run) < 6:  # into generation 1: a logbook row and a front exist
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the search never got going"
            time.sleep(0.05)
        before = trained(run)
        page = root / "live.html"
        assert main(["report", str(run), "-o", str(page)]) == 0
        after = trained(run)
        still_running = proc.poll() is None
        state = json.loads((run / "run.json").read_text())
        assert proc.wait(timeout=120) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert still_running and state["status"] == "running", "the search ended before the report"
    return run, page, (before, after)


def test_the_report_of_a_running_search(live, tmp_path):
    run, page, (before, after) = live
    text = page.read_text()
    assert "has not finished" in text
    shown = [
        int(n) for n in re.findall(r"candidates trained \(first rung\)</th><td[^>]*>(\d+)<", text)
    ]
    assert shown and before <= shown[0] <= after < 24
    dom = dump_dom(page, tmp_path / "profile")
    images = text.count("data:image/png;base64,")
    assert images >= 2 and f'data-images="{images}/{images}"' in dom  # each plot decoded
    assert "has not finished" in dom


@pytest.fixture(scope="module")
def finished(live, make_run, tmp_path_factory):
    """The finished run's report with a baseline, and what each figure drew."""
    run = live[0]
    base = make_run(tmp_path_factory.mktemp("base") / "random", "random", seed=1)
    drawn: dict[str, dict] = {}
    real = visualize.plots.save_figure

    def recording(fig, out):
        path = real(fig, out)
        drawn[Path(out).stem] = {
            "collections": {
                c.get_label(): c.get_offsets().tolist() for c in fig.axes[0].collections
            },
            "lines": [
                {"label": ln.get_label(), "xy": ln.get_xydata().tolist()}
                for ax in fig.axes
                for ln in ax.get_lines()
                if not ln.get_label().startswith("chance")  # the accuracy axes' chance line
            ],
            "png": path.read_bytes(),
        }
        return path

    mp = pytest.MonkeyPatch()
    mp.setattr(visualize.plots, "save_figure", recording)
    try:
        assert main(["report", str(run), "--baseline", str(base)]) == 0
    finally:
        mp.undo()
    return run, base, drawn, (run / "report.html").read_text()


def _pairs(rows):
    return [(float(m), float(a)) for m, a in rows]


def test_the_pareto_plot_draws_the_front_and_every_evaluation(finished):
    run, base, drawn, _ = finished
    fig = drawn["pareto"]
    pareto = json.loads((run / "pareto.json").read_text())
    front = [(float(p["macs"]), float(p["accuracy"])) for p in pareto]
    assert _pairs(fig["collections"]["nsga2: Pareto front"]) == front
    log = [json.loads(line) for line in (run / "evaluations.jsonl").read_text().splitlines()]
    every = {
        (float(e["result"]["macs"]), float(e["result"]["accuracy"]))
        for e in log
        if e["kind"] == "train" and e["result"]["status"] == "ok"
    }
    (label,) = [k for k in fig["collections"] if k.startswith("nsga2: all ")]
    points = _pairs(fig["collections"][label])
    assert set(points) == every and label == f"nsga2: all {len(points)} evaluated"
    steps = [ln["xy"] for ln in fig["lines"] if not ln["label"].startswith("random")]
    assert _pairs(steps[0]) == front  # the front's staircase
    baseline = [ln for ln in fig["lines"] if ln["label"] == "random (baseline): front"]
    base_front = [
        (float(p["macs"]), float(p["accuracy"]))
        for p in json.loads((base / "pareto.json").read_text())
    ]
    assert len(baseline) == 1 and _pairs(baseline[0]["xy"]) == base_front


def test_the_fronts_plot_draws_the_front_after_each_generation(finished):
    """One step line per generation: the front of everything evaluated up to it (read here
    from the log alone), the last one the front the run reports."""
    run, _, drawn, _ = finished
    log = [json.loads(x) for x in (run / "evaluations.jsonl").read_text().splitlines()]
    gens = sorted({e["generation"] for e in log if (e.get("result") or {}).get("status") == "ok"})
    lines = drawn["fronts"]["lines"]
    assert len(lines) == len(gens) >= 2
    seen = {}
    for g, line in zip(gens, lines, strict=True):
        for e in log:
            r = e.get("result") or {}
            if e["generation"] == g and r.get("status") == "ok" and r.get("accuracy"):
                seen[e["hash"]] = (r["accuracy"], r["macs"])
        pts = sorted(seen.values(), key=lambda p: (p[1], -p[0]))
        front, best = [], -1.0
        for acc, macs in pts:
            if acc > best:
                front.append((float(macs), acc))
                best = acc
        got = [v for xy in line["xy"] for v in xy]
        assert got == pytest.approx([v for xy in front for v in xy]), g


def test_the_progress_plot_draws_the_logbook(finished):
    run, _, drawn, _ = finished
    with open(run / "logbook.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    lines = drawn["progress"]["lines"]
    assert len(lines) == 3
    for line, key in zip(lines, ("best_accuracy", "hypervolume", "front_size"), strict=True):
        assert [x for x, _ in line["xy"]] == [float(r["generation"]) for r in rows]
        assert [y for _, y in line["xy"]] == pytest.approx([float(r[key]) for r in rows]), key


def test_the_page_embeds_exactly_these_figures(finished):
    _, _, drawn, text = finished
    embedded = [
        base64.b64decode(b) for b in re.findall(r"src='data:image/png;base64,([^']+)'", text)
    ]
    assert embedded == [drawn[name]["png"] for name in ("pareto", "progress", "fronts", "stats")]
