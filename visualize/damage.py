"""Tables and figures of graph damage (``genesis study damage``, RandWire's Figure 5).

:func:`write_damage_outputs` writes, into one folder:

- ``damage.csv``: one row per removal (and one ``none`` row per network: the undamaged score);
- ``damage_nodes.png``: the accuracy drop of removing a node against its out-degree;
- ``damage_edges.png``: the drop of removing an edge against the in-degree of its target.

Each figure shows every removal (jittered), the mean drop per degree with its standard error,
one colour per graph family when the rows name families (a study's networks pooled, each
family in the legend), and Spearman's rho between degree and drop with its n and p.
"""

from __future__ import annotations

import math
import os
import statistics
from pathlib import Path
from typing import Any

from genesis.files import atomic_write
from genesis.tables import csv_bytes
from visualize.axes import literal_text, plain_label, spearman, spearman_text
from visualize.runs import number
from visualize.studyfiles import plain_target
from visualize.studyplots import family_color

__all__ = ["DAMAGE_FILES", "damage_plots", "damage_summary", "write_damage_outputs"]

#: What :func:`write_damage_outputs` writes.
DAMAGE_FILES = ("damage.csv", "damage_nodes.png", "damage_edges.png")

#: (kind, degree column, x label, file) of the two figures.
_FIGURES = (
    ("node", "out_degree", "out-degree of the removed node", "damage_nodes.png"),
    ("edge", "in_degree", "in-degree of the removed edge's target", "damage_edges.png"),
)


def damage_summary(rows: list[dict[str, Any]]) -> list[str]:
    """Lines in words: per kind, how many removals, the mean and largest drop, and Spearman's
    rho of the drop against the degree the figures plot, with its p."""
    lines = []
    nets = sum(1 for r in rows if r.get("kind") == "none")
    for kind, column, label, _ in _FIGURES:
        pts = [
            (number(r.get(column)), number(r.get("drop"))) for r in rows if r.get("kind") == kind
        ]
        pts = [(x, y) for x, y in pts if x is not None and y is not None]
        if not pts:
            continue
        drops = [100 * y for _, y in pts]
        rho, p, n = spearman([x for x, _ in pts], drops)
        lines.append(
            f"{kind} removals: {len(pts)} over {nets} network(s), drop mean "
            f"{statistics.fmean(drops):.2f} pt, largest {max(drops):.2f} pt; "
            f"Spearman rho vs {label} "
            + ("-" if rho is None else f"{rho:+.2f} (n = {n}, p = {p:.2g})")
        )
    return lines


@literal_text()
def damage_plots(rows: list[dict[str, Any]], folder: str | os.PathLike) -> dict[str, Path]:
    """The two figures of :data:`DAMAGE_FILES` (a figure without data is left out)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    from visualize.axes import save_figure

    folder = Path(folder)
    out: dict[str, Path] = {}
    rng = np.random.default_rng(0)  # the jitter only: the same figure every time
    split = {r.get("split") for r in rows if r.get("split")}
    split_name = (
        {"val": "validation", "test": "test"}.get(split.pop(), "") if len(split) == 1 else ""
    )
    other: dict[str, str] = {}
    for kind, column, label, name in _FIGURES:
        pts = [
            (number(r.get(column)), number(r.get("drop")), plain_label(r.get("family")))
            for r in rows
            if r.get("kind") == kind
        ]
        pts = [(x, 100 * y, f) for x, y, f in pts if x is not None and y is not None]
        if not pts:
            continue
        fig, ax = plt.subplots(figsize=(5.0, 3.4))
        families = sorted({f for _, _, f in pts})
        for i, fam in enumerate(families):
            sel = [(x, y) for x, y, f in pts if f == fam]
            color = family_color(fam, other) if fam else "#4477AA"
            xs = np.array([x for x, _ in sel], dtype=float)
            ys = np.array([y for _, y in sel], dtype=float)
            shift = 0.12 * (i - (len(families) - 1) / 2)
            ax.scatter(
                xs + shift + rng.uniform(-0.05, 0.05, len(xs)),
                ys,
                s=7,
                alpha=0.35,
                color=color,
                label=None if fam else f"each removal ({len(xs)})",
            )
            degrees = sorted(set(xs.tolist()))
            means = [ys[xs == d].mean() for d in degrees]
            errs = [
                ys[xs == d].std(ddof=1) / math.sqrt((xs == d).sum()) if (xs == d).sum() > 1 else 0
                for d in degrees
            ]
            ax.errorbar(
                np.array(degrees) + shift,
                means,
                yerr=errs,
                color=color,
                marker="o",
                ms=4,
                capsize=2,
                label=f"{fam}: mean ± s.e. per degree" if fam else "mean ± s.e. per degree",
            )
        ax.set_title(spearman_text([x for x, _, _ in pts], [y for _, y, _ in pts]), fontsize=9)
        ax.set_xlabel(label)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(f"{split_name} accuracy drop (pt)".strip())
        ax.axhline(0, color="#888888", lw=0.6)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        out[kind] = save_figure(fig, plain_target(folder, name))
    return out


def write_damage_outputs(
    rows: list[dict[str, Any]],
    folder: str | os.PathLike,
    columns: list[str] | tuple[str, ...],
    plots: bool = True,
) -> dict[str, Any]:
    """Write ``damage.csv`` (``columns``, in that order) and the figures into ``folder``
    (created; a link or a non-folder there is refused, as are links in place of the files).

    Returns ``lines`` (:func:`damage_summary`) and ``figures`` (kind -> path).
    """
    from genesis import GenesisError

    folder = Path(folder)
    if os.path.islink(folder) or (folder.exists() and not folder.is_dir()):
        raise GenesisError(f"{str(folder)!r} is not a plain folder; nothing written")
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(plain_target(folder, "damage.csv"), csv_bytes(rows, list(columns)))
    figures = damage_plots(rows, folder) if plots else {}
    return {"lines": damage_summary(rows), "figures": figures}
