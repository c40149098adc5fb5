"""The search: DEAP strategies over accuracy x MACs, run folders, executors, tuning.

``evolve`` builds on :mod:`genesis` (genomes, training) and :mod:`graphs` (variation); its
toolboxes and fitness classes are built per run, never at import time. The public names are
imported on first use, so reading a config (:mod:`evolve.config`) imports neither torch nor DEAP.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the names below are imported on first use (see __getattr__)
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

#: Public name -> the submodule that defines it. ``import evolve.config`` (what the CLI reads to
#: parse its flags) then loads neither torch nor DEAP; ``evolve.Search`` loads them.
_WHERE = {
    **dict.fromkeys(
        (
            "ARCH_STRATEGIES",
            "STRATEGIES",
            "EvolveConfig",
            "ExecutionConfig",
            "FinalConfig",
            "ProxyConfig",
            "SearchConfig",
            "dump_config",
            "load_config",
        ),
        "evolve.config",
    ),
    **dict.fromkeys(("LocalExecutor", "RayExecutor", "make_executor"), "evolve.executors"),
    **dict.fromkeys(("constrained_score", "hypervolume", "pareto_front"), "evolve.fitness"),
    "RunFolder": "evolve.runfolder",
    "Search": "evolve.search",
    "SearchOutcome": "evolve.search",
    "SearchSpace": "evolve.space",
    "SpaceConfig": "evolve.space",
    "HyperSpace": "evolve.tune",
    "TuneConfig": "evolve.tune",
}


def __getattr__(name: str):
    """Import a public name's submodule on first use (PEP 562)."""
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


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
