"""The search space: how architectures are drawn, mutated and crossed.

Initial individuals come from the random generators with their family and parameters sampled
from the family registry's ranges (:mod:`graphs.families`: ER ``p``, WS ``k`` and ``p``, BA
``m``), nodes per stage and base width sampled, filled into a
preset's layout (:func:`genesis.build_architecture`); they train with the preset's recipe (or,
with ``train_init = "sample"``, hyperparameters drawn from the space's ranges).
Variation uses the graph mutations and crossover of :mod:`graphs` plus mutations of generator
parameters (a stage redrawn), widths, ops and training hyperparameters. Every operator returns
a new, valid :class:`~genesis.Architecture`; the parent is never changed.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from typing import Any

from evolve.checks import check_types
from genesis import (
    Architecture,
    GenesisError,
    Stage,
    build_architecture,
    default_ops,
    get_preset,
    op_names,
)
from genesis.genome import OPTIMIZERS, TrainConfig
from genesis.limits import MAX_CHANNELS, MAX_CLASSES, MAX_NODES
from graphs import compute_nodes, crossover, family_names, get_family, mutate, random_dag

__all__ = ["TRAIN_INIT", "SpaceConfig", "SearchSpace", "default_families"]

#: Ops the search may give a node by default, as registered (``search=True``) when this module
#: was imported: the convolutions and pools. :class:`SpaceConfig` reads the registry itself.
DEFAULT_OPS = default_ops()


def default_families() -> tuple[str, ...]:
    """The graph families the search draws from by default (registered with ``search=True``)."""
    return tuple(name for name in family_names() if get_family(name).search)


#: How new individuals get their training hyperparameters (see :class:`SpaceConfig`).
TRAIN_INIT = ("preset", "sample")


@dataclass(frozen=True)
class SpaceConfig:
    """What the search may build."""

    preset: str = "fashion-mnist"  # macro layout (genesis.PRESETS)
    classes: int | None = None  # classifier outputs of every network; None: the preset's
    families: tuple[str, ...] = field(default_factory=default_families)  # graph families
    nodes: tuple[int, int] = (4, 10)  # nodes per stage, inclusive range
    max_nodes: int = 16  # no stage grows past this by mutation
    channels: tuple[int, ...] = (8, 12, 16)  # base widths C to draw from
    ops: tuple[str, ...] = field(default_factory=default_ops)  # ops a node may get
    optimizers: tuple[str, ...] = ("sgd", "adamw")  # optimizers to draw from
    lr_sgd: tuple[float, float] = (0.02, 0.4)  # SGD learning rate range (log-uniform)
    lr_adamw: tuple[float, float] = (5e-4, 1e-2)  # AdamW learning rate range (log-uniform)
    weight_decay: tuple[float, float] = (1e-5, 1e-3)  # log-uniform
    label_smoothing: tuple[float, float] = (0.0, 0.2)  # uniform
    batch_sizes: tuple[int, ...] = (32, 64, 128)  # batch sizes to draw from
    # How new individuals train: "preset" (the preset's recipe at the smallest batch size, as
    # RandWire trains every sampled graph one way; evolution still mutates it) or "sample"
    # (every hyperparameter drawn from the ranges above: a joint search from scratch)
    train_init: str = "preset"

    def __post_init__(self) -> None:
        get_preset(self.preset)  # an unknown preset raises, listing the known ones
        if self.classes is not None and (
            isinstance(self.classes, bool)
            or not isinstance(self.classes, int)
            or not 2 <= self.classes <= MAX_CLASSES
        ):
            raise GenesisError(
                f"space classes must be an integer in 2..{MAX_CLASSES}, got {self.classes!r}"
            )
        for name in ("nodes", "lr_sgd", "lr_adamw", "weight_decay", "label_smoothing"):
            value = getattr(self, name)
            if (
                not isinstance(value, (tuple, list))
                or len(value) != 2
                or not all(_number(v, integer=name == "nodes") for v in value)
            ):
                raise GenesisError(f"space {name} must be a range [low, high], got {value!r}")
        lo, hi = self.nodes
        if not 2 <= lo <= hi <= self.max_nodes:
            raise GenesisError(
                f"space nodes must satisfy 2 <= low <= high <= max_nodes, got {self.nodes} with "
                f"max_nodes={self.max_nodes}"
            )
        for fam in self.families:
            if fam not in family_names():
                raise GenesisError(
                    f"space families must be among {', '.join(family_names())}, got {fam!r}"
                )
            spec = get_family(fam)
            if lo < spec.min_nodes:
                raise GenesisError(
                    f"space nodes low must be >= {spec.min_nodes} with family {fam} (the fewest "
                    f"nodes it can wire), got {self.nodes}"
                )
        for name, low in (("channels", 2), ("batch_sizes", 1)):
            bad = [v for v in getattr(self, name) if not _number(v, integer=True) or v < low]
            if bad:
                raise GenesisError(f"space {name} must be integers >= {low}, got {bad[0]!r}")
        unknown_opt = sorted(set(self.optimizers) - set(OPTIMIZERS))
        if unknown_opt:
            raise GenesisError(
                f"space optimizers {unknown_opt} are unknown; known: {', '.join(OPTIMIZERS)}"
            )
        unknown = sorted(set(self.ops) - set(op_names()))
        if unknown:
            raise GenesisError(
                f"space ops {unknown} are unknown; known ops: {', '.join(op_names())}"
            )
        if self.train_init not in TRAIN_INIT:
            raise GenesisError(
                f"space train_init must be one of {', '.join(TRAIN_INIT)}, got {self.train_init!r}"
            )
        if (
            not self.families
            or not self.channels
            or not self.batch_sizes
            or not self.optimizers
            or not self.ops
        ):
            raise GenesisError(
                "space families, channels, batch_sizes, optimizers and ops must be non-empty"
            )
        for name in ("lr_sgd", "lr_adamw", "weight_decay"):
            lo_v, hi_v = getattr(self, name)
            if not 0 < lo_v <= hi_v:
                raise GenesisError(
                    f"space {name} must be a range 0 < low <= high, got {(lo_v, hi_v)}"
                )
        lo_v, hi_v = self.label_smoothing
        if not 0 <= lo_v <= hi_v < 1:
            raise GenesisError(
                f"space label_smoothing must be a range 0 <= low <= high < 1, got {(lo_v, hi_v)}"
            )
        check_types(self, "space")
        if self.max_nodes > MAX_NODES:
            raise GenesisError(
                f"space max_nodes is {self.max_nodes}; the cap is MAX_NODES = {MAX_NODES}"
            )
        self._check_reachable()

    @property
    def num_classes(self) -> int:
        """Classifier outputs of every network the space draws."""
        return self.classes if self.classes is not None else get_preset(self.preset).num_classes

    def _check_reachable(self) -> None:
        """What the space draws is a valid genome: checked now, not when a run folder exists."""
        spec = get_preset(self.preset)
        widest = max(self.channels)
        stem, slots = spec.layout(widest, self.nodes[1], spec.stages)
        head = spec.head(widest)
        width = max(
            [layer.channels for layer in stem] + [s.channels for s in slots] + [head.channels]
        )
        if width > MAX_CHANNELS:
            raise GenesisError(
                f"space channels {widest} make preset {self.preset} {width} channels wide; the "
                f"cap is MAX_CHANNELS = {MAX_CHANNELS}"
            )
        if self.train_init == "sample":  # the ends of every range must make a TrainConfig
            for name in ("lr_sgd", "lr_adamw", "weight_decay", "label_smoothing"):
                field_name = "lr" if name.startswith("lr") else name
                for value in getattr(self, name):
                    try:
                        TrainConfig(**{field_name: value})
                    except GenesisError as exc:
                        raise GenesisError(f"space {name}: {exc}") from None
            for batch in self.batch_sizes:
                TrainConfig(batch_size=batch)


def _number(value: Any, integer: bool = False) -> bool:
    kind = int if integer else (int, float)
    return isinstance(value, kind) and not isinstance(value, bool) and math.isfinite(value)


def _scaled(width: int, factor: float) -> int:
    """``width * factor`` rounded to a multiple of 4 (at least 4, at most ``MAX_CHANNELS``), and
    never ``width`` itself below the cap."""
    new = max(4, int(round(width * factor / 4)) * 4)
    if new == width:
        new = width + 4 if factor > 1 else max(4, width - 4)
    return min(new, MAX_CHANNELS)  # a width at the cap stays there


def _with_op(G, op: str):
    """A copy of stage graph ``G`` whose compute nodes all have ``op``."""
    H = G.copy()
    for v in compute_nodes(H):
        H.nodes[v]["op"] = op
    return H


def _log_uniform(rng: random.Random, lo: float, hi: float) -> float:
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


class SearchSpace:
    """Sampling and variation of architectures within a :class:`SpaceConfig`.

    Every method takes the run's :class:`random.Random` and draws only from it.

    Examples
    --------
    >>> space = SearchSpace(SpaceConfig())
    >>> rng = random.Random(0)
    >>> arch = space.sample(rng)
    >>> child = space.mutate(arch, rng)
    >>> child.input_shape
    (1, 28, 28)
    """

    def __init__(self, cfg: SpaceConfig):
        self.cfg = cfg

    # -- drawing ---------------------------------------------------------------------------------
    def sample_generator(
        self, rng: random.Random, n: int, family: str | None = None
    ) -> tuple[str, dict[str, Any]]:
        """A family and parameters valid for ``n`` nodes, drawn from the family's registered
        ranges (:meth:`graphs.Family.sample`)."""
        family = family or rng.choice(self.cfg.families)
        return family, get_family(family).sample(rng, n)

    def sample_train(self, rng: random.Random, base):
        """Training hyperparameters drawn from the space (epochs kept from ``base``)."""
        opt = rng.choice(self.cfg.optimizers)
        lo, hi = self.cfg.lr_sgd if opt == "sgd" else self.cfg.lr_adamw
        return replace(
            base,
            optimizer=opt,
            lr=round(_log_uniform(rng, lo, hi), 6),
            weight_decay=round(_log_uniform(rng, *self.cfg.weight_decay), 8),
            label_smoothing=round(rng.uniform(*self.cfg.label_smoothing), 3),
            batch_size=rng.choice(self.cfg.batch_sizes),
        )

    def initial_train(self, rng: random.Random, base):
        """The hyperparameters of a new individual: ``base`` (the preset's recipe) at the
        smallest batch size, its learning rate kept within the optimizer's range; or, with
        ``train_init = "sample"``, :meth:`sample_train`. Draws from ``rng`` only to sample."""
        if self.cfg.train_init == "sample":
            return self.sample_train(rng, base)
        opt = base.optimizer if base.optimizer in self.cfg.optimizers else self.cfg.optimizers[0]
        lo, hi = self.cfg.lr_sgd if opt == "sgd" else self.cfg.lr_adamw
        lr = base.lr if base.optimizer == opt else math.sqrt(lo * hi)
        return replace(
            base,
            optimizer=opt,
            lr=round(min(hi, max(lo, lr)), 6),
            weight_decay=round(
                min(self.cfg.weight_decay[1], max(self.cfg.weight_decay[0], base.weight_decay)), 8
            ),
            label_smoothing=min(
                self.cfg.label_smoothing[1], max(self.cfg.label_smoothing[0], base.label_smoothing)
            ),
            batch_size=min(self.cfg.batch_sizes),
        )

    def sample(self, rng: random.Random) -> Architecture:
        """A new random architecture (RandWire-style sampling, the search's random baseline).

        One family, its parameters, a node count and a base width for the whole network, as
        RandWire draws them; each stage's nodes get one op drawn from the space's ``ops`` (the
        choice the ``rl`` controller makes per stage, so every strategy searches one space).
        """
        n = rng.randint(*self.cfg.nodes)
        family, params = self.sample_generator(rng, n)
        arch = build_architecture(
            self.cfg.preset,
            family,
            params,
            seed=rng,
            channels=rng.choice(self.cfg.channels),
            nodes=n,
            num_classes=self.cfg.classes,
        )
        stages = tuple(
            replace(s, graph=_with_op(s.graph, rng.choice(self.cfg.ops))) for s in arch.stages
        )
        return arch.replace(stages=stages, train=self.initial_train(rng, arch.train))

    # -- variation -------------------------------------------------------------------------------
    #: Mutation kinds and their weights: graph edits (edges, nodes, one node's op) most often; a
    #: stage redrawn from its generator; one op for a whole stage; one stage's width; the whole
    #: network's width (the move along the MAC axis that keeps the wiring); a training
    #: hyperparameter.
    MUTATIONS = {"graph": 4, "generator": 2, "op": 2, "width": 2, "scale": 2, "train": 2}

    def mutate(self, arch: Architecture, rng: random.Random) -> Architecture:
        """One mutation, drawn among graph, generator, stage-op, width, scale and hyperparameter
        moves."""
        kind = rng.choices(list(self.MUTATIONS), weights=list(self.MUTATIONS.values()))[0]
        return getattr(self, f"_mutate_{kind}")(arch, rng)

    def _pick_stage(self, arch: Architecture, rng: random.Random) -> int:
        return rng.randrange(len(arch.stages))

    def _with_stage(self, arch: Architecture, k: int, stage: Stage) -> Architecture:
        stages = list(arch.stages)
        stages[k] = stage
        return arch.replace(stages=tuple(stages))

    def _mutate_graph(self, arch: Architecture, rng: random.Random) -> Architecture:
        k = self._pick_stage(arch, rng)
        stage = arch.stages[k]
        G, name = mutate(stage.graph, seed=rng, ops=self.cfg.ops, max_nodes=self.cfg.max_nodes)
        origin = dict(stage.origin or {})
        origin["mutations"] = [*origin.get("mutations", []), name]
        return self._with_stage(arch, k, replace(stage, graph=G, origin=origin))

    def _mutate_generator(self, arch: Architecture, rng: random.Random) -> Architecture:
        """Redraw one stage from its family with perturbed parameters (or another family)."""
        k = self._pick_stage(arch, rng)
        stage = arch.stages[k]
        origin = dict(stage.origin or {})
        n = max(2, min(self.cfg.max_nodes, stage.num_nodes + rng.choice([-1, 0, 0, 1])))
        family = origin.get("family") if origin.get("family") in self.cfg.families else None
        if family is None or rng.random() < 0.25:
            family = rng.choice(self.cfg.families)
        n = max(n, get_family(family).min_nodes)  # e.g. Watts-Strogatz needs an even k < n
        family, params = self.sample_generator(rng, n, family)
        op = rng.choice(sorted(set(stage.ops().values())))
        G = random_dag(family, n, seed=rng, op=op, **params)
        origin = {"family": family, "params": params, "nodes": n}
        return self._with_stage(arch, k, replace(stage, graph=G, origin=origin))

    def _mutate_op(self, arch: Architecture, rng: random.Random) -> Architecture:
        """Give every node of one stage one op of the space, other than the stage's only op.

        The stage-wide move the ``rl`` controller makes; a single-node op change is a graph
        mutation. The wiring stays.
        """
        k = self._pick_stage(arch, rng)
        stage = arch.stages[k]
        here = set(stage.ops().values())
        choices = [o for o in self.cfg.ops if {o} != here] or list(self.cfg.ops)
        G = _with_op(stage.graph, rng.choice(choices))
        return self._with_stage(arch, k, replace(stage, graph=G))

    def _mutate_width(self, arch: Architecture, rng: random.Random) -> Architecture:
        """Scale one stage's width by 3/4 or 4/3 (rounded to a multiple of 4, at least 4)."""
        k = self._pick_stage(arch, rng)
        stage = arch.stages[k]
        width = _scaled(stage.channels, rng.choice([0.75, 4 / 3]))
        return self._with_stage(arch, k, replace(stage, channels=width))

    def _mutate_scale(self, arch: Architecture, rng: random.Random) -> Architecture:
        """Scale every width (stem, stages, head) by 3/4 or 4/3: a width multiplier.

        The wiring, ops and hyperparameters stay; MACs change by about the factor squared, so
        one move walks a good network along the accuracy x MACs trade-off.
        """
        factor = rng.choice([0.75, 4 / 3])
        stem = tuple(
            replace(layer, channels=_scaled(layer.channels, factor)) for layer in arch.stem
        )
        stages = tuple(replace(s, channels=_scaled(s.channels, factor)) for s in arch.stages)
        head = arch.head
        if head.channels:
            head = replace(head, channels=_scaled(head.channels, factor))
        return arch.replace(stem=stem, stages=stages, head=head)

    def _mutate_train(self, arch: Architecture, rng: random.Random) -> Architecture:
        """Perturb one training hyperparameter."""
        t = arch.train
        what = rng.choice(["lr", "weight_decay", "label_smoothing", "batch_size", "optimizer"])
        if what == "lr":
            lo, hi = self.cfg.lr_sgd if t.optimizer == "sgd" else self.cfg.lr_adamw
            t = replace(t, lr=round(min(hi, max(lo, t.lr * rng.choice([0.5, 2.0]))), 6))
        elif what == "weight_decay":
            lo, hi = self.cfg.weight_decay
            t = replace(
                t,
                weight_decay=round(min(hi, max(lo, t.weight_decay * rng.choice([1 / 3, 3.0]))), 8),
            )
        elif what == "label_smoothing":
            lo, hi = self.cfg.label_smoothing
            t = replace(
                t,
                label_smoothing=round(
                    min(hi, max(lo, t.label_smoothing + rng.choice([-0.05, 0.05]))), 3
                ),
            )
        elif what == "batch_size":  # a neighbouring size of the space's list
            sizes = sorted(set(self.cfg.batch_sizes) | {t.batch_size})
            here, step = sizes.index(t.batch_size), rng.choice([-1, 1])
            i = here + step if 0 <= here + step < len(sizes) else here - step
            t = replace(t, batch_size=sizes[min(len(sizes) - 1, max(0, i))])
        else:  # another optimizer, its learning rate at the same place in the new range
            others = [o for o in self.cfg.optimizers if o != t.optimizer] or [t.optimizer]
            opt = rng.choice(others)
            old = self.cfg.lr_sgd if t.optimizer == "sgd" else self.cfg.lr_adamw
            new = self.cfg.lr_sgd if opt == "sgd" else self.cfg.lr_adamw
            where = math.log(min(old[1], max(old[0], t.lr)) / old[0]) / max(
                math.log(old[1] / old[0]), 1e-12
            )
            lr = math.exp(math.log(new[0]) + where * math.log(new[1] / new[0]))
            t = replace(t, optimizer=opt, lr=round(lr, 6))
        return arch.replace(train=t)

    def crossover(
        self, a: Architecture, b: Architecture, rng: random.Random
    ) -> tuple[Architecture, Architecture]:
        """Exchange whole stages (uniformly, stage by stage), or splice one stage pair's graphs."""
        n = min(len(a.stages), len(b.stages))
        sa, sb = list(a.stages), list(b.stages)
        if rng.random() < 0.5:
            for k in range(n):
                if rng.random() < 0.5:
                    sa[k], sb[k] = (
                        replace(sb[k], stride=sa[k].stride),
                        replace(sa[k], stride=sb[k].stride),
                    )
        else:
            k = rng.randrange(n)
            ga, gb = crossover(sa[k].graph, sb[k].graph, seed=rng)
            sa[k] = replace(sa[k], graph=ga, origin={**(sa[k].origin or {}), "crossover": True})
            sb[k] = replace(sb[k], graph=gb, origin={**(sb[k].origin or {}), "crossover": True})
        return a.replace(stages=tuple(sa)), b.replace(stages=tuple(sb))
