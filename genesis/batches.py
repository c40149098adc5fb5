"""Training's batches: drawn on the device from uint8 images already there, normalised,
augmented (random crop with padding, horizontal flip where the dataset allows it) and in
channels-last memory format.

The whole dataset lives on the device as uint8 tensors; each step gathers a batch by index,
normalises it and augments it there, so there are no host-to-device copies and no DataLoader
workers. One :class:`torch.Generator` drives shuffling and augmentation.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F

__all__ = ["Batches", "channel_stats"]


def channel_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std (in [0, 1] units, on the CPU) of the uint8 images a training
    trains on: what its inputs are normalised with, then and at every evaluation.

    Parameters
    ----------
    x : torch.Tensor
        uint8 images ``(N, C, H, W)``.

    Returns
    -------
    (torch.Tensor, torch.Tensor)
        Mean and std, ``(C,)`` each; the std at least 1e-3.
    """
    xf = x.float().div_(255)
    return xf.mean(dim=(0, 2, 3)).cpu(), xf.std(dim=(0, 2, 3)).clamp_min(1e-3).cpu()


class Batches:
    """Normalised, augmented batches drawn on the device from uint8 tensors already there.

    Parameters
    ----------
    x, y : torch.Tensor
        uint8 images ``(N, C, H, W)`` and their labels, on the device.
    mean, std : torch.Tensor
        Per-channel statistics in [0, 1] units (:func:`channel_stats`).
    augment : bool
        Random crop with padding (a pad of an eighth of the width, at least 1).
    flip : bool
        With ``augment``, also random horizontal flips.
    gen : torch.Generator
        Drives shuffling and augmentation.
    """

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        mean: torch.Tensor,
        std: torch.Tensor,
        augment: bool,
        flip: bool,
        gen: torch.Generator,
    ):
        self.x, self.y = x, y
        self.mean = (mean * 255).view(1, -1, 1, 1).to(x.device)
        self.inv_std = (1 / (std * 255)).view(1, -1, 1, 1).to(x.device)
        self.augment, self.flip, self.gen = augment, flip, gen
        self.pad = max(1, x.shape[-1] // 8) if augment else 0

    def normalise(self, xb: torch.Tensor) -> torch.Tensor:
        """uint8 images as normalised floats in channels-last memory format."""
        return ((xb.float() - self.mean) * self.inv_std).contiguous(
            memory_format=torch.channels_last
        )

    def epoch(self, batch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One shuffled pass of ``(images, labels)`` batches of ``batch`` examples (the last
        partial batch dropped, unless it is the only one)."""
        n = len(self.y)
        perm = torch.randperm(n, device=self.x.device, generator=self.gen)
        for i in range(0, n - batch + 1 if n >= batch else 1, batch):
            idx = perm[i : i + batch]
            xb = self.x[idx]
            if self.augment:
                xb = self._crop_flip(xb)
            yield self.normalise(xb), self.y[idx]

    def _crop_flip(self, xb: torch.Tensor) -> torch.Tensor:
        b, _, h, w = xb.shape
        p = self.pad
        padded = F.pad(xb, (p, p, p, p))
        dev = xb.device
        dy = torch.randint(0, 2 * p + 1, (b, 1), device=dev, generator=self.gen)
        dx = torch.randint(0, 2 * p + 1, (b, 1), device=dev, generator=self.gen)
        rows = (torch.arange(h, device=dev) + dy)[:, None, :, None]  # (b, 1, h, 1)
        cols = (torch.arange(w, device=dev) + dx)[:, None, None, :]  # (b, 1, 1, w)
        if self.flip:
            flip = torch.rand(b, device=dev, generator=self.gen) < 0.5
            cols = torch.where(flip[:, None, None, None], cols.flip(-1), cols)
        batch_idx = torch.arange(b, device=dev)[:, None, None, None]
        chan_idx = torch.arange(xb.shape[1], device=dev)[None, :, None, None]
        return padded[batch_idx, chan_idx, rows, cols]
