"""Plots of a run (matplotlib, headless): Pareto front, progress, graph statistics, lineage.

Each function takes a :class:`~visualize.runs.RunData` and an output path (PNG or SVG, by
extension) and returns the path, or None when the run holds nothing to plot yet.

Every figure, here and in :mod:`visualize.studyplots` and :mod:`visualize.damage`, keeps the same
rules so a reader can trust it without the code: every colour is in a legend (or a colour bar),
a correlation is given with its n and p (:func:`spearman_text`), MACs are ticked as plain counts
such as ``1.2M`` (:func:`count_axis`), generations on whole numbers (:func:`generation_axis`),
and an accuracy axis shows where chance lies (:func:`accuracy_axis`). Each network's values are
those of the highest rung it reached (:meth:`~visualize.runs.RunData.best_entries`).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from statistics import mean

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.cm import ScalarMappable  # noqa: E402
from matplotlib.colors import ListedColormap, Normalize  # noqa: E402

from genesis.runfolder import (  # noqa: E402
    OBJECTIVE_LABELS,
    is_hash,
    objectives,
)
from graphs import graph_stats  # noqa: E402
from visualize.axes import (  # noqa: E402
    CHANCE_COLOR,
    LABEL_LIMIT,
    LITERAL_TEXT,
    CountFormatter,
    LogCountFormatter,
    accuracy_axis,
    count_axis,
    count_text,
    front_points,
    generation_axis,
    literal_text,
    plain_label,
    save_figure,
    spearman,
    spearman_text,
)
from visualize.runs import RunData, number  # noqa: E402

__all__ = [
    "LABEL_LIMIT",
    "LEGEND_GENERATIONS",
    "LITERAL_TEXT",
    "CountFormatter",
    "LogCountFormatter",
    "accuracy_axis",
    "count_axis",
    "count_text",
    "costs_plot",
    "fronts_plot",
    "generation_axis",
    "literal_text",
    "plain_label",
    "pareto_plot",
    "progress_plot",
    "spearman",
    "spearman_text",
    "stats_plot",
    "lineage_graph",
    "front_points",
    "save_figure",
]


#: Most generations the front figure names one by one in its legend; a longer run keys its
#: lines' colours with a colour bar of generations instead (a legend of 30 lines is unread).
LEGEND_GENERATIONS = 12


def pareto_plot(
    run: RunData, out: str | os.PathLike, baseline: RunData | None = None
) -> Path | None:
    """Validation accuracy against each cost of the run's objective (log axes; MACs for most
    runs), one panel per cost: every evaluation faint, the front bold (a staircase where the
    objective is one cost; with several, the members of the front over all of them), and a
    baseline run's front (e.g. ``random``) overlaid when given. Each network at the highest
    rung it reached; the chance line of the run's classes."""
    costs = run.objective
    points = [p for p in run.points() if p[0] > 0]
    if not points:
        return None
    front = front_points(points)
    base = [p for p in baseline.points(costs) if p[0] > 0] if baseline is not None else []
    chance = run.chance()
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
                label=f"{baseline.strategy} (baseline): all {len(seen)} evaluated",
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
        if cost == "macs":
            count_axis(ax.xaxis)
        ax.set_xlabel(OBJECTIVE_LABELS[cost])
        ax.set_ylabel("validation accuracy (proxy)")
        accuracy_axis(ax, chance)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return save_figure(fig, out)


def fronts_plot(run: RunData, out: str | os.PathLike) -> Path | None:
    """The Pareto front after every generation (of everything proposed up to it, each network
    at the highest rung it reached), one step line per generation from light (first) to dark
    (last): how the search moved the front. Every line is named in the legend (with more than
    :data:`LEGEND_GENERATIONS` generations, a colour bar of generations keys them instead).
    One panel per cost of the run's objective, each with the front of accuracy x that cost."""
    costs = run.objective
    by_gen: dict[int, dict[str, tuple[float, ...]]] = {}
    for h, e in run.best_entries().items():
        r, g = e["result"], e.get("generation")
        if r.get("status") != "ok" or not isinstance(g, int):
            continue
        values = objectives(r, costs)
        if values[0] > 0:
            by_gen.setdefault(g, {})[h] = values
    if not by_gen:
        return None
    gens = sorted(by_gen)
    legend = len(gens) <= LEGEND_GENERATIONS
    chance = run.chance()
    fig, axes = plt.subplots(1, len(costs), figsize=(6.4 * len(costs), 4.2), squeeze=False)
    # light (first) to dark (last), the palest tenth of viridis left out: it is unseen on white
    cmap = ListedColormap(plt.get_cmap("viridis_r")(np.linspace(0.15, 1.0, 256)))
    shade = {g: i / max(1, len(gens) - 1) for i, g in enumerate(gens)}
    for j, (ax, cost) in enumerate(zip(axes[0], costs, strict=True)):
        seen: dict[str, tuple[float, ...]] = {}
        for g in gens:
            seen.update(by_gen[g])
            front = front_points(
                [(v[0], v[j + 1]) for v in seen.values() if math.isfinite(v[j + 1])]
            )
            ax.step(
                [p[1] for p in front],
                [p[0] for p in front],
                where="post",
                color=cmap(shade[g]),
                lw=1.2,
                label=(
                    ("first population (generation 0)" if g == 0 else f"after generation {g}")
                    if legend
                    else None
                ),
            )
        ax.set_xscale("log")
        if cost == "macs":
            count_axis(ax.xaxis)
        ax.set_xlabel(OBJECTIVE_LABELS[cost])
        ax.set_ylabel("validation accuracy")
        accuracy_axis(ax, chance)
        if len(costs) > 1:
            ax.set_title(f"front of accuracy x {cost}", fontsize=9)
        if legend:
            ax.legend(fontsize=7, title="front", title_fontsize=7)
        else:
            bar = ScalarMappable(norm=Normalize(gens[0], gens[-1]), cmap=cmap)
            generation_axis(fig.colorbar(bar, ax=ax, label="front after generation").ax.yaxis)
            if chance is not None:
                ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, out)


def costs_plot(run: RunData, out: str | os.PathLike) -> tuple[Path | None, list[str]]:
    """Measured latency (batch 1) and peak memory against MACs, one panel each, with Spearman's
    rho, its n and p in the titles; and those lines in words. (None, []) when nothing was
    measured."""
    best: dict[str, dict] = {}
    for h, e in run.best_entries().items():
        r = e["result"]
        if r.get("macs") and (r.get("latency_ms") or r.get("memory_kb")):
            best[h] = r
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
        ax.scatter(xs, ys, s=14, alpha=0.7, color="#4477AA", label=f"networks ({len(pts)})")
        ax.set_xscale("log")
        count_axis(ax.xaxis)
        ax.set_xlabel("MACs per example")
        ax.set_ylabel(label)
        title = spearman_text(xs, ys)
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        lines.append(f"{label} against MACs: {title}")
    fig.tight_layout()
    return save_figure(fig, out), lines


def progress_plot(run: RunData, out: str | os.PathLike) -> Path | None:
    """Best accuracy (with the chance line), hypervolume and front size per generation."""
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
        ax.plot(gens, [r.get(key, 0) for r in rows], marker="o", ms=3, color="#4477AA", label=label)
        ax.set_xlabel("generation (0: the first population)", fontsize=8)
        generation_axis(ax.xaxis)
        ax.set_title(label, fontsize=9)
        ax.grid(alpha=0.3)
    accuracy_axis(axes[0], run.chance())
    axes[0].legend(fontsize=7, loc="lower right")
    generation_axis(axes[2].yaxis)  # a count of networks
    fig.tight_layout()
    return save_figure(fig, out)


def stats_plot(run: RunData, out: str | os.PathLike) -> Path | None:
    """Mean clustering coefficient and average path length of the stages against accuracy,
    each network at the highest rung it reached, with Spearman's rho, n and p per panel.

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
    chance = run.chance()
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.4), sharey=True)
    for ax, (key, label) in zip(
        axes,
        (
            ("clustering", "clustering coefficient (mean of stages)"),
            ("avg_path_length", "average path length (mean of stages)"),
        ),
        strict=True,
    ):
        ax.scatter(xs[key], ys, s=14, alpha=0.6, color="#117733", label=f"networks ({len(ys)})")
        ax.set_xlabel(label, fontsize=9)
        ax.set_title(spearman_text(xs[key], ys), fontsize=8)
        ax.grid(alpha=0.3)
    accuracy_axis(axes[0], chance)
    if chance is not None:
        axes[1].axhline(chance[0], color=CHANCE_COLOR, ls=":", lw=1.2, zorder=1)
    axes[0].set_ylabel("validation accuracy")
    axes[0].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return save_figure(fig, out)


def lineage_graph(run: RunData, h: str, max_nodes: int = 60):
    """Graphviz digraph of ``h``'s ancestors back to the initial random graphs, each with the
    accuracy and MACs of the highest rung it reached (:meth:`RunData.best_entries`, the
    values of the members table).

    Node names are hashes (checked against :data:`genesis.runfolder.HASH_PATTERN`: a parent
    named otherwise is left out); every label is passed through :func:`graphviz.escape`, so no
    string from the run folder can add attributes or an HTML-like label to the DOT source.
    """
    import graphviz

    entries = run.best_entries()
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
            label += f", {count_text(macs)} MACs"
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
