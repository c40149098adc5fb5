"""How a search trains: each candidate's short proxy training (``[proxy]``: data, subset,
rungs of successive halving) and the final retraining of the chosen members (``[final]``)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from evolve.checks import check_types, matches
from evolve.numbers import positive
from genesis import GenesisError

__all__ = ["LR_SCALINGS", "MAX_RUNGS", "FinalConfig", "ProxyConfig"]

#: How the final step's learning rate follows its batch size (``final.lr_scaling``).
LR_SCALINGS = ("auto", "linear", "sqrt", "keep")

#: Most rungs of a multi-fidelity schedule (``proxy.rungs``).
MAX_RUNGS = 8

#: Device names a run may ask for: cpu, cuda, cuda:N (checked before any run folder exists;
#: whether the device is present is checked by the trainer).
_DEVICE = re.compile(r"cpu|cuda(:[0-9]{1,4})?")


@dataclass(frozen=True)
class ProxyConfig:
    """The short training that scores each candidate (on the validation split only)."""

    dataset: str = "fashion-mnist"  # name or folder (genesis.data.load_dataset)
    resolution: int | None = None  # an image folder's images resized to this; None: as they are
    subset: int | None = 10_000  # training examples of the proxy; None for all
    val_size: int | None = 2000  # validation examples (cut from the training set)
    split_seed: int = 0  # seed of the validation cut
    epochs: float | None = 2.0  # proxy epochs; None: the architecture's own (tuning)
    # multi-fidelity: successive halving (ASHA). Cumulative epochs at each rung, e.g. [1, 3, 9]:
    # every candidate trains to the first; the best 1/eta of those done at a rung continue
    # (weights and optimizer state kept) to the next. Empty: one rung, at `epochs`
    rungs: tuple[float, ...] = (1.0, 3.0)
    eta: int = 3  # promotion rate: the top 1/eta of a rung goes on
    # examples cut from the end of the validation split: every evaluation is scored on them
    # too (holdout_accuracy), the search never looks (benchmarks score fronts on them)
    holdout: int = 0
    # a dataset of fewer classes than the networks' outputs trains anyway (the extra outputs
    # are never the answer); otherwise it is an error before the run folder is made
    allow_class_mismatch: bool = False
    time_limit: float | None = 300.0  # a candidate still training after this is a timeout
    device: str | None = None  # default: cuda when present
    # "train"; "synthetic": a deterministic score without training; "lookup": each evaluation
    # looked up in the recorded table named by `lookup` (evolve.lookup; the space is its members)
    fitness: str = "train"
    lookup: str | None = None  # folder of a recorded table (benchmarks/spacebench.py) to look up
    synthetic_seconds: float = 0.0  # synthetic fitness: seconds each evaluation takes (for tests)

    #: A key given without its partner sets the partner: ``epochs`` alone (a flag, a TOML
    #: table, the config of a run made before rungs existed) means one rung at those epochs.
    IMPLIES: ClassVar[dict[str, dict[str, Any]]] = {"epochs": {"rungs": ()}}

    def __post_init__(self) -> None:
        positive("proxy", "subset", self.subset, allow_none=True)
        positive("proxy", "resolution", self.resolution, allow_none=True)
        positive("proxy", "val_size", self.val_size, allow_none=True)
        positive("proxy", "epochs", self.epochs, integer=False, allow_none=True)
        positive("proxy", "time_limit", self.time_limit, integer=False, allow_none=True)
        for r in self.rungs:
            positive("proxy", "rungs", r, integer=False)
        if list(self.rungs) != sorted(set(self.rungs)):
            raise GenesisError(f"proxy rungs must increase, got {list(self.rungs)}")
        if len(self.rungs) > MAX_RUNGS:
            raise GenesisError(f"proxy rungs has {len(self.rungs)}; the cap is {MAX_RUNGS}")
        positive("proxy", "eta", self.eta)
        if self.eta < 2:
            raise GenesisError(f"proxy eta must be at least 2, got {self.eta}")
        if isinstance(self.holdout, bool) or not isinstance(self.holdout, int) or self.holdout < 0:
            raise GenesisError(f"proxy holdout must be an integer >= 0, got {self.holdout!r}")
        if self.holdout and self.val_size is not None and self.holdout >= self.val_size:
            raise GenesisError(
                f"proxy holdout ({self.holdout}) must be smaller than val_size ({self.val_size})"
            )
        if not matches(self.synthetic_seconds, float) or not 0 <= self.synthetic_seconds < 3600:
            raise GenesisError(
                f"proxy synthetic_seconds must be in [0, 3600), got {self.synthetic_seconds}"
            )
        if self.fitness not in ("train", "synthetic", "lookup"):
            raise GenesisError(
                f"proxy fitness must be 'train', 'synthetic' or 'lookup', got {self.fitness!r}"
            )
        if (self.fitness == "lookup") != bool(self.lookup):
            raise GenesisError(
                "proxy lookup (a recorded table's folder) goes with fitness = 'lookup', got "
                f"fitness {self.fitness!r} and lookup {self.lookup!r}"
            )
        if self.device is not None and (
            not isinstance(self.device, str) or not _DEVICE.fullmatch(self.device)
        ):
            raise GenesisError(f"proxy device must be cpu, cuda or cuda:N, got {self.device!r}")
        check_types(self, "proxy")

    @property
    def trains(self) -> bool:
        """Whether an evaluation trains a network (else it is synthetic or looked up: no
        weights, no rung states)."""
        return self.fitness == "train"

    @property
    def schedule(self) -> tuple[float | None, ...]:
        """Cumulative epochs at each rung: ``rungs``, or the one rung ``epochs``."""
        return tuple(self.rungs) or (self.epochs,)

    def rung_cost(self, rung: int) -> float:
        """Compute of training one candidate from rung ``rung - 1`` to ``rung``, in
        epoch-equivalents of the subset (an architecture's own epochs count as 1)."""
        s = [e or 1.0 for e in self.schedule]
        return s[rung] - (s[rung - 1] if rung else 0.0)


@dataclass(frozen=True)
class FinalConfig:
    """Retraining of the chosen Pareto members on the full training set, scored on test."""

    # Pareto members retrained (spread along the front, the most accurate always among them); 0
    # skips the final step. With fewer members than workers, the idle workers' cores go to them
    top_k: int = 1
    epochs: float | None = 8.0  # epochs of the final training; None: the architecture's own
    # batch of the final training; None: the architecture's own (bench_final.py: on a CPU, 256
    # trains as well per epoch as 128 and faster)
    batch_size: int | None = 256
    # how the learning rate follows a batch_size other than the architecture's: "linear" (lr x
    # the batch ratio, Goyal et al. 2017), "sqrt" (x its square root, the rule for Adam-like
    # optimizers), "auto" (linear for SGD, sqrt for AdamW) or "keep" (the lr unchanged)
    lr_scaling: str = "auto"
    # wall-clock seconds of each final training: it ends (annealed, status ok) at whichever of
    # epochs and seconds comes first; None: epochs alone
    seconds: float | None = 360.0
    seed: int = 0  # training seed of the final runs
    export_onnx: bool = True  # write an ONNX model of each retrained member

    def __post_init__(self) -> None:
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or self.top_k < 0:
            raise GenesisError(f"final top_k must be an integer >= 0, got {self.top_k!r}")
        positive("final", "epochs", self.epochs, integer=False, allow_none=True)
        positive("final", "batch_size", self.batch_size, allow_none=True)
        positive("final", "seconds", self.seconds, integer=False, allow_none=True)
        if self.lr_scaling not in LR_SCALINGS:
            raise GenesisError(
                f"final lr_scaling must be one of {', '.join(LR_SCALINGS)}, got {self.lr_scaling!r}"
            )
        check_types(self, "final")

    def lr_factor(self, batch_size: int, optimizer: str = "sgd") -> float:
        """What a member's learning rate is multiplied by when it trains at ``self.batch_size``
        instead of its own ``batch_size`` with ``optimizer`` (1 when the batch is its own).

        Examples
        --------
        >>> FinalConfig(batch_size=256, lr_scaling="sqrt").lr_factor(64)
        2.0
        >>> final = FinalConfig(batch_size=256, lr_scaling="auto")
        >>> final.lr_factor(64, "sgd"), final.lr_factor(64, "adamw")
        (4.0, 2.0)
        """
        if self.batch_size is None or self.lr_scaling == "keep":
            return 1.0
        ratio = self.batch_size / batch_size
        rule = self.lr_scaling
        if rule == "auto":
            rule = "linear" if optimizer == "sgd" else "sqrt"
        return ratio if rule == "linear" else math.sqrt(ratio)
