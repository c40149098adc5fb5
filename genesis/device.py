"""The device a training runs on: which one, its autocast, and its memory (the peak a training
reached, releasing it, and telling an out-of-memory error from any other).

Everything here is torch's; :mod:`genesis.train`, :mod:`genesis.scoring` and the search's
workers use it, so a device is chosen and checked in one place.
"""

from __future__ import annotations

import gc
import resource
import sys
from typing import Any

import torch

from graphs import GenesisError

__all__ = ["autocast", "is_oom", "peak_memory", "release", "reset_peak", "resolve_device", "to_cpu"]


def resolve_device(device: str | None = None) -> torch.device:
    """``device``, or CUDA when present, else the CPU; raises :class:`GenesisError` if unusable.

    Parameters
    ----------
    device : str, optional
        ``cpu``, ``cuda`` or ``cuda:N``.

    Returns
    -------
    torch.device

    Raises
    ------
    GenesisError
        For an unknown or unsupported device, CUDA on a machine without it, or a GPU index
        this machine does not have.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
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


def autocast(device: torch.device) -> Any:
    """bf16 autocast on CUDA; on the CPU, a disabled autocast (float32 throughout).

    Parameters
    ----------
    device : torch.device
        Where the forward pass runs.

    Returns
    -------
    torch.autocast
        A context manager for the forward pass.
    """
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def is_oom(exc: BaseException) -> bool:
    """Whether ``exc`` says the device (or the host) ran out of memory.

    Parameters
    ----------
    exc : BaseException
        What a training or an evaluation raised.

    Returns
    -------
    bool
        True for :class:`torch.cuda.OutOfMemoryError`, and for a ``RuntimeError`` that says
        "out of memory" or "can't allocate memory" (the CPU's).
    """
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and (
        "out of memory" in str(exc).lower() or "can't allocate memory" in str(exc).lower()
    )


def reset_peak(device: torch.device) -> None:
    """Start counting ``device``'s peak memory afresh (CUDA; nothing on the CPU)."""
    if device.type == "cuda":
        # a fresh process (a search worker) has not initialised CUDA yet, and the memory-stats
        # calls fail with "Invalid device argument" until something has
        torch.cuda.init()
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory(device: torch.device) -> int:
    """The most bytes allocated on ``device`` since :func:`reset_peak` (CUDA), or this
    process's peak resident memory (the CPU).

    Parameters
    ----------
    device : torch.device
        The training's device.

    Returns
    -------
    int
        Bytes.
    """
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


def release(device: torch.device) -> None:
    """Free what a failed attempt held: collect garbage, empty CUDA's cache."""
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def to_cpu(obj: Any, copy: bool = False) -> Any:
    """``obj`` (an optimizer's state_dict) with every tensor on the CPU (copied with ``copy``).

    Parameters
    ----------
    obj : Any
        Tensors in dicts and lists, and plain values.
    copy : bool
        Copy tensors already on the CPU too (a caller's buffers are never shared).

    Returns
    -------
    Any
        ``obj``'s structure, every tensor detached and on the CPU.
    """
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu()
        return t.clone() if copy else t
    if isinstance(obj, dict):
        return {k: to_cpu(v, copy) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_cpu(v, copy) for v in obj]
    return obj
