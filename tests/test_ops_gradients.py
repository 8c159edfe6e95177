"""Every operation's gradient against central differences (``tinygrad_sine.gradcheck``).

``gradcheck`` builds the numerical Jacobian from the forward pass only, so it
is an oracle independent of every ``backward`` in ``ops/``.  Functions that
return non-scalar Values are checked element by element (full Jacobian).

Inputs come from ``np.random.default_rng`` with fixed seeds; where an op has
a kink or a singularity (relu at 0, log/pow at 0, division by 0) the inputs
are kept well away from it.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_sine
from tinygrad_sine import GradcheckError, Value, gradcheck, ops
from tinygrad_sine.value import _apply

SHAPES = [(), (4,), (2, 3), (2, 1, 3)]


def _rng(*key) -> np.random.Generator:
    """A generator whose fixed seed depends on the test's parameters (stable across runs)."""
    seed = 20240601
    for part in key:
        for ch in repr(part):
            seed = (seed * 131 + ord(ch)) % (2**32)
    return np.random.default_rng(seed)


def normal(rng, shape):
    return Value(rng.normal(size=shape))


def uniform(rng, shape, low, high):
    return Value(rng.uniform(low, high, size=shape))


def away_from_zero(rng, shape, low=0.5, high=2.0):
    """Magnitudes in [low, high] with random signs."""
    mag = rng.uniform(low, high, size=shape)
    sign = np.where(rng.random(size=shape) < 0.5, -1.0, 1.0)
    return Value(mag * sign)


def check(fn, inputs):
    """gradcheck both the (possibly non-scalar) output and a scalar reduction of it."""
    assert gradcheck(fn, inputs) is True
    weights = np.random.default_rng(7).uniform(0.5, 1.5, size=np.shape(fn(*inputs).data))
    assert gradcheck(lambda *xs: (fn(*xs) * weights).sum(), inputs) is True


# ------------------------------------------------------------------ binary arithmetic

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_op_gradient_matches_central_differences(name, shape):
    rng = _rng(name, shape)
    a = normal(rng, shape)
    b = away_from_zero(rng, shape) if name == "div" else normal(rng, shape)
    check(BINARY[name], [a, b])


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_neg_gradient_matches_central_differences(shape):
    check(lambda x: -x, [normal(_rng("neg", shape), shape)])


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("exponent", [2, 3, -1, -2, 0, 1, np.int64(2)])
def test_pow_number_exponent_gradient(exponent, shape):
    rng = _rng("pow", exponent, shape)
    x = away_from_zero(rng, shape)  # x**-1 needs |x| away from 0
    check(lambda v: v**exponent, [x])


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("exponent", [0.5, 1.5, -0.5, np.float64(0.5)])
def test_pow_fractional_exponent_on_positive_inputs_gradient(exponent, shape):
    x = uniform(_rng("powfrac", exponent, shape), shape, 0.3, 3.0)
    check(lambda v: v**exponent, [x])


@pytest.mark.parametrize(
    "base_shape, exp_shape", [((), ()), ((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (2, 2))]
)
def test_pow_with_value_exponent_gradient_for_both_base_and_exponent(base_shape, exp_shape):
    rng = _rng("powvalue", base_shape, exp_shape)
    base = uniform(rng, base_shape, 0.3, 3.0)
    exponent = normal(rng, exp_shape)
    check(lambda a, b: a**b, [base, exponent])


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_rpow_number_base_gradient(shape):
    x = normal(_rng("rpow", shape), shape)
    check(lambda v: 2**v, [x])
    check(lambda v: 0.5**v, [x])


# ------------------------------------------------------------------ matmul / dot

MATMUL_SHAPES = [
    ((2, 3), (3, 4)),  # 2-D @ 2-D
    ((3,), (3, 4)),  # 1-D @ 2-D
    ((2, 3), (3,)),  # 2-D @ 1-D
    ((3,), (3,)),  # 1-D @ 1-D
    ((2, 2, 3), (3, 4)),  # batched 3-D @ 2-D
    ((2, 3), (2, 3, 4)),  # 2-D @ 3-D
    ((2, 2, 3), (2, 3, 2)),  # 3-D @ 3-D
    ((3,), (2, 3, 2)),  # 1-D @ 3-D
    ((2, 2, 3), (3,)),  # 3-D @ 1-D
]


@pytest.mark.parametrize("a_shape, b_shape", MATMUL_SHAPES, ids=str)
def test_matmul_gradient_for_both_operands(a_shape, b_shape):
    rng = _rng("matmul", a_shape, b_shape)
    a, b = normal(rng, a_shape), normal(rng, b_shape)
    out = a @ b
    assert out.shape == np.matmul(a.data, b.data).shape
    np.testing.assert_allclose(out.data, np.matmul(a.data, b.data))
    check(lambda x, y: x @ y, [a, b])


# the same products as einsum subscripts, so the exact gradients follow from the
# einsum rule (∂a = einsum(out, b -> a) of the upstream gradient), independently of the engine
MATMUL_EINSUM = {
    ((2, 3), (3, 4)): ("ik", "kj", "ij"),
    ((3,), (3, 4)): ("k", "kj", "j"),
    ((2, 3), (3,)): ("ik", "k", "i"),
    ((3,), (3,)): ("k", "k", ""),
    ((2, 2, 3), (3, 4)): ("bik", "kj", "bij"),
    ((2, 3), (2, 3, 4)): ("ik", "bkj", "bij"),
    ((2, 2, 3), (2, 3, 2)): ("bik", "bkj", "bij"),
    ((3,), (2, 3, 2)): ("k", "bkj", "bj"),
    ((2, 2, 3), (3,)): ("bik", "k", "bi"),
}


@pytest.mark.parametrize("a_shape, b_shape", MATMUL_SHAPES, ids=str)
def test_matmul_gradient_equals_exact_einsum_gradient(a_shape, b_shape):
    sa, sb, so = MATMUL_EINSUM[(a_shape, b_shape)]
    rng = _rng("matmul-exact", a_shape, b_shape)
    a_data, b_data = rng.normal(size=a_shape), rng.normal(size=b_shape)
    out_shape = np.einsum(f"{sa},{sb}->{so}", a_data, b_data).shape
    w = rng.normal(size=out_shape)
    a, b = Value(a_data), Value(b_data)
    ((a @ b) * w).sum().backward()
    np.testing.assert_allclose(a.grad, np.einsum(f"{so},{sb}->{sa}", w, b_data), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.grad, np.einsum(f"{sa},{so}->{sb}", a_data, w), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("a_shape, b_shape", [((3,), (3,)), ((2, 3), (3, 4)), ((3,), (3, 2))], ids=str)
def test_dot_gradient_matches_matmul(a_shape, b_shape):
    rng = _rng("dot", a_shape, b_shape)
    a, b = normal(rng, a_shape), normal(rng, b_shape)
    np.testing.assert_allclose(a.dot(b).data, np.dot(a.data, b.data))
    check(lambda x, y: x.dot(y), [a, b])


# ------------------------------------------------------------------ elementwise maths

UNARY = {
    "exp": (lambda v: v.exp(), lambda rng, s: normal(rng, s)),
    "log": (lambda v: v.log(), lambda rng, s: uniform(rng, s, 0.2, 3.0)),
    "sin": (lambda v: v.sin(), lambda rng, s: uniform(rng, s, -4.0, 4.0)),
    "cos": (lambda v: v.cos(), lambda rng, s: uniform(rng, s, -4.0, 4.0)),
    "tanh": (lambda v: v.tanh(), lambda rng, s: uniform(rng, s, -2.5, 2.5)),
    "sigmoid": (lambda v: v.sigmoid(), lambda rng, s: uniform(rng, s, -4.0, 4.0)),
    "relu": (lambda v: v.relu(), lambda rng, s: away_from_zero(rng, s, 0.1, 2.0)),
    "identity": (lambda v: v.identity(), lambda rng, s: normal(rng, s)),
}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_op_gradient_matches_central_differences(name, shape):
    fn, make = UNARY[name]
    check(fn, [make(_rng(name, shape), shape)])


# f(x) and f'(x) written out with numpy, to pin the local derivatives exactly
# (gradcheck's tolerance would let a derivative that is off by 0.01 % through)
EXACT_DERIVATIVES = {
    "exp": (lambda v: v.exp(), lambda x: np.exp(x)),
    "log": (lambda v: v.log(), lambda x: 1 / x),
    "sin": (lambda v: v.sin(), lambda x: np.cos(x)),
    "cos": (lambda v: v.cos(), lambda x: -np.sin(x)),
    "tanh": (lambda v: v.tanh(), lambda x: 1 - np.tanh(x) ** 2),
    "sigmoid": (lambda v: v.sigmoid(), lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2),
    "relu": (lambda v: v.relu(), lambda x: (x > 0).astype(float)),
    "identity": (lambda v: v.identity(), lambda x: np.ones_like(x)),
    "neg": (lambda v: -v, lambda x: -np.ones_like(x)),
    "square": (lambda v: v**2, lambda x: 2 * x),
    "cube": (lambda v: v**3, lambda x: 3 * x**2),
    "sqrt": (lambda v: v**0.5, lambda x: 0.5 / np.sqrt(x)),
    "reciprocal": (lambda v: v**-1, lambda x: -1 / x**2),
    "2**x": (lambda v: 2**v, lambda x: 2**x * np.log(2)),
    "x**x": (lambda v: v**v, lambda x: x**x * (np.log(x) + 1)),
    "1/x": (lambda v: 1 / v, lambda x: -1 / x**2),
    "2-x": (lambda v: 2 - v, lambda x: -np.ones_like(x)),
}


@pytest.mark.parametrize("name", list(EXACT_DERIVATIVES))
def test_elementwise_gradient_equals_exact_derivative(name):
    fn, derivative = EXACT_DERIVATIVES[name]
    x_data = _rng("exact", name).uniform(0.2, 2.5, size=(2, 3))
    if name in ("sin", "cos", "tanh", "sigmoid", "relu", "exp", "identity", "neg", "square", "cube"):
        x_data = x_data * np.array([1.0, -1.0, 1.0])  # negative inputs too
    x = Value(x_data)
    fn(x).sum().backward()
    np.testing.assert_allclose(x.grad, derivative(x_data), rtol=1e-12, atol=1e-15)


def test_div_and_pow_value_gradients_equal_exact_derivatives():
    rng = _rng("exact-binary")
    a_data, b_data = rng.uniform(0.3, 2.0, size=4), rng.uniform(-2.0, 2.0, size=4)
    a, b = Value(a_data), Value(b_data)
    (a / b).sum().backward()
    np.testing.assert_allclose(a.grad, 1 / b_data, rtol=1e-12)
    np.testing.assert_allclose(b.grad, -a_data / b_data**2, rtol=1e-12)
    a, b = Value(a_data), Value(b_data)
    (a**b).sum().backward()
    np.testing.assert_allclose(a.grad, b_data * a_data ** (b_data - 1), rtol=1e-12)
    np.testing.assert_allclose(b.grad, a_data**b_data * np.log(a_data), rtol=1e-12, atol=1e-15)


def test_relu_gradient_is_zero_for_negative_and_one_for_positive_inputs():
    x = Value([-2.0, -0.1, 0.1, 3.0])
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0, 1.0])


def test_relu_gradient_at_exactly_zero_is_zero():
    x = Value([0.0])
    x.relu().sum().backward()
    assert x.grad[0] == 0.0


# ------------------------------------------------------------------ reductions

AXES = [None, 0, 1, 2, -1, -2, (0, 2), (-1, 0), (0, 1, 2)]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_reduction_gradient_for_every_axis_form(reduction, axis, keepdims):
    x = normal(_rng(reduction, axis, keepdims), (2, 3, 4))
    out = getattr(x, reduction)(axis=axis, keepdims=keepdims)
    expected = getattr(np, reduction)(x.data, axis=axis, keepdims=keepdims)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected)
    check(lambda v: getattr(v, reduction)(axis=axis, keepdims=keepdims), [x])


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_reduction_accepts_axis_as_list(reduction):
    x = normal(_rng(reduction, "list"), (2, 3, 4))
    np.testing.assert_allclose(
        getattr(x, reduction)(axis=[0, 2]).data, getattr(np, reduction)(x.data, axis=(0, 2))
    )
    check(lambda v: getattr(v, reduction)(axis=[0, 2]), [x])


def test_sum_gradient_is_all_ones_and_mean_gradient_is_one_over_n():
    x = Value(np.arange(12.0).reshape(3, 4))
    x.sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones((3, 4)))
    y = Value(np.arange(12.0).reshape(3, 4))
    y.mean(axis=1).sum().backward()
    np.testing.assert_allclose(y.grad, np.full((3, 4), 1 / 4))


# ------------------------------------------------------------------ shape moves

RESHAPES = {
    "reshape(2,3)": ((6,), lambda v: v.reshape(2, 3)),
    "reshape((2,3))": ((6,), lambda v: v.reshape((2, 3))),
    "reshape([3,2])": ((2, 3), lambda v: v.reshape([3, 2])),
    "reshape(-1)": ((2, 3), lambda v: v.reshape(-1)),
    "reshape(3,-1)": ((6,), lambda v: v.reshape(3, -1)),
    "reshape((-1,1,2))": ((2, 3), lambda v: v.reshape((-1, 1, 2))),
    "reshape(())": ((1,), lambda v: v.reshape(())),
}


@pytest.mark.parametrize("name", list(RESHAPES))
def test_reshape_gradient(name):
    shape, fn = RESHAPES[name]
    x = normal(_rng("reshape", name), shape)
    check(fn, [x])


def test_reshape_both_call_forms_give_the_same_shape():
    x = Value(np.arange(6.0))
    assert x.reshape(2, 3).shape == (2, 3)
    assert x.reshape((2, 3)).shape == (2, 3)
    assert x.reshape(-1, 2).shape == (3, 2)
    np.testing.assert_array_equal(x.reshape(3, 2).data, np.arange(6.0).reshape(3, 2))


TRANSPOSES = {
    "transpose()": ((2, 3, 4), lambda v: v.transpose()),
    "transpose(1,0,2)": ((2, 3, 4), lambda v: v.transpose(1, 0, 2)),
    "transpose((2,0,1))": ((2, 3, 4), lambda v: v.transpose((2, 0, 1))),
    "transpose(1,2,0)": ((2, 3, 4), lambda v: v.transpose(1, 2, 0)),
    "2-D transpose()": ((2, 3), lambda v: v.transpose()),
    ".T 2-D": ((2, 3), lambda v: v.T),
    ".T 3-D": ((2, 3, 4), lambda v: v.T),
}


@pytest.mark.parametrize("name", list(TRANSPOSES))
def test_transpose_gradient(name):
    shape, fn = TRANSPOSES[name]
    x = normal(_rng("transpose", name), shape)
    check(fn, [x])


@pytest.mark.parametrize("axes", [(-1, 0, 1), (0, -1, -2), (2, 0, -2)], ids=str)
def test_transpose_with_negative_axes_gradient(axes):
    # The inverse permutation must be taken of the axes made positive: argsort
    # of the raw (-1, 0, 1) is (0, 1, 2), not (1, 2, 0), the inverse of (2, 0, 1).
    x = normal(_rng("transpose-neg", axes), (2, 3, 4))
    y = x.transpose(*axes)
    np.testing.assert_array_equal(y.data, np.transpose(x.data, axes))
    # ∂/∂x Σ (xᵀ ⊙ w) = w transposed back by the inverse permutation (numpy, by hand)
    w = np.arange(24.0).reshape(y.shape)
    inverse = np.argsort([a % 3 for a in axes])
    (y * w).sum().backward()
    assert x.grad.shape == x.shape
    np.testing.assert_array_equal(x.grad, np.transpose(w, inverse))
    check(lambda v: v.transpose(*axes), [x])


BROADCASTS = [((3,), (2, 3)), ((3, 1), (2, 3, 4)), ((), (2, 2)), ((1, 3), (4, 3)), ((2, 1, 3), (2, 4, 3))]


@pytest.mark.parametrize("src, dst", BROADCASTS, ids=str)
def test_broadcast_to_gradient(src, dst):
    x = normal(_rng("broadcast_to", src, dst), src)
    out = x.broadcast_to(dst)
    assert out.shape == dst
    check(lambda v: v.broadcast_to(dst), [x])
    check(lambda v: v.broadcast_to(*dst), [x])


def test_broadcast_to_gradient_sums_over_the_copies():
    x = Value([1.0, 2.0, 3.0])
    x.broadcast_to((4, 3)).sum().backward()
    np.testing.assert_array_equal(x.grad, [4.0, 4.0, 4.0])


GETITEMS = {
    "int": ((4, 3), lambda v: v[1]),
    "negative int": ((4, 3), lambda v: v[-1]),
    "slice": ((5,), lambda v: v[1:4]),
    "step slice": ((5, 3), lambda v: v[::2, 1:]),
    "column": ((4, 3), lambda v: v[:, 1]),
    "int pair": ((4, 3), lambda v: v[2, 0]),
    "ellipsis": ((2, 3, 4), lambda v: v[..., -1]),
    "newaxis": ((3,), lambda v: v[None, :]),
    "repeated list": ((4,), lambda v: v[[0, 0, 1]]),
    "repeated rows": ((3, 2), lambda v: v[[2, 0, 2, 2]]),
    "int array": ((5,), lambda v: v[np.array([4, 1, 1, 0])]),
    "2-D int array": ((5,), lambda v: v[np.array([[0, 1], [1, 4]])]),
    "paired int arrays": ((3, 3), lambda v: v[[0, 0, 2], [1, 1, 0]]),
    "bool mask": ((4,), lambda v: v[np.array([True, False, True, True])]),
}


@pytest.mark.parametrize("name", list(GETITEMS))
def test_getitem_gradient(name):
    shape, fn = GETITEMS[name]
    x = normal(_rng("getitem", name), shape)
    check(fn, [x])


def test_getitem_with_repeated_indices_accumulates_gradient():
    x = Value([10.0, 20.0, 30.0])
    x[[0, 0, 1, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 1.0, 0.0])


# ------------------------------------------------------------------ broadcasting in binary ops

BROADCAST_CASES = {
    "(3,1)+(1,4)": (((3, 1), (1, 4)), lambda a, b: a + b),
    "(3,1)-(1,4)": (((3, 1), (1, 4)), lambda a, b: a - b),
    "scalar+matrix": (((), (2, 3)), lambda a, b: a + b),
    "matrix*scalar": (((2, 3), ()), lambda a, b: a * b),
    "bias+batch": (((4,), (5, 4)), lambda bias, x: bias + x),
    "batch+bias": (((5, 4), (4,)), lambda x, bias: x + bias),
    "(2,1,3)*(4,1)": (((2, 1, 3), (4, 1)), lambda a, b: a * b),
    "(4,1)*(2,1,3)": (((4, 1), (2, 1, 3)), lambda a, b: a * b),
    "(2,1,3)/(4,1)": (((2, 1, 3), (4, 1)), lambda a, b: a / (b * b + 1.0)),
    "x@W+b": (((3, 2), (2, 4)), lambda x, w: x @ w + w[0]),
}


@pytest.mark.parametrize("name", list(BROADCAST_CASES))
def test_broadcasting_binary_op_gradient(name):
    (sa, sb), fn = BROADCAST_CASES[name]
    rng = _rng("broadcast", name)
    a, b = normal(rng, sa), normal(rng, sb)
    check(fn, [a, b])
    fn(a, b).sum().backward()
    assert a.grad.shape == sa and b.grad.shape == sb


def test_bias_gradient_sums_over_the_batch():
    bias = Value([0.0, 0.0, 0.0])
    x = Value(np.arange(6.0).reshape(2, 3))
    (x + bias).sum().backward()
    np.testing.assert_array_equal(bias.grad, [2.0, 2.0, 2.0])


@pytest.mark.parametrize(
    "name",
    ["x - x.mean(1, keepdims)", "x / x.sum(0, keepdims)", "x * x.sum(keepdims)", "softmax-ish"],
)
def test_keepdims_reduction_broadcast_back_gradient(name):
    x = uniform(_rng("keepdims", name), (3, 4), 0.5, 2.0)
    fns = {
        "x - x.mean(1, keepdims)": lambda v: v - v.mean(axis=1, keepdims=True),
        "x / x.sum(0, keepdims)": lambda v: v / v.sum(axis=0, keepdims=True),
        "x * x.sum(keepdims)": lambda v: v * v.sum(keepdims=True),
        "softmax-ish": lambda v: v.exp() / v.exp().sum(axis=-1, keepdims=True),
    }
    check(fns[name], [x])


CONSTANT_SIDE = {
    "ndarray * Value": (lambda c, v: c * v),
    "Value * ndarray": (lambda c, v: v * c),
    "Value - ndarray": (lambda c, v: v - c),
    "ndarray - Value": (lambda c, v: c - v),
    "ndarray + Value": (lambda c, v: c + v),
    "ndarray / Value": (lambda c, v: c / v),
    "Value / ndarray": (lambda c, v: v / c),
    "2 - v": (lambda c, v: 2 - v),
    "1 / v": (lambda c, v: 1 / v),
    "3 * v": (lambda c, v: 3 * v),
    "v + 1.5": (lambda c, v: v + 1.5),
    "np.float64(2) * v": (lambda c, v: np.float64(2) * v),
    "np.float64(2) - v": (lambda c, v: np.float64(2) - v),
}


@pytest.mark.parametrize("name", list(CONSTANT_SIDE))
@pytest.mark.parametrize("v_shape, c_shape", [((2, 3), (2, 3)), ((2, 3), (3,)), ((3,), (2, 3))], ids=str)
def test_constant_on_either_side_gradient(name, v_shape, c_shape):
    rng = _rng("const", name, v_shape, c_shape)
    v = away_from_zero(rng, v_shape)
    c = rng.uniform(0.5, 2.0, size=c_shape)
    fn = CONSTANT_SIDE[name]
    assert isinstance(fn(c, v), Value)
    check(lambda x: fn(c, x), [v])


@pytest.mark.parametrize(
    "c_shape, v_shape", [((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 2, 3), (3, 2))], ids=str
)
def test_ndarray_matmul_value_gradient(c_shape, v_shape):
    rng = _rng("ndarray@Value", c_shape, v_shape)
    c = rng.normal(size=c_shape)
    v = normal(rng, v_shape)
    out = c @ v
    assert isinstance(out, Value)
    np.testing.assert_allclose(out.data, c @ v.data)
    check(lambda x: c @ x, [v])


# ------------------------------------------------------------------ compositions

def test_composite_expression_gradient_with_several_inputs():
    rng = _rng("composite")
    x = normal(rng, (4, 3))
    w = normal(rng, (3, 2))
    b = normal(rng, (2,))
    t = rng.normal(size=(4, 2))

    def loss(x, w, b):
        y = (x @ w + b).sigmoid()
        h = (y - t) ** 2
        return h.mean() + 0.1 * (w * w).sum() + (x.tanh() * x.cos()).sum(axis=0).exp().sum()

    check(loss, [x, w, b])


def test_same_input_used_in_several_ops_gradient():
    x = normal(_rng("reuse"), (3,))
    check(lambda v: v * v.sin() + v.exp() / (1 + v * v) - v[[0, 0]].sum(), [x])


# ------------------------------------------------------------------ hypothesis: random broadcasting


def _elements(low=-3.0, high=3.0):
    return st.floats(low, high, allow_nan=False, allow_infinity=False, width=64)


_DENOMINATOR = st.one_of(_elements(0.5, 3.0), _elements(-3.0, -0.5))


@st.composite
def broadcast_pairs(draw, op_name):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
    sa, sb = shapes.input_shapes
    a = draw(hnp.arrays(np.float64, sa, elements=_elements()))
    b_elements = _DENOMINATOR if op_name == "div" else _elements()
    b = draw(hnp.arrays(np.float64, sb, elements=b_elements))
    return a, b, shapes.result_shape


def _hypothesis_binary_check(op_name, pair):
    a_data, b_data, result_shape = pair
    a, b = Value(a_data), Value(b_data)
    fn = BINARY[op_name]
    out = fn(a, b)
    assert out.shape == result_shape == np.broadcast_shapes(a_data.shape, b_data.shape)
    assert gradcheck(fn, [a, b])
    fn(a, b).sum().backward()
    assert a.grad.shape == a_data.shape
    assert b.grad.shape == b_data.shape


_HYP = settings(max_examples=30, deadline=None, database=None)


@_HYP
@given(case=st.sampled_from(["add", "sub", "mul", "div"]).flatmap(
    lambda op: broadcast_pairs(op).map(lambda pair: (op, pair))))
def test_hypothesis_binary_broadcast_gradient(case):
    _hypothesis_binary_check(*case)


@_HYP
@given(pair=broadcast_pairs("mul"))
def test_hypothesis_broadcast_gradient_equals_summed_outer_gradient(pair):
    """For y = a * b, ∂(Σy)/∂a is b summed over a's broadcast axes (independent numpy computation)."""
    a_data, b_data, result_shape = pair
    a, b = Value(a_data), Value(b_data)
    (a * b).sum().backward()
    full_b = np.broadcast_to(b_data, result_shape)
    lead = len(result_shape) - a_data.ndim
    expected = full_b.sum(axis=tuple(range(lead))) if lead else full_b
    keep = tuple(i for i, n in enumerate(a_data.shape) if n == 1 and expected.shape[i] != 1)
    expected = expected.sum(axis=keep, keepdims=True) if keep else expected
    np.testing.assert_allclose(a.grad, expected.reshape(a_data.shape), rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ gradcheck itself


class _WrongSin(ops.Op):
    """sin forward with a deliberately wrong backward (sin instead of cos)."""

    name = "wrong_sin"

    @staticmethod
    def forward(x):
        return np.sin(x)

    @staticmethod
    def backward(g, y, x):
        return (g * np.sin(x),)


def test_gradcheck_raises_naming_the_input_and_element_for_a_wrong_backward():
    # sin(pi/4) == cos(pi/4), so element 0 agrees and element 1 is the first bad one.
    x = Value([np.pi / 4, 1.0, 2.0])
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda v: _apply(_WrongSin, (v,)).sum(), [x])
    message = str(info.value)
    assert "input 0" in message
    assert "[1]" in message
    assert isinstance(info.value, AssertionError)


def test_gradcheck_names_the_second_input_and_its_label():
    good = Value([0.3, 0.4], label="good")
    bad = Value([[np.pi / 4, np.pi / 4], [np.pi / 4, 0.5]], label="w")
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: (a * 2).sum() + _apply(_WrongSin, (b,)).sum(), [good, bad])
    message = str(info.value)
    assert "input 1" in message
    assert "'w'" in message
    assert "[1, 1]" in message


def test_gradcheck_catches_a_monkeypatched_wrong_backward_of_a_real_op(monkeypatch):
    x = Value([0.5, 1.5])
    assert gradcheck(lambda v: v.exp().sum(), [x])
    monkeypatch.setattr(ops.Exp, "backward", staticmethod(lambda g, y, x: (g * y * 1.01,)))
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(lambda v: v.exp().sum(), [x])


def test_gradcheck_catches_a_wrong_jacobian_entry_of_a_non_scalar_output(monkeypatch):
    # A backward that drops the sign only for the 2nd output element is only
    # visible when the full Jacobian is checked.
    def backward(g, y, x):
        return (g * np.cos(x) * np.where(np.arange(np.size(x)) == 1, -1.0, 1.0),)

    monkeypatch.setattr(ops.Sin, "backward", staticmethod(backward))
    with pytest.raises(GradcheckError, match=r"output\[1\]"):
        gradcheck(lambda v: v.sin(), [Value([0.1, 0.2, 0.3])])


def test_gradcheck_is_exported_from_the_package():
    assert tinygrad_sine.gradcheck is gradcheck
    assert issubclass(tinygrad_sine.GradcheckError, AssertionError)
