"""The graph-family registry: every family's generator, defaults, sampling ranges and choices.

One :class:`Family` per name holds all that the rest of genesis needs to know about a family of
random stage graphs, so a new family is one :func:`register_family` call:

- the generator ``(n, seed=, op=, **params) -> stage DAG`` (:mod:`graphs.generators`);
- ``defaults``: RandWire's best parameters, the CLI's ``genesis generate`` defaults;
- ``ranges``: how the search space draws parameters valid for ``n`` nodes
  (:meth:`Family.sample`);
- ``choices``: the discrete values the ``rl`` controller offers for each parameter, and
  :meth:`Family.fit`, which makes its picks valid for the ``n`` it picked;
- ``min_nodes``: the fewest compute nodes the family can wire (Watts–Strogatz needs 3).

:func:`random_dag` dispatches on a registered name or ``"nx:<networkx generator>"``
(:func:`graphs.generators.from_networkx`). Pure Python, networkx and numpy: never torch.
"""

from __future__ import annotations

import inspect
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import networkx as nx

from graphs import limits
from graphs.dag import DEFAULT_OP
from graphs.errors import GenesisError
from graphs.generators import (
    _nx_generator,
    barabasi_albert,
    erdos_renyi,
    from_networkx,
    watts_strogatz,
)
from graphs.registry import Registry

__all__ = [
    "FAMILIES",
    "EvenBelow",
    "Family",
    "IntBelow",
    "ParamRange",
    "Uniform",
    "family_names",
    "get_family",
    "random_dag",
    "register_family",
    "unregister_family",
]


class ParamRange(Protocol):
    """How the search draws one parameter for ``n`` nodes, and how a value is fitted to ``n``."""

    def draw(self, rng: random.Random, n: int) -> Any:
        """A value valid for ``n`` nodes, drawn from ``rng``."""

    def clip(self, value: Any, n: int) -> Any:
        """``value`` made valid for ``n`` nodes (a controller pick made before ``n`` was)."""


@dataclass(frozen=True)
class Uniform:
    """A float drawn uniformly from ``[low, high]``, rounded to ``digits`` decimals."""

    low: float  # smallest value
    high: float  # largest value
    digits: int = 3  # decimals kept

    def draw(self, rng: random.Random, n: int) -> float:
        """``round(rng.uniform(low, high), digits)``; one draw."""
        return round(rng.uniform(self.low, self.high), self.digits)

    def clip(self, value: float, n: int) -> float:
        """Any value fits any ``n``."""
        return value


@dataclass(frozen=True)
class EvenBelow:
    """An even integer ``low <= k < n``, among the ``count`` smallest (WS ring degree)."""

    low: int = 2  # smallest value
    count: int = 3  # how many of the smallest even values below n may be drawn

    def draw(self, rng: random.Random, n: int) -> int:
        """One of the ``count`` smallest even values in ``[low, n)`` (``low`` if there is none)."""
        values = list(range(self.low, n, 2)) or [self.low]
        return rng.choice(values[: self.count])

    def clip(self, value: int, n: int) -> int:
        """The largest even value ``<= value`` and ``< n``, at least ``low``."""
        return max(self.low, min(value, n - 1 - (n - 1) % 2) if n > 2 else self.low)


@dataclass(frozen=True)
class IntBelow:
    """An integer ``low <= m <= min(high, n - 1)`` (BA edges per arriving node)."""

    low: int = 1  # smallest value
    high: int = 5  # largest value, whatever n

    def draw(self, rng: random.Random, n: int) -> int:
        """``rng.randint(low, max(low, min(high, n - 1)))``; one draw."""
        return rng.randint(self.low, max(self.low, min(self.high, n - 1)))

    def clip(self, value: int, n: int) -> int:
        """``value`` lowered to ``n - 1`` (never below ``low``)."""
        return max(self.low, min(value, n - 1))


@dataclass(frozen=True)
class Family:
    """A registered family of random stage graphs and everything genesis reads about it."""

    name: str  # registry key: the CLI's FAMILY, config files' [space] families, stage origins
    generator: Callable[..., nx.DiGraph]  # (n, seed=None, op=..., **params) -> stage DAG
    defaults: Mapping[str, Any] = field(
        default_factory=dict
    )  # the CLI's defaults (RandWire's best)
    ranges: Mapping[str, ParamRange] = field(default_factory=dict)  # the search's draws, in order
    choices: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)  # the rl controller's
    min_nodes: int = 2  # fewest compute nodes the family can wire
    search: bool = True  # in the search space's default families
    description: str = ""  # one line for listings

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip() or self.name.startswith("nx:"):
            raise GenesisError(
                f"a family name must be a non-empty string not starting with 'nx:', got "
                f"{self.name!r}"
            )
        if not callable(self.generator):
            raise GenesisError(f"family {self.name!r} needs a callable generator")
        if isinstance(self.min_nodes, bool) or not isinstance(self.min_nodes, int):
            raise GenesisError(f"family {self.name!r} min_nodes must be an integer")
        if self.min_nodes < 2:
            raise GenesisError(f"family {self.name!r} min_nodes must be >= 2, got {self.min_nodes}")
        stray = sorted(set(self.choices) - set(self.ranges))
        if stray:
            raise GenesisError(
                f"family {self.name!r} offers controller choices {stray} without a range"
            )
        for key, values in self.choices.items():
            if not values:
                raise GenesisError(f"family {self.name!r} choices for {key} must be non-empty")

    def sample(self, rng: random.Random, n: int) -> dict[str, Any]:
        """Parameters valid for ``n`` nodes, one draw per range in order (the search space's).

        Examples
        --------
        >>> get_family("ws").sample(random.Random(0), 8)
        {'k': 4, 'p': 0.758}
        """
        return {key: r.draw(rng, n) for key, r in self.ranges.items()}

    def fit(self, params: Mapping[str, Any], n: int) -> tuple[dict[str, Any], int]:
        """``params`` and ``n`` made valid together: ``n`` raised to ``min_nodes``, then every
        parameter clipped by its range (the ``rl`` controller picks them independently).

        Examples
        --------
        >>> get_family("ws").fit({"k": 6, "p": 0.5}, 4)
        ({'k': 2, 'p': 0.5}, 4)
        """
        n = max(n, self.min_nodes)
        fitted = {
            key: self.ranges[key].clip(value, n) if key in self.ranges else value
            for key, value in params.items()
        }
        return fitted, n


#: Family name -> :class:`Family`, in registration order. Extend it with :func:`register_family`.
_REGISTRY: Registry[Family] = Registry(
    "graph family", "unknown graph family {name}; known: {known}, nx:<name>", sort=True
)

#: Family name -> its generator (kept for callers of the plain dict; filled by the registry).
FAMILIES: dict[str, Callable[..., nx.DiGraph]] = {}


def register_family(family: Family) -> Family:
    """Add ``family`` to the registry under its name (replacing one of the same name).

    Parameters
    ----------
    family : Family
        The generator with its defaults, sampling ranges and controller choices.

    Returns
    -------
    Family
        ``family`` itself.

    Examples
    --------
    >>> import networkx as nx
    >>> from graphs import to_dag
    >>> ring = register_family(
    ...     Family("ring", lambda n, seed=None, op="sep_conv_3x3": to_dag(nx.cycle_graph(n), op=op))
    ... )
    >>> "ring" in family_names(), random_dag("ring", 5).number_of_edges()
    (True, 7)
    >>> unregister_family("ring")
    """
    _REGISTRY.register(family.name, family)
    FAMILIES[family.name] = family.generator
    return family


def unregister_family(name: str) -> None:
    """Remove family ``name`` (tests that register their own); unknown names raise."""
    _REGISTRY.unregister(name)
    del FAMILIES[name]


def get_family(name: str) -> Family:
    """The registered family ``name``; raises :class:`GenesisError` listing the known ones."""
    return _REGISTRY.get(name)


def family_names() -> list[str]:
    """Registered family names in registration order (the order of the controller's slots)."""
    return list(_REGISTRY)  # registration order, whatever the messages' sorting


def random_dag(family: str, n: int, seed=None, op: str = DEFAULT_OP, **params: Any) -> nx.DiGraph:
    """Stage DAG of ``n`` compute nodes from a family name and its parameters.

    ``family`` is a registered name (``"er"`` with params ``p``, ``"ws"`` with ``k``, ``p``,
    ``"ba"`` with ``m`` and optional ``initial``, or one added by :func:`register_family`) or
    ``"nx:<generator>"`` (the generator's keywords; ``n`` is passed as its ``n`` when it takes
    one).

    Raises
    ------
    GenesisError
        For an unknown family, parameters the family does not take or lacks, non-finite values,
        ``n`` past :data:`graphs.limits.MAX_NODES`, and whatever the generator refuses.

    Examples
    --------
    >>> G = random_dag("ws", 16, k=4, p=0.75, seed=3)
    >>> G.number_of_nodes()
    18
    """
    if isinstance(n, int) and not isinstance(n, bool) and n > limits.MAX_NODES:
        raise GenesisError(f"a stage of n={n} nodes is past the cap MAX_NODES = {limits.MAX_NODES}")
    if isinstance(family, str) and family.startswith("nx:"):
        name = family[3:]
        func = _nx_generator(name)
        kwargs = dict(params)
        if "n" in inspect.signature(func).parameters and "n" not in kwargs:
            kwargs["n"] = n
        return from_networkx(name, seed=seed, op=op, **kwargs)
    gen = get_family(family).generator
    signature = inspect.signature(gen).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.values())
    allowed = {
        p for p, spec in signature.items() if spec.kind is not inspect.Parameter.VAR_KEYWORD
    } - {"n", "seed", "op"}
    unknown = sorted(set(params) - allowed)
    if unknown and not takes_any:
        raise GenesisError(
            f"family {family!r} takes parameters {sorted(allowed)}, got unknown {unknown}"
        )
    missing = sorted(
        p
        for p, spec in signature.items()
        if p not in ("n", "seed", "op")
        and spec.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
        and spec.default is inspect.Parameter.empty
        and p not in params
    )
    if missing:
        raise GenesisError(f"family {family!r} needs parameters {missing}")
    for key, value in params.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise GenesisError(f"family {family!r} parameter {key} must be finite, got {value}")
    return gen(n, seed=seed, op=op, **params)


register_family(
    Family(
        "er",
        erdos_renyi,
        defaults={"p": 0.2},
        ranges={"p": Uniform(0.1, 0.6)},
        choices={"p": (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)},
        description="Erdős–Rényi G(n, p)",
    )
)
register_family(
    Family(
        "ws",
        watts_strogatz,
        defaults={"k": 4, "p": 0.75},
        ranges={"k": EvenBelow(2, 3), "p": Uniform(0.0, 1.0)},
        choices={"k": (2, 4, 6), "p": (0.0, 0.25, 0.5, 0.75, 1.0)},
        min_nodes=3,  # an even ring degree 2 <= k < n
        description="Watts–Strogatz small world (even k < n)",
    )
)
register_family(
    Family(
        "ba",
        barabasi_albert,
        defaults={"m": 5},
        ranges={"m": IntBelow(1, 5)},
        choices={"m": (1, 2, 3, 4, 5)},
        description="Barabási–Albert preferential attachment (m < n)",
    )
)
