"""The strategy protocol, its registry, and the parts evolutionary strategies share.

A strategy answers five questions the search loop asks (:class:`Strategy`): how many
candidates to train this generation and where they come from (:meth:`~Strategy.propose`),
how a record scores (:meth:`~Strategy.score`), who survives (:meth:`~Strategy.select`), what
it learns from a generation (:meth:`~Strategy.learn`), and what of it goes into the checkpoint
(:meth:`~Strategy.get_state` / :meth:`~Strategy.set_state`). Every draw comes from the run's
seeded generator, handed in; strategies keep no global state.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from deap import base

from evolve.fitness import Individual, make_fitness_class
from evolve.strategies.params import NoParams
from genesis import Architecture
from genesis.runfolder import objectives
from graphs.registry import Registry

if TYPE_CHECKING:  # pragma: no cover
    from evolve.config import EvolveConfig, SearchConfig

__all__ = [
    "Evolutionary",
    "Proposal",
    "Strategy",
    "get_strategy",
    "register_strategy",
    "strategy_names",
]

#: What a search may search: architectures (``genesis evolve``) or the hyperparameters of one
#: fixed architecture (``genesis tune``).
SPACES = ("architectures", "hyperparameters")

_REGISTRY: Registry[type[Strategy]] = Registry(
    "strategy", "search strategy must be one of {known}, got {name}"
)


@dataclass
class Proposal:
    """A candidate a strategy proposes: the architecture, where it came from, and a tag the
    strategy gets back in :meth:`Strategy.learn` (the rl controller's decisions)."""

    arch: Architecture
    parents: tuple[str, ...] = ()  # hashes of its parents
    origin: str = "sample"  # sample | mutation | crossover | controller | grid | init
    tag: Any = None


class Strategy:
    """The protocol the search loop talks to; subclasses register with
    :func:`register_strategy`.

    Parameters
    ----------
    cfg : EvolveConfig
        The run's configuration.
    space : SearchSpace or HyperSpace
        What candidates are drawn from and varied in.
    """

    name: ClassVar[str] = ""
    #: What it searches (a subset of :data:`SPACES`).
    spaces: ClassVar[tuple[str, ...]] = ("architectures",)
    #: Whether its fitness is one score (accuracy under a budget) rather than the Pareto
    #: objectives (accuracy, *search.objective).
    scalar: ClassVar[bool] = False
    #: Its own parameters (``[strategy.<name>]``), a frozen dataclass (evolve.strategies.params).
    Params: ClassVar[type] = NoParams

    def __init__(self, cfg: EvolveConfig, space: Any):
        self.cfg = cfg
        self.space = space
        self.params = cfg.strategy.get(self.name, self.Params())  # [strategy.<name>]
        #: DEAP fitness weights: accuracy maximised, each cost minimised (or the one score)
        self.weights = self.fitness_weights(cfg.search)
        self.fitness_cls: type[base.Fitness] = make_fitness_class(self.weights)

    @classmethod
    def fitness_weights(cls, search: SearchConfig) -> tuple[float, ...]:
        """DEAP weights of the fitness: ``(1.0,)`` for one score, else accuracy up and each
        cost of ``search.objective`` down, e.g. ``(1.0, -1.0)`` for (accuracy, MACs)."""
        return (1.0,) if cls.scalar else (1.0,) + (-1.0,) * len(search.objective)

    # -- configuration rules ---------------------------------------------------------------------
    @classmethod
    def check(cls, cfg: EvolveConfig) -> None:
        """Raise :class:`GenesisError` when the run's config does not suit this strategy
        (its parameters are in ``cfg.strategy[cls.name]``)."""

    # -- the protocol ----------------------------------------------------------------------------
    def batch_size(self, gen: int) -> int:
        """How many new candidates make window (generation) ``gen``; the loop starts them as
        workers come free, and calls :meth:`learn` when all are back."""
        return self.cfg.search.population

    def propose(
        self, gen: int, population: list[Individual], rng: random.Random
    ) -> Iterator[Proposal]:
        """Candidates for generation ``gen``, drawn from ``rng`` as the loop pulls them (it
        pulls more when one is a duplicate or over a budget); ends when the space is spent."""
        raise NotImplementedError

    def score(self, result: dict[str, Any]) -> tuple[float, ...]:
        """The fitness values of an evaluation record: (accuracy, *costs of the objective)."""
        costs = self.cfg.search.objective
        if result.get("status") != "ok":  # dominated by every working candidate, cheap or not
            return (0.0, *(float("inf") for _ in costs))
        return objectives(result, costs)

    def select(
        self, gen: int, population: list[Individual], new: list[Individual]
    ) -> list[Individual]:
        """The population once ``new`` (usually one candidate, as it arrives) has joined."""
        return population + new

    def learn(self, trained: list[Any], skipped: list[Any]) -> str | None:
        """Take a generation's results: ``trained`` holds (tag, record) of every evaluated
        candidate, ``skipped`` the tags of draws over a budget. Returns a line to log, or None."""
        return None

    def get_state(self) -> dict[str, Any]:
        """What the checkpoint keeps of the strategy (plain data and tensors)."""
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`get_state`'s output."""


def register_strategy(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator: make ``cls`` known by ``cls.name``."""
    assert cls.name and set(cls.spaces) <= set(SPACES), cls
    return _REGISTRY.register(cls.name, cls)


def strategy_names(space: str | None = None) -> tuple[str, ...]:
    """Registered strategies, in registration order; only those searching ``space`` if given."""
    return tuple(n for n, c in _REGISTRY.items() if space is None or space in c.spaces)


def get_strategy(name: str) -> type[Strategy]:
    """The strategy class registered as ``name``; raises listing the known ones."""
    return _REGISTRY.get(name)


class Evolutionary(Strategy):
    """Shared by nsga2, constrained and regularized: a sampled first generation, then
    steady-state: offspring by crossover and mutation of tournament-chosen parents, one per
    worker at a time, each going through the survivor rule as it arrives."""

    def batch_size(self, gen: int) -> int:
        return self.cfg.search.population if gen == 0 else max(1, self.cfg.execution.workers)

    def propose(
        self, gen: int, population: list[Individual], rng: random.Random
    ) -> Iterator[Proposal]:
        if gen == 0:
            while True:
                yield Proposal(self.space.sample(rng))
        parents = self.parents(population, rng)
        while True:
            yield self.offspring(parents, rng)

    def parents(self, population: list[Individual], rng: random.Random) -> list[Individual]:
        """Tournaments of three on fitness, one parent per member of the population."""
        return [
            max(rng.sample(population, min(3, len(population))), key=lambda i: i.fitness.values)
            for _ in range(len(population))
        ]

    def offspring(self, parents: list[Individual], rng: random.Random) -> Proposal:
        """A child of two parents (crossover, then maybe a mutation) or a mutant of one."""
        a, b = rng.choice(parents), rng.choice(parents)
        if rng.random() < self.params.crossover_prob and a is not b:
            x, y = self.space.crossover(a.arch, b.arch, rng)
            pick = x if rng.random() < 0.5 else y
            arch = self.space.mutate(pick, rng) if rng.random() < 0.5 else pick
            return Proposal(arch, (a.hash, b.hash), "crossover")
        return Proposal(self.space.mutate(a.arch, rng), (a.hash,), "mutation")

    def select(
        self, gen: int, population: list[Individual], new: list[Individual]
    ) -> list[Individual]:
        """The population filled first; once full, the survivor rule decides."""
        merged = population + new
        if len(merged) <= self.cfg.search.population:
            return merged
        return self.survivors(merged)

    def survivors(self, merged: list[Individual]) -> list[Individual]:
        """Who of the old population and its offspring stays."""
        raise NotImplementedError
