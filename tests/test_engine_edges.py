"""Edge cases found in review: each pins a behaviour that was once wrong or unclear."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_sine import Value, grad, gradcheck


def test_power_zero_has_zero_gradient_even_at_zero():
    x = Value([0.0, 2.0])
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])  # d/dx x⁰ = 0, not nan


def test_a_zero_d_array_exponent_is_a_number_exponent():
    x = Value(-2.0)
    y = x ** np.array(2.0)
    assert y.op == "pow" and y._args == (2.0,)
    y.backward()
    assert x.grad == -4.0  # 2x, with no log of a negative base involved


def test_gradcheck_restores_inputs_when_fn_raises():
    x = Value([1.0, 2.0])
    calls = []

    def fn(a):
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("boom")
        return a.sum()

    with pytest.raises(RuntimeError, match="boom"):
        gradcheck(fn, [x])
    np.testing.assert_array_equal(x.data, [1.0, 2.0])


def test_gradcheck_and_grad_refuse_non_values_by_name():
    with pytest.raises(TypeError, match="gradcheck: fn must return a Value, got float"):
        gradcheck(lambda a: 3.0, [Value(1.0)])
    with pytest.raises(TypeError, match="grad: output must be a Value"):
        grad(3.0, [Value(1.0)])
    with pytest.raises(TypeError, match="grad: inputs must be Values"):
        grad(Value(1.0) * 2, [np.ones(1)])


def test_combining_with_a_non_number_names_the_operation():
    for expr, op in [(lambda v: v + "a", "add"), (lambda v: "a" * v, "mul"),
                     (lambda v: v @ object(), "matmul"), (lambda v: {1: 2} ** v, "pow")]:
        with pytest.raises(TypeError, match=rf"Value\.{op}: cannot combine a Value with"):
            expr(Value([1.0, 2.0]))


def test_shape_errors_name_the_fixed_arguments():
    with pytest.raises(ValueError, match=r"Value\.sum: shape \(2, 3\) \(axis=2, keepdims=False\)"):
        Value(np.ones((2, 3))).sum(axis=2)


def test_scalar_grad_is_a_float64_before_and_after_backward():
    x = Value(1.5)
    assert type(x.grad) is np.float64 and x.grad == 0.0
    (x * x).backward()
    assert type(x.grad) is np.float64 and x.grad == 3.0


UNARY = {
    "exp": Value.exp, "sin": Value.sin, "cos": Value.cos, "tanh": Value.tanh,
    "sigmoid": Value.sigmoid, "neg": Value.__neg__, "square": lambda v: v ** 2,
    "log_of_positive": lambda v: (v * v + 1).log(),
}


@settings(max_examples=25, deadline=None, database=None)
@given(name=st.sampled_from(sorted(UNARY)),
       x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=3),
                    elements=st.floats(-2, 2)))
def test_unary_ops_match_central_differences_on_any_shape(name, x):
    assert gradcheck(lambda v: UNARY[name](v), [Value(x)])


@settings(max_examples=25, deadline=None, database=None)
@given(data=st.data(), reduce=st.sampled_from(["sum", "mean"]), keepdims=st.booleans())
def test_reductions_match_central_differences_for_any_axes(data, reduce, keepdims):
    x = data.draw(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=3),
                             elements=st.floats(-2, 2)))
    axes = data.draw(st.one_of(st.none(), st.lists(
        st.integers(-x.ndim, x.ndim - 1), min_size=1, max_size=x.ndim,
        unique_by=lambda a: a % x.ndim).map(tuple)))
    v = Value(x)
    out = getattr(v, reduce)(axis=axes, keepdims=keepdims)
    np.testing.assert_allclose(out.data, getattr(x, reduce)(axis=axes, keepdims=keepdims))
    assert gradcheck(lambda a: getattr(a, reduce)(axis=axes, keepdims=keepdims), [v])


@settings(max_examples=25, deadline=None, database=None)
@given(data=st.data())
def test_matmul_matches_central_differences_for_any_aligned_shapes(data):
    n, k, m = (data.draw(st.integers(1, 3)) for _ in range(3))
    left = data.draw(st.sampled_from([(k,), (n, k), (2, n, k)]))
    right = data.draw(st.sampled_from([(k,), (k, m), (2, k, m)]))
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    a, b = Value(rng.standard_normal(left)), Value(rng.standard_normal(right))
    assert (a @ b).shape == (a.data @ b.data).shape
    assert gradcheck(lambda p, q: p @ q, [a, b])
