"""nn.cross_entropy: softmax cross-entropy from logits, one node whose gradient is δ = p − t.

Oracles independent of the op's own ``backward``: central differences
(``gradcheck``, at first and second order), the hand formula p − t computed
in numpy, and the loss computed per row with Python's ``math``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from tinygrad_sine import Stepper, Value, compile, grad, gradcheck, ops
from tinygrad_sine.nn import MLP, cross_entropy
from tinygrad_sine.value import apply

RNG = np.random.default_rng(20)
LOGITS = RNG.normal(size=(5, 4)) * 2
LABELS = np.array([0, 3, 1, 1, 2])
SOFT = RNG.uniform(0.1, 1.0, size=(5, 4))
SOFT /= SOFT.sum(axis=1, keepdims=True)


def _softmax(z: np.ndarray) -> np.ndarray:
    """softmax row by row, the textbook way (fine for these moderate logits)."""
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _loss_by_hand(z: np.ndarray, t: np.ndarray) -> float:
    """−Σ t log p, one row and one class at a time with math.exp and math.log."""
    total = 0.0
    for row, target in zip(np.atleast_2d(z), np.atleast_2d(t)):
        log_norm = math.log(sum(math.exp(v) for v in row))
        total -= sum(tk * (zk - log_norm) for zk, tk in zip(row, target))
    return total


@pytest.mark.parametrize("target", [LABELS, SOFT, np.eye(4)[LABELS]],
                         ids=["indices", "soft", "one-hot"])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_loss_and_gradient_are_the_hand_formulas(target, reduction):
    z = Value(LOGITS, label="z")
    E = cross_entropy(z, target, reduction=reduction)
    E.backward()
    t = np.eye(4)[target] if target.ndim == 1 else target
    n = 5 if reduction == "mean" else 1
    assert E.item() == pytest.approx(_loss_by_hand(LOGITS, t) / n, rel=1e-12)
    np.testing.assert_allclose(z.grad, (_softmax(LOGITS) - t) / n, rtol=1e-12, atol=1e-15)
    assert E.label == "E" and E.op == "cross_entropy" and len(E.parents) == 2  # one node


@pytest.mark.parametrize("target", [LABELS, SOFT], ids=["indices", "soft"])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_first_order_matches_central_differences(target, reduction):
    assert gradcheck(lambda z: cross_entropy(z, target, reduction=reduction), [Value(LOGITS)])


@pytest.mark.parametrize("mean", [False, True])
def test_the_op_is_exact_for_any_target_including_its_gradient_in_t(mean):
    """Directly through the op, t need not sum to 1: ∂z = (Σt) p − t, ∂t = −log p."""
    t = RNG.uniform(0.0, 2.0, size=(5, 4))
    assert gradcheck(lambda z, t: apply(ops.CrossEntropy, z, t, args=(mean,)),
                     [Value(LOGITS), Value(t)])


@pytest.mark.parametrize("mean", [False, True])
def test_second_order_matches_central_differences_of_the_first(mean):
    """The Hessian in z (and the mixed z-t block), from the graph of the gradient."""
    t = RNG.uniform(0.0, 1.0, size=(3, 4))

    def dz(z, t):
        E = apply(ops.CrossEntropy, z, t, args=(mean,))
        return grad(E, [z], create_graph=True)[0]

    def dt(z, t):
        E = apply(ops.CrossEntropy, z, t, args=(mean,))
        return grad(E, [t], create_graph=True)[0]

    inputs = [Value(LOGITS[:3]), Value(t)]
    assert gradcheck(dz, inputs) and gradcheck(dt, inputs)


def test_the_hessian_is_diag_p_minus_p_pT_per_row():
    """∂²E/∂z² of one row is diag(p) − p pᵀ: the softmax Jacobian, seen at second order."""
    z = Value(LOGITS[:1])
    (g,) = grad(cross_entropy(z, [2]), [z], create_graph=True)
    hessian = np.stack([grad(g[0, k], [z])[0].data[0] for k in range(4)])
    p = _softmax(LOGITS[0])
    np.testing.assert_allclose(hessian, np.diag(p) - np.outer(p, p), atol=1e-14)


def test_large_logits_neither_overflow_nor_lose_the_gradient():
    z = Value([[1000.0, 0.0, -1000.0], [-800.0, 800.0, 799.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning from numpy
        E = cross_entropy(z, [1, 2])
        E.backward()
    # row 1: −log p₁ = 1000 − 0 (the others are e^-1000 and below); row 2: 1 + log(1 + e^-1)
    assert E.item() == pytest.approx(1000.0 + 1.0 + math.log1p(math.exp(-1.0)), rel=1e-15)
    p2 = 1 / (1 + math.exp(-1.0))  # softmax of (800, 799) on its larger entry
    np.testing.assert_allclose(z.grad, [[1.0, -1.0, 0.0], [0.0, p2, -p2]], atol=1e-15)


def test_one_sample_of_shape_c_takes_one_index():
    z = Value(LOGITS[1])
    E = cross_entropy(z, 3)
    E.backward()
    assert E.item() == pytest.approx(_loss_by_hand(LOGITS[1], np.eye(4)[3]), rel=1e-12)
    np.testing.assert_allclose(z.grad, _softmax(LOGITS[1]) - np.eye(4)[3], atol=1e-15)


def test_float_labels_that_are_whole_numbers_are_indices():
    a, b = cross_entropy(Value(LOGITS), LABELS.astype(float)), cross_entropy(Value(LOGITS), LABELS)
    assert a.item() == b.item()


@pytest.mark.parametrize("logits, t, error, words", [
    (LOGITS, np.ones((5, 3)), ValueError, r"t has shape \(5, 3\), but the logits have shape "
                                          r"\(5, 4\); give class indices of shape \(5,\)"),
    (LOGITS, [0, 1, 4, 0, 0], ValueError, "class index 4 is out of range for 4 classes"),
    (LOGITS, [0, 1, -1, 0, 0], ValueError, "class index -1 is out of range"),
    (LOGITS, [0, 1.5, 1, 0, 0], ValueError, "1.5 is not a whole number"),
    (LOGITS, np.full((5, 4), 0.3), ValueError, r"row \[0\] of t sums to 1.2, not 1"),
    (LOGITS, np.tile([1.5, -0.5, 0, 0], (5, 1)), ValueError, "negative probability"),
    (LOGITS, [0, 1, np.nan, 0, 0], ValueError, "nan or inf"),
    (LOGITS, ["a"] * 5, TypeError, "class indices or probabilities"),
    (LOGITS[:, :1], [0] * 5, ValueError, r"shape \(5, 1\).*at least 2"),
    (np.float64(1.0), 0, ValueError, "at least 2"),
])
def test_bad_targets_are_refused_with_what_to_give(logits, t, error, words):
    with pytest.raises(error, match=words):
        cross_entropy(Value(logits), t)


def test_logits_must_be_a_value_and_reduction_sum_or_mean():
    with pytest.raises(TypeError, match="logits must be a Value"):
        cross_entropy(LOGITS, LABELS)
    with pytest.raises(ValueError, match="reduction must be 'sum'.*or 'mean', got 'avg'"):
        cross_entropy(Value(LOGITS), LABELS, reduction="avg")


def test_the_stepper_shows_delta_p_minus_t_at_the_logits():
    net = MLP(2, [3], 3, seed=0)
    x = np.array([[0.5, -0.2], [0.1, 0.9]])
    E = cross_entropy(net(x), [2, 0])
    step = next(s for s in Stepper(E) if s.phase == "backward" and s.node is E)
    text = str(step)
    assert "∂y2 = ∂E · (softmax(y2) − t)" in text
    E.backward()
    p = _softmax(net.layers[-1].y.data)
    np.testing.assert_allclose(net.layers[-1].y.grad, p - np.eye(3)[[2, 0]], atol=1e-15)


@pytest.mark.parametrize("reduction, formula", [("sum", "δ = p − t,  p = softmax(y2)"),
                                                ("mean", "δ = (p − t) / n,  p = softmax(y2)")])
def test_the_diagram_writes_delta_p_minus_t_at_the_logits_only(reduction, formula):
    from viz.graph import draw_graph

    net = MLP(2, [3], 3, seed=0)
    E = cross_entropy(net(np.array([[0.5, -0.2], [0.1, 0.9]])), [2, 0], reduction=reduction)
    lines = [line for line in draw_graph(E).source.splitlines() if "softmax" in line]
    assert len(lines) == 1 and "<B>y2</B>" in lines[0] and formula in lines[0]
    other = (net(np.ones((1, 2))) ** 2).sum()  # not a cross-entropy: no such row
    assert "softmax" not in draw_graph(other).source


def test_compiled_code_gives_the_eager_loss_and_gradients():
    net = MLP(2, [5], 3, seed=1)
    x, t = RNG.normal(size=(6, 2)), np.eye(3)[[0, 1, 2, 2, 1, 0]]
    step = compile(lambda x, t: cross_entropy(net(x), t), x, t)
    loss, grads = step(x, t)
    E = cross_entropy(net(x), t)
    autos = grad(E, net.parameters())
    assert loss == pytest.approx(E.item(), rel=1e-13)
    for g, a in zip(grads, autos):
        np.testing.assert_allclose(g, a.data, rtol=1e-10, atol=1e-14)
    # and p − t at the logits, by hand: ∂b2 = Σ rows (p − t)
    p = _softmax(net(x).data)
    np.testing.assert_allclose(grads[3], (p - t).sum(axis=0), atol=1e-13)


def test_pytorch_agrees_where_installed():
    torch = pytest.importorskip("torch")
    z = torch.tensor(LOGITS, requires_grad=True)
    for reduction in ("sum", "mean"):
        for target in (LABELS, SOFT):
            theirs = torch.nn.functional.cross_entropy(z, torch.tensor(target), reduction=reduction)
            (g,) = torch.autograd.grad(theirs, z)
            mine = Value(LOGITS)
            E = cross_entropy(mine, target, reduction=reduction)
            E.backward()
            assert E.item() == pytest.approx(theirs.item(), rel=1e-12)
            np.testing.assert_allclose(mine.grad, g.numpy(), rtol=1e-10, atol=1e-14)
