"""Graphviz renderings of architectures: one cluster per stage, nodes coloured by op.

:func:`architecture_graph` builds a :class:`graphviz.Digraph` (stem, one cluster per stage,
head; input and output nodes drawn apart from compute nodes; a legend of the ops used). Given
trained weights, each edge's width and shade show its aggregation weight ``sigmoid(w)``, so a
user sees which wires the network actually uses. :func:`render_architecture` writes PNG, SVG,
PDF or the DOT source, chosen by the file extension.

An architecture file may come from someone else: its free text (the name) and op names reach
the DOT source only through :func:`graphviz.escape` (quoted, backslashes doubled, never an
HTML-like label), and files are written with :func:`genesis.runfolder.atomic_write`.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import graphviz

from genesis import Architecture, GenesisError, op_colors
from genesis.runfolder import atomic_write
from graphs import compute_nodes

__all__ = ["OP_COLORS", "FORMATS", "architecture_graph", "edge_weights", "render_architecture"]


class _OpColors(Mapping[str, str]):
    """Op -> fill colour, read live from the op registry (``register_op(..., color=...)``)."""

    def __getitem__(self, op: str) -> str:
        return op_colors()[op]

    def __iter__(self) -> Iterator[str]:
        return iter(op_colors())

    def __len__(self) -> int:
        return len(op_colors())

    def __repr__(self) -> str:
        return repr(op_colors())


#: Fill colour per op, as registered with the op (a colour-blind-safe palette for the built-in
#: ones); ops without a colour get grey.
OP_COLORS: Mapping[str, str] = _OpColors()
FORMATS = ("png", "svg", "pdf", "dot")
_LIGHT_TEXT = {"#117733", "#AA4499", "#882255", "#CC6677"}


def _text_color(fill: str) -> str:
    """White on the palette's dark fills and on any other dark ``#RRGGBB``; black otherwise."""
    if fill in _LIGHT_TEXT:
        return "white"
    if len(fill) != 7 or not fill.startswith("#"):
        return "black"
    try:
        r, g, b = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
    except ValueError:
        return "black"
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 110 else "black"


def edge_weights(arch: Architecture, state: Mapping[str, Any]) -> dict[tuple[int, int, int], float]:
    """``sigmoid(w)`` of every gated edge, keyed ``(stage, u, v)``, from a compiled model's weights.

    Edges into a node with a single input carry no gate and are absent (weight 1 by definition).

    Raises
    ------
    GenesisError
        If a gate does not fit the architecture, or is NaN or infinite.
    """
    out = {}
    for k, stage in enumerate(arch.stages):
        G = stage.graph
        for v in compute_nodes(G):
            preds = sorted(G.predecessors(v))
            gate = state.get(f"s{k}.gate{v}")
            if gate is None or len(preds) < 2:
                continue
            values = [float(x) for x in gate.flatten().tolist()]
            if len(values) != len(preds):
                raise GenesisError(
                    f"weights do not fit the architecture: s{k}.gate{v} has {len(values)} "
                    f"entries, node {v} of stage {k} has {len(preds)} inputs"
                )
            bad = [x for x in values if not math.isfinite(x)]
            if bad:
                raise GenesisError(
                    f"weights hold a non-finite gate: s{k}.gate{v} has {bad[0]}; every gate "
                    "must be a finite number"
                )
            for u, w in zip(preds, values, strict=True):
                # sigmoid, without overflow for very negative gates
                out[(k, u, v)] = (
                    1 / (1 + math.exp(-w)) if w >= 0 else math.exp(w) / (1 + math.exp(w))
                )
    return out


def architecture_graph(
    arch: Architecture,
    weights: Mapping[tuple[int, int, int], float] | None = None,
    rankdir: str = "LR",
    title: str | None = None,
) -> graphviz.Digraph:
    """The architecture as a graphviz digraph (see the module docstring).

    Parameters
    ----------
    weights : mapping, optional
        ``(stage, u, v) -> sigmoid(w)`` from :func:`edge_weights`; edges shown by width and shade.
    rankdir : {"LR", "TB"}
        Left to right or top down.
    title : str, optional
        A label above the drawing (default: name, MACs, params).
    """
    if rankdir not in ("LR", "TB"):
        raise GenesisError(f"rankdir must be LR or TB, got {rankdir!r}")
    from genesis.complexity import count_complexity

    cx = count_complexity(arch)
    dot = graphviz.Digraph("architecture")
    dot.attr(
        rankdir=rankdir,
        compound="true",
        fontname="Helvetica",
        fontsize="12",
        newrank="true",
        nodesep="0.15",
        ranksep="0.35",
    )
    name = arch.name if len(arch.name) <= 200 else arch.name[:200] + "..."
    dot.attr(
        label=graphviz.escape(
            title
            or f"{name or 'architecture'}: {cx.macs / 1e6:.2f}M MACs, {cx.params / 1e3:.1f}k params"
        ),
        labelloc="t",
    )
    dot.attr("node", fontname="Helvetica", fontsize="10", style="filled", penwidth="0.8")
    dot.attr("edge", arrowsize="0.5", color="#555555")
    c, h, w = arch.input_shape
    dot.node("input", f"input\n{c}x{h}x{w}", shape="box", fillcolor="#FFFFFF")
    prev = "input"
    if arch.stem:
        with dot.subgraph(name="cluster_stem") as sub:
            sub.attr(label="stem", style="rounded,filled", fillcolor="#F5F5F5", color="#BBBBBB")
            for i, layer in enumerate(arch.stem):
                name = f"stem{i}"
                sub.node(
                    name,
                    f"conv {layer.kernel}x{layer.kernel}/{layer.stride}\n{layer.channels}",
                    shape="box",
                    fillcolor="#EEEEEE",
                )
                dot.edge(prev, name)
                prev = name
    used_ops: set[str] = set()
    for k, stage in enumerate(arch.stages):
        G = stage.graph
        src, dst = G.graph["input"], G.graph["output"]
        with dot.subgraph(name=f"cluster_s{k}") as sub:
            sub.attr(
                label=f"stage {k}: {stage.num_nodes} nodes, width {stage.channels}, "
                f"stride {stage.stride}",
                style="rounded",
                color="#999999",
            )
            sub.node(
                f"s{k}_{src}",
                "in",
                shape="circle",
                fillcolor="#FFFFFF",
                width="0.3",
                fixedsize="true",
            )
            sub.node(
                f"s{k}_{dst}",
                "out",
                shape="doublecircle",
                fillcolor="#FFFFFF",
                width="0.3",
                fixedsize="true",
            )
            for v in compute_nodes(G):
                op = G.nodes[v]["op"]
                used_ops.add(op)
                fill = OP_COLORS.get(op, "#BBBBBB")
                sub.node(
                    f"s{k}_{v}",
                    str(v),
                    shape="circle",
                    fillcolor=fill,
                    width="0.35",
                    fixedsize="true",
                    fontcolor=_text_color(fill),
                    tooltip=graphviz.escape(op),
                )
            for u, v in sorted(G.edges):
                attrs = {}
                if weights is not None and (k, u, v) in weights:
                    wt = weights[(k, u, v)]
                    shade = int(200 - 190 * wt)
                    attrs = {
                        "penwidth": f"{0.3 + 3.2 * wt:.2f}",
                        "color": f"#{shade:02x}{shade:02x}{shade:02x}",
                        "tooltip": f"sigmoid(w) = {wt:.3f}",
                    }
                sub.edge(f"s{k}_{u}", f"s{k}_{v}", **attrs)
        dot.edge(prev, f"s{k}_{src}")
        prev = f"s{k}_{dst}"
    head = (
        f"head\n{'1x1 conv ' + str(arch.head.channels) + ', ' if arch.head.channels else ''}"
        f"pool, fc {arch.num_classes}"
    )
    dot.node("head", head, shape="box", fillcolor="#EEEEEE")
    dot.edge(prev, "head")
    with dot.subgraph(name="cluster_legend") as legend:
        legend.attr(label="ops", style="rounded", color="#BBBBBB", fontsize="10")
        for op in sorted(used_ops):
            fill = OP_COLORS.get(op, "#BBBBBB")
            legend.node(
                graphviz.escape(f"legend_{op}"),
                graphviz.escape(op),
                shape="box",
                fillcolor=fill,
                fontsize="9",
                fontcolor=_text_color(fill),
            )
    return dot


def render_architecture(
    arch: Architecture,
    out: str | os.PathLike,
    weights: Mapping[tuple[int, int, int], float] | None = None,
    rankdir: str = "LR",
) -> Path:
    """Write ``arch`` to ``out``; the extension (.png, .svg, .pdf, .dot) picks the format.

    Raises
    ------
    GenesisError
        For an unknown extension, or when graphviz's ``dot`` program is missing (with how to
        install it).
    """
    out = Path(out)
    fmt = out.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise GenesisError(
            f"render output must end in {', '.join('.' + f for f in FORMATS)}, got {out.name!r}"
        )
    dot = architecture_graph(arch, weights, rankdir)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "dot":
        atomic_write(out, dot.source.encode("utf-8"))
        return out
    if shutil.which("dot") is None:
        raise GenesisError(
            "graphviz's `dot` program is not installed; install it with "
            "`apt-get install graphviz` (./setup.sh does), or write .dot source"
        )
    try:
        data = dot.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise GenesisError(
            "graphviz's `dot` program is not installed; install it with `apt-get install graphviz`"
        ) from None
    except graphviz.CalledProcessError as exc:
        raise GenesisError(f"graphviz failed to render: {exc.stderr or exc}") from None
    atomic_write(out, data)
    return out
