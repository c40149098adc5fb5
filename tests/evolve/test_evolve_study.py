"""``genesis study generators``: matched MACs, the run folder, its tables, resume after SIGKILL."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from runfiles import kill_when
from scipy import stats

from evolve.config import load_config
from evolve.executors import InlineExecutor
from evolve.study import run_study, study_jobs
from evolve.studyconfig import StudyConfig, StudyRunConfig
from evolve.studysettings import DEFAULT_GRID, PAPER_GRID, Setting
from genesis import GenesisError, architecture_hash, load_architecture
from genesis.cli import main
from genesis.compiler import compile_architecture
from genesis.complexity import count_complexity
from genesis.preprocess import read_sidecar
from genesis.runfolder import RunFolder
from visualize.study import write_study_outputs
from visualize.studystats import summarize_settings


def _call(argv):
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:  # argparse errors
        return exc.code


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _log(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "evaluations.jsonl").read_text().splitlines()]


SYNTHETIC = ["--fitness", "synthetic", "--workers", "1"]


# -- matched MACs ----------------------------------------------------------------------------------
@pytest.mark.parametrize("grid", [DEFAULT_GRID, PAPER_GRID[::6]], ids=["default", "paper"])
def test_every_network_of_every_family_is_within_two_percent(grid):
    cfg = StudyRunConfig(study=StudyConfig(settings=grid, graph_seeds=3, match_macs=1.5e6))
    jobs = study_jobs(cfg)
    assert len(jobs) == 3 * len(grid)
    assert {cfg.study.settings[j.setting].family for j in jobs} == {"er", "ba", "ws"}
    for j in jobs:
        assert abs(j.macs - 1.5e6) <= 0.02 * 1.5e6, (j.key, j.macs)
        assert count_complexity(j.arch).macs == j.macs
        # instance g draws with seed + g: the same instance is the same graph in every run
        assert j.arch.meta["seed"] == j.graph_seed
    # instances of one setting differ; the widths are said
    hashes = {j.hash for j in jobs if j.setting == 0}
    assert len(hashes) == 3 and all(j.widths.startswith("stem ") for j in jobs)


def test_a_networkx_generator_is_a_setting_too():
    s = Setting("nx:random_regular_graph", {"d": 3}, nodes=8)
    assert s.label == "nx:random_regular_graph(d=3)"
    cfg = StudyRunConfig(study=StudyConfig(settings=(s,), graph_seeds=2))
    assert all(abs(j.macs - 1e6) <= 2e4 for j in study_jobs(cfg))


def test_an_unreachable_target_is_one_line_and_exit_2(tmp_path, capsys):
    code = _call(
        ["study", "generators", *SYNTHETIC, "--match-macs", "100", "--out", tmp_path / "s"]
    )
    err = capsys.readouterr().err
    assert code == 2 and "ER(p=0.2) graph seed 0: 100 MACs is out of reach" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--setting", "er:q=0.3"], "er"),
        (["--setting", "nope:p=1"], "nope"),
        (["--setting", "er:p"], "unknown graph family 'er:p'"),
        (["--setting", "er:p=1,x"], "KEY=VALUE"),
        (["--graph-seeds", "0"], "graph_seeds must be an integer >= 1"),
        (["--match-macs", "lots"], "--match-macs must be a number or none"),
        (["--op", "no_such_op"], "op must be one of"),
        (["--nodes", "1"], "nodes must be an integer >= 2"),
        (["--epochs", "-1"], "epochs must be a positive number"),
        (["--setting", "er:p=0.2", "--setting", "er:p=0.2"], "distinct labels"),
        (["--graph-seeds", "5000", "--train-seeds", "5"], "MAX_STUDY_NETWORKS"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, argv, match):
    code = _call(["study", "generators", *SYNTHETIC, *argv, "--out", tmp_path / "s"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert match in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s").exists()


def test_a_search_config_is_refused_by_name(tmp_path, capsys):
    (tmp_path / "search.toml").write_text("[search]\npopulation = 4\n")
    code = _call(
        ["study", "generators", "--config", tmp_path / "search.toml", "--out", tmp_path / "s"]
    )
    assert code == 2 and "use genesis evolve" in capsys.readouterr().err


# -- the run folder and its tables ---------------------------------------------------------------
def test_a_synthetic_study_writes_its_folder_and_tables(tmp_path, capsys):
    out = tmp_path / "study"
    code = _call(["study", "generators", *SYNTHETIC, "--graph-seeds", "2", "--out", out])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    cfg = load_config(out / "config.toml", kind=StudyRunConfig)
    assert cfg.study.settings == DEFAULT_GRID and cfg.study.graph_seeds == 2
    log = _log(out)
    assert len(log) == 12 and {e["kind"] for e in log} == {"train"}
    assert len({e["key"] for e in log}) == 12
    for e in log:  # every architecture saved under its hash, the one that was trained
        arch = load_architecture(out / "architectures" / f"{e['hash']}.json")
        assert architecture_hash(arch) == e["hash"]
        assert e["result"]["macs"] == count_complexity(arch).macs
    assert json.loads((out / "run.json").read_text())["status"] == "finished"

    rows = _csv(out / "study.csv")
    assert len(rows) == 12
    for col in (
        "setting",
        "graph_seed",
        "train_seed",
        "macs",
        "params",
        "widths",
        "edges",
        "degree_mean",
        "degree_std",
        "degree_max",
        "clustering",
        "avg_path_length",
        "depth",
        "input_nodes",
        "output_nodes",
        "split",
        "accuracy",
        "status",
    ):
        assert col in rows[0], col
    assert all(abs(int(r["macs"]) - 1e6) <= 2e4 and r["split"] == "val" for r in rows)
    assert all(r["edges"] and r["clustering"] != "" for r in rows)
    # BA(1) stages are trees: no triangles, one edge fewer than nodes on each stage
    ba1 = [r for r in rows if r["setting"] == "BA(m=1)"]
    assert ba1 and all(float(r["clustering"]) == 0.0 and float(r["edges"]) == 7.0 for r in ba1)

    summary = _csv(out / "summary.csv")
    assert [r["setting"] for r in summary] == [s.label for s in DEFAULT_GRID]
    assert all(r["n"] == "2" and r["failed"] == "0" for r in summary)
    text = (out / "summary.txt").read_text()
    assert text.startswith("accuracy on the validation split") and "best: " in text
    assert "best: " in printed.out and "study.csv" in printed.out


def test_the_summary_is_welchs_test_against_the_best():
    rows = []
    accs = {0: [0.80, 0.81, 0.82, 0.80], 1: [0.70, 0.71, 0.69, 0.70], 2: [0.805, 0.79, 0.82, 0.80]}
    for s, values in accs.items():
        for i, a in enumerate(values):
            rows.append(
                {
                    "setting": f"S{s}",
                    "setting_index": s,
                    "graph_seed": i // 2,
                    "train_seed": i % 2,
                    "accuracy": a,
                    "macs": 1000,
                }
            )
    rows.append(
        {
            "setting": "S2",
            "setting_index": 2,
            "graph_seed": 9,
            "train_seed": 0,
            "accuracy": None,
            "macs": 1000,
        }
    )
    summaries = summarize_settings(rows)
    s0, s1, s2 = summaries
    assert s0.diff == 0 and s0.p_value is None  # the best
    assert s1.p_value == pytest.approx(stats.ttest_ind(accs[1], accs[0], equal_var=False).pvalue)
    assert s1.beyond_noise is True and s1.diff == pytest.approx(-0.1075)
    assert s2.beyond_noise is False and s2.n == 4 and s2.failed == 1
    half = stats.t.ppf(0.975, 3) * stats.tstd(accs[0]) / 2
    assert (s0.ci_low, s0.ci_high) == pytest.approx((0.8075 - half, 0.8075 + half))
    # graph spread: std of the instance means; training spread: pooled std within instances
    g = [sum(accs[0][:2]) / 2, sum(accs[0][2:]) / 2]
    assert s0.std_graphs == pytest.approx(stats.tstd(g))
    within = [stats.tvar(accs[0][:2]), stats.tvar(accs[0][2:])]
    assert s0.std_train == pytest.approx(math.sqrt(sum(within) / 2))


def test_train_seeds_repeat_each_graph_and_final_reads_the_test_split(tmp_path, capsys):
    out = tmp_path / "study"
    argv = [
        "study",
        "generators",
        *SYNTHETIC,
        "--setting",
        "ws:k=4,p=0.75",
        "--setting",
        "ba:m=1",
        "--graph-seeds",
        "2",
        "--train-seeds",
        "2",
        "--final",
        "--out",
        out,
    ]
    assert _call(argv) == 0, capsys.readouterr().err
    rows = _csv(out / "study.csv")
    assert len(rows) == 8 and {r["split"] for r in rows} == {"test"}
    # the same graph instance trains with each seed: one architecture, two trainings
    pairs = {(r["setting"], r["graph_seed"]): set() for r in rows}
    for r in rows:
        pairs[(r["setting"], r["graph_seed"])].add((r["hash"], r["train_seed"]))
    assert all(len({h for h, _ in v}) == 1 and len(v) == 2 for v in pairs.values())
    summary = _csv(out / "summary.csv")
    assert all(r["std_graphs"] != "" and r["std_train"] != "" for r in summary)
    assert (out / "summary.txt").read_text().startswith("accuracy on the test split")


def test_a_network_over_a_cap_shows_as_skipped_not_dropped(tmp_path, capsys):
    out = tmp_path / "study"
    argv = [
        "study",
        "generators",
        *SYNTHETIC,
        "--setting",
        "er:p=0.2",
        "--setting",
        "er:p=0.9",
        "--graph-seeds",
        "1",
        "--match-macs",
        "none",
        "--max-params",
        "50000",
        "--out",
        out,
    ]
    assert _call(argv) == 0, capsys.readouterr().err
    log = _log(out)
    kinds = {e["label"]: e["kind"] for e in log}
    assert sorted(kinds.values()) == ["skipped", "train"], kinds
    rows = {r["setting"]: r for r in _csv(out / "study.csv")}
    skipped = next(r for r in rows.values() if r["status"] == "skipped")
    assert skipped["accuracy"] == "" and "max_params = 50000" in skipped["error"]
    summary = {r["setting"]: r for r in _csv(out / "summary.csv")}
    assert summary[skipped["setting"]]["failed"] == "1" and summary[skipped["setting"]]["n"] == "0"
    assert "failed or skipped" in (out / "summary.txt").read_text()


def test_resume_with_new_study_flags_is_refused(tmp_path, capsys):
    out = tmp_path / "study"
    assert _call(["study", "generators", *SYNTHETIC, "--graph-seeds", "1", "--out", out]) == 0
    before = (out / "evaluations.jsonl").read_bytes()
    code = _call(["study", "generators", "--resume", out, "--graph-seeds", "3"])
    assert code == 2 and "--resume continues with the study's own config" in capsys.readouterr().err
    assert (out / "evaluations.jsonl").read_bytes() == before


# -- resume ----------------------------------------------------------------------------------------
class _Killed(BaseException):
    """Stands for a SIGKILL: nothing in the study may catch it."""


class _DiesAfter(InlineExecutor):
    def __init__(self, n: int):
        super().__init__()
        self.left = n

    def next_result(self):
        if self.left == 0:
            raise _Killed()
        self.left -= 1
        return super().next_result()


def test_a_resumed_study_trains_only_what_the_log_lacks(tmp_path):
    cfg = StudyRunConfig(
        study=StudyConfig(graph_seeds=2),
        proxy=replace(StudyRunConfig().proxy, fitness="synthetic"),
    )
    whole = RunFolder(tmp_path / "whole")
    whole.create(cfg)
    reference = run_study(cfg, whole, InlineExecutor(), log=lambda line: None)
    part = RunFolder(tmp_path / "part")
    part.create(cfg)
    with pytest.raises(_Killed):
        run_study(cfg, part, _DiesAfter(5), log=lambda line: None)
    assert len(_log(part.path)) == 5
    lines: list[str] = []
    executor = InlineExecutor()
    resumed = run_study(cfg, part, executor, log=lines.append)
    assert lines[0] == "resuming: 5 of 12 trainings are in the log"
    assert len(_log(part.path)) == 12  # nothing trained twice
    strip = lambda es: sorted(json.dumps(e, sort_keys=True) for e in es)  # noqa: E731
    assert strip(resumed) == strip(reference)


def test_sigkill_then_resume_loses_no_finished_training(tmp_path):
    (tmp_path / "study.toml").write_text(
        '[study]\ngraph_seeds = 2\n[proxy]\nfitness = "synthetic"\nsynthetic_seconds = 0.2\n'
    )
    cmd = [sys.executable, "-m", "genesis", "study", "generators", "--config", "study.toml"]
    proc = subprocess.Popen(
        [*cmd, "--workers", "2", "--out", "S"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    log = tmp_path / "S" / "evaluations.jsonl"

    def some_done() -> bool:
        return log.exists() and len(log.read_text().splitlines()) >= 4

    kill_when(proc, some_done, "four finished trainings")
    before = log.read_text().splitlines()
    assert 4 <= len(before) < 12 and not (tmp_path / "S" / "study.csv").exists()
    done = subprocess.run(
        [*cmd[:4], "generators", "--resume", "S"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    after = log.read_text().splitlines()
    assert after[: len(before)] == before  # what was written stays
    assert len(after) == 12 and len({json.loads(x)["key"] for x in after}) == 12
    assert len(_csv(tmp_path / "S" / "study.csv")) == 12


# -- real training ---------------------------------------------------------------------------------
def test_a_real_study_trains_keeps_weights_and_scores_validation(tmp_path, capsys):
    out = tmp_path / "study"
    (tmp_path / "study.toml").write_text("[proxy]\nval_size = 128\n")
    argv = [
        "study",
        "generators",
        "--config",
        tmp_path / "study.toml",
        "--dataset",
        "synthetic",
        "--subset",
        "256",
        "--epochs",
        "1",
        "--setting",
        "ws:k=4,p=0.75",
        "--setting",
        "ba:m=1",
        "--graph-seeds",
        "1",
        "--match-macs",
        "3e5",
        "--workers",
        "1",
        "--out",
        out,
    ]
    assert _call(argv) == 0, capsys.readouterr().err
    log = _log(out)
    assert all(e["result"]["status"] == "ok" and e["result"]["split"] == "val" for e in log)
    for e in log:
        state = torch.load(out / "weights" / f"{e['key']}.pt", weights_only=True)
        arch = load_architecture(out / "architectures" / f"{e['hash']}.json")
        compile_architecture(arch, seed=0).load_state_dict(state)  # the network it trained
        # beside them, what they expect of their input; the log does not repeat it
        beside = read_sidecar(out / "weights" / f"{e['key']}.pt")
        assert beside is not None and beside.input_shape == arch.input_shape
        assert e["result"]["preprocess"] is None
    result = write_study_outputs(out)  # the tables can be rebuilt from the folder alone
    assert len(result["rows"]) == 2 and not result["problems"]


def test_study_tables_refuse_a_search_folder(tmp_path):
    (tmp_path / "config.toml").write_text("[search]\n")
    with pytest.raises(GenesisError, match="not a study folder"):
        write_study_outputs(tmp_path)


# -- genesis study ops -----------------------------------------------------------------------------
def test_an_ops_study_draws_each_graph_once_and_matches_every_op():
    from evolve.damage import KEY_PATTERN
    from evolve.studysettings import PAPER_OPS

    cfg = StudyRunConfig(
        study=StudyConfig(settings=DEFAULT_GRID[:3], graph_seeds=2, ops=PAPER_OPS, match_macs=1e6)
    )
    jobs = study_jobs(cfg)
    assert len(jobs) == cfg.study.networks == 3 * 4 * 2
    assert all(KEY_PATTERN.fullmatch(j.key) for j in jobs) and len({j.key for j in jobs}) == 24
    for j in jobs:
        assert abs(j.macs - 1e6) <= 2e4, (j.key, j.macs)
        assert j.arch.op_names() == {j.op} and j.label.endswith(f" [{j.op}]")
    # instance g of a setting is the same graph with every op; only the widths differ
    for i in range(3):
        for g in (0, 1):
            same = [j for j in jobs if j.setting == i and j.graph_seed == g]
            assert len(same) == 4
            wirings = {tuple(tuple(sorted(s.graph.edges)) for s in j.arch.stages) for j in same}
            assert len(wirings) == 1
    # a plain 3x3 conv costs more per channel than a separable one: it is matched narrower
    first = {j.op: j for j in jobs if j.setting == 0 and j.graph_seed == 0}
    assert first["conv_3x3"].arch.stages[0].channels < first["sep_conv_3x3"].arch.stages[0].channels


def test_a_synthetic_ops_study_writes_the_rank_correlations(tmp_path, capsys):
    out = tmp_path / "ops"
    argv = ["study", "ops", *SYNTHETIC, "--graph-seeds", "2", "--ops", "sep_conv_3x3,conv_3x3"]
    argv += ["--setting", "er:p=0.2", "--setting", "ba:m=1", "--setting", "ws:k=4,p=0.75"]
    assert _call([*argv, "--out", out]) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "3 settings x 2 ops x 2 graph seeds" in printed and "ops.csv" in printed
    cfg = load_config(out / "config.toml", kind=StudyRunConfig)
    assert cfg.study.ops == ("sep_conv_3x3", "conv_3x3")
    rows = _csv(out / "study.csv")
    assert len(rows) == 12 and {r["op"] for r in rows} == {"sep_conv_3x3", "conv_3x3"}
    # ops.csv: each setting's mean with each op, read again from study.csv
    table = {r["setting"]: r for r in _csv(out / "ops.csv")}
    assert list(table) == ["ER(p=0.2)", "BA(m=1)", "WS(k=4, p=0.75)"]
    means = {}
    for base in table:
        for op in cfg.study.ops:
            accs = [float(r["accuracy"]) for r in rows if r["base"] == base and r["op"] == op]
            means[base, op] = sum(accs) / len(accs)
            assert float(table[base][f"{op} mean"]) == pytest.approx(means[base, op], abs=1e-6)
            assert table[base][f"{op} n"] == "2"
    (pair,) = _csv(out / "ops_correlation.csv")
    xs = [means[b, "sep_conv_3x3"] for b in table]
    ys = [means[b, "conv_3x3"] for b in table]
    assert pair["settings"] == "3"
    assert float(pair["pearson"]) == pytest.approx(stats.pearsonr(xs, ys).statistic, abs=1e-5)
    assert float(pair["spearman"]) == pytest.approx(stats.spearmanr(xs, ys).statistic, abs=1e-5)
    text = (out / "summary.txt").read_text()
    assert "sep_conv_3x3 vs conv_3x3: Pearson r" in text
    assert (out / "study_ops.png").read_bytes()[:4] == b"\x89PNG"
    # a resume trains nothing more and rewrites the same tables
    before = (out / "ops.csv").read_text()
    assert _call(["study", "ops", "--resume", out, "--workers", "1"]) == 0
    assert len(_log(out)) == 12 and (out / "ops.csv").read_text() == before


@pytest.mark.parametrize(
    "argv, match",
    [
        (["study", "ops", "--ops", "conv_3x3"], "two ops or more"),
        (["study", "ops", "--ops", "conv_3x3,nope"], "unknown op"),
        (["study", "ops", "--ops", "conv_3x3,conv_3x3"], "distinct"),
    ],
)
def test_bad_ops_are_one_line_and_exit_2(tmp_path, capsys, argv, match):
    assert _call([*argv, *SYNTHETIC, "--out", tmp_path / "o"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and match in err[0]
    assert not (tmp_path / "o").exists()


def test_a_config_with_ops_belongs_to_study_ops(tmp_path, capsys):
    (tmp_path / "s.toml").write_text('[study]\nops = ["conv_3x3", "sep_conv_3x3"]\n')
    argv = ["study", "generators", "--config", tmp_path / "s.toml", *SYNTHETIC]
    assert _call([*argv, "--out", tmp_path / "o"]) == 2
    assert "run genesis study ops" in capsys.readouterr().err
