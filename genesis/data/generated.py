"""Datasets drawn from a seed: class patterns (``synthetic``) and the canary, for tests."""

from __future__ import annotations

import math

import torch

from genesis.data.dataset import Dataset
from graphs import GenesisError

__all__ = ["canary_dataset", "synthetic_dataset"]


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
