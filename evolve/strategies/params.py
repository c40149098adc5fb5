"""Each strategy's own parameters (``[strategy.<name>]`` in a config), one frozen dataclass
per strategy, validated where they are made.

A search config names its strategy (``search.strategy``); the knobs of a strategy live in that
strategy's table, e.g.::

    [search]
    strategy = "regularized"
    [strategy.regularized]
    sample_size = 4

Configs written before the knobs moved here kept them in ``[search]`` (``target_macs``,
``penalty``, ``sample_size``, ``crossover_prob``, ``diversity``): they are still read, into
every strategy whose parameters have that name (:data:`MOVED`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from evolve.checks import check_types, matches
from genesis import GenesisError

__all__ = [
    "DIVERSITY",
    "MOVED",
    "ConstrainedParams",
    "EvolutionParams",
    "NoParams",
    "NSGA2Params",
    "ACQUISITIONS",
    "MAX_POOL",
    "MAX_TREES",
    "PredictorParams",
    "RegularizedParams",
    "ScoreParams",
]

#: nsga2's second criterion within a front.
DIVERSITY = ("hypervolume", "crowding")

#: How the predictor strategy ranks its pool: expected hypervolume improvement over (accuracy,
#: MACs), or the best predicted accuracy per MAC bucket.
ACQUISITIONS = ("ehvi", "bucket")

#: Candidates the predictor strategy may screen per proposal window (each is drawn, counted and
#: featurized: about 1.5 ms apiece).
MAX_POOL = 10_000

#: Trees the predictor's random forest may have (a fit costs about 2 ms per tree at 100 rows).
MAX_TREES = 1_000

#: Keys that older configs kept in ``[search]`` and that now belong to strategies.
MOVED = ("target_macs", "penalty", "sample_size", "crossover_prob", "diversity")


@dataclass(frozen=True)
class NoParams:
    """A strategy without parameters of its own (random sampling, a tuning grid)."""


def _check_crossover(owner: str, value: float) -> None:
    if not matches(value, float) or not 0.0 <= value <= 1.0:
        raise GenesisError(f"strategy {owner} crossover_prob must be in [0, 1], got {value}")


def _check_score(owner: str, target: float | None, penalty: float) -> None:
    if target is not None and (
        not matches(target, float) or not math.isfinite(target) or target <= 0
    ):
        raise GenesisError(
            f"strategy {owner} target_macs must be a positive number, got {target!r}"
        )


@dataclass(frozen=True)
class EvolutionParams:
    """Breeding by crossover and mutation (nsga2, constrained)."""

    crossover_prob: float = 0.3  # share of offspring made by crossover (the rest by mutation)

    def __post_init__(self) -> None:
        _check_crossover(self.owner, self.crossover_prob)
        check_types(self, f"strategy {self.owner}")

    owner = "nsga2"


@dataclass(frozen=True)
class NSGA2Params(EvolutionParams):
    """``nsga2``: non-dominated sorting, then hypervolume contribution or crowding distance."""

    diversity: str = "hypervolume"  # second criterion within a front: hypervolume | crowding

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.diversity not in DIVERSITY:
            raise GenesisError(
                f"strategy nsga2 diversity must be one of {', '.join(DIVERSITY)}, got "
                f"{self.diversity!r}"
            )


@dataclass(frozen=True)
class ScoreParams:
    """One score, MnasNet's soft penalty (rl; and regularized, constrained below)."""

    target_macs: float | None = None  # soft target: acc * (macs / target) ** penalty
    penalty: float = -0.07  # the exponent of the soft penalty (MnasNet's w)

    owner = "rl"

    def __post_init__(self) -> None:
        _check_score(self.owner, self.target_macs, self.penalty)
        check_types(self, f"strategy {self.owner}")


@dataclass(frozen=True)
class ConstrainedParams(ScoreParams):
    """``constrained``: the one score, bred as nsga2 breeds."""

    crossover_prob: float = 0.3  # share of offspring made by crossover (the rest by mutation)

    owner = "constrained"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_crossover(self.owner, self.crossover_prob)


@dataclass(frozen=True)
class RegularizedParams(ScoreParams):
    """``regularized``: aging evolution on the one score."""

    sample_size: int = 3  # tournament size S

    owner = "regularized"

    def __post_init__(self) -> None:
        super().__post_init__()
        if (
            isinstance(self.sample_size, bool)
            or not isinstance(self.sample_size, int)
            or (self.sample_size < 1)
        ):
            raise GenesisError(
                f"strategy regularized sample_size must be a positive integer, got "
                f"{self.sample_size!r}"
            )


@dataclass(frozen=True)
class PredictorParams:
    """``predictor``: a random forest on the run's own evaluations screens a pool of candidates."""

    pool_size: int = 200  # candidates drawn and ranked per proposal window
    mutation_share: float = 0.5  # share of the pool mutated from the front (the rest sampled)
    acquisition: str = "ehvi"  # how the pool is ranked: ehvi | bucket
    min_evals: int = 10  # evaluations before the predictor may be trusted
    trees: int = 100  # trees of the random forest
    gate: bool = True  # trust it only once its held-out tau beats that of MACs alone

    def __post_init__(self) -> None:
        check_types(self, "strategy predictor")
        for name, low, cap, cap_name in (
            ("pool_size", 1, MAX_POOL, "MAX_POOL"),
            ("min_evals", 2, None, None),
            ("trees", 1, MAX_TREES, "MAX_TREES"),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise GenesisError(
                    f"strategy predictor {name} must be an integer >= {low}, got {value!r}"
                )
            if cap is not None and value > cap:
                raise GenesisError(
                    f"strategy predictor {name} is {value}; the cap is {cap_name} = {cap}"
                )
        share = self.mutation_share
        if not matches(share, float) or not 0.0 <= share <= 1.0:
            raise GenesisError(
                f"strategy predictor mutation_share must be in [0, 1], got {share!r}"
            )
        if self.acquisition not in ACQUISITIONS:
            raise GenesisError(
                f"strategy predictor acquisition must be one of {', '.join(ACQUISITIONS)}, got "
                f"{self.acquisition!r}"
            )
