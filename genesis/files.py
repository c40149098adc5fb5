"""Writing files safely: the one atomic write every part of genesis uses.

Imports nothing of genesis, so the genome, the exporters, the run folder and the CLI can all
use it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write"]


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
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), 0o666 & ~_umask())
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
