"""Successive halving inside the search (ASHA, Li et al. 2020): which candidate goes on to the
next rung, and each candidate's progress through the rungs.

A rung is a number of cumulative epochs (``proxy.rungs``, e.g. 1 then 3). Every candidate
trains to the first; of those done at rung ``r``, the best ``1 / eta`` (by the strategy's
fitness: non-dominated front, then exclusive hypervolume contribution, for (accuracy, *costs))
continue to rung ``r + 1`` from their weights and optimizer state, highest rung first.

References
----------
.. [1] L. Li, K. Jamieson, A. Rostamizadeh, E. Gonina, J. Ben-tzur, M. Hardt, B. Recht,
   A. Talwalkar. "A System for Massively Parallel Hyperparameter Tuning". MLSys 2020.
"""

from __future__ import annotations

from typing import Any

from evolve.evaluate import make_task
from evolve.fitness import make_fitness_class, sel_nsga2_hypervolume
from evolve.state import Candidate, Track

__all__ = ["MEASURED", "Rungs", "promotion_order", "rung_task"]

#: Record keys of the costs measured beside MACs (genesis.cost), kept in every later rung's record.
MEASURED = ("memory_kb", "latency_ms", "latency_batch_ms", "latency_batch", "latency_device")


def promotion_order(
    scores: list[tuple[float, ...]], weights: tuple[float, ...], ref: float | tuple[float, ...]
) -> list[int]:
    """Indices of ``scores`` (fitness values of the candidates done at one rung), best first.

    One objective: by weighted value (ties: the earlier first). Accuracy x costs (``ref``: the
    reference of each cost): by non-dominated front, then exclusive hypervolume contribution
    within the front (SMS-EMOA's order, :func:`~evolve.fitness.sel_nsga2_hypervolume`), so the
    cheap end of the front is promoted too, not only the most accurate candidates.

    Examples
    --------
    >>> promotion_order([(0.7, 1e6), (0.9, 9e6), (0.6, 2e6)], (1.0, -1.0), 10e6)  # cheap end first
    [0, 1, 2]
    >>> promotion_order([(0.5,), (0.8,), (0.6,)], (1.0,), 10e6)
    [1, 2, 0]
    """
    if len(weights) == 1:
        return sorted(range(len(scores)), key=lambda i: (-weights[0] * scores[i][0], i))
    fit = make_fitness_class(weights)

    class _Scored:
        def __init__(self, i: int):
            self.i, self.fitness = i, fit(scores[i])

    ranked = sel_nsga2_hypervolume([_Scored(i) for i in range(len(scores))], len(scores), ref)
    return [
        s.i
        for s in sorted(
            ranked, key=lambda s: (s.fitness.rank, -s.fitness.contribution, -scores[s.i][0], s.i)
        )
    ]


class Rungs:
    """The rung progress of a search's candidates (the state's ``tracks``, hash -> Track).

    Parameters
    ----------
    schedule : tuple of float
        Cumulative epochs at each rung (one rung: no successive halving).
    eta : int
        The top ``1 / eta`` of a rung goes on.
    weights, refs
        The strategy's fitness weights and the search's reference point (promotion order).
    tracks : dict
        The state's tracks, changed in place.
    """

    def __init__(
        self,
        schedule: tuple[float, ...],
        eta: int,
        weights: tuple[float, ...],
        refs: float | tuple[float, ...],
        tracks: dict[str, Track],
    ):
        self.schedule, self.eta, self.weights, self.refs = schedule, eta, weights, refs
        self.top = len(schedule) - 1
        self.tracks = tracks

    def open(self, cand: Candidate, generation: int, window: int) -> Track:
        """Start tracking a new candidate (before its first rung)."""
        track = self.tracks[cand.hash] = Track(cand, generation, window)
        return track

    def training(self) -> dict[str, Candidate]:
        """Candidates still training their first rung: a copy of one waits for nothing."""
        return {h: t.cand for h, t in self.tracks.items() if t.rung < 0}

    def promotion(self) -> tuple[str, int] | None:
        """ASHA's rule: the first candidate, from the highest rung down, in the top ``1 / eta``
        of those done at its rung and not yet gone on; (its hash, the rung it goes to)."""
        for r in range(self.top - 1, -1, -1):
            done = [(h, t) for h, t in self.tracks.items() if t.rung >= r and len(t.scores) > r]
            k = len(done) // self.eta
            if k == 0:
                continue
            order = promotion_order([tuple(t.scores[r]) for _, t in done], self.weights, self.refs)
            for i in order[:k]:
                h, t = done[i]
                if t.rung == r and not t.busy and not t.stopped:
                    return h, r + 1
        return None

    def reached(self) -> list[int]:
        """How many candidates reached each rung."""
        return [sum(1 for t in self.tracks.values() if t.rung >= r) for r in range(self.top + 1)]

    def record(self, track: Track, rung: int, record: dict[str, Any]) -> dict[str, Any]:
        """The record of ``track``'s job to ``rung`` as logged: with the candidate's measured
        costs (kept from before its first rung) and, under successive halving, the rung, its
        epochs and the learning curve so far."""
        if track.cand.memory_kb is not None:
            record = {**record, "memory_kb": track.cand.memory_kb}
        if rung == 0:  # measured once, before the first rung: every later record keeps them
            track.costs = {k: record[k] for k in MEASURED if record.get(k) is not None}
        else:
            record = {**track.costs, **record}
        if self.top > 0:
            record = {
                **record,
                "rung": rung,
                "rung_epochs": self.schedule[rung],
                "curve": track.curve + [record.get("accuracy")],
            }
        return record

    def finished(
        self, track: Track, rung: int, record: dict[str, Any], score: tuple[float, ...]
    ) -> None:
        """``track``'s job to ``rung`` is back: it is at that rung (``score`` its fitness
        there), or, failed, it goes no further."""
        track.busy = False
        if record.get("status") == "ok":
            track.rung = rung
            track.scores.append(list(score))
            track.curve.append(record.get("accuracy"))
        else:
            track.stopped = True
            if rung == 0:
                track.rung = 0


def rung_task(cfg: Any, folder: Any, c: Candidate, text: str, rung: int) -> dict[str, Any]:
    """The task that trains candidate ``c`` (its JSON ``text``) to ``rung``: the rung's
    epochs (the first from scratch, a later one the difference, continuing from the state the
    one before left in ``rungs/``), its latency measured first when the search measures it."""
    proxy, schedule = cfg.proxy, cfg.proxy.schedule
    top = len(schedule) - 1
    task = make_task(
        text,
        c.seed,
        proxy,
        complexity=(c.macs, c.params),
        epochs=schedule[rung] if rung == 0 else proxy.rung_cost(rung),
    )
    s = cfg.search
    if rung == 0 and s.measures("latency"):  # measured where it trains, before it trains
        task["latency"] = {"batch": s.latency_batch, "max_ms": s.max_latency_ms}
    if top > 0:
        task["rung"] = {"index": rung, "epochs": schedule[rung], "top": schedule[-1]}
        if proxy.trains and rung > 0:
            task["resume_path"] = str(folder.path / folder.rung_ref(c.hash, rung - 1))
        if proxy.trains and rung < top:
            task["state_path"] = str(folder.path / folder.rung_ref(c.hash, rung))
    return task
