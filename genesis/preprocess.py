"""What a trained model expects of its input: one typed record, as timm's ``pretrained_cfg``.

A network genesis trains reads uint8 images normalised per channel with the statistics of the
images it trained on (:func:`genesis.train.train_architecture`):
``(pixels / scale - mean) / std``, ``mean`` and ``std`` in [0, 1] units, ``scale`` 255. A
:class:`Preprocess` records that, with the input shape, the channel order and the name of each
class, and every artefact carries it:

- a training's record (``TrainResult.preprocess``, its :meth:`Preprocess.to_dict`) and a
  search's ``final.json`` entries;
- beside saved weights ``W.pt``, the file ``W.preprocess.json`` (:func:`sidecar_path`): written
  by ``genesis train --out``, the final step (``final/H.pt``), a study (``weights/KEY.pt``);
  read by ``genesis export --weights W.pt``;
- an ONNX model's ``metadata_props`` (:func:`genesis.export.export_onnx`), a ``torch.export``
  program's extra files, and the standalone ``.py`` (``PREPROCESS`` and ``preprocess(images)``).

Files from others are hostile data: :meth:`Preprocess.from_dict` refuses anything but finite
numbers, consistent lengths and class names that are each one printable line, and
:func:`read_sidecar` reads at most :data:`MAX_PREPROCESS_BYTES` of a regular file that is not a
link. No torch, no NumPy: the run folder and the report read these records without them.

=========================  =====================================================================
Cap                        What it bounds
=========================  =====================================================================
``MAX_CLASS_NAME_CHARS``   one class name (an image folder's class subfolder name)
``MAX_CLASS_NAMES_CHARS``  every class name of a dataset together
``MAX_PREPROCESS_BYTES``   a ``.preprocess.json`` file, before it is read
=========================  =====================================================================
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genesis.files import Refused, atomic_write, read_regular
from genesis.genome import _short, check_line
from genesis.limits import MAX_CLASSES, MAX_INPUT_CHANNELS, MAX_RESOLUTION
from graphs import GenesisError

__all__ = [
    "CHANNELS",
    "MAX_CLASS_NAMES_CHARS",
    "MAX_CLASS_NAME_CHARS",
    "MAX_PREPROCESS_BYTES",
    "SIDECAR_SUFFIX",
    "Preprocess",
    "channel_order",
    "check_class_names",
    "float32_round",
    "read_sidecar",
    "sidecar_path",
    "write_sidecar",
]

#: Longest class name, in characters (the longest file name most file systems allow): one line
#: of printable characters.
MAX_CLASS_NAME_CHARS = 255

#: Most characters of every class name of a dataset together: far above the ten to a thousand
#: short names of the datasets genesis reads, and small enough that ``final.json``, which holds
#: one record per final member, stays far below its cap (``MAX_JSON_BYTES``, 8 MiB).
MAX_CLASS_NAMES_CHARS = 2**16

#: Largest ``.preprocess.json`` file read, in bytes, checked before reading (the largest record
#: within the caps above, as genesis writes it, takes under 2 MiB).
MAX_PREPROCESS_BYTES = 4 * 2**20

#: Channel orders: one grey channel, red-green-blue, or channels that are not colours (a
#: synthetic dataset of another channel count).
CHANNELS = ("grey", "RGB", "unnamed")

#: What is added to a weights file's name, less its suffix, to name its preprocessing file:
#: ``final/H.pt`` -> ``final/H.preprocess.json``.
SIDECAR_SUFFIX = ".preprocess.json"

_FIELDS = ("input_shape", "channels", "mean", "std", "scale", "class_names")


def channel_order(channels: int) -> str:
    """The channel order of images with ``channels`` channels, as genesis reads them: ``grey``
    for one, ``RGB`` for three (Pillow's and CIFAR-10's order), ``unnamed`` for others.

    Examples
    --------
    >>> channel_order(1), channel_order(3), channel_order(5)
    ('grey', 'RGB', 'unnamed')
    """
    return {1: "grey", 3: "RGB"}.get(channels, "unnamed")


def float32_round(value: float) -> float:
    """The shortest decimal that reads back as the float32 nearest ``value``: what a float32
    statistic is, exactly, in a few digits.

    Examples
    --------
    >>> float32_round(0.28604060411453247)
    0.2860406
    >>> float32_round(0.1)
    0.1
    """
    if not math.isfinite(value):
        return value
    single = struct.unpack("f", struct.pack("f", value))[0]
    for digits in range(1, 10):  # 9 significant digits always read back a float32
        text = f"{single:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
            return float(text)
    return single  # pragma: no cover


def check_class_names(names: Sequence[str], where: str) -> None:
    """Refuse class names unless each is one printable line of at most
    :data:`MAX_CLASS_NAME_CHARS`, there are at most ``MAX_CLASSES``, and all together hold at
    most :data:`MAX_CLASS_NAMES_CHARS` characters.

    Examples
    --------
    >>> check_class_names(["cat", "dog"], "classes")
    >>> check_class_names(["cat", "d\\nog"], "x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphs.errors.GenesisError: class name 2 of x must be one line of printable characters, ...
    """
    if len(names) > MAX_CLASSES:
        raise GenesisError(
            f"{where} has {len(names)} class names; the cap is MAX_CLASSES = {MAX_CLASSES}"
        )
    total = 0
    for i, name in enumerate(names, 1):
        if not isinstance(name, str):
            raise GenesisError(f"class name {i} of {where} must be a string, got {_short(name)}")
        check_line(name, f"class name {i} of {where}", MAX_CLASS_NAME_CHARS, "MAX_CLASS_NAME_CHARS")
        total += len(name)
        if total > MAX_CLASS_NAMES_CHARS:
            raise GenesisError(
                f"the class names of {where} hold more than {MAX_CLASS_NAMES_CHARS} characters; "
                f"the cap is MAX_CLASS_NAMES_CHARS = {MAX_CLASS_NAMES_CHARS}"
            )


def _numbers(value: Any, name: str, where: str) -> tuple[float, ...]:
    if not isinstance(value, (list, tuple)):
        raise GenesisError(f"{where} {name} must be a list of numbers, got {_short(value)}")
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise GenesisError(f"{where} {name} must hold finite numbers, got {_short(v)}")
        out.append(float(v))
    return tuple(out)


@dataclass(frozen=True)
class Preprocess:
    """How images become the input of a trained network: ``(pixels / scale - mean) / std``.

    Examples
    --------
    >>> p = Preprocess((1, 28, 28), "grey", (0.2860406,), (0.3530242,), 255.0, ("T-shirt/top",))
    >>> Preprocess.from_dict(p.to_dict()) == p
    True
    >>> Preprocess((1, 28, 28), "grey", (0.5, 0.5), (0.2,))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphs.errors.GenesisError: preprocess mean has 2 values, its input_shape (1, 28, 28) 1 ...
    """

    input_shape: tuple[int, int, int]  # (C, H, W) of one example
    channels: str  # channel order: one of CHANNELS ("grey", "RGB", "unnamed")
    mean: tuple[float, ...]  # per channel, in [0, 1] units (pixels / scale)
    std: tuple[float, ...]  # per channel, in [0, 1] units, positive
    scale: float = 255.0  # uint8 pixels are divided by it
    class_names: tuple[str, ...] = ()  # one per class index (empty: not known)

    def __post_init__(self) -> None:
        where = "preprocess"
        shape = self.input_shape
        if (
            not isinstance(shape, (list, tuple))
            or len(shape) != 3
            or any(isinstance(v, bool) or not isinstance(v, int) for v in shape)
        ):
            raise GenesisError(
                f"{where} input_shape must be 3 integers (C, H, W), got {_short(shape)}"
            )
        c, h, w = shape
        if not 1 <= c <= MAX_INPUT_CHANNELS or not (
            1 <= h <= MAX_RESOLUTION and 1 <= w <= MAX_RESOLUTION
        ):
            raise GenesisError(
                f"{where} input_shape {tuple(shape)} is out of range: 1..{MAX_INPUT_CHANNELS} "
                f"channels (MAX_INPUT_CHANNELS), 1..{MAX_RESOLUTION} pixels (MAX_RESOLUTION)"
            )
        object.__setattr__(self, "input_shape", tuple(shape))
        if self.channels not in CHANNELS or self.channels != channel_order(c):
            raise GenesisError(
                f"{where} channels must be {channel_order(c)!r} for {c} channel(s) (one of "
                f"{', '.join(CHANNELS)}), got {_short(self.channels)}"
            )
        for name in ("mean", "std"):
            values = _numbers(getattr(self, name), name, where)
            if len(values) != c:
                raise GenesisError(
                    f"{where} {name} has {len(values)} values, its input_shape {tuple(shape)} "
                    f"{c} channel(s)"
                )
            object.__setattr__(self, name, values)
        if min(self.std) <= 0:
            raise GenesisError(f"{where} std must be positive, got {list(self.std)}")
        (scale,) = _numbers([self.scale], "scale", where)
        if scale <= 0:
            raise GenesisError(f"{where} scale must be positive, got {scale}")
        object.__setattr__(self, "scale", scale)
        names = self.class_names
        if not isinstance(names, (list, tuple)):
            raise GenesisError(
                f"{where} class_names must be a list of strings, got {_short(names)}"
            )
        check_class_names(names, where)
        object.__setattr__(self, "class_names", tuple(names))

    @classmethod
    def from_stats(
        cls,
        input_shape: Sequence[int],
        mean: Iterable[float],
        std: Iterable[float],
        class_names: Sequence[str] = (),
        scale: float = 255.0,
    ) -> Preprocess:
        """The record of a training that normalised with these float32 statistics: each one
        the shortest decimal that reads back as it (:func:`float32_round`)."""
        shape = tuple(int(v) for v in input_shape)
        return cls(
            shape,  # type: ignore[arg-type]
            channel_order(shape[0]),
            tuple(float32_round(float(v)) for v in mean),
            tuple(float32_round(float(v)) for v in std),
            float(scale),
            tuple(class_names),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (lists for tuples), as ``final.json`` and the sidecar files hold it."""
        return {
            "input_shape": list(self.input_shape),
            "channels": self.channels,
            "mean": list(self.mean),
            "std": list(self.std),
            "scale": self.scale,
            "class_names": list(self.class_names),
        }

    def to_json(self) -> str:
        """One line of ASCII JSON (:meth:`to_dict`)."""
        return json.dumps(self.to_dict(), ensure_ascii=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Any, where: str = "preprocess") -> Preprocess:
        """Validate ``data`` (a file from someone else: every field checked) and build it.

        Raises
        ------
        GenesisError
            One line naming ``where``, the field and the value: an unknown or missing field, a
            number that is not finite, lengths that disagree with the input shape, a class name
            that is not one printable line or over a cap.
        """
        if not isinstance(data, Mapping):
            raise GenesisError(f"{where} must be a JSON object, got {_short(data)}")
        unknown = sorted(str(k) for k in data if k not in _FIELDS)
        if unknown:
            raise GenesisError(
                f"{where} has unknown field(s) {_short(unknown)}; known: {', '.join(_FIELDS)}"
            )
        missing = [k for k in _FIELDS if k not in data]
        if missing:
            raise GenesisError(f"{where} is missing the field(s) {', '.join(missing)}")
        try:
            return cls(
                _ints(data["input_shape"], where),  # type: ignore[arg-type]
                data["channels"],
                data["mean"],
                data["std"],
                data["scale"],
                data["class_names"],
            )
        except GenesisError as exc:
            if where == "preprocess":
                raise
            raise GenesisError(f"{where}: {exc}") from None

    @classmethod
    def from_json(cls, text: str | bytes, where: str = "preprocess") -> Preprocess:
        """:meth:`from_dict` of JSON text; invalid JSON is one :class:`GenesisError` line."""
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            reason = exc.args[0] if isinstance(exc, ValueError) else "nested too deep"
            raise GenesisError(f"{where} is not valid JSON: {_short(reason)}") from None
        return cls.from_dict(data, where)

    def fits(self, input_shape: Sequence[int], num_classes: int, where: str) -> None:
        """Refuse this record for a network of ``input_shape`` and ``num_classes`` outputs
        unless its shape is the network's and it names at most that many classes."""
        if tuple(self.input_shape) != tuple(input_shape):
            raise GenesisError(
                f"{where} is for inputs of shape {self.input_shape}, the architecture takes "
                f"{tuple(input_shape)}"
            )
        if len(self.class_names) > num_classes:
            raise GenesisError(
                f"{where} names {len(self.class_names)} classes, the architecture has "
                f"{num_classes} outputs"
            )

    def describe(self) -> str:
        """One line for people: the formula and its numbers."""
        return (
            f"{'x'.join(map(str, self.input_shape))} {self.channels}, (pixels / {self.scale:g} - "
            f"mean) / std, mean {list(self.mean)}, std {list(self.std)}"
        )


def _ints(value: Any, where: str) -> tuple[int, ...]:
    if not isinstance(value, (list, tuple)) or any(
        isinstance(v, bool) or not isinstance(v, int) for v in value
    ):
        raise GenesisError(f"{where} input_shape must be 3 integers (C, H, W), got {_short(value)}")
    return tuple(value)


def sidecar_path(weights: str | os.PathLike) -> Path:
    """Where the preprocessing of the weights file ``weights`` is kept: its name less its
    suffix, plus :data:`SIDECAR_SUFFIX`.

    Examples
    --------
    >>> str(sidecar_path("final/0123.pt")), str(sidecar_path("out/weights.pt"))
    ('final/0123.preprocess.json', 'out/weights.preprocess.json')
    """
    path = Path(weights)
    return path.with_name(path.stem + SIDECAR_SUFFIX if path.suffix else path.name + SIDECAR_SUFFIX)


def write_sidecar(weights: str | os.PathLike, preprocess: Preprocess) -> Path:
    """Write ``preprocess`` beside ``weights`` (:func:`sidecar_path`), atomically; its path."""
    path = sidecar_path(weights)
    atomic_write(path, (json.dumps(preprocess.to_dict(), indent=2) + "\n").encode("ascii"))
    return path


def read_sidecar(weights: str | os.PathLike) -> Preprocess | None:
    """The preprocessing kept beside ``weights``, or None when there is no such file.

    The file is hostile data: a regular file (never a link, a FIFO or a device) of at most
    :data:`MAX_PREPROCESS_BYTES`, checked before it is read, whose content must pass
    :meth:`Preprocess.from_dict`.

    Raises
    ------
    GenesisError
        One line naming the file and what is wrong with it.
    """
    path = sidecar_path(weights)
    shown = str(path)
    try:
        data = read_regular(path, MAX_PREPROCESS_BYTES, follow_symlinks=False)
    except FileNotFoundError:
        return None
    except Refused as why:
        if why.kind == "link":
            reason = "a symbolic link (refused, not followed)"
        elif why.kind == "irregular":
            reason = f"{why.detail}, not a regular file"
        elif why.kind == "size":
            size = "" if why.detail is None else f"it has {why.detail} bytes; "
            reason = f"{size}the cap is MAX_PREPROCESS_BYTES = {MAX_PREPROCESS_BYTES}"
        else:
            reason = str(why.detail)
        raise GenesisError(f"cannot read preprocessing file {shown!r}: {reason}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GenesisError(f"preprocessing file {shown!r} is not UTF-8 ({exc.reason})") from None
    return Preprocess.from_json(text, f"preprocessing file {shown!r}")
