"""Datasets as tensors: Fashion-MNIST / MNIST IDX files, CIFAR-10 batches, a synthetic set.

Small image datasets fit in memory many times over, so a :class:`Dataset` holds them as uint8
tensors that the trainer moves to the device once; there is no DataLoader. :func:`make_splits`
cuts a fixed, seeded validation split from the training set: the search only ever sees
``train`` and ``val``; ``test`` is the official test set, for a final evaluation.

Sources (``load_dataset(spec)``):

- ``"fashion-mnist"``: the IDX files of Debian's ``dataset-fashion-mnist``
  (``/usr/share/datasets/fashion-mnist``), or ``$GENESIS_DATA/fashion-mnist``;
- a folder holding the four IDX files (``train-images-idx3-ubyte[.gz]``, ...): MNIST works too;
- a folder of CIFAR-10 python batches (``data_batch_1`` ... ``data_batch_5``, ``test_batch``),
  read as NumPy arrays, never unpickled into objects (see :func:`_read_cifar_batch`);
- a folder of class subfolders of images (PNG or JPEG, torchvision's ``ImageFolder`` layout:
  ``PATH/<class>/<image>``; or ``PATH/train/<class>/...`` with ``PATH/test/<class>/...`` as the
  test split), read with Pillow into uint8 tensors, headers first (see :func:`image_folder`);
- ``"synthetic"`` or ``"synthetic:CxHxW"``: a tiny seeded dataset of class-dependent patterns,
  for tests;
- ``"canary"``: a tiny seeded dataset whose test split detects being read by mistake (see
  :func:`canary_dataset`), for end-to-end tests of a real search.

The canary
----------
In ``"canary"`` each class is a stripe orientation (class ``k`` of ``K``: stripes at ``k * 180 / K``
degrees, random phase, plus noise), which a net of a few hundred parameters learns in about
sixty SGD steps. The training images (and so the validation split cut from them) show the
stripes of their own class; every *test* image of label ``y`` shows the stripes of class
``(y + 1) mod K``. A net trained on train/val therefore scores near 1 on ``val`` and near 0 on
``test``: a search record with a low accuracy means the search scored on ``test``, a final
record with a high one means the final step scored on ``val`` (or trained on ``test``).

Hostile folders
---------------
A dataset folder may come from someone else, so it is read as hostile data: only regular files
(never a FIFO or a device), never through a symbolic link (a link in a dataset folder is
refused, not followed), every read bounded, never any code run, and each cap below checked
before the work it bounds; a file that breaks a rule is one :class:`GenesisError` naming the
file and the rule (the CLI prints it as one line, exit code 2).

=========================  =====================================================================
Cap                        What it bounds
=========================  =====================================================================
``MAX_IDX_BYTES``          the data of one IDX file, from its header, before it is read
                           (decompressed no further for gzip); its file, plus 1 MiB
``MAX_IDX_DIMS``           the dimensions an IDX file declares
``MAX_CIFAR_BATCH_BYTES``  one CIFAR-10 batch file, before it is unpickled
``MAX_IMAGE_BYTES``        one image file
``MAX_IMAGE_PIXELS``       width x height an image declares in its header, before it is decoded
``MAX_DECODED_BYTES``      the tensors an image folder decodes to, plus its largest image's
                           decode, from the headers, before any image is decoded
``MAX_IMAGES``             the images of one image folder
``MAX_ENTRIES``            the files and folders listed in one image folder
``MAX_DEPTH``              folders between a class folder and an image
``MAX_CLASSES``            class folders (:data:`genesis.limits.MAX_CLASSES`)
=========================  =====================================================================
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import math
import os
import stat
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch

from genesis.files import Refused, open_regular, read_regular
from genesis.limits import MAX_CLASSES
from graphs import GenesisError

__all__ = [
    "Dataset",
    "Splits",
    "DATA_DIRS",
    "IMAGE_FORMATS",
    "IMAGE_SUFFIXES",
    "MAX_CIFAR_BATCH_BYTES",
    "MAX_DECODED_BYTES",
    "MAX_DEPTH",
    "MAX_ENTRIES",
    "MAX_IDX_BYTES",
    "MAX_IDX_DIMS",
    "MAX_IMAGES",
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "canary_dataset",
    "image_folder",
    "load_dataset",
    "make_splits",
    "read_idx",
    "synthetic_dataset",
]

#: Where named datasets are looked for, in order.
DATA_DIRS = (
    os.environ.get("GENESIS_DATA", ""),
    "/usr/share/datasets",
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

#: Largest CIFAR-10 python batch file, in bytes, checked before it is unpickled (a real batch
#: holds 31 MB: 10,000 images of 3072 bytes, their labels and file names).
MAX_CIFAR_BATCH_BYTES = 2**26


@dataclass(frozen=True, eq=False)
class Dataset:
    """Images as uint8 ``(N, C, H, W)`` tensors and int64 labels, with the official test split."""

    name: str  # e.g. "fashion-mnist", or the folder it came from
    train_x: torch.Tensor  # uint8 (N, C, H, W)
    train_y: torch.Tensor  # int64 (N,)
    test_x: torch.Tensor  # uint8 (M, C, H, W): the official test set
    test_y: torch.Tensor  # int64 (M,)
    num_classes: int  # labels are 0..num_classes-1
    flip: bool = False  # horizontal flips are a valid augmentation (not for digits)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one example."""
        return tuple(self.train_x.shape[1:])  # type: ignore[return-value]

    def mean_std(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-channel mean and std of the training images, in [0, 1] units."""
        x = self.train_x.float().div_(255)
        return x.mean(dim=(0, 2, 3)), x.std(dim=(0, 2, 3)).clamp_min(1e-3)


@dataclass(frozen=True, eq=False)
class Splits:
    """What a run trains and measures on. ``val`` is cut from the official training set."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    dataset: Dataset  # where they came from
    split_seed: int  # seed of the train/val cut
    # the held-out part of the validation split (make_splits' ``holdout``): measured, never
    # searched on; empty when none was cut
    holdout_x: torch.Tensor | None = None
    holdout_y: torch.Tensor | None = None

    def full_train(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Every example of the official training set this holds: train, val and holdout (what
        a final training trains on)."""
        xs = [self.train_x, self.val_x] + ([self.holdout_x] if self.holdout_x is not None else [])
        ys = [self.train_y, self.val_y] + ([self.holdout_y] if self.holdout_y is not None else [])
        return torch.cat(xs), torch.cat(ys)


def make_splits(
    data: Dataset,
    val_size: int | float | None = None,
    split_seed: int = 0,
    subset: int | None = None,
    holdout: int = 0,
) -> Splits:
    """Cut a fixed validation split from the training set.

    Parameters
    ----------
    val_size : int or float, optional
        Examples held out (an int) or their share of the training set (a float in (0, 1)).
        Default: 5000 examples, or a tenth of a training set smaller than 50,000.
    split_seed : int
        Seed of the permutation; the same seed gives the same split in any process.
    subset : int, optional
        Keep only this many training examples (after the validation cut), e.g. for a quick
        proxy training during a search. The validation split is unchanged by it.
    holdout : int
        Move this many examples from the end of the validation split to ``holdout``: scored
        on every evaluation, never used to choose (``val_size`` counts both).

    Examples
    --------
    >>> s = make_splits(synthetic_dataset(n_train=100, n_test=10), val_size=20)
    >>> len(s.train_y), len(s.val_y), len(s.test_y)
    (80, 20, 10)
    >>> len(make_splits(synthetic_dataset(n_train=100, n_test=10), 20, holdout=5).holdout_y)
    5
    """
    n = len(data.train_y)
    if val_size is None:
        val_size = min(5000, max(1, n // 10))
    if (
        isinstance(val_size, bool)
        or not isinstance(val_size, (int, float))
        or not math.isfinite(val_size)
    ):
        raise GenesisError(
            f"validation size must be a number of examples or a share, got {val_size!r}"
        )
    n_val = int(round(val_size * n)) if isinstance(val_size, float) else int(val_size)
    if not 0 < n_val < n:
        raise GenesisError(f"validation split must hold 1..{n - 1} examples, got {val_size!r}")
    if isinstance(holdout, bool) or not isinstance(holdout, int) or not 0 <= holdout < n_val:
        raise GenesisError(
            f"holdout must be 0..{n_val - 1} examples of the validation split, got {holdout!r}"
        )
    perm = torch.from_numpy(np.random.default_rng(split_seed).permutation(n))
    val, train = perm[: n_val - holdout], perm[n_val:]
    held = perm[n_val - holdout : n_val]
    if subset is not None:
        if subset < 1:
            raise GenesisError(f"subset must be a positive number of examples, got {subset}")
        train = train[:subset]
    return Splits(
        data.train_x[train],
        data.train_y[train],
        data.train_x[val],
        data.train_y[val],
        data.test_x,
        data.test_y,
        data,
        split_seed,
        data.train_x[held] if holdout else None,
        data.train_y[held] if holdout else None,
    )


def _refusal(what: str, shown: str, why: Refused, cap: str, limit: int) -> str:
    """The one line for a :class:`~genesis.files.Refused` read of a dataset file."""
    if why.kind == "link":
        return (
            f"{what} {shown!r} is a symbolic link; genesis follows none in a dataset folder "
            "(refused)"
        )
    if why.kind == "irregular":
        return (
            f"cannot read {what} {shown!r}: irregular file ({why.detail}); only regular files "
            "are read"
        )
    if why.kind == "size":
        has = f"it has {why.detail} bytes" if why.detail is not None else "it grew while read"
        return f"cannot read {what} {shown!r}: {has}; the cap is {cap} = {limit}"
    return f"cannot read {what} {shown!r}: {why.detail}"


def _read_upto(stream: BinaryIO, n: int) -> bytes:
    """At most ``n`` bytes of ``stream``, fewer only at its end."""
    chunks, size = [], 0
    while size < n:
        chunk = stream.read(min(n - size, 2**20))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


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


def _idx_folder(folder: Path, name: str, flip: bool) -> Dataset:
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
    classes = int(max(ty.max(), vy.max())) + 1
    return Dataset(
        name,
        torch.from_numpy(tx).unsqueeze(1),
        torch.from_numpy(ty.astype(np.int64)),
        torch.from_numpy(vx).unsqueeze(1),
        torch.from_numpy(vy.astype(np.int64)),
        classes,
        flip,
    )


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 python batch without running pickle's object machinery.

    The batches are pickled dicts of a NumPy array and a list of ints. The file must be a
    regular file (not a symbolic link, a FIFO or a device) of at most
    :data:`MAX_CIFAR_BATCH_BYTES`, checked before anything is unpickled; it is read with a
    restricted unpickler that only admits the NumPy reconstruction functions, so a crafted file
    cannot execute code.
    """
    import io
    import pickle

    allowed = {  # what NumPy arrays (and bytes, under protocol 2) are rebuilt from: no code
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }

    class Restricted(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) in allowed:
                return super().find_class(module, name)
            raise GenesisError(f"{str(path)!r} refers to {module}.{name}, not CIFAR-10 data")

    shown = str(path)
    try:
        raw = read_regular(path, MAX_CIFAR_BATCH_BYTES, follow_symlinks=False)
    except FileNotFoundError:
        raise GenesisError(f"cannot read CIFAR-10 batch {shown!r}: no such file") from None
    except Refused as why:
        raise GenesisError(
            _refusal("CIFAR-10 batch", shown, why, "MAX_CIFAR_BATCH_BYTES", MAX_CIFAR_BATCH_BYTES)
        ) from None
    try:
        batch = Restricted(io.BytesIO(raw), encoding="bytes").load()
    except GenesisError:
        raise
    except Exception as exc:
        raise GenesisError(f"cannot read CIFAR-10 batch {shown!r}: {exc}") from None
    del raw
    try:
        data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except (KeyError, TypeError, ValueError) as exc:
        raise GenesisError(f"{str(path)!r} is not a CIFAR-10 batch: {exc}") from None
    if labels.shape != (len(data),):
        raise GenesisError(
            f"{str(path)!r} is not a CIFAR-10 batch: {len(data)} images but labels of shape "
            f"{labels.shape}"
        )
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise GenesisError(
            f"{str(path)!r} is not a CIFAR-10 batch: labels span {labels.min()}..{labels.max()}, "
            "not 0..9"
        )
    return data, labels


def _cifar_folder(folder: Path) -> Dataset:
    names = [f"data_batch_{i}" for i in range(1, 6)]
    parts = [_read_cifar_batch(folder / n) for n in names]
    tx, ty = _read_cifar_batch(folder / "test_batch")
    return Dataset(
        f"cifar10:{folder}",
        torch.from_numpy(np.concatenate([p[0] for p in parts])),
        torch.from_numpy(np.concatenate([p[1] for p in parts])),
        torch.from_numpy(tx),
        torch.from_numpy(ty),
        10,
        flip=True,
    )


#: File endings looked at in an image folder (any case); what a file is, is told by its content.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")

#: Pillow formats an image may be, told by its content (``Image.open(..., formats=...)``), not
#: by its name: a GIF, BMP or TIFF file named ``.png`` is refused.
IMAGE_FORMATS = ("PNG", "JPEG")

# What Pillow may call a file it opened as one of IMAGE_FORMATS: a camera's JPEG holding several
# pictures is "MPO" (its first picture is read).
_FORMAT_NAMES = (*IMAGE_FORMATS, "MPO")

# Modes read as one grey channel; any other is read as RGB, grey when its channels agree.
_GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")

# Most bytes a pixel takes while Pillow decodes it (RGB, RGBA, CMYK, "I" and "F" take 4).
_DECODE_BYTES_PER_PIXEL = 4

#: Largest image file read from an image folder, in bytes.
MAX_IMAGE_BYTES = 64 * 2**20

#: Most pixels (width x height) one image may declare in its header; checked before it is
#: decoded. 2**25 is 33.5 megapixels (a 24-megapixel camera photo fits); decoding one takes at
#: most 4 bytes a pixel, 128 MiB.
MAX_IMAGE_PIXELS = 2**25

#: Most bytes an image folder may decode to: its uint8 tensors (images x channels x height x
#: width, after resizing; three channels when any image is stored in a colour mode) plus the
#: decode of its largest image (4 bytes a pixel), checked from the images' headers before any
#: is decoded. 256 MiB admits a CIFAR-sized folder (60,000 32x32 RGB images: 184 MB); a
#: training copies the tensors once for its splits and once as float32 statistics, so a run on
#: a folder at the cap stays under 2 GiB resident.
MAX_DECODED_BYTES = 2**28

#: Most images one image folder may hold.
MAX_IMAGES = 2_000_000

#: Most files and folders scanned in one image folder, at every depth (hidden ones included).
MAX_ENTRIES = 4_000_000

#: Most folders between a class folder and an image (``<class>/a/b/img.png``: 2).
MAX_DEPTH = 8

#: Share of a class-folder dataset cut as its test split when it has no ``test/`` folder.
TEST_SHARE = 1 / 6

_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _is_link(name: str, dir_fd: int) -> bool:
    """Whether ``name`` in the folder open as ``dir_fd`` is a symbolic link."""
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=dir_fd).st_mode)
    except OSError:
        return False


class _Tree:
    """One image folder open for reading: every folder and file below its root is opened one
    name at a time, relative to its parent, with ``O_NOFOLLOW``, so no symbolic link is ever
    followed (not one swapped in during the walk either) and no path is too long to open; the
    entries listed count against :data:`MAX_ENTRIES`, the images against :data:`MAX_IMAGES`."""

    def __init__(self, root: Path):
        self.root, self.shown = root, str(root)
        self.entries = self.images = 0
        try:
            self.fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            raise GenesisError(
                f"cannot open image folder {self.shown!r}: {exc.strerror or exc}"
            ) from None

    def __enter__(self) -> _Tree:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)

    def path(self, parts: tuple[str, ...]) -> str:
        """``parts`` below the root, for messages."""
        return str(self.root.joinpath(*parts))

    def link(self, parts: tuple[str, ...]) -> GenesisError:
        return GenesisError(
            f"image folder {self.shown!r}: {self.path(parts)!r} is a symbolic link; genesis "
            "follows none in an image folder (refused)"
        )

    def _folder(self, parts: tuple[str, ...]) -> int:
        """A descriptor of the folder ``parts`` below the root; the caller closes it."""
        fd = os.dup(self.fd)
        for i, name in enumerate(parts):
            try:
                below = os.open(name, _FOLDER_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(name, fd):
                    raise self.link(parts[: i + 1]) from None
                raise GenesisError(
                    f"cannot open folder {self.path(parts[: i + 1])!r}: {exc.strerror or exc}"
                ) from None
            finally:
                os.close(fd)
            fd = below
        return fd

    def scan(self, parts: tuple[str, ...]) -> list[tuple[str, str]]:
        """``(name, kind)`` of each entry of the folder ``parts``: kind ``"dir"``, ``"link"`` or
        ``"file"`` (anything else; what it is, is checked when it is opened)."""
        fd = self._folder(parts)
        out = []
        try:
            with os.scandir(fd) as entries:
                for entry in entries:
                    self.entries += 1
                    if self.entries > MAX_ENTRIES:
                        raise GenesisError(
                            f"image folder {self.shown!r} holds more than MAX_ENTRIES = "
                            f"{MAX_ENTRIES} files and folders (counted up to "
                            f"{self.path(parts)!r})"
                        )
                    if entry.is_symlink():
                        kind = "link"
                    elif entry.is_dir(follow_symlinks=False):
                        kind = "dir"
                    else:
                        kind = "file"
                    out.append((entry.name, kind))
        except OSError as exc:
            raise GenesisError(
                f"cannot list folder {self.path(parts)!r}: {exc.strerror or exc}"
            ) from None
        finally:
            os.close(fd)
        return out

    def open(self, parts: tuple[str, ...]) -> BinaryIO:
        """The image file ``parts``, a regular file of at most :data:`MAX_IMAGE_BYTES`."""
        fd = self._folder(parts[:-1])
        try:
            return open_regular(parts[-1], MAX_IMAGE_BYTES, follow_symlinks=False, dir_fd=fd)
        except FileNotFoundError:
            raise GenesisError(f"cannot read image {self.path(parts)!r}: it vanished") from None
        except Refused as why:
            if why.kind == "link":
                raise self.link(parts) from None
            message = _refusal("image", self.path(parts), why, "MAX_IMAGE_BYTES", MAX_IMAGE_BYTES)
            raise GenesisError(message) from None
        finally:
            os.close(fd)


def _class_files(
    tree: _Tree, top: tuple[str, ...], entries: list[tuple[str, str]] | None = None
) -> dict[str, list[tuple[str, ...]]]:
    """Class name -> the paths (as parts) of its images, sorted, for each subfolder of ``top``
    (sorted); ``entries`` is ``top`` listed already. Hidden names (``.*``) are skipped; a
    symbolic link is refused, as are more than ``MAX_CLASSES`` classes."""
    names = []
    for name, kind in sorted(tree.scan(top) if entries is None else entries):
        if name.startswith("."):
            continue
        if kind == "link":
            raise tree.link((*top, name))
        if kind == "dir":
            names.append(name)
    if len(names) > MAX_CLASSES:
        raise GenesisError(
            f"image folder {tree.path(top)!r} holds {len(names)} class folders; the cap is "
            f"MAX_CLASSES = {MAX_CLASSES}"
        )
    return {name: _images_below(tree, (*top, name)) for name in names}


def _images_below(tree: _Tree, top: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The image files (by suffix) in the folder ``top`` and its subfolders, as sorted parts;
    walked without recursion, at most :data:`MAX_DEPTH` folders deep."""
    found, stack = [], [top]
    while stack:
        parts = stack.pop()
        for name, kind in tree.scan(parts):
            if name.startswith("."):
                continue
            here = (*parts, name)
            if kind == "link":
                raise tree.link(here)
            if kind == "dir":
                if len(here) - len(top) > MAX_DEPTH:
                    raise GenesisError(
                        f"image folder {tree.shown!r}: {tree.path(here)!r} is "
                        f"{len(here) - len(top)} folders below its class folder; the cap is "
                        f"MAX_DEPTH = {MAX_DEPTH}"
                    )
                stack.append(here)
            elif os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES:
                tree.images += 1
                if tree.images > MAX_IMAGES:
                    raise GenesisError(
                        f"image folder {tree.shown!r} holds more than {MAX_IMAGES} images "
                        f"(counted up to {tree.path(here)!r}); the cap is "
                        f"MAX_IMAGES = {MAX_IMAGES}"
                    )
                found.append(here)
    return sorted(found)


@contextlib.contextmanager
def _image(tree: _Tree, parts: tuple[str, ...]) -> Iterator[Any]:
    """One image opened by Pillow, its header checked, nothing decoded: PNG or JPEG by its
    content, at most :data:`MAX_IMAGE_PIXELS`. Whatever fails inside (decoding too) is one
    :class:`GenesisError` naming the file."""
    from PIL import Image

    path = tree.path(parts)
    with tree.open(parts) as f:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                img = Image.open(f, formats=IMAGE_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise GenesisError(
                f"image {path!r}: {exc}; the cap is MAX_IMAGE_PIXELS = {MAX_IMAGE_PIXELS}"
            ) from None
        except Image.UnidentifiedImageError:
            raise GenesisError(
                f"cannot read image {path!r}: UnidentifiedImageError: its content is not "
                f"{' or '.join(IMAGE_FORMATS)}, whatever its name (only those are read)"
            ) from None
        except Exception as exc:  # a damaged header
            raise GenesisError(f"cannot read image {path!r}: {type(exc).__name__}: {exc}") from None
        try:
            width, height = img.size
            if img.format not in _FORMAT_NAMES:
                raise GenesisError(
                    f"cannot read image {path!r}: its content is {img.format}, not "
                    f"{' or '.join(IMAGE_FORMATS)}"
                )
            if width < 1 or height < 1 or len(img.getbands()) > _DECODE_BYTES_PER_PIXEL:
                raise GenesisError(
                    f"cannot read image {path!r}: its header declares {width}x{height} pixels "
                    f"of mode {img.mode}"
                )
            if width * height > MAX_IMAGE_PIXELS:
                raise GenesisError(
                    f"image {path!r} declares {width}x{height} = {width * height} pixels in "
                    f"its header; the cap is MAX_IMAGE_PIXELS = {MAX_IMAGE_PIXELS} (nothing "
                    "decoded)"
                )
            yield img
        except GenesisError:
            raise
        except Exception as exc:  # not an image after all, truncated, damaged
            raise GenesisError(f"cannot read image {path!r}: {type(exc).__name__}: {exc}") from None
        finally:
            img.close()


def _decode(
    tree: _Tree, parts: tuple[str, ...], planned: tuple[int, int, bool], resolution: int | None
) -> tuple[np.ndarray, bool]:
    """One image as uint8 ``(H, W)`` grey or ``(H, W, 3)`` RGB (resized when ``resolution``
    is given), and whether it is colour; ``planned`` is what its header said at first
    (width, height, colour mode), which it must still say."""
    from PIL import Image

    with _image(tree, parts) as img:
        if (*img.size, img.mode not in _GREY_MODES) != planned:
            raise GenesisError(
                f"image {tree.path(parts)!r} changed while read: its header said "
                f"{planned[0]}x{planned[1]}, now {img.size[0]}x{img.size[1]} of mode {img.mode}"
            )
        img.load()
        out = img.convert("L" if img.mode in _GREY_MODES else "RGB")
        img.close()  # its decoded pixels are no longer needed
        colour = out.mode == "RGB"
        if colour:  # grey when its three channels agree everywhere
            rgb = np.asarray(out)
            if (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all():
                out, colour = out.convert("L"), False
            del rgb
        if resolution is not None and out.size != (resolution, resolution):
            out = out.resize((resolution, resolution), Image.Resampling.BILINEAR)
        return np.asarray(out), colour


def image_folder(
    folder: str | os.PathLike, resolution: int | None = None, seed: int = 0
) -> Dataset:
    """A folder of class subfolders of images as a :class:`Dataset`.

    Parameters
    ----------
    folder : path-like
        ``folder/<class>/<image>`` (images at most :data:`MAX_DEPTH` folders below the class
        folder), or ``folder/train/<class>/...`` with ``folder/test/<class>/...``. Classes are
        the subfolder names in sorted order (labels 0, 1, ...), as torchvision's
        ``ImageFolder``; files and folders whose names start with ``.`` are skipped.
    resolution : int, optional
        Resize every image to ``resolution x resolution`` (bilinear). Without it, every image
        must have the same size.
    seed : int
        Without a ``test/`` folder, a seeded :data:`TEST_SHARE` of the images becomes the test
        split (the same seed, the same split).

    Returns
    -------
    Dataset
        uint8 images, grey (one channel) when every one of them is, else all RGB.

    Raises
    ------
    GenesisError
        One line naming the first file or folder that breaks a rule, and the rule.

    Notes
    -----
    The folder is hostile data. Files named ``.png``, ``.jpg`` or ``.jpeg`` are read and must be
    PNG or JPEG by their content (:data:`IMAGE_FORMATS`); no symbolic link below ``folder`` is
    ever followed: a folder holding one (a class folder, a folder below it, an image, ``train``
    or ``test``) is refused, as is any file that is not a regular file (a FIFO, a device).
    The folder is read in two passes. The first lists it (at most :data:`MAX_ENTRIES` entries,
    :data:`MAX_IMAGES` images, ``genesis.limits.MAX_CLASSES`` classes, :data:`MAX_DEPTH` deep,
    without recursion) and reads only each image's header (at most :data:`MAX_IMAGE_BYTES` a
    file, :data:`MAX_IMAGE_PIXELS` an image); from the headers it knows the shape of the
    tensors, which with the largest image's decode must fit :data:`MAX_DECODED_BYTES`. The
    second decodes one image at a time straight into the preallocated tensors. Its cost is one
    decode per image; its memory the tensors and one decode.

    Examples
    --------
    >>> import tempfile
    >>> from PIL import Image
    >>> root = Path(tempfile.mkdtemp())
    >>> for c in ("cat", "dog"):
    ...     (root / c).mkdir()
    ...     for i in range(6):
    ...         Image.new("L", (12, 9), 40 * i).save(root / c / f"{i}.png")
    >>> d = image_folder(root, resolution=8)
    >>> d.shape, d.num_classes, len(d.train_y) + len(d.test_y)
    ((1, 8, 8), 2, 12)
    """
    folder = Path(folder)
    with _Tree(folder) as tree:
        entries = tree.scan(())
        for name, kind in entries:
            if kind == "link" and not name.startswith("."):
                raise tree.link((name,))
        kinds = dict(entries)
        split = kinds.get("train") == "dir" and kinds.get("test") == "dir"
        train = _class_files(tree, ("train",)) if split else _class_files(tree, (), entries)
        classes = list(train)
        if len(classes) < 2:
            raise GenesisError(
                f"image folder {str(folder)!r} needs two class subfolders or more "
                f"(FOLDER/<class>/<image>), found {len(classes)}"
            )
        test = _class_files(tree, ("test",)) if split else {}
        unknown = sorted(set(test) - set(classes))
        if unknown:
            raise GenesisError(
                f"image folder {str(folder)!r}: test classes {unknown} are not training classes"
            )
        empty = [c for c, fs in train.items() if not fs]
        if empty:
            raise GenesisError(
                f"image folder {str(folder)!r}: class folder(s) {empty} hold no "
                f"{'/'.join(IMAGE_SUFFIXES)} image"
            )
        label = {c: k for k, c in enumerate(classes)}
        files = [(f, label[c]) for c, fs in train.items() for f in fs]
        files += [(f, label[c]) for c, fs in test.items() for f in fs]
        n = sum(len(fs) for fs in train.values())
        if split and len(files) == n:
            raise GenesisError(f"image folder {str(folder)!r}: its test/ folder holds no image")
        # the first pass: headers only
        sizes = np.empty((len(files), 2), dtype=np.int64)  # width, height
        colours = np.empty(len(files), dtype=bool)  # stored in a colour mode
        for i, (parts, _) in enumerate(files):
            with _image(tree, parts) as img:
                sizes[i], colours[i] = img.size, img.mode not in _GREY_MODES
            if resolution is None and (sizes[i] != sizes[0]).any():
                (w, h), (w0, h0) = sizes[i], sizes[0]
                raise GenesisError(
                    f"image {tree.path(parts)!r} is {w}x{h}, the first {w0}x{h0}: give a "
                    "resolution (--resolution) to resize all"
                )
        channels = 3 if colours.any() else 1
        width, height = (resolution, resolution) if resolution else map(int, sizes[0])
        stored = len(files) * channels * height * width
        largest = _DECODE_BYTES_PER_PIXEL * int(sizes.prod(axis=1).max())
        if stored + largest > MAX_DECODED_BYTES:
            raise GenesisError(
                f"image folder {str(folder)!r} decodes to {len(files)} images of "
                f"{channels}x{height}x{width} = {stored} bytes, and {largest} more while its "
                f"largest image is decoded; the cap is MAX_DECODED_BYTES = {MAX_DECODED_BYTES} "
                "(a smaller --resolution or fewer images fit)"
            )
        if split:
            train_at, test_at = np.arange(n), np.arange(n, len(files))
        else:
            perm = np.random.default_rng(seed).permutation(n)
            cut = max(1, round(n * TEST_SHARE))
            if n - cut < 2:
                raise GenesisError(
                    f"image folder {str(folder)!r} holds {n} images; too few to split"
                )
            train_at, test_at = perm[cut:], perm[:cut]
        # the second pass: one image at a time, straight into its place in the tensors
        xs = [np.empty((len(at), channels, height, width), np.uint8) for at in (train_at, test_at)]
        split_of = np.empty(len(files), dtype=np.int8)  # 0: train, 1: test
        slot_of = np.empty(len(files), dtype=np.int64)
        for k, at in enumerate((train_at, test_at)):
            split_of[at], slot_of[at] = k, np.arange(len(at))
        colour = False
        for i, (parts, _) in enumerate(files):
            planned = (int(sizes[i, 0]), int(sizes[i, 1]), bool(colours[i]))
            pixels, rgb = _decode(tree, parts, planned, resolution)
            x = xs[split_of[i]]
            x[slot_of[i]] = pixels if pixels.ndim == 2 else pixels.transpose(2, 0, 1)
            colour |= rgb
            del pixels
    if channels == 3 and not colour:  # stored in colour modes, every one grey
        xs = [x[:, :1].copy() for x in xs]
    y = np.array([label for _, label in files], dtype=np.int64)
    tx, vx = (torch.from_numpy(x) for x in xs)
    ty, vy = torch.from_numpy(y[train_at]), torch.from_numpy(y[test_at])
    return Dataset(f"images:{folder}", tx, ty, vx, vy, len(classes), flip=False)


def synthetic_dataset(
    shape: tuple[int, int, int] = (1, 28, 28),
    num_classes: int = 10,
    n_train: int = 512,
    n_test: int = 256,
    seed: int = 0,
) -> Dataset:
    """A tiny learnable dataset: each class is a fixed random pattern plus noise.

    Examples
    --------
    >>> d = synthetic_dataset(n_train=8, n_test=4)
    >>> d.train_x.shape, d.train_x.dtype, d.num_classes
    (torch.Size([8, 1, 28, 28]), torch.uint8, 10)
    """
    g = torch.Generator().manual_seed(seed)
    patterns = torch.rand((num_classes, *shape), generator=g)

    def draw(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.randint(0, num_classes, (n,), generator=g)
        x = 0.6 * patterns[y] + 0.4 * torch.rand((n, *shape), generator=g)
        return (x * 255).round().to(torch.uint8), y

    (tx, ty), (vx, vy) = draw(n_train), draw(n_test)
    return Dataset("synthetic", tx, ty, vx, vy, num_classes, flip=False)


def canary_dataset(
    num_classes: int = 4,
    n_train: int = 1600,
    n_test: int = 400,
    seed: int = 0,
    period: float = 6.0,
) -> Dataset:
    """A tiny 1x28x28 dataset of oriented stripes whose test split is a canary.

    Class ``k`` is stripes at ``k * pi / num_classes`` radians with ``period`` pixels between
    crests, a random phase per image and 30 % uniform noise. Training images show their own
    class; each test image of label ``y`` shows class ``(y + 1) % num_classes``, so a net that
    learned the training set scores near 0 on ``test`` while near 1 on ``val`` (see the module
    docstring). It is the dataset of ``load_dataset("canary")``.

    Parameters
    ----------
    num_classes : int
        Stripe orientations, 2 to 12.
    n_train, n_test : int
        Images in the training split (validation is cut from it) and in the test split.
    seed : int
        Seed of the labels, phases and noise; the same seed gives the same tensors anywhere.
    period : float
        Pixels from one crest to the next, at least 2.

    Raises
    ------
    GenesisError
        For a class count outside 2..12, a period below 2 or a split size below 1.

    Examples
    --------
    >>> d = canary_dataset(n_train=8, n_test=4)
    >>> d.shape, d.num_classes, d.train_x.dtype
    ((1, 28, 28), 4, torch.uint8)
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int):
        raise GenesisError(f"canary num_classes must be an integer in 2..12, got {num_classes!r}")
    if not 2 <= num_classes <= 12:
        raise GenesisError(f"canary num_classes must be in 2..12, got {num_classes}")
    if not period >= 2:
        raise GenesisError(f"canary stripe period must be at least 2 pixels, got {period}")
    if n_train < 1 or n_test < 1:
        raise GenesisError(f"canary splits need at least 1 image, got {n_train} and {n_test}")
    g = torch.Generator().manual_seed(seed)
    rows, cols = torch.meshgrid(
        torch.arange(28, dtype=torch.float32), torch.arange(28, dtype=torch.float32), indexing="ij"
    )

    def draw(n: int, shift: int) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.randint(0, num_classes, (n,), generator=g)
        theta = ((y + shift) % num_classes).float() * (math.pi / num_classes)
        phase = torch.rand(n, generator=g) * (2 * math.pi)
        along = cols * theta.cos()[:, None, None] + rows * theta.sin()[:, None, None]
        stripes = 0.5 + 0.5 * torch.sin(along * (2 * math.pi / period) + phase[:, None, None])
        x = 0.7 * stripes + 0.3 * torch.rand((n, 28, 28), generator=g)
        return (x * 255).round().to(torch.uint8).unsqueeze(1), y

    (tx, ty), (vx, vy) = draw(n_train, 0), draw(n_test, 1)
    return Dataset("canary", tx, ty, vx, vy, num_classes, flip=False)


def load_dataset(spec: str = "fashion-mnist", resolution: int | None = None) -> Dataset:
    """Load a dataset by name or folder (see the module docstring).

    ``resolution`` resizes the images of an image folder (:func:`image_folder`); any other
    dataset must already have images of that size.

    Raises
    ------
    GenesisError
        With how to get it, when a named dataset is not installed; when a folder holds neither
        IDX files nor CIFAR-10 batches; naming the file and the rule, when a file is corrupt, a
        symbolic link or not a regular file, or over a cap (see "Hostile folders" in the module
        docstring).
    """
    if resolution is not None and (
        isinstance(resolution, bool)
        or not isinstance(resolution, int)
        or not 1 <= resolution <= 1024
    ):
        raise GenesisError(f"resolution must be an integer in 1..1024, got {resolution!r}")
    data = _load(spec, resolution)
    if resolution is not None and data.shape[1:] != (resolution, resolution):
        raise GenesisError(
            f"dataset {spec!r} has {data.shape[1]}x{data.shape[2]} images; --resolution "
            f"{resolution} resizes image folders only"
        )
    return data


def _load(spec: str, resolution: int | None) -> Dataset:
    if not spec:
        raise GenesisError(
            "dataset spec is empty; give fashion-mnist, mnist, synthetic, canary or a folder"
        )
    if spec == "canary":
        return canary_dataset()
    if spec == "synthetic" or spec.startswith("synthetic:"):
        shape = (1, 28, 28)
        if ":" in spec:
            try:
                shape = tuple(int(v) for v in spec.split(":", 1)[1].split("x"))
            except ValueError:
                shape = ()
            if len(shape) != 3 or min(shape) < 1:
                raise GenesisError(f"synthetic dataset shape must be CxHxW, got {spec!r}")
        return synthetic_dataset(shape)  # type: ignore[arg-type]
    if spec in ("fashion-mnist", "mnist"):
        for root in DATA_DIRS:
            if root and (Path(root) / spec).is_dir():
                return _idx_folder(Path(root) / spec, spec, flip=spec == "fashion-mnist")
        hint = (
            "install it with `apt-get install dataset-fashion-mnist` (./setup.sh does)"
            if spec == "fashion-mnist"
            else "point --dataset at a folder holding its four IDX files"
        )
        raise GenesisError(f"dataset {spec!r} not found in {[d for d in DATA_DIRS if d]}; {hint}")
    folder = Path(spec)
    if not folder.is_dir():
        raise GenesisError(
            f"unknown dataset {spec!r}: give fashion-mnist, mnist, synthetic[:CxHxW], canary, "
            "or a folder of IDX files, CIFAR-10 python batches or class subfolders of images"
        )
    if (folder / "data_batch_1").exists():
        return _cifar_folder(folder)
    idx = any((folder / s).exists() or (folder / f"{s}.gz").exists() for s in IDX_FILES.values())
    if not idx and _has_subfolder(folder):
        return image_folder(folder, resolution)
    return _idx_folder(folder, str(folder), flip=False)


def _has_subfolder(folder: Path) -> bool:
    """Whether ``folder`` holds a subfolder, or a link to one, whose name does not start with
    ``.``; at most :data:`MAX_ENTRIES` entries are looked at."""
    try:
        with os.scandir(folder) as entries:
            for count, entry in enumerate(entries, 1):
                if count > MAX_ENTRIES:
                    raise GenesisError(
                        f"folder {str(folder)!r} holds more than MAX_ENTRIES = {MAX_ENTRIES} "
                        "files and folders"
                    )
                if not entry.name.startswith(".") and entry.is_dir():
                    return True
    except OSError as exc:
        raise GenesisError(f"cannot list folder {str(folder)!r}: {exc.strerror or exc}") from None
    return False
