"""Hyperparameter search of one fixed architecture: grid and random search.

The classic AutoML baselines on the same engine as the architecture search: a
:class:`HyperSpace` stands in for :class:`~evolve.space.SearchSpace`, so candidates are the
fixed architecture with other training hyperparameters (learning rate, batch size, epochs,
optimizer, weight decay, label smoothing), evaluated, logged, checkpointed, resumed and reported
exactly like architectures.

- ``grid``: every combination of the listed values, in a fixed order, until the budget or the
  grid runs out.
- ``random``: learning rate and weight decay log-uniform between the smallest and largest listed
  value, label smoothing uniform, the others drawn from their lists (Bergstra & Bengio 2012).
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from evolve.checks import check_types
from genesis import Architecture, GenesisError, TrainConfig

if TYPE_CHECKING:  # evolve.config imports this module
    pass

__all__ = [
    "BASE_ARCHITECTURE",
    "MAX_TUNE_VALUES",
    "TuneConfig",
    "HyperSpace",
]

#: Most values one ``[tune]`` list may hold (the grid is their product; every combination is
#: checked when the config is built).
MAX_TUNE_VALUES = 32

#: File name of the fixed architecture inside a tuning run's folder.
BASE_ARCHITECTURE = "base.json"


@dataclass(frozen=True)
class TuneConfig:
    """The hyperparameters to search and their values (grid) or ranges (random: min..max)."""

    architecture: str = ""  # the fixed architecture, a JSON file inside the run folder
    lr: tuple[float, ...] = (0.03, 0.1, 0.3)  # learning rates (random: log-uniform min..max)
    batch_size: tuple[int, ...] = (128,)  # batch sizes
    epochs: tuple[int, ...] = (1,)  # training epochs of each evaluation
    optimizer: tuple[str, ...] = ("sgd",)  # "sgd" and/or "adamw"
    weight_decay: tuple[float, ...] = (5e-5, 5e-4)  # (random: log-uniform min..max)
    label_smoothing: tuple[float, ...] = (0.0, 0.1)  # (random: uniform min..max)

    def __post_init__(self) -> None:
        for name in ("lr", "batch_size", "epochs", "optimizer", "weight_decay", "label_smoothing"):
            values = getattr(self, name)
            if not isinstance(values, tuple) or not values:
                raise GenesisError(f"tune {name} must be a non-empty list, got {values!r}")
            if len(values) > MAX_TUNE_VALUES:
                raise GenesisError(
                    f"tune {name} lists {len(values)} values; the cap is MAX_TUNE_VALUES = "
                    f"{MAX_TUNE_VALUES}"
                )
        # Every value must make a valid TrainConfig: check them all now, not mid-search.
        for lr, wd, ls in itertools.product(self.lr, self.weight_decay, self.label_smoothing):
            TrainConfig(lr=lr, weight_decay=wd, label_smoothing=ls)
        for opt, bs, ep in itertools.product(self.optimizer, self.batch_size, self.epochs):
            TrainConfig(optimizer=opt, batch_size=bs, epochs=ep)
        if any(v <= 0 for v in self.weight_decay) and len(set(self.weight_decay)) > 1:
            raise GenesisError(
                "tune weight_decay values must be > 0 (random search draws them "
                "log-uniformly); use a single 0 to switch weight decay off"
            )
        check_types(self, "tune")

    @property
    def grid_size(self) -> int:
        """How many points the grid has."""
        return math.prod(len(getattr(self, n)) for n in _NAMES)


_NAMES = ("lr", "batch_size", "epochs", "optimizer", "weight_decay", "label_smoothing")


class HyperSpace:
    """Candidates: one fixed architecture with training hyperparameters from a :class:`TuneConfig`.

    Examples
    --------
    >>> from genesis import build_architecture
    >>> space = HyperSpace(build_architecture(seed=0), TuneConfig())
    >>> space.grid_point(0).train.lr, space.grid_size
    (0.03, 12)
    """

    def __init__(self, base: Architecture, cfg: TuneConfig):
        self.base = base
        self.cfg = cfg
        self.grid_size = cfg.grid_size

    def _with(self, **values: Any) -> Architecture:
        return self.base.replace(train=replace(self.base.train, **values))

    def grid_point(self, index: int) -> Architecture | None:
        """The ``index``-th combination (last hyperparameter varying fastest), None past the end."""
        if index >= self.grid_size:
            return None
        values = {}
        for name in reversed(_NAMES):
            options = getattr(self.cfg, name)
            index, pick = divmod(index, len(options))
            values[name] = options[pick]
        return self._with(**values)

    def sample(self, rng: random.Random) -> Architecture:
        """A random combination: log-uniform lr and weight decay, uniform label smoothing."""
        c = self.cfg

        def log_uniform(values):
            lo, hi = min(values), max(values)
            if lo == hi or lo <= 0:
                return lo if lo == hi else rng.choice(values)
            return round(math.exp(rng.uniform(math.log(lo), math.log(hi))), 8)

        return self._with(
            lr=log_uniform(c.lr),
            batch_size=rng.choice(c.batch_size),
            epochs=rng.choice(c.epochs),
            optimizer=rng.choice(c.optimizer),
            weight_decay=log_uniform(c.weight_decay),
            label_smoothing=round(rng.uniform(min(c.label_smoothing), max(c.label_smoothing)), 4),
        )
