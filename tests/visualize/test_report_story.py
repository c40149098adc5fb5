"""The report tells one story, and its figures are ones a reviewer accepts (issue 26, 4 and 6).

One search run with everything a summary must count (successive halving at rungs 1,3 with
promotions, a failed training, draws skipped over ``max_macs``, cached draws, a final step)
and tiny made-up study and damage rows. Figures are read back as matplotlib objects (the
``figures`` fixture of conftest.py), never as pixels: legends, titles, tick labels, lines.
"""

from __future__ import annotations

import html
import json
import math
import random
import re
from collections import Counter
from pathlib import Path

import pytest

import visualize.plots
from evolve.executors import InlineExecutor, failure_record
from genesis.runfolder import RunFolder
from visualize.damage import damage_plots, damage_summary
from visualize.plots import (
    accuracy_axis,
    costs_plot,
    fronts_plot,
    lineage_graph,
    pareto_plot,
    progress_plot,
    stats_plot,
)
from visualize.report import write_report
from visualize.runs import RunData, read_run
from visualize.studyplots import ops_plot, study_plots
from visualize.studystats import STAT_COLUMNS, OpsAnalysis, ops_analysis, ops_lines
from visualize.studystats import summarize_settings as summarize

CHANCE = "chance: 10% (1/10 classes)"  # Fashion-MNIST's ten classes, the networks' outputs


class FailsSecond(InlineExecutor):
    """Evaluates in this process; the second task comes back as a failed training."""

    def __init__(self):
        super().__init__()
        self.tasks = 0

    def evaluate(self, task):
        self.tasks += 1
        if self.tasks == 2:
            return failure_record(task, "error", "RuntimeError: injected")
        return super().evaluate(task)


@pytest.fixture(scope="module")
def story(tmp_path_factory, make_run):
    """A finished 2-generation run (rungs 1,3): promotions, 1 failure, skips, cached draws."""
    path = make_run(
        tmp_path_factory.mktemp("story") / "run",
        rungs=(1.0, 3.0),
        executor=FailsSecond(),
        max_macs=4e6,
    )
    log = [json.loads(line) for line in (path / "evaluations.jsonl").read_text().splitlines()]
    kinds = Counter((e["kind"], (e.get("result") or {}).get("status")) for e in log)
    # the run holds every case the summary counts (the fixture's premise, not the test)
    assert kinds[("skipped", None)] and kinds[("cached", "ok")] and kinds[("train", "error")]
    assert any(e.get("rung") for e in log)
    return path, log


def _promoted(log) -> dict[str, tuple[float, float]]:
    """hash -> (first-rung accuracy, highest-rung accuracy) of every promoted network."""
    first, best = {}, {}
    for e in log:
        r = e.get("result") or {}
        if e["kind"] == "train" and r.get("status") == "ok":
            first.setdefault(e["hash"], r["accuracy"])
            if e["rung"]:
                best[e["hash"]] = r["accuracy"]
    return {h: (first[h], acc) for h, acc in best.items() if f"{first[h]:.3f}" != f"{acc:.3f}"}


def _labels(ax) -> list[str]:
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


def _integer_ticks(axis) -> bool:
    locs = axis.get_majorticklocs()
    return len(locs) > 0 and all(float(v).is_integer() for v in locs)


def _summary(text: str) -> dict[str, str]:
    part = text[text.index("<h2>Summary</h2>") :]
    part = part[: part.index("</table>")]
    rows = re.findall(r"<th class='l'>(.*?)</th><td[^>]*>(.*?)</td>", part)
    return {html.unescape(k): html.unescape(v) for k, v in rows}


# -- one record per network: the highest rung it reached -------------------------------------------
def test_the_lineage_shows_the_record_of_the_highest_rung(story):
    path, log = story
    run = read_run(path)
    promoted = _promoted(log)
    assert promoted
    for h, (first, best) in promoted.items():
        source = lineage_graph(run, h).source
        assert f"acc {best:.3f}" in source and f"acc {first:.3f}" not in source, h
    members = {m["hash"]: m["accuracy"] for m in json.loads((path / "pareto.json").read_text())}
    for h, acc in members.items():  # the lineage says what the members table says
        assert f"acc {acc:.3f}" in lineage_graph(run, h).source


def test_every_per_network_figure_uses_the_highest_rung(story, tmp_path, figures):
    path, log = story
    run = read_run(path)
    promoted = _promoted(log)
    best = {h: e["result"]["accuracy"] for h, e in run.best_entries().items()}
    assert all(best[h] == acc for h, (_, acc) in promoted.items())
    pareto_plot(run, tmp_path / "pareto.png")
    fronts_plot(run, tmp_path / "fronts.png")
    stats_plot(run, tmp_path / "stats.png")
    drawn = {tuple(xy) for c in figures["pareto"].axes[0].collections for xy in c.get_offsets()}
    macs = {e["hash"]: e["result"]["macs"] for e in log if e.get("result")}
    for h, (first, acc) in promoted.items():
        assert (macs[h], acc) in drawn and (macs[h], first) not in drawn
    last_front = [ln for ln in figures["fronts"].axes[0].get_lines() if ln.get_label() != CHANCE]
    front_accs = set(last_front[-1].get_ydata())
    assert front_accs <= set(best.values())
    assert not front_accs & {first for first, _ in promoted.values()}
    ys = {y for c in figures["stats"].axes[0].collections for _, y in c.get_offsets()}
    assert ys == {a for a in best.values() if a and a > 0} - {0.0}


# -- legends, ticks, chance ------------------------------------------------------------------------
def test_every_front_line_is_in_the_legend_and_generations_tick_whole(story, tmp_path, figures):
    run = read_run(story[0])
    fronts_plot(run, tmp_path / "fronts.png")
    progress_plot(run, tmp_path / "progress.png")
    ax = figures["fronts"].axes[0]
    lines = [ln.get_label() for ln in ax.get_lines()]
    assert (
        _labels(ax)
        == lines
        == [
            "first population (generation 0)",
            "after generation 1",
            "after generation 2",
            CHANCE,
        ]
    )
    for ax in figures["progress"].axes:
        assert _integer_ticks(ax.xaxis), ax.get_title()
    assert _integer_ticks(figures["progress"].axes[2].yaxis)  # the front's size is a count
    assert CHANCE in _labels(figures["progress"].axes[0])


def test_a_long_run_keys_its_fronts_with_a_colour_bar_of_whole_generations(
    story, tmp_path, figures, monkeypatch
):
    monkeypatch.setattr(visualize.plots, "LEGEND_GENERATIONS", 2)
    fronts_plot(read_run(story[0]), tmp_path / "fronts.png")
    ax, bar = figures["fronts"].axes
    assert _labels(ax) == [CHANCE]
    assert bar.get_ylabel() == "front after generation" and _integer_ticks(bar.yaxis)


def test_a_run_of_one_generation_ticks_it_as_a_whole_number(tmp_path, make_run, figures):
    run = read_run(make_run(tmp_path / "one", generations=0))
    progress_plot(run, tmp_path / "progress.png")
    for ax in figures["progress"].axes:
        assert _integer_ticks(ax.xaxis)


def test_mac_axes_tick_plain_counts(story, tmp_path, figures):
    run = read_run(story[0])
    pareto_plot(run, tmp_path / "pareto.png")
    fronts_plot(run, tmp_path / "fronts.png")
    for name in ("pareto", "fronts"):
        axis = figures[name].axes[0].xaxis
        texts = [t.get_text() for t in axis.get_ticklabels(which="both") if t.get_text()]
        assert texts and all(re.fullmatch(r"\d+(\.\d+)?[kMG]?", t) for t in texts), texts
        assert axis.get_offset_text().get_text() == ""


def test_accuracy_axes_start_below_chance_or_at_zero(story, tmp_path, figures):
    run = read_run(story[0])
    assert run.chance() == (0.1, 10)
    pareto_plot(run, tmp_path / "pareto.png")
    ax = figures["pareto"].axes[0]
    assert ax.get_ylim()[0] < 0.1 < ax.get_ylim()[1] and CHANCE in _labels(ax)
    run.config["proxy"]["allow_class_mismatch"] = True  # the dataset's classes are unknown
    assert run.chance() is None
    pareto_plot(run, tmp_path / "pareto.png")
    ax = figures["pareto"].axes[0]
    assert ax.get_ylim()[0] == 0.0 and not any(t.startswith("chance") for t in _labels(ax))


def test_measured_costs_give_rho_with_n_and_p(tmp_path, figures):
    run = RunData(tmp_path)
    for i in range(6):
        result = {"status": "ok", "accuracy": 0.8, "macs": 1e6 * (i + 1), "latency_ms": i + 1.0}
        run.evaluations.append({"hash": f"{i:020x}", "kind": "train", "result": result})
    _, lines = costs_plot(run, tmp_path / "costs.png")
    assert lines == ["latency at batch 1 (ms) against MACs: Spearman rho = +1.00 (n = 6, p = 0)"]
    ax = figures["costs"].axes[0]
    assert ax.get_title().endswith("(n = 6, p = 0)") and _labels(ax) == ["networks (6)"]


# -- the summary and the settings ------------------------------------------------------------------
def test_the_summary_counts_every_candidate_and_shows_test_accuracy(story):
    path, log = story
    text = write_report(path).read_text()
    summary = _summary(text)
    first = [e for e in log if e["kind"] == "train" and not e["rung"]]
    assert summary["candidates trained (first rung)"] == str(len(first))
    promoted = sum(1 for e in log if e["kind"] == "train" and e["rung"])
    assert summary["trainings at later rungs (promoted)"] == str(promoted)
    assert summary["failed trainings, by status"] == "1 (error 1)"
    skipped = sum(1 for e in log if e["kind"] == "skipped")
    assert summary["skipped (over a cap), by cap"] == f"{skipped} (max_macs {skipped})"
    cached = sum(1 for e in log if e["kind"] == "cached")
    assert summary["cached (evaluated before, not trained again)"] == str(cached)
    # generations = 2 in the config: the logbook's generations 0, 1 and 2
    assert summary["generations"] == "the first population and 2 generations (of 2 in the config)"
    final = json.loads((path / "final.json").read_text())
    shown = summary["final test accuracy (retrained on the full training set)"]
    assert final and shown == "; ".join(f"{r['hash']}: {r['test_accuracy']:.4f}" for r in final)


def test_a_search_report_shows_its_own_config_tables_only(story, tmp_path):
    text = write_report(story[0], out=tmp_path / "r.html").read_text()
    settings = text[text.index("<h2>Settings</h2>") :]
    tables = re.findall(r"<h3>\[([\w.]+)\]</h3>", settings)
    # the run's own strategy's parameters, not every strategy's
    assert tables == ["search", "space", "proxy", "final", "execution", "strategy.nsga2"]
    assert "[tune]" not in text


def test_a_tuning_run_shows_its_tune_table_and_no_space(story, tmp_path):
    folder = RunFolder(tmp_path / "tune")
    folder.path.mkdir()
    config = (story[0] / "config.toml").read_text()
    config = config.replace('architecture = ""', 'architecture = "base.json"')
    folder.config_path.write_text(config.replace('strategy = "nsga2"', 'strategy = "grid"'))
    run = read_run(folder.path)
    assert run.kind == "tune"
    text = write_report(folder.path).read_text()
    tables = re.findall(r"<h3>\[([\w.]+)\]</h3>", text[text.index("<h2>Settings</h2>") :])
    assert tables == ["search", "proxy", "final", "execution", "tune"]  # grid has no parameters


# -- study figures ---------------------------------------------------------------------------------
def _study_rows(n_graphs: int = 3) -> list[dict]:
    """Rows as study.csv has them: 4 settings of 3 families, MACs matched near 1M."""
    rng = random.Random(0)
    rows = []
    for index, (label, family) in enumerate(
        [("ER(p=0.2)", "er"), ("ER(p=0.6)", "er"), ("BA(m=$1$)", "ba"), ("WS(k=4, p=0.75)", "ws")]
    ):
        for g in range(n_graphs):
            rows.append(
                {
                    "setting": label,
                    "setting_index": index,
                    "family": family,
                    "graph_seed": g,
                    "train_seed": 0,
                    "hash": f"{index:010x}{g:010x}",
                    "macs": 1_000_000 + rng.randrange(-400, 300),
                    **{k: rng.uniform(0.0, 3.0) for k in STAT_COLUMNS},
                    "split": "val",
                    "accuracy": rng.uniform(0.55, 0.65),
                    "status": "ok",
                }
            )
    return rows


def test_study_figures_show_chance_legends_n_p_and_plain_macs(tmp_path, figures):
    rows = _study_rows()
    out = study_plots(rows, summarize(rows), tmp_path, chance=(0.1, 10))
    assert set(out) == {"bars", "macs", "stats", "heatmap"}
    families = ["ba", "er", "ws"]

    bars = figures["study_bars"].axes[0]
    assert _labels(bars) == [*families, CHANCE]
    low, top = bars.get_ylim()
    assert low < 10 < top  # percent: the axis starts just below chance, drawn and labelled
    assert [ln.get_ydata()[0] for ln in bars.get_lines() if ln.get_label() == CHANCE] == [10]
    assert all(t.get_text().endswith("(n=3)") for t in bars.get_xticklabels())

    macs = figures["study_macs"].axes[0]
    texts = [t.get_text() for t in macs.get_xticklabels() if t.get_text()]
    assert macs.xaxis.get_offset_text().get_text() == ""  # no "+1e6"
    assert len(set(texts)) == len(texts) >= 2
    assert all(re.fullmatch(r"\d+(\.\d+)?[kM]", t) for t in texts), texts
    assert _labels(macs) == [*families, CHANCE] and macs.get_ylim()[0] < 10

    stats = figures["study_stats"]
    assert _labels(stats.axes[0]) == [*families, CHANCE]
    titles = [ax.get_title() for ax in stats.axes if ax.axison]
    assert len(titles) == len(STAT_COLUMNS)
    assert all(re.fullmatch(r"Spearman rho = [+-]\d\.\d\d \(n = 12, p = \S+\)", t) for t in titles)

    heat = figures["study_heatmap"]
    ax, bar = heat.axes
    assert not ax.get_images()  # no grid of mostly empty cells
    points = [xy for c in ax.collections for xy in c.get_offsets()]
    assert len(points) == len(rows)  # one point a network
    colours = [a for c in ax.collections for a in c.get_array()]
    assert sorted(colours) == pytest.approx(sorted(100 * r["accuracy"] for r in rows))
    assert bar.get_ylabel() == "validation accuracy (%)"
    assert _labels(ax) == families


def test_study_bars_start_at_zero_when_chance_is_unknown(tmp_path, figures):
    rows = _study_rows()
    study_plots(rows, summarize(rows), tmp_path)
    bars = figures["study_bars"].axes[0]
    assert bars.get_ylim()[0] == 0 and _labels(bars) == ["ba", "er", "ws"]
    assert all(p.get_y() == 0 for p in bars.patches)


def test_ops_figure_and_lines_give_n_and_p(tmp_path, figures):
    settings = ["A", "B", "C", "D"]
    cells = {}
    for k, s in enumerate(settings):
        cells[(s, "x")] = [0.5 + 0.01 * k, 0.51 + 0.01 * k]
        cells[(s, "y")] = [0.6 + 0.02 * k]
    rows = [
        {"setting": s, "base": s, "op": op, "accuracy": a}
        for (s, op), accs in cells.items()
        for a in accs
    ]
    analysis = ops_analysis(rows)
    assert isinstance(analysis, OpsAnalysis)
    ops_plot(analysis, "validation", tmp_path / "ops.png", chance=(0.1, 10))
    ax = figures["ops"].axes[0]
    assert re.search(r"\(n = 4 settings, p <= \S+\)$", ax.get_title()), ax.get_title()
    assert sorted(_labels(ax)) == sorted(["x", "y", CHANCE])
    (pair,) = [line for line in ops_lines(analysis) if " vs " in line]
    assert re.search(r"Pearson r \+1\.00 \(p = \S+\), Spearman rho \+1\.00 \(p = \S+\)", pair)
    assert pair.endswith("over n = 4 settings")


def test_damage_figures_give_rho_with_n_and_p_and_name_every_colour(tmp_path, figures):
    rows = []
    for family in ("er", "ws"):
        rows.append({"kind": "none", "family": family, "drop": 0.0})
        for d in range(1, 6):
            rows.append({"kind": "node", "family": family, "out_degree": d, "drop": 0.01 * d})
            rows.append({"kind": "edge", "family": family, "in_degree": d, "drop": 0.002 * d})
    assert set(damage_plots(rows, tmp_path)) == {"node", "edge"}
    for name in ("damage_nodes", "damage_edges"):
        ax = figures[name].axes[0]
        assert re.fullmatch(r"Spearman rho = \+1\.00 \(n = 10, p = \S+\)", ax.get_title())
        assert _labels(ax) == ["er: mean ± s.e. per degree", "ws: mean ± s.e. per degree"]
    lines = damage_summary(rows)
    assert all(re.search(r"\+1\.00 \(n = 10, p = \S+\)$", line) for line in lines), lines
    plain = [{k: v for k, v in r.items() if k != "family"} for r in rows]
    damage_plots(plain, tmp_path)  # no families: the one colour still named
    assert _labels(figures["damage_nodes"].axes[0]) == [
        "each removal (10)",
        "mean ± s.e. per degree",
    ]


def test_accuracy_axis_keeps_a_network_below_chance_in_view():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0.05, 0.6])
    accuracy_axis(ax, (0.25, 4))
    low, top = ax.get_ylim()
    plt.close(fig)
    assert low <= 0.05 and top >= 0.6 and not math.isclose(low, 0.25)


def test_the_run_kind_decides_the_tables(tmp_path):
    assert RunData(Path(tmp_path), config={"study": {}}).kind == "study"
    assert RunData(Path(tmp_path), config={"tune": {"architecture": ""}}).kind == "search"
    assert RunData(Path(tmp_path), config={"tune": {"architecture": 3}}).kind == "search"
