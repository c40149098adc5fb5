"""Hyperparameter search of one fixed architecture: HyperSpace, TuneConfig and ``genesis tune``.

The grid must be exactly the cartesian product of the listed values, random search must draw
learning rate and weight decay log-uniformly within their ranges, and ``genesis tune`` must run
on the evolve engine: the same log, checkpoint, resume (under a real SIGKILL) and report, ending
with the best hyperparameters written back into an architecture file. Everything runs on the
deterministic ``synthetic`` fitness.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import random
import shutil
import statistics
import subprocess
import sys
from collections import Counter
from dataclasses import asdict, replace
from pathlib import Path

import pytest
from runfiles import kill_when
from runfiles import read_log as _log
from runfiles import snapshot as _snapshot
from runfiles import trained as _trained

from evolve.config import EvolveConfig, ProxyConfig, load_config
from evolve.tune import HyperSpace, TuneConfig
from genesis import GenesisError, architecture_hash, build_architecture, load_architecture
from genesis.cli import main
from genesis.genome import save_architecture
from genesis.runfolder import RunFolder

BASE = build_architecture("fashion-mnist", "er", {"p": 0.5}, seed=0, channels=4, nodes=3)
NAMES = ("lr", "batch_size", "epochs", "optimizer", "weight_decay", "label_smoothing")

#: The tuning run the CLI tests share: a 12-point grid, 3 generations of 4, 2 workers.
CONFIG = """\
[search]
population = 4
seed = 3
[proxy]
synthetic_seconds = 0.2
[execution]
workers = 2
[tune]
lr = [0.01, 0.1, 0.3]
weight_decay = [1e-05, 0.0001]
label_smoothing = [0.0, 0.1]
"""
GRID = TuneConfig(lr=(0.01, 0.1, 0.3), weight_decay=(1e-5, 1e-4), label_smoothing=(0.0, 0.1))
PER_GEN = 4


def _train_key(arch) -> tuple:
    t = arch.train
    return tuple(getattr(t, n) for n in NAMES)


# -- HyperSpace: the grid --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "cfg",
    [
        TuneConfig(),
        GRID,
        TuneConfig(
            lr=(0.01, 0.1, 0.3),
            batch_size=(32, 64),
            epochs=(1, 2),
            optimizer=("sgd", "adamw"),
            weight_decay=(1e-5, 1e-3),
            label_smoothing=(0.0, 0.2),
        ),
        TuneConfig(lr=(0.05,), weight_decay=(0.0,), label_smoothing=(0.0,)),  # a single point
    ],
    ids=["default", "grid12", "grid96", "single"],
)
def test_the_grid_is_exactly_the_cartesian_product(cfg):
    space = HyperSpace(BASE, cfg)
    expected = list(itertools.product(*(getattr(cfg, n) for n in NAMES)))
    assert space.grid_size == cfg.grid_size == len(expected)
    points = [space.grid_point(i) for i in range(space.grid_size)]
    # in itertools.product order (the last hyperparameter varies fastest), each exactly once
    assert [_train_key(p) for p in points] == expected
    assert len({p.train for p in points}) == space.grid_size
    assert len({architecture_hash(p) for p in points}) == space.grid_size, "the search dedups"
    assert space.grid_point(space.grid_size) is None
    assert space.grid_point(space.grid_size + 7) is None
    for p in points:
        # only the searched hyperparameters change: the network and the other settings stay
        assert p.replace(train=BASE.train) == BASE
        assert architecture_hash(p.replace(train=BASE.train)) == architecture_hash(BASE)
        assert p.stages == BASE.stages and p.stem == BASE.stem and p.head == BASE.head
        for name in ("momentum", "schedule", "warmup_epochs"):
            assert getattr(p.train, name) == getattr(BASE.train, name)


# -- HyperSpace: random search ---------------------------------------------------------------------
RANDOM = TuneConfig(
    lr=(1e-3, 0.01, 1.0),
    batch_size=(32, 64, 256),
    epochs=(1, 3),
    optimizer=("sgd", "adamw"),
    weight_decay=(1e-6, 1e-2),
    label_smoothing=(0.0, 0.05, 0.3),
)


@pytest.fixture(scope="module")
def draws():
    rng = random.Random(0)
    space = HyperSpace(BASE, RANDOM)
    return [space.sample(rng) for _ in range(2000)]


@pytest.mark.parametrize("name", ["lr", "weight_decay"])
def test_random_lr_and_weight_decay_are_log_uniform_within_range(draws, name):
    values = [getattr(a.train, name) for a in draws]
    lo, hi = min(getattr(RANDOM, name)), max(getattr(RANDOM, name))
    assert all(lo <= v <= hi for v in values)
    logs = [(math.log(v) - math.log(lo)) / (math.log(hi) - math.log(lo)) for v in values]
    # uniform on the log scale: each quarter of log range holds a quarter of the draws (a
    # uniform draw on the linear scale would put ~99% in the top quarter)
    quarters = Counter(min(3, int(x * 4)) for x in logs)
    for q in range(4):
        assert quarters[q] / len(values) == pytest.approx(0.25, abs=0.04), quarters
    assert statistics.median(logs) == pytest.approx(0.5, abs=0.04)
    below = sum(v < math.sqrt(lo * hi) for v in values) / len(values)  # the geometric mean
    assert below == pytest.approx(0.5, abs=0.04)


def test_random_label_smoothing_is_uniform_and_the_rest_come_from_their_lists(draws):
    ls = [a.train.label_smoothing for a in draws]
    assert all(0.0 <= v <= 0.3 for v in ls)
    assert statistics.mean(ls) == pytest.approx(0.15, abs=0.01)
    assert sum(v < 0.15 for v in ls) / len(ls) == pytest.approx(0.5, abs=0.04)
    for name in ("batch_size", "epochs", "optimizer"):
        options = getattr(RANDOM, name)
        counts = Counter(getattr(a.train, name) for a in draws)
        assert set(counts) == set(options), name
        for option in options:
            assert counts[option] / len(draws) == pytest.approx(1 / len(options), abs=0.05)
    for a in draws[:50]:
        assert a.replace(train=BASE.train) == BASE


def test_random_search_is_deterministic_per_seed():
    space = HyperSpace(BASE, RANDOM)

    def sequence(seed):
        rng = random.Random(seed)
        return [asdict(space.sample(rng).train) for _ in range(20)]

    assert sequence(3) == sequence(3)
    assert sequence(3) != sequence(4)


# -- TuneConfig validation -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "values, match",
    [
        ({"lr": ()}, "tune lr must be a non-empty list"),
        ({"batch_size": ()}, "tune batch_size must be a non-empty list"),
        ({"epochs": ()}, "tune epochs must be a non-empty list"),
        ({"optimizer": ()}, "tune optimizer must be a non-empty list"),
        ({"weight_decay": ()}, "tune weight_decay must be a non-empty list"),
        ({"label_smoothing": ()}, "tune label_smoothing must be a non-empty list"),
        ({"lr": (0.1, 0.0)}, r"lr must be in \(0.0, 10.0\], got 0.0"),
        ({"lr": (-0.1,)}, r"lr must be in \(0.0, 10.0\], got -0.1"),
        ({"optimizer": ("sgd", "adam")}, "optimizer must be one of sgd, adamw, got 'adam'"),
        ({"label_smoothing": (0.0, 1.0)}, "label_smoothing must be below 1, got 1.0"),
        ({"batch_size": (64, 0)}, "batch_size must be an integer >= 1, got 0"),
        ({"epochs": (1.5,)}, "epochs must be an integer >= 1, got 1.5"),
        ({"weight_decay": (2.0,)}, r"weight_decay must be in \[0.0, 1.0\], got 2.0"),
        ({"weight_decay": (0.0, 1e-4)}, "weight_decay values must be > 0"),
    ],
)
def test_tune_config_rejects_bad_values(values, match):
    with pytest.raises(GenesisError, match=match):
        TuneConfig(**values)


def test_a_bad_tune_table_names_the_config_file(tmp_path):
    (tmp_path / "t.toml").write_text('[tune]\noptimizer = ["sgd", "lion"]\n')
    with pytest.raises(GenesisError, match=r"t\.toml.*optimizer must be one of"):
        load_config(tmp_path / "t.toml")


# -- genesis tune ----------------------------------------------------------------------------------
def _call(argv) -> int:
    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:  # argparse errors
        return exc.code


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """base.json and tune.toml; ``tuned`` runs the grid in ``root/A``."""
    root = tmp_path_factory.mktemp("tune")
    save_architecture(BASE, root / "base.json")
    (root / "tune.toml").write_text(CONFIG)
    return root


def _argv(root: Path) -> list:
    return ["tune", root / "base.json", "--config", root / "tune.toml", "--fitness", "synthetic"]


@pytest.fixture(scope="module")
def tuned(root):
    """The uninterrupted grid run, in-process; (folder, stdout)."""
    capture = root / "stdout.txt"
    with open(capture, "w") as f, contextlib.redirect_stdout(f), contextlib.redirect_stderr(f):
        code = _call([*_argv(root), "--out", root / "A", "-o", root / "best_out.json"])
    assert code == 0, capture.read_text()
    return root / "A", capture.read_text()


def test_tune_grid_trains_every_point_once_and_writes_the_best_back(root, tuned):
    run, out = tuned
    log = _log(run)
    assert [e["kind"] for e in log] == ["train"] * GRID.grid_size
    assert {e["origin"] for e in log} == {"grid"}
    assert Counter(e["generation"] for e in log) == {0: PER_GEN, 1: PER_GEN, 2: PER_GEN}
    cfg = load_config(run / "config.toml")
    assert cfg.search.strategy == "grid" and cfg.search.budget_evals == GRID.grid_size
    assert cfg.tune.architecture == "base.json" and cfg.proxy.fitness == "synthetic"
    state = json.loads((run / "run.json").read_text())
    assert state["status"] == "finished" and state["trained"] == GRID.grid_size

    # the fixed architecture is saved as given; every logged candidate is it with a grid point
    base = load_architecture(run / "base.json")
    assert base == load_architecture(root / "base.json") == BASE
    space = HyperSpace(BASE, GRID)
    grid = {architecture_hash(space.grid_point(i)) for i in range(GRID.grid_size)}
    assert {e["hash"] for e in log} == grid
    for e in log:
        arch = load_architecture(run / "architectures" / f"{e['hash']}.json")
        assert arch.replace(train=BASE.train) == BASE

    # best.json: the grid point with the best validation accuracy in the log
    best = load_architecture(run / "best.json")
    top = max(e["result"]["accuracy"] for e in log)
    winners = [e for e in log if e["result"]["accuracy"] == top]
    assert architecture_hash(best) in {e["hash"] for e in winners}
    assert best.replace(train=BASE.train) == BASE
    assert _train_key(best) in set(itertools.product(*(getattr(GRID, n) for n in NAMES)))
    assert load_architecture(root / "best_out.json") == best
    assert (root / "best_out.json").read_text() == (run / "best.json").read_text()
    # and it is the one retrained at the end
    final = json.loads((run / "final.json").read_text())
    assert [f["hash"] for f in final] == [architecture_hash(best)]
    assert f"run folder {run}: {GRID.grid_size} trained evaluations; best validation " in out
    assert f"accuracy {top:.4f} with {best.train.optimizer} lr {best.train.lr:g}" in out


def test_tune_random_trains_the_budget_within_the_ranges(root, tmp_path, capsys):
    run = tmp_path / "R"
    argv = ["tune", root / "base.json", "--method", "random", "--budget-evals", "5"]
    code = _call([*argv, "--fitness", "synthetic", "--seed", "2", "--out", run])
    out, err = capsys.readouterr()
    assert code == 0, err
    log = _log(run)
    assert [e["kind"] for e in log] == ["train"] * 5
    assert {e["origin"] for e in log} == {"sample"}
    cfg = load_config(run / "config.toml")
    assert cfg.search.strategy == "random" and cfg.search.evaluations == 5
    tune = TuneConfig()
    trains = [load_architecture(run / "architectures" / f"{e['hash']}.json").train for e in log]
    assert len(set(trains)) == 5
    for t in trains:
        assert min(tune.lr) <= t.lr <= max(tune.lr)
        assert min(tune.weight_decay) <= t.weight_decay <= max(tune.weight_decay)
        assert min(tune.label_smoothing) <= t.label_smoothing <= max(tune.label_smoothing)
        assert t.batch_size in tune.batch_size and t.optimizer in tune.optimizer
    best = load_architecture(run / "best.json")
    top = max(log, key=lambda e: e["result"]["accuracy"])
    assert architecture_hash(best) == top["hash"]
    assert "5 trained evaluations" in out


def test_report_of_a_tuning_run(tuned, tmp_path, capsys):
    run = tmp_path / "A"
    shutil.copytree(tuned[0], run)
    assert _call(["report", run]) == 0, capsys.readouterr().err
    out, _ = capsys.readouterr()
    assert out.startswith(f"wrote {run / 'report.html'}")
    html = (run / "report.html").read_text()
    assert architecture_hash(load_architecture(run / "best.json")) in html


def test_resume_of_a_finished_tuning_run_changes_no_evaluation(tuned, tmp_path, capsys):
    run = tmp_path / "A"
    shutil.copytree(tuned[0], run)
    before = _snapshot(run)
    assert _call(["tune", "--resume", run, "--workers", "1"]) == 0, capsys.readouterr().err
    out, _ = capsys.readouterr()
    assert f"{GRID.grid_size} trained evaluations" in out
    after = _snapshot(run)
    del before["run.json"], after["run.json"]  # its timestamps are refreshed
    assert after == before


def _fails(argv, capsys) -> str:
    code = _call(argv)
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("genesis")
    return err


def test_tune_without_a_file_is_one_line(tmp_path, capsys):
    err = _fails(["tune", "--fitness", "synthetic", "--out", tmp_path / "run"], capsys)
    assert "tune needs an architecture FILE" in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "text, match",
    [
        (None, "does not exist"),
        ("{not json", "bad.json"),
        ('{"stages": []}', "bad.json"),
        ("", "bad.json"),
    ],
    ids=["missing", "not-json", "not-an-architecture", "empty"],
)
def test_tune_of_a_malformed_file_is_one_line(text, match, tmp_path, capsys):
    if text is not None:
        (tmp_path / "bad.json").write_text(text)
    out = tmp_path / "run"
    err = _fails(["tune", tmp_path / "bad.json", "--fitness", "synthetic", "--out", out], capsys)
    assert match in err
    assert not out.exists()


def test_a_bad_tune_table_is_one_line(root, tmp_path, capsys):
    (tmp_path / "t.toml").write_text("[tune]\nlr = []\n")
    argv = ["tune", root / "base.json", "--config", tmp_path / "t.toml", "--out", tmp_path / "r"]
    err = _fails(argv, capsys)
    assert "tune lr must be a non-empty list" in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "flags", [["--method", "random"], ["--method", "grid"], ["--budget-evals", "3"], ["FILE"]]
)
def test_resume_refuses_search_flags(flags, root, tuned, tmp_path, capsys):
    run = tmp_path / "A"
    shutil.copytree(tuned[0], run)
    before = _snapshot(run)
    flags = [root / "base.json" if f == "FILE" else f for f in flags]
    err = _fails(["tune", "--resume", run, *flags], capsys)
    assert "--resume continues with the run's own config.toml" in err
    assert _snapshot(run) == before


def test_resume_of_a_run_that_is_not_tuning_is_one_line(tmp_path, capsys):
    run = tmp_path / "evolve-run"
    RunFolder(run).create(EvolveConfig(proxy=ProxyConfig(fitness="synthetic")))
    before = _snapshot(run)
    err = _fails(["tune", "--resume", run], capsys)
    assert "is not a tuning run" in err and "genesis evolve --resume" in err
    assert _snapshot(run) == before
    err = _fails(["tune", "--resume", tmp_path / "nowhere"], capsys)
    assert "does not exist" in err


def test_tuning_configs_are_checked():
    with pytest.raises(GenesisError, match="strategy grid searches hyperparameters"):
        EvolveConfig(search=replace(EvolveConfig().search, strategy="grid"))
    with pytest.raises(GenesisError, match="takes method grid or random, got 'nsga2'"):
        EvolveConfig(tune=TuneConfig(architecture="base.json"))


# -- resume under a real SIGKILL -------------------------------------------------------------------
def test_tune_killed_mid_grid_and_resumed_ends_as_the_uninterrupted_run(root, tuned):
    reference = tuned[0]
    run = root / "B"
    stderr = root / "stderr-B.txt"
    argv = [sys.executable, "-m", "genesis", *map(str, _argv(root)), "--out", str(run)]
    with open(stderr, "w") as err:
        proc = subprocess.Popen(
            argv, cwd=root, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True
        )
        # generation 1 under way
        kill_when(proc, lambda: _trained(run) >= PER_GEN + 1, "generation 1")
    done = _trained(run)
    assert PER_GEN + 1 <= done < 2 * PER_GEN, "the kill missed generation 1"
    assert json.loads((run / "run.json").read_text())["status"] == "running"
    assert not (run / "best.json").exists()

    proc = subprocess.run(
        [sys.executable, "-m", "genesis", "tune", "--resume", str(run)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "resuming:" in proc.stderr

    for name in ("best.json", "pareto.json", "final.json"):
        assert (run / name).read_text() == (reference / name).read_text(), name

    def multiset(folder):
        return Counter(
            (e["generation"], e["index"], e["hash"], e["kind"], e["result"]["accuracy"])
            for e in _log(folder)
        )

    assert multiset(run) == multiset(reference)
    slots = Counter((e["generation"], e["index"]) for e in _log(run) if e["kind"] == "train")
    assert len(slots) == GRID.grid_size and max(slots.values()) == 1, "a point was retrained"
