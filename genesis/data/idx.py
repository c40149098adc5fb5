"""IDX files (MNIST, Fashion-MNIST), read from their header with every read bounded."""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np
import torch

from genesis.data.dataset import Dataset
from genesis.data.reads import _read_upto, _refusal
from genesis.files import Refused, open_regular
from graphs import GenesisError

__all__ = ["FASHION_MNIST_CLASSES", "IDX_FILES", "MAX_IDX_BYTES", "MAX_IDX_DIMS", "read_idx"]

#: Fashion-MNIST's class names, by label (Xiao et al. 2017, the dataset's README).
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

IDX_FILES = {
    "train_x": "train-images-idx3-ubyte",
    "train_y": "train-labels-idx1-ubyte",
    "test_x": "t10k-images-idx3-ubyte",
    "test_y": "t10k-labels-idx1-ubyte",
}

#: Most data bytes one IDX file may hold (the product of its header's dimensions, after gzip),
#: checked from its header before its data is read; its file on disk may hold 1 MiB more
#: (header, compression). Fashion-MNIST's largest holds 47 MB.
MAX_IDX_BYTES = 2**28

# What an IDX file on disk may hold beyond MAX_IDX_BYTES: its header and gzip's framing.
_IDX_ROOM = 2**20

#: Most dimensions an IDX file may declare (images have 3, labels 1).
MAX_IDX_DIMS = 4


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file of unsigned bytes (optionally gzipped, by a ``.gz`` name) into an array.

    The file is hostile data: it must be a regular file, not a symbolic link, a FIFO or a
    device; its header (magic ``00 00 08 <ndim>``, then ``ndim`` big-endian dimensions, 1 to
    :data:`MAX_IDX_DIMS` of them) is read first, and the data it declares (their product) must
    be at most :data:`MAX_IDX_BYTES`. A plain file's size is checked against the header before
    its data is read; a gzipped one is decompressed no further than the declared data and one
    byte more, so a gzip bomb is refused without being inflated. The file on disk may hold at
    most :data:`MAX_IDX_BYTES` plus 1 MiB (header, compression).

    Parameters
    ----------
    path : path-like
        The IDX file; a name ending in ``.gz`` is read as gzip.

    Returns
    -------
    numpy.ndarray
        uint8, of the header's shape.

    Raises
    ------
    GenesisError
        Naming the file and the rule, when it is a symbolic link, not a regular file, empty,
        not an unsigned-byte IDX file, truncated or padded (its header and its data disagree),
        or over a cap.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "labels"
    >>> _ = p.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
    >>> read_idx(p).tolist()
    [7, 8, 9]
    """
    path = Path(path)
    shown = str(path)
    limit = MAX_IDX_BYTES + _IDX_ROOM
    try:
        f = open_regular(path, limit, follow_symlinks=False)
    except FileNotFoundError:
        raise GenesisError(f"cannot read IDX file {shown!r}: no such file") from None
    except Refused as why:
        raise GenesisError(
            _refusal("IDX file", shown, why, "MAX_IDX_BYTES + 1 MiB", limit)
        ) from None
    with f:
        size = os.fstat(f.fileno()).st_size
        try:
            gz = path.suffix == ".gz"
            stream = gzip.GzipFile(fileobj=f, mode="rb") if gz else f
            head = _read_upto(stream, 4)
            if not head:
                raise GenesisError(
                    f"{shown!r} is empty, not an unsigned-byte IDX file (bad magic number)"
                )
            if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] != 0x08:
                raise GenesisError(f"{shown!r} is not an unsigned-byte IDX file (bad magic number)")
            ndim = head[3]
            if not 1 <= ndim <= MAX_IDX_DIMS:
                raise GenesisError(
                    f"IDX file {shown!r} declares {ndim} dimensions; it may have 1 to "
                    f"MAX_IDX_DIMS = {MAX_IDX_DIMS}"
                )
            raw = _read_upto(stream, 4 * ndim)
            header = 4 + 4 * ndim
            if len(raw) < 4 * ndim:
                raise GenesisError(
                    f"IDX file {shown!r} is truncated: its header of {ndim} dimensions needs "
                    f"{header} bytes, the file has {4 + len(raw)}"
                )
            dims = [int.from_bytes(raw[4 * i : 4 * i + 4], "big") for i in range(ndim)]
            n = math.prod(dims)
            if n > MAX_IDX_BYTES:
                raise GenesisError(
                    f"IDX file {shown!r} declares {dims} = {n} data bytes; the cap is "
                    f"MAX_IDX_BYTES = {MAX_IDX_BYTES}"
                )
            if not gz and size != header + n:
                raise GenesisError(
                    f"IDX file {shown!r} is truncated or padded: header says {dims}, "
                    f"file has {size - header} data bytes"
                )
            data = np.empty(n, dtype=np.uint8)
            got = 0
            while got < n:
                chunk = stream.read(min(n - got, 2**20))
                if not chunk:
                    break
                data[got : got + len(chunk)] = np.frombuffer(chunk, dtype=np.uint8)
                got += len(chunk)
            if got < n or stream.read(1):
                more = f"{got}" if got < n else f"more than {n}"
                raise GenesisError(
                    f"IDX file {shown!r} is truncated or padded: header says {dims}, "
                    f"file has {more} data bytes"
                )
        except (OSError, EOFError, zlib.error) as exc:
            raise GenesisError(f"cannot read IDX file {shown!r}: {exc}") from None
    return data.reshape(dims)


def _idx_folder(
    folder: Path, name: str, flip: bool, classes: tuple[str, ...] | None = None
) -> Dataset:
    """The dataset of the four IDX files in ``folder``; ``classes`` names its labels when they
    fit (labels 0..len(classes)-1), else they are named by number."""
    arrays = {}
    for key, stem in IDX_FILES.items():
        for candidate in (folder / stem, folder / f"{stem}.gz"):
            if candidate.exists() or candidate.is_symlink():
                arrays[key] = read_idx(candidate)
                break
        else:
            raise GenesisError(
                f"{str(folder)!r} lacks {stem}[.gz]; an IDX dataset needs all of "
                f"{', '.join(IDX_FILES.values())}"
            )
    tx, ty, vx, vy = (arrays[k] for k in ("train_x", "train_y", "test_x", "test_y"))
    if (
        tx.ndim != 3
        or vx.ndim != 3
        or ty.ndim != 1
        or vy.ndim != 1
        or len(tx) != len(ty)
        or len(vx) != len(vy)
        or tx.shape[1:] != vx.shape[1:]
    ):
        raise GenesisError(
            f"IDX files in {str(folder)!r} disagree: images {tx.shape} / labels "
            f"{ty.shape}, test {vx.shape} / {vy.shape}"
        )
    if not len(ty) or not len(vy) or not tx[:1].size:
        raise GenesisError(
            f"IDX files in {str(folder)!r} hold no examples: images {tx.shape}, test {vx.shape}"
        )
    count = int(max(ty.max(), vy.max())) + 1
    return Dataset(
        name,
        torch.from_numpy(tx).unsqueeze(1),
        torch.from_numpy(ty.astype(np.int64)),
        torch.from_numpy(vx).unsqueeze(1),
        torch.from_numpy(vy.astype(np.int64)),
        count,
        flip,
        classes[:count] if classes is not None and count <= len(classes) else None,
    )
