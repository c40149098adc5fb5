"""Plots of a run (matplotlib, headless): Pareto front, progress, graph statistics, lineage.

Each function takes a :class:`~visualize.runs.RunData` and an output path (PNG or SVG, by
extension) and returns the path, or None when the run holds nothing to plot yet.
"""

from __future__ import annotations

import io
import math
import os
import unicodedata
from pathlib import Path
from statistics import mean
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from genesis.runfolder import (  # noqa: E402
    OBJECTIVE_LABELS,
    atomic_write,
    is_hash,
    objectives,
    pareto_front,
)
from graphs import graph_stats  # noqa: E402
from visualize.runs import RunData, number  # noqa: E402

__all__ = [
    "LABEL_LIMIT",
    "LITERAL_TEXT",
    "literal_text",
    "plain_label",
    "pareto_plot",
    "progress_plot",
    "stats_plot",
    "lineage_graph",
    "front_points",
    "save_figure",
]


#: Matplotlib settings under which every string is drawn as it is: a ``$`` never starts
#: mathtext (``$\\frac{$`` would raise when drawn) and TeX never runs. Figures that draw names
#: read from a run folder (a study's setting labels, family and op names) are made under them.
LITERAL_TEXT = {"text.parse_math": False, "text.usetex": False}

#: Most characters of a name drawn in a figure (a longer one is cut, ending in ``...``).
LABEL_LIMIT = 80


def literal_text():
    """A context (or a function decorator) under which figures draw text as it is
    (:data:`LITERAL_TEXT`); the figure must be made and saved inside it, since tick labels
    are made when it is drawn."""
    return matplotlib.rc_context(LITERAL_TEXT)


def plain_label(value: Any, limit: int = LABEL_LIMIT) -> str:
    """``value`` as a name matplotlib can draw: a string (anything else is ``""``), cut to
    ``limit`` characters, a line break or tab made a space, and what no font draws (another
    control character, a lone surrogate from a JSON ``\\ud800``) made ``?``.

    Examples
    --------
    >>> plain_label("WS(k=4, p=0.75)"), plain_label("a\\ud800\\x00b\\nc"), plain_label(None)
    ('WS(k=4, p=0.75)', 'a??b c', '')
    >>> plain_label("x" * 100, limit=5)
    'xxxxx...'
    """
    if not isinstance(value, str):
        return ""
    text = value if len(value) <= limit else value[:limit] + "..."
    return "".join(
        " " if c in "\n\r\t" else "?" if unicodedata.category(c) in ("Cc", "Cs") else c
        for c in text
    )


def front_points(points: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The non-dominated points (accuracy max, every cost min), by increasing first cost
    (:func:`genesis.runfolder.pareto_front`); a point's trailing hash is not an objective."""
    return pareto_front(points, key=lambda p: tuple(x for x in p if not isinstance(x, str)))


def save_figure(fig, out: str | os.PathLike) -> Path:
    """Write ``fig`` to ``out`` (format by extension), creating its folder; close it.

    The file is replaced atomically (:func:`genesis.runfolder.atomic_write`): never written
    through a symlink at ``out`` or at a temporary name beside it.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    try:
        fmt = out.suffix.lstrip(".").lower() or "png"
        fig.savefig(buf, format=fmt, dpi=110, bbox_inches="tight")
    finally:
        plt.close(fig)
    atomic_write(out, buf.getvalue())
    return out


def pareto_plot(
    run: RunData, out: str | os.PathLike, baseline: RunData | None = None
) -> Path | None:
    """Validation accuracy against each cost of the run's objective (log axes; MACs for most
    runs), one panel per cost: every evaluation faint, the front bold (a staircase where the
    objective is one cost; with several, the members of the front over all of them), and a
    baseline run's front (e.g. ``random``) overlaid when given."""
    costs = run.objective
    points = [p for p in run.points() if p[0] > 0]
    if not points:
        return None
    front = front_points(points)
    base = [p for p in baseline.points(costs) if p[0] > 0] if baseline is not None else []
    fig, axes = plt.subplots(1, len(costs), figsize=(6.4 * len(costs), 4.2), squeeze=False)
    for j, (ax, cost) in enumerate(zip(axes[0], costs, strict=True)):
        x = j + 1
        ax.scatter(
            [p[x] for p in points],
            [p[0] for p in points],
            s=14,
            alpha=0.25,
            color="#4477AA",
            label=f"{run.strategy}: all {len(points)} evaluated",
        )
        shown = sorted(front, key=lambda p: p[x])
        if len(costs) == 1:
            ax.step([p[x] for p in shown], [p[0] for p in shown], where="post", color="#4477AA")
        ax.scatter(
            [p[x] for p in shown],
            [p[0] for p in shown],
            s=36,
            color="#4477AA",
            edgecolor="black",
            lw=0.6,
            zorder=3,
            label=f"{run.strategy}: Pareto front"
            + (f" over accuracy x {' x '.join(costs)}" if len(costs) > 1 else ""),
        )
        seen = [p for p in base if math.isfinite(p[x])]
        if seen:
            bf = sorted(front_points(seen), key=lambda p: p[x])
            ax.scatter(
                [p[x] for p in seen],
                [p[0] for p in seen],
                s=10,
                alpha=0.2,
                marker="x",
                color="#CC6677",
            )
            ax.plot(
                [p[x] for p in bf],
                [p[0] for p in bf],
                drawstyle="steps-post" if len(costs) == 1 else "default",
                marker="" if len(costs) == 1 else "x",
                color="#CC6677",
                lw=1.2,
                ls="--",
                label=f"{baseline.strategy} (baseline): front",
            )
        ax.set_xscale("log")
        ax.set_xlabel(OBJECTIVE_LABELS[cost])
        ax.set_ylabel("validation accuracy (proxy)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return save_figure(fig, out)


def fronts_plot(run: RunData, out: str | os.PathLike) -> Path | None:
    """The Pareto front after every generation (of everything evaluated up to it), one step
    line per generation from light (first) to dark (last): how the search moved the front.
    One panel per cost of the run's objective, each with the front of accuracy x that cost."""
    costs = run.objective
    by_gen: dict[int, dict[str, tuple[float, ...]]] = {}
    for e in run.evaluations:
        r, g = e.get("result"), e.get("generation")
        if not r or r.get("status") != "ok" or not isinstance(g, int):
            continue
        values = objectives(r, costs)
        if values[0] > 0:
            # a candidate at the highest rung it reached by then
            by_gen.setdefault(g, {})[e["hash"]] = values
    if not by_gen:
        return None
    gens = sorted(by_gen)
    fig, axes = plt.subplots(1, len(costs), figsize=(6.4 * len(costs), 4.2), squeeze=False)
    cmap = plt.get_cmap("viridis_r")
    for j, (ax, cost) in enumerate(zip(axes[0], costs, strict=True)):
        seen: dict[str, tuple[float, ...]] = {}
        for i, g in enumerate(gens):
            seen.update(by_gen[g])
            front = front_points(
                [(v[0], v[j + 1]) for v in seen.values() if math.isfinite(v[j + 1])]
            )
            color = cmap(0.15 + 0.85 * i / max(1, len(gens) - 1))
            ax.step(
                [p[1] for p in front],
                [p[0] for p in front],
                where="post",
                color=color,
                lw=1.2,
                label=f"generation {g}" if i in (0, len(gens) - 1) else None,
            )
        ax.set_xscale("log")
        ax.set_xlabel(OBJECTIVE_LABELS[cost])
        ax.set_ylabel("validation accuracy")
        if len(costs) > 1:
            ax.set_title(f"front of accuracy x {cost}", fontsize=9)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, out)


def costs_plot(run: RunData, out: str | os.PathLike) -> tuple[Path | None, list[str]]:
    """Measured latency (batch 1) and peak memory against MACs, one panel each, with Spearman's
    rho in the titles; and the rho lines in words. (None, []) when nothing was measured."""
    from scipy import stats

    best: dict[str, dict] = {}
    for e in run.evaluations:
        r = e.get("result") or {}
        if r.get("macs") and (r.get("latency_ms") or r.get("memory_kb")):
            best.setdefault(e["hash"], r)
    panels = [
        (key, label)
        for key, label in (
            ("latency_ms", "latency at batch 1 (ms)"),
            ("memory_kb", "peak memory at batch 1 (KiB)"),
        )
        if sum(1 for r in best.values() if r.get(key)) >= 2
    ]
    if not panels:
        return None, []
    fig, axes = plt.subplots(1, len(panels), figsize=(4.8 * len(panels), 3.6), squeeze=False)
    lines = []
    for ax, (key, label) in zip(axes[0], panels, strict=True):
        pts = [(r["macs"], r[key]) for r in best.values() if r.get(key)]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        rho = stats.spearmanr(xs, ys).statistic if len(set(xs)) > 1 and len(set(ys)) > 1 else None
        ax.scatter(xs, ys, s=14, alpha=0.7, color="#4477AA")
        ax.set_xscale("log")
        ax.set_xlabel("MACs per example")
        ax.set_ylabel(label)
        title = (
            f"Spearman rho = {rho:+.2f}, n = {len(pts)}" if rho is not None else f"n = {len(pts)}"
        )
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3)
        lines.append(f"{label} against MACs: {title}")
    fig.tight_layout()
    return save_figure(fig, out), lines


def progress_plot(run: RunData, out: str | os.PathLike) -> Path | None:
    """Best accuracy, hypervolume and front size per generation."""
    rows = run.logbook
    if not rows:
        return None
    gens = [r["generation"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(9.6, 2.8))
    for ax, key, label in zip(
        axes,
        ("best_accuracy", "hypervolume", "front_size"),
        ("best validation accuracy", "hypervolume", "front size"),
        strict=True,
    ):
        ax.plot(gens, [r.get(key, 0) for r in rows], marker="o", ms=3, color="#4477AA")
        ax.set_xlabel("generation")
        ax.set_title(label, fontsize=9)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, out)


def stats_plot(run: RunData, out: str | os.PathLike) -> Path | None:
    """Mean clustering coefficient and average path length of the stages against accuracy.

    The analyses of RandWire (section 4) and "Graph Structure of Neural Networks".
    """
    xs: dict[str, list[float]] = {"clustering": [], "avg_path_length": []}
    ys = []
    for p in run.points():
        acc, h = p[0], p[-1]
        if acc <= 0:
            continue
        arch = run.architecture(h)
        if arch is None:
            continue
        stats = [graph_stats(s.graph) for s in arch.stages]
        for key in xs:
            xs[key].append(mean(s[key] for s in stats))
        ys.append(acc)
    if not ys:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.2), sharey=True)
    for ax, (key, label) in zip(
        axes,
        (
            ("clustering", "clustering coefficient (mean of stages)"),
            ("avg_path_length", "average path length (mean of stages)"),
        ),
        strict=True,
    ):
        ax.scatter(xs[key], ys, s=14, alpha=0.6, color="#117733")
        ax.set_xlabel(label, fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("validation accuracy")
    fig.tight_layout()
    return save_figure(fig, out)


def lineage_graph(run: RunData, h: str, max_nodes: int = 60):
    """Graphviz digraph of ``h``'s ancestors back to the initial random graphs.

    Node names are hashes (checked against :data:`genesis.runfolder.HASH_PATTERN`: a parent
    named otherwise is left out); every label is passed through :func:`graphviz.escape`, so no
    string from the run folder can add attributes or an HTML-like label to the DOT source.
    """
    import graphviz

    entries = {}
    for e in run.evaluations:
        entries.setdefault(e["hash"], e)
    dot = graphviz.Digraph("lineage")
    dot.attr(rankdir="TB", fontname="Helvetica", fontsize="10")
    dot.attr("node", shape="box", style="rounded,filled", fontname="Helvetica", fontsize="9")
    todo, seen = [h] if is_hash(h) else [], set()
    while todo and len(seen) < max_nodes:
        cur = todo.pop(0)
        if cur in seen:
            continue
        seen.add(cur)
        e = entries.get(cur)
        r = (e or {}).get("result") or {}
        acc = number(r.get("accuracy"))
        label = f"{cur[:10]}"
        if e and acc is not None:
            gen = e.get("generation")
            label += (
                f"\n{e.get('origin') or '?'} (gen {'?' if gen is None else gen})\nacc {acc:.3f}"
            )
        macs = number(r.get("macs"))
        if macs:
            label += f", {macs / 1e6:.2f}M MACs"
        fill = (
            "#FFE9A8"
            if cur == h
            else ("#DDEEFF" if e and e.get("origin") == "sample" else "#F2F2F2")
        )
        dot.node(cur, graphviz.escape(label), fillcolor=fill)
        for parent in (e or {}).get("parents", []):
            if is_hash(parent):
                dot.edge(parent, cur)
                todo.append(parent)
    return dot
