"""Training's schedule: the optimizer a genome's :class:`~genesis.genome.TrainConfig` names
(SGD with Nesterov momentum, or AdamW), and its learning rate at each point of training
(one-cycle, cosine with warm-up, constant)."""

from __future__ import annotations

import math

import torch
from torch import nn

from genesis.genome import TrainConfig

__all__ = ["lr_at", "make_optimizer"]


def lr_at(cfg: TrainConfig, progress: float, epochs: float) -> float:
    """Learning rate at ``progress`` in [0, 1] of training.

    ``onecycle``: linear warm-up from lr/25 over the first 25%, then cosine down to lr/1e4.
    ``cosine``: linear warm-up over ``warmup_epochs``, then cosine down to 0.
    ``constant``: lr throughout.

    Examples
    --------
    >>> lr_at(TrainConfig(lr=0.1, schedule="constant"), 0.5, 10)
    0.1
    """
    p = min(max(progress, 0.0), 1.0)
    if cfg.schedule == "constant":
        return cfg.lr
    if cfg.schedule == "onecycle":
        if p < 0.25:
            return cfg.lr / 25 + (cfg.lr - cfg.lr / 25) * p / 0.25
        q = (p - 0.25) / 0.75
        low = cfg.lr / 1e4
        return low + (cfg.lr - low) * 0.5 * (1 + math.cos(math.pi * q))
    warm = min(cfg.warmup_epochs / epochs, 0.5) if epochs else 0.0
    if p < warm:
        return cfg.lr * p / warm
    q = (p - warm) / (1 - warm) if warm < 1 else 1.0
    return cfg.lr * 0.5 * (1 + math.cos(math.pi * q))


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """The optimizer ``cfg`` names over ``model``'s parameters.

    Weight decay applies to the weights of convolutions and linear layers only, not to batch
    norm parameters, biases and aggregation gates (standard practice).

    Parameters
    ----------
    model : nn.Module
        The network to train.
    cfg : TrainConfig
        Its optimizer, learning rate, momentum and weight decay.

    Returns
    -------
    torch.optim.Optimizer
        AdamW, or SGD (Nesterov when ``momentum > 0``), with two parameter groups.
    """
    decay, no_decay = [], []
    for p in model.parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)
    groups = [
        {"params": decay, "weight_decay": cfg.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=cfg.lr)
    return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.momentum > 0)
