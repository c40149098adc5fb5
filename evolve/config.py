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

import json
import math
import os
import re
import sys
import typing
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar

from evolve.checks import check_types, describe_type, matches
from evolve.space import SpaceConfig
from evolve.tune import TuneConfig
from genesis import GenesisError
from genesis.limits import read_text_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "DIVERSITY",
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
    "run_base",
    "dump_config",
]

#: How a TOML file spells None (TOML has no null), e.g. ``subset = "none"`` for all examples.
NONE = "none"

#: nsga2's second criterion after Pareto rank: each member's exclusive hypervolume contribution
#: against the run's reference point (SMS-EMOA), or DEAP's crowding distance (classic NSGA-II).
DIVERSITY = ("hypervolume", "crowding")

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

#: Parallel evaluations per CPU of this machine (``execution.workers`` above
#: ``cpu_count() * MAX_WORKERS_PER_CPU`` needs ``execution.force_workers = true``, or the flag
#: ``--force-workers``, e.g. for a ray cluster larger than this machine).
MAX_WORKERS_PER_CPU = 4

#: Most parallel evaluations, forced or not.
MAX_WORKERS = 1024

#: How the final step's learning rate follows its batch size (``final.lr_scaling``).
LR_SCALINGS = ("auto", "linear", "sqrt", "keep")

#: Most rungs of a multi-fidelity schedule (``proxy.rungs``).
MAX_RUNGS = 8

#: Most workers sharing one GPU.
MAX_WORKERS_PER_GPU = 64

#: Device names a run may ask for: cpu, cuda, cuda:N (checked before any run folder exists;
#: whether the device is present is checked by the trainer).
_DEVICE = re.compile(r"cpu|cuda(:[0-9]{1,4})?")


def cpu_count() -> int:
    """CPUs this process may run on (its affinity mask where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def _positive(owner: str, name: str, value: Any, integer: bool = True, allow_none=False) -> None:
    if value is None and allow_none:
        return
    kind = int if integer else (int, float)
    if (
        isinstance(value, bool)
        or not isinstance(value, kind)
        or not math.isfinite(value)
        or (value <= 0)
    ):
        what = "a positive integer" if integer else "a positive number"
        raise GenesisError(f"{owner} {name} must be {what}, got {value!r}")


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
    target_macs: float | None = None  # constrained: soft MnasNet target (acc * (macs/target)^w)
    penalty: float = -0.07  # constrained: the exponent w of the soft penalty
    sample_size: int = 3  # regularized: tournament size S
    crossover_prob: float = 0.3  # nsga2/constrained: share of offspring made by crossover
    diversity: str = "hypervolume"  # nsga2's second criterion: hypervolume (SMS-EMOA) | crowding
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

        strategy = get_strategy(self.strategy)  # an unknown name raises, listing the known ones
        _positive("search", "population", self.population)
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
        _positive("search", "budget_evals", self.budget_evals, allow_none=True)
        _positive("search", "budget", self.budget, integer=False, allow_none=True)
        _positive("search", "max_macs", self.max_macs, integer=False, allow_none=True)
        _positive("search", "max_params", self.max_params, allow_none=True)
        _positive("search", "max_memory_kb", self.max_memory_kb, integer=False, allow_none=True)
        _positive("search", "max_latency_ms", self.max_latency_ms, integer=False, allow_none=True)
        _positive("search", "latency_batch", self.latency_batch)
        if not isinstance(self.measure, (tuple, list)) or not set(self.measure) <= set(COSTS):
            raise GenesisError(
                f"search measure must list costs of {list(COSTS)}, got {self.measure!r}"
            )
        object.__setattr__(self, "measure", tuple(self.measure))
        _positive("search", "seconds", self.seconds, integer=False, allow_none=True)
        _positive("search", "target_macs", self.target_macs, integer=False, allow_none=True)
        _positive("search", "ref_macs", self.ref_macs, integer=False)
        _positive("search", "ref_memory_kb", self.ref_memory_kb, integer=False)
        _positive("search", "ref_latency_ms", self.ref_latency_ms, integer=False)
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
        _positive("search", "sample_size", self.sample_size)
        if self.diversity not in DIVERSITY:
            raise GenesisError(
                f"search diversity must be one of {', '.join(DIVERSITY)}, got {self.diversity!r}"
            )
        if not matches(self.crossover_prob, float) or not 0.0 <= self.crossover_prob <= 1.0:
            raise GenesisError(
                f"search crossover_prob must be in [0, 1], got {self.crossover_prob}"
            )
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
        check_types(self, "search")  # e.g. penalty, a finite number
        if self.evaluations > MAX_EVALUATIONS:
            what = "budget_evals" if self.budget_evals else "population x (generations + 1)"
            raise GenesisError(
                f"search {what} is {self.evaluations} evaluations; the cap is MAX_EVALUATIONS "
                f"= {MAX_EVALUATIONS}"
            )
        strategy.check(self)  # the strategy's own rules

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
class ProxyConfig:
    """The short training that scores each candidate (on the validation split only)."""

    dataset: str = "fashion-mnist"  # name or folder (genesis.data.load_dataset)
    resolution: int | None = None  # an image folder's images resized to this; None: as they are
    subset: int | None = 10_000  # training examples of the proxy; None for all
    val_size: int | None = 2000  # validation examples (cut from the training set)
    split_seed: int = 0  # seed of the validation cut
    epochs: float | None = 2.0  # proxy epochs; None: the architecture's own (tuning)
    # multi-fidelity: successive halving (ASHA). Cumulative epochs at each rung, e.g. [1, 3, 9]:
    # every candidate trains to the first; the best 1/eta of those done at a rung continue
    # (weights and optimizer state kept) to the next. Empty: one rung, at `epochs`
    rungs: tuple[float, ...] = (1.0, 3.0)
    eta: int = 3  # promotion rate: the top 1/eta of a rung goes on
    # examples cut from the end of the validation split: every evaluation is scored on them
    # too (holdout_accuracy), the search never looks (benchmarks score fronts on them)
    holdout: int = 0
    # a dataset of fewer classes than the networks' outputs trains anyway (the extra outputs
    # are never the answer); otherwise it is an error before the run folder is made
    allow_class_mismatch: bool = False
    time_limit: float | None = 300.0  # a candidate still training after this is a timeout
    device: str | None = None  # default: cuda when present
    fitness: str = "train"  # "train", or "synthetic": a deterministic score without training
    synthetic_seconds: float = 0.0  # synthetic fitness: seconds each evaluation takes (for tests)

    #: A key given without its partner sets the partner: ``epochs`` alone (a flag, a TOML
    #: table, the config of a run made before rungs existed) means one rung at those epochs.
    IMPLIES: ClassVar[dict[str, dict[str, Any]]] = {"epochs": {"rungs": ()}}

    def __post_init__(self) -> None:
        _positive("proxy", "subset", self.subset, allow_none=True)
        _positive("proxy", "resolution", self.resolution, allow_none=True)
        _positive("proxy", "val_size", self.val_size, allow_none=True)
        _positive("proxy", "epochs", self.epochs, integer=False, allow_none=True)
        _positive("proxy", "time_limit", self.time_limit, integer=False, allow_none=True)
        for r in self.rungs:
            _positive("proxy", "rungs", r, integer=False)
        if list(self.rungs) != sorted(set(self.rungs)):
            raise GenesisError(f"proxy rungs must increase, got {list(self.rungs)}")
        if len(self.rungs) > MAX_RUNGS:
            raise GenesisError(f"proxy rungs has {len(self.rungs)}; the cap is {MAX_RUNGS}")
        _positive("proxy", "eta", self.eta)
        if self.eta < 2:
            raise GenesisError(f"proxy eta must be at least 2, got {self.eta}")
        if isinstance(self.holdout, bool) or not isinstance(self.holdout, int) or self.holdout < 0:
            raise GenesisError(f"proxy holdout must be an integer >= 0, got {self.holdout!r}")
        if self.holdout and self.val_size is not None and self.holdout >= self.val_size:
            raise GenesisError(
                f"proxy holdout ({self.holdout}) must be smaller than val_size ({self.val_size})"
            )
        if not matches(self.synthetic_seconds, float) or not 0 <= self.synthetic_seconds < 3600:
            raise GenesisError(
                f"proxy synthetic_seconds must be in [0, 3600), got {self.synthetic_seconds}"
            )
        if self.fitness not in ("train", "synthetic"):
            raise GenesisError(
                f"proxy fitness must be 'train' or 'synthetic', got {self.fitness!r}"
            )
        if self.device is not None and (
            not isinstance(self.device, str) or not _DEVICE.fullmatch(self.device)
        ):
            raise GenesisError(f"proxy device must be cpu, cuda or cuda:N, got {self.device!r}")
        check_types(self, "proxy")

    @property
    def schedule(self) -> tuple[float | None, ...]:
        """Cumulative epochs at each rung: ``rungs``, or the one rung ``epochs``."""
        return tuple(self.rungs) or (self.epochs,)

    def rung_cost(self, rung: int) -> float:
        """Compute of training one candidate from rung ``rung - 1`` to ``rung``, in
        epoch-equivalents of the subset (an architecture's own epochs count as 1)."""
        s = [e or 1.0 for e in self.schedule]
        return s[rung] - (s[rung - 1] if rung else 0.0)


@dataclass(frozen=True)
class FinalConfig:
    """Retraining of the chosen Pareto members on the full training set, scored on test."""

    # Pareto members retrained (spread along the front, the most accurate always among them); 0
    # skips the final step. With fewer members than workers, the idle workers' cores go to them
    top_k: int = 1
    epochs: float | None = 8.0  # epochs of the final training; None: the architecture's own
    # batch of the final training; None: the architecture's own (bench_final.py: on a CPU, 256
    # trains as well per epoch as 128 and faster)
    batch_size: int | None = 256
    # how the learning rate follows a batch_size other than the architecture's: "linear" (lr x
    # the batch ratio, Goyal et al. 2017), "sqrt" (x its square root, the rule for Adam-like
    # optimizers), "auto" (linear for SGD, sqrt for AdamW) or "keep" (the lr unchanged)
    lr_scaling: str = "auto"
    # wall-clock seconds of each final training: it ends (annealed, status ok) at whichever of
    # epochs and seconds comes first; None: epochs alone
    seconds: float | None = 360.0
    seed: int = 0  # training seed of the final runs
    export_onnx: bool = True  # write an ONNX model of each retrained member

    def __post_init__(self) -> None:
        if isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or self.top_k < 0:
            raise GenesisError(f"final top_k must be an integer >= 0, got {self.top_k!r}")
        _positive("final", "epochs", self.epochs, integer=False, allow_none=True)
        _positive("final", "batch_size", self.batch_size, allow_none=True)
        _positive("final", "seconds", self.seconds, integer=False, allow_none=True)
        if self.lr_scaling not in LR_SCALINGS:
            raise GenesisError(
                f"final lr_scaling must be one of {', '.join(LR_SCALINGS)}, got {self.lr_scaling!r}"
            )
        check_types(self, "final")

    def lr_factor(self, batch_size: int, optimizer: str = "sgd") -> float:
        """What a member's learning rate is multiplied by when it trains at ``self.batch_size``
        instead of its own ``batch_size`` with ``optimizer`` (1 when the batch is its own).

        Examples
        --------
        >>> FinalConfig(batch_size=256, lr_scaling="sqrt").lr_factor(64)
        2.0
        >>> final = FinalConfig(batch_size=256, lr_scaling="auto")
        >>> final.lr_factor(64, "sgd"), final.lr_factor(64, "adamw")
        (4.0, 2.0)
        """
        if self.batch_size is None or self.lr_scaling == "keep":
            return 1.0
        ratio = self.batch_size / batch_size
        rule = self.lr_scaling
        if rule == "auto":
            rule = "linear" if optimizer == "sgd" else "sqrt"
        return ratio if rule == "linear" else math.sqrt(ratio)


@dataclass(frozen=True)
class ExecutionConfig:
    """Where evaluations run."""

    executor: str = "local"  # local (process pool) | ray
    workers: int = 2  # parallel evaluations
    address: str | None = None  # ray: cluster address (default: start a local instance)
    workers_per_gpu: int = 2  # several workers may share one GPU (small networks leave it idle)
    # workers may exceed cpu_count() * MAX_WORKERS_PER_CPU (not MAX_WORKERS): a large cluster
    force_workers: bool = False

    def __post_init__(self) -> None:
        if self.executor not in ("local", "ray"):
            raise GenesisError(f"execution executor must be local or ray, got {self.executor!r}")
        _positive("execution", "workers", self.workers)
        _positive("execution", "workers_per_gpu", self.workers_per_gpu)
        check_types(self, "execution")
        if self.workers > MAX_WORKERS:
            raise GenesisError(
                f"execution workers is {self.workers}; the cap is MAX_WORKERS = {MAX_WORKERS}"
            )
        per_machine = cpu_count() * MAX_WORKERS_PER_CPU
        if self.workers > per_machine and not self.force_workers:
            raise GenesisError(
                f"execution workers is {self.workers}; the cap is {cpu_count()} CPUs x "
                f"MAX_WORKERS_PER_CPU = {per_machine} (force_workers = true or --force-workers "
                f"lifts it up to MAX_WORKERS = {MAX_WORKERS})"
            )
        if self.workers_per_gpu > MAX_WORKERS_PER_GPU:
            raise GenesisError(
                f"execution workers_per_gpu is {self.workers_per_gpu}; the cap is "
                f"MAX_WORKERS_PER_GPU = {MAX_WORKERS_PER_GPU}"
            )


@dataclass(frozen=True)
class EvolveConfig:
    """Everything a search needs."""

    search: SearchConfig = field(default_factory=SearchConfig)
    space: SpaceConfig = field(default_factory=SpaceConfig)
    proxy: ProxyConfig = field(default_factory=ProxyConfig)
    final: FinalConfig = field(default_factory=FinalConfig)
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
    tune: TuneConfig = field(default_factory=TuneConfig)

    def __post_init__(self) -> None:
        from evolve.strategies import get_strategy, strategy_names

        name = self.search.strategy
        spaces = get_strategy(name).spaces
        if self.tune.architecture and "hyperparameters" not in spaces:
            methods = " or ".join(sorted(strategy_names("hyperparameters")))
            raise GenesisError(f"tuning hyperparameters takes method {methods}, got {name!r}")
        if not self.tune.architecture and "architectures" not in spaces:
            raise GenesisError(f"strategy {name} searches hyperparameters: use genesis tune")

    def with_overrides(self, **sections: dict[str, Any]) -> EvolveConfig:
        """A copy with some fields of some sections replaced (``None`` values are ignored)."""
        changed = {}
        for name, values in sections.items():
            values = {k: v for k, v in values.items() if v is not None}
            if values:
                kind = type(getattr(self, name))
                values = {**implied(kind, values), **values}
                changed[name] = _build(kind, name, {**asdict(getattr(self, name)), **values})
        return replace(self, **changed)

    def to_toml(self) -> str:
        """TOML text that :func:`load_config` reads back to an equal config."""
        return dump_config(self)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Plain data, one table per section."""
        return {f.name: asdict(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], source: str = "config", base: EvolveConfig | None = None
    ) -> EvolveConfig:
        """Build from tables (unknown tables or keys are errors); a key a table lacks takes
        its value from ``base`` (default: the dataclasses' defaults, the main job's)."""
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            hint = " (a study's config: use genesis study)" if "study" in unknown else ""
            raise GenesisError(
                f"{source}: unknown table(s) {unknown}; known: {sorted(known)}{hint}"
            )
        base = base if base is not None else cls()
        parts = {}
        for f in fields(cls):
            table = data.get(f.name, {})
            if not isinstance(table, dict):
                raise GenesisError(f"{source}: [{f.name}] must be a table")
            section = getattr(base, f.name)
            values = {**asdict(section), **implied(type(section), table), **table}
            parts[f.name] = _build(type(section), f"{source} [{f.name}]", values)
        return cls(**parts)


def run_base() -> EvolveConfig:
    """What a run folder's config takes for the keys it lacks.

    A run writes every field of its config, so a key is missing only when the field was added
    after the run was made; it takes the value that keeps that run doing what it did: one rung
    (``proxy.rungs = []``), the architecture's own final batch and learning rate, no final time
    limit, no compute budget, no held-out examples. (The other defaults changed with the main
    job's on 2026-12-02, but an older run's config holds those fields.)
    """
    return EvolveConfig(
        search=SearchConfig(seconds=None, max_macs=None, max_params=None),
        proxy=ProxyConfig(subset=4000, rungs=()),
        final=FinalConfig(top_k=2, epochs=1.0, batch_size=None, lr_scaling="keep", seconds=None),
        execution=ExecutionConfig(workers=1),
    )


def implied(kind: type, given: dict[str, Any]) -> dict[str, Any]:
    """The values that the keys of ``given`` imply for keys it lacks (``kind.IMPLIES``)."""
    out: dict[str, Any] = {}
    for key, implies in getattr(kind, "IMPLIES", {}).items():
        if key in given:
            out.update({k: v for k, v in implies.items() if k not in given})
    return out


def _build(kind: type, where: str, values: dict[str, Any]) -> Any:
    renamed = getattr(kind, "RENAMED", {})
    values = {renamed.get(k, k): v for k, v in values.items()}
    names = {f.name: f for f in fields(kind)}
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise GenesisError(f"{where}: unknown key(s) {unknown}; known: {sorted(names)}")
    # TOML has no null: the string "none" stands for None (dump_config writes it so).
    values = {
        k: tuple(v) if isinstance(v, list) else (None if v == NONE else v)
        for k, v in values.items()
    }
    try:
        return kind(**values)
    except TypeError as exc:  # a rule compared a value of the wrong type: name the field
        hints = typing.get_type_hints(kind)
        for name, value in values.items():
            if not matches(value, hints[name]):
                raise GenesisError(
                    f"{where}: {name} must be {describe_type(hints[name])}, got {value!r}"
                ) from None
        raise GenesisError(f"{where}: {exc}") from None


def load_config(
    path: str | Path,
    overrides: dict[str, dict[str, Any]] | None = None,
    kind: type | None = None,
    base: Any = None,
) -> Any:
    """Read a TOML config; raises :class:`GenesisError` naming the file for any problem.

    ``kind`` is the config class whose ``from_dict`` builds it: :class:`EvolveConfig` (a
    search, the default) or :class:`evolve.study.StudyRunConfig` (a study). ``base`` gives the
    values of the keys the file lacks (a search's: default :class:`EvolveConfig`'s; a run
    folder's own config: :func:`run_base`).

    ``overrides`` (section -> field -> value, None values ignored) replace the file's values
    before anything is checked: a run resumed with ``--workers 2`` on a machine with fewer CPUs
    than the one that started it is checked with 2 workers, not the file's.
    """
    path = Path(path)
    text = read_text_file(path, "config file")  # a regular file, bounded
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise GenesisError(f"config file {str(path)!r} is nested too deeply") from None
    except tomllib.TOMLDecodeError as exc:
        raise GenesisError(f"config file {str(path)!r} is not valid TOML: {exc}") from None
    for section, values in (overrides or {}).items():
        given = {k: v for k, v in values.items() if v is not None}
        if given and isinstance(data.get(section, {}), dict):
            data[section] = {**data.get(section, {}), **given}
    try:
        if base is not None:
            return (kind or EvolveConfig).from_dict(data, source=str(path), base=base)
        return (kind or EvolveConfig).from_dict(data, source=str(path))
    except GenesisError as exc:
        if str(path) in str(exc):
            raise
        raise GenesisError(f"config file {str(path)!r}: {exc}") from None


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if value is None:
        return f'"{NONE}"'
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid TOML basic-string escapes
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):  # an inline table (a study's settings)
        items = ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in value.items())
        return "{" + items + "}"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def dump_config(cfg: Any) -> str:
    """TOML text that :func:`load_config` reads back to an equal config (None as "none")."""
    lines = []
    for table, values in cfg.to_dict().items():
        lines.append(f"[{table}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in values.items()]
        lines.append("")
    return "\n".join(lines)


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
    Nothing is checked with ``proxy.fitness = "synthetic"`` (it reads no data). Otherwise this
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
