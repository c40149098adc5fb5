"""Folders of class subfolders of PNG/JPEG images: headers first, then one decode at a time."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch

from genesis.data.dataset import Dataset
from genesis.data.reads import _refusal
from genesis.files import Refused, open_regular
from genesis.limits import MAX_CLASSES
from genesis.preprocess import check_class_names
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
    # the names become the model's class names (its metadata, the standalone file): one
    # printable line each, checked before any image is looked at
    check_class_names(names, f"image folder {tree.path(top)!r}")
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
    return Dataset(
        f"images:{folder}", tx, ty, vx, vy, len(classes), flip=False, classes=tuple(classes)
    )
