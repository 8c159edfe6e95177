"""train(net, data=(x, t), loss=...): any network, cross-entropy with accuracy, every engine."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_sine import Value
from tinygrad_sine.nn import MLP, SineNet, cross_entropy
from tinygrad_sine.sine import train

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_LABELS = np.array([0, 1, 1, 0])


def _blobs(n_per_class: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three round clusters in the plane, well apart: an easy three-class problem."""
    rng = np.random.default_rng(seed)
    centres = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    x = np.concatenate([c + 0.4 * rng.normal(size=(n_per_class, 2)) for c in centres])
    return x, np.repeat(np.arange(3), n_per_class)


def _forward(net: MLP, x: np.ndarray) -> np.ndarray:
    """The MLP's logits in plain numpy from its weights (tanh hidden layers, identity out)."""
    for layer in net.layers[:-1]:
        x = np.tanh(x @ layer.w.data + layer.b.data)
    last = net.layers[-1]
    return x @ last.w.data + last.b.data


def test_the_first_record_is_the_mean_cross_entropy_and_accuracy_at_the_initial_weights():
    x, labels = _blobs()
    net = MLP(2, [5], 3, seed=3)
    z = _forward(net, x)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    mean_loss = -log_p[np.arange(30), labels].mean()
    accuracy = (z.argmax(axis=1) == labels).mean()
    history = train(net, data=(x, labels), loss="cross_entropy", epochs=1, eta=0.01,
                    batch_size=30)
    assert history.errors[0] == pytest.approx(mean_loss, rel=1e-12)
    assert history.accuracies == [accuracy]
    assert history.settings["loss"] == "cross_entropy" and history.settings["sizes"] == (2, 5, 3)
    np.testing.assert_array_equal(history.samples[1], np.eye(3)[labels])  # one-hot rows
    assert history.net is net and "accuracy" in repr(history)


def test_cross_entropy_learns_three_clusters_and_xor():
    x, labels = _blobs()
    history = train(MLP(2, [8], 3, seed=0), data=(x, labels), loss="cross_entropy",
                    epochs=60, eta=0.05, interval=20)
    assert history.accuracies[-1] == 1.0 and history.errors[-1] < history.errors[0] / 5
    net = MLP(2, [6], 2, seed=0)
    history = train(net, data=(XOR_X, XOR_LABELS), loss="cross_entropy", epochs=400,
                    eta=0.5, interval=100, batch_size=4)
    assert history.accuracies[-1] == 1.0
    assert (_forward(net, XOR_X).argmax(axis=1) == XOR_LABELS).all()


@pytest.mark.parametrize("loss, batch_size", [("cross_entropy", 1), ("cross_entropy", 30),
                                              ("squared_error", 4)])
def test_the_compiled_engine_gives_eagers_numbers_on_an_mlp(loss, batch_size):
    x, labels = _blobs()
    t = labels if loss == "cross_entropy" else np.eye(3)[labels]
    runs = [(net := MLP(2, [4], 3, seed=1),
             train(net, data=(x, t), loss=loss, epochs=6, interval=2, eta=0.02,
                   batch_size=batch_size, engine=engine))
            for engine in ("auto", "compiled")]
    (net_a, a), (net_c, c) = runs
    np.testing.assert_allclose(a.errors, c.errors, rtol=1e-10)
    assert a.accuracies == c.accuracies
    for p, q in zip(net_a.parameters(), net_c.parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-10, atol=1e-13)


def test_any_net_with_call_and_parameters_and_a_loss_function():
    class Linear:
        def __init__(self):
            self.w = Value(np.zeros((2, 1)), label="w")

        def __call__(self, x):
            return Value(x, label="x") @ self.w

        def parameters(self):
            return [self.w]

    def absolute_error(y, t):
        return (((y - t) ** 2 + 1e-12) ** 0.5).sum()  # Σ |y − t|, smoothed at 0

    net = Linear()
    x = np.random.default_rng(0).normal(size=(20, 2))
    t = x @ np.array([1.0, -2.0])
    history = train(net, data=(x, t), loss=absolute_error, epochs=200, eta=0.01, interval=199)
    assert history.errors[-1] < 0.05 * history.errors[0]
    assert history.settings["sizes"] == (2, 1) and history.settings["loss"] == "absolute_error"
    assert history.accuracies == []


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(net=MLP(2, [3], 3), data=(XOR_X, [0, 1, 3, 0]), loss="cross_entropy"),
     ValueError, "train: data's t: class index 3 is out of range for 3 classes"),
    (dict(net=MLP(2, [3], 1), data=(XOR_X, XOR_LABELS), loss="cross_entropy"),
     ValueError, r"needs one output per class \(at least 2\)"),
    (dict(net=MLP(1, [3], 2), loss="cross_entropy"), ValueError, "pass data=\\(x, t\\)"),
    (dict(net=MLP(2, [3], 2), data=(XOR_X, XOR_LABELS), loss="hinge"),
     ValueError, "loss must be one of squared_error, cross_entropy, or a function"),
    (dict(net=MLP(2, [3], 2), data=(XOR_X, XOR_LABELS), loss="cross_entropy", engine="manual"),
     ValueError, "engine='manual' runs the post's hand-derived formulas"),
    (dict(net=SineNet(seed=0), loss=lambda y, t: (y - t) ** 2, batch_size=2),
     TypeError, r"must return a one-number Value .*got shape \(2, 1\)"),
    (dict(net=object()), TypeError, r"net must be a network with __call__ and parameters\(\)"),
])
def test_bad_networks_losses_and_targets_are_refused_before_training(kwargs, error, words):
    with pytest.raises(error, match=words):
        train(epochs=1, **kwargs)


def test_the_compiled_engine_refuses_a_net_it_cannot_trace_and_says_why():
    class Peeking(MLP):
        def __call__(self, x):
            y = super().__call__(x)
            return y * 2 if y.sum().item() > 0 else y  # a Python decision on a number

    with pytest.raises(ValueError, match=r"engine='compiled' cannot run .*Value\.item.*"
                                         r"use engine='eager'"):
        train(Peeking(2, [3], 2, seed=0), data=(XOR_X, XOR_LABELS), loss="cross_entropy",
              epochs=1, engine="compiled")


def test_the_sine_run_is_unchanged_by_the_new_loss_argument():
    a = train(SineNet(seed=0), epochs=3, interval=1)
    b = train(SineNet(seed=0), epochs=3, interval=1, loss="squared_error")
    assert a.errors == b.errors and a.accuracies == [] and a.settings["loss"] == "squared_error"


def test_cross_entropy_from_train_is_the_summed_loss_of_the_batch():
    """One full-batch step moves the weights by η · ∂E with E summed (not averaged)."""
    x, labels = _blobs()
    net, twin = MLP(2, [3], 3, seed=2), MLP(2, [3], 3, seed=2)
    E = cross_entropy(twin(x), labels)
    E.backward()
    train(net, data=(x, labels), loss="cross_entropy", epochs=1, eta=0.1, batch_size=30)
    for p, q in zip(net.parameters(), twin.parameters()):
        np.testing.assert_allclose(p.data, q.data - 0.1 * q.grad, rtol=1e-12, atol=1e-15)
