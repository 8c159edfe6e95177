"""The operations a learner reaches for after the post (issue 20), each checked the same ways.

* against central differences (``gradcheck``) at first order, and at second
  order (the gradient, built with ``create_graph=True``, checked as a
  function of the inputs: the Hessian);
* at their kinks and ties, against the values PyTorch gives, worked out by hand;
* against hand-derived formulas (softmax's Jacobian, logsumexp's Hessian …);
* for stability (logits of 1000);
* against PyTorch in float64 (values, first and second order) where PyTorch
  is installed: the one optional oracle, so those tests skip without it.

Inputs come from seeded generators and are kept away from kinks and ties,
except in the tests about kinks and ties.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_sine as tg
from tinygrad_sine import Value, concatenate, grad, gradcheck, maximum, minimum, stack, where


def _rng(*key) -> np.random.Generator:
    seed = 20261202
    for ch in repr(key):
        seed = (seed * 131 + ord(ch)) % (2**32)
    return np.random.default_rng(seed)


def normal(shape):
    return lambda rng: rng.normal(size=shape)


def positive(shape):
    return lambda rng: rng.uniform(0.3, 3.0, size=shape)


def away_from_zero(shape, low=0.2):
    def make(rng):
        mag = rng.uniform(low, 2.0, size=shape)
        return mag * np.where(rng.random(size=shape) < 0.5, -1.0, 1.0)
    return make


def distinct(shape):
    """No two numbers closer than 0.1: no ties, so max and min are smooth here."""
    def make(rng):
        n = int(np.prod(shape))
        return (rng.permutation(n) * 0.3 + rng.uniform(0, 0.1, size=n) - 0.15 * n).reshape(shape)
    return make


def away_from(points, shape):
    """Numbers at least 0.1 from each of ``points`` (the kinks of clip)."""
    def make(rng):
        x = rng.uniform(-2.0, 2.0, size=shape)
        for p in points:
            x = np.where(np.abs(x - p) < 0.1, p + 0.3 * np.sign(x - p + 1e-9), x)
        return x
    return make


COND = np.array([[True, False, True], [False, False, True]])

# name -> (the function of Values, makers of its inputs)
CASES = {
    "abs": (lambda x: x.abs(), [away_from_zero((2, 3))]),
    "abs(v) builtin": (lambda x: abs(x), [away_from_zero((3,))]),
    "sqrt": (lambda x: x.sqrt(), [positive((2, 3))]),
    "square": (lambda x: x.square(), [normal((2, 3))]),
    "maximum": (lambda a, b: maximum(a, b), [distinct((2, 3)), distinct((2, 3))]),
    "maximum broadcast": (lambda a, b: a.maximum(b), [distinct((2, 3)), distinct((3,))]),
    "minimum": (lambda a, b: minimum(a, b), [distinct((2, 3)), distinct((2, 3))]),
    "minimum with a number": (lambda a: a.minimum(0.35), [away_from([0.35], (2, 3))]),
    "clip": (lambda x: x.clip(-0.5, 0.5), [away_from([-0.5, 0.5], (2, 3))]),
    "clip lo only": (lambda x: x.clip(lo=-0.5), [away_from([-0.5], (2, 3))]),
    "clip hi only": (lambda x: x.clip(hi=0.5), [away_from([0.5], (2, 3))]),
    "where": (lambda a, b: where(COND, a, b), [normal((2, 3)), normal((2, 3))]),
    "where broadcast": (lambda a, b: where(COND[0], a, b), [normal((2, 3)), normal(())]),
    "leaky_relu": (lambda x: x.leaky_relu(), [away_from_zero((2, 3))]),
    "leaky_relu slope=0.2": (lambda x: x.leaky_relu(0.2), [away_from_zero((2, 3))]),
    "softmax": (lambda x: x.softmax(), [normal((2, 3))]),
    "softmax axis=0": (lambda x: x.softmax(axis=0), [normal((2, 3))]),
    "softmax 1-D": (lambda x: x.softmax(), [normal((4,))]),
    "log_softmax": (lambda x: x.log_softmax(), [normal((2, 3))]),
    "log_softmax axis=0": (lambda x: x.log_softmax(axis=0), [normal((2, 3))]),
    "concatenate axis=0": (lambda a, b: concatenate([a, b]), [normal((2, 3)), normal((1, 3))]),
    "concatenate axis=-1": (lambda a, b, c: concatenate([a, b, c], axis=-1),
                            [normal((2, 1)), normal((2, 3)), normal((2, 2))]),
    "stack axis=0": (lambda a, b: stack([a, b]), [normal((2, 3)), normal((2, 3))]),
    "stack axis=-1": (lambda a, b: stack([a, b], axis=-1), [normal((3,)), normal((3,))]),
    "stack axis=1": (lambda a, b, c: stack([a, b, c], axis=1),
                     [normal((2, 2)), normal((2, 2)), normal((2, 2))]),
    "squeeze": (lambda x: x.squeeze(), [normal((1, 3, 1))]),
    "squeeze axis=-1": (lambda x: x.squeeze(-1), [normal((1, 3, 1))]),
    "squeeze axis=(0, 2)": (lambda x: x.squeeze((0, 2)), [normal((1, 3, 1))]),
    "expand_dims axis=0": (lambda x: x.expand_dims(0), [normal((2, 3))]),
    "expand_dims axis=-1": (lambda x: x.expand_dims(-1), [normal((2, 3))]),
    "expand_dims axis=(0, 3)": (lambda x: x.expand_dims((0, 3)), [normal((2, 3))]),
    "flatten": (lambda x: x.flatten(), [normal((2, 3))]),
    "flatten 0-d": (lambda x: x.flatten(), [normal(())]),
}

REDUCTIONS = {
    "max": distinct,
    "min": distinct,
    "var": normal,
    "std": normal,
    "logsumexp": normal,
}
AXES = [None, 0, -1, 1, (0, 2), (-1, 0)]
for _name, _make in REDUCTIONS.items():
    for _axis in AXES:
        for _keep in (False, True):
            CASES[f"{_name} axis={_axis} keepdims={_keep}"] = (
                lambda x, n=_name, a=_axis, k=_keep: getattr(x, n)(axis=a, keepdims=k),
                [_make((2, 3, 2))])
CASES["softmax axis=(0, 2)"] = (lambda x: x.softmax(axis=(0, 2)), [normal((2, 3, 2))])
CASES["softmax axis=None"] = (lambda x: x.softmax(axis=None), [normal((2, 3))])


def _inputs(name):
    rng = _rng(name)
    return [Value(make(rng)) for make in CASES[name][1]]


def _weights(name, shape):
    return _rng(name, "weights").uniform(0.5, 1.5, size=shape)


@pytest.mark.parametrize("name", list(CASES))
def test_first_order_gradient_matches_central_differences(name):
    fn = CASES[name][0]
    inputs = _inputs(name)
    assert gradcheck(fn, inputs)  # the full Jacobian, one output element at a time
    w = _weights(name, fn(*inputs).shape)
    assert gradcheck(lambda *xs: (fn(*xs) * w).sum(), inputs)


SECOND_ORDER = [name for name in CASES if "keepdims=True" not in name]


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_order_gradient_matches_central_differences(name):
    """The gradient of L = Σ w sin f(x), itself a function of x, against central differences.

    sin makes L curved even where f is piecewise linear, so the Hessian needs
    f's first derivative applied to Values (its backward run on graph nodes)
    as well as f's own second derivative.
    """
    fn = CASES[name][0]
    inputs = _inputs(name)
    w = _weights(name, fn(*inputs).shape)

    def loss(*xs):
        return (fn(*xs).sin() * w).sum()

    for k in range(len(inputs)):
        def first(*xs, k=k):
            (g,) = grad(loss(*xs), [xs[k]], create_graph=True)
            return g
        assert gradcheck(first, inputs), f"input {k}"


# ------------------------------------------------------------------ kinks and ties, as PyTorch


def _grad_of(fn, *data):
    xs = [Value(d) for d in data]
    fn(*xs).sum().backward()
    return [x.grad for x in xs]


def test_abs_has_zero_gradient_at_zero_as_pytorch():
    (g,) = _grad_of(lambda x: x.abs(), [-1.5, 0.0, 2.0, -0.0])
    np.testing.assert_array_equal(g, [-1.0, 0.0, 1.0, 0.0])


def test_max_and_min_split_the_gradient_evenly_among_ties_as_torch_amax():
    x = [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]
    (g,) = _grad_of(lambda v: v.max(axis=1), x)
    np.testing.assert_allclose(g, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-15)
    (g,) = _grad_of(lambda v: v.min(axis=1, keepdims=True), x)
    np.testing.assert_allclose(g, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-15)
    (g,) = _grad_of(lambda v: v.max(), x)  # the three 3s share one gradient... two of them
    np.testing.assert_allclose(g, [[0, 0.5, 0.5], [0, 0, 0]], rtol=1e-15)
    (g,) = _grad_of(lambda v: v.min(axis=0), x)  # column 0: 1 < 2; columns 1 and 2: 2 < 3
    np.testing.assert_allclose(g, [[1, 0, 0], [0, 1, 1]], rtol=1e-15)


def test_a_weighted_max_sends_each_tie_its_share_of_the_upstream_gradient():
    x = Value([[5.0, 5.0], [1.0, 4.0]])
    (x.max(axis=1) * np.array([2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(x.grad, [[1.0, 1.0], [0.0, 3.0]], rtol=1e-15)


def test_maximum_and_minimum_give_half_to_each_side_at_a_tie_as_pytorch():
    ga, gb = _grad_of(maximum, [1.0, 2.0, 3.0], [1.0, 0.0, 4.0])
    np.testing.assert_array_equal(ga, [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(gb, [0.5, 0.0, 1.0])
    ga, gb = _grad_of(minimum, [1.0, 2.0, 3.0], [1.0, 0.0, 4.0])
    np.testing.assert_array_equal(ga, [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(gb, [0.5, 1.0, 0.0])
    # broadcast: one number against a row, tied in two places, sums its shares
    ga, gb = _grad_of(maximum, [2.0, 2.0, 1.0], 2.0)
    np.testing.assert_array_equal(ga, [0.5, 0.5, 0.0])
    assert gb == 2.0  # 0.5 + 0.5 + 1


def test_clip_passes_the_gradient_at_its_bounds_as_pytorch():
    (g,) = _grad_of(lambda v: v.clip(-1.0, 1.0), [-2.0, -1.0, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 1.0, 0.0])
    (g,) = _grad_of(lambda v: v.clip(lo=0.0), [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0])
    (g,) = _grad_of(lambda v: v.clip(hi=0.0), [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(g, [1.0, 1.0, 0.0])


def test_leaky_relu_has_gradient_slope_at_zero_as_pytorch():
    (g,) = _grad_of(lambda v: v.leaky_relu(), [-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(g, [0.01, 0.01, 1.0])
    x = Value([-3.0, 0.0, 2.0])
    np.testing.assert_array_equal(x.leaky_relu(0.25).data, [-0.75, 0.0, 2.0])


def test_where_sends_the_gradient_to_the_side_chosen_and_none_to_the_condition():
    cond = np.array([True, False, True])
    ga, gb = _grad_of(lambda a, b: where(cond, a, b), [1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    np.testing.assert_array_equal(ga, [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(gb, [0.0, 1.0, 0.0])
    v = Value([-2.0, 3.0])
    y = where(v > 0, v, 0.01 * v)  # the leaky relu of the README: a comparison, booleans
    y.sum().backward()
    np.testing.assert_array_equal(y.data, [-0.02, 3.0])
    np.testing.assert_array_equal(v.grad, [0.01, 1.0])


def test_where_keeps_its_own_copy_of_the_condition():
    cond = np.array([True, False])
    a, b = Value([1.0, 2.0]), Value([3.0, 4.0])
    y = where(cond, a, b)
    cond[:] = False  # changing the caller's mask afterwards changes nothing in the graph
    y.sum().backward()
    np.testing.assert_array_equal(a.grad, [1.0, 0.0])


def test_sqrt_gradient_is_infinite_at_zero_as_numpy_and_pytorch():
    x = Value([0.0, 4.0])
    with np.errstate(divide="ignore"):
        x.sqrt().sum().backward()
    assert x.grad[0] == np.inf and x.grad[1] == 0.25


def test_std_of_equal_numbers_has_a_nan_gradient_as_pytorch():
    x = Value([2.0, 2.0, 2.0])
    y = x.std()
    assert y.item() == 0.0
    with np.errstate(invalid="ignore"):
        y.backward()
    assert np.isnan(x.grad).all()


# ------------------------------------------------------------------ hand-derived formulas


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_softmax_gradient_is_p_times_w_minus_its_p_weighted_mean():
    rng = _rng("softmax hand")
    x, w = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    v = Value(x)
    (v.softmax() * w).sum().backward()
    p = _softmax(x)
    np.testing.assert_allclose(v.softmax().data, p, rtol=1e-14)
    np.testing.assert_allclose(v.grad, p * (w - (w * p).sum(axis=1, keepdims=True)), rtol=1e-12)


def test_softmax_jacobian_is_diag_p_minus_p_p_transposed():
    x = np.array([0.5, -1.0, 2.0])
    v = Value(x)
    p = _softmax(x)
    rows = [grad(v.softmax(), [v], grad_output=np.eye(3)[i])[0].data for i in range(3)]
    np.testing.assert_allclose(np.array(rows), np.diag(p) - np.outer(p, p), atol=1e-15)


def test_log_softmax_and_logsumexp_gradients_by_hand():
    rng = _rng("log_softmax hand")
    x, w = rng.normal(size=(2, 5)), rng.normal(size=(2, 5))
    p = _softmax(x)
    v = Value(x)
    (v.log_softmax() * w).sum().backward()
    np.testing.assert_allclose(v.log_softmax().data, np.log(p), rtol=1e-13)
    np.testing.assert_allclose(v.grad, w - p * w.sum(axis=1, keepdims=True), rtol=1e-12)
    v = Value(x)
    (v.logsumexp(axis=1) * w[:, 0]).sum().backward()
    np.testing.assert_allclose(v.logsumexp(axis=1).data, np.log(np.exp(x).sum(axis=1)),
                               rtol=1e-14)
    np.testing.assert_allclose(v.grad, p * w[:, :1], rtol=1e-12)


def test_logsumexp_hessian_is_the_softmax_jacobian():
    x, u = np.array([0.3, -0.7, 1.1, 0.0]), np.array([1.0, -2.0, 0.5, 3.0])
    v = Value(x)
    (g,) = grad(v.logsumexp(), [v], create_graph=True)
    (hu,) = grad(g, [v], grad_output=u)  # H u
    p = _softmax(x)
    np.testing.assert_allclose(g.data, p, rtol=1e-14)
    np.testing.assert_allclose(hu.data, (np.diag(p) - np.outer(p, p)) @ u, rtol=1e-12)


def test_var_and_std_gradients_by_hand_divide_by_n():
    rng = _rng("var hand")
    x, w = rng.normal(size=(4, 3)), rng.normal(size=3)
    centred = x - x.mean(axis=0)
    v = Value(x)
    (v.var(axis=0) * w).sum().backward()
    np.testing.assert_allclose(v.var(axis=0).data, np.var(x, axis=0), rtol=1e-14)
    np.testing.assert_allclose(v.grad, w * 2 * centred / 4, rtol=1e-12)
    v = Value(x)
    (v.std(axis=0) * w).sum().backward()
    np.testing.assert_allclose(v.grad, w * centred / (4 * np.std(x, axis=0)), rtol=1e-12)


def test_second_derivatives_of_sqrt_and_square_by_hand():
    x0 = np.array([0.5, 2.0, 9.0])
    x = Value(x0)
    (d1,) = grad(x.sqrt().sum(), [x], create_graph=True)
    (d2,) = grad(d1.sum(), [x])
    np.testing.assert_allclose(d1.data, 0.5 / np.sqrt(x0), rtol=1e-14)
    np.testing.assert_allclose(d2.data, -0.25 * x0 ** -1.5, rtol=1e-13)
    x = Value(x0)
    (d1,) = grad(x.square().sum(), [x], create_graph=True)
    (d2,) = grad(d1.sum(), [x])
    np.testing.assert_allclose(d1.data, 2 * x0)
    np.testing.assert_allclose(d2.data, [2.0, 2.0, 2.0])


def test_concatenate_and_stack_hand_each_input_its_own_piece_of_the_gradient():
    a, b = Value(np.zeros((2, 1))), Value(np.zeros((2, 2)))
    w = np.arange(6.0).reshape(2, 3)
    (concatenate([a, b], axis=1) * w).sum().backward()
    np.testing.assert_array_equal(a.grad, w[:, :1])
    np.testing.assert_array_equal(b.grad, w[:, 1:])
    a, b = Value(np.zeros(3)), Value(np.zeros(3))
    w = np.arange(6.0).reshape(3, 2)
    (stack([a, b], axis=-1) * w).sum().backward()
    np.testing.assert_array_equal(a.grad, w[:, 0])
    np.testing.assert_array_equal(b.grad, w[:, 1])


def test_the_same_value_twice_in_concatenate_gets_both_pieces():
    a = Value([1.0, 2.0])
    (concatenate([a, a]) * np.array([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(a.grad, [4.0, 6.0])


def test_values_equal_numpys():
    rng = _rng("values")
    x = rng.normal(size=(2, 3, 2))
    v = Value(x)
    for name in ("max", "min", "var", "std"):
        for axis in AXES:
            np.testing.assert_allclose(getattr(v, name)(axis=axis).data,
                                       getattr(np, name)(x, axis=axis), rtol=1e-14)
    np.testing.assert_array_equal(v.abs().data, np.abs(x))
    np.testing.assert_array_equal(v.square().data, np.square(x))
    np.testing.assert_array_equal(v.clip(-0.3, 0.2).data, np.clip(x, -0.3, 0.2))
    np.testing.assert_array_equal(v.squeeze().data, np.squeeze(x))
    np.testing.assert_array_equal(v.flatten().data, x.ravel())
    np.testing.assert_array_equal(stack([v, v], axis=2).data, np.stack([x, x], axis=2))
    assert v.expand_dims((0, -1)).shape == (1, 2, 3, 2, 1)


# ------------------------------------------------------------------ stability


def test_softmax_family_is_stable_for_logits_of_1000():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning, nothing infinite
        x = Value([[1000.0, 1000.0, 0.0], [-1000.0, 0.0, 1000.0]])
        lse = x.logsumexp(axis=1)
        np.testing.assert_allclose(lse.data, [1000 + np.log(2), 1000.0], rtol=1e-15)
        p = x.softmax()
        np.testing.assert_allclose(p.data, [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]], atol=1e-300)
        ls = x.log_softmax()
        np.testing.assert_allclose(ls.data, [[-np.log(2), -np.log(2), -1000 - np.log(2)],
                                             [-2000.0, -1000.0, 0.0]], rtol=1e-15)
        for y in (lse, p, ls):
            (g,) = grad((y * np.arange(1.0, y.size + 1).reshape(y.shape)).sum(), [x])
            assert np.isfinite(g.data).all()
        (g,) = grad(ls[0, 0], [x])
        np.testing.assert_allclose(g.data, [[0.5, -0.5, 0.0], [0.0, 0.0, 0.0]], atol=1e-300)


def test_logsumexp_of_minus_infinity_everywhere_is_minus_infinity_not_nan():
    # the shift m = max x is −∞ there; subtracting it would give −∞ − (−∞) = nan
    x = Value([[-np.inf, -np.inf], [0.0, -np.inf]])
    with np.errstate(divide="ignore"):  # ln 0 = −∞, numpy's own warning
        np.testing.assert_array_equal(x.logsumexp(axis=1).data, [-np.inf, 0.0])
    np.testing.assert_array_equal(x[1:].log_softmax().data, [[0.0, -np.inf]])


# ------------------------------------------------------------------ numpy functions on Values

NUMPY = {
    "np.abs": (np.abs, lambda v: v.abs(), "abs"),
    "np.absolute": (np.absolute, lambda v: v.abs(), "abs"),
    "np.sqrt": (np.sqrt, lambda v: v.sqrt(), "sqrt"),
    "np.square": (np.square, lambda v: v.square(), "square"),
    "np.max": (lambda v: np.max(v, axis=1), lambda v: v.max(axis=1), "max"),
    "np.amax": (lambda v: np.amax(v, 0, keepdims=True), lambda v: v.max(0, True), "max"),
    "np.min": (lambda v: np.min(v), lambda v: v.min(), "min"),
    "np.amin": (lambda v: np.amin(v, axis=-1), lambda v: v.min(axis=-1), "min"),
    "np.maximum": (lambda v: np.maximum(v, 1.0), lambda v: v.maximum(1.0), "maximum"),
    "np.maximum, array first": (lambda v: np.maximum(np.ones(3), v),
                                lambda v: maximum(np.ones(3), v), "maximum"),
    "np.minimum": (lambda v: np.minimum(v, 1.0), lambda v: v.minimum(1.0), "minimum"),
    "np.clip": (lambda v: np.clip(v, 0.5, 2.0), lambda v: v.clip(0.5, 2.0), "clip"),
    "np.clip one side": (lambda v: np.clip(v, None, 2.0), lambda v: v.clip(hi=2.0), "clip"),
    "np.where": (lambda v: np.where(v > 1, v, 0.5 * v),
                 lambda v: where(v > 1, v, 0.5 * v), "where"),
    "np.concatenate": (lambda v: np.concatenate([v, v], axis=1),
                       lambda v: concatenate([v, v], axis=1), "concatenate"),
    "np.stack": (lambda v: np.stack([v, np.ones((2, 3))]),
                 lambda v: stack([v, np.ones((2, 3))]), "stack"),
    "np.squeeze": (lambda v: np.squeeze(v[None]), lambda v: v[None].squeeze(), "squeeze"),
    "np.expand_dims": (lambda v: np.expand_dims(v, 1), lambda v: v.expand_dims(1),
                       "expand_dims"),
    "np.var": (lambda v: np.var(v, axis=0), lambda v: v.var(axis=0), "var"),
    "np.std": (lambda v: np.std(v, keepdims=True), lambda v: v.std(keepdims=True), "std"),
    "np.ravel": (np.ravel, lambda v: v.flatten(), "flatten"),
}


@pytest.mark.parametrize("name", list(NUMPY))
def test_numpy_function_on_a_value_is_the_value_op(name):
    through_numpy, method, op = NUMPY[name]
    x = np.array([[0.5, 1.5, 2.5], [3.0, 0.25, 1.0]])
    a, b = Value(x), Value(x)
    y, z = through_numpy(a), method(b)
    assert isinstance(y, Value) and y.op == z.op == op
    np.testing.assert_array_equal(y.data, z.data)
    (y * np.arange(1.0, y.size + 1).reshape(y.shape)).sum().backward()
    (z * np.arange(1.0, z.size + 1).reshape(z.shape)).sum().backward()
    np.testing.assert_array_equal(a.grad, b.grad)


@pytest.mark.parametrize("call, words", [
    (lambda v: np.var(v, ddof=1), "only ddof=0"),
    (lambda v: np.std(v, correction=1), "only ddof=0"),
    (lambda v: np.max(v, initial=5.0), "initial="),
    (lambda v: np.max(v, out=np.zeros(())), "out="),
    (lambda v: np.concatenate([v, v], out=np.zeros(4)), "out="),
    (lambda v: np.clip(v, 0.0, 1.0, out=np.zeros(2)), "out="),
    (lambda v: np.where(v), "three arguments"),
    (lambda v: np.clip(v, Value(0.0), 1.0), "bounds must be numbers"),
])
def test_numpy_arguments_a_value_cannot_honour_are_refused(call, words):
    with pytest.raises(TypeError, match=words):
        call(Value([1.0, 2.0]))


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("call, error, words", [
    (lambda v: v.clip(2.0, 1.0), ValueError, r"clip: lo=2.0 is greater than hi=1.0"),
    (lambda v: v.clip(), ValueError, r"clip: give lo, hi or both"),
    (lambda v: v.clip("a", 1.0), TypeError, r"clip: lo must be a number or None"),
    (lambda v: v.leaky_relu("x"), TypeError, r"leaky_relu: slope must be a number"),
    (lambda v: v.leaky_relu(float("nan")), ValueError, r"leaky_relu: slope must be a finite"),
    (lambda v: v.max(axis=2), ValueError, r"Value.max: shape \(2, 2\) \(axis=2, keepdims=False\)"),
    (lambda v: v[:0].max(axis=0), ValueError, r"Value.max: shape \(0, 2\).*empty along it"),
    (lambda v: v.softmax(axis=1.5), TypeError, r"softmax: axis must be"),
    (lambda v: v.squeeze(0), ValueError, r"Value.squeeze: shape \(2, 2\) \(axis=0\) cannot be"),
    (lambda v: v.expand_dims(None), TypeError, r"expand_dims: axis must be an int"),
    (lambda v: v.expand_dims(5), ValueError, r"Value.expand_dims: shape \(2, 2\) \(axis=5\)"),
    (lambda v: where(v, v, v), TypeError, r"where: cond is a Value"),
    (lambda v: where("yes", v, v), TypeError, r"where: cond must be booleans"),
    (lambda v: where(np.ones(3, bool), v, v), ValueError, r"Value.where: shapes \(2, 2\) and"),
    (lambda v: concatenate(v), TypeError, r"concatenate: give a list of Values"),
    (lambda v: concatenate([]), ValueError, r"concatenate: needs at least one"),
    (lambda v: concatenate([v, v[0]]), ValueError,
     r"Value.concatenate: shapes \(2, 2\) and \(2,\) \(axis=0\) do not fit together"),
    (lambda v: concatenate([v, v], axis=None), TypeError, r"concatenate: axis must be an int"),
    (lambda v: stack([v, v[0]]), ValueError, r"Value.stack: shapes \(2, 2\) and \(2,\).*same"),
    (lambda v: maximum(v, "a"), TypeError, r"Value.maximum: cannot combine a Value with str"),
])
def test_bad_arguments_get_a_clear_error_naming_the_op(call, error, words):
    with pytest.raises(error, match=words):
        call(Value([[1.0, 2.0], [3.0, 4.0]]))


# ------------------------------------------------------------------ the package's names


def test_the_package_functions_are_exported():
    for name in ("maximum", "minimum", "where", "concatenate", "stack"):
        assert name in tg.__all__ and callable(getattr(tg, name))
    assert tg.maximum(1.0, Value(2.0)).item() == 2.0
    assert tg.minimum(Value([1.0, 3.0]), 2.0).data.tolist() == [1.0, 2.0]


# ------------------------------------------------------------------ PyTorch, where installed


def _torch():
    return pytest.importorskip("torch")  # the one optional oracle: skipped when not installed


TORCH = {
    "abs": (lambda x: x.abs(), lambda t, x: x.abs(), [away_from_zero((2, 3))]),
    "sqrt": (lambda x: x.sqrt(), lambda t, x: x.sqrt(), [positive((2, 3))]),
    "square": (lambda x: x.square(), lambda t, x: x.square(), [normal((2, 3))]),
    "maximum": (maximum, lambda t, a, b: t.maximum(a, b), [distinct((2, 3)), distinct((2, 3))]),
    "minimum": (minimum, lambda t, a, b: t.minimum(a, b), [distinct((2, 3)), distinct((3,))]),
    "clip": (lambda x: x.clip(-0.5, 0.5), lambda t, x: x.clamp(-0.5, 0.5),
             [away_from([-0.5, 0.5], (2, 3))]),
    "where": (lambda a, b: where(COND, a, b), lambda t, a, b: t.where(t.tensor(COND), a, b),
              [normal((2, 3)), normal((2, 3))]),
    "leaky_relu": (lambda x: x.leaky_relu(0.2),
                   lambda t, x: t.nn.functional.leaky_relu(x, 0.2), [away_from_zero((2, 3))]),
    "max axis=1": (lambda x: x.max(axis=1), lambda t, x: x.amax(dim=1), [distinct((2, 3, 2))]),
    "min axis=(0, 2) keepdims": (lambda x: x.min(axis=(0, 2), keepdims=True),
                                 lambda t, x: x.amin(dim=(0, 2), keepdim=True),
                                 [distinct((2, 3, 2))]),
    "var axis=-1": (lambda x: x.var(axis=-1), lambda t, x: x.var(dim=-1, correction=0),
                    [normal((2, 3, 2))]),
    "std": (lambda x: x.std(), lambda t, x: x.std(correction=0), [normal((2, 3))]),
    "logsumexp axis=0": (lambda x: x.logsumexp(axis=0), lambda t, x: x.logsumexp(dim=0),
                         [normal((2, 3))]),
    "softmax": (lambda x: x.softmax(), lambda t, x: x.softmax(dim=-1), [normal((2, 3))]),
    "log_softmax axis=0": (lambda x: x.log_softmax(axis=0), lambda t, x: x.log_softmax(dim=0),
                           [normal((2, 3))]),
    "concatenate": (lambda a, b: concatenate([a, b], axis=1), lambda t, a, b: t.cat([a, b], 1),
                    [normal((2, 3)), normal((2, 1))]),
    "stack": (lambda a, b: stack([a, b], axis=1), lambda t, a, b: t.stack([a, b], 1),
              [normal((2, 3)), normal((2, 3))]),
    "squeeze": (lambda x: x.squeeze(1), lambda t, x: x.squeeze(1), [normal((2, 1, 3))]),
    "expand_dims": (lambda x: x.expand_dims(1), lambda t, x: x.unsqueeze(1), [normal((2, 3))]),
    "flatten": (lambda x: x.flatten(), lambda t, x: x.flatten(), [normal((2, 3))]),
}


@pytest.mark.parametrize("name", list(TORCH))
def test_values_first_and_second_order_agree_with_pytorch_float64(name):
    torch = _torch()
    ours, theirs, makers = TORCH[name]
    rng = _rng("torch", name)
    data = [make(rng) for make in makers]
    xs = [Value(d) for d in data]
    ts = [torch.tensor(d, dtype=torch.float64, requires_grad=True) for d in data]
    y, yt = ours(*xs), theirs(torch, *ts)
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-12, atol=1e-14)
    w = _rng("torch weights", name).uniform(0.5, 1.5, size=y.shape)
    loss = (y.sin() * w).sum()
    loss_t = (yt.sin() * torch.tensor(w)).sum()
    firsts = grad(loss, xs, create_graph=True)
    firsts_t = torch.autograd.grad(loss_t, ts, create_graph=True)
    u = [_rng("torch u", name, k).normal(size=d.shape) for k, d in enumerate(data)]
    for g, gt in zip(firsts, firsts_t):
        np.testing.assert_allclose(g.data, gt.detach().numpy(), rtol=1e-10, atol=1e-12)
    # second order: the gradient of Σ_k u_k · ∂loss/∂x_k (Hessian-vector products)
    hv = grad(sum((g * uk).sum() for g, uk in zip(firsts, u)), xs)
    hv_t = torch.autograd.grad(sum((g * torch.tensor(uk)).sum() for g, uk in zip(firsts_t, u)),
                               ts, allow_unused=True)
    for h, ht in zip(hv, hv_t):
        expected = np.zeros(h.shape) if ht is None else ht.numpy()
        np.testing.assert_allclose(h.data, expected, rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------ compile: both generators

COMPILED = {
    "abs": lambda h: h.abs(),
    "sqrt": lambda h: (h * h + 1.0).sqrt(),
    "square": lambda h: h.square(),
    "maximum": lambda h: maximum(h, h * 0.5 - 0.1),
    "minimum": lambda h: minimum(h, 0.1),
    "clip": lambda h: h.clip(-0.3, 0.3),
    "clip hi only": lambda h: h.clip(hi=0.2),
    "where": lambda h: where(np.array([True, False, True, False]), h, 0.5 * h),
    "leaky_relu": lambda h: h.leaky_relu(0.1),
    "max axis=1 keepdims": lambda h: h.max(axis=1, keepdims=True),
    "min": lambda h: h.min(),
    "var axis=1": lambda h: h.var(axis=1),
    "std": lambda h: h.std(),
    "logsumexp axis=-1": lambda h: h.logsumexp(axis=-1),
    "softmax": lambda h: h.softmax(),
    "log_softmax axis=0": lambda h: h.log_softmax(axis=0),
    "concatenate": lambda h: concatenate([h, h * 2.0], axis=1),
    "stack": lambda h: stack([h, h * h], axis=-1),
    "squeeze": lambda h: h.expand_dims(0).squeeze(0),
    "expand_dims": lambda h: h.expand_dims(1),
    "flatten": lambda h: h.flatten(),
}


@pytest.mark.parametrize("name", list(COMPILED))
def test_compiled_code_gives_eager_numbers_and_writes_the_ops_math(name):
    rng = _rng("compile", name)
    w = Value(rng.normal(size=(3, 4)), label="w")
    x0, x1 = rng.normal(size=(1, 3)), rng.normal(size=(1, 3))
    f = COMPILED[name]
    c = rng.uniform(0.5, 1.5, size=f(Value(x0) @ w).shape)

    def loss(x):
        return (f(x @ w) * c).sum()

    step = tg.compile(loss, x0)
    assert "_forward_" not in step.source and "_backward_" not in step.source  # math, not calls
    eager_loss = loss(Value(x1))
    (eager_grad,) = grad(eager_loss, [w])
    got_loss, (got_grad,) = step(x1)  # new inputs: not the ones traced
    np.testing.assert_allclose(got_loss, eager_loss.data, rtol=1e-12)
    np.testing.assert_allclose(got_grad, eager_grad.data, rtol=1e-10, atol=1e-14)
    # the fused SGD step: on Python floats where the float code can write the op
    before = w.data.copy()
    with step.sgd(0.1) as fused:
        fused_loss, _ = fused(x1)
        assert fused.source.startswith("def make("), fused.source[:40]  # on Python floats
    np.testing.assert_allclose(fused_loss, eager_loss.data, rtol=1e-12)
    np.testing.assert_allclose(w.data, before - 0.1 * eager_grad.data, rtol=1e-10, atol=1e-14)


def test_compiled_softmax_writes_its_shift_once_by_name():
    w = Value(np.ones((3, 4)), label="w")
    step = tg.compile(lambda x: (x @ w).softmax().sum(), np.ones((2, 3)))
    lines = step.source.splitlines()
    assert "    m = matmul1.max(axis=-1, keepdims=True)" in lines
    assert "    e = np.exp(matmul1 - np.where(np.isfinite(m), m, 0.0))" in lines
    assert "    softmax1 = e / e.sum(axis=-1, keepdims=True)" in lines
    assert step.source.count("x @ w") == 1  # the matmul is computed once, not in each use


# ------------------------------------------------------------------ the views


def test_views_show_each_op_with_its_arguments_and_its_math_in_the_graphs_names():
    from tinygrad_sine.describe import describe, formulas, op_label

    x = Value([[1.0, -2.0, 3.0], [0.5, 0.5, -1.0]], label="x")
    y = x.clip(-1.0, 1.5)
    y.label = "y"
    m = y.max(axis=1, keepdims=True)
    m.label = "m"
    p = x.softmax(axis=0)
    p.label = "p"
    info = describe(m.sum() + p.sum())
    assert op_label(y) == "clip lo=-1 hi=1.5"
    assert op_label(m) == "max axis=1 keepdims"
    assert op_label(p) == "softmax axis=0"
    assert info.call(m) == "m = max(y, axis=1, keepdims)"
    assert formulas(y, info) == (
        "y = min(max(x, -1), 1.5)", "∂x = ∂y · [-1 ≤ x ≤ 1.5]   (the bounds pass ∂y, as in PyTorch)")
    assert formulas(p, info)[0] == "p = e^x / Σ e^x along `axis`"
    assert formulas(p, info)[1] == "∂x = p · (∂p − Σ ∂p · p along `axis`)"
    c = concatenate([x, y], axis=1)
    c.label = "c"
    assert op_label(c) == "concatenate axis=1"
    assert describe(c).call(c) == "c = concatenate(x, y, axis=1)"
    s = where(np.array([True, False, True]), x, y)
    assert op_label(s) == "where cond=[True, False, True]"
    assert formulas(s, describe(s))[1] == "∂x = ∂where#1 · [cond],  ∂y = ∂where#1 · [not cond]"


def test_the_stepper_walks_the_new_ops_and_its_gradients_are_backprops():
    x = Value([[1.0, -2.0, 3.0], [0.5, 0.5, -1.0]], label="x")
    loss = (x.softmax().log_softmax(axis=0) * x.abs().max(axis=0)).sum() + stack(
        [x.std(axis=1), x.var(axis=1)]).flatten().min()
    st = tg.Stepper(loss)
    while st.next() is not None:
        pass
    (want,) = grad(loss, [x])
    np.testing.assert_allclose(st.grad(x), want.data, rtol=1e-14)
    assert "softmax#1 = softmax(x, axis=-1)" in tg.show_text(loss)


def test_a_comparison_inside_compile_is_refused_rather_than_frozen():
    w = Value(np.array([[1.0, -1.0]]), label="w")
    with pytest.raises(tg.TraceError, match="Value.__greater__"):
        tg.compile(lambda x: where(x @ w > 0, x @ w, 0.01 * (x @ w)).sum(), np.ones((1, 1)))


def test_the_diagram_and_the_explorer_show_the_ops_with_their_arguments(require_dot):
    import html
    import json
    import re

    from viz.explore import explore
    from viz.graph import draw_graph

    x = Value([[1.0, -2.0, 3.0], [0.5, 0.5, -1.0]], label="x")
    y = x.clip(-1.0, 1.5)
    y.label = "y"
    m = y.max(axis=1, keepdims=True)
    m.label = "m"
    root = m.sum() + concatenate([x.softmax(), x.log_softmax(axis=0)], axis=1).std()
    source = html.unescape(draw_graph(root).source)
    for label in ("clip lo=-1 hi=1.5", "max axis=1 keepdims", "softmax axis=-1",
                  "log_softmax axis=0", "concatenate axis=1", "std"):
        assert f"[label=<{label}>" in source, label
    page = explore(root)
    data = json.loads(re.search(r'id="steps-data">(.*?)</script>', page, re.S).group(1))
    texts = "\n".join(s["text"] for s in data["steps"])
    assert "y = min(max(x, -1), 1.5)" in texts
    assert "∂x = ∂y · [-1 ≤ x ≤ 1.5]" in texts
    assert [s["text"] for s in data["steps"]] == [s.text for s in tg.Stepper(root)]
