"""Running a search end to end: the configured executor, the search, and a record of how it
ended when it did not finish (``run.json`` says ``interrupted`` or ``failed``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evolve.config import EvolveConfig
    from evolve.state import SearchOutcome
    from genesis.runfolder import RunFolder

__all__ = ["recorded", "run_search"]


def run_search(
    cfg: EvolveConfig, folder: RunFolder, log: Callable[[str], None] | None = None
) -> SearchOutcome:
    """Run (or resume) a search in ``folder`` with the executor ``cfg.execution`` names.

    Parameters
    ----------
    cfg : EvolveConfig
        The run's config; ``cfg.execution`` picks the executor, its workers and address.
    folder : RunFolder
        A created (or reopened, for a resume) run folder.
    log : callable, optional
        Receives each progress line of the search; default: the search's own (stderr).

    Returns
    -------
    SearchOutcome
        What :meth:`evolve.search.Search.run` returns: the archive, the Pareto front, the
        hypervolume and the final retraining's records.

    Raises
    ------
    BaseException
        Whatever stopped the search (a :class:`~graphs.GenesisError`, an ``OSError``,
        ``KeyboardInterrupt``...), re-raised after ``run.json`` records the status
        ``interrupted`` (for ``KeyboardInterrupt``) or ``failed`` with the error in one line.

    Notes
    -----
    Recording the status never hides the original error: a failure to write ``run.json`` is
    ignored. The executor is shut down in every case (its context manager).
    """
    from evolve.executors import make_executor
    from evolve.search import Search

    ex = cfg.execution
    with recorded(folder):  # a failure to start the executor is recorded too
        executor = make_executor(ex.executor, ex.workers, ex.address, ex.workers_per_gpu)
        with executor:
            if log is None:
                return Search(cfg, folder, executor).run()
            return Search(cfg, folder, executor, log=log).run()


@contextlib.contextmanager
def recorded(folder: RunFolder) -> Iterator[None]:
    """Record in ``run.json`` how the ``with`` block ended when it raised: ``interrupted``
    (``KeyboardInterrupt``) or ``failed`` with the error in one line; then re-raise. A failure
    to write ``run.json`` never hides the original error (a search's and a study's runs).
    However it ends, ``evaluations.csv`` and ``pareto.csv`` are rebuilt from the log
    (:meth:`~genesis.runfolder.RunFolder.write_tables`)."""
    try:
        yield
    except BaseException as exc:  # say so in run.json, then let the caller report it
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        with contextlib.suppress(Exception):
            folder.write_state(status, error=" ".join(f"{type(exc).__name__}: {exc}".split()))
        with contextlib.suppress(Exception):
            folder.write_tables()
        raise
    folder.write_tables()
