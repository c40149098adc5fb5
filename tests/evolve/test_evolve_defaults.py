"""The main job's defaults, and the rules that keep other commands and older run folders
doing what they did: ``epochs`` alone means one rung, a run folder's missing keys take
:func:`evolve.bases.run_base`, ``tune`` starts from :func:`evolve.bases.tune_base`; the final
step's batch, learning-rate scaling and shared cores."""

from __future__ import annotations

import json
import math

import pytest
import torch

import evolve.evaluate as evaluate
from evolve.bases import run_base, tune_base
from evolve.config import EvolveConfig, FinalConfig, load_config
from evolve.evaluate import evaluate_task, make_task
from evolve.executors import InlineExecutor
from evolve.final import run_final, select_final
from evolve.search import Search
from genesis import GenesisError, build_architecture
from genesis.cli import main
from genesis.runfolder import RunFolder


def test_the_defaults_are_the_measured_cpu_main_job():
    cfg = EvolveConfig()
    assert cfg.proxy.rungs == (1.0, 3.0) and cfg.proxy.eta == 3 and cfg.proxy.subset == 10_000
    assert cfg.search.max_macs == 3e6 and cfg.search.max_params == 100_000
    assert cfg.search.seconds == 180.0 and cfg.execution.workers == 2
    f = cfg.final
    assert (f.top_k, f.epochs, f.batch_size, f.seconds, f.lr_scaling) == (
        1,
        8.0,
        256,
        360.0,
        "auto",
    )


def test_proxy_epochs_alone_means_one_rung(tmp_path):
    assert EvolveConfig().with_overrides(proxy={"epochs": 2.0}).proxy.schedule == (2.0,)
    both = EvolveConfig().with_overrides(proxy={"epochs": 2.0, "rungs": (1.0, 2.0)})
    assert both.proxy.rungs == (1.0, 2.0)
    (tmp_path / "a.toml").write_text("[proxy]\nepochs = 4.0\n")
    assert load_config(tmp_path / "a.toml").proxy.schedule == (4.0,)
    (tmp_path / "b.toml").write_text("[proxy]\nsubset = 2000\n")
    assert load_config(tmp_path / "b.toml").proxy.rungs == (1.0, 3.0)


def test_a_run_folder_written_before_a_field_existed_resumes_as_it_ran(tmp_path):
    """An older run's config.toml: every field of its day, none of rungs, final batch, lr."""
    old = (
        '[search]\nstrategy = "nsga2"\npopulation = 4\ngenerations = 1\nmax_macs = "none"\n'
        'max_params = "none"\ntime_budget = "none"\nseed = 0\n[proxy]\nfitness = "synthetic"\n'
        "subset = 4000\nepochs = 2.0\n[final]\ntop_k = 2\nepochs = 1.0\nseed = 0\n"
        "[execution]\nworkers = 1\n"
    )
    (tmp_path / "config.toml").write_text(old)
    cfg = load_config(tmp_path / "config.toml", base=run_base())
    assert cfg.proxy.rungs == () and cfg.proxy.schedule == (2.0,)
    assert cfg.final.batch_size is None and cfg.final.lr_scaling == "keep"
    assert cfg.final.seconds is None and cfg.search.budget is None and cfg.proxy.holdout == 0
    # and through the CLI: the resumed run keeps one rung and the architecture's own batch
    run = tmp_path / "run"
    (run / "architectures").mkdir(parents=True)  # killed before its first evaluation
    (run / "config.toml").write_text(old)
    (run / "run.json").write_text('{"status": "running", "genesis": "0.2.0"}')
    assert main(["evolve", "--resume", str(run)]) == 0
    log = [json.loads(x) for x in (run / "evaluations.jsonl").read_text().splitlines()]
    assert {e.get("rung", 0) for e in log if e["kind"] == "train"} == {0}
    assert len(json.loads((run / "final.json").read_text())) == 2


def test_tune_starts_from_its_own_base():
    base = tune_base()
    assert base.search.max_macs is None and base.search.max_params is None
    assert base.search.seconds is None and base.proxy.rungs == ()
    assert base.final.batch_size is None and base.final.seconds is None


def test_a_large_architecture_is_tuned_not_skipped(tmp_path, capsys):
    big = build_architecture("fashion-mnist", "ws", {"k": 4, "p": 0.75}, seed=0, channels=48)
    path = tmp_path / "big.json"
    path.write_text(big.to_json())
    out = tmp_path / "t"
    argv = ["tune", str(path), "--fitness", "synthetic", "--workers", "1", "--out", str(out)]
    assert main(argv) == 0, capsys.readouterr().err
    log = [json.loads(x) for x in (out / "evaluations.jsonl").read_text().splitlines()]
    assert log and all(e["kind"] == "train" for e in log)
    assert all(e["result"]["macs"] > 3e6 for e in log)


@pytest.mark.parametrize(
    "rule, optimizer, factor",
    [
        ("auto", "sgd", 8.0),
        ("auto", "adamw", math.sqrt(8.0)),
        ("linear", "adamw", 8.0),
        ("sqrt", "sgd", math.sqrt(8.0)),
        ("keep", "sgd", 1.0),
    ],
)
def test_the_final_learning_rate_follows_its_batch(rule, optimizer, factor):
    final = FinalConfig(batch_size=256, lr_scaling=rule)
    assert final.lr_factor(32, optimizer) == pytest.approx(factor)
    assert FinalConfig(batch_size=None, lr_scaling=rule).lr_factor(32, optimizer) == 1.0


def test_an_unknown_lr_scaling_is_refused():
    with pytest.raises(GenesisError, match="final lr_scaling must be one of auto, linear"):
        FinalConfig(lr_scaling="cubic")


class _Recording(InlineExecutor):
    def __init__(self, workers):
        super().__init__(workers)
        self.tasks = []

    def submit(self, key, task):
        self.tasks.append(task)
        super().submit(key, task)


@pytest.mark.parametrize("top_k, workers, share", [(1, 2, 2), (2, 2, 1), (1, 4, 4), (2, 4, 2)])
def test_the_final_step_scales_the_rate_and_shares_idle_cores(top_k, workers, share, tmp_path):
    cfg = EvolveConfig().with_overrides(
        search={"population": 4, "generations": 1, "max_macs": "none", "seconds": "none"},
        proxy={"fitness": "synthetic", "rungs": ()},
        final={"top_k": 0},
        execution={"workers": 1},
    )
    folder = RunFolder(tmp_path / "run")
    folder.create(cfg)
    outcome = Search(cfg, folder, InlineExecutor(), log=lambda _: None).run()
    assert len(outcome.front) >= 2
    cfg = cfg.with_overrides(final={"top_k": top_k})
    executor = _Recording(workers)
    records = run_final(cfg, folder, executor, outcome.front, log=lambda _: None)
    assert len(records) == len(executor.tasks) == top_k
    chosen = select_final(outcome.front, top_k)
    for task, member in zip(executor.tasks, chosen, strict=True):
        train = json.loads(task["arch"])["train"]
        own = member.arch.train  # the preset's recipe: SGD at batch 32
        assert (own.optimizer, own.batch_size) == ("sgd", 32)
        assert train["batch_size"] == 256 and train["lr"] == round(own.lr * 8, 6)
        assert task["share"] == share


def test_a_shared_task_runs_on_more_threads_then_gives_them_back(monkeypatch):
    seen = []
    monkeypatch.setattr(
        evaluate, "_evaluate", lambda task, device: seen.append(torch.get_num_threads()) or {}
    )
    before = torch.get_num_threads()
    arch = build_architecture("fashion-mnist", "er", {"p": 0.4}, seed=0, channels=4, nodes=3)
    task = make_task(arch, 0, EvolveConfig().proxy)
    evaluate_task({**task, "share": 3})
    evaluate_task(task)
    assert seen == [before * 3, before] and torch.get_num_threads() == before


@pytest.mark.parametrize(
    "flag, value, field, expected",
    [
        ("--max-macs", "none", ("search", "max_macs"), None),
        ("--max-params", "none", ("search", "max_params"), None),
        ("--search-seconds", "none", ("search", "seconds"), None),
        ("--final-batch", "none", ("final", "batch_size"), None),
        ("--final-seconds", "none", ("final", "seconds"), None),
        ("--max-macs", "5e6", ("search", "max_macs"), 5e6),
    ],
)
def test_none_lifts_a_default_cap(flag, value, field, expected, tmp_path, capsys):
    out = tmp_path / "run"
    argv = [
        "evolve",
        "--fitness",
        "synthetic",
        "--population",
        "2",
        "--generations",
        "0",
        "--final-top-k",
        "0",
        "--workers",
        "1",
        flag,
        value,
        "--out",
        str(out),
    ]
    assert main(argv) == 0, capsys.readouterr().err
    cfg = load_config(out / "config.toml")
    assert getattr(getattr(cfg, field[0]), field[1]) == expected
