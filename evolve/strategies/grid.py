"""``grid``: every combination of a hyperparameter grid, in a fixed order (``genesis tune``)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from evolve.fitness import Individual
from evolve.strategies.base import Proposal, Strategy, register_strategy

__all__ = ["Grid"]


@register_strategy
class Grid(Strategy):
    """Grid points of a :class:`~evolve.tune.HyperSpace`, until the grid or the budget ends."""

    name = "grid"
    spaces = ("hyperparameters",)

    def __init__(self, cfg, space):
        super().__init__(cfg, space)
        self.proposed = 0  # grid points handed out so far

    def propose(
        self, gen: int, population: list[Individual], rng: random.Random
    ) -> Iterator[Proposal]:
        while (arch := self.space.grid_point(self.proposed)) is not None:
            self.proposed += 1
            yield Proposal(arch, origin="grid")

    def get_state(self) -> dict[str, Any]:
        return {"proposed": self.proposed}

    def set_state(self, state: dict[str, Any]) -> None:
        self.proposed = state.get("proposed", 0)
