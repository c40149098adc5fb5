"""The caps of an architecture genome, and the bounded read of the files genomes come in.

Architecture files may come from someone else (see the README, "Security and limits"), and a
small file can describe a network that takes hours to hash or terabytes to build: one stage of
5000 nodes, ``num_classes`` of a billion. Every cap below is checked where a genome is built
(:class:`genesis.Architecture` and its parts, and :meth:`genesis.Architecture.from_dict` before
it builds any graph), so a genome past one is refused at once with one line naming the cap.

The caps are far above what genesis searches or trains (RandWire's largest stage has 32 nodes,
its widest layer 1280 channels) and low enough that hashing, statistics and complexity counts of
any genome within them take seconds, and its torch module fits in memory.

=========================  =====================================================================
Cap                        What it bounds
=========================  =====================================================================
``MAX_NODES``              compute nodes per stage (:mod:`graphs.limits`)
``MAX_EDGES``              edges per stage, input and output edges included (:mod:`graphs.limits`)
``MAX_STAGES``             randomly wired stages
``MAX_STEM_LAYERS``        stem convolutions
``MAX_CHANNELS``           the width of any stem layer, stage or head
``MAX_KERNEL``             a stem layer's kernel size
``MAX_CLASSES``            classifier outputs
``MAX_INPUT_CHANNELS``     channels of one input example
``MAX_RESOLUTION``         height and width of one input example
``MAX_FILE_BYTES``         size of an architecture or config file
``MAX_PARAMS``             parameters of a network that is built (checked before compiling)
``MAX_ACTIVATIONS``        feature-map elements its layers output for one example (likewise)
``MAX_NAME_CHARS``         an architecture's name (one line of printable characters)
``MAX_TEXT_CHARS``         any other string of a genome (``meta``, a stage's ``origin``)
``MAX_META_DEPTH``         nesting of ``meta`` and ``origin`` (objects and lists)
=========================  =====================================================================
"""

from __future__ import annotations

import os
from pathlib import Path

from genesis.files import Refused, read_regular
from graphs import GenesisError
from graphs.limits import MAX_EDGES, MAX_NODES

__all__ = [
    "MAX_NODES",
    "MAX_EDGES",
    "MAX_STAGES",
    "MAX_STEM_LAYERS",
    "MAX_CHANNELS",
    "MAX_KERNEL",
    "MAX_CLASSES",
    "MAX_INPUT_CHANNELS",
    "MAX_RESOLUTION",
    "MAX_FILE_BYTES",
    "MAX_PARAMS",
    "MAX_ACTIVATIONS",
    "MAX_NAME_CHARS",
    "MAX_TEXT_CHARS",
    "MAX_META_DEPTH",
    "check_count",
    "read_text_file",
]

#: Most randomly wired stages an architecture may have.
MAX_STAGES = 16

#: Most stem convolutions an architecture may have.
MAX_STEM_LAYERS = 16

#: Widest stem layer, stage or head (RandWire's widest is 1280).
MAX_CHANNELS = 4096

#: Largest stem kernel size.
MAX_KERNEL = 15

#: Most classifier outputs (ImageNet-21k has 21,841 classes).
MAX_CLASSES = 100_000

#: Most channels of one input example.
MAX_INPUT_CHANNELS = 64

#: Largest height or width of one input example.
MAX_RESOLUTION = 4096

#: Largest architecture or config file read, in bytes (a generated architecture is ~10 kB).
MAX_FILE_BYTES = 16 * 1024**2

#: Most parameters of a network genesis builds (400 MB of float32 weights; RandWire's largest
#: network, randwire-regular at C=154, has 62.5M). Counted from the genome before compiling
#: (:func:`genesis.complexity.check_costs`).
MAX_PARAMS = 100_000_000

#: Most feature-map elements the layers of a network output for one example (256 MB of float32;
#: randwire-regular at C=154 on 224x224 images outputs 22.3M). Counted likewise.
MAX_ACTIVATIONS = 64 * 2**20

#: Longest architecture name, in characters: one line of printable characters (a preset's name,
#: a label), never a paragraph.
MAX_NAME_CHARS = 200

#: Longest string anywhere else in a genome (the keys and values of ``meta`` and of a stage's
#: ``origin``), in characters; every such string is one line of printable characters too.
MAX_TEXT_CHARS = 1000

#: Deepest nesting of objects and lists in ``meta`` and ``origin``.
MAX_META_DEPTH = 8


def check_count(what: str, count: int, unit: str, name: str, cap: int) -> None:
    """Refuse ``count`` ``unit`` of ``what`` over the cap ``name`` = ``cap``.

    Examples
    --------
    >>> check_count("an architecture", 17, "stages", "MAX_STAGES", MAX_STAGES)
    Traceback (most recent call last):
    ...
    graphs.errors.GenesisError: an architecture has 17 stages; the cap is MAX_STAGES = 16
    """
    if count > cap:
        raise GenesisError(f"{what} has {count} {unit}; the cap is {name} = {cap}")


def read_text_file(path: str | os.PathLike, what: str, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of the regular file ``path``, read only if it has at most ``max_bytes``.

    Parameters
    ----------
    path : str or os.PathLike
        The file. Symlinks are followed, but what they point at must be a regular file.
    what : str
        What to call the file in messages, e.g. ``"architecture file"``.
    max_bytes : int
        The cap; default :data:`MAX_FILE_BYTES`.

    Raises
    ------
    GenesisError
        If the file does not exist, is not a regular file (a FIFO, ``/dev/zero``, a folder), is
        larger than the cap, cannot be read, or is not UTF-8.

    Notes
    -----
    The file is opened non-blocking, so a FIFO without a writer does not hang, and read at most
    ``max_bytes + 1`` bytes, so a file growing while read cannot exhaust memory.

    Examples
    --------
    >>> read_text_file("/dev/zero", "architecture file")
    Traceback (most recent call last):
    ...
    graphs.errors.GenesisError: cannot read architecture file '/dev/zero': not a regular file
    """
    shown = str(Path(path))
    try:
        data = read_regular(path, max_bytes)
    except FileNotFoundError:
        raise GenesisError(f"{what} {shown!r} does not exist") from None
    except Refused as why:
        if why.kind == "irregular":
            reason = "not a regular file"
        elif why.kind == "size" and why.detail is not None:
            reason = f"it has {why.detail} bytes; the cap is MAX_FILE_BYTES = {max_bytes}"
        elif why.kind == "size":
            reason = f"it is larger than MAX_FILE_BYTES = {max_bytes}"
        else:
            reason = str(why.detail)
        raise GenesisError(f"cannot read {what} {shown!r}: {reason}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GenesisError(f"cannot read {what} {shown!r}: not UTF-8 ({exc.reason})") from None
