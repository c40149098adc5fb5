"""The files a generator study owns in its folder: ``study.csv`` (one row per network),
``summary.csv`` and ``summary.txt`` (one row per setting, and the same in words) and, for a
study of node ops, ``ops.csv`` and ``ops_correlation.csv``; each written whole (a temporary
file renamed over it), never through a link nor over a file that is not regular."""

from __future__ import annotations

import os
import statistics
from pathlib import Path
from typing import Any

from genesis.files import atomic_write
from genesis.tables import csv_bytes
from visualize.studystats import OpsAnalysis, SettingSummary

__all__ = ["OPS_FILES", "STUDY_FILES", "plain_target", "write_study_tables"]

#: What :func:`visualize.study.write_study_outputs` writes into a study folder.
STUDY_FILES = (
    "study.csv",
    "summary.csv",
    "summary.txt",
    "study_bars.png",
    "study_macs.png",
    "study_stats.png",
    "study_heatmap.png",
)

#: What :func:`visualize.study.write_study_outputs` adds for a study of node ops
#: (``genesis study ops``).
OPS_FILES = ("ops.csv", "ops_correlation.csv", "study_ops.png")


def plain_target(folder: Path, name: str) -> Path:
    """``folder/name``, refused when it is a link or not a regular file (a hostile folder)."""
    path = folder / name
    if os.path.islink(path) or (path.exists() and not path.is_file()):
        from genesis import GenesisError

        raise GenesisError(f"{str(path)!r} is not a regular file; not overwritten")
    return path


def write_study_tables(
    folder: Path,
    rows: list[dict[str, Any]],
    summaries: list[SettingSummary],
    lines: list[str],
    ops: OpsAnalysis | None,
) -> None:
    """Write the study's tables into ``folder``: the ops tables (``ops``: a study of node
    ops), ``study.csv``, ``summary.csv`` and ``summary.txt``.

    Parameters
    ----------
    folder : Path
        The study folder.
    rows : list of dict
        :func:`~visualize.studystats.study_rows`, one per network.
    summaries : list of SettingSummary
        :func:`~visualize.studystats.summarize_settings` of the rows.
    lines : list of str
        ``summary.txt``'s lines.
    ops : OpsAnalysis or None
        :func:`~visualize.studystats.ops_analysis` of the rows.

    Raises
    ------
    GenesisError
        When a target is a link or not a regular file (nothing written over it).
    """
    if ops is not None:
        _write_ops_tables(folder, ops)
    columns = [c for c in rows[0] if c != "setting_index"] if rows else ["setting"]
    atomic_write(plain_target(folder, "study.csv"), csv_bytes(rows, columns))
    summary_rows, summary_columns = _summary_table(summaries)
    atomic_write(plain_target(folder, "summary.csv"), csv_bytes(summary_rows, summary_columns))
    text = ("\n".join(lines) + "\n").encode("utf-8", errors="backslashreplace")
    atomic_write(plain_target(folder, "summary.txt"), text)


def _summary_table(summaries: list[SettingSummary]) -> tuple[list[dict[str, Any]], list[str]]:
    """``summary.csv``'s rows and columns."""
    summary_columns = [
        "setting",
        "n",
        "failed",
        "macs",
        "mean",
        "std",
        "ci95_low",
        "ci95_high",
        "std_graphs",
        "std_train",
        "diff_vs_best",
        "p_vs_best",
        "beyond_noise",
    ]
    summary_rows = [
        {
            "setting": s.label,
            "n": s.n,
            "failed": s.failed,
            "macs": None if s.macs is None else round(s.macs),
            "mean": _round(s.mean),
            "std": _round(s.std),
            "ci95_low": _round(s.ci_low),
            "ci95_high": _round(s.ci_high),
            "std_graphs": _round(s.std_graphs),
            "std_train": _round(s.std_train),
            "diff_vs_best": _round(s.diff),
            "p_vs_best": None if s.p_value is None else f"{s.p_value:.4g}",
            "beyond_noise": None if s.beyond_noise is None else str(s.beyond_noise).lower(),
        }
        for s in summaries
    ]
    return summary_rows, summary_columns


def _write_ops_tables(folder: Path, ops: OpsAnalysis) -> None:
    """``ops.csv`` (per setting: mean, std and n with each op) and ``ops_correlation.csv``."""
    columns = ["setting"] + [f"{op} {k}" for op in ops.ops for k in ("mean", "std", "n")]
    table = []
    for x in ops.settings:
        row: dict[str, Any] = {"setting": x}
        for op in ops.ops:
            accs = ops.cells.get((x, op), [])
            row[f"{op} mean"] = _round(ops.mean(x, op))
            row[f"{op} std"] = _round(statistics.stdev(accs)) if len(accs) > 1 else None
            row[f"{op} n"] = len(accs)
        table.append(row)
    atomic_write(plain_target(folder, OPS_FILES[0]), csv_bytes(table, columns))
    pairs = [
        {**p, **{k: _round(p[k]) for k in ("pearson", "pearson_p", "spearman", "spearman_p")}}
        for p in ops.pairs
    ]
    columns = ["op_a", "op_b", "settings", "pearson", "pearson_p", "spearman", "spearman_p"]
    atomic_write(plain_target(folder, OPS_FILES[1]), csv_bytes(pairs, columns))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
