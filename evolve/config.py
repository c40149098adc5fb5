"""Configuration of a search: one frozen dataclass per concern, read from TOML and flags.

A TOML file has one table per concern, each key a field of its dataclass::

    [search]
    strategy = "nsga2"
    population = 8
    [space]
    channels = [8, 12, 16]
    [proxy]
    subset = 4000
    [final]
    top_k = 3
    [execution]
    workers = 2

Flags given on the command line override the file. All validation lives in the
``__post_init__`` of each dataclass: the rules of each field, its declared type
(:func:`evolve.checks.check_types`) and the caps below (:data:`MAX_POPULATION`,
:data:`MAX_EVALUATIONS`, :data:`MAX_WORKERS_PER_CPU`, :data:`MAX_WORKERS`,
:data:`MAX_WORKERS_PER_GPU`), so a bad config is refused before a run folder exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar

from evolve.checks import check_types
from evolve.configfile import build_section, dump_config, implied, read_toml
from evolve.execution import (
    MAX_WORKERS,
    MAX_WORKERS_PER_CPU,
    MAX_WORKERS_PER_GPU,
    ExecutionConfig,
    cpu_count,
)
from evolve.numbers import positive
from evolve.space import SpaceConfig
from evolve.trainings import FinalConfig, ProxyConfig
from evolve.tune import TuneConfig
from genesis import GenesisError

__all__ = [
    "MAX_POPULATION",
    "MAX_EVALUATIONS",
    "MAX_WORKERS",
    "MAX_WORKERS_PER_CPU",
    "MAX_WORKERS_PER_GPU",
    "cpu_count",
    "SearchConfig",
    "ProxyConfig",
    "FinalConfig",
    "ExecutionConfig",
    "EvolveConfig",
    "check_proxy_data",
    "load_config",
    "dump_config",
]


# -- limits: checked when a config is built, before a run folder exists --------------------------
#: Most individuals a population may hold (every one is drawn, hashed and kept in memory).
MAX_POPULATION = 1000

#: Costs a search can measure beside MACs and params (genesis.cost).
COSTS = ("memory", "latency")

#: Most architectures a warm start may seed a search with.
MAX_INIT = 1000

#: Most trained evaluations a search may ask for: ``budget_evals``, or else
#: ``population * (generations + 1)``.
MAX_EVALUATIONS = 100_000


@dataclass(frozen=True)
class SearchConfig:
    """The search strategy and its budget."""

    strategy: str = "nsga2"  # a registered strategy (evolve.strategies.strategy_names())
    population: int = 6  # individuals kept (regularized: the aging population)
    generations: int = 2  # generations after the initial population
    budget_evals: int | None = None  # candidates trained; default population * (generations + 1)
    # compute: epoch-equivalents of the proxy's training subset, over every rung (a candidate
    # trained to rung r costs proxy.rungs[r] of it); when set, it bounds the search instead of
    # budget_evals, so strategies, multi-fidelity or not, compare at equal compute
    budget: float | None = None
    # hard budgets: a candidate above either is never trained (the defaults suit a 2-core CPU:
    # the final step's cost grows with MACs; 100k parameters is the "small network")
    max_macs: float | None = 3e6
    max_params: int | None = 100_000
    # measured costs (genesis.cost), each kept in the records when asked for: peak inference
    # memory at batch 1 (activations + parameters, KiB; checked before training, like MACs) and
    # latency on the run's device (ms at batch 1, and at latency_batch; measured by the worker
    # before it trains: a candidate over the cap is not trained, status over_cap)
    max_memory_kb: float | None = None
    max_latency_ms: float | None = None
    measure: tuple[str, ...] = ()  # costs to measure without a cap: "memory", "latency"
    latency_batch: int = 64
    # the costs minimised beside validation accuracy (genesis.runfolder.OBJECTIVES): "macs",
    # "latency", "memory", or several, e.g. ["latency", "memory"] (nsga2: three objectives);
    # each measured cost is measured for every candidate. The front, the hypervolume and
    # nsga2's selection are over (accuracy, *objective)
    objective: tuple[str, ...] = ("macs",)
    # hypervolume reference point: accuracy 0 and, of each cost, its reference value
    ref_macs: float = 20e6
    ref_memory_kb: float = 2048.0  # KiB of peak inference memory at batch 1
    ref_latency_ms: float = 20.0  # ms at batch 1 on the run's device
    # wall-clock seconds of the search: no job starts that would, at the pace of those so far,
    # end past it (then the final step runs); None: no limit. The default leaves the 10-minute
    # main job on 2 CPU cores its final step
    seconds: float | None = 180.0
    seed: int = 0  # seeds everything the search draws
    # warm start: hashes of architectures in the run folder (architectures/H.json, copied there
    # by --init / --init-run) that open the first generation, before any sampled candidate;
    # each is a candidate like any other (cached, skipped over a cap, counted in the budget)
    init: tuple[str, ...] = ()

    #: Keys of earlier versions read under their new names (a run folder's old config.toml).
    RENAMED: ClassVar[dict[str, str]] = {"time_budget": "seconds"}

    def __post_init__(self) -> None:
        from evolve.strategies import get_strategy

        get_strategy(self.strategy)  # an unknown name raises, listing the known ones
        positive("search", "population", self.population)
        if self.population < 2:
            raise GenesisError(f"search population must be at least 2, got {self.population}")
        if (
            isinstance(self.generations, bool)
            or not isinstance(self.generations, int)
            or (self.generations < 0)
        ):
            raise GenesisError(
                f"search generations must be an integer >= 0, got {self.generations!r}"
            )
        if self.population > MAX_POPULATION:
            raise GenesisError(
                f"search population is {self.population}; the cap is MAX_POPULATION = "
                f"{MAX_POPULATION}"
            )
        positive("search", "budget_evals", self.budget_evals, allow_none=True)
        positive("search", "budget", self.budget, integer=False, allow_none=True)
        positive("search", "max_macs", self.max_macs, integer=False, allow_none=True)
        positive("search", "max_params", self.max_params, allow_none=True)
        positive("search", "max_memory_kb", self.max_memory_kb, integer=False, allow_none=True)
        positive("search", "max_latency_ms", self.max_latency_ms, integer=False, allow_none=True)
        positive("search", "latency_batch", self.latency_batch)
        if not isinstance(self.measure, (tuple, list)) or not set(self.measure) <= set(COSTS):
            raise GenesisError(
                f"search measure must list costs of {list(COSTS)}, got {self.measure!r}"
            )
        object.__setattr__(self, "measure", tuple(self.measure))
        positive("search", "seconds", self.seconds, integer=False, allow_none=True)
        positive("search", "ref_macs", self.ref_macs, integer=False)
        positive("search", "ref_memory_kb", self.ref_memory_kb, integer=False)
        positive("search", "ref_latency_ms", self.ref_latency_ms, integer=False)
        from genesis.runfolder import OBJECTIVES

        if (
            not isinstance(self.objective, (tuple, list))
            or not self.objective
            or not all(isinstance(c, str) and c in OBJECTIVES for c in self.objective)
            or len(set(self.objective)) < len(self.objective)
        ):
            raise GenesisError(
                f"search objective must list distinct costs of {', '.join(OBJECTIVES)}, got "
                f"{self.objective!r}"
            )
        object.__setattr__(self, "objective", tuple(self.objective))
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise GenesisError(f"search seed must be an integer, got {self.seed!r}")
        from genesis.runfolder import is_hash

        if not isinstance(self.init, (tuple, list)) or not all(is_hash(h) for h in self.init):
            raise GenesisError(
                f"search init must be a list of architecture hashes, got {self.init!r}"
            )
        object.__setattr__(self, "init", tuple(self.init))
        if len(self.init) > self.population:
            raise GenesisError(
                f"search init holds {len(self.init)} architectures, more than the first "
                f"generation (population {self.population}) takes"
            )
        if len(self.init) > MAX_INIT:
            raise GenesisError(
                f"search init holds {len(self.init)} architectures; the cap is MAX_INIT = "
                f"{MAX_INIT}"
            )
        check_types(self, "search")  # e.g. ref_macs, a finite number
        if self.evaluations > MAX_EVALUATIONS:
            what = "budget_evals" if self.budget_evals else "population x (generations + 1)"
            raise GenesisError(
                f"search {what} is {self.evaluations} evaluations; the cap is MAX_EVALUATIONS "
                f"= {MAX_EVALUATIONS}"
            )

    def measures(self, cost: str) -> bool:
        """Whether the search measures ``cost`` (it is capped, asked for, or an objective)."""
        cap = {"memory": self.max_memory_kb, "latency": self.max_latency_ms}[cost]
        return cap is not None or cost in self.measure or cost in self.objective

    @property
    def refs(self) -> tuple[float, ...]:
        """The hypervolume reference of each cost of :attr:`objective`, in its order."""
        ref = {"macs": self.ref_macs, "memory": self.ref_memory_kb, "latency": self.ref_latency_ms}
        return tuple(ref[c] for c in self.objective)

    @property
    def evaluations(self) -> int:
        """The count budget: how many candidates are trained (without a compute ``budget``)."""
        return self.budget_evals or self.population * (self.generations + 1)


@dataclass(frozen=True)
class EvolveConfig:
    """Everything a search needs."""

    search: SearchConfig = field(default_factory=SearchConfig)
    space: SpaceConfig = field(default_factory=SpaceConfig)
    proxy: ProxyConfig = field(default_factory=ProxyConfig)
    final: FinalConfig = field(default_factory=FinalConfig)
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
    tune: TuneConfig = field(default_factory=TuneConfig)
    # each strategy's own parameters ([strategy.<name>] tables): name -> its Params instance
    strategy: dict[str, Any] = field(default_factory=lambda: strategy_params({}))

    def __post_init__(self) -> None:
        from evolve.strategies import get_strategy, strategy_names

        name = self.search.strategy
        cls = get_strategy(name)
        spaces = cls.spaces
        if self.tune.architecture and "hyperparameters" not in spaces:
            methods = " or ".join(sorted(strategy_names("hyperparameters")))
            raise GenesisError(f"tuning hyperparameters takes method {methods}, got {name!r}")
        if not self.tune.architecture and "architectures" not in spaces:
            raise GenesisError(f"strategy {name} searches hyperparameters: use genesis tune")
        object.__setattr__(self, "strategy", strategy_params(self.strategy))
        cls.check(self)  # the strategy's own rules, across sections

    @property
    def params(self) -> Any:
        """The parameters of the run's strategy (``[strategy.<search.strategy>]``)."""
        from evolve.strategies.params import NoParams

        return self.strategy.get(self.search.strategy, NoParams())

    def with_overrides(self, **sections: dict[str, Any]) -> EvolveConfig:
        """A copy with some fields of some sections replaced (``None`` values are ignored).
        ``strategy`` takes plain keys, given to every strategy whose parameters have them."""
        changed: dict[str, Any] = {}
        for name, values in sections.items():
            values = {k: v for k, v in values.items() if v is not None}
            if not values:
                continue
            if name == "strategy":
                changed[name] = strategy_params(self.strategy, spread=values)
                continue
            kind = type(getattr(self, name))
            values = {**implied(kind, values), **values}
            changed[name] = build_section(kind, name, {**asdict(getattr(self, name)), **values})
        return replace(self, **changed)

    def to_toml(self) -> str:
        """TOML text that :func:`load_config` reads back to an equal config."""
        return dump_config(self)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Plain data, one table per section (``strategy``: one table per strategy)."""
        out = {f.name: asdict(getattr(self, f.name)) for f in fields(self) if f.name != "strategy"}
        out["strategy"] = {k: asdict(v) for k, v in self.strategy.items()}
        return out

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], source: str = "config", base: EvolveConfig | None = None
    ) -> EvolveConfig:
        """Build from tables (unknown tables or keys are errors); a key a table lacks takes
        its value from ``base`` (default: the dataclasses' defaults, the main job's). Strategy
        knobs an older config kept in ``[search]`` go to the strategies that have them."""
        from evolve.strategies.params import MOVED

        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            hint = " (a study's config: use genesis study)" if "study" in unknown else ""
            raise GenesisError(
                f"{source}: unknown table(s) {unknown}; known: {sorted(known)}{hint}"
            )
        base = base if base is not None else cls()
        data = dict(data)
        search = data.get("search", {})
        moved = {}
        if isinstance(search, dict):
            moved = {k: search[k] for k in MOVED if k in search}
            data["search"] = {k: v for k, v in search.items() if k not in moved}
        parts: dict[str, Any] = {}
        for f in fields(cls):
            table = data.get(f.name, {})
            if not isinstance(table, dict):
                raise GenesisError(f"{source}: [{f.name}] must be a table")
            if f.name == "strategy":
                tables = strategy_params(base.strategy, table, f"{source} [strategy")
                parts[f.name] = strategy_params(tables, spread=moved)
                continue
            section = getattr(base, f.name)
            values = {**asdict(section), **implied(type(section), table), **table}
            parts[f.name] = build_section(type(section), f"{source} [{f.name}]", values)
        return cls(**parts)


def strategy_params(
    current: dict[str, Any],
    tables: dict[str, Any] | None = None,
    where: str = "[strategy",
    spread: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every registered strategy's parameters: ``current``'s, with ``tables`` (strategy ->
    table of keys) and ``spread`` (keys given to every strategy whose parameters have them)
    applied. Unknown strategies and keys are errors."""
    from evolve.strategies import get_strategy, strategy_names

    out = {}
    tables = tables or {}
    unknown = sorted(set(tables) - set(strategy_names()))
    if unknown:
        raise GenesisError(
            f"{where}]: unknown strategy table(s) {unknown}; known: {list(strategy_names())}"
        )
    for name in strategy_names():
        kind = get_strategy(name).Params
        names = {f.name for f in fields(kind)}
        if not names:
            continue
        old = current.get(name)
        values = asdict(old) if isinstance(old, kind) else dict(old or {})
        values.update({k: v for k, v in (spread or {}).items() if k in names})
        table = tables.get(name, {})
        if not isinstance(table, dict):
            raise GenesisError(f"{where}.{name}] must be a table")
        values.update(table)
        out[name] = build_section(kind, f"{where}.{name}]", values)
    return out


def load_config(
    path: str | Path,
    overrides: dict[str, dict[str, Any]] | None = None,
    kind: type | None = None,
    base: Any = None,
) -> Any:
    """Read a TOML config; raises :class:`GenesisError` naming the file for any problem.

    ``kind`` is the config class whose ``from_dict`` builds it: :class:`EvolveConfig` (a
    search, the default) or :class:`evolve.studyconfig.StudyRunConfig` (a study). ``base`` gives the
    values of the keys the file lacks (a search's: default :class:`EvolveConfig`'s; a run
    folder's own config: :func:`run_base`).

    ``overrides`` (section -> field -> value, None values ignored) replace the file's values
    before anything is checked: a run resumed with ``--workers 2`` on a machine with fewer CPUs
    than the one that started it is checked with 2 workers, not the file's.
    """
    path = Path(path)
    data = read_toml(path, overrides)
    try:
        if base is not None:
            return (kind or EvolveConfig).from_dict(data, source=str(path), base=base)
        return (kind or EvolveConfig).from_dict(data, source=str(path))
    except GenesisError as exc:
        if str(path) in str(exc):
            raise
        raise GenesisError(f"config file {str(path)!r}: {exc}") from None


def check_proxy_data(
    cfg: EvolveConfig,
    input_shape: Sequence[int] | None = None,
    num_classes: int | None = None,
) -> None:
    """Check that the proxy's dataset fits the architectures, before a run folder exists.

    Parameters
    ----------
    cfg : EvolveConfig
        The run's config: its ``proxy.dataset`` is loaded, its ``space.preset`` gives the shape
        and the classes; ``proxy.val_size`` and ``proxy.holdout`` must fit its training set.
    input_shape : sequence of int, optional
        The shape the architectures take (``C, H, W``); default: the preset's input shape
        (a tuning run passes its fixed architecture's).
    num_classes : int, optional
        The architectures' outputs; default: the space's (``space.classes``, or the preset's).

    Raises
    ------
    GenesisError
        When the dataset cannot be loaded, or does not fit (:func:`genesis.data.check_fits`:
        its shape, its classes unless ``proxy.allow_class_mismatch``, the validation split).

    Notes
    -----
    Nothing is checked with ``proxy.fitness = "synthetic"`` (it reads no data); with
    ``"lookup"``, the recorded table is read and must answer at every rung. Otherwise this
    loads the dataset (:func:`genesis.data.load_dataset`), which costs one read of its files.

    Examples
    --------
    >>> check_proxy_data(EvolveConfig(proxy=ProxyConfig(fitness="synthetic")))
    >>> cfg = EvolveConfig(proxy=ProxyConfig(dataset="synthetic:3x32x32"))
    >>> try:
    ...     check_proxy_data(cfg)
    ... except GenesisError as exc:
    ...     print(str(exc).endswith("each network expects (1, 28, 28)"))
    True
    """
    if cfg.proxy.fitness == "synthetic":
        return
    if cfg.proxy.fitness == "lookup":
        from evolve.lookup import check_lookup

        return check_lookup(cfg.proxy)
    from genesis.data import check_fits, load_dataset
    from genesis.presets import get_preset

    preset = get_preset(cfg.space.preset)
    check_fits(
        load_dataset(cfg.proxy.dataset, cfg.proxy.resolution),
        tuple(input_shape or preset.input_shape),
        num_classes or cfg.space.num_classes,
        val_size=cfg.proxy.val_size,
        holdout=cfg.proxy.holdout,
        allow_class_mismatch=cfg.proxy.allow_class_mismatch,
    )
