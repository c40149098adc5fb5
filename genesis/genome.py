"""The architecture genome: a whole network as plain data, with a versioned JSON form.

An :class:`Architecture` is an input shape, a class count, a stem of plain convolutions, an
ordered list of :class:`Stage` (each a stage DAG from :mod:`graphs` with an op per compute node,
an output width and a stride), a :class:`Head`, and the :class:`TrainConfig` hyperparameters
the network is trained with. Everything is frozen; variation builds new genomes.

The JSON form (``schema = "genesis.architecture"``, ``version = 1``) is the only way genomes
cross a process or a person: it is read with :func:`json.loads`, never executed. Its codec lives
in :mod:`genesis.genomejson`; :meth:`Architecture.to_json`, :meth:`Architecture.from_json`,
:func:`load_architecture` and :func:`save_architecture` call it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import networkx as nx

from genesis import genomejson
from genesis.genomejson import SCHEMA, SCHEMA_VERSION, GenomeKinds, encode_stage
from genesis.genomejson import short_repr as _short
from genesis.limits import (
    MAX_CHANNELS,
    MAX_CLASSES,
    MAX_INPUT_CHANNELS,
    MAX_KERNEL,
    MAX_META_DEPTH,
    MAX_NAME_CHARS,
    MAX_RESOLUTION,
    MAX_STAGES,
    MAX_STEM_LAYERS,
    MAX_TEXT_CHARS,
    check_count,
)
from genesis.ops import OPS
from graphs import GenesisError, check_size, graph_stats, validate_dag

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "StemLayer",
    "Stage",
    "Head",
    "TrainConfig",
    "Architecture",
    "load_architecture",
    "save_architecture",
]

OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("cosine", "onecycle", "constant")


def _positive_int(
    owner: str, name: str, value: Any, minimum: int = 1, cap: tuple[str, int] | None = None
) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise GenesisError(f"{owner} {name} must be an integer >= {minimum}, got {_short(value)}")
    if cap is not None and value > cap[1]:
        raise GenesisError(f"{owner} {name} is {value}; the cap is {cap[0]} = {cap[1]}")


def _number(owner: str, name: str, value: Any, low: float, high: float, *, open_low=False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if open_low else value >= low) and value <= high
    if not ok:
        bound = "(" if open_low else "["
        raise GenesisError(f"{owner} {name} must be in {bound}{low}, {high}], got {value!r}")


def _floats(obj: Any, names: Iterable[str]) -> None:
    """Store validated numbers as floats, so that 0 and 0.0 serialize and hash alike."""
    for name in names:
        object.__setattr__(obj, name, float(getattr(obj, name)))


def _stride(owner: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value not in (1, 2):
        raise GenesisError(f"{owner} stride must be 1 or 2, got {value!r}")


@dataclass(frozen=True)
class StemLayer:
    """A plain k x k convolution with batch norm before the stages (RandWire's conv1/conv2)."""

    channels: int  # output width
    stride: int = 1  # 1 keeps the resolution, 2 halves it
    kernel: int = 3  # square kernel size, odd

    def __post_init__(self) -> None:
        _positive_int("stem layer", "channels", self.channels, cap=("MAX_CHANNELS", MAX_CHANNELS))
        _stride("stem layer", self.stride)
        _positive_int("stem layer", "kernel", self.kernel, cap=("MAX_KERNEL", MAX_KERNEL))
        if self.kernel % 2 == 0:
            raise GenesisError(f"stem layer kernel must be odd, got {self.kernel}")


@dataclass(frozen=True, eq=False)
class Stage:
    """One randomly wired stage: a stage DAG whose compute nodes carry ops.

    The nodes the input feeds take the stage input with ``stride`` and change the width to
    ``channels``; the others keep it; the output node averages the nodes that feed it.
    """

    graph: nx.DiGraph  # stage DAG (see graphs.dag), compute nodes with an "op" attribute
    channels: int  # output width of every compute node
    stride: int = 2  # stride of the nodes the input feeds: 2 downsamples, 1 keeps
    origin: Mapping[str, Any] | None = (
        None  # how the graph was drawn (family, params, seed); not hashed
    )

    def __post_init__(self) -> None:
        _positive_int("stage", "channels", self.channels, cap=("MAX_CHANNELS", MAX_CHANNELS))
        if isinstance(self.graph, nx.DiGraph):
            check_size(self.graph.number_of_nodes() - 2, self.graph.number_of_edges(), "stage")
        _stride("stage", self.stride)
        bad = [v for v in self.graph if isinstance(v, bool) or not isinstance(v, int)]
        if bad:
            raise GenesisError(f"stage node ids must be integers, got {bad[0]!r}")
        if self.origin is not None and not isinstance(self.origin, Mapping):
            raise GenesisError(f"stage origin must be a JSON object, got {_short(self.origin)}")
        if self.origin is not None:
            check_free_text(self.origin, "stage origin")
        validate_dag(self.graph, name="graph")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Stage):
            return NotImplemented
        return encode_stage(self) == encode_stage(other)

    __hash__ = None  # type: ignore[assignment]  # holds a mutable graph

    @property
    def num_nodes(self) -> int:
        """Compute nodes (all but the input and output node)."""
        return self.graph.number_of_nodes() - 2

    def ops(self) -> dict[Any, str]:
        """Op name of every compute node."""
        src, dst = self.graph.graph["input"], self.graph.graph["output"]
        return {v: d["op"] for v, d in self.graph.nodes(data=True) if v not in (src, dst)}


@dataclass(frozen=True)
class Head:
    """Classifier: ReLU, optional 1x1 conv to ``channels`` + BN + ReLU, pool, dropout, fc."""

    channels: int = 0  # width of the 1x1 conv before pooling (RandWire: 1280); 0 for none
    dropout: float = 0.0  # dropout probability before the final linear layer

    def __post_init__(self) -> None:
        _positive_int(
            "head", "channels", self.channels, minimum=0, cap=("MAX_CHANNELS", MAX_CHANNELS)
        )
        _number("head", "dropout", self.dropout, 0.0, 1.0)
        if self.dropout >= 1.0:
            raise GenesisError(f"head dropout must be below 1, got {self.dropout}")
        _floats(self, ("dropout",))


@dataclass(frozen=True)
class TrainConfig:
    """Training hyperparameters the architecture is evaluated with."""

    optimizer: str = "sgd"  # "sgd" (Nesterov momentum) or "adamw"
    lr: float = 0.1  # peak learning rate
    momentum: float = 0.9  # SGD momentum (ignored by AdamW)
    weight_decay: float = 5e-5  # decoupled for AdamW, L2 for SGD
    batch_size: int = 128  # examples per step
    epochs: int = 10  # passes over the training split
    label_smoothing: float = 0.1  # cross-entropy label smoothing
    schedule: str = "onecycle"  # "cosine", "onecycle" or "constant"
    warmup_epochs: float = 0.0  # linear warm-up before the cosine schedule

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise GenesisError(
                f"train optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}"
            )
        if self.schedule not in SCHEDULES:
            raise GenesisError(
                f"train schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}"
            )
        _number("train", "lr", self.lr, 0.0, 10.0, open_low=True)
        _number("train", "momentum", self.momentum, 0.0, 1.0)
        _number("train", "weight_decay", self.weight_decay, 0.0, 1.0)
        _positive_int("train", "batch_size", self.batch_size)
        _positive_int("train", "epochs", self.epochs)
        _number("train", "label_smoothing", self.label_smoothing, 0.0, 1.0)
        if self.label_smoothing >= 1.0:
            raise GenesisError(f"train label_smoothing must be below 1, got {self.label_smoothing}")
        _number("train", "warmup_epochs", self.warmup_epochs, 0.0, 1e6)
        _floats(self, ("lr", "momentum", "weight_decay", "label_smoothing", "warmup_epochs"))


@dataclass(frozen=True, eq=False)
class Architecture:
    """A whole network: input, stem, randomly wired stages, head and training hyperparameters.

    Examples
    --------
    >>> from graphs import watts_strogatz
    >>> arch = Architecture(
    ...     input_shape=(1, 28, 28), num_classes=10, stem=(StemLayer(16),),
    ...     stages=(Stage(watts_strogatz(8, 4, 0.75, seed=0), channels=32),),
    ... )
    >>> Architecture.from_json(arch.to_json()) == arch
    True
    """

    input_shape: tuple[int, int, int]  # (channels, height, width) of one example
    num_classes: int  # classifier outputs, >= 2
    stem: tuple[StemLayer, ...]  # plain convolutions before the stages
    stages: tuple[Stage, ...]  # randomly wired stages, in order
    head: Head = field(default_factory=Head)  # classifier
    train: TrainConfig = field(default_factory=TrainConfig)  # training hyperparameters
    name: str = ""  # free text, e.g. the preset; not hashed
    meta: Mapping[str, Any] = field(
        default_factory=dict
    )  # provenance (seed, generator); not hashed

    def __post_init__(self) -> None:
        self._check_input()
        object.__setattr__(self, "stem", tuple(self.stem))
        object.__setattr__(self, "stages", tuple(self.stages))
        if not self.stages:
            raise GenesisError("an architecture needs at least one stage, got none")
        check_count("an architecture", len(self.stages), "stages", "MAX_STAGES", MAX_STAGES)
        check_count(
            "an architecture", len(self.stem), "stem layers", "MAX_STEM_LAYERS", MAX_STEM_LAYERS
        )
        if not isinstance(self.name, str):
            raise GenesisError(f"architecture name must be a string, got {_short(self.name)}")
        check_line(self.name, "architecture name", MAX_NAME_CHARS, "MAX_NAME_CHARS")
        self._check_parts()
        if not isinstance(self.meta, Mapping):
            raise GenesisError(f"meta must be a JSON object, got {type(self.meta).__name__}")
        check_free_text(self.meta, "meta")

    def _check_input(self) -> None:
        """``input_shape`` (stored as a tuple) and ``num_classes``, within their caps."""
        shape = tuple(self.input_shape) if isinstance(self.input_shape, (list, tuple)) else None
        if shape is None or len(shape) != 3:
            raise GenesisError(
                f"input_shape must be [channels, height, width], got {self.input_shape!r}"
            )
        caps = (
            ("MAX_INPUT_CHANNELS", MAX_INPUT_CHANNELS),
            ("MAX_RESOLUTION", MAX_RESOLUTION),
            ("MAX_RESOLUTION", MAX_RESOLUTION),
        )
        for axis, value, cap in zip(("channels", "height", "width"), shape, caps, strict=True):
            _positive_int("input_shape", axis, value, cap=cap)
        object.__setattr__(self, "input_shape", shape)
        if (
            isinstance(self.num_classes, bool)
            or not isinstance(self.num_classes, int)
            or (self.num_classes < 2)
        ):
            raise GenesisError(
                f"num_classes must be an integer >= 2, got {_short(self.num_classes)}"
            )
        if self.num_classes > MAX_CLASSES:
            raise GenesisError(
                f"num_classes is {self.num_classes}; the cap is MAX_CLASSES = {MAX_CLASSES}"
            )

    def _check_parts(self) -> None:
        """Each stage a :class:`Stage` whose ops are registered, each stem layer a
        :class:`StemLayer`, the head a :class:`Head` and the training a :class:`TrainConfig`."""
        for i, stage in enumerate(self.stages):
            if not isinstance(stage, Stage):
                raise GenesisError(f"stage {i} must be a Stage, got {type(stage).__name__}")
            validate_dag(stage.graph, ops=OPS, name=f"stage {i}")
        for i, layer in enumerate(self.stem):
            if not isinstance(layer, StemLayer):
                raise GenesisError(
                    f"stem layer {i} must be a StemLayer, got {type(layer).__name__}"
                )
        for what, value in (("head", self.head), ("train", self.train)):
            expected = Head if what == "head" else TrainConfig
            if not isinstance(value, expected):
                raise GenesisError(
                    f"{what} must be a {expected.__name__}, got {type(value).__name__}"
                )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Architecture):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    # -- derived facts ---------------------------------------------------------------------------
    def op_names(self) -> set[str]:
        """Every op name the stages use."""
        return {op for stage in self.stages for op in stage.ops().values()}

    def stage_stats(self) -> list[dict[str, float | int]]:
        """:func:`graphs.graph_stats` of each stage, in order."""
        return [graph_stats(stage.graph) for stage in self.stages]

    def replace(self, **changes: Any) -> Architecture:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    # -- JSON (genesis.genomejson) ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form (:func:`genesis.genomejson.encode`)."""
        return genomejson.encode(self)

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as a JSON string."""
        return genomejson.to_json(self, indent)

    @classmethod
    def from_dict(cls, data: Any) -> Architecture:
        """Build and validate an architecture from its JSON-ready form
        (:func:`genesis.genomejson.decode`: every count is checked before any graph is built).

        Raises
        ------
        GenesisError
            For a wrong schema or version, a missing or unknown field, any invalid value, a
            string with a lone surrogate, or a value past a cap of :mod:`genesis.limits`.
        """
        return genomejson.decode(data, _kinds(cls))

    @classmethod
    def from_json(cls, text: str, source: str = "architecture JSON") -> Architecture:
        """Parse JSON text; ``source`` names it in messages (:func:`genesis.genomejson.parse`:
        a key given twice is refused)."""
        return genomejson.from_json(text, _kinds(cls), source)


def _kinds(cls: type) -> GenomeKinds:
    """The dataclasses the codec builds, ``cls`` as the architecture."""
    return GenomeKinds(cls, StemLayer, Stage, Head, TrainConfig)


def load_architecture(path: str | os.PathLike) -> Architecture:
    """Read an architecture JSON file; never executes anything from it.

    :func:`genesis.genomejson.load` with the genome's dataclasses: a file that is missing,
    unreadable, not a regular file, over :data:`genesis.limits.MAX_FILE_BYTES`, or not a valid
    architecture (one past a cap of :mod:`genesis.limits` included) is a :class:`GenesisError`.
    """
    return genomejson.load(path, _kinds(Architecture))


def save_architecture(arch: Architecture, path: str | os.PathLike) -> Path:
    """Write ``arch`` as JSON, atomically (:func:`genesis.genomejson.save`)."""
    return genomejson.save(arch, path)


def check_line(text: str, where: str, limit: int, cap: str) -> None:
    """Refuse ``text`` unless it is one line of at most ``limit`` printable characters.

    ``str.isprintable`` refuses line breaks of every kind (``\\n``, ``\\r``, U+2028, U+2029, NEL),
    tabs, control and format characters (terminal escapes, bidirectional overrides) and lone
    surrogates: a name can then never end a line, a comment or a docstring in generated
    source, or move a terminal's cursor.

    Examples
    --------
    >>> check_line("ws-small (C=78)", "name", 200, "MAX_NAME_CHARS")
    >>> check_line("a\\nb", "n", 200, "MAX_NAME_CHARS")
    Traceback (most recent call last):
    ...
    graphs.errors.GenesisError: n must be one line of printable characters, got 'a\\nb'
    """
    if len(text) > limit:
        raise GenesisError(f"{where} has {len(text)} characters; the cap is {cap} = {limit}")
    if not text.isprintable():
        raise GenesisError(f"{where} must be one line of printable characters, got {_short(text)}")


def check_free_text(value: Any, where: str) -> None:
    """Every string of the JSON data ``value`` (keys too) is one printable line of at most
    :data:`~genesis.limits.MAX_TEXT_CHARS`, and it nests at most
    :data:`~genesis.limits.MAX_META_DEPTH` deep."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_META_DEPTH:
            raise GenesisError(
                f"{where} nests deeper than {MAX_META_DEPTH}; the cap is MAX_META_DEPTH"
            )
        if isinstance(item, str):
            check_line(item, f"a string of {where}", MAX_TEXT_CHARS, "MAX_TEXT_CHARS")
        elif isinstance(item, Mapping):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend((v, depth + 1) for v in item)
