"""The run folder's layout: the names it keeps, the names of its architectures, and the rule
that no command's output replaces any of them.

:mod:`genesis.runfolder` describes the layout and reads and writes the folder; this module names
its parts (:data:`RUN_FILES`, :data:`RUN_DIRS`, a study's :data:`STUDY_FILES`,
:data:`STUDY_FIGURES` and :data:`STUDY_DIRS`), the states a run can be in, the columns of its
logbook, and what an architecture's hash looks like (:func:`is_hash`): nothing else read from a
run folder becomes part of a path.
"""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path
from typing import Any

from graphs import GenesisError

__all__ = [
    "HASH_PATTERN",
    "LOCK",
    "LOGBOOK_FIELDS",
    "RUN_DIRS",
    "RUN_FILES",
    "STATUSES",
    "STUDY_DIRS",
    "STUDY_FIGURES",
    "STUDY_FILES",
    "is_hash",
    "refuse_run_file",
]

#: States a run can be in (``run.json``'s ``status``): ``running`` also stands for a run that was
#: killed (SIGKILL leaves no trace); ``interrupted`` is Ctrl-C, ``failed`` an error.
STATUSES = ("running", "interrupted", "failed", "finished")

#: The writer lock's file (see :meth:`genesis.runfolder.RunFolder.locked`); it holds the
#: writer's PID.
LOCK = "run.lock"

#: Columns of ``logbook.csv``, one row per generation.
LOGBOOK_FIELDS = (
    "generation",
    "evaluations",
    "trained",
    "cached",
    "skipped",
    "best_accuracy",
    "front_size",
    "hypervolume",
    "seconds",
)

#: What the search names an architecture by: 20 hex digits of its canonical hash, plus ``-`` and
#: 8 hex digits of its content digest after a Weisfeiler-Lehman collision. Nothing else read
#: from a run folder becomes part of a path.
HASH_PATTERN = re.compile(r"[0-9a-f]{20}(-[0-9a-f]{8})?")


def is_hash(value: Any) -> bool:
    """Whether ``value`` is an architecture hash as the search writes it (:data:`HASH_PATTERN`).

    Examples
    --------
    >>> is_hash("25947824abf5d7875e06"), is_hash("25947824abf5d7875e06-0badf00d")
    (True, True)
    >>> is_hash("../../etc/passwd"), is_hash("<script>"), is_hash(12)
    (False, False, False)
    """
    return isinstance(value, str) and HASH_PATTERN.fullmatch(value) is not None


#: What a run writes, relative to its folder: outputs of other commands must not replace these.
RUN_FILES = (
    "config.toml",
    "run.json",
    "evaluations.jsonl",
    "archive.jsonl",
    "logbook.csv",
    "pareto.json",
    "evaluations.csv",
    "pareto.csv",
    "final.json",
    "checkpoint.pkl",
    "checkpoint.prev.pkl",
    "best.json",
    "base.json",
    LOCK,
)
RUN_DIRS = ("architectures", "final", "rungs", "tensorboard")

#: What a study (``genesis study``) adds to its run folder, relative to it: its tables and
#: summary, its figures (``study_*.png``), and the folders of its drawings, its networks'
#: weights and its graph damage. Outputs of other commands must not replace these either.
STUDY_FILES = ("study.csv", "summary.csv", "summary.txt", "ops.csv", "ops_correlation.csv")
STUDY_FIGURES = "study_*.png"
STUDY_DIRS = ("drawings", "weights", "damage")


def refuse_run_file(path: str | os.PathLike, what: str = "output") -> None:
    """Raise :class:`GenesisError` when ``path`` names a file a run folder keeps (its log,
    config, checkpoints, architectures, final weights...) or a study's (its tables, figures,
    drawings, weights, graph damage): a command's output never replaces part of a run. Other
    files inside a run folder (``report.html``, a plot of one's own) are fine.

    The path is resolved first (``..`` and links), and checked against the run folder that
    holds it, or the one above (a file in one of the run's subfolders).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> run = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (run / "config.toml").write_text("[study]\\n")
    >>> refuse_run_file(run / "notes.html")
    >>> refuse_run_file(run / "damage" / "damage.csv")
    Traceback (most recent call last):
    ...
    graphs.errors.GenesisError: output '...damage.csv' is a file of the run folder '...'; ...
    """
    target = Path(path).resolve()
    for folder in (target.parent, target.parent.parent):
        if not any((folder / marker).exists() for marker in ("config.toml", "run.json")):
            continue
        rel = target.relative_to(folder)
        if (
            rel.parts[0] in RUN_DIRS + STUDY_DIRS
            or str(rel) in RUN_FILES + STUDY_FILES
            or fnmatch.fnmatchcase(str(rel), STUDY_FIGURES)
        ):
            raise GenesisError(
                f"{what} {str(path)!r} is a file of the run folder {str(folder)!r}; choose a "
                "path outside what the run keeps"
            )
