"""The search: DEAP strategies over accuracy x MACs, run folders, executors, tuning.

``evolve`` builds on :mod:`genesis` (genomes, training) and :mod:`graphs` (variation); its
toolboxes and fitness classes are built per run, never at import time.

The names below are imported on first use (PEP 562), so ``import evolve.config`` alone (the
CLI's flag choices, a config check) pulls in neither DEAP nor the executors.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evolve.config import (
        ARCH_STRATEGIES,
        STRATEGIES,
        EvolveConfig,
        ExecutionConfig,
        FinalConfig,
        ProxyConfig,
        SearchConfig,
        check_proxy_data,
        dump_config,
        load_config,
    )
    from evolve.executors import LocalExecutor, RayExecutor, make_executor
    from evolve.fitness import constrained_score, hypervolume, pareto_front
    from evolve.runfolder import RunFolder
    from evolve.runner import run_search
    from evolve.search import Search, SearchOutcome
    from evolve.space import SearchSpace, SpaceConfig
    from evolve.tune import BASE_ARCHITECTURE, HyperSpace, TuneConfig, tuning_config

#: Public name -> the module that defines it.
_EXPORTS = {
    "ARCH_STRATEGIES": "evolve.config",
    "STRATEGIES": "evolve.config",
    "EvolveConfig": "evolve.config",
    "ExecutionConfig": "evolve.config",
    "FinalConfig": "evolve.config",
    "ProxyConfig": "evolve.config",
    "SearchConfig": "evolve.config",
    "check_proxy_data": "evolve.config",
    "dump_config": "evolve.config",
    "load_config": "evolve.config",
    "LocalExecutor": "evolve.executors",
    "RayExecutor": "evolve.executors",
    "make_executor": "evolve.executors",
    "constrained_score": "evolve.fitness",
    "hypervolume": "evolve.fitness",
    "pareto_front": "evolve.fitness",
    "RunFolder": "evolve.runfolder",
    "run_search": "evolve.runner",
    "Search": "evolve.search",
    "SearchOutcome": "evolve.search",
    "SearchSpace": "evolve.space",
    "SpaceConfig": "evolve.space",
    "BASE_ARCHITECTURE": "evolve.tune",
    "HyperSpace": "evolve.tune",
    "TuneConfig": "evolve.tune",
    "tuning_config": "evolve.tune",
}

__all__ = [
    "ARCH_STRATEGIES",
    "BASE_ARCHITECTURE",
    "STRATEGIES",
    "EvolveConfig",
    "ExecutionConfig",
    "FinalConfig",
    "HyperSpace",
    "LocalExecutor",
    "ProxyConfig",
    "RayExecutor",
    "RunFolder",
    "Search",
    "SearchConfig",
    "SearchOutcome",
    "SearchSpace",
    "SpaceConfig",
    "TuneConfig",
    "check_proxy_data",
    "constrained_score",
    "dump_config",
    "hypervolume",
    "load_config",
    "make_executor",
    "pareto_front",
    "run_search",
    "tuning_config",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first access (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'evolve' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
