"""``predictor``: a random forest trained on the run's own evaluations screens many cheap
candidates, and only the most promising are trained (BANANAS, White et al. 2021; Neural
Predictor, Wen et al. 2020; NPENAS, Wei et al. 2022; the forest on cheap graph features is
GRAF's, Kadlecová et al. 2024).

The first generation is sampled. After it, each proposal window draws a pool of
``pool_size`` candidates (a ``mutation_share`` of them mutated from the current front, the rest
sampled), drops those over the MAC or parameter caps (MACs are known before training), ranks
the rest by the acquisition and yields them best first, skipping networks the run has
evaluated:

- ``ehvi``: the expected hypervolume improvement over (accuracy, MACs), the accuracy normal
  with the forest's mean and its trees' spread, closed form in two objectives;
- ``bucket``: the pool cut into MAC buckets (quantiles of log MACs), the best predicted of each
  bucket in turn.

The forest is trusted only once the run has ``min_evals`` evaluations and its held-out
(out-of-bag) Kendall tau beats that of MACs alone on them (``gate``); until then the strategy
proposes as ``random`` does. Every window's results refit it (:meth:`PredictorGuided.learn`);
the checkpoint keeps the feature rows and accuracies (plain data), and a resumed run refits
the same forest from them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import numpy as np
from scipy.stats import norm

from evolve.fitness import Individual, pareto_front
from evolve.predictor import Predictor, held_out_tau, macs_tau
from evolve.strategies.base import Proposal, Strategy, register_strategy
from evolve.strategies.params import PredictorParams
from genesis import Architecture, GenesisError, architecture_hash
from genesis.complexity import count_complexity
from genesis.features import architecture_features, feature_names

__all__ = ["PredictorGuided", "expected_improvement"]


def expected_improvement(
    macs: float, mean: float, std: float, front: list[tuple[float, float]], ref: float
) -> float:
    """Expected hypervolume improvement of a candidate of known ``macs`` whose accuracy is
    normal (``mean``, ``std``), over ``front`` ((accuracy, MACs) points, none dominated)
    against the reference (accuracy 0, MACs ``ref``).

    Along the MAC axis from ``macs`` to ``ref`` the front is a step function; the candidate
    adds ``max(0, a - level)`` times each step's length, whose expectation under the normal
    is ``(mean - level) Phi(z) + std phi(z)``, ``z = (mean - level) / std``.

    Examples
    --------
    >>> expected_improvement(2.0, 0.8, 0.0, [(0.5, 1.0), (0.9, 3.0)], 4.0)  # 0.3 x 1
    0.30000000000000004
    >>> expected_improvement(5.0, 0.8, 0.1, [(0.5, 1.0)], 4.0)  # past the reference
    0.0
    """
    if macs >= ref:
        return 0.0
    points = sorted(front, key=lambda p: p[1])
    level = max([a for a, m in points if m <= macs], default=0.0)
    edges = [m for _, m in points if macs < m < ref] + [ref]
    total, start = 0.0, macs
    for edge in edges:
        gap = mean - level
        if std > 0:
            z = gap / std
            gain = gap * norm.cdf(z) + std * norm.pdf(z)
        else:
            gain = max(gap, 0.0)
        total += (edge - start) * gain
        start = edge
        level = max([level] + [a for a, m in points if m == edge])
    return float(total)


@register_strategy
class PredictorGuided(Strategy):
    """Candidates screened by a random forest fit on the run's own evaluations."""

    name = "predictor"
    Params = PredictorParams

    @classmethod
    def check(cls, cfg) -> None:
        if tuple(cfg.search.objective) != ("macs",):
            raise GenesisError(
                "strategy predictor ranks on (accuracy, MACs): search objective must be "
                f"['macs'], got {list(cfg.search.objective)}"
            )

    def __init__(self, cfg, space):
        super().__init__(cfg, space)
        self.names = feature_names()
        self.rows: list[tuple[float, ...]] = []  # features of every evaluation that worked
        self.accuracies: list[float] = []  # their accuracies
        self.model: Predictor | None = None
        self.trusted = False

    def batch_size(self, gen: int) -> int:
        return self.cfg.search.population if gen == 0 else max(1, self.cfg.execution.workers)

    # -- proposing -------------------------------------------------------------------------------
    def _row(self, arch: Architecture, cx: tuple[int, int] | None = None) -> tuple[float, ...]:
        return tuple(architecture_features(arch, cx).values())

    def propose(
        self, gen: int, population: list[Individual], rng: random.Random
    ) -> Iterator[Proposal]:
        if gen == 0 or not self.trusted:  # as random sampling proposes
            while True:
                arch = self.space.sample(rng)
                yield Proposal(arch, tag=self._row(arch))
        ok = [i for i in population if i.result.get("status") == "ok"]
        front = pareto_front(ok)
        seen = {i.hash for i in population}
        while True:
            pool = self._pool(front, rng)
            if not pool:  # all over the caps: a sample, which the loop skips and counts
                yield Proposal(self.space.sample(rng))
                continue
            for j in self._rank(pool, front):
                p = pool[j]
                h = architecture_hash(p.arch)
                if h in seen:
                    continue
                seen.add(h)
                yield p

    def _pool(self, front: list[Individual], rng: random.Random) -> list[Proposal]:
        """``pool_size`` draws, mutants of the front and samples, within the caps."""
        s, n = self.cfg.search, self.params.pool_size
        mutants = round(n * self.params.mutation_share) if front else 0
        pool, texts = [], set()
        for k in range(n):
            if k < mutants:
                parent = rng.choice(front)
                arch = self.space.mutate(parent.arch, rng)
                p = Proposal(arch, (parent.hash,), "mutation")
            else:
                p = Proposal(self.space.sample(rng))
            cx = count_complexity(p.arch)
            if (s.max_macs is not None and cx.macs > s.max_macs) or (
                s.max_params is not None and cx.params > s.max_params
            ):
                continue
            text = p.arch.to_json(indent=None)
            if text in texts:
                continue
            texts.add(text)
            p.tag = self._row(p.arch, (cx.macs, cx.params))
            pool.append(p)
        return pool

    def _rank(self, pool: list[Proposal], front: list[Individual]) -> list[int]:
        """Indices of ``pool``, best first by the acquisition."""
        assert self.model is not None
        X = np.array([p.tag for p in pool], dtype=float)
        mean, std = self.model.predict(X)
        macs = 10 ** X[:, self.names.index("macs_log10")] - 1
        if self.params.acquisition == "ehvi":
            points = [(i.fitness.values[0], i.fitness.values[1]) for i in front]
            ref = self.cfg.search.refs[0]
            gain = [
                expected_improvement(m, mu, sd, points, ref)
                for m, mu, sd in zip(macs, mean, std, strict=True)
            ]
            return sorted(range(len(pool)), key=lambda j: (-gain[j], -mean[j], j))
        buckets = max(2, min(8, len(pool)))  # the best of each MAC bucket in turn
        edges = np.quantile(np.log10(macs + 1), np.linspace(0, 1, buckets + 1)[1:-1])
        which = np.searchsorted(edges, np.log10(macs + 1), side="right")
        lists = [
            sorted(np.flatnonzero(which == b), key=lambda j: (-mean[j], j)) for b in range(buckets)
        ]
        order = []
        for depth in range(max(len(b) for b in lists)):
            order += [int(b[depth]) for b in lists if depth < len(b)]
        return order

    # -- learning --------------------------------------------------------------------------------
    def learn(self, trained: list[Any], skipped: list[Any]) -> str | None:
        """Add the window's evaluations that worked, refit, and decide whether to trust it."""
        for tag, record in trained:
            if record.get("status") == "ok" and record.get("accuracy") is not None:
                self.rows.append(tuple(float(v) for v in tag))
                self.accuracies.append(float(record["accuracy"]))
        if not trained:
            return None
        return self._refit()

    def _refit(self) -> str | None:
        n = len(self.rows)
        if n < self.params.min_evals:
            self.model, self.trusted = None, False
            return None
        X, y = np.array(self.rows, dtype=float), np.array(self.accuracies, dtype=float)
        seed = self.cfg.search.seed
        self.model = Predictor(self.params.trees, seed).fit(X, y)
        tau = held_out_tau(X, y, folds=0, trees=self.params.trees, seed=seed, fitted=self.model)
        base = macs_tau(X, y)
        self.trusted = tau > base or not self.params.gate
        verdict = "ranking the pool" if self.trusted else "sampling as random does"
        return (
            f"predictor: {n} evaluations, held-out tau {tau:.3f} vs MACs alone {base:.3f}: "
            f"{verdict}"
        )

    def get_state(self) -> dict[str, Any]:
        return {
            "names": list(self.names),
            "rows": [list(r) for r in self.rows],
            "accuracies": list(self.accuracies),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        if not state.get("rows"):
            return
        column = {name: j for j, name in enumerate(state["names"])}  # the registries may differ
        self.rows = [
            tuple(float(r[column[name]]) if name in column else 0.0 for name in self.names)
            for r in state["rows"]
        ]
        self.accuracies = [float(a) for a in state["accuracies"]]
        self._refit()
