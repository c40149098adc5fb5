"""``constrained``: one score, accuracy under a hard MAC budget or MnasNet's soft target.

The score is :func:`~evolve.fitness.constrained_score`: accuracy, 0 above ``max_macs``, or
``acc * (macs / target) ** w`` with ``target_macs`` (Tan et al. 2019). Elitist (mu + lambda)
with tournament parents.
"""

from __future__ import annotations

from typing import Any

from deap import tools

from evolve.fitness import Individual, constrained_score
from evolve.strategies.base import Evolutionary, register_strategy
from evolve.strategies.params import ConstrainedParams
from genesis import GenesisError

__all__ = ["Constrained", "ScalarScore"]


class ScalarScore:
    """Mixin: the constrained score as the only fitness value."""

    scalar = True

    def score(self, result: dict[str, Any]) -> tuple[float, ...]:
        p = self.params
        return (constrained_score(result, self.cfg.search.max_macs, p.target_macs, p.penalty),)


@register_strategy
class Constrained(ScalarScore, Evolutionary):
    """Elitist evolution of one score under a hard or soft MAC budget."""

    name = "constrained"
    Params = ConstrainedParams

    @classmethod
    def check(cls, cfg) -> None:
        if cfg.search.max_macs is None and cfg.strategy[cls.name].target_macs is None:
            raise GenesisError("strategy constrained needs max_macs (hard) or target_macs (soft)")

    def survivors(self, merged: list[Individual]) -> list[Individual]:
        return tools.selBest(merged, self.cfg.search.population)
