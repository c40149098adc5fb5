"""Shared fixtures of the visualisation tests: small finished runs on the synthetic fitness.

The runs are evaluated in this process (:class:`InProcess`): a worker process per run cost
more than the search itself, and the executors have their own tests.
"""

import pytest

from evolve.config import EvolveConfig
from evolve.evaluate import evaluate_task
from evolve.executors import Executor
from evolve.search import Search
from genesis.runfolder import RunFolder


class InProcess(Executor):
    """Evaluates each task here, in order (the synthetic fitness takes microseconds)."""

    def run(self, tasks, on_result):
        for key, task in tasks:
            on_result(key, evaluate_task(task))


def _make_run(path, strategy="nsga2", seed=0, top_k=2, **search):
    """A finished run in ``path`` (4 x 3 evaluations unless ``search`` says otherwise)."""
    cfg = EvolveConfig().with_overrides(
        search={"strategy": strategy, "population": 4, "generations": 2, "seed": seed, **search},
        proxy={"fitness": "synthetic"},
        final={"top_k": top_k},
    )
    folder = RunFolder(path)
    folder.create(cfg)
    Search(cfg, folder, InProcess(), log=lambda _: None).run()
    return path


@pytest.fixture(scope="session")
def make_run():
    """The function that makes a finished run: ``make_run(path, strategy, seed, ...)``."""
    return _make_run
