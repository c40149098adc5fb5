"""The tables of a generator study: one row per trained network, one per setting, in words.

Reads a study's run folder (``genesis study generators``) like any run folder: the log through
:func:`visualize.read_run` (bounded reads, every value type-checked, an entry of the wrong type
dropped and noted), architectures through :meth:`~visualize.runs.RunData.architecture` (inside
the folder only). It writes, into the folder, files a study owns (never one the run keeps):

- ``study.csv``: one row per network: setting, graph seed, train seed, MACs, params, the widths
  chosen, the graph statistics (:func:`graphs.graph_stats`, the mean over the network's stages)
  and the accuracy with the split it was measured on;
- ``summary.csv``: one row per setting: n, mean, std, a 95% confidence interval (Student's t),
  the spread over graph instances and over training seeds apart, and Welch's t-test against the
  best setting;
- ``summary.txt``: the same in words: which differences exceed the noise and which do not;
- ``study_bars.png`` (mean ± std per setting over its n networks, grouped by family:
  RandWire's Figure 3), ``study_macs.png`` (accuracy against MACs), ``study_stats.png``
  (accuracy against each graph statistic, with Spearman's rho, n and p) and
  ``study_heatmap.png`` (each network at its clustering x path length, coloured by accuracy:
  You et al. 2020's map, for the few networks of a study). Accuracy axes start just below
  chance (1 / the networks' classes), drawn and labelled; every colour is in a legend.


The numbers are :mod:`visualize.studystats`, the figures :mod:`visualize.studyplots`, the
tables :mod:`visualize.studyfiles` (their names are found here too); this module writes them
all.

Accuracies are in points (percent) in the words, fractions in the CSV files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from visualize.runs import RunData, read_run
from visualize.studyfiles import OPS_FILES, STUDY_FILES, plain_target, write_study_tables
from visualize.studyplots import (
    FAMILY_COLORS,
    family_color,
    ops_plot,
    setting_drawings,
    study_plots,
)
from visualize.studystats import (
    STAT_COLUMNS,
    OpsAnalysis,
    SettingSummary,
    is_study,
    ops_analysis,
    ops_lines,
    split_name,
    study_rows,
    summarize_settings,
    summary_lines,
)

__all__ = [
    # re-exported from visualize.studystats, studyplots and studyfiles, where they are defined
    "STAT_COLUMNS",
    "STUDY_FILES",
    "SettingSummary",
    "is_study",
    "study_rows",
    "summarize_settings",
    "FAMILY_COLORS",
    "family_color",
    "plain_target",
    "study_plots",
    "summary_lines",
    "OpsAnalysis",
    "ops_analysis",
    "ops_lines",
    # defined here
    "write_study_outputs",
]


def write_study_outputs(path: str | os.PathLike, plots: bool = True) -> dict[str, Any]:
    """Write ``study.csv``, ``summary.csv``, ``summary.txt`` and (``plots``) the figures of
    :func:`study_plots` into the study folder ``path``.

    Returns
    -------
    dict
        ``rows`` (study.csv's rows), ``summaries`` (:class:`SettingSummary` per setting),
        ``lines`` (summary.txt's lines), ``figures`` (name -> path) and ``problems`` (what of
        the folder was not readable).

    Raises
    ------
    GenesisError
        When ``path`` is no run folder, or not a study's.
    """
    from genesis import GenesisError

    run = read_run(path)
    if not is_study(run):
        raise GenesisError(
            f"{str(run.path)!r} is not a study folder (no [study] table in config.toml)"
        )
    rows = study_rows(run)
    summaries = summarize_settings(rows)
    splits = {r["split"] for r in rows if r["split"]}
    lines = summary_lines(summaries, splits.pop() if len(splits) == 1 else "")
    ops = ops_analysis(rows)
    if ops is not None:
        lines += ops_lines(ops)
    write_study_tables(run.path, rows, summaries, lines, ops)
    figures = _figures(run, rows, summaries, ops) if plots else {}
    return {
        "rows": rows,
        "summaries": summaries,
        "lines": lines,
        "figures": figures,
        "problems": run.problems,
    }


def _figures(run: RunData, rows, summaries, ops: OpsAnalysis | None) -> dict[str, Path]:
    """Every figure and drawing of the study, into its folder (each target checked first)."""
    for name in STUDY_FILES[3:]:
        plain_target(run.path, name)
    chance = run.chance()
    figures = study_plots(rows, summaries, run.path, chance)
    if ops is not None:
        target = plain_target(run.path, OPS_FILES[2])
        figures.update(ops_plot(ops, split_name(rows), target, chance))
    figures.update(setting_drawings(run, rows))
    return figures
