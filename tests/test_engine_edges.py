"""Edge cases found in review: each pins a behaviour that was once wrong or unclear."""

from __future__ import annotations

import warnings

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


_ARRAYS = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=3),
                     elements=st.floats(-2, 2))


@settings(max_examples=25, deadline=None, database=None)
@given(data=st.data())
def test_shape_moves_match_central_differences_on_any_shape(data):
    """transpose, reshape, broadcast_to and indexing, each with arguments drawn for the shape."""
    x = data.draw(_ARRAYS)
    perm = tuple(data.draw(st.permutations(range(x.ndim))))
    new_shape = data.draw(st.sampled_from([(x.size,), (-1, 1), x.shape[::-1], (1, *x.shape)]))
    # broadcast: a new leading axis, and each axis kept or (if it is 1) stretched to 2
    target = (2, *(data.draw(st.sampled_from([n, 2])) if n == 1 else n for n in x.shape))
    index = tuple(data.draw(st.one_of(
        st.slices(n), st.integers(-n, n - 1),
        st.lists(st.integers(0, n - 1), min_size=1, max_size=4).map(np.array))) for n in x.shape)
    moves = {  # name: (the move on a Value, the same move in numpy)
        "transpose": (lambda v: v.transpose(perm), lambda a: a.transpose(perm)),
        "reshape": (lambda v: v.reshape(new_shape), lambda a: a.reshape(new_shape)),
        "broadcast_to": (lambda v: v.broadcast_to(target), lambda a: np.broadcast_to(a, target)),
        # one axis only: numpy's rules for mixing several advanced indices are another lesson
        "getitem": (lambda v: v[index[:1]], lambda a: a[index[:1]]),
    }
    for name, (move, numpy_move) in moves.items():
        expected = numpy_move(x)
        np.testing.assert_array_equal(move(Value(x)).data, expected, err_msg=name)
        if expected.size:  # an empty slice has nothing to check
            # weight each output element differently, so a gradient sent to the wrong place shows
            w = np.arange(1.0, expected.size + 1).reshape(expected.shape)
            assert gradcheck(lambda v, w=w, move=move: (move(v) * w).sum(), [Value(x)]), name


@settings(max_examples=25, deadline=None, database=None)
@given(x=_ARRAYS.filter(lambda a: np.all(np.abs(a) > 1e-3)),
       e=st.floats(-1.5, 1.5))
def test_relu_log_and_a_value_exponent_match_central_differences_on_any_shape(x, e):
    assert gradcheck(lambda v: v.relu(), [Value(x)])  # away from the kink at 0
    assert gradcheck(lambda v: (v * v).log(), [Value(x)])
    base, exponent = Value(np.abs(x) + 0.5), Value(np.full(x.shape[-1:], e))
    assert gradcheck(lambda a, b: a ** b, [base, exponent])  # both sides, broadcast


def test_a_constant_array_exponent_gives_the_base_gradient_without_warnings():
    import warnings

    a = Value([-1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ln of the negative base must not warn
        (a ** np.array([2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(a.grad, [2 * -1.0, 3 * 2.0 ** 2])  # n aⁿ⁻¹


def test_a_gradient_set_by_hand_must_have_the_values_shape():
    v = Value([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"Value.grad: got shape \(2, 3\), but this Value "
                                         r"has shape \(3,\)"):
        v.grad = np.ones((2, 3))
    v.grad = [1.0, 2.0, 3.0]
    np.testing.assert_array_equal(v.grad, [1.0, 2.0, 3.0])
    v.grad = None
    np.testing.assert_array_equal(v.grad, [0.0, 0.0, 0.0])


def test_shape_and_axis_arguments_that_are_not_whole_numbers_are_type_errors():
    x = Value(np.ones((2, 3)))
    for call, where in ((lambda: x.reshape("a"), "reshape"),
                        (lambda: x.broadcast_to(2.5, 3), "broadcast_to"),
                        (lambda: x.transpose(0, "b"), "transpose"),
                        (lambda: x.sum(axis="a"), "sum"),
                        (lambda: x.mean(axis=(0, 1.0)), "mean")):
        with pytest.raises(TypeError, match=f"Value.{where}: "):
            call()
    assert x.sum(axis=[0, 1]).item() == 6.0  # a list of axes is fine


def test_errors_about_one_shape_read_in_the_singular():
    with pytest.raises(ValueError, match=r"Value.sum: shape \(2, 3\) \(axis=5, keepdims=False\) "
                                         r"does not fit the axis"):
        Value(np.ones((2, 3))).sum(axis=5)


def test_truth_of_a_many_element_value_names_bool_and_topo_order_refuses_non_values():
    with pytest.raises(ValueError, match=r"Value.__bool__: a Value of shape \(2,\)"):
        bool(Value([1.0, 2.0]))
    assert bool(Value([[3.0]])) is True
    from tinygrad_sine import topo_order

    with pytest.raises(TypeError, match="topo_order: expected a Value"):
        topo_order(3)


@pytest.mark.parametrize("method", ["var", "std", "mean", "sum"])
@pytest.mark.parametrize("shape, axis", [((0,), ()), ((0,), None), ((3, 0), 1), ((3, 0), 0)])
def test_a_reduction_of_an_empty_value_has_an_empty_gradient(method, shape, axis):
    """Found by benchmarks/long_checks.py's numpy rules: var of an empty array over axis ()
    divided by n = 0 in its backward."""
    v = Value(np.zeros(shape))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy's own warnings for a mean of nothing
        y = getattr(v, method)(axis=axis)
        np.testing.assert_array_equal(y.data, getattr(np, method)(np.zeros(shape), axis=axis))
        (g,) = grad(y.sum(), [v])
    assert g.shape == shape and g.data.size == 0


def _reduction_ops() -> list:
    """Every op of ``ops/reductions.py``: each is a Value method of the same name."""
    from tinygrad_sine.ops import Op, reductions

    return [op for op in vars(reductions).values()
            if isinstance(op, type) and issubclass(op, Op) and op is not Op]


@pytest.mark.parametrize("op", _reduction_ops(), ids=lambda op: op.name)
@pytest.mark.parametrize("axis", [(1, 1), (1, -1), [0, -2]])
def test_every_reduction_names_a_repeated_axis(op, axis):
    """Not numpy's "does not fit the axis", which is about an axis out of range."""
    v = Value(np.ones((3, 2)))
    method = op.name  # "sum", "logsumexp", "log_softmax", ...
    twice = rf"Value\.{method}: axis .* names axis \d twice \(the Value has 2 axes\)"
    with pytest.raises(ValueError, match=twice):
        getattr(v, method)(axis=axis)
    numpys = getattr(np, method, None)  # np.max, np.var …; numpy has no np.softmax
    if numpys is not None:
        with pytest.raises(ValueError, match=twice):
            numpys(v, axis=axis)


def test_every_reduction_is_a_value_method_of_the_ops_name():
    names = sorted(op.name for op in _reduction_ops())
    assert names == ["log_softmax", "logsumexp", "max", "mean", "min", "softmax", "std", "sum",
                     "var"]
    assert all(callable(getattr(Value, name)) for name in names)
