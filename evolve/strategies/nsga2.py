"""``nsga2``: maximise validation accuracy and minimise the objective's costs by non-dominated
sorting: MACs by default, or measured latency, peak memory, or two or three of them
(``search.objective``; three objectives when two costs are named).

Non-dominated sorting keeps the population (Deb et al. 2002; NSGA-Net); within a front,
members are ranked by their exclusive hypervolume contribution against the run's reference
point (SMS-EMOA, Beume et al. 2007; ``diversity = "hypervolume"``, the default) or by crowding
distance (DEAP's ``selNSGA2`` and ``selTournamentDCD`` rule, ``diversity = "crowding"``).
Binary tournaments on (rank, that criterion) pick the parents.

The DEAP toolbox is built per run (:meth:`NSGA2.build_toolbox`); tournaments draw from the
run's generator.
"""

from __future__ import annotations

import random

from deap import base, tools

from evolve.fitness import Individual, sel_nsga2_hypervolume
from evolve.strategies.base import Evolutionary, register_strategy
from evolve.strategies.params import NSGA2Params

__all__ = ["NSGA2"]


@register_strategy
class NSGA2(Evolutionary):
    """NSGA-II over (accuracy, *costs), SMS-EMOA's hypervolume rule within a front by default."""

    name = "nsga2"
    Params = NSGA2Params

    def __init__(self, cfg, space):
        super().__init__(cfg, space)
        self.toolbox = self.build_toolbox()

    def build_toolbox(self) -> base.Toolbox:
        """DEAP's toolbox of this run: ``select`` (survivors, which also sets what the parent
        tournament compares) and ``duel`` (the binary tournament, drawing from the generator it
        is given)."""
        s = self.cfg.search
        box = base.Toolbox()
        if self.params.diversity == "crowding":
            box.register("select", tools.selNSGA2)
            box.register("duel", _dcd_tournament)
        else:
            box.register("select", sel_nsga2_hypervolume, ref=s.refs)
            box.register("duel", _hv_tournament)
        return box

    def parents(self, population: list[Individual], rng: random.Random) -> list[Individual]:
        box = self.toolbox
        pool = box.select(list(population), len(population))
        return [box.duel(rng.choice(pool), rng.choice(pool), rng) for _ in range(len(pool))]

    def survivors(self, merged: list[Individual]) -> list[Individual]:
        return self.toolbox.select(merged, self.cfg.search.population)


def _dcd_tournament(a: Individual, b: Individual, rng: random.Random) -> Individual:
    """Binary tournament on dominance, then crowding distance (DEAP's selTournamentDCD rule,
    drawn from the run's generator: DEAP's own selection functions use the global one)."""
    if a.fitness.dominates(b.fitness):
        return a
    if b.fitness.dominates(a.fitness):
        return b
    da, db = getattr(a.fitness, "crowding_dist", 0.0), getattr(b.fitness, "crowding_dist", 0.0)
    if da != db:
        return a if da > db else b
    return a if rng.random() < 0.5 else b


def _hv_tournament(a: Individual, b: Individual, rng: random.Random) -> Individual:
    """Binary tournament on Pareto rank, then hypervolume contribution (set by
    :func:`~evolve.fitness.sel_nsga2_hypervolume`), then a fair coin from the run's generator."""
    ka = (-a.fitness.rank, a.fitness.contribution)
    kb = (-b.fitness.rank, b.fitness.contribution)
    if ka != kb:
        return a if ka > kb else b
    return a if rng.random() < 0.5 else b
