"""The trainer: an architecture and its hyperparameters in, an honest result record out.

Design, for small image datasets on one device:

- the whole dataset lives on the device as uint8 tensors; each step gathers a batch by index,
  normalises it and augments it there (random crop with padding, horizontal flip where the
  dataset allows it), so there are no host-to-device copies and no DataLoader workers;
- channels-last memory format, and bf16 autocast on CUDA;
- optimizer (SGD with Nesterov momentum, or AdamW), learning-rate schedule (one-cycle, cosine
  with warm-up, constant), weight decay and label smoothing come from the genome's
  :class:`~genesis.genome.TrainConfig`; the schedule follows the larger of the step and the time
  fraction, so a wall-clock budget anneals properly too;
- one :class:`torch.Generator` seeded with ``seed`` drives shuffling and augmentation, and the
  same ``seed`` initialises the weights: on the CPU the same seed gives the same result.

Faults never escape: a NaN or infinite loss ends the candidate as ``diverged``; running out of
memory releases it, retries once at half the batch (on the same clock), then gives ``oom``;
passing ``time_limit`` gives ``timeout`` (its record still carries the accuracy of what was
trained by then); any other exception gives ``error`` with its message.

:func:`train_architecture` reads as the recipe; its parts live beside it: the device and its
memory (:mod:`genesis.device`), the optimizer and the learning-rate schedule
(:mod:`genesis.schedule`), the batches (:mod:`genesis.batches`) and the accuracy on a split
(:mod:`genesis.scoring`). Their public names are re-exported here.

The search measures on ``val`` (cut from the training set by :func:`genesis.data.make_splits`).
Only ``final=True`` trains on the whole training set (train + val) and measures on ``test``.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from genesis.batches import Batches, channel_stats
from genesis.compiler import compile_architecture
from genesis.complexity import ArchComplexity, check_costs, count_complexity
from genesis.data import Splits
from genesis.device import (
    is_oom,
    peak_memory,
    release,
    reset_peak,
    resolve_device,
    to_cpu,
)
from genesis.genome import Architecture
from genesis.preprocess import Preprocess
from genesis.record import STATUSES, TrainResult
from genesis.schedule import lr_at, make_optimizer
from genesis.scoring import evaluate, scorer
from genesis.trainloop import TrainLoop
from graphs import GenesisError

__all__ = [
    "STATUSES",
    "TrainResult",
    "Budget",
    "resolve_device",
    "train_architecture",
    "failed_result",
    "evaluate",
    "scorer",
    "lr_at",
    "preprocess_of",
]


@dataclass(frozen=True)
class Budget:
    """How long to train: epochs, a wall-clock budget, a hard time limit (any combination)."""

    epochs: float | None = None  # passes over the training split; None: the genome's epochs
    seconds: float | None = None  # wall-clock budget: training ends (status ok) when it is spent
    time_limit: float | None = None  # hard limit: a candidate still running is stopped as timeout

    def __post_init__(self) -> None:
        for name in ("epochs", "seconds", "time_limit"):
            value = getattr(self, name)
            if value is not None and (not math.isfinite(value) or value <= 0):
                raise GenesisError(f"budget {name} must be a positive number, got {value!r}")


def preprocess_of(splits: Splits, mean: torch.Tensor, std: torch.Tensor) -> Preprocess:
    """The :class:`~genesis.preprocess.Preprocess` of a training on ``splits`` that normalised
    with ``mean`` and ``std`` (:func:`genesis.batches.channel_stats`): its input shape, channel
    order and class names come from the dataset. Each number is the shortest decimal that reads
    back as the float32 the training used (:func:`genesis.preprocess.float32_round`): exactly
    that value."""
    return Preprocess.from_stats(
        splits.train_x.shape[1:], mean.tolist(), std.tolist(), splits.dataset.classes or ()
    )


def train_architecture(
    arch: Architecture,
    splits: Splits,
    *,
    seed: int = 0,
    budget: Budget | None = None,
    device: str | torch.device | None = None,
    final: bool = False,
    augment: bool = True,
    progress: bool = False,
    return_model: bool = False,
    complexity: ArchComplexity | None = None,
    resume: dict[str, Any] | None = None,
    return_state: bool = False,
) -> TrainResult | tuple[TrainResult, nn.Module | None] | tuple[TrainResult, Any, Any]:
    """Train ``arch`` on ``splits`` and measure it; faults become a status, never an exception.

    Parameters
    ----------
    arch : Architecture
        What to train, with its hyperparameters (``arch.train``).
    splits : Splits
        Data; ``splits.test_*`` is only touched when ``final`` is True.
    seed : int
        Weight init, shuffling and augmentation.
    budget : Budget, optional
        Epochs (default ``arch.train.epochs``), a wall-clock budget, a hard time limit.
    device : str or torch.device, optional
        Default: CUDA when present, else the CPU.
    final : bool
        Train on train + val and report test accuracy (the final evaluation).
    augment : bool
        Random crop with padding (and flips where the dataset allows them).
    progress : bool
        Show a progress bar on stderr.
    return_model : bool
        Also return the trained model (None when training failed).
    complexity : ArchComplexity, optional
        ``arch``'s MACs and params when the caller counted them already (a search counts each
        candidate once); counted here otherwise.
    resume : dict, optional
        A training state returned before (``return_state``): training continues from its
        weights, optimizer state (momentum) and random generator, for ``budget`` more, with a
        fresh run of the schedule (a warm restart, as SGDR). A promoted candidate of a
        successive-halving search continues this way instead of starting over.
    return_state : bool
        Also return the state to continue from: ``{"model", "optimizer", "generator",
        "epochs"}`` (tensors and plain data, for ``torch.save`` and a ``weights_only`` load);
        None when training failed. ``epochs`` counts every epoch trained, resumed ones too.

    Returns
    -------
    TrainResult; (TrainResult, model) with ``return_model``; (TrainResult, model, state) with
    ``return_state``.

    Raises
    ------
    GenesisError
        Only for bad input: an unusable device, data whose shape or class count does not fit
        the architecture, or an architecture over a cost cap
        (:func:`genesis.complexity.check_costs`).
    """
    budget = budget or Budget()
    dev = resolve_device(device) if not isinstance(device, torch.device) else device
    _check_fits(arch, splits)
    # counting refuses an architecture that cannot work, or is too big to build, before any
    # training
    cx = complexity or count_complexity(arch)
    check_costs(arch, cx if isinstance(cx, ArchComplexity) else None)
    started = time.perf_counter()  # an out-of-memory retry shares the clock
    run = functools.partial(
        _run, arch, cx, splits, seed, budget, dev, final, augment, progress, started=started
    )
    result, model, state = _attempts(
        functools.partial(run, resume=resume), arch, cx, seed, final, dev
    )
    if return_state:
        return result, model, state
    return (result, model) if return_model else result


def _check_fits(arch: Architecture, splits: Splits) -> None:
    """Refuse data whose example shape or class count does not fit ``arch``."""
    if tuple(splits.train_x.shape[1:]) != tuple(arch.input_shape):
        raise GenesisError(
            f"dataset {splits.dataset.name!r} has examples of shape "
            f"{tuple(splits.train_x.shape[1:])}, the architecture expects {arch.input_shape}"
        )
    if splits.dataset.num_classes > arch.num_classes:
        raise GenesisError(
            f"dataset {splits.dataset.name!r} has {splits.dataset.num_classes} classes, the "
            f"architecture only {arch.num_classes}"
        )


def _attempts(
    run: Callable[[int], tuple[TrainResult, Any, Any]],
    arch: Architecture,
    cx: ArchComplexity,
    seed: int,
    final: bool,
    dev: torch.device,
) -> tuple[TrainResult, Any, Any]:
    """``run(batch)`` at the genome's batch, once more at half of it when that runs out of
    memory; any other exception, or a second out of memory, becomes a failed result."""
    batch = arch.train.batch_size
    attempt_error = None
    for attempt in range(2):
        try:
            result, model, state = run(batch)
        except Exception as exc:
            release(dev)
            if is_oom(exc) and attempt == 0 and batch > 1:
                attempt_error = f"out of memory at batch {batch}; retried at {batch // 2}"
                batch //= 2
                continue
            status = "oom" if is_oom(exc) else "error"
            message = " ".join(f"{type(exc).__name__}: {exc}".split())[:500]
            failed = failed_result(
                arch,
                status,
                message,
                seed=seed,
                final=final,
                batch_size=batch,
                device=dev,
                complexity=cx,
                peak_memory_bytes=peak_memory(dev),
            )
            return failed, None, None
        if attempt_error:
            result.error = attempt_error
        return result, model, state
    raise AssertionError("unreachable")  # pragma: no cover


def failed_result(
    arch: Architecture,
    status: str,
    message: str,
    *,
    seed: int,
    final: bool = False,
    batch_size: int | None = None,
    device: str | torch.device = "",
    complexity: ArchComplexity | None = None,
    **extra: Any,
) -> TrainResult:
    """The record of ``arch`` when it produced no trained model (:meth:`TrainResult.failed`);
    ``complexity`` when already counted."""
    cx = complexity or count_complexity(arch)
    return TrainResult.failed(
        cx.macs,
        cx.params,
        status,
        message,
        seed=seed,
        final=final,
        batch_size=batch_size or arch.train.batch_size,
        device=device,
        **extra,
    )


def _run(arch, cx, splits, seed, budget, dev, final, augment, progress, batch, started, resume):
    """One attempt at ``batch``: (result, model, state), or (its failed result, None, None)
    when the loss diverged."""
    reset_peak(dev)
    train_x, train_y = splits.full_train() if final else (splits.train_x, splits.train_y)
    x, y = train_x.to(dev), train_y.to(dev)
    mean, std = channel_stats(x)
    gen = torch.Generator(device=dev).manual_seed(seed)
    data = Batches(x, y, mean, std, augment, splits.dataset.flip, gen)
    model = compile_architecture(arch, seed=seed).to(dev).to(memory_format=torch.channels_last)
    optimizer = make_optimizer(model, arch.train)
    before = _restore(model, optimizer, gen, resume)
    loop = TrainLoop(model, optimizer, arch.train, budget, batch, len(y))
    start = time.perf_counter()
    status, error = loop.run(data, started, progress)
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    seconds = time.perf_counter() - start
    epochs_done = loop.step / loop.steps_per_epoch
    if status == "diverged":
        result = failed_result(
            arch,
            status,
            error,
            seed=seed,
            final=final,
            batch_size=batch,
            device=dev,
            complexity=cx,
            peak_memory_bytes=peak_memory(dev),
            epochs=epochs_done,
            train_seconds=seconds,
            history=loop.history,
        )
        return result, None, None
    fields = _measure(model, splits, data, dev, final)
    fields["preprocess"] = preprocess_of(splits, mean, std).to_dict()
    result = _result(cx, seed, status, error, batch, dev, loop, seconds, fields)
    state = {
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": to_cpu(optimizer.state_dict()),
        "generator": gen.get_state().cpu(),
        "epochs": round(before + epochs_done, 6),
    }
    return result, model, state


def _restore(model: nn.Module, optimizer: Any, gen: torch.Generator, resume: Any) -> float:
    """Continue from ``resume`` (weights, optimizer state, generator) when given: the epochs
    it trained already (0 without)."""
    if resume is None:
        return 0.0
    model.load_state_dict(resume["model"])
    # a copy: the optimizer would otherwise train the caller's momentum buffers in place
    optimizer.load_state_dict(to_cpu(resume["optimizer"], copy=True))
    gen.set_state(resume["generator"])
    return float(resume.get("epochs", 0.0))


def _measure(model: nn.Module, splits: Splits, data: Batches, dev, final: bool) -> dict:
    """The trained model's accuracies: test with ``final``; else val, and the holdout's when
    the splits hold one."""
    if final:
        test = evaluate(model, splits.test_x.to(dev), splits.test_y.to(dev), data, dev)
        return {"split": "test", "accuracy": test, "val_accuracy": None, "test_accuracy": test}
    val = evaluate(model, splits.val_x.to(dev), splits.val_y.to(dev), data, dev)
    held = None
    if splits.holdout_x is not None:
        held = evaluate(model, splits.holdout_x.to(dev), splits.holdout_y.to(dev), data, dev)
    return {
        "split": "val",
        "accuracy": val,
        "val_accuracy": val,
        "test_accuracy": None,
        "holdout_accuracy": held,
    }


def _result(cx, seed, status, error, batch, dev, loop: TrainLoop, seconds, fields) -> TrainResult:
    """The record of a training that ended with a model (``ok`` or ``timeout``)."""
    history = loop.history
    return TrainResult(
        status=status,
        macs=cx.macs,
        flops=cx.flops,
        params=cx.params,
        seed=seed,
        epochs=round(loop.step / loop.steps_per_epoch, 4),
        batch_size=batch,
        train_seconds=round(seconds, 3),
        samples_per_second=round(loop.seen / max(seconds, 1e-9), 1),
        peak_memory_bytes=peak_memory(dev),
        device=str(dev),
        final_loss=history[-1]["loss"] if history else None,
        error=error,
        history=history,
        **fields,
    )
