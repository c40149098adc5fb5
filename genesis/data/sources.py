"""``load_dataset(spec)``: a dataset by name (``fashion-mnist``, ``mnist``, ``synthetic``,
``canary``) or by folder (IDX files, CIFAR-10 batches, class subfolders of images)."""

from __future__ import annotations

import os
from pathlib import Path

from genesis.data.cifar import _cifar_folder
from genesis.data.dataset import Dataset
from genesis.data.generated import canary_dataset, synthetic_dataset
from genesis.data.idx import FASHION_MNIST_CLASSES, IDX_FILES, _idx_folder
from genesis.data.images import MAX_ENTRIES, image_folder
from graphs import GenesisError

__all__ = ["DATA_DIRS", "load_dataset"]

#: Where named datasets are looked for, in order.
DATA_DIRS = (
    os.environ.get("GENESIS_DATA", ""),
    "/usr/share/datasets",
)


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
        raise GenesisError("dataset spec is empty; give fashion-mnist, mnist or a folder")
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
                fashion = spec == "fashion-mnist"
                names = FASHION_MNIST_CLASSES if fashion else None  # mnist's are its digits
                return _idx_folder(Path(root) / spec, spec, flip=fashion, classes=names)
        hint = (
            "install it with `apt-get install dataset-fashion-mnist` (./setup.sh does)"
            if spec == "fashion-mnist"
            else "point --dataset at a folder holding its four IDX files"
        )
        raise GenesisError(f"dataset {spec!r} not found in {[d for d in DATA_DIRS if d]}; {hint}")
    folder = Path(spec)
    if not folder.is_dir():
        raise GenesisError(
            f"unknown dataset {spec!r}: give fashion-mnist, mnist, or a folder of IDX files, "
            "CIFAR-10 python batches or class subfolders of images"
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
