"""examples/classify.py (the spiral, its hand-derived backprop, the regions) and spiral_data."""

from __future__ import annotations

import importlib.util
import re

import numpy as np
import pytest
from helpers import ROOT, run

from tinygrad_sine import Value
from tinygrad_sine.nn import MLP, cross_entropy
from tinygrad_sine.sine import spiral_data
from tinygrad_sine.testing import compare_manual


def _example():
    spec = importlib.util.spec_from_file_location("classify", ROOT / "examples" / "classify.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_checks_every_formula_trains_and_draws_the_regions(tmp_path):
    result = run(["examples/classify.py", "40", str(tmp_path)])
    assert result.returncode == 0, result.stderr
    rows = re.findall(r"^  (\w+) .* max \|diff\| (\S+)  (\w+)$", result.stdout, re.M)
    assert [r[0] for r in rows] == ["u2", "w2", "b2", "y1", "u1", "w1", "b1"]
    assert all(r[2] == "agrees" and float(r[1]) < 1e-12 for r in rows)
    accuracies = [float(a) for a in re.findall(r"accuracy (\d\.\d+)", result.stdout)]
    assert len(accuracies) >= 3 and accuracies[-1] > accuracies[0]
    assert (tmp_path / "regions.png").stat().st_size > 1000 and (tmp_path / "error.svg").exists()


def test_the_hand_derivation_is_the_loss_and_fails_without_the_softmax():
    example = _example()
    x, labels = spiral_data(per_class=10)
    t = np.eye(3)[labels]
    net = MLP(2, [24], 3, activation="tanh", seed=1)
    w1, b1, w2, b2 = (p.data for p in net.parameters())
    loss, grads = example.backprop_by_hand(x, t, w1, b1, w2, b2)
    z = np.tanh(x @ w1 + b1) @ w2 + b2  # the loss once more, as log-sum-exp minus the target's z
    assert loss == pytest.approx(float(np.sum(np.log(np.exp(z).sum(axis=1)) - z[t == 1])),
                                 rel=1e-12)
    assert example.check_derivation(net, x, t).ok
    E = cross_entropy(net(Value(x, label="x")), t)
    assert compare_manual(E, {"u2": grads["u2"]}).ok
    assert not compare_manual(E, {"u2": z - t}).ok  # δ_out = z − t: the softmax forgotten


def test_spiral_data_has_three_arms_from_the_centre_out():
    x, labels = spiral_data()
    assert x.shape == (180, 2) and labels.tolist() == [0] * 60 + [1] * 60 + [2] * 60
    r = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(r[:60], np.linspace(0, 1, 60), atol=1e-12)  # r = 0 … 1 per arm
    again, _ = spiral_data()
    other, _ = spiral_data(seed=1)
    assert np.array_equal(x, again) and not np.array_equal(x, other)
    x2, labels2 = spiral_data(per_class=5, classes=4, noise=0.0, seed=None)
    assert x2.shape == (20, 2) and set(labels2.tolist()) == {0, 1, 2, 3}
