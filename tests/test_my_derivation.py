"""examples/my_derivation.py: a learner's hand-derived backprop of a 2-2-1 tanh net on XOR."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest
from helpers import ROOT, run

from tinygrad_sine.testing import assert_manual

sys.path.insert(0, str(ROOT / "examples"))
import my_derivation as ex  # noqa: E402


def test_the_example_runs_and_every_formula_agrees():
    result = run(["examples/my_derivation.py", "1"])
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines()
            if re.match(r"(u|w|b|y)[12] ", line)]
    assert [r.split()[0] for r in rows] == ["u2", "w2", "b2", "y1", "u1", "w1", "b1"]
    assert all(r.endswith("yes") for r in rows)
    assert "OK: every formula agrees" in result.stdout


def _numerical_delta1(hidden, output, eps=1e-6) -> np.ndarray:
    """∂E/∂u1 by central differences, in numpy: nudge each element of u1."""
    u1 = ex.X @ hidden.w.data + hidden.b.data

    def loss(u):
        y = np.tanh(u) @ output.w.data + output.b.data
        return 0.5 * np.sum((y - ex.T) ** 2)

    out = np.zeros_like(u1)
    for idx in np.ndindex(*u1.shape):
        bump = np.zeros_like(u1)
        bump[idx] = eps
        out[idx] = (loss(u1 + bump) - loss(u1 - bump)) / (2 * eps)
    return out


def test_the_hand_derivation_matches_central_differences_too():
    hidden, output = ex.build(0)
    ex.loss(hidden, output)  # the forward pass, as the example does
    mine = ex.derive(ex.X, ex.T, hidden, output)
    np.testing.assert_allclose(mine["u1"], _numerical_delta1(hidden, output), atol=1e-8)


def test_sigmoids_derivative_used_for_tanh_fails_naming_node_formula_and_difference():
    hidden, output = ex.build(0)
    E = ex.loss(hidden, output)
    wrong = ex.derive(ex.X, ex.T, hidden, output,
                      activation_derivative=lambda h: h * (1 - h))  # sigmoid's, not tanh's
    with pytest.raises(AssertionError) as info:
        assert_manual(E, wrong, formulas=ex.FORMULAS)
    message = str(info.value)
    # the output layer's formulas do not use the hidden derivative: they still agree
    for label in ("u2", "w2", "b2", "y1"):
        assert re.search(rf"^{label} .* yes$", message, re.M), label
    # the hidden layer's do not, and each is named with its formula
    for label in ("u1", "w1", "b1"):
        assert re.search(rf"^{label} .* NO  ✗$", message, re.M), label
        assert f"✗ {label} ({ex.FORMULAS[label]}): element" in message
    assert "Start with u1: of these, backprop reaches it first" in message
    # the difference reported for δ1 is the true one (central differences, not the engine)
    detail = next(line for line in message.splitlines() if line.startswith("✗ u1"))
    i, j = map(int, re.search(r"element \[(\d+), (\d+)\]", detail).groups())
    true = _numerical_delta1(hidden, output)
    reported = float(re.search(r"\|diff\| (\S+),", detail).group(1))
    assert reported == pytest.approx(abs(wrong["u1"][i, j] - true[i, j]), rel=1e-5)
    assert reported == pytest.approx(np.max(np.abs(wrong["u1"] - true)), rel=1e-5)
