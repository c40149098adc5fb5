"""Comparing runs: several strategies (and seeds) on accuracy x MACs, as a table and one plot.

Reads run folders only (:class:`~visualize.runs.RunData`): the hypervolume each run recorded
itself (``run.json``, or its last logbook row while it runs), and the best validation accuracy
under a MAC target from its evaluations. No test accuracy enters: a search never sees it.

Memory stays bounded however many folders are compared: each folder is read, reduced to a
:class:`RunSummary` (its table row, its front over MACs, its search settings) and let go before
the next is read, and at most :data:`MAX_COMPARE_RUNS` folders are taken.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

from visualize.axes import front_points, save_figure  # noqa: E402
from visualize.runs import RunData, number  # noqa: E402

__all__ = [
    "MAX_COMPARE_RUNS",
    "RunSummary",
    "STRATEGY_COLORS",
    "comparability_warnings",
    "comparison_plot",
    "comparison_table",
    "strategy_means",
    "summarize_run",
]

#: One colour per strategy (Paul Tol's bright scheme), the same in every comparison.
STRATEGY_COLORS = {
    "random": "#BBBBBB",
    "nsga2": "#4477AA",
    "constrained": "#228833",
    "regularized": "#CCBB44",
    "rl": "#AA3377",
    "grid": "#66CCEE",
}


#: Most run folders one comparison reads (each is read and let go before the next).
MAX_COMPARE_RUNS = 1000


@dataclass
class RunSummary:
    """What a comparison keeps of one run: its row (:func:`summarize_run`), its front over
    accuracy x MACs, and the parts of its config that decide whether hypervolumes compare."""

    path: Path
    objective: tuple[str, ...]
    row: dict[str, Any]
    front: list[tuple[Any, ...]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)  # {"search": its [search] table}

    @classmethod
    def of(cls, run: RunData, target_macs: float | None = None) -> RunSummary:
        """The summary of a run as :func:`~visualize.runs.read_run` read it."""
        search = run.config.get("search", {})
        return cls(
            path=run.path,
            objective=run.objective,
            row=summarize_run(run, target_macs),
            front=front_points([p for p in run.points(("macs",)) if p[0] > 0]),
            config={"search": dict(search) if isinstance(search, dict) else {}},
        )


def summarize_run(run: RunData, target_macs: float | None = None) -> dict[str, Any]:
    """One row per run: strategy, seed, hypervolume, best accuracy (overall and under
    ``target_macs``), front size, trained evaluations, overhead share and status.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from visualize import read_run
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "run.json").write_text('{"status": "running"}')
    >>> summarize_run(read_run(d))["trained"]
    0
    """
    points = [p for p in run.points() if p[0] > 0]  # over the run's objective
    by_macs = [p for p in run.points(("macs",)) if p[0] > 0]
    hv = run.state.get("hypervolume")
    if hv is None and run.logbook:
        hv = run.logbook[-1].get("hypervolume")
    under = [p[0] for p in by_macs if target_macs is None or p[1] <= target_macs]
    search = run.config.get("search", {})
    seed = search.get("seed")
    return {
        "path": str(run.path),
        "strategy": run.strategy,
        "seed": seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        "status": run.status,
        "hypervolume": number(hv) or 0.0,
        "best": max((p[0] for p in points), default=0.0),
        "best_under_target": max(under, default=0.0),
        "front": len(front_points(points)),
        "trained": len(run.trained()),
        "overhead": number(run.state.get("overhead")) or 0.0,
    }


def _show(value: Any) -> str:
    """A config value for the terminal: a number as is, anything else as a short ``repr``
    (so no control character from a run folder reaches the terminal)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) or value is None:
        return str(value) if len(str(value)) <= 40 else repr(value)[:40] + "..."
    text = ascii(value)
    return text if len(text) <= 40 else text[:40] + "..."


def comparability_warnings(runs: list[RunData] | list[RunSummary]) -> list[str]:
    """Why the runs' hypervolumes do not compare: one sentence per search setting they differ in.

    Hypervolumes compare only between runs with the same objective (``search.objective``), the
    same reference point (``search.ref_macs``, and ``ref_memory_kb`` / ``ref_latency_ms`` where
    an objective holds those costs) and the same budget (``search.budget_evals``).

    Parameters
    ----------
    runs : list of RunData or RunSummary
        The runs to compare, as :func:`~visualize.runs.read_run` reads them, or summarized.

    Returns
    -------
    list of str
        Empty when the runs agree; else e.g. ``"the runs differ in search ref_macs (2e6, 5e6);
        their hypervolumes are not comparable"``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from visualize import read_run
    >>> runs = []
    >>> for budget in (8, 12):
    ...     d = pathlib.Path(tempfile.mkdtemp())
    ...     _ = (d / "config.toml").write_text(f"[search]\\nbudget_evals = {budget}\\n")
    ...     runs.append(read_run(d))
    >>> comparability_warnings(runs)
    ['the runs differ in search budget_evals (12, 8); their hypervolumes are not comparable']
    >>> comparability_warnings(runs[:1])
    []
    """
    warnings = []
    objectives = {run.objective for run in runs}
    if len(objectives) > 1:
        shown = sorted(", ".join(o) for o in objectives)
        warnings.append(
            f"the runs differ in search objective ({'; '.join(shown)}); their hypervolumes are "
            "not comparable"
        )
    costs = {c for o in objectives for c in o}
    refs = [f"ref_{c}" for c in ("macs",)] + [
        key for c, key in (("memory", "ref_memory_kb"), ("latency", "ref_latency_ms")) if c in costs
    ]
    for key in (*refs, "budget_evals"):
        values = {_show(r.config.get("search", {}).get(key)) for r in runs}
        if len(values) > 1:
            warnings.append(
                f"the runs differ in search {key} ({', '.join(sorted(values))}); "
                "their hypervolumes are not comparable"
            )
    return warnings


def strategy_means(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per strategy, in order of first appearance: its number of runs and the mean hypervolume,
    best accuracy and best accuracy under the target of its rows.

    Parameters
    ----------
    rows : list of dict
        Rows of :func:`summarize_run`.

    Returns
    -------
    dict
        Strategy -> ``{"runs", "hypervolume", "best", "best_under_target"}``.

    Examples
    --------
    >>> rows = [
    ...     {"strategy": "nsga2", "hypervolume": 0.5, "best": 0.8, "best_under_target": 0.7},
    ...     {"strategy": "nsga2", "hypervolume": 0.7, "best": 0.9, "best_under_target": 0.7},
    ... ]
    >>> strategy_means(rows)["nsga2"]["runs"], round(strategy_means(rows)["nsga2"]["best"], 2)
    (2, 0.85)
    """
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r["strategy"], []).append(r)
    return {
        strategy: {
            "runs": len(g),
            "hypervolume": mean(r["hypervolume"] for r in g),
            "best": mean(r["best"] for r in g),
            "best_under_target": mean(r["best_under_target"] for r in g),
        }
        for strategy, g in groups.items()
    }


def comparison_table(rows: list[dict[str, Any]], target_macs: float | None = None) -> list[str]:
    """The lines of ``genesis compare``'s table: one per run, then the means per strategy.

    Parameters
    ----------
    rows : list of dict
        Rows of :func:`summarize_run` (computed with ``target_macs``).
    target_macs : float, optional
        The MAC target the rows used; it only names the last column (``best<target``).

    Returns
    -------
    list of str
        A header and one line per run (name, strategy, seed, trained evaluations, hypervolume,
        best accuracy, best under the target, and the status unless ``finished``); when there
        is more than one run, an empty line, a header and one line of means per strategy.

    Examples
    --------
    >>> row = {"path": "runs/a", "strategy": "random", "seed": 0, "trained": 4, "status":
    ...        "finished", "hypervolume": 0.5, "best": 0.8, "best_under_target": 0.7}
    >>> for line in comparison_table([row]):
    ...     print(line)
    run                             strategy seed trained      HV    best        best
    a                                 random    0       4  0.5000  0.8000      0.7000
    """
    under = "best<target" if target_macs else "best"
    lines = [
        f"{'run':<28} {'strategy':>11} {'seed':>4} {'trained':>7} {'HV':>7} {'best':>7} {under:>11}"
    ]
    for r in rows:
        name = Path(r["path"]).name[:28]
        lines.append(
            f"{name:<28} {r['strategy']:>11} {r['seed']!s:>4} {r['trained']:>7} "
            f"{r['hypervolume']:7.4f} {r['best']:7.4f} {r['best_under_target']:11.4f}"
            + ("" if r["status"] == "finished" else f"  ({r['status']})")
        )
    means = strategy_means(rows)
    if len(means) > 1 or any(m["runs"] > 1 for m in means.values()):
        lines.append("")
        lines.append(
            f"{'mean over runs':<28} {'strategy':>11} {'runs':>4} {'':>7} {'HV':>7} "
            f"{'best':>7} {under:>11}"
        )
        for strategy, m in means.items():
            lines.append(
                f"{'':<28} {strategy:>11} {m['runs']:>4} {'':>7} "
                f"{m['hypervolume']:7.4f} {m['best']:7.4f} "
                f"{m['best_under_target']:11.4f}"
            )
    return lines


def comparison_plot(
    runs: list[RunData] | list[RunSummary],
    out: str | os.PathLike,
    target_macs: float | None = None,
) -> Path | None:
    """Three panels: every run's Pareto front coloured by strategy (the MAC target dashed),
    the hypervolume per strategy and the best accuracy under the target per strategy (one dot
    per run, a line at the mean). None when no run has a trained evaluation. ``runs`` given
    as :class:`RunSummary` must have been summarized with the same ``target_macs``."""
    summaries = [r if isinstance(r, RunSummary) else RunSummary.of(r, target_macs) for r in runs]
    rows = [(s, s.row) for s in summaries if s.row["trained"]]
    if not rows:
        return None
    strategies = list(dict.fromkeys(r["strategy"] for _, r in rows))
    color = {s: STRATEGY_COLORS.get(s, "#EE6677") for s in strategies}
    fig, axes = plt.subplots(1, 3, figsize=(12.0, 3.6), gridspec_kw={"width_ratios": [2, 1, 1]})
    ax = axes[0]
    labelled = set()
    for summary, r in rows:
        front = summary.front
        s = r["strategy"]
        ax.step(
            [p[1] for p in front],
            [p[0] for p in front],
            where="post",
            color=color[s],
            lw=1.4,
            alpha=0.85,
            label=None if s in labelled else s,
        )
        ax.scatter([p[1] for p in front], [p[0] for p in front], s=12, color=color[s])
        labelled.add(s)
    if target_macs:
        ax.axvline(target_macs, color="black", ls="--", lw=0.8, label="MAC target")
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1e6:g}M"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("MACs per example")
    ax.set_ylabel("validation accuracy")
    ax.set_title("Pareto fronts, every run", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    for ax, key, title in (
        (axes[1], "hypervolume", "hypervolume (line: mean)"),
        (
            axes[2],
            "best_under_target",
            "best accuracy under target" if target_macs else "best accuracy",
        ),
    ):
        for x, s in enumerate(strategies):
            values = [r[key] for _, r in rows if r["strategy"] == s]
            ax.hlines(mean(values), x - 0.3, x + 0.3, color=color[s], lw=2.5)
            ax.scatter(
                [x] * len(values), values, s=14, color=color[s], edgecolor="black", lw=0.5, zorder=3
            )
        ax.set_xticks(range(len(strategies)), strategies, rotation=30, fontsize=8)
        low = min(r[key] for _, r in rows)
        ax.set_ylim(max(0.0, low - 0.1), min(1.0, max(r[key] for _, r in rows) + 0.05))
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return save_figure(fig, out)
