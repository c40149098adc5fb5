"""Files, safely: the one atomic write and the bounded reads every part of genesis uses.

Imports nothing of genesis, so the genome, the exporters, the run folder, the report and the
CLI can all use it; each turns a :class:`Refused` into its own one-line message.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "Refused",
    "append_bytes",
    "atomic_write",
    "checked_write",
    "open_regular",
    "read_regular",
]


class Refused(Exception):
    """Why :func:`read_regular` read nothing: ``kind`` is ``"link"`` (a symlink it may not
    follow), ``"irregular"`` (``detail`` names what it is: a FIFO, a device...), ``"size"``
    (``detail``: the size found, or None when it grew past the limit while read) or ``"os"``
    (``detail``: the system's message)."""

    def __init__(self, kind: str, detail: object = None):
        super().__init__(kind, detail)
        self.kind, self.detail = kind, detail


def _kind(mode: int) -> str:
    """What a file that is not regular is, for messages."""
    for test, kind in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "not a plain file"


def _open_checked(
    path: str | os.PathLike, limit: int, follow_symlinks: bool, dir_fd: int | None
) -> int:
    """A descriptor of the regular file ``path`` of at most ``limit`` bytes (see
    :func:`read_regular`); the caller closes it."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC
    if not follow_symlinks:
        flags |= os.O_NOFOLLOW
    try:
        fd = os.open(path, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if not follow_symlinks:
            try:
                link = stat.S_ISLNK(os.lstat(path, dir_fd=dir_fd).st_mode)
            except OSError:
                link = False
            if link:
                raise Refused("link") from None
        raise Refused("os", exc.strerror or str(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused("irregular", _kind(info.st_mode))
        if info.st_size > limit:
            raise Refused("size", info.st_size)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: str | os.PathLike, limit: int, follow_symlinks: bool = True) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    The file is opened non-blocking (a FIFO without a writer never hangs the open), and with
    ``follow_symlinks=False`` with ``O_NOFOLLOW`` too; then ``fstat`` must say it is a regular
    file, not a FIFO, a device such as ``/dev/zero``, a socket or a folder. At most ``limit + 1``
    bytes are ever read, so a file that grows while it is read cannot exhaust memory.

    Raises
    ------
    FileNotFoundError
        When nothing is at ``path``.
    Refused
        For anything else that stops the read (see :class:`Refused`).
    """
    fd = _open_checked(path, limit, follow_symlinks, None)
    try:
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(limit + 1 - size, 2**20))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise Refused("size", None)
        return b"".join(chunks)
    except OSError as exc:
        raise Refused("os", exc.strerror or str(exc)) from None
    finally:
        os.close(fd)


def open_regular(
    path: str | os.PathLike,
    limit: int,
    follow_symlinks: bool = True,
    dir_fd: int | None = None,
) -> BinaryIO:
    """The regular file ``path`` open for reading, checked as :func:`read_regular` checks it.

    For reads that stop early or stream (a file's header, a gzip stream): the open is
    non-blocking, ``O_NOFOLLOW`` without ``follow_symlinks``, and ``fstat`` must say a regular
    file of at most ``limit`` bytes; ``os.fstat(f.fileno()).st_size`` is its size. ``path`` is
    relative to the folder open as ``dir_fd`` when that is given (``os.open``'s ``dir_fd``).
    The caller closes the file and bounds what it reads: the file may grow after the check.

    Raises
    ------
    FileNotFoundError
        When nothing is at ``path``.
    Refused
        For anything else that stops the open (see :class:`Refused`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.bin"
    >>> _ = p.write_bytes(b"header and body")
    >>> with open_regular(p, 100) as f:
    ...     f.read(6)
    b'header'
    >>> open_regular("/dev/zero", 100)
    Traceback (most recent call last):
    ...
    genesis.files.Refused: ('irregular', 'a character device')
    """
    return os.fdopen(_open_checked(path, limit, follow_symlinks, dir_fd), "rb")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Replace ``path`` with ``data`` at once: readers see the old file or the new, never a part.

    The data goes to a fresh temporary file in the same folder (``tempfile.mkstemp``: created
    exclusively, never through a link), is flushed to disk, gets the permissions a new file
    gets (``0o666`` less the umask), then is renamed over ``path``. A symlink at ``path`` is
    replaced, not followed. On any failure the temporary file is removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> atomic_write(p, b"one"); atomic_write(p, b"two"); p.read_bytes()
    b'two'
    """
    checked_write(path, data)


def checked_write(
    path: str | os.PathLike, data: bytes, check: Callable[[Path], None] | None = None
) -> None:
    """Write ``data`` to ``path`` as :func:`atomic_write` does, but only once ``check`` passed.

    ``check`` is called with the path of the complete temporary file (beside ``path``: a
    reader such as onnxruntime can open it) and raises to refuse it. Then the temporary file
    is removed and ``path`` is left as it was: an export whose check fails never destroys the
    file a user had before.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> p.write_bytes(b"mine")
    4
    >>> def refuse(tmp):
    ...     raise ValueError("no")
    >>> try:
    ...     checked_write(p, b"new", refuse)
    ... except ValueError:
    ...     pass
    >>> p.read_bytes()
    b'mine'
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), 0o666 & ~_umask())
            os.fsync(f.fileno())
        if check is not None:
            check(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def append_bytes(path: str | os.PathLike, data: bytes, sync: bool = True) -> None:
    """Append ``data`` to the regular file ``path`` (created when missing), flushed to disk
    with ``sync``; a symlink at ``path`` is refused (``O_NOFOLLOW``), so an append never writes
    outside the folder it was meant for.

    Raises
    ------
    OSError
        ``ELOOP`` for a symlink, or whatever else the system says.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "log.jsonl"
    >>> append_bytes(p, b"1\\n"); append_bytes(p, b"2\\n"); p.read_bytes()
    b'1\\n2\\n'
    """
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)
