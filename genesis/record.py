"""The result record of one training: what every evaluation, failed or not, reports.

:class:`TrainResult` is genesis's only result record. The trainer (:mod:`genesis.train`) makes
it for a real training, :meth:`TrainResult.failed` for a candidate that produced no model (a
crash, out of memory, a dead worker), :meth:`TrainResult.synthetic` for the search's
deterministic stand-in. Run folders hold it as JSON (``to_dict``). Imports no torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["STATUSES", "TrainResult"]

#: Every status a result can have.
STATUSES = ("ok", "diverged", "oom", "timeout", "error", "over_cap")


@dataclass
class TrainResult:
    """The record of one training run. ``accuracy`` is measured on ``split``."""

    status: str  # one of STATUSES
    split: str  # "val" (search) or "test" (final evaluation)
    accuracy: float | None  # top-1 accuracy on `split`; None when training failed
    val_accuracy: float | None  # on the validation split (None in a final run: it was trained on)
    test_accuracy: float | None  # on the official test set, final runs only
    macs: int  # multiply-adds per example (convolutions and linear layers)
    flops: int  # 2 * macs
    params: int  # trainable parameters
    seed: int  # weight init, shuffling and augmentation
    epochs: float  # epochs completed
    batch_size: int  # the batch actually used (halved after an out-of-memory retry)
    train_seconds: float  # wall time of training (evaluation excluded)
    samples_per_second: float  # training examples per second
    peak_memory_bytes: int  # CUDA: peak allocated; CPU: peak resident set of the process
    device: str  # where it ran
    final_loss: float | None = None  # mean training loss of the last epoch
    error: str | None = None  # what went wrong, one line, for a status other than ok
    history: list[dict[str, float]] = field(default_factory=list)  # per-epoch loss and lr
    # on the held-out part of the validation split (a search's ``proxy.holdout``): the search
    # never reads it; benchmarks score fronts on it, so a lucky evaluation does not count
    holdout_accuracy: float | None = None
    # what the trained network expects of its input (genesis.preprocess.Preprocess.to_dict: shape,
    # channel order, the mean and std it was normalised with, class names); None without a model
    # or in a record written before it existed
    preprocess: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    @classmethod
    def _untrained(
        cls, macs: int, params: int, *, seed: int, batch_size: int, final: bool, **fields: Any
    ) -> TrainResult:
        """A record of no training (no epochs, no time), with ``fields`` set."""
        base: dict[str, Any] = dict(
            split="test" if final else "val",
            accuracy=None,
            val_accuracy=None,
            test_accuracy=None,
            macs=macs,
            flops=2 * macs,
            params=params,
            seed=seed,
            epochs=0.0,
            batch_size=batch_size,
            train_seconds=0.0,
            samples_per_second=0.0,
            peak_memory_bytes=0,
            device="",
        )
        return cls(**{**base, **fields})

    @classmethod
    def failed(
        cls,
        macs: int,
        params: int,
        status: str,
        message: str,
        *,
        seed: int,
        batch_size: int,
        final: bool = False,
        device: Any = "",
        **extra: Any,
    ) -> TrainResult:
        """The record of a candidate that produced no trained model (``status`` other than
        ok); ``message`` is folded to one line of at most 500 characters."""
        return cls._untrained(
            macs,
            params,
            seed=seed,
            batch_size=batch_size,
            final=final,
            status=status,
            device=str(device),
            error=" ".join(message.split())[:500],
            **extra,
        )

    @classmethod
    def synthetic(
        cls, macs: int, params: int, accuracy: float, *, seed: int, batch_size: int, final: bool
    ) -> TrainResult:
        """The record of an evaluation that trained nothing and scored ``accuracy`` (on the
        test split for a ``final`` one, else on validation)."""
        return cls._untrained(
            macs,
            params,
            seed=seed,
            batch_size=batch_size,
            final=final,
            status="ok",
            accuracy=accuracy,
            val_accuracy=None if final else accuracy,
            test_accuracy=accuracy if final else None,
            device="none",
        )
