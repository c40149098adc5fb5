"""The configuration of a generator study: what it trains (:class:`StudyConfig`, ``[study]``)
and how and where every network trains (:class:`StudyRunConfig`: ``[proxy]``, ``[execution]``),
with the caps on its size."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from evolve.checks import check_types
from evolve.config import ExecutionConfig, ProxyConfig
from evolve.configfile import build_section
from evolve.studysettings import DEFAULT_GRID, Setting
from genesis import GenesisError

__all__ = ["MAX_OPS", "MAX_SETTINGS", "MAX_STUDY_NETWORKS", "StudyConfig", "StudyRunConfig"]

#: Most trainings one study may hold (settings x graph seeds x train seeds).
MAX_STUDY_NETWORKS = 10_000

#: Most settings one study may list.
MAX_SETTINGS = 500

#: Most node ops one study may cross its settings with.
MAX_OPS = 16


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
        from genesis.presets import get_preset

        object.__setattr__(self, "ops", _checked_ops(self.ops))
        object.__setattr__(self, "settings", _built_settings(self.settings))
        for name in ("graph_seeds", "train_seeds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise GenesisError(f"study {name} must be an integer >= 1, got {value!r}")
        if self.networks > MAX_STUDY_NETWORKS:
            raise GenesisError(
                f"study has {self.networks} trainings ({len(self.settings)} settings x "
                + (f"{len(self.ops)} ops x " if self.ops else "")
                + f"{self.graph_seeds} graph seeds x {self.train_seeds} train seeds); the cap is "
                f"MAX_STUDY_NETWORKS = {MAX_STUDY_NETWORKS}"
            )
        _check_numbers(self)
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


def _checked_ops(ops: Any) -> tuple[str, ...]:
    """``[study] ops`` as a tuple: known op names, distinct, at most :data:`MAX_OPS`."""
    from genesis.ops import OPS

    if not isinstance(ops, (tuple, list)) or not all(isinstance(o, str) for o in ops):
        raise GenesisError(f"study ops must be a list of op names, got {ops!r}")
    ops = tuple(ops)
    unknown = [o for o in ops if o not in OPS]
    if unknown:
        raise GenesisError(f"study ops: unknown op(s) {unknown}; known: {', '.join(sorted(OPS))}")
    if len(set(ops)) != len(ops) or len(ops) > MAX_OPS:
        raise GenesisError(
            f"study ops must be distinct, at most MAX_OPS = {MAX_OPS}, got {list(ops)}"
        )
    return ops


def _built_settings(settings: Any) -> tuple[Setting, ...]:
    """``[study] settings`` as :class:`Setting` objects (tables built), at most
    :data:`MAX_SETTINGS`, with distinct labels."""
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
            raise GenesisError(f"study setting {i + 1} needs a family, got {dict(s)!r}") from None
    labels = [s.label for s in built]
    twice = sorted({x for x in labels if labels.count(x) > 1})
    if twice:
        raise GenesisError(f"study settings must have distinct labels; {twice} appear twice")
    return tuple(built)


def _check_numbers(study: StudyConfig) -> None:
    """The caps, widths and seed of ``study``: positive (a seed: >= 0) numbers of their type."""
    for name in ("match_macs", "max_macs"):
        value = getattr(study, name)
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value <= 0
        ):
            raise GenesisError(f"study {name} must be a positive number, got {value!r}")
    for name in ("channels", "batch_size", "max_params"):
        value = getattr(study, name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise GenesisError(f"study {name} must be a positive integer, got {value!r}")
    if not isinstance(study.tolerance, (int, float)) or not 0 < study.tolerance < 1:
        raise GenesisError(f"study tolerance must be in (0, 1), got {study.tolerance!r}")
    if not isinstance(study.seed, int) or isinstance(study.seed, bool) or study.seed < 0:
        raise GenesisError(f"study seed must be an integer >= 0, got {study.seed!r}")


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
