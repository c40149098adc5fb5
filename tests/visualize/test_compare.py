"""Comparing runs: the per-run summary, the comparison plot and ``genesis compare``."""

import json

import matplotlib.image
import pytest

from evolve.config import EvolveConfig
from genesis.cli import main
from genesis.runfolder import RunFolder
from visualize.compare import comparison_plot, summarize_run
from visualize.runs import read_run

TARGET = 2e6


@pytest.fixture(scope="module")
def runs(tmp_path_factory, make_run):
    root = tmp_path_factory.mktemp("compare")
    budget = {"budget_evals": 8, "top_k": 0}
    return [
        make_run(
            root / f"{s}-{k}",
            s,
            k,
            **budget,
            **({"max_macs": TARGET} if s == "constrained" else {}),
        )
        for s in ("random", "nsga2", "constrained")
        for k in (0, 1)
    ]


def _by_hand(path, target):
    """The best accuracy under ``target`` and the hypervolume, read straight from the files."""
    log = [json.loads(line) for line in (path / "evaluations.jsonl").read_text().splitlines()]
    accs = [
        e["result"]["accuracy"]
        for e in log
        if e.get("result") and e["result"]["status"] == "ok" and e["result"]["macs"] <= target
    ]
    return max(accs, default=0.0), json.loads((path / "run.json").read_text())["hypervolume"]


def test_summary_matches_the_run_files(runs):
    for path in runs:
        r = summarize_run(read_run(path), TARGET)
        best_under, hv = _by_hand(path, TARGET)
        assert r["best_under_target"] == pytest.approx(best_under)
        assert r["hypervolume"] == pytest.approx(hv) and hv > 0
        assert r["trained"] == 8 and r["status"] == "finished"
        assert r["best"] >= r["best_under_target"]
        assert r["strategy"] == path.name.split("-")[0] and r["seed"] == int(path.name[-1])
    # without a target the best under it is the best of all
    r = summarize_run(read_run(runs[0]))
    assert r["best_under_target"] == r["best"]


def test_constrained_under_a_hard_budget_never_trains_past_it(runs):
    for path in runs[4:]:
        assert summarize_run(read_run(path), TARGET)["best_under_target"] > 0
        assert all(p[1] <= TARGET for p in read_run(path).points())


def test_summary_of_a_run_in_progress_uses_its_logbook(runs, tmp_path):
    path = tmp_path / "partial"
    RunFolder(path).create(EvolveConfig())
    assert summarize_run(read_run(path))["hypervolume"] == 0.0
    src = read_run(runs[0])
    state = json.loads((runs[0] / "run.json").read_text())
    state.pop("hypervolume")
    (runs[0] / "run.json").write_text(json.dumps(state))
    try:
        assert summarize_run(read_run(runs[0]))["hypervolume"] == src.logbook[-1]["hypervolume"]
    finally:
        state["hypervolume"] = src.state["hypervolume"]
        (runs[0] / "run.json").write_text(json.dumps(state))


def test_comparison_plot(runs, tmp_path):
    out = comparison_plot([read_run(p) for p in runs], tmp_path / "c.png", TARGET)
    image = matplotlib.image.imread(out)
    assert image.shape[1] > 2 * image.shape[0] > 400  # three panels side by side
    assert comparison_plot([], tmp_path / "none.png") is None
    assert not (tmp_path / "none.png").exists()


def test_cli_compare_prints_every_run_and_the_means(runs, tmp_path, capsys):
    out = tmp_path / "cmp.svg"
    assert main(["compare", *map(str, runs), "--target-macs", str(TARGET), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    for path in runs:
        r = summarize_run(read_run(path), TARGET)
        line = next(ln for ln in text.splitlines() if ln.startswith(path.name))
        assert f"{r['hypervolume']:.4f}" in line and f"{r['best_under_target']:.4f}" in line
    assert "mean over runs" in text and out.read_text().startswith("<?xml")


def test_cli_compare_warns_when_hypervolumes_are_not_comparable(runs, make_run, tmp_path, capsys):
    other = make_run(tmp_path / "other", "random", 0, budget_evals=8, top_k=0, ref_macs=5e6)
    assert main(["compare", str(runs[0]), str(other)]) == 0
    assert "ref_macs" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--target-macs", "-1"], "--target-macs must be a positive number"),
        (["-o", "plot.txt"], "--output must end in .png, .svg or .pdf"),
    ],
)
def test_cli_compare_bad_flags(runs, args, message, capsys):
    assert main(["compare", str(runs[0]), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_cli_compare_refuses_a_folder_that_is_no_run(tmp_path, capsys):
    assert main(["compare", str(tmp_path)]) == 2
    assert "is not a genesis run folder" in capsys.readouterr().err


def test_comparison_table_has_a_line_per_run_and_means_per_strategy(runs):
    from visualize.compare import comparison_table, strategy_means

    rows = [summarize_run(read_run(p), TARGET) for p in runs]
    lines = comparison_table(rows, TARGET)
    assert lines[0].split()[-1] == "best<target"
    assert [ln.split()[0] for ln in lines[1 : 1 + len(runs)]] == [p.name for p in runs]
    assert lines[1 + len(runs)] == "" and lines[2 + len(runs)].startswith("mean over runs")
    means = strategy_means(rows)
    assert list(means) == ["random", "nsga2", "constrained"]
    for strategy, m in means.items():
        mine = [r for r in rows if r["strategy"] == strategy]
        assert m["runs"] == 2
        assert m["hypervolume"] == pytest.approx(sum(r["hypervolume"] for r in mine) / 2)
        line = next(ln for ln in lines[3 + len(runs) :] if ln.split()[0] == strategy)
        assert f"{m['best_under_target']:.4f}" in line
    one = comparison_table(rows[:1])
    assert len(one) == 2 and one[0].split()[-1] == "best"  # one run: nothing to average


def test_comparability_warnings_name_each_setting_that_differs(runs, make_run, tmp_path):
    from visualize.compare import comparability_warnings

    same = [read_run(p) for p in runs]
    assert comparability_warnings(same) == []
    other = make_run(tmp_path / "other", "random", 0, budget_evals=6, top_k=0, ref_macs=5e6)
    warnings = comparability_warnings([same[0], read_run(other)])
    assert [w.split()[5] for w in warnings] == ["ref_macs", "budget_evals"]
    assert all(w.endswith("their hypervolumes are not comparable") for w in warnings)
