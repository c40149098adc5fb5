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

The search measures on ``val`` (cut from the training set by :func:`genesis.data.make_splits`).
Only ``final=True`` trains on the whole training set (train + val) and measures on ``test``.
"""

from __future__ import annotations

import gc
import math
import resource
import sys
import time
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from genesis.compiler import compile_architecture
from genesis.complexity import ArchComplexity, check_costs, count_complexity
from genesis.data import Splits
from genesis.genome import Architecture, TrainConfig
from genesis.preprocess import Preprocess
from genesis.record import STATUSES, TrainResult
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


def resolve_device(device: str | None = None) -> torch.device:
    """``device``, or CUDA when present, else the CPU; raises :class:`GenesisError` if unusable."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise GenesisError(f"unknown device {device!r}; use cpu, cuda or cuda:N") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise GenesisError(f"device {device!r} requested but this machine has no CUDA device")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise GenesisError(
            f"device {device!r} does not exist; this machine has {torch.cuda.device_count()} GPUs"
        )
    if dev.type not in ("cpu", "cuda"):
        raise GenesisError(f"device {device!r} is not supported; use cpu, cuda or cuda:N")
    return dev


def lr_at(cfg: TrainConfig, progress: float, epochs: float) -> float:
    """Learning rate at ``progress`` in [0, 1] of training.

    ``onecycle``: linear warm-up from lr/25 over the first 25%, then cosine down to lr/1e4.
    ``cosine``: linear warm-up over ``warmup_epochs``, then cosine down to 0.
    ``constant``: lr throughout.
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


def _optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    decay, no_decay = [], []
    for p in model.parameters():
        # No weight decay on BN parameters, biases and aggregation gates (standard practice).
        (no_decay if p.ndim <= 1 else decay).append(p)
    groups = [
        {"params": decay, "weight_decay": cfg.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=cfg.lr)
    return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.momentum > 0)


class _Batches:
    """Normalised, augmented batches drawn on the device from uint8 tensors already there."""

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
        return ((xb.float() - self.mean) * self.inv_std).contiguous(
            memory_format=torch.channels_last
        )

    def epoch(self, batch: int):
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


@torch.no_grad()
def evaluate(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    batches: _Batches,
    device: torch.device,
    batch: int = 1000,
) -> float:
    """Top-1 accuracy of ``model`` on uint8 images ``x`` (already on ``device``).

    Out of memory, it halves its batch and starts over, down to one example.
    """
    model.eval()
    while True:
        try:
            correct = torch.zeros((), dtype=torch.long, device=device)
            for i in range(0, len(y), batch):
                with _autocast(device):
                    logits = model(batches.normalise(x[i : i + batch]))
                correct += (logits.argmax(1) == y[i : i + batch]).sum()
            return correct.item() / max(1, len(y))
        except Exception as exc:
            if not _is_oom(exc) or batch == 1:
                raise
            _release(device)
            batch //= 2


def _stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std (in [0, 1] units, on the CPU) of the uint8 images a training
    trains on: what its inputs are normalised with, then and at every evaluation."""
    xf = x.float().div_(255)
    return xf.mean(dim=(0, 2, 3)).cpu(), xf.std(dim=(0, 2, 3)).clamp_min(1e-3).cpu()


def preprocess_of(splits: Splits, mean: torch.Tensor, std: torch.Tensor) -> Preprocess:
    """The :class:`~genesis.preprocess.Preprocess` of a training on ``splits`` that normalised
    with ``mean`` and ``std`` (:func:`_stats`): its input shape, channel order and class names
    come from the dataset. Each number is the shortest decimal that reads back as the float32
    the training used (:func:`genesis.preprocess.float32_round`): exactly that value."""
    return Preprocess.from_stats(
        splits.train_x.shape[1:], mean.tolist(), std.tolist(), splits.dataset.classes or ()
    )


def scorer(
    splits: Splits,
    *,
    final: bool = False,
    device: str | torch.device | None = None,
    examples: int | None = None,
):
    """A function ``model -> accuracy`` on the split that a training with these ``splits``
    reports: validation, or with ``final`` the official test split.

    Inputs are normalised as that training normalised them (the statistics of what it trained
    on: the training subset, or with ``final`` the whole training set), so a trained model
    scores here what its record says. ``examples`` keeps only the first that many of the split.
    The split is moved to the device once; each call evaluates one model (in eval mode).

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
    mean, std = _stats(train_x.to(dev))
    x, y = (splits.test_x, splits.test_y) if final else (splits.val_x, splits.val_y)
    if examples is not None:
        x, y = x[:examples], y[:examples]
    x, y = x.to(dev), y.to(dev)
    data = _Batches(x, y, mean, std, False, splits.dataset.flip, torch.Generator(device=dev))

    def score(model: nn.Module) -> float:
        return evaluate(model, x, y, data, dev)

    return score


def _autocast(device: torch.device):
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


class _Diverged(Exception):
    pass


class _TimedOut(Exception):
    pass


def _is_oom(exc: BaseException) -> bool:
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and (
        "out of memory" in str(exc).lower() or "can't allocate memory" in str(exc).lower()
    )


def _peak_memory(device: torch.device) -> int:
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


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
    # counting refuses an architecture that cannot work, or is too big to build, before any
    # training
    cx = complexity or count_complexity(arch)
    check_costs(arch, cx if isinstance(cx, ArchComplexity) else None)
    batch = arch.train.batch_size
    started = time.perf_counter()
    attempt_error = None
    for attempt in range(2):
        try:
            result, model, state = _run(
                arch,
                cx,
                splits,
                seed,
                budget,
                dev,
                final,
                augment,
                progress,
                batch,
                started,
                resume,
            )
            if attempt_error:
                result.error = attempt_error
            if return_state:
                return result, model, state
            return (result, model) if return_model else result
        except Exception as exc:
            if _is_oom(exc) and attempt == 0 and batch > 1:
                _release(dev)
                attempt_error = f"out of memory at batch {batch}; retried at {batch // 2}"
                batch //= 2
                continue
            _release(dev)
            status = "oom" if _is_oom(exc) else "error"
            message = " ".join(f"{type(exc).__name__}: {exc}".split())[:500]
            result = failed_result(
                arch,
                status,
                message,
                seed=seed,
                final=final,
                batch_size=batch,
                device=dev,
                complexity=cx,
                peak_memory_bytes=_peak_memory(dev),
            )
            if return_state:
                return result, None, None
            return (result, None) if return_model else result
    raise AssertionError("unreachable")  # pragma: no cover


def _release(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


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
    cfg = arch.train
    if dev.type == "cuda":
        # a fresh process (a search worker) has not initialised CUDA yet, and the memory-stats
        # calls fail with "Invalid device argument" until something has
        torch.cuda.init()
        torch.cuda.reset_peak_memory_stats(dev)
    if final:
        train_x, train_y = splits.full_train()
    else:
        train_x, train_y = splits.train_x, splits.train_y
    x = train_x.to(dev)
    y = train_y.to(dev)
    mean, std = _stats(x)
    gen = torch.Generator(device=dev).manual_seed(seed)
    data = _Batches(x, y, mean, std, augment, splits.dataset.flip, gen)

    model = compile_architecture(arch, seed=seed).to(dev).to(memory_format=torch.channels_last)
    optimizer = _optimizer(model, cfg)
    before = 0.0  # epochs trained before this call (a resumed state's)
    if resume is not None:
        model.load_state_dict(resume["model"])
        # a copy: the optimizer would otherwise train the caller's momentum buffers in place
        optimizer.load_state_dict(_to_cpu(resume["optimizer"], copy=True))
        gen.set_state(resume["generator"])
        before = float(resume.get("epochs", 0.0))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    epochs = float(budget.epochs if budget.epochs is not None else cfg.epochs)
    steps_per_epoch = max(1, len(y) // batch) if len(y) >= batch else 1
    total_steps = max(1, math.ceil(epochs * steps_per_epoch))

    start = time.perf_counter()
    seen, step, history, status, error = 0, 0, [], "ok", None
    bar = tqdm(
        total=total_steps,
        disable=not progress,
        unit="step",
        file=sys.stderr,
        dynamic_ncols=True,
        leave=False,
    )
    try:
        done = False
        while not done:
            model.train()
            epoch_loss = torch.zeros((), device=dev)
            epoch_steps = 0
            for xb, yb in data.epoch(min(batch, len(y))):
                elapsed = time.perf_counter() - started  # an out-of-memory retry shares the clock
                if budget.time_limit is not None and elapsed > budget.time_limit:
                    raise _TimedOut(f"over the time limit of {budget.time_limit:g} s")
                progress_frac = step / total_steps
                if budget.seconds is not None:
                    progress_frac = max(progress_frac, elapsed / budget.seconds)
                if progress_frac >= 1.0:
                    done = True
                    break
                lr = lr_at(cfg, progress_frac, epochs)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                with _autocast(dev):
                    loss = loss_fn(model(xb), yb)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                epoch_loss += loss.detach()
                epoch_steps += 1
                step += 1
                seen += len(yb)
                bar.update(1)
                if step % 25 == 0 and not torch.isfinite(epoch_loss):
                    raise _Diverged(f"loss became {epoch_loss.item()} at step {step}")
            if epoch_steps:
                mean_loss = (epoch_loss / epoch_steps).item()
                if not math.isfinite(mean_loss):
                    raise _Diverged(f"loss became {mean_loss} at step {step}")
                history.append({"epoch": len(history) + 1, "loss": mean_loss, "lr": lr})
                bar.set_postfix(loss=f"{mean_loss:.3f}")
            if step >= total_steps:
                done = True
    except _Diverged as exc:
        status, error = "diverged", str(exc)
    except _TimedOut as exc:
        status, error = "timeout", str(exc)
    finally:
        bar.close()
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    seconds = time.perf_counter() - start
    epochs_done = step / steps_per_epoch
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
            peak_memory_bytes=_peak_memory(dev),
            epochs=epochs_done,
            train_seconds=seconds,
            history=history,
        )
        return result, None, None
    held = None
    if final:
        test_acc = evaluate(model, splits.test_x.to(dev), splits.test_y.to(dev), data, dev)
        val_acc, acc = None, test_acc
    else:
        val_acc = evaluate(model, splits.val_x.to(dev), splits.val_y.to(dev), data, dev)
        test_acc, acc = None, val_acc
        if splits.holdout_x is not None:
            held = evaluate(model, splits.holdout_x.to(dev), splits.holdout_y.to(dev), data, dev)
    result = TrainResult(
        status=status,
        split="test" if final else "val",
        accuracy=acc,
        val_accuracy=val_acc,
        test_accuracy=test_acc,
        macs=cx.macs,
        flops=cx.flops,
        params=cx.params,
        seed=seed,
        epochs=round(epochs_done, 4),
        batch_size=batch,
        train_seconds=round(seconds, 3),
        samples_per_second=round(seen / max(seconds, 1e-9), 1),
        peak_memory_bytes=_peak_memory(dev),
        device=str(dev),
        final_loss=history[-1]["loss"] if history else None,
        error=error,
        history=history,
        holdout_accuracy=held,
        preprocess=preprocess_of(splits, mean, std).to_dict(),
    )
    state = {
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": _to_cpu(optimizer.state_dict()),
        "generator": gen.get_state().cpu(),
        "epochs": round(before + epochs_done, 6),
    }
    return result, model, state


def _to_cpu(obj: Any, copy: bool = False) -> Any:
    """``obj`` (an optimizer's state_dict) with every tensor on the CPU (copied with ``copy``)."""
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu()
        return t.clone() if copy else t
    if isinstance(obj, dict):
        return {k: _to_cpu(v, copy) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to_cpu(v, copy) for v in obj]
    return obj
