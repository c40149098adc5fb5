"""Macro layouts (presets) and the builder that fills them with random stages.

A preset fixes what a graph generator does not: input shape, class count, stem, how many random
stages with which widths and strides, head and default training hyperparameters. Presets live in
:data:`PRESETS`, filled by :func:`register_preset` (timm's ``@register_model``); any preset works
with any graph family of :func:`graphs.random_dag`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from networkx.utils import create_py_random_state

from genesis.genome import Architecture, Head, Stage, StemLayer, TrainConfig
from genesis.limits import MAX_CHANNELS, MAX_NODES, MAX_STAGES
from graphs import DEFAULT_OP, GenesisError, random_dag
from graphs.registry import Registry

__all__ = [
    "PRESETS",
    "DEFAULT_PRESET",
    "Preset",
    "StageSlot",
    "register_preset",
    "get_preset",
    "preset_names",
    "build_architecture",
]

DEFAULT_PRESET = "fashion-mnist"


@dataclass(frozen=True)
class StageSlot:
    """Where a random stage goes: how many nodes, how wide, with what stride."""

    nodes: int  # compute nodes
    channels: int  # output width
    stride: int  # stride of the nodes the stage input feeds


@dataclass(frozen=True)
class Preset:
    """A macro layout with defaults for width ``C``, nodes per stage ``N`` and stage count ``S``."""

    name: str  # registry key
    description: str  # one line for listings
    input_shape: tuple[int, int, int]  # (C, H, W) of one example
    num_classes: int  # classifier outputs
    channels: int  # default base width C
    nodes: int  # default nodes per random stage N
    stages: int  # default number of random stages S
    layout: Callable[
        [int, int, int], tuple[list[StemLayer], list[StageSlot]]
    ]  # (C, N, S) -> stem, slots
    head: Callable[[int], Head]  # C -> head
    train: TrainConfig = field(default_factory=TrainConfig)  # default hyperparameters
    family: str = "ws"  # default graph family
    params: Mapping[str, Any] = field(default_factory=lambda: {"k": 4, "p": 0.75})  # its parameters


#: Preset name -> :class:`Preset`, in registration order.
PRESETS: Registry[Preset] = Registry("preset", "unknown preset {name}; known presets: {known}")


def register_preset(preset: Preset) -> Preset:
    """Add ``preset`` to :data:`PRESETS` under its name (replacing one of the same name)."""
    return PRESETS.register(preset.name, preset)


def get_preset(name: str) -> Preset:
    """The preset ``name``; raises :class:`GenesisError` listing the known ones."""
    return PRESETS.get(name)


def preset_names() -> list[str]:
    """Registered preset names in registration order (the default, ``fashion-mnist``, first).

    Examples
    --------
    >>> preset_names()[:2]
    ['fashion-mnist', 'cifar10']
    """
    return PRESETS.names()


def _compact(c: int, n: int, s: int) -> tuple[list[StemLayer], list[StageSlot]]:
    """Stem 3x3 conv to C at full size; stage i has C * 2^i channels, stride 2 after the first."""
    slots = [StageSlot(n, c * 2**i, 1 if i == 0 else 2) for i in range(s)]
    return [StemLayer(c, 1)], slots


def _randwire_small(c: int, n: int, s: int) -> tuple[list[StemLayer], list[StageSlot]]:
    """RandWire small regime: conv1 3x3/2 to C/2, conv2 3x3/2 to C, then N-node stages C, 2C, 4C."""
    return [StemLayer(c // 2, 2), StemLayer(c, 2)], [StageSlot(n, c * 2**i, 2) for i in range(s)]


def _randwire_regular(c: int, n: int, s: int) -> tuple[list[StemLayer], list[StageSlot]]:
    """RandWire regular regime: conv1 3x3/2 to C/2, an N/2-node stage of C, then 2C, 4C, 8C."""
    slots = [StageSlot(max(2, n // 2), c, 2)] + [StageSlot(n, c * 2**i, 2) for i in range(1, s)]
    return [StemLayer(c // 2, 2)], slots


register_preset(
    Preset(
        name="fashion-mnist",
        description="28x28x1, 10 classes: compact 3-stage network for Fashion-MNIST / MNIST",
        input_shape=(1, 28, 28),
        num_classes=10,
        channels=16,
        nodes=8,
        stages=3,
        layout=_compact,
        head=lambda c: Head(channels=8 * c),
        # Measured: 0.932 test accuracy with 59k params in 15 epochs (benchmarks/bench_quality.py)
        train=TrainConfig(optimizer="sgd", lr=0.1, weight_decay=5e-4, batch_size=128, epochs=15),
    )
)
register_preset(
    Preset(
        name="cifar10",
        description="32x32x3, 10 classes: compact 3-stage network for CIFAR-10",
        input_shape=(3, 32, 32),
        num_classes=10,
        channels=32,
        nodes=8,
        stages=3,
        layout=_compact,
        head=lambda c: Head(channels=8 * c),
        train=TrainConfig(optimizer="sgd", lr=0.1, weight_decay=5e-4, batch_size=128, epochs=30),
    )
)
register_preset(
    Preset(
        name="randwire-small",
        description="224x224x3, 1000 classes: RandWire small regime (C=78, N=32)",
        input_shape=(3, 224, 224),
        num_classes=1000,
        channels=78,
        nodes=32,
        stages=3,
        layout=_randwire_small,
        head=lambda c: Head(channels=1280),
        train=TrainConfig(lr=0.1, batch_size=256, epochs=100, schedule="cosine"),
    )
)
register_preset(
    Preset(
        name="randwire-regular",
        description="224x224x3, 1000 classes: RandWire regular regime (C=109 or 154, N=32)",
        input_shape=(3, 224, 224),
        num_classes=1000,
        channels=109,
        nodes=32,
        stages=4,
        layout=_randwire_regular,
        head=lambda c: Head(channels=1280),
        train=TrainConfig(lr=0.1, batch_size=256, epochs=100, schedule="cosine"),
    )
)


def build_architecture(
    preset: str = DEFAULT_PRESET,
    family: str | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    seed=None,
    channels: int | None = None,
    nodes: int | None = None,
    stages: int | None = None,
    op: str = DEFAULT_OP,
    train: TrainConfig | None = None,
    num_classes: int | None = None,
) -> Architecture:
    """Fill a preset's layout with stages drawn from a graph family.

    Parameters
    ----------
    preset : str
        A name in :data:`PRESETS`.
    family : str, optional
        A registered family (:func:`graphs.family_names`: ``"er"``, ``"ws"``, ``"ba"``, ...) or
        ``"nx:<generator>"``; default the preset's (WS).
    params : mapping, optional
        The family's parameters (e.g. ``{"k": 4, "p": 0.75}``); default the preset's when the
        family is the preset's, else none.
    seed : int, random.Random or None
        One generator draws every stage in turn, so the same seed gives the same architecture.
    channels, nodes, stages : int, optional
        Override the preset's base width ``C``, nodes per stage ``N`` and stage count ``S``.
    op : str
        Op of every compute node.
    train : TrainConfig, optional
        Override the preset's training hyperparameters.
    num_classes : int, optional
        Override the preset's classifier outputs (a dataset of another number of classes).

    Examples
    --------
    >>> arch = build_architecture("fashion-mnist", "ws", {"k": 4, "p": 0.75}, seed=0)
    >>> [s.channels for s in arch.stages], [s.num_nodes for s in arch.stages]
    ([16, 32, 64], [8, 8, 8])
    """
    spec = get_preset(preset)
    fam = family or spec.family
    if params is None:
        params = dict(spec.params) if fam == spec.family else {}
    c = spec.channels if channels is None else channels
    n = spec.nodes if nodes is None else nodes
    s = spec.stages if stages is None else stages
    caps = (
        ("channels", c, 2, "MAX_CHANNELS", MAX_CHANNELS),
        ("nodes", n, 2, "MAX_NODES", MAX_NODES),
        ("stages", s, 1, "MAX_STAGES", MAX_STAGES),
    )
    for what, value, low, cap_name, cap in caps:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise GenesisError(f"{what} must be an integer >= {low}, got {value!r}")
        if value > cap:  # before any graph is drawn
            raise GenesisError(f"{what} is {value}; the cap is {cap_name} = {cap}")
    reserved = sorted({"family", "n", "seed", "op"} & set(params))
    if reserved:
        raise GenesisError(
            f"graph parameters may not set {reserved}; use the family, nodes, seed and op "
            "arguments instead"
        )
    stem, slots = spec.layout(c, n, s)
    rng = create_py_random_state(seed)
    drawn = []
    for slot in slots:
        G = random_dag(fam, slot.nodes, seed=rng, op=op, **params)
        origin = {"family": fam, "params": dict(params), "nodes": slot.nodes}
        drawn.append(Stage(G, slot.channels, slot.stride, origin=origin))
    return Architecture(
        input_shape=spec.input_shape,
        num_classes=spec.num_classes if num_classes is None else num_classes,
        stem=tuple(stem),
        stages=tuple(drawn),
        head=spec.head(c),
        train=train or spec.train,
        name=spec.name,
        meta={
            "preset": spec.name,
            "family": fam,
            "params": dict(params),
            "channels": c,
            "nodes": n,
            "stages": s,
            "seed": seed if isinstance(seed, int) else None,
        },
    )
