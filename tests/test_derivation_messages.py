"""Messages of compare_manual / assert_manual that point at the likely mistake.

A learner's derivation of a 3-4-1 tanh layer pair on 5 samples, written out by
hand in numpy, is broken on purpose in the ways learners break it: a bias left
per sample, a mean instead of a sum, a forgotten ½, a flipped sign.
"""

import re

import numpy as np
import pytest

from tinygrad_sine import Value
from tinygrad_sine.compare import WHOLE, compare_manual
from tinygrad_sine.testing import assert_manual


@pytest.fixture
def net():
    rng = np.random.default_rng(0)
    x = Value(rng.normal(size=(5, 3)), label="x")
    w1 = Value(rng.normal(size=(3, 4)), label="w1")
    b1 = Value(rng.normal(size=4), label="b1")
    u1 = x @ w1 + b1
    u1.label = "u1"
    h = u1.tanh()
    w2 = Value(rng.normal(size=(4, 1)), label="w2")
    y = h @ w2
    t = rng.normal(size=(5, 1))
    E = 0.5 * ((y - t) ** 2).sum()
    # the hand derivation, independent of the engine
    d2 = y.data - t                      # δ2 = y − t
    d1 = (d2 @ w2.data.T) * (1 - h.data ** 2)   # δ1 = δ2 w2ᵀ (1 − h²)
    right = {"w1": x.data.T @ d1, "b1": d1.sum(axis=0), "u1": d1, "w2": h.data.T @ d2}
    return E, right


def failure(E, manual) -> str:
    with pytest.raises(AssertionError) as info:
        assert_manual(E, manual)
    return str(info.value)


def test_the_hand_derivation_agrees(net):
    E, right = net
    assert compare_manual(E, right).ok


def test_a_bias_left_per_sample_names_the_sum_over_the_batch(net):
    E, right = net
    with pytest.raises(ValueError) as info:
        compare_manual(E, {"b1": right["u1"]})        # (5, 4): δ1 per sample, not summed
    message = str(info.value)
    assert "(5, 4)" in message and "(4,)" in message
    assert "summed over the batch, axis 0" in message
    assert "np.sum(delta, axis=0)" in message


def test_a_shape_that_is_not_a_per_sample_gradient_gets_no_sum_hint(net):
    E, right = net
    with pytest.raises(ValueError) as info:
        compare_manual(E, {"b1": np.zeros(3)})
    assert "has its node's shape" in str(info.value) and "axis" not in str(info.value)


@pytest.mark.parametrize("factor, said", [
    (1 / 5, "your values are 1/5 of the engine's everywhere: a mean over 5 instead of a sum?"),
    (2.0, "your values are 2 times the engine's everywhere: a forgotten ½"),
    (-1.0, "the engine's with the opposite sign everywhere"),
    (0.37, "your values are 0.37 times the engine's everywhere"),
])
def test_a_manual_gradient_off_by_one_constant_says_so(net, factor, said):
    E, right = net
    message = failure(E, {"w1": right["w1"] * factor, "b1": right["b1"]})
    assert said in message
    # the line follows the failing row it is about
    lines = message.splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("✗ w1"))
    assert said in lines[row + 1]


def test_a_gradient_wrong_in_one_element_gets_no_factor_line(net):
    E, right = net
    wrong = right["w1"].copy()
    wrong[0, 0] *= 2
    assert "everywhere" not in failure(E, {"w1": wrong})


def test_start_with_names_the_node_backprop_finishes_first(net):
    E, right = net
    # b1 is used by the add, which backprop reaches before the matmul that uses w1
    message = failure(E, {"w1": right["w1"] + 1, "b1": right["b1"] + 1})
    assert "Start with b1: of these, backprop reaches it first" in message


def test_start_with_names_both_leaves_of_one_operation():
    a, b = Value([1.0, 2.0], label="a"), Value([3.0, -1.0], label="b")
    E = (a * b).sum()
    message = failure(E, {"a": b.data + 1, "b": a.data + 1})
    assert "Start with a and b: backprop reaches them at the same step" in message


def numbers_in(text: str) -> list[float]:
    return [float(s) for s in re.findall(r"-?\d+\.\d*(?:e[-+]\d+)?", text)]


def test_a_small_matrix_is_shown_whole_in_the_table(net):
    E, right = net
    table = compare_manual(E, {"w1": right["w1"]}).table()
    assert "…" not in table and "..." not in table
    body = "\n".join(table.splitlines()[2:])
    manual_cells = [line[14:58] for line in body.splitlines()]  # the manual column
    shown = numbers_in(" ".join(manual_cells))
    assert len(shown) == right["w1"].size
    np.testing.assert_allclose(shown, right["w1"].ravel(), rtol=1e-5, atol=1e-6)


def test_a_large_matrix_is_shown_by_its_worst_element():
    rng = np.random.default_rng(1)
    w = Value(rng.normal(size=(7, 7)), label="w")
    assert w.size > WHOLE
    E = (w * w).sum()
    manual = 2 * w.data
    manual[4, 2] += 0.5
    table = compare_manual(E, {"w": manual}).table()
    assert "(7, 7) at [4, 2]: " in table
    shown = numbers_in(table.splitlines()[2])
    assert f"{manual[4, 2]:.6g}" in table and f"{2 * w.data[4, 2]:.6g}" in table
    assert len(shown) < 10


def test_tables_show_negative_zero_as_zero():
    z = Value([0.0, 1.0], label="z")
    E = (z * -0.0).sum()   # ∂E/∂z = −0.0 in float arithmetic
    comparison = compare_manual(E, {"z": np.array([-0.0, -0.0])})
    assert comparison.ok
    assert "-0" not in comparison.table()
    assert "-0" not in failure(E, {"z": np.array([-0.0, 1.0])}).split("\n✗")[1].split("manual")[1][:4]
