"""A search's checkpoint: its state pickled atomically after each finished job, the one before
kept beside it, and read back only by ``--resume`` of the same run.

``checkpoint.pkl`` is the run's own pickle: never resume a run folder you got from someone
else. Everything meant to be shared (architectures, records, front, weights as
``state_dict``) is JSON or tensors (see :mod:`genesis.runfolder`).
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

from genesis.files import atomic_write
from graphs import GenesisError

__all__ = ["check_state", "load_checkpoint", "save_checkpoint"]


def save_checkpoint(current: Path, prev: Path, state: Any) -> None:
    """Pickle ``state`` atomically to ``current``; the one it replaces stays as ``prev``.

    ``current`` exists at every instant after the first save: the old one is hard-linked to
    the ``prev`` name before the new one is renamed over it.

    Parameters
    ----------
    current, prev : Path
        ``checkpoint.pkl`` and ``checkpoint.prev.pkl`` of a run folder.
    state : Any
        The search state (a picklable object).
    """
    data = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    if current.exists():
        link = prev.with_name(f".{prev.name}.tmp{os.getpid()}")
        link.unlink(missing_ok=True)
        os.link(current, link)
        os.replace(link, prev)
    atomic_write(current, data)


def load_checkpoint(current: Path, prev: Path, check: Callable[[Any], Any] | None = None) -> Any:
    """The state saved in ``current`` (None when there is none yet).

    Parameters
    ----------
    current, prev : Path
        ``checkpoint.pkl`` and ``checkpoint.prev.pkl`` of a run folder.
    check : callable, optional
        Turns the unpickled object into the state, raising for anything else (default
        :func:`check_state`).

    Returns
    -------
    Any
        The state, or None before the first save.

    Raises
    ------
    GenesisError
        For a damaged checkpoint; the message names ``prev`` when it exists.
    """
    if not current.exists():
        return None
    try:
        with open(current, "rb") as f:
            state = pickle.load(f)
        return (check or check_state)(state)
    except Exception as exc:
        hint = (
            f"; {prev.name} holds the generation before: move it over {current.name} to "
            "resume from there"
            if prev.exists()
            else ""
        )
        raise GenesisError(
            f"checkpoint {str(current)!r} is damaged ({type(exc).__name__}){hint}"
        ) from None


def check_state(state: Any) -> Any:
    """``state`` when it is a search state (one with a ``window``, or 0.2's ``generation``).

    Raises
    ------
    ValueError
        For anything else.
    """
    if not any(hasattr(state, k) for k in ("generation", "window")) and not (
        isinstance(state, dict) and "generation" in state
    ):
        raise ValueError("not a genesis checkpoint")
    return state
