"""Plots of a run (matplotlib, headless): Pareto front, progress, graph statistics, lineage.

Each function takes a :class:`~visualize.runs.RunData` and an output path (PNG or SVG, by
extension) and returns the path, or None when the run holds nothing to plot yet.

Every figure, here and in :mod:`visualize.study` and :mod:`visualize.damage`, keeps the same
rules so a reader can trust it without the code: every colour is in a legend (or a colour bar),
a correlation is given with its n and p (:func:`spearman_text`), MACs are ticked as plain counts
such as ``1.2M`` (:func:`count_axis`), generations on whole numbers (:func:`generation_axis`),
and an accuracy axis shows where chance lies (:func:`accuracy_axis`). Each network's values are
those of the highest rung it reached (:meth:`~visualize.runs.RunData.best_entries`).
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
import numpy as np  # noqa: E402
from matplotlib.cm import ScalarMappable  # noqa: E402
from matplotlib.colors import ListedColormap, Normalize  # noqa: E402
from matplotlib.ticker import Formatter, LogFormatter, MaxNLocator  # noqa: E402

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


#: Matplotlib settings under which every string is drawn as it is: a ``$`` never starts
#: mathtext (``$\\frac{$`` would raise when drawn) and TeX never runs. Figures that draw names
#: read from a run folder (a study's setting labels, family and op names) are made under them.
LITERAL_TEXT = {"text.parse_math": False, "text.usetex": False}

#: Most characters of a name drawn in a figure (a longer one is cut, ending in ``...``).
LABEL_LIMIT = 80

#: Most generations the front figure names one by one in its legend; a longer run keys its
#: lines' colours with a colour bar of generations instead (a legend of 30 lines is unread).
LEGEND_GENERATIONS = 12

#: Colour of the chance line of an accuracy axis.
_CHANCE_COLOR = "#777777"

#: Units of :func:`count_text`: (suffix, scale), largest first.
_UNITS = (("G", 1e9), ("M", 1e6), ("k", 1e3), ("", 1.0))


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


def count_text(value: float, step: float | None = None, unit_of: float | None = None) -> str:
    """A count (MACs, parameters) as people write it: ``1.2M``, ``350k``, ``512``; never an
    offset or scientific notation.

    ``step`` (the distance between neighbouring ticks) sets the decimals so that neighbouring
    ticks differ in text; without it at most two decimals are kept. ``unit_of`` picks the unit
    (the largest value of the axis, so every tick shares it); trailing zeros are dropped.

    Examples
    --------
    >>> count_text(1_200_000), count_text(350_000), count_text(512), count_text(2e9)
    ('1.2M', '350k', '512', '2G')
    >>> [count_text(v, step=200, unit_of=1.0004e6) for v in (999_800, 1_000_000, 1_000_200)]
    ['0.9998M', '1M', '1.0002M']
    """
    ref = abs(unit_of if unit_of is not None else value)
    unit, scale = next((u, sc) for u, sc in _UNITS if ref >= sc or sc == 1.0)
    if step is not None and step > 0:
        digits = min(6, max(0, math.ceil(math.log10(scale / step) - 1e-9)))
    else:
        digits = 2
    text = f"{value / scale:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return ("0" if text in ("-0", "") else text) + (unit if text not in ("0", "-0") else "")


class CountFormatter(Formatter):
    """Tick labels of a linear count axis by :func:`count_text`: one unit for the axis,
    the decimals that tell neighbouring ticks apart, no offset."""

    _ticks: tuple[float, ...] = ()

    def set_locs(self, locs) -> None:
        """Keep the axis' tick values: a label's decimals depend on its neighbours."""
        self._ticks = tuple(float(v) for v in locs)

    def __call__(self, x: float, pos: int | None = None) -> str:
        locs = [v for v in self._ticks if math.isfinite(v)]
        steps = [b - a for a, b in zip(locs, locs[1:], strict=False) if b > a]
        top = max((abs(v) for v in locs), default=abs(x))
        return count_text(x, min(steps) if steps else None, top)


class LogCountFormatter(LogFormatter):
    """Tick labels of a log count axis by :func:`count_text` (matplotlib's choice of which
    decades and sub-decades get a label, the labels plain counts: ``2M``, not ``2x10^6``)."""

    def _num_to_string(self, x: float, vmin: float, vmax: float) -> str:
        return count_text(x)


def count_axis(axis) -> None:
    """Tick a matplotlib axis (``ax.xaxis``) of counts as plain counts (:func:`count_text`),
    on a log or a linear scale: call it after the scale is set."""
    if axis.get_scale() == "log":
        axis.set_major_formatter(LogCountFormatter(labelOnlyBase=False))
        axis.set_minor_formatter(LogCountFormatter(labelOnlyBase=False))
    else:  # few ticks: a narrow range (MACs matched to 1M ± 0.05%) needs long labels
        axis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
        axis.set_major_formatter(CountFormatter())


def generation_axis(axis) -> None:
    """Ticks of a generation axis (or another count) on whole numbers only (never 1.5), also
    when the axis spans a single one (a run of one generation)."""
    axis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))


def accuracy_axis(ax, chance: tuple[float, int] | None, scale: float = 1.0) -> None:
    """Make ``ax``'s y axis an honest accuracy axis, once its data is drawn: from just below
    chance, with the chance line drawn and labelled (``chance``: (accuracy, classes), e.g.
    :meth:`~visualize.runs.RunData.chance`), or from 0 where chance is unknown. ``scale`` is
    100 for an axis in percent. The top stays where the data put it; data below the bottom
    (a network worse than chance) lowers it."""
    low, top = ax.get_ylim()
    if chance is None:
        ax.set_ylim(min(low, 0.0), max(top, 0.05 * scale))
        return
    level, classes = chance
    level *= scale
    top = max(top, level + 0.05 * scale)
    ax.axhline(
        level,
        color=_CHANCE_COLOR,
        ls=":",
        lw=1.2,
        zorder=1,
        label=f"chance: {100 * level / scale:.3g}% (1/{classes} classes)",
    )
    ax.set_ylim(min(low, level - 0.04 * (top - level)), top)


def spearman(xs: list[float], ys: list[float]) -> tuple[float | None, float | None, int]:
    """Spearman's rho between ``xs`` and ``ys``, its two-sided p-value and n
    (:func:`scipy.stats.spearmanr`); rho and p are None with fewer than 3 pairs or no spread.

    Examples
    --------
    >>> spearman([1, 2, 3, 4], [1, 3, 2, 4])
    (0.8, 0.2, 4)
    >>> spearman([1, 2], [3, 4])
    (None, None, 2)
    """
    from scipy import stats

    n = len(xs)
    if n < 3 or len(set(xs)) < 2 or len(set(ys)) < 2:
        return None, None, n
    result = stats.spearmanr(xs, ys)
    rho, p = float(result.statistic), float(result.pvalue)
    if not (math.isfinite(rho) and math.isfinite(p)):
        return None, None, n
    return round(rho, 12), round(p, 12), n


def spearman_text(xs: list[float], ys: list[float]) -> str:
    """Spearman's rho of ``xs`` and ``ys`` with its n and p, as a figure's title says it.

    Examples
    --------
    >>> spearman_text([1, 2, 3, 4], [1, 3, 2, 4])
    'Spearman rho = +0.80 (n = 4, p = 0.2)'
    >>> spearman_text([1, 2], [3, 4])
    'Spearman rho: - (n = 2, too few or no spread)'
    """
    rho, p, n = spearman(xs, ys)
    if rho is None:
        return f"Spearman rho: - (n = {n}, too few or no spread)"
    return f"Spearman rho = {rho:+.2f} (n = {n}, p = {p:.2g})"


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
        axes[1].axhline(chance[0], color=_CHANCE_COLOR, ls=":", lw=1.2, zorder=1)
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
