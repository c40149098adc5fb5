"""FLOP-aware fitness: DEAP fitness classes, the constrained score, hypervolume, selection.

Individuals carry a DEAP fitness built per run (no ``deap.creator`` global state). Objectives
(:func:`genesis.runfolder.objectives`) are validation accuracy, maximised, and the search's
costs (``search.objective``: MACs by default, or measured latency, peak memory, or several of
them), minimised. A failed candidate (diverged, oom, timeout, error) scores accuracy 0, so it is
dominated by any working one and never wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import moocore
from deap import base, tools

from genesis import Architecture, runfolder
from genesis.runfolder import objectives

__all__ = [
    "Individual",
    "make_fitness_class",
    "objectives",
    "constrained_score",
    "pareto_front",
    "hypervolume",
    "hypervolume_contributions",
    "sel_nsga2_hypervolume",
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
    origin: str = "sample"  # sample | mutation | crossover | controller | grid
    born: int = 0  # evaluation counter when it was made (aging evolution)
    text: str = ""  # its JSON, as serialized once when it was proposed


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
    """The non-dominated individuals over their fitness (accuracy, then the objective's costs),
    by increasing first cost (:func:`genesis.runfolder.pareto_front`)."""
    return runfolder.pareto_front(individuals, key=lambda ind: tuple(ind.fitness.values))


def _refs(points: Sequence[Sequence[float]], ref: float | Sequence[float]) -> tuple[float, ...]:
    """The reference point's costs, one per cost of ``points`` (a number: the one cost's)."""
    refs = (float(ref),) if isinstance(ref, (int, float)) else tuple(float(r) for r in ref)
    if points and len(points[0]) - 1 != len(refs):
        raise ValueError(f"points have {len(points[0]) - 1} costs, the reference {len(refs)}")
    return refs


def _normalised(
    points: Sequence[Sequence[float]], refs: tuple[float, ...]
) -> list[tuple[float, ...]]:
    """Points inside the box (accuracy above 0, every cost below its reference) as minimised
    coordinates in [0, 1]: (1 - accuracy, cost / reference, ...)."""
    return [
        (1.0 - min(1.0, p[0]), *(c / r for c, r in zip(p[1:], refs, strict=True)))
        for p in points
        if p[0] > 0 and all(c < r for c, r in zip(p[1:], refs, strict=True))
    ]


def hypervolume(points: Sequence[Sequence[float]], ref: float | Sequence[float]) -> float:
    """Hypervolume of (accuracy, cost, ...) points against the reference (accuracy 0, ``ref``).

    ``ref`` holds one reference value per cost (a number when there is one cost, e.g. the
    search's ``ref_macs``). Normalised to [0, 1]: the volume dominated by the points in the box
    accuracy [0, 1] x each cost [0, its reference], divided by that box's volume. Points at or
    above a reference add nothing. Any number of costs (moocore's exact algorithms, which DEAP's
    own hypervolume calls).

    Examples
    --------
    >>> hypervolume([(0.9, 5e6)], 10e6)
    0.45
    >>> round(hypervolume([(0.8, 1.0, 50.0)], (2.0, 100.0)), 6)  # 0.8 x 0.5 x 0.5
    0.2
    """
    inside = _normalised(points, _refs(points, ref))
    if not inside:
        return 0.0
    return float(moocore.hypervolume(inside, ref=[1.0] * len(inside[0])))


def hypervolume_contributions(
    points: Sequence[Sequence[float]], ref: float | Sequence[float]
) -> list[float]:
    """Each point's exclusive share of :func:`hypervolume`: what the set loses without it.

    ``points`` are (accuracy, cost, ...) tuples none of which dominates another (one front).
    With one cost this is exact and closed-form: along the front sorted by the cost, a point
    owns the rectangle between its neighbours. With more, moocore's ``hv_contributions`` (the
    hypervolume of the set less that of the set without the point). Points at or past a
    reference, or at accuracy 0, own nothing; of two equal points neither does.

    Examples
    --------
    >>> [round(c, 6) for c in hypervolume_contributions([(0.5, 0.0), (0.8, 5e6)], 10e6)]
    [0.25, 0.15]
    """
    refs = _refs(points, ref)
    if len(refs) > 1:
        out = [0.0] * len(points)
        kept = [i for i, p in enumerate(points) if _normalised([p], refs)]
        if kept:
            box = _normalised([points[i] for i in kept], refs)
            shares = moocore.hv_contributions(box, ref=[1.0] * len(box[0]))
            for i, c in zip(kept, shares, strict=True):
                out[i] = max(0.0, float(c))
        return out
    ref_cost = refs[0]
    order = sorted(range(len(points)), key=lambda i: (points[i][1], points[i][0]))
    xs = [min(1.0, max(0.0, points[i][1] / ref_cost)) for i in order]
    ys = [max(0.0, points[i][0]) for i in order]
    out = [0.0] * len(points)
    for j, i in enumerate(order):
        x_next = xs[j + 1] if j + 1 < len(order) else 1.0
        y_prev = ys[j - 1] if j > 0 else 0.0
        out[i] = max(0.0, x_next - xs[j]) * max(0.0, ys[j] - y_prev)
    return out


def sel_nsga2_hypervolume(
    individuals: list[Individual], k: int, ref: float | Sequence[float]
) -> list[Individual]:
    """NSGA-II's elitist selection with the hypervolume contribution as the second criterion.

    Fronts of DEAP's ``sortNondominated`` are taken whole while they fit; the front that does
    not fit loses, one by one, the member whose exclusive hypervolume contribution (against the
    run's fixed reference point) is smallest, as in SMS-EMOA [1]_. Every individual returned
    carries ``fitness.rank`` (0 for the first front) and ``fitness.contribution`` (within its
    front) for the parent tournament. Objectives are (accuracy, cost, ...) with ``ref`` the
    reference of each cost (see :func:`hypervolume`). Deterministic: ties go against the lower
    accuracy, then the higher costs.

    Unlike crowding distance, which gives every front's two ends infinite worth, this keeps the
    cheapest member only as far as it adds dominated area: a near-chance network that is merely
    the cheapest no longer breeds as often as the best one.

    References
    ----------
    .. [1] N. Beume, B. Naujoks, M. Emmerich. "SMS-EMOA: Multiobjective selection based on
       dominated hypervolume". European Journal of Operational Research 181(3), 2007.
    """
    chosen: list[Individual] = []
    if k <= 0 or not individuals:
        return chosen
    for rank, front in enumerate(tools.sortNondominated(individuals, k)):
        front = list(front)
        while True:
            values = [tuple(ind.fitness.values) for ind in front]
            contrib = hypervolume_contributions(values, ref)
            if len(chosen) + len(front) <= k:
                break
            worst = min(
                range(len(front)),
                key=lambda i: (contrib[i], values[i][0], tuple(-c for c in values[i][1:])),
            )
            front.pop(worst)
        for ind, c in zip(front, contrib, strict=True):
            ind.fitness.rank, ind.fitness.contribution = rank, c
        chosen.extend(front)
        if len(chosen) >= k:
            break
    return chosen
