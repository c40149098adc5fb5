"""Trade-off studies of graph generators, the way RandWire ran them (``genesis study``).

A study trains a fixed list of networks, one per (setting, graph instance, training seed), every
one with the same recipe, and writes one record per training to the run folder's
``evaluations.jsonl``. A :class:`Setting` is a graph family with its parameters, nodes per
stage and node op; instance ``g`` of a setting draws its stage graphs with seed
``study.seed + g`` (so instance ``g`` of two settings, or of two ops, is drawn alike), and
training ``t`` trains with seed ``study.seed + t``. With ``match_macs`` every network's widths
are scaled so that its MACs are within ``tolerance`` of the target
(:func:`genesis.matching.match_macs`): generators are compared at equal compute, as in Xie et
al.'s Figure 3.

A study runs on the search's engine: the same executors (local worker processes or Ray, one
task per training), the same training task (:func:`evolve.evaluate.make_task`), a run folder
with its writer lock, a line of progress per finished training, and a resume that keeps every
finished training (the log is the study's only state: a resumed study trains what the log
lacks). The test split is read only with ``final = true``: each network then trains on the
whole training set and is scored on the official test split.

References
----------
.. [1] S. Xie, A. Kirillov, R. Girshick, K. He. "Exploring Randomly Wired Neural Networks for
   Image Recognition". ICCV 2019.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from evolve.checks import check_types
from evolve.config import ExecutionConfig, ProxyConfig
from evolve.configfile import build_section
from genesis import GenesisError
from genesis.limits import MAX_NODES

__all__ = [
    "DEFAULT_GRID",
    "GRIDS",
    "MAX_STUDY_NETWORKS",
    "PAPER_GRID",
    "PAPER_OPS",
    "Setting",
    "StudyConfig",
    "StudyRunConfig",
    "StudyJob",
    "study_jobs",
    "run_study",
]

#: Most trainings one study may hold (settings x graph seeds x train seeds).
MAX_STUDY_NETWORKS = 10_000

#: Most settings one study may list.
MAX_SETTINGS = 500

#: Most node ops one study may cross its settings with.
MAX_OPS = 16

#: The node ops of RandWire's Figure 6 (``genesis study ops``' default): its separable 3x3
#: conv, a plain 3x3 conv, and 3x3 max- or average-pooling followed by a 1x1 conv.
PAPER_OPS = ("sep_conv_3x3", "conv_3x3", "max_pool_conv_1x1", "avg_pool_conv_1x1")


@dataclass(frozen=True)
class Setting:
    """One bar of the study: a graph family, its parameters, nodes per stage and node op."""

    family: str  # a registered family (graphs.family_names()) or "nx:<generator>"
    params: Mapping[str, Any] = field(default_factory=dict)  # the family's parameters
    nodes: int = 8  # compute nodes per stage (N)
    op: str = "sep_conv_3x3"  # op of every compute node (genesis.ops.OPS)
    label: str = ""  # its name in tables and plots; default from family and params

    def __post_init__(self) -> None:
        from genesis.ops import OPS
        from graphs import random_dag

        if not isinstance(self.family, str) or not self.family:
            raise GenesisError(f"study setting family must be a family name, got {self.family!r}")
        if not isinstance(self.params, Mapping):
            raise GenesisError(
                f"study setting params must be a table of the family's parameters, got "
                f"{self.params!r}"
            )
        object.__setattr__(self, "params", dict(self.params))
        if isinstance(self.nodes, bool) or not isinstance(self.nodes, int) or self.nodes < 2:
            raise GenesisError(f"study setting nodes must be an integer >= 2, got {self.nodes!r}")
        if self.nodes > MAX_NODES:
            raise GenesisError(
                f"study setting nodes is {self.nodes}; the cap is MAX_NODES = {MAX_NODES}"
            )
        if self.op not in OPS:
            raise GenesisError(
                f"study setting op must be one of {', '.join(sorted(OPS))}, got {self.op!r}"
            )
        if not isinstance(self.label, str):
            raise GenesisError(f"study setting label must be a string, got {self.label!r}")
        random_dag(self.family, self.nodes, seed=0, op=self.op, **self.params)  # refuses bad ones
        if not self.label:
            object.__setattr__(self, "label", self.default_label())
        check_types(self, "study setting")

    def default_label(self) -> str:
        """``WS(k=4, p=0.75)``: the family in capitals (an ``nx:`` one as given), its
        parameters in order, and ``N=..`` when the nodes are not the default 8."""
        name = self.family if self.family.startswith("nx:") else self.family.upper()
        parts = [
            f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.params.items()
        ]
        if self.nodes != 8:
            parts.append(f"N={self.nodes}")
        return f"{name}({', '.join(parts)})"


def _grid(*specs: tuple[str, dict[str, Any]], nodes: int = 8) -> tuple[Setting, ...]:
    return tuple(Setting(f, p, nodes) for f, p in specs)


#: The default generator study: fits a 2-core CPU in minutes (RandWire's families, a dense and
#: a sparse setting of each; BA(1) is the paper's clear loser, WS(4, 0.75) its pick).
DEFAULT_GRID = _grid(
    ("er", {"p": 0.2}),
    ("er", {"p": 0.6}),
    ("ba", {"m": 1}),
    ("ba", {"m": 5}),
    ("ws", {"k": 4, "p": 0.25}),
    ("ws", {"k": 4, "p": 0.75}),
)

#: The grid of RandWire's Figure 3, as the paper plots it: ER(P) for P = 0.1 ... 0.9, BA(M)
#: for M = 1 ... 8 and WS(K, P) for K = 2, 4, 6, 8 and P = 0, 0.25, 0.5, 0.75, 1 (P = 0 is
#: a regular ring lattice), N = 32 nodes per stage.
PAPER_GRID = _grid(
    *[("er", {"p": round(0.1 * i, 1)}) for i in range(1, 10)],
    *[("ba", {"m": m}) for m in range(1, 9)],
    *[("ws", {"k": k, "p": p}) for k in (2, 4, 6, 8) for p in (0.0, 0.25, 0.5, 0.75, 1.0)],
    nodes=32,
)

#: Named grids (``--grid``).
GRIDS: dict[str, tuple[Setting, ...]] = {"default": DEFAULT_GRID, "paper": PAPER_GRID}


@dataclass(frozen=True)
class StudyConfig:
    """What a generator study trains: the settings, their instances and the matched MACs."""

    settings: tuple[Setting, ...] = DEFAULT_GRID  # the bars of the study
    graph_seeds: int = 3  # graph instances per setting (RandWire: 5)
    train_seeds: int = 1  # trainings per instance, each with another seed
    match_macs: float | None = 1e6  # MACs every network's widths are matched to; None: as built
    tolerance: float = 0.02  # largest accepted |MACs - match_macs| / match_macs
    preset: str = "fashion-mnist"  # macro layout (genesis.PRESETS): stem, stages, head, recipe
    channels: int | None = None  # base width C before matching; None: the preset's
    batch_size: int | None = None  # batch of every training; None: the preset's recipe
    max_macs: float | None = None  # hard cap: a network above it is logged as skipped
    max_params: int | None = None  # hard cap on parameters, likewise
    final: bool = False  # train on the whole training set, score on the official test split
    seed: int = 0  # instance g draws its graphs with seed + g, training t trains with seed + t
    # node ops to cross every setting with (genesis study ops): each setting's graphs, drawn
    # alike, once with every op, each network matched to match_macs; empty: each setting's op
    ops: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        from genesis.ops import OPS
        from genesis.presets import get_preset

        if not isinstance(self.ops, (tuple, list)) or not all(isinstance(o, str) for o in self.ops):
            raise GenesisError(f"study ops must be a list of op names, got {self.ops!r}")
        object.__setattr__(self, "ops", tuple(self.ops))
        unknown = [o for o in self.ops if o not in OPS]
        if unknown:
            raise GenesisError(
                f"study ops: unknown op(s) {unknown}; known: {', '.join(sorted(OPS))}"
            )
        if len(set(self.ops)) != len(self.ops) or len(self.ops) > MAX_OPS:
            raise GenesisError(
                f"study ops must be distinct, at most MAX_OPS = {MAX_OPS}, got {list(self.ops)}"
            )

        settings = self.settings
        if not isinstance(settings, (tuple, list)) or not settings:
            raise GenesisError(f"study settings must be a non-empty list, got {settings!r}")
        if len(settings) > MAX_SETTINGS:
            raise GenesisError(
                f"study settings lists {len(settings)}; the cap is MAX_SETTINGS = {MAX_SETTINGS}"
            )
        built = []
        for i, s in enumerate(settings):
            if isinstance(s, Setting):
                built.append(s)
                continue
            if not isinstance(s, Mapping):
                raise GenesisError(f"study setting {i + 1} must be a table, got {s!r}")
            unknown = sorted(set(s) - {f.name for f in fields(Setting)})
            if unknown:
                raise GenesisError(
                    f"study setting {i + 1}: unknown key(s) {unknown}; known: "
                    f"{sorted(f.name for f in fields(Setting))}"
                )
            try:
                built.append(Setting(**s))
            except GenesisError as exc:
                raise GenesisError(f"study setting {i + 1}: {exc}") from None
            except TypeError:
                raise GenesisError(
                    f"study setting {i + 1} needs a family, got {dict(s)!r}"
                ) from None
        object.__setattr__(self, "settings", tuple(built))
        labels = [s.label for s in built]
        twice = sorted({x for x in labels if labels.count(x) > 1})
        if twice:
            raise GenesisError(f"study settings must have distinct labels; {twice} appear twice")
        for name in ("graph_seeds", "train_seeds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise GenesisError(f"study {name} must be an integer >= 1, got {value!r}")
        if self.networks > MAX_STUDY_NETWORKS:
            raise GenesisError(
                f"study has {self.networks} trainings ({len(built)} settings x "
                + (f"{len(self.ops)} ops x " if self.ops else "")
                + f"{self.graph_seeds} graph seeds x {self.train_seeds} train seeds); the cap is "
                f"MAX_STUDY_NETWORKS = {MAX_STUDY_NETWORKS}"
            )
        for name in ("match_macs", "max_macs"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value <= 0
            ):
                raise GenesisError(f"study {name} must be a positive number, got {value!r}")
        for name in ("channels", "batch_size", "max_params"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise GenesisError(f"study {name} must be a positive integer, got {value!r}")
        if not isinstance(self.tolerance, (int, float)) or not 0 < self.tolerance < 1:
            raise GenesisError(f"study tolerance must be in (0, 1), got {self.tolerance!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise GenesisError(f"study seed must be an integer >= 0, got {self.seed!r}")
        get_preset(self.preset)  # an unknown preset raises, listing the known ones
        check_types(self, "study")

    @property
    def networks(self) -> int:
        """Trainings the study holds."""
        return len(self.settings) * max(1, len(self.ops)) * self.graph_seeds * self.train_seeds

    def variants(self) -> list[tuple[int, int | None, str, str]]:
        """The bars of the study in order: (setting index, op index or None, op, label). With
        ``ops`` each setting appears once per op, labelled ``"<setting> [<op>]"``."""
        out = []
        for i, setting in enumerate(self.settings):
            if not self.ops:
                out.append((i, None, setting.op, setting.label))
                continue
            for j, op in enumerate(self.ops):
                out.append((i, j, op, f"{setting.label} [{op}]"))
        return out


def _study_proxy() -> ProxyConfig:
    """A study's training by default: 10,000 examples for 5 epochs (the default study's 18
    networks of 1M MACs train in about 10 minutes on 2 CPU cores; at 3 epochs, 6 minutes, the
    spread of one setting's networks was 1-2 points)."""
    return ProxyConfig(subset=10_000, epochs=5.0, rungs=())


@dataclass(frozen=True)
class StudyRunConfig:
    """Everything a study needs: what it trains (``[study]``), how every network trains and is
    scored (``[proxy]``: dataset, subset, epochs, validation split...; no rungs), and where
    (``[execution]``)."""

    study: StudyConfig = field(default_factory=StudyConfig)
    proxy: ProxyConfig = field(default_factory=_study_proxy)
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)

    def __post_init__(self) -> None:
        if self.proxy.rungs:
            raise GenesisError(
                "a study trains every network alike: proxy rungs must be empty, got "
                f"{list(self.proxy.rungs)}"
            )
        if self.proxy.epochs is None:
            raise GenesisError("a study needs proxy epochs (every network trains for them)")

    def with_overrides(self, **sections: dict[str, Any]) -> StudyRunConfig:
        """A copy with some fields of some sections replaced (``None`` values are ignored)."""
        changed = {}
        for name, values in sections.items():
            values = {k: v for k, v in values.items() if v is not None}
            if values:
                current = getattr(self, name)
                merged = {**asdict(current), **values}
                if name == "study" and "settings" not in values:
                    merged["settings"] = current.settings  # already built
                changed[name] = build_section(type(current), name, merged)
        return replace(self, **changed)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Plain data, one table per section (settings as a list of tables)."""
        return {f.name: asdict(getattr(self, f.name)) for f in fields(self)}

    def to_toml(self) -> str:
        """TOML text that :func:`evolve.config.load_config` (``kind=StudyRunConfig``) reads
        back to an equal config."""
        from evolve.configfile import dump_config

        return dump_config(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> StudyRunConfig:
        """Build from tables (unknown tables or keys are errors)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            hint = " (a search's config: use genesis evolve)" if "search" in unknown else ""
            raise GenesisError(
                f"{source}: unknown table(s) {unknown}; a study knows {sorted(known)}{hint}"
            )
        defaults = cls()
        parts = {}
        for f in fields(cls):
            table = data.get(f.name, {})
            if not isinstance(table, dict):
                raise GenesisError(f"{source}: [{f.name}] must be a table")
            base = asdict(getattr(defaults, f.name))
            if f.name == "study":
                base["settings"] = defaults.study.settings
            parts[f.name] = build_section(
                type(getattr(defaults, f.name)), f"{source} [{f.name}]", {**base, **table}
            )
        return cls(**parts)


@dataclass
class StudyJob:
    """One training of the study: which setting, instance and seed, and the matched network."""

    key: str  # "s<setting>[-o<op>]-g<instance>-t<train seed index>", unique in the study
    setting: int  # index into the config's settings
    group: int  # index of its bar (StudyConfig.variants): the setting, or the setting x op
    op_index: int | None  # index into the config's ops (None: the setting's own op)
    op: str  # the op of every compute node
    label: str  # the bar's label
    graph_seed: int  # the seed its graphs were drawn with
    train_seed: int  # the seed it trains with
    arch: Any  # the Architecture (widths matched)
    hash: str  # genesis.architecture_hash
    macs: int
    params: int
    widths: str  # the widths chosen, e.g. "stem 6, stages 6/12/24, head 0"
    skipped: str | None = None  # why it is not trained (a hard cap), or None


def study_jobs(cfg: StudyRunConfig) -> list[StudyJob]:
    """Every training of the study, in order (setting, then instance, then seed): the
    networks built and matched, the caps checked. Raises :class:`GenesisError` when a target
    is out of reach for any network, before anything trains."""
    from genesis import architecture_hash, build_architecture
    from genesis.complexity import count_complexity
    from genesis.matching import match_macs, widths_of
    from genesis.presets import get_preset

    s = cfg.study
    recipe = get_preset(s.preset).train
    train = replace(
        recipe,
        epochs=max(1, math.ceil(cfg.proxy.epochs or recipe.epochs)),
        batch_size=s.batch_size or recipe.batch_size,
    )
    jobs = []
    for group, (i, j, op, label) in enumerate(s.variants()):
        setting = s.settings[i]
        for g in range(s.graph_seeds):
            graph_seed = s.seed + g
            arch = build_architecture(
                s.preset,
                setting.family,
                setting.params,
                seed=graph_seed,
                channels=s.channels,
                nodes=setting.nodes,
                op=op,
                train=train,
            )
            if s.match_macs is not None:
                arch, macs = match_macs(
                    arch, s.match_macs, s.tolerance, what=f"{label} graph seed {graph_seed}"
                )
            cx = count_complexity(arch)
            skipped = None
            if s.max_macs is not None and cx.macs > s.max_macs:
                skipped = f"{cx.macs:,} MACs is over the cap max_macs = {s.max_macs:g}"
            elif s.max_params is not None and cx.params > s.max_params:
                skipped = f"{cx.params:,} params is over the cap max_params = {s.max_params}"
            h = architecture_hash(arch)
            for t in range(s.train_seeds):
                jobs.append(
                    StudyJob(
                        key=f"s{i}-g{g}-t{t}" if j is None else f"s{i}-o{j}-g{g}-t{t}",
                        setting=i,
                        group=group,
                        op_index=j,
                        op=op,
                        label=label,
                        graph_seed=graph_seed,
                        train_seed=s.seed + t,
                        arch=arch,
                        hash=h,
                        macs=cx.macs,
                        params=cx.params,
                        widths=str(widths_of(arch)),
                        skipped=skipped,
                    )
                )
    return jobs


def _entry(cfg: StudyRunConfig, job: StudyJob, record: dict[str, Any], kind: str) -> dict[str, Any]:
    setting = cfg.study.settings[job.setting]
    return {
        "kind": kind,  # "train" or "skipped"
        "key": job.key,
        "setting": job.setting,
        "group": job.group,
        "label": job.label,
        "base": setting.label,  # the setting's own label (without the op of an ops study)
        "family": setting.family,
        "params": setting.params,
        "nodes": setting.nodes,
        "op": job.op,
        "op_index": job.op_index,
        "graph_seed": job.graph_seed,
        "train_seed": job.train_seed,
        "hash": job.hash,
        "seed": job.train_seed,
        "widths": job.widths,
        "result": record,
    }


def run_study(
    cfg: StudyRunConfig,
    folder: Any,
    executor: Any,
    log: Callable[[str], None] = print,
    weights: bool = True,
    jobs: list[StudyJob] | None = None,
) -> list[dict[str, Any]]:
    """Train every network of the study that the folder's log lacks; every entry of the log.

    Parameters
    ----------
    cfg : StudyRunConfig
        The study (the folder's own config on a resume).
    folder : genesis.runfolder.RunFolder
        A created, or reopened, run folder; its writer lock held by the caller.
    executor : evolve.executors.Executor
        Where the trainings run.
    log : callable
        Receives one line per finished training.
    weights : bool
        Keep each trained network's weights in ``weights/<key>.pt`` (for ``genesis study
        damage --study``).
    jobs : list of StudyJob, optional
        :func:`study_jobs` of ``cfg``, when the caller built them already.

    Returns
    -------
    list of dict
        The log's entries, one per training (``kind`` "train") or network over a cap
        (``kind`` "skipped"), in study order.
    """
    from evolve.evaluate import failure_record, make_task
    from evolve.records import format_clock

    jobs = study_jobs(cfg) if jobs is None else jobs
    folder.repair_log()
    folder.remove_stale_temps()
    done = {e["key"]: e for e in folder.read_evaluations() if isinstance(e, dict) and "key" in e}
    todo = [j for j in jobs if j.key not in done]
    if done and todo:
        log(f"resuming: {len(done)} of {len(jobs)} trainings are in the log")
    started = time.perf_counter()
    if weights:
        (folder.path / "weights").mkdir(exist_ok=True)
    tasks = []
    for job in todo:
        folder.save_architecture(job.hash, job.arch.to_json())
        task = make_task(
            job.arch,
            job.train_seed,
            cfg.proxy,
            complexity=(job.macs, job.params),
            final=cfg.study.final,
            epochs=cfg.proxy.epochs,
            weights_path=str(folder.path / "weights" / f"{job.key}.pt") if weights else None,
        )
        if job.skipped:
            entry = _entry(cfg, job, failure_record(task, "skipped", job.skipped), "skipped")
            folder.append_evaluation(entry)
            done[job.key] = entry
            log(f"{job.label} graph {job.graph_seed}: skipped, {job.skipped}")
            continue
        tasks.append((job.key, task))
    total, count = len(jobs), [len(done)]
    split = "test" if cfg.study.final else "validation"

    by_key = {j.key: j for j in jobs}

    from genesis.tracking import Tracker

    tracker = Tracker(folder.path)

    def finished(key: str, record: dict[str, Any]) -> None:
        job = by_key[key]
        entry = _entry(cfg, job, record, "train")
        folder.append_evaluation(entry)
        tracker.training(f"study/{job.key}", record)
        done[job.key] = entry
        count[0] += 1
        elapsed = time.perf_counter() - started
        fresh = count[0] - (total - len(tasks))
        left = elapsed / fresh * (total - count[0]) if fresh else 0.0
        acc = record.get("accuracy")
        score = f"{split} acc {acc:.4f}" if acc is not None else f"{record.get('status')}"
        log(
            f"[{count[0]}/{total}] {job.label} graph {job.graph_seed} "
            f"seed {job.train_seed}: {score}, {job.macs:,} MACs ({job.widths}) | "
            f"{format_clock(elapsed)} elapsed, ~{format_clock(left)} left"
        )

    try:
        if tasks:
            executor.run(tasks, finished)
    finally:
        tracker.close()
    return [done[j.key] for j in jobs if j.key in done]
