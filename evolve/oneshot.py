"""Gradient NAS over random-graph stages: first-order DARTS with a MAC target (``genesis oneshot``).

A supernet (:class:`genesis.supernet.Supernet`) of a preset's layout is trained in alternating
steps: its weights on one half of the proxy's training subset, its architecture weights (op
logits and edge gates) on the other half, first order (DARTS [1]_), the architecture loss adding
FBNet's [2]_ cost term ``mac_weight * |log(E[MACs] / target_macs)|``. Op probabilities are a
softmax at a temperature annealed from ``temperature`` to ``temperature_end``, or a Gumbel-softmax
sample (``gumbel``). After the last epoch the architecture weights are *derived* into an ordinary
:class:`~genesis.Architecture` (:meth:`~genesis.supernet.Supernet.derive`): each node its
``top_k`` strongest in-edges and its most probable op, nodes that no longer reach the output
dropped; it is validated, hashed and counted as any other, with ``meta.origin = "oneshot"``.

The search state (weights, architecture weights, both optimizers, the random generators and the
curves) is saved after every epoch (:mod:`evolve.oneshotrun`), so a killed run resumes losing
nothing: the resumed run ends with the same architecture weights as one never stopped.

References
----------
.. [1] H. Liu, K. Simonyan, Y. Yang. "DARTS: Differentiable Architecture Search". ICLR 2019.
.. [2] B. Wu et al. "FBNet: Hardware-Aware Efficient ConvNet Design via Differentiable Neural
   Architecture Search". CVPR 2019, equation 4 (here the log-ratio's absolute value).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from evolve.checks import check_types
from evolve.configfile import build_section
from evolve.numbers import positive
from evolve.trainings import FinalConfig, ProxyConfig
from genesis import Architecture, GenesisError, Stage, get_preset, op_names
from genesis.limits import MAX_CHANNELS, MAX_STAGES
from graphs import family_names

__all__ = [
    "MAX_ONESHOT_EPOCHS",
    "ONESHOT_OPS",
    "OneshotConfig",
    "OneshotRunConfig",
    "build_template",
    "temperature_at",
]

#: The ops a supernet node mixes by default: the issue's list, RandWire's Figure 6 ops (a
#: separable and a plain 3x3 convolution, the two pool + 1x1 ops) and the parameter-free
#: identity (DARTS' skip connection).
ONESHOT_OPS = ("sep_conv_3x3", "conv_3x3", "max_pool_conv_1x1", "avg_pool_conv_1x1", "identity")

#: Most supernet epochs a run may ask for (each one trains every op of every node).
MAX_ONESHOT_EPOCHS = 1000


@dataclass(frozen=True)
class OneshotConfig:
    """The supernet, its training and its derivation (``[oneshot]``)."""

    preset: str = "fashion-mnist"  # macro layout: stem, stage widths and strides, head, recipe
    channels: int = 8  # base width C of the preset's layout
    nodes: int = 4  # compute nodes N of every stage's candidate graph
    stages: int | None = None  # stages; None: the preset's
    graph: str = "complete"  # "complete" (every u -> v, u < v) or a family, K samples united
    graph_samples: int = 4  # K: random graphs united per stage (a family's graph only)
    ops: tuple[str, ...] = ONESHOT_OPS  # the ops every node mixes
    top_k: int = 2  # in-edges each derived node keeps (by gate)
    epochs: int = 4  # supernet epochs: each alternates weight and architecture steps
    warmup_epochs: int = 1  # first epochs train the weights only (FBNet, ProxylessNAS)
    batch_size: int = 64  # examples per step, weights and architecture alike
    lr: float = 0.05  # weights: SGD (Nesterov momentum 0.9), cosine to 0 over the epochs
    weight_decay: float = 3e-4  # weights: L2
    arch_lr: float = 3e-3  # architecture weights: Adam (betas 0.5, 0.999), as DARTS
    arch_weight_decay: float = 1e-3  # architecture weights: L2
    # E[MACs] target of the cost term; None: no cost term (plain DARTS)
    target_macs: float | None = 1e6
    mac_weight: float = 0.5  # lambda of the cost term lambda * |log(E[MACs] / target_macs)|
    temperature: float = 1.0  # softmax temperature of the op choice at the first epoch
    temperature_end: float = 1.0  # ... at the last (annealed geometrically, as FBNet)
    gumbel: bool = False  # sample op weights with Gumbel-softmax instead of the softmax
    seed: int = 0  # weights, batches, Gumbel noise and sampled graphs
    final: bool = False  # retrain the derived network on all training data, score it on test

    def __post_init__(self) -> None:
        get_preset(self.preset)  # an unknown preset lists the known ones
        positive("oneshot", "channels", self.channels)
        positive("oneshot", "nodes", self.nodes)
        positive("oneshot", "stages", self.stages, allow_none=True)
        positive("oneshot", "graph_samples", self.graph_samples)
        positive("oneshot", "top_k", self.top_k)
        positive("oneshot", "epochs", self.epochs)
        positive("oneshot", "batch_size", self.batch_size)
        for name in ("lr", "arch_lr", "temperature", "temperature_end"):
            positive("oneshot", name, getattr(self, name), integer=False)
        positive("oneshot", "target_macs", self.target_macs, integer=False, allow_none=True)
        for name in ("weight_decay", "arch_weight_decay", "mac_weight"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not (math.isfinite(value) and value >= 0)
            ):
                raise GenesisError(f"oneshot {name} must be a number >= 0, got {value!r}")
        if self.epochs > MAX_ONESHOT_EPOCHS:
            raise GenesisError(
                f"oneshot epochs is {self.epochs}; the cap is MAX_ONESHOT_EPOCHS = "
                f"{MAX_ONESHOT_EPOCHS}"
            )
        if isinstance(self.warmup_epochs, bool) or not isinstance(self.warmup_epochs, int):
            raise GenesisError(
                f"oneshot warmup_epochs must be an integer, got {self.warmup_epochs!r}"
            )
        if not 0 <= self.warmup_epochs < self.epochs:
            raise GenesisError(
                f"oneshot warmup_epochs must be in 0..epochs - 1 = {self.epochs - 1} (the "
                f"architecture trains after it), got {self.warmup_epochs}: give fewer warm-up "
                "epochs (--warmup-epochs) or more epochs"
            )
        if self.graph not in ("complete", *family_names()):
            raise GenesisError(
                f"oneshot graph must be complete or a graph family "
                f"({', '.join(family_names())}), got {self.graph!r}"
            )
        if not self.ops:
            raise GenesisError("oneshot ops must name at least one op")
        unknown = sorted(set(self.ops) - set(op_names()))
        if unknown:
            raise GenesisError(
                f"oneshot ops {unknown} are unknown; known ops: {', '.join(op_names())}"
            )
        if len(set(self.ops)) != len(self.ops):
            raise GenesisError(f"oneshot ops lists an op twice: {list(self.ops)}")
        check_types(self, "oneshot")
        build_template(self)  # widths, nodes and stages within their caps, before any run


def _oneshot_proxy() -> ProxyConfig:
    """A oneshot run's data: a 4000-example subset (2000 train the weights, 2000 the
    architecture), the usual validation split (scored each epoch)."""
    return ProxyConfig(subset=4000, rungs=(), epochs=None, time_limit=None)


def _oneshot_final() -> FinalConfig:
    """The final step of a oneshot run: one network, 8 epochs or 5 minutes at batch 256."""
    return FinalConfig(seconds=300.0)


@dataclass(frozen=True)
class OneshotRunConfig:
    """Everything ``genesis oneshot`` needs: the supernet (``[oneshot]``), the data
    (``[proxy]``: dataset, subset, validation split, device; its rungs and epochs are unused)
    and the final step (``[final]``)."""

    oneshot: OneshotConfig = field(default_factory=OneshotConfig)
    proxy: ProxyConfig = field(default_factory=_oneshot_proxy)
    final: FinalConfig = field(default_factory=_oneshot_final)

    def __post_init__(self) -> None:
        if self.proxy.fitness != "train":
            raise GenesisError(
                f"a oneshot run trains its supernet: proxy fitness must be train, got "
                f"{self.proxy.fitness!r}"
            )
        subset = self.proxy.subset
        if subset is not None and subset < 2:
            raise GenesisError(
                f"a oneshot run splits proxy subset in two halves: it needs at least 2 "
                f"examples, got {subset}"
            )

    def with_overrides(self, **sections: dict[str, Any]) -> OneshotRunConfig:
        """A copy with some fields of some sections replaced (``None`` values are ignored)."""
        changed = {}
        for name, values in sections.items():
            values = {k: v for k, v in values.items() if v is not None}
            if values:
                current = getattr(self, name)
                changed[name] = build_section(type(current), name, {**asdict(current), **values})
        return replace(self, **changed)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Plain data, one table per section."""
        return {f.name: asdict(getattr(self, f.name)) for f in fields(self)}

    def to_toml(self) -> str:
        """TOML text that :func:`evolve.config.load_config` (``kind=OneshotRunConfig``) reads
        back to an equal config."""
        from evolve.configfile import dump_config

        return dump_config(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> OneshotRunConfig:
        """Build from tables (unknown tables or keys are errors)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise GenesisError(
                f"{source}: unknown table(s) {unknown}; a oneshot run knows {sorted(known)}"
            )
        defaults = cls()
        parts = {}
        for f in fields(cls):
            table = data.get(f.name, {})
            if not isinstance(table, dict):
                raise GenesisError(f"{source}: [{f.name}] must be a table")
            base = asdict(getattr(defaults, f.name))
            parts[f.name] = build_section(
                type(getattr(defaults, f.name)), f"{source} [{f.name}]", {**base, **table}
            )
        return cls(**parts)


def build_template(cfg: OneshotConfig) -> Architecture:
    """The preset's layout at width ``channels`` with ``stages`` stages, each stage's graph
    its candidate graph (:func:`graphs.candidates.candidate_graph`, drawn from ``seed``).

    Raises
    ------
    GenesisError
        For nodes past :data:`graphs.candidates.MAX_SUPERNET_NODES`, a width past
        ``MAX_CHANNELS`` or stages past ``MAX_STAGES``, before any graph is drawn.
    """
    import random

    from graphs.candidates import MAX_SUPERNET_NODES, candidate_graph

    spec = get_preset(cfg.preset)
    stages = spec.stages if cfg.stages is None else cfg.stages
    if stages > MAX_STAGES:
        raise GenesisError(f"oneshot stages is {stages}; the cap is MAX_STAGES = {MAX_STAGES}")
    if cfg.nodes > MAX_SUPERNET_NODES or cfg.nodes < 2:
        raise GenesisError(
            f"oneshot nodes must be in 2..{MAX_SUPERNET_NODES}, got {cfg.nodes}; the cap is "
            f"MAX_SUPERNET_NODES = {MAX_SUPERNET_NODES}"
        )
    if cfg.channels > MAX_CHANNELS:
        raise GenesisError(
            f"oneshot channels is {cfg.channels}; the cap is MAX_CHANNELS = {MAX_CHANNELS}"
        )
    stem, slots = spec.layout(cfg.channels, cfg.nodes, stages)
    rng = random.Random(cfg.seed)
    drawn = []
    for slot in slots:
        G = candidate_graph(cfg.nodes, cfg.graph, cfg.graph_samples, seed=rng)
        origin = {"family": "oneshot", "supernet": cfg.graph, "nodes": cfg.nodes}
        if cfg.graph != "complete":
            origin["samples"] = cfg.graph_samples
        drawn.append(Stage(G, slot.channels, slot.stride, origin=origin))
    return Architecture(
        input_shape=spec.input_shape,
        num_classes=spec.num_classes,
        stem=tuple(stem),
        stages=tuple(drawn),
        head=spec.head(cfg.channels),
        train=spec.train,
        name=spec.name,
    )


def temperature_at(cfg: OneshotConfig, epoch: int) -> float:
    """The op softmax's temperature in ``epoch`` (0-based): ``temperature`` at the first,
    ``temperature_end`` at the last, geometric in between.

    Examples
    --------
    >>> cfg = OneshotConfig(epochs=3, temperature=4.0, temperature_end=1.0)
    >>> [temperature_at(cfg, e) for e in range(3)]
    [4.0, 2.0, 1.0]
    """
    if cfg.epochs == 1:
        return float(cfg.temperature)
    ratio = cfg.temperature_end / cfg.temperature
    return float(cfg.temperature * ratio ** (epoch / (cfg.epochs - 1)))
