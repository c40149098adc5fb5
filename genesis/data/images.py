"""Folders of class subfolders of PNG/JPEG images: headers first, then one decode at a time.

The folder is listed and checked by :mod:`genesis.data.imagetree` and its images read by
:mod:`genesis.data.imagedecode`; :func:`image_folder` puts them together: it knows the tensors'
shape from the headers, checks them against :data:`MAX_DECODED_BYTES`, cuts the test split and
decodes each image straight into its place. The names of both modules are re-exported here.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from genesis.data.dataset import Dataset
from genesis.data.imagedecode import (
    DECODE_BYTES_PER_PIXEL,
    GREY_MODES,
    IMAGE_FORMATS,
    MAX_IMAGE_PIXELS,
    decode,
    open_image,
)
from genesis.data.imagetree import (
    IMAGE_SUFFIXES,
    MAX_DEPTH,
    MAX_ENTRIES,
    MAX_IMAGE_BYTES,
    MAX_IMAGES,
    ImageTree,
    class_files,
)
from graphs import GenesisError

__all__ = [
    "IMAGE_FORMATS",
    "IMAGE_SUFFIXES",
    "MAX_DECODED_BYTES",
    "MAX_DEPTH",
    "MAX_ENTRIES",
    "MAX_IMAGES",
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "TEST_SHARE",
    "image_folder",
]

#: Most bytes an image folder may decode to: its uint8 tensors (images x channels x height x
#: width, after resizing; three channels when any image is stored in a colour mode) plus the
#: decode of its largest image (4 bytes a pixel), checked from the images' headers before any
#: is decoded. 256 MiB admits a CIFAR-sized folder (60,000 32x32 RGB images: 184 MB); a
#: training copies the tensors once for its splits and once as float32 statistics, so a run on
#: a folder at the cap stays under 2 GiB resident.
MAX_DECODED_BYTES = 2**28

#: Share of a class-folder dataset cut as its test split when it has no ``test/`` folder.
TEST_SHARE = 1 / 6

#: An image file as the parts of its path below the folder, and its label.
_File = tuple[tuple[str, ...], int]


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
    with ImageTree(folder) as tree:
        classes, files, n, split = _listing(tree, folder)
        sizes, colours = _headers(tree, files, resolution)
        shape = _decoded_shape(folder, sizes, colours, resolution)
        if split:
            train_at, test_at = np.arange(n), np.arange(n, len(files))
        else:
            train_at, test_at = _test_cut(folder, n, seed)
        xs, colour = _decode_all(tree, files, sizes, colours, resolution, shape, train_at, test_at)
    if shape[0] == 3 and not colour:  # stored in colour modes, every one grey
        xs = [x[:, :1].copy() for x in xs]
    y = np.array([label for _, label in files], dtype=np.int64)
    tx, vx = (torch.from_numpy(x) for x in xs)
    ty, vy = torch.from_numpy(y[train_at]), torch.from_numpy(y[test_at])
    return Dataset(
        f"images:{folder}", tx, ty, vx, vy, len(classes), flip=False, classes=tuple(classes)
    )


def _listing(tree: ImageTree, folder: Path) -> tuple[list[str], list[_File], int, bool]:
    """The classes, the image files with their labels (training's first, then test's), how
    many are training's, and whether the folder holds ``train/`` and ``test/``."""
    entries = tree.scan(())
    for name, kind in entries:
        if kind == "link" and not name.startswith("."):
            raise tree.link((name,))
    kinds = dict(entries)
    split = kinds.get("train") == "dir" and kinds.get("test") == "dir"
    train = class_files(tree, ("train",)) if split else class_files(tree, (), entries)
    classes = list(train)
    if len(classes) < 2:
        raise GenesisError(
            f"image folder {str(folder)!r} needs two class subfolders or more "
            f"(FOLDER/<class>/<image>), found {len(classes)}"
        )
    test = class_files(tree, ("test",)) if split else {}
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
    return classes, files, n, split


def _headers(
    tree: ImageTree, files: list[_File], resolution: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """The first pass, headers only: each image's (width, height), and whether it is stored
    in a colour mode; without ``resolution``, every image must have the first one's size."""
    sizes = np.empty((len(files), 2), dtype=np.int64)  # width, height
    colours = np.empty(len(files), dtype=bool)  # stored in a colour mode
    for i, (parts, _) in enumerate(files):
        with open_image(tree, parts) as img:
            sizes[i], colours[i] = img.size, img.mode not in GREY_MODES
        if resolution is None and (sizes[i] != sizes[0]).any():
            (w, h), (w0, h0) = sizes[i], sizes[0]
            raise GenesisError(
                f"image {tree.path(parts)!r} is {w}x{h}, the first {w0}x{h0}: give a "
                "resolution (--resolution) to resize all"
            )
    return sizes, colours


def _decoded_shape(
    folder: Path, sizes: np.ndarray, colours: np.ndarray, resolution: int | None
) -> tuple[int, int, int]:
    """(channels, height, width) of every image once decoded; the tensors and the largest
    image's decode must fit :data:`MAX_DECODED_BYTES`."""
    channels = 3 if colours.any() else 1
    width, height = (resolution, resolution) if resolution else map(int, sizes[0])
    stored = len(sizes) * channels * height * width
    largest = DECODE_BYTES_PER_PIXEL * int(sizes.prod(axis=1).max())
    if stored + largest > MAX_DECODED_BYTES:
        raise GenesisError(
            f"image folder {str(folder)!r} decodes to {len(sizes)} images of "
            f"{channels}x{height}x{width} = {stored} bytes, and {largest} more while its "
            f"largest image is decoded; the cap is MAX_DECODED_BYTES = {MAX_DECODED_BYTES} "
            "(a smaller --resolution or fewer images fit)"
        )
    return channels, height, width


def _test_cut(folder: Path, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded :data:`TEST_SHARE` of the ``n`` images as the test split: (train, test)."""
    perm = np.random.default_rng(seed).permutation(n)
    cut = max(1, round(n * TEST_SHARE))
    if n - cut < 2:
        raise GenesisError(f"image folder {str(folder)!r} holds {n} images; too few to split")
    return perm[cut:], perm[:cut]


def _decode_all(tree, files, sizes, colours, resolution, shape, train_at, test_at):
    """The second pass: one image at a time, straight into its place in the tensors; the
    tensors (train, test), and whether any image is colour."""
    xs = [np.empty((len(at), *shape), np.uint8) for at in (train_at, test_at)]
    split_of = np.empty(len(files), dtype=np.int8)  # 0: train, 1: test
    slot_of = np.empty(len(files), dtype=np.int64)
    for k, at in enumerate((train_at, test_at)):
        split_of[at], slot_of[at] = k, np.arange(len(at))
    colour = False
    for i, (parts, _) in enumerate(files):
        planned = (int(sizes[i, 0]), int(sizes[i, 1]), bool(colours[i]))
        pixels, rgb = decode(tree, parts, planned, resolution)
        x = xs[split_of[i]]
        x[slot_of[i]] = pixels if pixels.ndim == 2 else pixels.transpose(2, 0, 1)
        colour |= rgb
        del pixels
    return xs, colour
