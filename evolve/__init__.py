"""The search: DEAP strategies over accuracy x MACs, run folders, executors, tuning.

``evolve`` builds on :mod:`genesis` (genomes, training) and :mod:`graphs` (variation); its
toolboxes and fitness classes are built per run, never at import time.
"""

from evolve.config import (
    ARCH_STRATEGIES,
    STRATEGIES,
    EvolveConfig,
    ExecutionConfig,
    FinalConfig,
    ProxyConfig,
    SearchConfig,
    dump_config,
    load_config,
)
from evolve.executors import LocalExecutor, RayExecutor, make_executor
from evolve.fitness import constrained_score, hypervolume, pareto_front
from evolve.runfolder import RunFolder
from evolve.search import Search, SearchOutcome
from evolve.space import SearchSpace, SpaceConfig
from evolve.tune import HyperSpace, TuneConfig

__all__ = [
    "ARCH_STRATEGIES",
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
    "constrained_score",
    "dump_config",
    "hypervolume",
    "load_config",
    "make_executor",
    "pareto_front",
]
