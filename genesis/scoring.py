"""Scoring a trained network: its top-1 accuracy on a split, its inputs normalised as the
training that made it normalised them (:func:`scorer`), so a model scores here what its record
says."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from genesis.batches import Batches, channel_stats
from genesis.data import Splits
from genesis.device import autocast, is_oom, release, resolve_device

__all__ = ["evaluate", "scorer"]


@torch.no_grad()
def evaluate(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    batches: Batches,
    device: torch.device,
    batch: int = 1000,
) -> float:
    """Top-1 accuracy of ``model`` on uint8 images ``x`` (already on ``device``).

    Out of memory, it halves its batch and starts over, down to one example.

    Parameters
    ----------
    model : nn.Module
        The network (put in eval mode).
    x, y : torch.Tensor
        uint8 images ``(N, C, H, W)`` and their labels, on ``device``.
    batches : Batches
        Normalises ``x`` as the training did (:meth:`genesis.batches.Batches.normalise`).
    device : torch.device
        Where ``model`` and the data are.
    batch : int
        Examples per forward pass, at first.

    Returns
    -------
    float
        The share of ``y`` predicted right (0 for no examples).
    """
    model.eval()
    while True:
        try:
            correct = torch.zeros((), dtype=torch.long, device=device)
            for i in range(0, len(y), batch):
                with autocast(device):
                    logits = model(batches.normalise(x[i : i + batch]))
                correct += (logits.argmax(1) == y[i : i + batch]).sum()
            return correct.item() / max(1, len(y))
        except Exception as exc:
            if not is_oom(exc) or batch == 1:
                raise
            release(device)
            batch //= 2


def scorer(
    splits: Splits,
    *,
    final: bool = False,
    device: str | torch.device | None = None,
    examples: int | None = None,
) -> Callable[[nn.Module], float]:
    """A function ``model -> accuracy`` on the split that a training with these ``splits``
    reports: validation, or with ``final`` the official test split.

    Inputs are normalised as that training normalised them (the statistics of what it trained
    on: the training subset, or with ``final`` the whole training set), so a trained model
    scores here what its record says. ``examples`` keeps only the first that many of the split.
    The split is moved to the device once; each call evaluates one model (in eval mode).

    Parameters
    ----------
    splits : Splits
        The data the training had.
    final : bool
        Score on the test split (normalised with the whole training set's statistics).
    device : str or torch.device, optional
        Default: CUDA when present, else the CPU.
    examples : int, optional
        Score on only the first that many examples of the split.

    Returns
    -------
    callable
        ``model -> accuracy`` (:func:`evaluate`).

    Examples
    --------
    >>> from genesis.compiler import compile_architecture
    >>> from genesis.data import make_splits, synthetic_dataset
    >>> from genesis.presets import build_architecture
    >>> splits = make_splits(synthetic_dataset(n_train=64, n_test=16), val_size=16)
    >>> score = scorer(splits, device="cpu")
    >>> model = compile_architecture(build_architecture("fashion-mnist", seed=0))
    >>> 0.0 <= score(model) <= 1.0
    True
    """
    dev = resolve_device(device)
    train_x = splits.full_train()[0] if final else splits.train_x
    mean, std = channel_stats(train_x.to(dev))
    x, y = (splits.test_x, splits.test_y) if final else (splits.val_x, splits.val_y)
    if examples is not None:
        x, y = x[:examples], y[:examples]
    x, y = x.to(dev), y.to(dev)
    data = Batches(x, y, mean, std, False, splits.dataset.flip, torch.Generator(device=dev))

    def score(model: nn.Module) -> float:
        return evaluate(model, x, y, data, dev)

    return score
