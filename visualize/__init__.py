"""Seeing what a search found: architecture renderings (graphviz), plots and reports.

Reads architectures (JSON) and run folders (files); never imports the search itself.
"""

from visualize.render import (
    FORMATS,
    OP_COLORS,
    architecture_graph,
    edge_weights,
    render_architecture,
)

__all__ = ["FORMATS", "OP_COLORS", "architecture_graph", "edge_weights", "render_architecture"]
