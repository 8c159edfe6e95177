"""tinygrad_sine.testing: your own derivation against the engine, with readable failures."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_sine import Value, grad
from tinygrad_sine.gradcheck import disagree
from tinygrad_sine.nn import SineNet
from tinygrad_sine.testing import (
    assert_grad_close,
    assert_manual,
    assert_manual_matches_auto,
    compare_manual,
)

X = np.array([[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]])
W = np.array([[0.3], [-0.8]])


def _graph():
    """E = Σ tanh(x w)², with every node labelled; and its gradients derived by hand."""
    x, w = Value(X, label="x"), Value(W, label="w")
    u = x @ w
    u.label = "u"
    h = u.tanh()
    h.label = "h"
    e = (h * h).sum()
    e.label = "E"
    hd = np.tanh(X @ W)
    d_h = 2 * hd                    # ∂E/∂h = 2h
    d_u = d_h * (1 - hd**2)         # tanh' = 1 − h²
    hand = {"h": d_h, "u": d_u, "w": X.T @ d_u, "x": d_u @ W.T}
    return e, {"x": x, "w": w, "u": u, "h": h}, hand


def test_compare_manual_agrees_with_a_hand_derivation_row_by_row():
    e, nodes, hand = _graph()
    comparison = compare_manual(e, hand)
    assert comparison.ok
    assert [r.name for r in comparison.rows] == ["h", "u", "w", "x"]
    for row in comparison.rows:
        assert row.shape == nodes[row.name].shape
        np.testing.assert_allclose(row.auto, hand[row.name], rtol=1e-12)
        assert row.max_abs_diff < 1e-12 and row.ok
    table = str(comparison)
    assert table.splitlines()[0].split() == ["node", "shape", "manual", "automatic", "max",
                                             "|diff|", "agree"]
    rows = [line for line in table.splitlines()[2:] if not line.startswith(" ")]
    assert len(rows) == 4  # one row per node (a matrix's further lines start with spaces)


def test_compare_manual_takes_nodes_as_keys_and_never_reads_or_changes_grad():
    e, nodes, hand = _graph()
    by_node = {nodes[k]: v for k, v in hand.items()}
    first = compare_manual(e, by_node)
    assert nodes["w"]._grad is None  # its own backward pass, not .grad
    e.backward()
    e.backward()  # .grad is now twice the gradient
    again = compare_manual(e, by_node)
    assert again.ok and first.ok
    for a, b in zip(first.rows, again.rows):
        np.testing.assert_array_equal(a.auto, b.auto)


def _message(root, manual, **kw) -> str:
    with pytest.raises(AssertionError) as info:
        assert_manual(root, manual, **kw)
    return str(info.value)


def test_assert_manual_failure_marks_the_row_and_spells_out_the_worst_element():
    e, _, hand = _graph()
    hand["u"] = hand["u"].copy()
    hand["u"][2, 0] += 0.5
    message = _message(e, hand, formulas={"u": "δ = ∂h (1 − h²)"})
    assert message.startswith("1 of 4 manual gradients disagree")
    lines = message.splitlines()
    assert any(line.startswith("u ") and line.endswith("NO  ✗") for line in lines)
    assert any(line.startswith("w ") and line.endswith("yes") for line in lines)
    detail = lines[-1]
    auto_u = 2 * np.tanh(X @ W) * (1 - np.tanh(X @ W) ** 2)
    assert detail.startswith("✗ u (δ = ∂h (1 − h²)): element [2, 0]: ")
    assert f"manual {auto_u[2, 0] + 0.5:.6g}" in detail
    assert f"automatic {auto_u[2, 0]:.6g}" in detail
    assert "|diff| 0.5," in detail and f"rel {0.5 / abs(auto_u[2, 0]):.6g}" in detail
    assert "atol 1e-12 + rtol 1e-07·|automatic|" in detail
    assert "np.float64" not in message and "array(" not in message


def test_assert_manual_hides_the_librarys_frames_from_pytest():
    e, _, hand = _graph()
    hand["w"] = -hand["w"]
    with pytest.raises(AssertionError) as info:
        assert_manual(e, hand)
    shown = info.traceback.filter(info)
    assert [str(entry.frame.code.path) for entry in shown] == [__file__]
    with pytest.raises(ValueError) as info:
        assert_manual(e, {"nope": 1.0})
    assert [str(entry.frame.code.path) for entry in info.traceback.filter(info)] == [__file__]


def test_a_label_shared_by_two_nodes_is_an_error_naming_it():
    a, b = Value([1.0, 2.0], label="p"), Value(3.0, label="p")
    e = (a * b).sum()
    with pytest.raises(ValueError, match=r"2 nodes share the label 'p'.*shape \(2,\).*shape \(\)"):
        compare_manual(e, {"p": [3.0, 3.0]})
    assert compare_manual(e, {a: [3.0, 3.0], b: 3.0}).ok  # the nodes themselves are fine


@pytest.mark.parametrize("manual, error, words", [
    ({"v": 1.0}, ValueError, r"no node labelled 'v' in root's graph; its labels are 'E', 'h'"),
    ({"w": np.ones(2)}, ValueError, r"gradient of 'w' has shape \(2,\), but the node has shape "
                                    r"\(2, 1\)"),
    ({"w": "abc"}, TypeError, "gradient of 'w' must be numbers"),
    ({3: 1.0}, TypeError, "a key of manual must be a Value or a node's label, got int 3"),
    ({Value(1.0, label="old"): 1.0}, ValueError, r"node 'old' \(shape \(\)\) is not in root's graph"),
    ([1.0], TypeError, "manual must be a dict"),
])
def test_bad_manual_entries_are_errors_naming_the_entry(manual, error, words):
    e, _, _ = _graph()
    with pytest.raises(error, match=words):
        compare_manual(e, manual)


@pytest.mark.parametrize("kw, words", [
    (dict(rtol=-1.0), "rtol must be a finite number ≥ 0"),
    (dict(atol=float("nan")), "atol must be a finite number ≥ 0"),
    (dict(atol=float("inf")), "atol must be a finite number ≥ 0"),
    (dict(rtol="a"), "rtol must be a number"),
])
def test_tolerances_are_validated_by_compare_manual_and_assert_grad_close(kw, words):
    e, _, hand = _graph()
    with pytest.raises((ValueError, TypeError), match=words):
        compare_manual(e, hand, **kw)
    with pytest.raises((ValueError, TypeError), match=words):
        assert_grad_close(1.0, 1.0, **kw)


def test_a_root_that_is_not_one_number_is_refused():
    v = Value([1.0, 2.0], label="v")
    with pytest.raises(ValueError, match=r"root has shape \(2,\); it must be a single number"):
        compare_manual(v * 2, {"v": [2.0, 2.0]})


# ------------------------------------------------------------------ assert_grad_close


def test_assert_grad_close_compares_a_values_gradient_and_says_so():
    w2 = Value([1.0, -2.0], label="w2")
    with pytest.raises(AssertionError, match="w2 has no gradient yet: call backward"):
        assert_grad_close(w2, 2 * w2.data)
    (w2 * w2).sum().backward()
    assert_grad_close(w2, 2 * w2.data)  # ∂(Σ w²)/∂w = 2w: a right derivation passes
    with pytest.raises(AssertionError, match=r"w2\.grad: element \[1\] differs: actual -4.0, "
                                             r"expected -2.0"):
        assert_grad_close(w2, w2.data)  # the data itself is not the gradient


@pytest.mark.parametrize("actual, expected", [
    (1.0, np.inf), (np.inf, -np.inf), ([1.0, 5.0], [np.inf, 5.0]), (np.inf, 1.0),
    (np.nan, 1.0), (1.0, np.nan), ([np.nan, 1.0], [1.0, np.nan]), (np.inf, np.nan),
    (np.nan, np.nan), ([1.0, np.nan], [1.0, np.nan]),
])
def test_assert_grad_close_fails_on_any_mismatched_infinity_or_any_nan(actual, expected):
    # A NaN never agrees, not even with a NaN: 0/0 on both sides proves nothing.
    with pytest.raises(AssertionError, match="differs"):
        assert_grad_close(actual, expected)


@pytest.mark.parametrize("actual, expected", [
    (np.inf, np.inf), (-np.inf, -np.inf), ([np.inf, -np.inf, 2.0], [np.inf, -np.inf, 2.0 + 1e-12]),
])
def test_assert_grad_close_agrees_on_equal_infinities_and_close_numbers(actual, expected):
    np.testing.assert_allclose(actual, expected, atol=1e-10, rtol=1e-7)  # numpy's verdict too
    assert_grad_close(actual, expected)


def test_compare_manual_and_assert_manual_never_pass_a_nan():
    w = Value([1.0, 4.0], label="w")
    y = (w * np.array([0.0, 1.0])) ** 0.5  # √(0·1) at w[0]: ∂y/∂w[0] is 0 · ∞ = nan
    root = y.sum()
    both_nan = np.array([np.nan, 0.25])  # a "derivation" that also gives 0/0 there
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 · ∞ on purpose
        assert np.isnan(grad(root, [w])[0].data[0])
        assert not compare_manual(root, {"w": both_nan}).ok
        with pytest.raises(AssertionError, match="disagree"):
            assert_manual(root, {"w": both_nan})


def test_the_one_rule_every_checker_uses_agrees_on_equal_infinities_never_on_nan():
    a = np.array([np.inf, -np.inf, np.nan, 1.0, np.inf])
    e = np.array([np.inf, -np.inf, np.nan, 1.0 + 1e-9, -np.inf])
    assert disagree(a, e, rtol=1e-6, atol=0).tolist() == [False, False, True, False, True]


@pytest.mark.parametrize("actual, expected, name", [
    (None, 1.0, "actual"), (1.0, None, "expected"), ("1.5", 1.5, "actual"),
    (1.0, [[1.0], [2.0, 3.0]], "expected"),
])
def test_assert_grad_close_refuses_what_is_not_numbers(actual, expected, name):
    with pytest.raises(TypeError, match=f"assert_grad_close: {name} must be a Value, an array "
                                        "or a number"):
        assert_grad_close(actual, expected)


# ------------------------------------------------------------------ the seed's network


def _sigmoid(u):
    return 1 / (1 + np.exp(-u))


class MyMiddle:
    """A learner's middle layer, in the post's shape (forward keeps y; backward fills grads)."""

    def __init__(self, derivative=lambda y: y * (1 - y)):
        self.derivative = derivative

    def forward(self, x):
        self.x = x
        self.y = _sigmoid(x @ self.w + self.b)

    def backward(self, grad_y):
        delta = grad_y * self.derivative(self.y)
        self.grad_w = self.x.T @ delta
        self.grad_b = delta.sum(axis=0)
        self.grad_x = delta @ self.w.T


class MyOutput:
    def forward(self, x):
        self.x = x
        self.y = x @ self.w + self.b

    def backward(self, t):
        delta = self.y - t
        self.grad_w = self.x.T @ delta
        self.grad_b = delta.sum(axis=0)
        self.grad_x = delta @ self.w.T


XS, TS = np.array([[-0.5], [0.2], [0.7]]), np.array([[0.1], [0.6], [-0.3]])


def test_assert_manual_matches_auto_takes_the_learners_own_layers():
    net = SineNet(seed=4, wb_width=1.0)
    assert_manual_matches_auto(net, XS, TS)  # the library's own derivation
    assert_manual_matches_auto(net, XS, TS, manual=[MyMiddle(), MyOutput()])


def test_a_wrong_layer_derivation_fails_naming_the_quantity():
    net = SineNet(seed=4, wb_width=1.0)
    wrong = MyMiddle(derivative=lambda y: 1 - y**2)  # tanh's derivative used for a sigmoid
    with pytest.raises(AssertionError) as info:
        assert_manual_matches_auto(net, XS, TS, manual=[wrong, MyOutput()])
    message = str(info.value)
    assert "✗ w1 (grad_w: ∂w_ij = y_i δ_j): element" in message
    assert "✗ b1 (grad_b: ∂b_j = δ_j)" in message
    assert "✗ x (grad_x: ∂y_i = Σ_q δ_q w_iq)" in message
    assert "w2 " in message and "✗ w2" not in message  # the output layer is right


def test_assert_manual_matches_auto_takes_a_function_of_labels():
    net = SineNet(seed=4, wb_width=1.0)

    def mine(x, t, net):
        hidden, output = net.layers
        h = _sigmoid(x @ hidden.w.data + hidden.b.data)
        y = h @ output.w.data + output.b.data
        d_out = y - t
        d_mid = d_out @ output.w.data.T * h * (1 - h)
        return {"u2": d_out, "w2": h.T @ d_out, "b2": d_out.sum(0), "u1": d_mid,
                "w1": x.T @ d_mid, "b1": d_mid.sum(0)}

    assert_manual_matches_auto(net, XS, TS, manual=mine)

    def off_by_half(x, t, net):
        entries = mine(x, t, net)
        entries["w1"] = entries["w1"] * 0.5
        return entries

    with pytest.raises(AssertionError, match="✗ w1: element"):
        assert_manual_matches_auto(net, XS, TS, manual=off_by_half)


def test_learner_layers_missing_grad_w_are_named():
    class NoGrads(MyOutput):
        def backward(self, t):
            self.grad_x = (self.y - t) @ self.w.T

    with pytest.raises(AttributeError, match="NoGrads has no grad_w after backward"):
        assert_manual_matches_auto(SineNet(seed=1), XS, TS, manual=[MyMiddle(), NoGrads()])
