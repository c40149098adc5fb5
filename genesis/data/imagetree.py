"""An image folder's tree: its class folders and image files listed and checked, one name at
a time, never through a symbolic link, within the caps on entries, images, classes and depth.

Nothing here decodes an image (:mod:`genesis.data.imagedecode` reads them);
:func:`genesis.data.images.image_folder` puts the two together.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from genesis.data.reads import _refusal
from genesis.files import Refused, open_regular
from genesis.limits import MAX_CLASSES
from genesis.preprocess import check_class_names
from graphs import GenesisError

__all__ = [
    "IMAGE_SUFFIXES",
    "MAX_DEPTH",
    "MAX_ENTRIES",
    "MAX_IMAGES",
    "MAX_IMAGE_BYTES",
    "ImageTree",
    "class_files",
    "images_below",
]

#: File endings looked at in an image folder (any case); what a file is, is told by its content.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")

#: Largest image file read from an image folder, in bytes.
MAX_IMAGE_BYTES = 64 * 2**20

#: Most images one image folder may hold.
MAX_IMAGES = 2_000_000

#: Most files and folders scanned in one image folder, at every depth (hidden ones included).
MAX_ENTRIES = 4_000_000

#: Most folders between a class folder and an image (``<class>/a/b/img.png``: 2).
MAX_DEPTH = 8

_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _is_link(name: str, dir_fd: int) -> bool:
    """Whether ``name`` in the folder open as ``dir_fd`` is a symbolic link."""
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=dir_fd).st_mode)
    except OSError:
        return False


class ImageTree:
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

    def __enter__(self) -> ImageTree:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)

    def path(self, parts: tuple[str, ...]) -> str:
        """``parts`` below the root, for messages."""
        return str(self.root.joinpath(*parts))

    def link(self, parts: tuple[str, ...]) -> GenesisError:
        """The error refusing the symbolic link ``parts``."""
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


def class_files(
    tree: ImageTree, top: tuple[str, ...], entries: list[tuple[str, str]] | None = None
) -> dict[str, list[tuple[str, ...]]]:
    """Class name -> the paths (as parts) of its images, sorted, for each subfolder of ``top``
    (sorted).

    Hidden names (``.*``) are skipped; a symbolic link is refused, as are more than
    ``MAX_CLASSES`` classes and class names that are not one printable line each.

    Parameters
    ----------
    tree : ImageTree
        The image folder, open.
    top : tuple of str
        The folder of class folders, as parts below the root (``()`` or ``("train",)``).
    entries : list, optional
        ``top`` listed already (:meth:`ImageTree.scan`).

    Returns
    -------
    dict
        ``{class name: [image path parts, ...]}``.
    """
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
    return {name: images_below(tree, (*top, name)) for name in names}


def images_below(tree: ImageTree, top: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The image files (by suffix) in the folder ``top`` and its subfolders, as sorted parts;
    walked without recursion, at most :data:`MAX_DEPTH` folders deep.

    Parameters
    ----------
    tree : ImageTree
        The image folder, open.
    top : tuple of str
        A class folder, as parts below the root.

    Returns
    -------
    list of tuple of str
        The images' paths as parts, sorted.
    """
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
