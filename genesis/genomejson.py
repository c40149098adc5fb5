"""The genome's JSON codec: an :class:`~genesis.genome.Architecture` to its versioned JSON form
and back, and the architecture file read and written.

The JSON form (``schema = "genesis.architecture"``, ``version = 1``) is the only way genomes
cross a process or a person: it is read with :func:`json.loads`, never executed. A file may come
from someone else: it is read within :data:`genesis.limits.MAX_FILE_BYTES`, a key given twice
and a string with a lone surrogate are refused, and every count (stages, stem layers, each
stage's nodes and edges) is checked against its cap before any graph is built.

The codec never imports :mod:`genesis.genome`: the genome's dataclasses come in as
:class:`GenomeKinds` (the genome's ``from_dict``, ``from_json`` and ``load_architecture`` pass
them), so the two modules import one way.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, NamedTuple

import networkx as nx

from genesis.files import atomic_write
from genesis.limits import MAX_STAGES, MAX_STEM_LAYERS, check_count, read_text_file
from graphs import GenesisError, check_size

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "GenomeKinds",
    "decode",
    "encode",
    "encode_stage",
    "from_json",
    "load",
    "parse",
    "save",
    "short_repr",
    "to_json",
]

SCHEMA = "genesis.architecture"
SCHEMA_VERSION = 1

#: The top-level fields of an architecture's JSON form.
_FIELDS = {
    "schema",
    "version",
    "name",
    "input_shape",
    "num_classes",
    "stem",
    "stages",
    "head",
    "train",
    "meta",
}


class GenomeKinds(NamedTuple):
    """The genome's dataclasses, which :func:`decode` builds (:mod:`genesis.genome`'s)."""

    architecture: type  # Architecture (or a subclass: from_dict's cls)
    stem_layer: type  # StemLayer
    stage: type  # Stage
    head: type  # Head
    train: type  # TrainConfig


def short_repr(value: Any) -> str:
    """``repr(value)``, cut to 80 characters (a value from a file may be huge).

    Examples
    --------
    >>> short_repr("x" * 100)[-5:]
    'xx...'
    """
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# -- encoding --------------------------------------------------------------------------------------
def encode(arch: Any) -> dict[str, Any]:
    """The JSON-ready form of the architecture ``arch`` (see the module docstring).

    Parameters
    ----------
    arch : Architecture
        A validated architecture.

    Returns
    -------
    dict
        Plain JSON data: schema and version first, then the fields in their order.
    """
    return {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "name": arch.name,
        "input_shape": list(arch.input_shape),
        "num_classes": arch.num_classes,
        "stem": [asdict(layer) for layer in arch.stem],
        "stages": [encode_stage(stage) for stage in arch.stages],
        "head": asdict(arch.head),
        "train": asdict(arch.train),
        "meta": _jsonable(dict(arch.meta)),
    }


def encode_stage(stage: Any) -> dict[str, Any]:
    """The JSON-ready form of one stage: width, stride, its graph (nodes sorted, each with its
    op; edges sorted) and its ``origin`` where it has one.

    Parameters
    ----------
    stage : Stage
        A validated stage.

    Returns
    -------
    dict
        Plain JSON data (what two equal stages share).
    """
    G = stage.graph
    src, dst = G.graph["input"], G.graph["output"]
    out: dict[str, Any] = {
        "channels": stage.channels,
        "stride": stage.stride,
        "graph": {
            "input": src,
            "output": dst,
            "nodes": [
                {"id": v, "op": d["op"]}
                for v, d in sorted(G.nodes(data=True))
                if v not in (src, dst)
            ],
            "edges": sorted([u, v] for u, v in G.edges),
        },
    }
    if stage.origin:
        out["origin"] = _jsonable(dict(stage.origin))
    return out


def to_json(arch: Any, indent: int | None = 2) -> str:
    """:func:`encode` of ``arch`` as a JSON string (``indent`` as :func:`json.dumps`'s)."""
    return json.dumps(encode(arch), indent=indent, sort_keys=False)


def save(arch: Any, path: str | os.PathLike) -> Path:
    """Write ``arch`` as JSON, atomically (a temporary file renamed over ``path``).

    Parameters
    ----------
    arch : Architecture
        What to write.
    path : path-like
        The file; its folder is made when missing.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    GenesisError
        For an empty path, or a folder or file that cannot be written (nothing is left
        half-written).
    """
    path = Path(path)
    if str(path) in ("", "."):
        raise GenesisError("architecture output path is empty")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GenesisError(f"cannot create folder {str(path.parent)!r}: {exc.strerror}") from None
    text = to_json(arch) + "\n"
    try:
        atomic_write(path, text.encode("utf-8"))  # a failed write leaves no debris
    except OSError as exc:
        raise GenesisError(
            f"cannot write architecture file {str(path)!r}: {exc.strerror or exc}"
        ) from None
    return path


def _jsonable(value: Any) -> Any:
    """Round ``value`` through JSON so that what is kept equals what is written."""
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError, RecursionError) as exc:
        raise GenesisError(f"architecture metadata must be JSON data: {exc}") from None


# -- decoding --------------------------------------------------------------------------------------
def load(path: str | os.PathLike, kinds: GenomeKinds) -> Any:
    """Read an architecture JSON file. Never executes anything from the file.

    Parameters
    ----------
    path : path-like
        The file, read within :data:`genesis.limits.MAX_FILE_BYTES`.
    kinds : GenomeKinds
        What :func:`decode` builds.

    Returns
    -------
    Architecture
        As :func:`decode` builds it from the file's JSON.

    Raises
    ------
    GenesisError
        If the file is missing, unreadable, not a regular file or larger than
        :data:`genesis.limits.MAX_FILE_BYTES`, or its content is not a valid architecture
        (including one past a cap of :mod:`genesis.limits`).
    """
    path = Path(path)
    text = read_text_file(path, "architecture file")
    return from_json(text, kinds, source=str(path))


def from_json(text: str, kinds: GenomeKinds, source: str = "architecture JSON") -> Any:
    """The architecture in the JSON ``text``: :func:`parse`, then :func:`decode` with
    ``kinds``; ``source`` (a file's path) names the text in messages, before what either
    raises."""
    data = parse(text, source)
    try:
        return decode(data, kinds)
    except GenesisError as exc:
        raise GenesisError(f"{source}: {exc}") from None


def parse(text: str, source: str = "architecture JSON") -> Any:
    """The JSON value of ``text``; ``source`` names it in messages.

    A key given twice in one object is refused, as is an integer literal past Python's
    limit on digits. (``NaN`` and ``Infinity`` parse, and fail the range checks.)

    Raises
    ------
    GenesisError
        For text that is not JSON, nests too deeply, or gives a key twice.
    """
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise GenesisError(
            f"{source} is not valid JSON (truncated or malformed): {exc.msg} "
            f"(line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise GenesisError(f"{source} is nested too deeply to be an architecture") from None
    except GenesisError as exc:
        raise GenesisError(f"{source}: {exc}") from None
    except ValueError as exc:  # an integer literal of more digits than int() converts
        raise GenesisError(f"{source} is not an architecture: {exc}".split(";")[0]) from None


def decode(data: Any, kinds: GenomeKinds) -> Any:
    """Build and validate an architecture from its JSON-ready form.

    Parameters
    ----------
    data : Any
        The parsed JSON (:func:`parse`).
    kinds : GenomeKinds
        The genome's dataclasses to build.

    Returns
    -------
    Architecture

    Raises
    ------
    GenesisError
        For a wrong schema or version, a missing or unknown field, any invalid value, a
        string with a lone surrogate, or a value past a cap of :mod:`genesis.limits`.

    Notes
    -----
    The counts (stages, stem layers, each stage's nodes and edges) are checked against
    their caps before any graph is built, so a file describing a huge stage is refused in
    time linear in its size, before the O(n^2) hash could run.
    """
    _check_header(data)
    stages = data["stages"]
    if not isinstance(stages, list):
        raise GenesisError(f"architecture stages must be a list, got {type(stages).__name__}")
    check_count("an architecture", len(stages), "stages", "MAX_STAGES", MAX_STAGES)
    stem = _as_list("stem", data.get("stem", []))
    check_count("an architecture", len(stem), "stem layers", "MAX_STEM_LAYERS", MAX_STEM_LAYERS)
    name = data.get("name", "")
    if not isinstance(name, str):
        raise GenesisError(f"architecture name must be a string, got {name!r}")
    return kinds.architecture(
        input_shape=_as_list("input_shape", data["input_shape"]),
        num_classes=data["num_classes"],
        stem=tuple(_build(kinds.stem_layer, f"stem[{i}]", d) for i, d in enumerate(stem)),
        stages=tuple(_decode_stage(kinds.stage, i, d) for i, d in enumerate(stages)),
        head=_build(kinds.head, "head", data.get("head", {})),
        train=_build(kinds.train, "train", data.get("train", {})),
        name=name,
        meta=data.get("meta", {}),
    )


def _check_header(data: Any) -> None:
    """An architecture's JSON object: its text, schema, version and fields."""
    if not isinstance(data, dict):
        raise GenesisError(f"an architecture must be a JSON object, got {type(data).__name__}")
    _check_text(data, "an architecture")
    if data.get("schema") != SCHEMA:
        raise GenesisError(f"not a genesis architecture: schema is {data.get('schema')!r}")
    version = data.get("version")
    if version != SCHEMA_VERSION:
        raise GenesisError(
            f"unknown architecture schema version {version!r}; this genesis reads version "
            f"{SCHEMA_VERSION}"
        )
    _require(data, "architecture", ("input_shape", "num_classes", "stages"))
    _no_unknown(data, "architecture", _FIELDS)


def _decode_stage(kind: type, i: int, data: Any) -> Any:
    """Stage ``i`` from its JSON form, its counts checked before its graph is built."""
    where = f"stage {i}"
    if not isinstance(data, dict):
        raise GenesisError(f"{where} must be a JSON object, got {type(data).__name__}")
    _require(data, where, ("channels", "graph"))
    _no_unknown(data, where, {"channels", "stride", "graph", "origin"})
    g = data["graph"]
    if not isinstance(g, dict):
        raise GenesisError(f"{where} graph must be a JSON object, got {type(g).__name__}")
    _require(g, f"{where} graph", ("input", "output", "nodes", "edges"))
    _no_unknown(g, f"{where} graph", {"input", "output", "nodes", "edges"})
    nodes = _as_list(f"{where} graph nodes", g["nodes"])
    edges = _as_list(f"{where} graph edges", g["edges"])
    check_size(len(nodes), len(edges), where)  # before any graph is built or hashed
    G = _graph(where, g["input"], g["output"], nodes, edges)
    try:
        return kind(
            graph=G,
            channels=data["channels"],
            stride=data.get("stride", 2),
            origin=data.get("origin"),
        )
    except GenesisError as exc:
        raise GenesisError(f"{where}: {exc}") from None


def _graph(where: str, src: Any, dst: Any, nodes: list, edges: list) -> nx.DiGraph:
    """The stage DAG of a stage's JSON ``graph``: every node listed once, each edge once and
    between listed nodes (its shape is checked later, by the stage)."""
    G = nx.DiGraph(input=src, output=dst)
    for node in (src, dst):
        if isinstance(node, bool) or not isinstance(node, int):
            raise GenesisError(f"{where} graph input/output must be integer node ids, got {node!r}")
    G.add_nodes_from([src, dst])
    for entry in nodes:
        if not isinstance(entry, dict) or "id" not in entry or "op" not in entry:
            raise GenesisError(f"{where} graph nodes need 'id' and 'op', got {entry!r}")
        _no_unknown(entry, f"{where} graph node", {"id", "op"})
        node = entry["id"]
        if isinstance(node, bool) or not isinstance(node, int):
            raise GenesisError(f"{where} node ids must be integers, got {node!r}")
        if node in G:
            raise GenesisError(f"{where} graph lists node {node!r} twice")
        G.add_node(node, op=entry["op"])
    seen = set()
    for edge in edges:
        if not (isinstance(edge, list) and len(edge) == 2):
            raise GenesisError(f"{where} graph edges must be [from, to] pairs, got {edge!r}")
        u, v = edge
        if any(isinstance(e, bool) or not isinstance(e, int) for e in edge):
            raise GenesisError(f"{where} edge endpoints must be integer node ids, got {edge!r}")
        if u not in G or v not in G:
            missing = u if u not in G else v
            raise GenesisError(f"{where} edge {edge} names node {missing!r}, which is not listed")
        if (u, v) in seen:
            raise GenesisError(f"{where} graph lists edge {edge} twice")
        seen.add((u, v))
        G.add_edge(u, v)
    return G


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` of :func:`json.loads`: a key given twice is an error."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise GenesisError(f"JSON object gives the key {short_repr(key)} twice")
        out[key] = value
    return out


def _check_text(value: Any, where: str) -> None:
    """Every string in ``value`` (keys too) can be written as UTF-8: no lone surrogates."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise GenesisError(
                    f"{where} holds the string {short_repr(item)}, which has a lone surrogate "
                    "and cannot be written as UTF-8"
                ) from None
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


def _require(data: dict, where: str, names: Iterable[str]) -> None:
    for name in names:
        if name not in data:
            raise GenesisError(f"{where} is missing the field {name!r}")


def _no_unknown(data: dict, where: str, allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise GenesisError(f"{where} has unknown field(s) {unknown}; known: {sorted(allowed)}")


def _as_list(where: str, value: Any) -> list:
    if not isinstance(value, list):
        raise GenesisError(f"{where} must be a JSON list, got {type(value).__name__}")
    return value


def _build(cls: type, where: str, data: Any) -> Any:
    if not isinstance(data, dict):
        raise GenesisError(f"{where} must be a JSON object, got {type(data).__name__}")
    names = {f.name for f in fields(cls)}
    _no_unknown(data, where, names)
    try:
        return cls(**data)
    except TypeError as exc:
        raise GenesisError(f"{where}: {exc}") from None
