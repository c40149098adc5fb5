"""Bounded reads of a run folder's files: a regular file, never through a link, never more
bytes than the kind of file may hold, and JSON lines that survive a writer killed mid-append.

A run folder may come from someone else (``genesis report`` and ``genesis compare`` read it):
every file of it is read through :func:`read_bytes_bounded`, with the cap of its kind.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from genesis.files import Refused, read_regular
from graphs import GenesisError

__all__ = [
    "MAX_JSON_BYTES",
    "MAX_LOG_BYTES",
    "MAX_TOML_BYTES",
    "MAX_WEIGHTS_BYTES",
    "read_bytes_bounded",
    "read_jsonl",
]

#: The most bytes read from one file of a run folder, by kind: the evaluation log, the other
#: JSON files (``run.json``, ``pareto.json``, ``final.json``, ``architectures/H.json``), the
#: config, and the final weights (``final/H.pt``, read by the report for edge widths).
MAX_LOG_BYTES = 64 * 2**20
MAX_JSON_BYTES = 8 * 2**20
MAX_TOML_BYTES = 1 * 2**20
MAX_WEIGHTS_BYTES = 256 * 2**20


def read_bytes_bounded(path: str | os.PathLike, limit: int) -> bytes:
    """The bytes of the regular file ``path``, refusing anything else and anything too large.

    The file is opened with ``O_NOFOLLOW | O_NONBLOCK`` (a symlink as its last component is
    refused, and a FIFO never blocks the open), then ``fstat`` must say it is a regular file
    (not a FIFO, a device such as ``/dev/zero``, a socket or a folder). At most ``limit`` bytes
    are read: a file that holds more, even one that grows while it is read, is refused.

    Parameters
    ----------
    path : path-like
        The file to read.
    limit : int
        The most bytes accepted (e.g. :data:`MAX_JSON_BYTES`).

    Returns
    -------
    bytes
        The whole file.

    Raises
    ------
    FileNotFoundError
        When nothing is at ``path`` (callers tell "missing" from "damaged").
    GenesisError
        For a symlink, a file that is not regular, one over ``limit`` bytes, or an unreadable
        one; the message names the file and the rule.

    Examples
    --------
    >>> read_bytes_bounded("/dev/zero", 10)
    Traceback (most recent call last):
    ...
    graphs.errors.GenesisError: '/dev/zero' is not a regular file (a character device); refused
    """
    try:
        return read_regular(path, limit, follow_symlinks=False)
    except Refused as why:
        raise GenesisError(_refusal(str(path), limit, why)) from None


def _refusal(name: str, limit: int, why: Refused) -> str:
    """The one line saying why :func:`read_bytes_bounded` refused the file ``name``."""
    if why.kind == "link":
        return f"{name!r} is a symbolic link; refused"
    if why.kind == "irregular":
        return f"{name!r} is not a regular file ({why.detail}); refused"
    if why.kind == "size" and why.detail is not None:
        return f"{name!r} holds {why.detail} bytes, more than the {limit} read from such a file"
    if why.kind == "size":
        return f"{name!r} holds more than the {limit} bytes read from such a file"
    return f"cannot read {name!r}: {why.detail}"


def read_jsonl(
    path: str | os.PathLike, strict: bool = True, limit: int = MAX_LOG_BYTES
) -> tuple[list[Any], list[str]]:
    """The JSON values of a JSON-lines file, and the problems met reading it.

    A last line cut short (a writer killed mid-append) is dropped silently. A damaged line
    elsewhere is, with ``strict``, a :class:`GenesisError` naming the file and line; without,
    it is skipped and named in the problems (a report shows what it can). A missing file is
    empty. The file is read with :func:`read_bytes_bounded` (at most ``limit`` bytes, a regular
    file only): anything else is a :class:`GenesisError` with ``strict``, a problem without.
    """
    path = Path(path)
    try:
        data = read_bytes_bounded(path, limit)
    except FileNotFoundError:
        return [], []
    except GenesisError as exc:
        if strict:
            raise
        return [], [f"{path.name} was not read: {exc}"]
    try:
        text = data.decode("utf-8", errors="strict" if strict else "replace")
    except UnicodeDecodeError as exc:
        raise GenesisError(f"{str(path)!r} is not UTF-8 text: {exc.reason}") from None
    lines = text.split("\n")
    values, problems = [], []
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            values.append(json.loads(line))
        except (ValueError, RecursionError):  # not JSON, nested too deep, an int too long
            if i == len(lines):  # the unfinished (unterminated) last line of a killed run
                continue
            message = f"{str(path)!r} line {i} is damaged (not JSON)"
            if strict:
                raise GenesisError(f"{message}; the entries before it are intact") from None
            problems.append(f"{path.name} line {i} is damaged")
    return values, problems
