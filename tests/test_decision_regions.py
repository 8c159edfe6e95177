"""viz.decision_grid / plot_decision_regions, and the figures of a two-input classifier."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_sine.nn import MLP
from tinygrad_sine.sine import train
from viz.plots import decision_grid, plot_decision_regions, plot_error_curve, save_figures

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.5, 0.2]])
LABELS = np.array([0, 1, 1, 0, 2])


def _logits(net: MLP, points: np.ndarray) -> np.ndarray:
    h = np.tanh(points @ net.layers[0].w.data + net.layers[0].b.data)
    return h @ net.layers[1].w.data + net.layers[1].b.data


def test_the_grid_spans_the_data_with_a_margin_and_holds_the_nets_outputs():
    net = MLP(2, [4], 3, seed=0)
    gx, gy, out = decision_grid(net, X, steps=7, margin=0.5)
    np.testing.assert_allclose([gx[0], gx[-1], gy[0], gy[-1]], [-0.5, 1.5, -0.5, 1.5])
    assert gx.shape == gy.shape == (7,) and out.shape == (7, 7, 3)
    i, j = 2, 5  # out[i, j] is the output at (gx[j], gy[i])
    np.testing.assert_allclose(out[i, j], _logits(net, np.array([[gx[j], gy[i]]]))[0],
                               rtol=1e-12)
    _, _, same = decision_grid(lambda p: _logits(net, p), X, steps=7, margin=0.5)  # numpy too
    np.testing.assert_allclose(same, out, rtol=1e-12)


@pytest.mark.parametrize("x, steps, words", [
    (X[:, :1], 10, r"shape \(n, 2\), two inputs per sample, got shape \(5, 1\)"),
    (X, 1, "steps must be a whole number from 2 to 2000"),
])
def test_bad_grids_are_refused(x, steps, words):
    with pytest.raises(ValueError, match=words):
        decision_grid(MLP(2, [2], 2, seed=0), x, steps=steps)


@pytest.fixture
def drawn_regions(monkeypatch):
    """The (x, y, Z) arrays each ``contourf`` call is given: what the plot colours, read
    before matplotlib turns it into polygons."""
    from matplotlib.axes import Axes

    calls = []
    contourf = Axes.contourf

    def spy(self, *args, **kwargs):
        calls.append(tuple(np.array(a) for a in args[:3]))
        return contourf(self, *args, **kwargs)

    monkeypatch.setattr(Axes, "contourf", spy)
    return calls


def test_the_regions_are_the_largest_output_and_every_point_is_drawn(drawn_regions):
    net = MLP(2, [4], 3, seed=1)
    fig = plot_decision_regions(net, X, LABELS, steps=30)
    ((gx, gy, z),) = drawn_regions
    gridx, gridy = np.meshgrid(gx, gy)  # z[i, j] is the class at (gx[j], gy[i])
    logits = _logits(net, np.stack([gridx.ravel(), gridy.ravel()], axis=1))
    np.testing.assert_array_equal(z, logits.argmax(axis=1).reshape(30, 30))
    assert len(np.unique(z)) > 1  # the plane is split, so a flipped rule would show
    ax = fig.axes[0]
    offsets = np.concatenate([c.get_offsets() for c in ax.collections if hasattr(c, "get_offsets")
                              and len(c.get_offsets()) and c.get_offsets().shape[1] == 2
                              and c.__class__.__name__ == "PathCollection"])
    assert sorted(map(tuple, offsets)) == sorted(map(tuple, X))
    from matplotlib.contour import ContourSet

    (regions,) = [c for c in ax.collections if isinstance(c, ContourSet)]
    np.testing.assert_array_equal(regions.levels, [-0.5, 0.5, 1.5, 2.5])  # one band per class
    gx, gy, out = decision_grid(net, X, steps=30)
    for point in X:  # the class at a grid point next to each sample is the net's argmax there
        j, i = np.abs(gx - point[0]).argmin(), np.abs(gy - point[1]).argmin()
        assert out[i, j].argmax() == _logits(net, np.array([[gx[j], gy[i]]])).argmax()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1",
                                                                   "class 2"]


def test_a_two_input_run_writes_regions_and_an_error_figure_with_accuracy(tmp_path):
    net = MLP(2, [4], 3, seed=0)
    history = train(net, data=(X, LABELS), loss="cross_entropy", epochs=3, interval=1,
                    eta=0.1)
    fig = plot_error_curve(history)
    assert len(fig.axes) == 2
    np.testing.assert_array_equal(fig.axes[1].lines[0].get_ydata(), history.accuracies)
    assert "cross-entropy" in fig.axes[0].get_ylabel()
    written = save_figures(history, tmp_path, formats=("png",))
    assert sorted(p.name for p in written) == ["error.png", "regions.png"]
    assert all(p.stat().st_size > 1000 for p in written)


def test_a_one_output_net_splits_the_plane_at_one_half(drawn_regions):
    class Plane:
        sizes = (2, 1)

        def __call__(self, points):
            return points[:, :1]  # y = x₁: the boundary is x₁ = 0.5

        def parameters(self):
            return []

    gx, gy, out = decision_grid(Plane(), X, steps=11, margin=0.0)
    fig = plot_decision_regions(Plane(), X, np.array([0, 0, 1, 1, 0]), steps=11)
    assert np.array_equal(out[..., 0] > 0.5, np.broadcast_to(gx > 0.5, (11, 11)))
    ((drawn_x, _, z),) = drawn_regions  # class 1 right of x₁ = 0.5, class 0 left of it
    np.testing.assert_array_equal(z, np.broadcast_to(drawn_x > 0.5, (11, 11)).astype(int))
    assert 0 < z.sum() < z.size
    assert fig.axes[0].get_title() == "decision regions"
