"""The search: strategies over accuracy x MACs (or measured latency and memory), the loop,
executors, the final step, tuning, and generator studies (:mod:`evolve.study`) on the same engine.

``evolve`` builds on :mod:`genesis` (genomes, training, run folders) and :mod:`graphs`
(variation). Strategies are registered parts (:mod:`evolve.strategies`); their DEAP toolboxes
and fitness classes are built per run, never at import time. Names are imported on first use
(PEP 562), so ``import evolve.config`` alone pulls in neither deap nor torch.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "EvolveConfig": "evolve.config",
    "check_proxy_data": "evolve.config",
    "ExecutionConfig": "evolve.config",
    "FinalConfig": "evolve.config",
    "ProxyConfig": "evolve.config",
    "SearchConfig": "evolve.config",
    "dump_config": "evolve.config",
    "load_config": "evolve.config",
    "LocalExecutor": "evolve.executors",
    "RayExecutor": "evolve.executors",
    "make_executor": "evolve.executors",
    "constrained_score": "evolve.fitness",
    "hypervolume": "evolve.fitness",
    "pareto_front": "evolve.fitness",
    "run_final": "evolve.final",
    "select_final": "evolve.final",
    "run_search": "evolve.runner",
    "Search": "evolve.search",
    "SearchOutcome": "evolve.state",
    "SearchState": "evolve.state",
    "SearchSpace": "evolve.space",
    "Setting": "evolve.studysettings",
    "StudyConfig": "evolve.studyconfig",
    "StudyRunConfig": "evolve.studyconfig",
    "run_study": "evolve.study",
    "study_jobs": "evolve.study",
    "SpaceConfig": "evolve.space",
    "Strategy": "evolve.strategies",
    "get_strategy": "evolve.strategies",
    "register_strategy": "evolve.strategies",
    "strategy_names": "evolve.strategies",
    "BASE_ARCHITECTURE": "evolve.tune",
    "HyperSpace": "evolve.tune",
    "tuning_config": "evolve.bases",
    "TuneConfig": "evolve.tune",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'evolve' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
