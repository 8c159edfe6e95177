"""Drawing: the seed's figures (matplotlib) and graph diagrams (graphviz).

Both libraries load on first use, inside the drawing functions, so that
``import viz`` and ``import tinygrad_sine`` stay light.
"""

from .animation import animate
from .dot import DiagramTooSlow
from .explore import explore
from .graph import GraphTooLarge, GraphvizNotFound, draw_graph, render_graph
from .learn import learn_data, learn_page
from .plots import (
    SNAPSHOT_EPOCHS,
    decision_grid,
    plot_decision_regions,
    plot_error_curve,
    plot_snapshots,
    save_figures,
)

__all__ = ["SNAPSHOT_EPOCHS", "plot_snapshots", "plot_error_curve", "save_figures",
           "decision_grid", "plot_decision_regions",
           "draw_graph", "render_graph", "GraphvizNotFound", "GraphTooLarge", "DiagramTooSlow",
           "explore", "learn_page", "learn_data", "animate"]
