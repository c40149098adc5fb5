"""``random``: RandWire-style sampling from the space, the baseline every strategy is measured
against (Xie et al. 2019); in ``genesis tune``, random search over hyperparameter ranges
(Bergstra & Bengio 2012). Every sample joins the population; nothing is selected."""

from __future__ import annotations

import random
from collections.abc import Iterator

from evolve.fitness import Individual
from evolve.strategies.base import Proposal, Strategy, register_strategy

__all__ = ["RandomSampling"]


@register_strategy
class RandomSampling(Strategy):
    """Independent samples of the space."""

    name = "random"
    spaces = ("architectures", "hyperparameters")

    def propose(
        self, gen: int, population: list[Individual], rng: random.Random
    ) -> Iterator[Proposal]:
        while True:
            yield Proposal(self.space.sample(rng))
