"""Shared fixtures of the visualisation tests: small finished runs on the synthetic fitness.

The runs are evaluated in this process (:class:`~evolve.executors.InlineExecutor`): a worker
process per run cost more than the search itself, and the executors have their own tests.
"""

from pathlib import Path

import pytest

from evolve.config import EvolveConfig
from evolve.executors import InlineExecutor
from evolve.search import Search
from genesis.runfolder import RunFolder


def _make_run(path, strategy="nsga2", seed=0, top_k=2, rungs=(), executor=None, **search):
    """A finished run in ``path`` (4 x 3 evaluations unless ``search`` says otherwise; one
    rung unless ``rungs`` lists several; evaluated by ``executor``, an InlineExecutor unless
    given)."""
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
        proxy={"fitness": "synthetic", "rungs": tuple(rungs)},
        final={"top_k": top_k},
        execution={"workers": 1},
    )
    folder = RunFolder(path)
    folder.create(cfg)
    Search(cfg, folder, executor or InlineExecutor(), log=lambda _: None).run()
    return path


@pytest.fixture(scope="session")
def make_run():
    """The function that makes a finished run: ``make_run(path, strategy, seed, ...)``."""
    return _make_run


@pytest.fixture
def figures(monkeypatch):
    """Every figure saved while the test runs, by its file's stem (``study_bars``,
    ``fronts``...): the matplotlib Figure itself, drawn (tick labels made) and closed, so a
    test reads legends, titles and ticks from the objects instead of from PNG pixels."""
    import visualize.axes
    import visualize.compare
    import visualize.plots

    saved: dict = {}
    real = visualize.axes.save_figure

    def recording(fig, out):
        path = real(fig, out)
        saved[Path(out).stem] = fig
        return path

    for module in (visualize.axes, visualize.plots, visualize.compare):
        monkeypatch.setattr(module, "save_figure", recording)
    return saved
