"""Strategies as registered parts: the registry, the loop that never names one, the typed state."""

from __future__ import annotations

import inspect
import random

import pytest

import evolve.evaluate
import evolve.final
import evolve.search
from evolve.config import EvolveConfig, SearchConfig
from evolve.search import SearchState
from evolve.space import SearchSpace
from evolve.strategies import Strategy, get_strategy, strategy_names
from genesis import GenesisError


def test_the_registry_lists_every_strategy_once_in_order():
    assert strategy_names() == (
        "nsga2",
        "constrained",
        "regularized",
        "random",
        "rl",
        "predictor",
        "grid",
    )
    assert strategy_names("architectures") == strategy_names()[:6]
    assert strategy_names("hyperparameters") == ("random", "grid")
    for name in strategy_names():
        cls = get_strategy(name)
        assert issubclass(cls, Strategy) and cls.name == name


def test_an_unknown_strategy_names_the_known_ones():
    with pytest.raises(GenesisError, match="must be one of nsga2, constrained, .*, got 'greedy'"):
        get_strategy("greedy")


@pytest.mark.parametrize("module", [evolve.search, evolve.final, evolve.evaluate])
def test_the_loop_never_names_a_strategy(module):
    source = inspect.getsource(module)
    for name in strategy_names():
        assert f'"{name}"' not in source and f"'{name}'" not in source, (module.__name__, name)


def test_every_strategy_proposes_from_the_run_generator_only():
    """Two strategies built alike, fed generators in the same state, propose the same."""
    for name in strategy_names("architectures"):
        search = SearchConfig(strategy=name, max_macs=5e6, population=4)
        cfg = EvolveConfig(search=search)
        a = get_strategy(name)(cfg, SearchSpace(cfg.space))
        b = get_strategy(name)(cfg, SearchSpace(cfg.space))
        pa = next(a.propose(0, [], random.Random(5)))
        pb = next(b.propose(0, [], random.Random(5)))
        assert pa.arch.to_json() == pb.arch.to_json(), name


def test_a_checkpoint_of_the_old_dict_form_becomes_a_typed_state():
    old = {
        "generation": 2,
        "rng": random.Random(1).getstate(),
        "population": [],
        "archive": [],
        "trained": 12,
        "cached": 1,
        "skipped": 3,
        "seconds": 4.5,
        "eval_seconds": 4.0,
        "proposed": 7,
        "controller": None,
    }
    state = SearchState.checked(old)
    # generation 2 finished: windows 0-2 are done and logged, the next proposal opens window 3
    assert (state.window, state.logged_generation, state.trained, state.skipped) == (2, 2, 12, 3)
    assert state.started == 12 and not state.pending
    assert state.strategy == {"proposed": 7, "controller": None}
    assert SearchState.checked(state) is state
    with pytest.raises(ValueError, match="not a genesis checkpoint"):
        SearchState.checked(["a", "list"])


def test_the_readme_strategy_is_one_class_that_runs(tmp_path):
    """The extension guide's example strategy, registered as written, runs a whole search."""
    from pathlib import Path

    from test_evolve_search import InlineExecutor

    from evolve.strategies.base import _REGISTRY
    from genesis.runfolder import RunFolder

    guide = (Path(__file__).parents[2] / "docs" / "concepts" / "extending.md").read_text()
    block = guide.split("## A search strategy")[1].split("```python")[1].split("```")[0]
    namespace: dict = {"__name__": "extending"}  # its __main__ part is the reader's own run
    exec(block, namespace)
    try:
        cfg = EvolveConfig().with_overrides(
            search={"strategy": "mutants", "population": 3, "generations": 2},
            proxy={"fitness": "synthetic"},
            final={"top_k": 1},
        )
        folder = RunFolder(tmp_path / "run")
        folder.create(cfg)
        outcome = evolve.search.Search(cfg, folder, InlineExecutor(), log=lambda _: None).run()
        assert outcome.trained == 9 and outcome.front and outcome.final
        assert {i.origin for i in outcome.archive} == {"sample", "mutation"}
        assert all(bool(i.parents) == (i.origin == "mutation") for i in outcome.archive)
    finally:
        if "mutants" in _REGISTRY:
            _REGISTRY.unregister("mutants")
