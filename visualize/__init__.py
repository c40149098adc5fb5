"""Seeing what a search found: architecture renderings (graphviz), plots and reports.

Reads architectures (JSON) and run folders (files); never imports the search itself.
"""

from visualize.compare import (
    STRATEGY_COLORS,
    comparability_warnings,
    comparison_plot,
    comparison_table,
    strategy_means,
    summarize_run,
)
from visualize.plots import front_points, lineage_graph, pareto_plot, progress_plot, stats_plot
from visualize.render import (
    FORMATS,
    OP_COLORS,
    architecture_graph,
    edge_weights,
    render_architecture,
)
from visualize.report import write_report
from visualize.runs import RunData, read_run
from visualize.study import write_study_outputs
from visualize.studyplots import study_plots

__all__ = [
    "FORMATS",
    "OP_COLORS",
    "STRATEGY_COLORS",
    "RunData",
    "architecture_graph",
    "comparability_warnings",
    "comparison_plot",
    "comparison_table",
    "edge_weights",
    "front_points",
    "lineage_graph",
    "pareto_plot",
    "progress_plot",
    "read_run",
    "render_architecture",
    "stats_plot",
    "strategy_means",
    "study_plots",
    "summarize_run",
    "write_report",
    "write_study_outputs",
]
