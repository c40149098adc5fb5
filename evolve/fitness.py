"""FLOP-aware fitness: objectives, the constrained score, Pareto fronts and hypervolume.

Individuals carry a DEAP fitness built per run (no ``deap.creator`` global state). Objectives
are (validation accuracy, MACs): accuracy maximised, MACs minimised. A failed candidate
(diverged, oom, timeout, error) scores accuracy 0 and keeps its MACs, so it is dominated by any
working one and never wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deap import base, tools
from deap.benchmarks.tools import hypervolume as deap_hypervolume

from genesis import Architecture

__all__ = [
    "Individual",
    "make_fitness_class",
    "objectives",
    "constrained_score",
    "pareto_front",
    "hypervolume",
]


def make_fitness_class(weights: tuple[float, ...]) -> type[base.Fitness]:
    """A fresh DEAP Fitness class with ``weights`` (built per run, never registered globally)."""
    return type("RunFitness", (base.Fitness,), {"weights": weights})


@dataclass(eq=False)
class Individual:
    """An architecture in a population, with its evaluation record and DEAP fitness."""

    arch: Architecture
    hash: str
    seed: int  # training seed of its evaluation
    fitness: base.Fitness
    result: dict[str, Any] = field(default_factory=dict)  # the evaluation record
    parents: tuple[str, ...] = ()  # hashes of its parents
    origin: str = "sample"  # sample | mutation | crossover
    born: int = 0  # evaluation counter when it was made (aging evolution)


def objectives(result: dict[str, Any]) -> tuple[float, float]:
    """(accuracy, MACs) of an evaluation record; failures score accuracy 0."""
    acc = result.get("accuracy") if result.get("status") == "ok" else None
    return (float(acc) if acc is not None else 0.0, float(result["macs"]))


def constrained_score(
    result: dict[str, Any], max_macs: float | None, target_macs: float | None, w: float
) -> float:
    """Accuracy under a hard MAC budget, or MnasNet's soft ``acc * (macs / target) ** w``.

    References
    ----------
    .. [1] M. Tan et al. "MnasNet: Platform-Aware Neural Architecture Search for Mobile".
       CVPR 2019, equation 2.
    """
    acc, macs = objectives(result)
    if max_macs is not None and macs > max_macs:
        return 0.0
    if target_macs is not None:
        return acc * (macs / target_macs) ** w
    return acc


def pareto_front(individuals: list[Individual]) -> list[Individual]:
    """The non-dominated individuals (DEAP's ``sortNondominated``), by increasing MACs."""
    if not individuals:
        return []
    first = tools.sortNondominated(individuals, len(individuals), first_front_only=True)[0]
    return sorted(first, key=lambda ind: (ind.fitness.values[1], -ind.fitness.values[0]))


def hypervolume(points: list[tuple[float, float]], ref_macs: float) -> float:
    """Hypervolume of (accuracy, MACs) points against the reference (accuracy 0, ``ref_macs``).

    Normalised to [0, 1]: the area dominated by the points in the box accuracy [0, 1] x MACs
    [0, ``ref_macs``], divided by that box's area. Points above ``ref_macs`` add nothing.

    Examples
    --------
    >>> hypervolume([(0.9, 5e6)], ref_macs=10e6)
    0.45
    """
    inside = [(a, m) for a, m in points if m < ref_macs and a > 0]
    if not inside:
        return 0.0
    fit_cls = make_fitness_class((1.0, -1.0))

    class _P:
        def __init__(self, a: float, m: float):
            self.fitness = fit_cls((a, m / ref_macs))

    return float(deap_hypervolume([_P(a, m) for a, m in inside], ref=[0.0, 1.0]))
