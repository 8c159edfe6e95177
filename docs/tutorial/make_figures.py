"""Make the figures that docs/tutorial.md shows, into this folder.

    python docs/tutorial/make_figures.py        # neuron.svg, snapshots.png, error.png, regions.png,
                                                # ../learn.png, ../learn-page.png

neuron.svg   section 2's one-neuron graph after E.backward() (viz.render_graph)
snapshots.png, error.png
             section 6: the full training run, SineNet(seed=0), 2001 epochs,
             seed 0 (the figures `tinygrad-sine train --seed 0` writes)
../learn.png, ../learn-page.png
             section 6 and the README: the same run's animation, its last
             frame (viz.animation.still), and its learning page at epoch 200
             (docs/make_screenshot.py; needs Chromium and playwright)
regions.png  section 10: the 2-24-3 tanh MLP after 3000 full-batch epochs on the spiral

Needs Graphviz's `dot` for the diagram and matplotlib for the plots.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))  # run from a checkout without installing


def neuron_graph():
    """Section 2's expression: E = ½ (sigmoid(w x + b) − 0.8)², after backward()."""
    from tinygrad_sine import Value

    x, w, b = Value(0.5, label="x"), Value(-1.2, label="w"), Value(0.3, label="b")
    u = w * x + b
    u.label = "u"
    y = u.sigmoid()
    y.label = "y"
    e = 0.5 * (y - 0.8) ** 2
    e.label = "E"
    e.backward()
    return e


def main(out: Path = HERE) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    from tinygrad_sine.nn import SineNet
    from tinygrad_sine.sine import spiral_data, train
    from viz import plot_decision_regions, plot_error_curve, plot_snapshots, render_graph

    written = [render_graph(neuron_graph(), out / "neuron.svg")]
    history = train(SineNet(seed=0), epochs=2001, seed=0, engine="compiled")
    for name, figure in (("snapshots.png", plot_snapshots(history)),
                         ("error.png", plot_error_curve(history))):
        figure.savefig(out / name, dpi=80, bbox_inches="tight")
        written.append(out / name)
    figure = plot_decision_regions(spiral_run(), *spiral_data(),
                                   title="decision regions after 3000 epochs")
    figure.savefig(out / "regions.png", dpi=80, bbox_inches="tight")
    written.append(out / "regions.png")
    return written + learning(history)


def learning(history, docs: Path = HERE.parent) -> list[Path]:
    """docs/learn.png (the animation's last frame) and docs/learn-page.png (the page)."""
    from viz.animation import still

    sys.path.insert(0, str(docs))
    from make_screenshot import make_learn

    return [still(history, docs / "learn.png", dpi=70), make_learn(docs / "learn-page.png")]


def spiral_run():
    """Section 10's network, trained as the section trains it; returns the network."""
    from tinygrad_sine.nn import MLP
    from tinygrad_sine.sine import spiral_data, train

    x, labels = spiral_data()
    clf = MLP(2, [24], 3, activation="tanh", seed=0)
    train(clf, data=(x, labels), loss="cross_entropy", epochs=3000, eta=0.5 / 180,
          batch_size=180, interval=1000)
    return clf


if __name__ == "__main__":
    for path in main():
        print("wrote", path)
