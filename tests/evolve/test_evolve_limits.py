"""The search's caps and type checks, all raised before a run folder exists."""

from __future__ import annotations

import pytest

from evolve.checks import check_types, describe_type, matches
from evolve.config import (
    MAX_EVALUATIONS,
    MAX_POPULATION,
    MAX_WORKERS,
    MAX_WORKERS_PER_CPU,
    MAX_WORKERS_PER_GPU,
    EvolveConfig,
    ExecutionConfig,
    FinalConfig,
    ProxyConfig,
    SearchConfig,
    cpu_count,
    load_config,
)
from evolve.space import SpaceConfig
from evolve.strategies.params import ConstrainedParams, NSGA2Params, ScoreParams
from evolve.tune import MAX_TUNE_VALUES, TuneConfig
from genesis import GenesisError
from genesis.cli import main


@pytest.mark.parametrize(
    "kind, values, match",
    [
        (SearchConfig, {"population": MAX_POPULATION + 1}, "MAX_POPULATION = 1000"),
        (SearchConfig, {"generations": 10**9}, "population x \\(generations \\+ 1\\) is"),
        (SearchConfig, {"budget_evals": MAX_EVALUATIONS + 1}, "budget_evals is 100001 evaluations"),
        (ScoreParams, {"penalty": "abc"}, "strategy rl penalty must be a finite number, got 'abc'"),
        (
            ConstrainedParams,
            {"penalty": float("nan")},
            "strategy constrained penalty must be a finite number, got nan",
        ),
        (NSGA2Params, {"crossover_prob": "x"}, "crossover_prob must be in"),
        (FinalConfig, {"seed": "1"}, "final seed must be an integer, got '1'"),
        (FinalConfig, {"export_onnx": 1}, "final export_onnx must be true or false, got 1"),
        (ProxyConfig, {"split_seed": "0"}, "proxy split_seed must be an integer, got '0'"),
        (ProxyConfig, {"synthetic_seconds": "x"}, "synthetic_seconds must be in"),
        (ProxyConfig, {"device": "tpu"}, "proxy device must be cpu, cuda or cuda:N, got 'tpu'"),
        (ProxyConfig, {"device": "cuda:x"}, "proxy device must be"),
        (ProxyConfig, {"dataset": 3}, "proxy dataset must be a string"),
        (ExecutionConfig, {"workers": MAX_WORKERS + 1}, "MAX_WORKERS = 1024"),
        (ExecutionConfig, {"workers": MAX_WORKERS + 1, "force_workers": True}, "MAX_WORKERS ="),
        (ExecutionConfig, {"workers_per_gpu": MAX_WORKERS_PER_GPU + 1}, "MAX_WORKERS_PER_GPU"),
        (ExecutionConfig, {"address": 5}, "execution address must be a string"),
        (SpaceConfig, {"max_nodes": 300, "nodes": (4, 10)}, "space max_nodes is 300"),
        (SpaceConfig, {"channels": (5000,)}, "the cap is MAX_CHANNELS = 4096"),
        (SpaceConfig, {"train_init": "sample", "lr_sgd": (0.1, 20.0)}, "space lr_sgd: train lr"),
        (SpaceConfig, {"train_init": "sample", "weight_decay": (0.1, 2.0)}, "weight_decay"),
        (TuneConfig, {"lr": (0.1,) * (MAX_TUNE_VALUES + 1)}, "MAX_TUNE_VALUES = 32"),
    ],
)
def test_caps_and_types(kind, values, match):
    with pytest.raises(GenesisError, match=match):
        kind(**values)


def test_workers_cap_follows_the_cpus_unless_forced():
    cap = cpu_count() * MAX_WORKERS_PER_CPU
    assert ExecutionConfig(workers=cap).workers == cap
    with pytest.raises(GenesisError, match="force_workers = true or --force-workers"):
        ExecutionConfig(workers=cap + 1)
    assert ExecutionConfig(workers=cap + 1, force_workers=True).workers == cap + 1
    forced = EvolveConfig().with_overrides(execution={"workers": cap + 1, "force_workers": True})
    assert forced.execution.workers == cap + 1


def test_devices_accepted():
    for device in (None, "cpu", "cuda", "cuda:0", "cuda:12"):
        assert ProxyConfig(device=device).device == device


def test_matches_and_describe():
    assert matches(1.5, float) and not matches(float("inf"), float) and not matches(True, float)
    assert matches("x", str) and not matches("\ud800", str)
    assert describe_type(tuple[int, ...]) == "a list of integers"
    check_types(SearchConfig(), "search")


@pytest.mark.parametrize(
    "text",
    [
        '[search]\nstrategy = "constrained"\ntarget_macs = 1e6\npenalty = "abc"\n',
        '[strategy.constrained]\npenalty = "abc"\n',
        '[space]\ntrain_init = "sample"\nweight_decay = [2.0, 3.0]\n',
        '[space]\npreset = "cifar10"\nchannels = [4096]\n',
        '[proxy]\ndevice = "tpu"\n',
        "[execution]\nworkers = 1000000\n",
        "[search]\npopulation = 1000000\n",
    ],
)
def test_bad_configs_leave_no_run_folder(text, tmp_path, capsys):
    # These were refused only after the run folder existed (or never, or as a traceback).
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    out = tmp_path / "run"
    argv = ["evolve", "--fitness", "synthetic", "--config", str(cfg), "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()
    with pytest.raises(GenesisError):
        load_config(cfg)


@pytest.mark.parametrize(
    "flags, needle",
    [
        (["--device", "tpu"], "proxy device must be cpu, cuda or cuda:N"),
        (["--workers", "100000"], "MAX_WORKERS"),
        (["--population", "1000000"], "MAX_POPULATION"),
    ],
)
def test_bad_flags_leave_no_run_folder(flags, needle, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["evolve", "--fitness", "synthetic", *flags, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1
    assert not out.exists()


def test_resume_on_a_smaller_machine_takes_the_new_workers(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["evolve", "--fitness", "synthetic", "--population", "2", "--generations", "0"]
    assert main([*argv, "--final-top-k", "0", "--out", str(out)]) == 0
    cfg = out / "config.toml"
    cfg.write_text(cfg.read_text().replace("workers = 2\n", "workers = 1000000\n"))
    capsys.readouterr()
    assert main(["evolve", "--resume", str(out)]) == 2  # the file's workers are past the cap
    assert "MAX_WORKERS" in capsys.readouterr().err
    assert main(["evolve", "--resume", str(out), "--workers", "1"]) == 0
