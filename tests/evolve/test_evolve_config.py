"""Search configuration: TOML in and out, and every input check naming the problem."""

from __future__ import annotations

from dataclasses import replace

import pytest

from evolve.config import (
    EvolveConfig,
    ExecutionConfig,
    FinalConfig,
    ProxyConfig,
    SearchConfig,
    dump_config,
    load_config,
)
from evolve.space import SpaceConfig
from evolve.strategies import strategy_names
from evolve.strategies.params import (
    ConstrainedParams,
    NSGA2Params,
    RegularizedParams,
    ScoreParams,
)
from genesis import GenesisError


def _round_trip(cfg: EvolveConfig, tmp_path) -> EvolveConfig:
    path = tmp_path / "config.toml"
    path.write_text(dump_config(cfg), encoding="utf-8")
    return load_config(path)


def _custom() -> EvolveConfig:
    """Every field away from its default (None only where the default is None)."""
    return EvolveConfig(
        search=SearchConfig(
            strategy="constrained",
            population=5,
            generations=0,
            budget_evals=7,
            max_macs=3.5e6,
            max_params=90_000,
            ref_macs=1e7,
            seconds=300.0,
            seed=123,
        ),
        space=SpaceConfig(
            preset="cifar10",
            families=("ba",),
            nodes=(3, 5),
            max_nodes=7,
            channels=(4, 6),
            ops=("conv_3x3",),
            optimizers=("adamw",),
            lr_sgd=(0.01, 0.02),
            lr_adamw=(1e-4, 1e-3),
            weight_decay=(1e-6, 1e-5),
            label_smoothing=(0.05, 0.05),
            batch_sizes=(32,),
        ),
        proxy=ProxyConfig(
            dataset='data/"odd" \\ näme',
            subset=100,
            val_size=50,
            split_seed=3,
            epochs=0.25,
            time_limit=12.5,
            device="cpu",
            fitness="synthetic",
            synthetic_seconds=0.5,
        ),
        final=FinalConfig(top_k=0, epochs=2, seconds=45.5, seed=9, export_onnx=False),
        execution=ExecutionConfig(
            executor="ray", workers=3, address="ray://head:10001", workers_per_gpu=4
        ),
        strategy={
            "constrained": ConstrainedParams(target_macs=2e6, penalty=-0.15, crossover_prob=0.0),
            "regularized": RegularizedParams(sample_size=2),
            "nsga2": NSGA2Params(diversity="crowding"),
        },
    )


@pytest.mark.parametrize("cfg", [EvolveConfig(), _custom()], ids=["default", "custom"])
def test_dump_then_load_gives_an_equal_config(cfg, tmp_path):
    assert _round_trip(cfg, tmp_path) == cfg
    assert _round_trip(_round_trip(cfg, tmp_path), tmp_path) == cfg


def test_round_trip_of_none_where_the_default_is_not_none(tmp_path):
    # TOML has no null: None is written as the string "none" and read back as None.
    cfg = EvolveConfig(proxy=ProxyConfig(subset=None, val_size=None, time_limit=None))
    assert 'subset = "none"' in dump_config(cfg)
    assert _round_trip(cfg, tmp_path) == cfg


def test_a_partial_file_keeps_the_defaults(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[search]\nstrategy = "random"\n[space]\nchannels = [8]\n')
    cfg = load_config(path)
    assert cfg.search == SearchConfig(strategy="random")
    assert cfg.space == SpaceConfig(channels=(8,))
    assert (cfg.proxy, cfg.final, cfg.execution) == (
        ProxyConfig(),
        FinalConfig(),
        ExecutionConfig(),
    )


def test_the_budget_defaults_to_population_times_generations():
    assert SearchConfig(population=6, generations=2).evaluations == 18
    assert SearchConfig(population=6, generations=2, budget_evals=5).evaluations == 5
    assert SearchConfig(population=6, generations=0).evaluations == 6


def test_overrides_replace_fields_and_ignore_none():
    cfg = EvolveConfig().with_overrides(
        search={"population": 4, "seed": None}, proxy={"fitness": "synthetic"}, final={}
    )
    assert cfg.search == replace(SearchConfig(), population=4)
    assert cfg.proxy.fitness == "synthetic" and cfg.final == FinalConfig()
    with pytest.raises(GenesisError, match="population must be at least 2, got 1"):
        EvolveConfig().with_overrides(search={"population": 1})


@pytest.mark.parametrize(
    "text, match",
    [
        ("[serch]\npopulation = 4\n", r"unknown table\(s\) \['serch'\]"),
        ("[search]\npopulaton = 4\n", r"\[search\]: unknown key\(s\) \['populaton'\]"),
        ("[proxy]\nepoch = 1.0\n", r"unknown key\(s\) \['epoch'\]; known: \[.*'epochs'"),
        ("search = 3\n", r"\[search\] must be a table"),
        ("[search]\npopulation = \n", "is not valid TOML"),
        ("[search\n", "is not valid TOML"),
        ('[search]\nstrategy = "greedy"\n', "strategy must be one of nsga2, constrained"),
        ('[search]\npopulation = "8"\n', "population must be a positive integer, got '8'"),
        ("[space]\nnodes = [3]\n", r"space nodes must be a range \[low, high\], got \(3,\)"),
        ("[space]\nchannels = [0]\n", "space channels must be integers >= 2, got 0"),
    ],
)
def test_bad_files_raise_naming_file_and_problem(text, match, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(GenesisError, match=match) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_a_missing_file_or_a_folder_is_named(tmp_path):
    with pytest.raises(GenesisError, match=r"config file '.*nope\.toml' does not exist"):
        load_config(tmp_path / "nope.toml")
    with pytest.raises(GenesisError, match="cannot read config file"):
        load_config(tmp_path)


def test_a_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('[proxy]\ndataset = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(GenesisError, match="cannot read config file"):
        load_config(path)


@pytest.mark.parametrize(
    "kind, values, match",
    [
        (
            SearchConfig,
            {"strategy": "evolution"},
            "strategy must be one of " + ", ".join(strategy_names()),
        ),
        (SearchConfig, {"population": 1}, "population must be at least 2, got 1"),
        (SearchConfig, {"population": 0}, "population must be a positive integer, got 0"),
        (SearchConfig, {"population": 4.0}, "population must be a positive integer, got 4.0"),
        (SearchConfig, {"population": True}, "population must be a positive integer, got True"),
        (SearchConfig, {"generations": -1}, "generations must be an integer >= 0, got -1"),
        (SearchConfig, {"budget_evals": 0}, "budget_evals must be a positive integer, got 0"),
        (SearchConfig, {"max_macs": -5.0}, "max_macs must be a positive number, got -5.0"),
        (SearchConfig, {"max_macs": float("inf")}, "max_macs must be a positive number, got inf"),
        (ScoreParams, {"target_macs": float("nan")}, "target_macs must be a positive number"),
        (SearchConfig, {"ref_macs": 0}, "ref_macs must be a positive number, got 0"),
        (SearchConfig, {"max_params": 1e5}, "max_params must be a positive integer, got 100000.0"),
        (SearchConfig, {"seconds": -1}, "search seconds must be a positive number, got -1"),
        (NSGA2Params, {"crossover_prob": 1.5}, r"crossover_prob must be in \[0, 1\], got 1.5"),
        (NSGA2Params, {"diversity": "age"}, "diversity must be one of hypervolume, crowding"),
        (RegularizedParams, {"sample_size": 0}, "sample_size must be a positive integer"),
        (SpaceConfig, {"train_init": "zero"}, "train_init must be one of preset, sample"),
        (SearchConfig, {"seed": "0"}, "seed must be an integer, got '0'"),
        (ProxyConfig, {"subset": 0}, "proxy subset must be a positive integer, got 0"),
        (ProxyConfig, {"val_size": -1}, "proxy val_size must be a positive integer, got -1"),
        (ProxyConfig, {"epochs": 0}, "proxy epochs must be a positive number, got 0"),
        (ProxyConfig, {"time_limit": 0.0}, "proxy time_limit must be a positive number"),
        (
            ProxyConfig,
            {"fitness": "fake"},
            "proxy fitness must be 'train', 'synthetic' or 'lookup'",
        ),
        (ProxyConfig, {"synthetic_seconds": -1}, r"synthetic_seconds must be in \[0, 3600\)"),
        (FinalConfig, {"top_k": -1}, "final top_k must be an integer >= 0, got -1"),
        (FinalConfig, {"epochs": 0}, "final epochs must be a positive number, got 0"),
        (FinalConfig, {"seconds": 0.0}, "final seconds must be a positive number, got 0.0"),
        (ExecutionConfig, {"executor": "dask"}, "executor must be local or ray, got 'dask'"),
        (ExecutionConfig, {"workers": 0}, "execution workers must be a positive integer, got 0"),
        (ExecutionConfig, {"workers_per_gpu": 0}, "workers_per_gpu must be a positive integer"),
    ],
)
def test_bad_values_raise_genesis_error(kind, values, match):
    with pytest.raises(GenesisError, match=match):
        kind(**values)


def _with(strategy: str, population: int = 6, **params) -> EvolveConfig:
    search = SearchConfig(strategy=strategy, population=population)
    return EvolveConfig(search=search, strategy={strategy: params})


def test_sample_size_only_binds_the_strategy_that_uses_it():
    # population 2 is allowed: the default tournament size 3 only matters to aging evolution
    for strategy in ("nsga2", "random"):
        assert _with(strategy, population=2).search.population == 2
    assert _with("regularized", population=2, sample_size=2).params.sample_size == 2
    with pytest.raises(GenesisError, match="sample_size must not exceed population, got 3 > 2"):
        EvolveConfig(search=SearchConfig(strategy="regularized", population=2))


def test_constrained_accepts_either_budget():
    cfg = EvolveConfig(search=SearchConfig(strategy="constrained", max_macs=1e6))
    assert cfg.search.max_macs == 1e6
    soft = cfg.with_overrides(search={"max_macs": "none"}, strategy={"target_macs": 1e6})
    assert soft.params.target_macs == 1e6 and soft.search.max_macs is None
    with pytest.raises(GenesisError, match="constrained needs max_macs .* or target_macs"):
        cfg.with_overrides(search={"max_macs": "none"})


def test_strategy_knobs_live_in_their_strategys_table(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        '[search]\nstrategy = "nsga2"\n[strategy.nsga2]\ndiversity = "crowding"\n'
        "[strategy.regularized]\nsample_size = 5\n"
    )
    cfg = load_config(path)
    assert cfg.params == NSGA2Params(diversity="crowding")
    assert cfg.strategy["regularized"].sample_size == 5
    assert "[strategy.nsga2]" in cfg.to_toml() and "diversity" not in cfg.to_toml().split("[")[1]
    path.write_text("[strategy.nsga2]\nsample_size = 5\n")
    with pytest.raises(
        GenesisError, match=r"\[strategy.nsga2\]: unknown key\(s\) \['sample_size'\]"
    ):
        load_config(path)
    path.write_text("[strategy.genetic]\nx = 1\n")
    with pytest.raises(GenesisError, match="unknown strategy table"):
        load_config(path)


def test_an_older_config_keeps_its_strategy_knobs_in_search(tmp_path):
    """A run folder's config.toml written before the knobs moved still resumes as it ran."""
    path = tmp_path / "config.toml"
    path.write_text(
        '[search]\nstrategy = "constrained"\ntarget_macs = 2e6\npenalty = -0.2\n'
        'crossover_prob = 0.1\nsample_size = 2\ndiversity = "crowding"\n'
    )
    cfg = load_config(path)
    assert cfg.params == ConstrainedParams(target_macs=2e6, penalty=-0.2, crossover_prob=0.1)
    assert cfg.strategy["regularized"].sample_size == 2
    assert cfg.strategy["nsga2"].diversity == "crowding"
    assert cfg.strategy["rl"].target_macs == 2e6


def test_configs_are_frozen():
    with pytest.raises(AttributeError):
        SearchConfig().population = 3  # type: ignore[misc]


def test_a_config_of_an_earlier_version_reads_its_renamed_keys(tmp_path):
    """A run folder's config.toml from before the rename (time_budget) still resumes."""
    path = tmp_path / "config.toml"
    path.write_text("[search]\ntime_budget = 5.0\n")
    assert load_config(path).search.seconds == 5.0
    assert "time_budget" not in dump_config(load_config(path))
