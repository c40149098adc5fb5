"""The predictor strategy: architecture features, the random forest, and the search it guides.

Everything runs on the deterministic ``synthetic`` fitness. Its accuracy is a function of
MACs plus noise keyed on the architecture's hash, so no predictor can rank better than MACs
alone there: the gate keeps the strategy sampling as ``random`` does, and the searches that
show the ranking at work turn the gate off.
"""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest
from runfiles import assert_same_run
from runfiles import read_log as _log
from runfiles import run_search as _search
from test_evolve_search import SMALL, InlineExecutor, Killed

from evolve.config import EvolveConfig, ExecutionConfig, FinalConfig, ProxyConfig, SearchConfig
from evolve.evaluate import synthetic_accuracy
from evolve.predictor import Predictor, held_out_tau, macs_tau
from evolve.space import SearchSpace, SpaceConfig
from evolve.strategies.params import PredictorParams
from evolve.strategies.predicted import expected_improvement
from genesis import Architecture, GenesisError, build_architecture
from genesis.cli import main
from genesis.complexity import count_complexity
from genesis.features import architecture_features, feature_matrix, feature_names
from genesis.genome import Stage


@pytest.fixture(scope="module")
def drawn():
    """150 architectures of the default space, their features and synthetic accuracies."""
    space, rng = SearchSpace(SpaceConfig()), random.Random(0)
    archs = [space.sample(rng) for _ in range(150)]
    cxs = [count_complexity(a) for a in archs]
    X = feature_matrix(archs, [(c.macs, c.params) for c in cxs])
    y = np.array([synthetic_accuracy(a, c.macs, 0) for a, c in zip(archs, cxs, strict=True)])
    return archs, X, y


# -- features --------------------------------------------------------------------------------------
def test_features_are_deterministic_finite_and_of_fixed_length(drawn):
    archs, X, _ = drawn
    assert X.shape == (150, len(feature_names())) and np.isfinite(X).all()
    assert np.array_equal(X[:5], feature_matrix(archs[:5]))  # counted or not, the same
    mutated = SearchSpace(SpaceConfig()).mutate(archs[0], random.Random(1))
    assert list(architecture_features(mutated)) == list(feature_names())


def test_features_tolerate_missing_provenance():
    arch = build_architecture("fashion-mnist", "ba", {"m": 2}, seed=0)
    bare = Architecture.from_dict({**arch.to_dict(), "meta": {}})
    bare = bare.replace(stages=tuple(Stage(s.graph, s.channels, s.stride) for s in bare.stages))
    f, g = architecture_features(arch), architecture_features(bare)
    assert f["family_ba"] == 1.0 and f["gen_ba_m"] == 2.0
    assert g["family_other"] == 1.0 and g["gen_ba_m"] == 0.0
    assert all(math.isfinite(v) for v in g.values())
    same = [n for n in feature_names() if not n.startswith(("family_", "gen_"))]
    assert [f[n] for n in same] == [g[n] for n in same]  # the network itself is the same


# -- the predictor ---------------------------------------------------------------------------------
def test_the_predictor_beats_shuffled_labels(drawn):
    _, X, y = drawn
    mean, std = Predictor(trees=50, seed=0).fit(X[:100], y[:100]).predict(X[100:])
    assert mean.shape == std.shape == (50,) and (std >= 0).all()
    tau = _tau(mean, y[100:])
    controls = []
    for seed in range(3):
        shuffled = y[:100].copy()
        random.Random(seed).shuffle(shuffled)
        controls.append(_tau(Predictor(50, 0).fit(X[:100], shuffled).predict(X[100:])[0], y[100:]))
    assert tau > 0.6 and tau > max(controls) + 0.3, (tau, controls)


def test_held_out_tau_is_cross_validated_and_macs_alone_is_the_bar(drawn):
    _, X, y = drawn
    folds = held_out_tau(X[:60], y[:60], folds=5, trees=30)
    oob = held_out_tau(X[:60], y[:60], folds=0, trees=30)
    assert 0.3 < folds < 1 and 0.3 < oob < 1
    # on the synthetic fitness accuracy is MACs plus noise: MACs alone is the best ranking
    assert macs_tau(X[:60], y[:60]) > max(folds, oob)
    assert held_out_tau(X[:1], y[:1]) == 0.0


def test_the_same_seed_fits_the_same_forest(drawn):
    _, X, y = drawn
    a = Predictor(20, 7).fit(X[:40], y[:40]).predict(X[40:60])
    b = Predictor(20, 7).fit(X[:40], y[:40]).predict(X[40:60])
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    with pytest.raises(GenesisError, match="at least 2 rows"):
        Predictor().fit(X[:1], y[:1])


def test_expected_improvement_is_the_hypervolume_gain_without_uncertainty():
    front = [(0.5, 1.0), (0.9, 3.0)]
    # a point at (0.8, 2.0) adds 0.3 x (3 - 2) against reference 4
    assert expected_improvement(2.0, 0.8, 0.0, front, 4.0) == pytest.approx(0.3)
    assert expected_improvement(0.5, 0.95, 0.0, front, 4.0) == pytest.approx(
        0.95 * 0.5 + 0.45 * 2 + 0.05 * 1
    )
    assert expected_improvement(2.0, 0.4, 0.0, front, 4.0) == 0.0  # dominated
    # uncertainty only adds: a dominated mean may still improve
    assert expected_improvement(2.0, 0.4, 0.1, front, 4.0) > 0.0


def test_the_parameters_are_checked():
    with pytest.raises(GenesisError, match="acquisition must be one of ehvi, bucket, got 'ucb'"):
        PredictorParams(acquisition="ucb")
    with pytest.raises(GenesisError, match="pool_size is 20000; the cap is MAX_POOL = 10000"):
        PredictorParams(pool_size=20000)
    with pytest.raises(GenesisError, match="mutation_share must be in"):
        PredictorParams(mutation_share=1.5)
    with pytest.raises(GenesisError, match="min_evals must be an integer >= 2"):
        PredictorParams(min_evals=1)
    with pytest.raises(GenesisError, match="objective must be"):
        EvolveConfig(search=SearchConfig(strategy="predictor", objective=("macs", "latency")))


# -- the search ------------------------------------------------------------------------------------
def _cfg(seed=4, budget=14, space=SMALL, **knobs) -> EvolveConfig:
    knobs = {"pool_size": 20, "trees": 10, "min_evals": 6, "gate": False, **knobs}
    return EvolveConfig(
        search=SearchConfig(
            strategy="predictor",
            population=6,
            generations=2,
            budget_evals=budget,
            max_macs=None if space is not SMALL else 3e5,
            max_params=None,
            seconds=None,
            seed=seed,
        ),
        space=space,
        proxy=ProxyConfig(fitness="synthetic", rungs=()),
        final=FinalConfig(top_k=1),
        execution=ExecutionConfig(workers=1),
        strategy={"predictor": knobs},
    )


@pytest.mark.parametrize("acquisition", ["ehvi", "bucket"])
def test_a_search_ranks_its_pool_and_resumes_after_a_kill_losing_nothing(acquisition, tmp_path):
    cfg = _cfg(acquisition=acquisition)
    _, lines = _search(cfg, tmp_path / "ref", InlineExecutor())
    assert any("ranking the pool" in line for line in lines), lines
    log = [e for e in _log(tmp_path / "ref") if e["kind"] == "train"]
    assert len(log) == 14
    with pytest.raises(Killed):
        _search(cfg, tmp_path / "run", InlineExecutor(die_after=9))
    again = InlineExecutor()
    outcome, _ = _search(cfg, tmp_path / "run", again, create=False)
    assert_same_run(tmp_path / "ref", tmp_path / "run")
    assert outcome.trained == 14 and len(again.tasks) == 14 + 1 - 9  # nothing trained twice


def test_with_the_gate_closed_it_proposes_as_random_does(tmp_path):
    gated = _cfg(gate=True, budget=12)
    _, lines = _search(gated, tmp_path / "p", InlineExecutor())
    assert any("sampling as random does" in line for line in lines), lines
    plain = gated.with_overrides(search={"strategy": "random"})
    _search(plain, tmp_path / "r", InlineExecutor())
    hashes = [[e["hash"] for e in _log(tmp_path / d) if e["kind"] == "train"] for d in "pr"]
    assert hashes[0] == hashes[1]


def test_the_cli_runs_it_end_to_end(tmp_path):
    (tmp_path / "search.toml").write_text(
        '[search]\nstrategy = "predictor"\npopulation = 6\nbudget_evals = 10\n'
        'seconds = "none"\n[proxy]\nfitness = "synthetic"\nrungs = []\n[final]\ntop_k = 0\n'
        "[strategy.predictor]\npool_size = 10\ntrees = 5\nmin_evals = 6\ngate = false\n"
        'acquisition = "bucket"\n'
    )
    argv = ["evolve", "--config", str(tmp_path / "search.toml"), "--out", str(tmp_path / "run")]
    assert main(argv) == 0
    assert sum(e["kind"] == "train" for e in _log(tmp_path / "run")) == 10
    assert json.loads((tmp_path / "run" / "pareto.json").read_text())
    assert "[strategy.predictor]" in (tmp_path / "run" / "config.toml").read_text()


@pytest.mark.slow  # three pairs of 40-evaluation searches: about half a minute
def test_at_equal_budget_it_finds_a_better_front_than_random_on_most_seeds(tmp_path):
    """Measured (the default space without caps, population 10, 40 evaluations, pool 50, 30
    trees, gate off, ehvi): the predictor's front hypervolume beat random's on 5 of seeds 0-5
    (0.836/0.802, 0.808/0.821, 0.816/0.807, 0.826/0.815, 0.821/0.819, 0.822/0.815); the
    ``bucket`` acquisition lost on all of seeds 0-4. The test runs seeds 0-2 and asks for most."""
    wins = []
    for seed in range(3):
        cfg = _cfg(seed=seed, budget=40, space=SpaceConfig(), pool_size=50, trees=30)
        cfg = cfg.with_overrides(search={"population": 10})
        ours, _ = _search(cfg, tmp_path / f"p{seed}", InlineExecutor())
        plain = cfg.with_overrides(search={"strategy": "random"})
        base, _ = _search(plain, tmp_path / f"r{seed}", InlineExecutor())
        wins.append(ours.hypervolume > base.hypervolume)
    assert sum(wins) >= 2, wins


def _tau(a, b) -> float:
    from scipy.stats import kendalltau

    return float(kendalltau(a, b).statistic)
