"""What ``genesis evolve`` and ``tune`` share: the search flags given, a run folder reopened to
resume it, and the end of a run that trained nothing (or nothing above chance)."""

from __future__ import annotations

from typing import Any

from graphs import GenesisError

__all__ = ["resume_run", "say_failures", "search_flags_given"]


def search_flags_given(overrides: dict[str, dict[str, Any]]) -> list[str]:
    """``section.field`` of every flag given that is not an execution flag, sorted."""
    return sorted(
        f"{t}.{k}"
        for t, v in overrides.items()
        for k, x in v.items()
        if x is not None and t != "execution"
    )


def resume_run(path: str, execution: dict[str, Any], refusal: str | None, *, tuning: bool):
    """Reopen the run folder ``path`` to continue it with its own config and new execution flags.

    Parameters
    ----------
    path : str
        The run folder of ``--resume``.
    execution : dict
        The execution flags given (field -> value, None: not given).
    refusal : str or None
        The error when search flags were given: ``tune`` says so before it reads the folder,
        ``evolve`` after (so each keeps its message order).
    tuning : bool
        Whether ``genesis tune`` resumes (the folder must then be a tuning run).

    Returns
    -------
    tuple
        The :class:`~genesis.runfolder.RunFolder` and its config with the execution flags.

    Raises
    ------
    GenesisError
        On ``refusal``, a folder of the other verb, or a damaged checkpoint or log: before
        anything is written.
    """
    from evolve.bases import run_base
    from evolve.config import load_config
    from genesis.runfolder import RunFolder

    if tuning and refusal:
        raise GenesisError(refusal)
    folder = RunFolder(path)
    cfg = load_config(folder.check(), overrides={"execution": execution}, base=run_base())
    if refusal:
        raise GenesisError(refusal)
    cfg = cfg.with_overrides(execution=execution)
    if tuning and not cfg.tune.architecture:
        raise GenesisError(f"{path!r} is not a tuning run; resume it with genesis evolve --resume")
    folder.load_checkpoint()
    folder.read_evaluations()
    return folder, cfg


def say_failures(folder, classes: int, what: str, front: list[dict[str, Any]]) -> None:
    """End the run with :class:`~graphs.errors.RunFailed` when nothing trained (the most common
    cause, its count, the log), and warn when the best accuracy is at chance level.

    Parameters
    ----------
    folder : genesis.runfolder.RunFolder
        The run's folder (its log is read).
    classes : int
        Classes of the networks (chance is 1 / classes).
    what : str
        The run in words (``"search"``, ``"tuning run"``).
    front : list of dict
        The records whose best accuracy is compared with chance.
    """
    import sys

    from evolve.failures import Failures, chance_warning

    Failures.of_log(folder.read_evaluations()).check(what, str(folder.log_path))
    best = max((r["accuracy"] for r in front if r.get("accuracy") is not None), default=None)
    warning = chance_warning(best, classes, "the best candidate")
    if warning:
        print(warning, file=sys.stderr)
