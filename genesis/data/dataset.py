"""The :class:`Dataset` (uint8 tensors) and the seeded validation cut, :func:`make_splits`."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from genesis.preprocess import check_class_names
from graphs import GenesisError

__all__ = ["Dataset", "Splits", "check_fits", "make_splits", "validation_size"]


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
    # the name of each label, one printable line each; None: the labels themselves, "0", "1"...
    classes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        names = self.classes
        if names is None:
            names = tuple(str(k) for k in range(self.num_classes))
        names = tuple(names)
        if len(names) != self.num_classes:
            raise GenesisError(
                f"dataset {self.name!r} has {self.num_classes} classes but {len(names)} class names"
            )
        check_class_names(names, f"dataset {self.name!r}")
        object.__setattr__(self, "classes", names)

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


def validation_size(n: int, val_size: int | float | None, holdout: int = 0) -> int:
    """The examples a validation split of ``val_size`` cuts from ``n`` training examples
    (:func:`make_splits`'s rule), checked: at least one, fewer than ``n``, more than ``holdout``.

    Examples
    --------
    >>> validation_size(60_000, None), validation_size(1000, 0.2)
    (5000, 200)
    >>> validation_size(150, 2000)
    Traceback (most recent call last):
    ...
    graphs.errors.GenesisError: a validation split of 2000 examples does not fit 150 training examples: give a validation size (--val-size) of 1..149 examples or a share in (0, 1)
    """  # noqa: E501
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
        raise GenesisError(
            f"a validation split of {val_size!r}"
            + (" examples" if isinstance(val_size, int) else "")
            + f" does not fit {n} training examples: give a validation size (--val-size) of "
            f"1..{n - 1} examples or a share in (0, 1)"
        )
    if isinstance(holdout, bool) or not isinstance(holdout, int) or not 0 <= holdout < n_val:
        raise GenesisError(
            f"holdout must be 0..{n_val - 1} examples of the validation split, got {holdout!r}"
        )
    return n_val


def check_fits(
    data: Dataset,
    input_shape: tuple[int, ...],
    num_classes: int,
    *,
    val_size: int | float | None = None,
    holdout: int = 0,
    allow_class_mismatch: bool = False,
) -> None:
    """Refuse, before any run folder exists, a dataset that does not fit the networks that
    will train on it: another example shape, another number of classes (more classes than
    outputs always; fewer unless ``allow_class_mismatch``), or a validation split (and its
    holdout) that its training set cannot hold.

    Examples
    --------
    >>> from genesis.data import synthetic_dataset
    >>> check_fits(synthetic_dataset(n_train=64), (1, 28, 28), 10, val_size=16)
    >>> check_fits(synthetic_dataset(n_train=64, num_classes=3), (1, 28, 28), 10)
    Traceback (most recent call last):
    ...
    graphs.errors.GenesisError: dataset 'synthetic' has 3 classes, the networks 10 outputs; give networks of 3 outputs (evolve: --classes 3), or train with the extra outputs: --allow-class-mismatch
    """  # noqa: E501
    if tuple(data.shape) != tuple(input_shape):
        raise GenesisError(
            f"dataset {data.name!r} has examples of shape {data.shape}; each network "
            f"expects {tuple(input_shape)}"
        )
    if data.num_classes > num_classes or (
        data.num_classes != num_classes and not allow_class_mismatch
    ):
        more = data.num_classes > num_classes
        raise GenesisError(
            f"dataset {data.name!r} has {data.num_classes} classes, the networks "
            f"{num_classes} outputs; give networks of {data.num_classes} outputs (evolve: "
            f"--classes {data.num_classes})"
            + ("" if more else ", or train with the extra outputs: --allow-class-mismatch")
        )
    validation_size(len(data.train_y), val_size, holdout)


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
    >>> from genesis.data import synthetic_dataset
    >>> s = make_splits(synthetic_dataset(n_train=100, n_test=10), val_size=20)
    >>> len(s.train_y), len(s.val_y), len(s.test_y)
    (80, 20, 10)
    >>> len(make_splits(synthetic_dataset(n_train=100, n_test=10), 20, holdout=5).holdout_y)
    5
    """
    n = len(data.train_y)
    n_val = validation_size(n, val_size, holdout)
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
