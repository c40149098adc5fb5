"""The conventions every figure of genesis keeps, so a reader can trust it without the code.

Every string from a run folder is drawn as it is (:func:`literal_text`, :func:`plain_label`);
MACs are ticked as plain counts such as ``1.2M`` (:func:`count_axis`), generations on whole
numbers (:func:`generation_axis`); an accuracy axis shows where chance lies
(:func:`accuracy_axis`); a correlation is given with its n and p (:func:`spearman_text`); a
figure is saved atomically (:func:`save_figure`).
"""

from __future__ import annotations

import io
import math
import os
import unicodedata
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import Formatter, LogFormatter, MaxNLocator  # noqa: E402

from genesis.runfolder import atomic_write, pareto_front  # noqa: E402

__all__ = [
    "CHANCE_COLOR",
    "LABEL_LIMIT",
    "LITERAL_TEXT",
    "CountFormatter",
    "LogCountFormatter",
    "accuracy_axis",
    "count_axis",
    "count_text",
    "front_points",
    "generation_axis",
    "literal_text",
    "plain_label",
    "save_figure",
    "spearman",
    "spearman_text",
]


#: Matplotlib settings under which every string is drawn as it is: a ``$`` never starts
#: mathtext (``$\\frac{$`` would raise when drawn) and TeX never runs. Figures that draw names
#: read from a run folder (a study's setting labels, family and op names) are made under them.
LITERAL_TEXT = {"text.parse_math": False, "text.usetex": False}

#: Most characters of a name drawn in a figure (a longer one is cut, ending in ``...``).
LABEL_LIMIT = 80

#: Colour of the chance line of an accuracy axis.
CHANCE_COLOR = "#777777"

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
        color=CHANCE_COLOR,
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
