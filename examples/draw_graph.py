"""Draw two computation graphs to SVG: a micrograd-sized expression and one seed training step.

    python examples/draw_graph.py [OUT_DIR]        (default: out/)

Writes OUT_DIR/expression.svg (micrograd's tanh neuron, o = tanh(x1·w1 + x2·w2 + b)),
OUT_DIR/seed_step.svg (one training step of the seed's 1-3-1 network, with the
seed's formulas at their nodes) and OUT_DIR/seed_step_collapsed.svg (the same,
one box per layer).  Without Graphviz's `dot` program it writes .dot files
instead and says how to install Graphviz.  Open an .svg in any web browser.
"""

import sys
from pathlib import Path

from tinygrad_sine import Value, show
from tinygrad_sine.nn import SineNet
from tinygrad_sine.sine import sine_data
from tinygrad_sine.stepper import training_step
from viz import GraphvizNotFound, render_graph


def draw(root: Value, path: Path, **options) -> Path:
    """render_graph, falling back to a .dot file when Graphviz is not installed."""
    try:
        return render_graph(root, path, **options)
    except GraphvizNotFound as err:
        print(f"({err})")
        return render_graph(root, path.with_suffix(".dot"), **options)


def main(out_dir: str = "out") -> None:
    out = Path(out_dir)

    # micrograd's neuron: the classic first graph
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    show(o)  # the same graph as text, for terminals
    print("wrote", draw(o, out / "expression.svg"))

    # one training step of the seed's network: forward, E.backward(), no update
    x, t = sine_data()
    net = SineNet(n_mid=3, seed=0)
    loss = training_step(net, x[10:11].reshape(1, 1), t[10:11].reshape(1, 1), backward=True)
    title = f"One training step of {net!r}: E = ½ Σ (y − t)² on sample 10"
    print("wrote", draw(loss, out / "seed_step.svg", rankdir="TB", title=title))
    print("wrote", draw(loss, out / "seed_step_collapsed.svg", collapse=True, title=title))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "out")
