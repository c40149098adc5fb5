"""Shared fixtures of the visualisation tests: small finished runs on the synthetic fitness.

The runs are evaluated in this process (:class:`~evolve.executors.InlineExecutor`): a worker
process per run cost more than the search itself, and the executors have their own tests.
"""

import pytest

from evolve.config import EvolveConfig
from evolve.executors import InlineExecutor
from evolve.search import Search
from genesis.runfolder import RunFolder


def _make_run(path, strategy="nsga2", seed=0, top_k=2, **search):
    """A finished run in ``path`` (4 x 3 evaluations unless ``search`` says otherwise)."""
    pinned = {"max_macs": "none", "max_params": "none", "seconds": "none"}  # no caps, no clock
    cfg = EvolveConfig().with_overrides(
        search={
            "strategy": strategy,
            "population": 4,
            "generations": 2,
            "seed": seed,
            **pinned,
            **search,
        },
        proxy={"fitness": "synthetic", "rungs": ()},
        final={"top_k": top_k},
        execution={"workers": 1},
    )
    folder = RunFolder(path)
    folder.create(cfg)
    Search(cfg, folder, InlineExecutor(), log=lambda _: None).run()
    return path


@pytest.fixture(scope="session")
def make_run():
    """The function that makes a finished run: ``make_run(path, strategy, seed, ...)``."""
    return _make_run
