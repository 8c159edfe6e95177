"""train(net, data=(x, t)): the post's loop, history and figures on your own data."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_sine.nn import SineNet
from tinygrad_sine.sine import train

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_T = np.array([0.0, 1.0, 1.0, 0.0])


def _sigmoid(u):
    return 1 / (1 + np.exp(-u))


def _predict(net: SineNet, x: np.ndarray) -> np.ndarray:
    """The net's output computed in plain numpy from its weights (no Value)."""
    for layer in net.layers:
        u = x @ layer.w.data + layer.b.data
        x = u if layer.kind == "output" else _sigmoid(u)
    return x


def test_first_recorded_error_is_the_mean_loss_on_your_data():
    x = np.linspace(-1.0, 1.0, 21)
    t = np.cos(3 * x)
    net = SineNet(seed=5, wb_width=1.0)
    y = _predict(net, x.reshape(-1, 1))[:, 0]
    history = train(net, data=(x, t), epochs=1, eta=1e-300, seed=0)
    assert history.errors[0] == pytest.approx(np.mean(0.5 * (y - t) ** 2), rel=1e-12)
    px, py = history.snapshots[0]
    assert sorted(px) == sorted(x) and len(py) == 21
    np.testing.assert_array_equal(history.data[0], x)
    np.testing.assert_array_equal(history.data[1], t)


def test_xor_is_learned_by_a_2_3_1_net():
    net = SineNet(n_in=2, n_mid=3, wb_width=1.0, seed=0)
    history = train(net, data=(XOR_X, XOR_T.reshape(-1, 1)), epochs=1001, interval=100,
                    eta=0.3, seed=0)
    assert history.errors[-1] < 1e-3 < history.errors[0]
    np.testing.assert_allclose(_predict(net, XOR_X)[:, 0], XOR_T, atol=0.1)


@pytest.mark.parametrize("engine", ["manual", "compiled"])
def test_every_engine_takes_the_same_path_on_your_data(engine):
    x = np.linspace(-1.0, 1.0, 15)
    runs = [train(SineNet(seed=2, wb_width=1.0), data=(x, x**2), epochs=40, interval=10,
                  batch_size=4, engine=e, seed=3) for e in ("auto", engine)]
    np.testing.assert_allclose(runs[0].errors, runs[1].errors, rtol=1e-9, atol=1e-12)
    assert runs[0].errors[-1] < runs[0].errors[0]


@pytest.mark.parametrize("data, error, words", [
    ((XOR_X, XOR_T), ValueError, r"data's x has shape \(4, 2\), but SineNet\(1-3-1\) needs "
                                 r"\(n, 1\)"),
    ((XOR_X[:, 0], XOR_T[:3]), ValueError, "data's x has 4 samples but t has 3"),
    ((XOR_X[:, 0], np.ones((4, 2))), ValueError, r"data's t has shape \(4, 2\)"),
    ((np.array([]), np.array([])), ValueError, "n ≥ 1 samples"),
    ((["a", "b"], [1.0, 2.0]), TypeError, "data's x must be numbers"),
    (([0.0, 1.0], [1.0, np.nan]), ValueError, "data's t has nan or inf"),
    (np.ones((2, 4)).tolist() + [[1.0]], TypeError, "data must be a pair"),
    ("xt", TypeError, "data must be a pair"),
])
def test_bad_data_is_refused_before_training_naming_x_or_t(data, error, words):
    with pytest.raises(error, match=words):
        train(SineNet(seed=0), data=data, epochs=1)


def test_batch_size_is_checked_against_your_number_of_samples():
    with pytest.raises(ValueError, match="batch_size 5 is more than the 4 samples"):
        train(SineNet(n_in=2), data=(XOR_X, XOR_T), epochs=1, batch_size=5)


def test_the_snapshot_figure_draws_your_targets_not_sine():
    from viz.plots import plot_snapshots

    x = np.array([0.5, -0.5, 0.0, 1.0])
    history = train(SineNet(seed=0), data=(x, x**2), epochs=3, interval=1)
    fig = plot_snapshots(history)
    line = fig.axes[0].lines[0]
    np.testing.assert_array_equal(line.get_xdata(), [-0.5, 0.0, 0.5, 1.0])
    np.testing.assert_array_equal(line.get_ydata(), [0.25, 0.0, 0.25, 1.0])
    assert line.get_label() == "target"
