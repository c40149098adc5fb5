"""The figures of a generator study: each setting's mean ± std grouped by family (RandWire's
Figure 3), accuracy against MACs, against each graph statistic (Spearman's rho, n and p) and
over clustering x path length, each op's accuracy per setting (Figure 6), and one drawing per
setting. Every figure goes through :func:`visualize.axes.save_figure`; accuracy axes start
just below chance, drawn and labelled; every colour is in a legend."""

from __future__ import annotations

import math
import os
import statistics
from pathlib import Path
from typing import Any

from visualize.axes import literal_text, plain_label
from visualize.runs import RunData, number
from visualize.studyfiles import plain_target
from visualize.studystats import STAT_COLUMNS, OpsAnalysis, SettingSummary, split_name

__all__ = ["FAMILY_COLORS", "family_color", "ops_plot", "setting_drawings", "study_plots"]

#: Colours of the families in the study plots (others cycle through the rest).
FAMILY_COLORS = {"er": "#4477AA", "ba": "#EE6677", "ws": "#228833"}
_OTHER_COLORS = ("#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB")


def family_color(family: str, seen: dict[str, str]) -> str:
    """A family's colour in every study figure (an unknown one gets the next free colour,
    remembered in ``seen``)."""
    if family in FAMILY_COLORS:
        return FAMILY_COLORS[family]
    if family not in seen:
        seen[family] = _OTHER_COLORS[len(seen) % len(_OTHER_COLORS)]
    return seen[family]


@literal_text()
def study_plots(
    rows: list[dict[str, Any]],
    summaries: list[SettingSummary],
    folder: str | os.PathLike,
    chance: tuple[float, int] | None = None,
) -> dict[str, Path]:
    """The study's figures, written into ``folder`` (PNG): ``bars`` (each setting's mean ±
    std over its n networks, grouped by family: RandWire's Figure 3), ``macs`` (accuracy
    against MACs), ``stats`` (accuracy against each graph statistic, with Spearman's rho, its
    n and p) and ``heatmap`` (every network at its clustering x average path length, coloured
    by its accuracy: You et al. 2020's map, readable for the few networks of a study). A
    figure without data is left out.

    Every colour is named in a legend (families) or a colour bar (accuracy); an accuracy axis
    starts just below chance, drawn and labelled, when ``chance`` ((accuracy, classes):
    :meth:`~visualize.runs.RunData.chance`) is known, else at 0; MACs are ticked as counts.
    """
    import matplotlib

    matplotlib.use("Agg")

    folder = Path(folder)
    out: dict[str, Path] = {}
    ok = [r for r in rows if number(r["accuracy"]) is not None]
    if not ok:
        return out
    split = split_name(rows)
    family_of = {r["setting"]: r["family"] for r in rows}
    other: dict[str, str] = {}
    out["bars"] = _bars_figure(summaries, family_of, other, split, chance, folder)
    out["macs"] = _macs_figure(ok, other, split, chance, folder)
    stats = _stats_figure(ok, other, split, chance, folder)
    if stats is not None:
        out["stats"] = stats
    heatmap = _map_figure(ok, split, folder)
    if heatmap is not None:
        out["heatmap"] = heatmap
    return out


def _bars_figure(summaries, family_of, other, split, chance, folder: Path) -> Path:
    """Each setting's mean ± std, grouped by family, from chance (or 0)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from visualize.axes import accuracy_axis, save_figure

    scored = [s for s in summaries if s.mean is not None]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(scored) + 3.8), 3.6))  # legend beside
    order = sorted(scored, key=lambda s: (family_of.get(s.label, ""), s.index))
    xs, gap, last = [], 0.0, None
    for i, s in enumerate(order):
        fam = family_of.get(s.label, "")
        gap += 0.6 if last is not None and fam != last else 0.0
        last = fam
        xs.append(i + gap)
    base = 100 * chance[0] if chance is not None else 0.0
    for x, s in zip(xs, order, strict=True):
        ax.bar(
            x,
            100 * s.mean - base,
            bottom=base,
            yerr=None if s.std is None else 100 * s.std,
            color=family_color(family_of.get(s.label, ""), other),
            capsize=3,
            width=0.8,
        )
    ax.set_xticks(
        xs,
        [f"{plain_label(s.label)} (n={s.n})" for s in order],
        rotation=60,
        ha="right",
        fontsize=7,
    )
    ax.set_ylabel(f"{split} accuracy (%), mean ± std")
    accuracy_axis(ax, chance, scale=100)
    families = list(dict.fromkeys(family_of.get(s.label, "") for s in order))
    handles = [Patch(color=family_color(f, other), label=_family_name(f)) for f in families]
    ax.legend(
        handles=handles + ax.get_legend_handles_labels()[0],
        fontsize=7,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
    )
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, folder / "study_bars.png")


def _macs_figure(ok, other, split, chance, folder: Path) -> Path:
    """Accuracy against MACs, one colour per family."""
    import matplotlib.pyplot as plt

    from visualize.axes import accuracy_axis, count_axis, save_figure

    fig, ax = plt.subplots(figsize=(5.0, 3.6))
    with_macs = 0
    for fam in sorted({r["family"] for r in ok}):
        pts = [(r["macs"], 100 * r["accuracy"]) for r in ok if r["family"] == fam and r["macs"]]
        with_macs += len(pts)
        if pts:
            ax.scatter(
                *zip(*pts, strict=True),
                s=16,
                alpha=0.75,
                label=_family_name(fam),
                color=family_color(fam, other),
            )
    count_axis(ax.xaxis)
    ax.set_xlabel("MACs per example")
    ax.set_ylabel(f"{split} accuracy (%)")
    ax.set_title(f"n = {with_macs} networks", fontsize=8)
    accuracy_axis(ax, chance, scale=100)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, folder / "study_macs.png")


def _stats_figure(ok, other, split, chance, folder: Path) -> Path | None:
    """Accuracy against each graph statistic, with Spearman's rho, n and p (None: no data)."""
    import matplotlib.pyplot as plt

    from visualize.axes import accuracy_axis, save_figure, spearman_text

    keys = [k for k in STAT_COLUMNS if sum(number(r[k]) is not None for r in ok) >= 2]
    if not keys:
        return None
    cols = 3
    nrows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(10.5, 2.8 * nrows), sharey=True, squeeze=False)
    for ax, key in zip(axes.flat, keys, strict=False):
        pts = [(r[key], 100 * r["accuracy"], r["family"]) for r in ok if number(r[key]) is not None]
        for fam in sorted({p[2] for p in pts}):
            sel = [(x, y) for x, y, f in pts if f == fam]
            ax.scatter(
                *zip(*sel, strict=True),
                s=12,
                alpha=0.7,
                color=family_color(fam, other),
                label=_family_name(fam),
            )
        ax.set_title(spearman_text([p[0] for p in pts], [p[1] for p in pts]), fontsize=7)
        ax.set_xlabel(key.replace("_", " ") + " (mean of stages)", fontsize=8)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[: len(keys)]:
        accuracy_axis(ax, chance, scale=100)
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel(f"{split} acc. (%)", fontsize=8)
    axes[0, 0].legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    return save_figure(fig, folder / "study_stats.png")


def _map_figure(ok, split, folder: Path) -> Path | None:
    """Every network at its clustering x average path length, coloured by its accuracy (None:
    fewer than 2 networks with both)."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from visualize.axes import save_figure

    pts = [
        (r["clustering"], r["avg_path_length"], 100 * r["accuracy"], r["family"])
        for r in ok
        if number(r["clustering"]) is not None and number(r["avg_path_length"]) is not None
    ]
    if len(pts) < 2:
        return None
    accs = [p[2] for p in pts]
    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    markers = dict(zip(sorted({p[3] for p in pts}), _MARKERS * len(pts), strict=False))
    shown = None
    for fam, marker in markers.items():
        sel = [p for p in pts if p[3] == fam]
        shown = ax.scatter(
            [p[0] for p in sel],
            [p[1] for p in sel],
            c=[p[2] for p in sel],
            cmap="viridis",
            vmin=min(accs),
            vmax=max(accs) if max(accs) > min(accs) else min(accs) + 1e-6,
            marker=marker,
            s=48,
            edgecolor="black",
            lw=0.5,
        )
    fig.colorbar(shown, ax=ax, label=f"{split} accuracy (%)")
    ax.legend(
        handles=[
            Line2D([], [], ls="", marker=m, color="#BBBBBB", mec="black", label=_family_name(f))
            for f, m in markers.items()
        ],
        fontsize=7,
        title="family (colour: accuracy)",
        title_fontsize=7,
    )
    ax.set_title(f"n = {len(pts)} networks, one point each", fontsize=8)
    ax.set_xlabel("clustering coefficient (mean of stages)")
    ax.set_ylabel("average path length (mean of stages)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, folder / "study_heatmap.png")


#: Marker of each family in the map of clustering x path length (colour is accuracy there).
_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def _family_name(family: str) -> str:
    """A family as its legend names it."""
    return plain_label(family) or "(no family)"


@literal_text()
def ops_plot(
    ops: OpsAnalysis,
    split: str,
    path: str | os.PathLike,
    chance: tuple[float, int] | None = None,
) -> dict[str, Path]:
    """Each op's mean accuracy per setting (± std), one line per op (RandWire's Figure 6 as
    one panel), with the range of Pearson r between two ops, their n and p, in the title;
    the accuracy axis from chance (``chance``: (accuracy, classes)) or 0."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from genesis.ops import op_colors
    from visualize.axes import accuracy_axis, save_figure

    colors = op_colors()
    fig, ax = plt.subplots(figsize=(max(4.5, 0.7 * len(ops.settings) + 2), 3.6))
    xs = list(range(len(ops.settings)))
    for k, op in enumerate(ops.ops):
        pts = [
            (x, 100 * ops.mean(s, op), 100 * statistics.stdev(ops.cells[(s, op)]))
            if len(ops.cells.get((s, op), [])) > 1
            else (x, 100 * ops.mean(s, op), 0.0)
            for x, s in zip(xs, ops.settings, strict=True)
            if ops.mean(s, op) is not None
        ]
        if not pts:
            continue
        shift = 0.08 * (k - (len(ops.ops) - 1) / 2)
        ax.errorbar(
            [p[0] + shift for p in pts],
            [p[1] for p in pts],
            yerr=[p[2] for p in pts],
            marker="o",
            ms=4,
            capsize=2,
            label=plain_label(op),
            color=colors.get(op),
        )
    ax.set_xticks(xs, [plain_label(x) for x in ops.settings], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel(f"{split} accuracy (%), mean ± std")
    accuracy_axis(ax, chance, scale=100)
    _ops_title(ax, ops)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return {"ops": save_figure(fig, Path(path))}


def _ops_title(ax: Any, ops: OpsAnalysis) -> None:
    """The range of Pearson r between two ops, their n and p, as the axes' title."""
    tested = [p for p in ops.pairs if p["pearson"] is not None]
    if not tested:
        return
    rs = [p["pearson"] for p in tested]
    ns = sorted({p["settings"] for p in tested})
    ps = [p["pearson_p"] for p in tested if p["pearson_p"] is not None]
    n = f"n = {ns[0]}" if len(ns) == 1 else f"n = {ns[0]} to {ns[-1]}"
    p = f"p <= {max(ps):.2g}" if ps else "p -"
    ax.set_title(
        f"Pearson r between ops: {min(rs):+.2f} to {max(rs):+.2f} ({n} settings, {p})",
        fontsize=8,
    )


def setting_drawings(run: RunData, rows: list[dict[str, Any]]) -> dict[str, Path]:
    """One drawing per setting (its first graph instance), ``drawings/setting-<i>.svg``."""
    from genesis import GenesisError
    from visualize.render import render_architecture

    first: dict[int, dict[str, Any]] = {}
    for r in sorted(rows, key=lambda r: (r["setting_index"], r["graph_seed"], r["train_seed"])):
        first.setdefault(r["setting_index"], r)
    if not first:
        return {}
    folder = run.path / "drawings"
    if os.path.islink(folder) or (folder.exists() and not folder.is_dir()):
        raise GenesisError(f"{str(folder)!r} is not a plain folder; no drawing written")
    folder.mkdir(exist_ok=True)
    out = {}
    for index, r in first.items():
        arch = run.architecture(r["hash"])
        if arch is not None:
            name = f"setting-{index}.svg"
            out[f"drawing {index}"] = render_architecture(arch, plain_target(folder, name))
    return out
