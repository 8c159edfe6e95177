"""nn.MLP: a general network of Layers, with Layer's default initial scale and an identity output."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_sine import Value
from tinygrad_sine.nn import MLP, Layer


def test_sizes_shapes_labels_and_identity_output():
    net = MLP(2, [24, 8], 3, activation="tanh", seed=0)
    assert repr(net) == "MLP(2-24-8-3, tanh)" and net.sizes == (2, 24, 8, 3)
    assert [layer.w.shape for layer in net.layers] == [(2, 24), (24, 8), (8, 3)]
    assert [layer.b.shape for layer in net.layers] == [(24,), (8,), (3,)]
    assert [p.label for p in net.parameters()] == ["w1", "b1", "w2", "b2", "w3", "b3"]
    assert all(isinstance(layer, Layer) for layer in net.layers)
    assert [layer.activation_name for layer in net.layers] == ["tanh", "tanh", "identity"]
    x = np.random.default_rng(1).normal(size=(5, 2))
    y = net(x)
    assert y.shape == (5, 3) and y.label == "y3" and y.op == "identity"
    # the forward pass, in plain numpy from the weights
    h = x
    for layer, act in zip(net.layers, (np.tanh, np.tanh, lambda u: u)):
        h = act(h @ layer.w.data + layer.b.data)
    np.testing.assert_allclose(y.data, h, rtol=1e-14)


@pytest.mark.parametrize("activation, gain", [("tanh", 1.0), ("sigmoid", 1.0), ("relu", 2.0)])
def test_initial_weights_are_layers_default_scale_drawn_from_the_seed(activation, gain):
    """w = N(0, 1) · √(gain / n_in) per hidden layer (gain 2 for relu), √(1/n_in) at the
    identity output, b = 0; layer by layer from numpy.random.default_rng(seed)."""
    net = MLP(3, [7], 4, activation=activation, seed=11)
    rng = np.random.default_rng(11)
    w1 = rng.standard_normal((3, 7)) * np.sqrt(gain / 3)
    w2 = rng.standard_normal((7, 4)) * np.sqrt(1 / 7)
    np.testing.assert_array_equal(net.layers[0].w.data, w1)
    np.testing.assert_array_equal(net.layers[1].w.data, w2)
    assert not net.layers[0].b.data.any() and not net.layers[1].b.data.any()


def test_a_function_activation_and_no_hidden_layer():
    net = MLP(2, [4], 2, activation=lambda u: u * u.sigmoid(), seed=0)  # swish
    assert net(np.ones((1, 2))).shape == (1, 2)
    linear = MLP(2, [], 3, seed=0)
    assert repr(linear) == "MLP(2-3, identity)" and len(linear.layers) == 1


def test_gradients_reach_every_parameter_and_zero_grad_clears_them():
    net = MLP(2, [3], 2, seed=0)
    (net(np.ones((4, 2))) ** 2).sum().backward()
    assert all(p.grad.any() for p in net.parameters())
    net.zero_grad()
    assert not any(p.grad.any() for p in net.parameters())


def test_two_nets_from_one_seed_are_the_same_and_other_seeds_differ():
    a, b, c = MLP(2, [5], 3, seed=4), MLP(2, [5], 3, seed=4), MLP(2, [5], 3, seed=5)
    assert all(np.array_equal(p.data, q.data) for p, q in zip(a.parameters(), b.parameters()))
    assert not np.array_equal(a.layers[0].w.data, c.layers[0].w.data)


@pytest.mark.parametrize("args, kwargs, error, words", [
    ((2, [0], 3), {}, ValueError, r"hidden must be a whole number ≥ 1 \(each hidden layer's size\)"),
    ((0, [4], 3), {}, ValueError, "n_in must be a whole number ≥ 1"),
    ((2, [4], 3.5), {}, ValueError, "n_out must be a whole number ≥ 1"),
    ((2, "24", 3), {}, TypeError, r"hidden must be a list of layer sizes such as \[24\]"),
    ((2, [4], 3), {"activation": "softplus"}, ValueError, "unknown activation 'softplus'"),
    ((2, [4], 3), {"seed": -1}, ValueError, "MLP: seed must be a whole number"),
])
def test_bad_arguments_are_refused_by_name(args, kwargs, error, words):
    with pytest.raises(error, match=words):
        MLP(*args, **kwargs)


def test_input_of_the_wrong_width_names_the_layer_and_the_fix():
    with pytest.raises(ValueError, match=r"x has shape \(4,\).*reshape\(1, -1\)"):
        MLP(4, [3], 2, seed=0)(Value(np.ones(4)))
