"""CIFAR-10 python batches: size-capped, then read as arrays by a restricted unpickler."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from genesis.data.dataset import Dataset
from genesis.data.reads import _refusal
from genesis.files import Refused, read_regular
from graphs import GenesisError

__all__ = ["CIFAR10_CLASSES", "MAX_CIFAR_BATCH_BYTES"]

#: CIFAR-10's class names, by label (the ``label_names`` of its ``batches.meta``).
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

#: Largest CIFAR-10 python batch file, in bytes, checked before it is unpickled (a real batch
#: holds 31 MB: 10,000 images of 3072 bytes, their labels and file names).
MAX_CIFAR_BATCH_BYTES = 2**26


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
        classes=CIFAR10_CLASSES,
    )
