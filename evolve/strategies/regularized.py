"""``regularized``: aging evolution (Real et al. 2019, "Regularized Evolution for Image
Classifier Architecture Search").

A tournament of ``sample_size`` picks a parent, its mutated child joins, the oldest member
leaves. After the sampled first generation, each generation trains one child per worker.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from evolve.fitness import Individual
from evolve.strategies.base import Evolutionary, Proposal, register_strategy
from evolve.strategies.constrained import ScalarScore
from evolve.strategies.params import RegularizedParams
from genesis import GenesisError

__all__ = ["Regularized"]


@register_strategy
class Regularized(ScalarScore, Evolutionary):
    """Aging evolution on the constrained score."""

    name = "regularized"
    Params = RegularizedParams

    @classmethod
    def check(cls, cfg) -> None:
        size = cfg.strategy[cls.name].sample_size
        if size > cfg.search.population:
            raise GenesisError(
                f"strategy regularized sample_size must not exceed population, got {size} > "
                f"{cfg.search.population}"
            )

    def propose(
        self, gen: int, population: list[Individual], rng: random.Random
    ) -> Iterator[Proposal]:
        if gen == 0:  # the first generation is sampled
            yield from super().propose(gen, population, rng)
            return
        while True:
            sample = rng.sample(population, self.params.sample_size)
            parent = max(sample, key=lambda i: (i.fitness.values, -i.born))
            yield Proposal(self.space.mutate(parent.arch, rng), (parent.hash,), "mutation")

    def survivors(self, merged: list[Individual]) -> list[Individual]:
        keep = self.cfg.search.population  # the oldest leave
        return merged[len(merged) - keep :] if len(merged) > keep else merged
