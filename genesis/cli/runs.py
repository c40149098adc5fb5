"""``genesis report`` and ``compare``: reading finished (or running) run folders."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from genesis.cli.common import refuse_run_outputs
from graphs import GenesisError

__all__ = ["add_compare", "add_report", "cmd_compare", "cmd_report"]


def add_report(sub: argparse._SubParsersAction) -> None:
    """Register ``genesis report``."""
    rp = sub.add_parser(
        "report",
        help="write report.html for a run folder (finished or in progress)",
        description="A self-contained HTML report: settings, Pareto members with test accuracy, "
        "plots, every Pareto architecture drawn, the lineage of the best.",
    )
    rp.add_argument("run", metavar="DIR", help="run folder of genesis evolve")
    rp.add_argument("--baseline", metavar="DIR", help="a run to overlay, e.g. --strategy random")
    rp.add_argument("-o", "--output", metavar="OUT.html", help="default: DIR/report.html")
    rp.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    """``genesis report``: the HTML report of a run folder."""
    from visualize.report import write_report
    from visualize.runs import read_run

    out = write_report(args.run, args.baseline, args.output)
    run = read_run(args.run)
    note = "" if run.status == "finished" else f" (run {run.status}: partial report)"
    print(f"wrote {out}{note}")
    return 0


def add_compare(sub: argparse._SubParsersAction) -> None:
    """Register ``genesis compare``."""
    cp = sub.add_parser(
        "compare",
        help="compare finished runs (strategies, seeds): a table and one plot",
        description="Per run: strategy, seed, trained evaluations, hypervolume and the best "
        "validation accuracy (overall and under --target-macs); per strategy: the means. "
        "Hypervolumes compare only between runs with the same reference point and budget.",
    )
    cp.add_argument("runs", metavar="DIR", nargs="+", help="run folders of genesis evolve")
    cp.add_argument("--target-macs", type=float, help="report the best accuracy under this")
    cp.add_argument("-o", "--output", metavar="OUT", help="write the plot (.png, .svg or .pdf)")
    cp.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    """``genesis compare``: a table of several runs and, with ``-o``, the comparison plot."""
    refuse_run_outputs(args, "output")
    from visualize.compare import (
        MAX_COMPARE_RUNS,
        RunSummary,
        comparability_warnings,
        comparison_plot,
        comparison_table,
    )
    from visualize.runs import read_run

    if args.target_macs is not None and not (
        math.isfinite(args.target_macs) and args.target_macs > 0
    ):
        raise GenesisError(f"--target-macs must be a positive number, got {args.target_macs}")
    if args.output and Path(args.output).suffix.lower() not in (".png", ".svg", ".pdf"):
        raise GenesisError(f"--output must end in .png, .svg or .pdf, got {args.output!r}")
    if len(args.runs) > MAX_COMPARE_RUNS:
        raise GenesisError(
            f"compare got {len(args.runs)} run folders; the cap is MAX_COMPARE_RUNS = "
            f"{MAX_COMPARE_RUNS}"
        )
    # one folder in memory at a time: each is reduced to its summary before the next is read
    runs = [RunSummary.of(read_run(d), args.target_macs) for d in args.runs]
    for warning in comparability_warnings(runs):
        print(f"warning: {warning}", file=sys.stderr)
    rows = [r.row for r in runs]
    for line in comparison_table(rows, args.target_macs):
        print(line)
    if args.output:
        out = comparison_plot(runs, args.output, args.target_macs)
        print(f"wrote {out}" if out else "no trained evaluation yet: no plot written")
    return 0
