"""`compile` on the program shapes where it once gave wrong numbers or crashed (issue 18, cases
1-11): each gives the hand-derived numbers through the numpy code and both SGD steps now."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinygrad_sine import TraceError, Value, apply, compile, ops


def _steps(fn, params, inputs, eta=0.1, on_floats=True):
    """The weights after one `.sgd(eta)` step, on floats and on numpy code (the losses too).

    The "floats" run lifts the size limit, so it is the float code unless that cannot write
    an op: ``on_floats=False`` says it cannot, and the run must have fallen back to numpy code.
    """
    start = [p.data.copy() for p in params]
    out = {}
    for kind, limit in (("floats", 10**6), ("numpy", 0)):
        for p, s in zip(params, start):
            p.data = s.copy()
        fused = compile(fn, *inputs).sgd(eta, float_limit=limit)
        with fused:
            loss, _ = fused(*inputs)
        out[kind] = (loss, [p.data.copy() for p in params], fused.source)
    for p, s in zip(params, start):
        p.data = s
    assert out["floats"][2].startswith("def make(") == on_floats  # float code writes `make`
    assert not out["numpy"][2].startswith("def make(")
    return out


class SquareBare(ops.Op):
    "y = x²;  ∂x = ∂y · 2x"

    name = "square"
    forward = staticmethod(lambda x: x * x)
    backward = staticmethod(lambda g, y, x: g * 2 * x)  # bare, as help(ops.Op) allows


# ------------------------------------------------------------------ 1-5: silent wrong numbers


def test_1_a_custom_op_returning_its_gradient_bare_is_one_gradient_not_its_first_element():
    w = Value(np.ones(3), label="w")
    step = compile(lambda x: apply(SquareBare, w * x).sum(), np.ones(3))  # uniform: 2 w x² = 2
    x = np.array([1.0, -2.0, 3.0])
    loss, (grad_w,) = step(x)
    np.testing.assert_allclose(grad_w, 2 * w.data * x**2, rtol=1e-14)  # [2, 8, 18]
    assert loss == pytest.approx(14.0)
    for loss, weights, _ in _steps(lambda x: apply(SquareBare, w * x).sum(), [w], [x]).values():
        assert loss == pytest.approx(14.0)
        np.testing.assert_allclose(weights[0], 1 - 0.1 * 2 * x**2, rtol=1e-14)


def test_2_a_number_spread_over_a_shape_on_its_own_line_keeps_the_shape():
    def fn(s):
        v = s.broadcast_to((3,))  # used twice: a line of its own
        return (v * v).sum() + v.sum()

    step = compile(fn, 0.0)  # at s = 0 a scalar and three zeros sum alike
    loss, _ = step(2.0)
    assert loss == 3 * 2.0**2 + 3 * 2.0  # 18; it was 6


def test_2_a_scalar_bias_starting_at_zero_spread_over_a_vector_after_an_update():
    w, b = Value([1.0, 2.0, 3.0], label="w"), Value(0.0, label="b")

    def fn(x):
        bb = b.broadcast_to((3,))
        u = w * x + bb
        return (u * u).sum() + bb.sum()

    x = np.array([1.0, 2.0, 3.0])
    step = compile(fn, x)
    b.data = np.float64(0.5)  # as after a first update
    loss, (grad_w, grad_b) = step(x)
    u = w.data * x + 0.5
    assert loss == pytest.approx((u * u).sum() + 1.5, rel=1e-14)
    np.testing.assert_allclose(grad_w, 2 * u * x, rtol=1e-14)
    assert grad_b == pytest.approx(2 * u.sum() + 3, rel=1e-14)
    assert "np.full((3,), b)" in step.source


def test_11_a_number_reshaped_then_multiplied_by_a_batched_matrix():
    s = Value(2.0, label="s")
    W = Value(np.arange(6.0).reshape(2, 1, 3), label="W")
    step = compile(lambda x: ((s * x).reshape(1, 1) @ W).sum(), 1.0)
    loss, (grad_s, grad_W) = step(3.0)
    assert loss == pytest.approx(2.0 * 3.0 * 15.0)
    assert grad_s == pytest.approx(3.0 * 15.0)
    np.testing.assert_allclose(grad_W, np.full((2, 1, 3), 6.0))


def test_3_a_gradient_that_is_a_view_of_a_parameter_is_copied_before_any_update():
    p = Value([[1.0, 2.0], [3.0, 4.0]], label="p")
    w = Value([[0.5, -1.0], [2.0, 1.0]], label="w")
    p0, w0 = p.data.copy(), w.data.copy()

    def fn(x):
        return (p * x).sum() + (w * p.T).sum()  # ∂p = x + wᵀ, ∂w = pᵀ

    x = np.ones((2, 2))
    _, (grad_p, grad_w) = compile(fn, x)(x)
    assert not np.shares_memory(grad_w, p.data)
    for loss, (p1, w1), _ in _steps(fn, [p, w], [x]).values():
        assert loss == pytest.approx((p0 * x).sum() + (w0 * p0.T).sum())
        np.testing.assert_allclose(p1, p0 - 0.1 * (x + w0.T), rtol=1e-14)
        np.testing.assert_allclose(w1, w0 - 0.1 * p0.T, rtol=1e-14)  # p before its update


def test_4_a_negative_base_to_a_fractional_power_gives_nan_on_floats_as_in_numpy():
    w = Value([1.0, 1.0], label="w")
    fused = compile(lambda x: ((w * x) ** 0.5).sum(), np.ones(2)).sgd(0.1)
    fused(np.ones(2))  # w = 1 − 0.1 · ½ = 0.95
    assert fused.source.startswith("def make(") and "power(" in fused.source
    with np.errstate(invalid="ignore"):
        loss, _ = fused(np.array([1.0, -1.0]))
    fused.write_back()
    assert type(loss) is float and math.isnan(loss)  # numpy's nan, not a complex number
    assert w.data.dtype == np.float64
    assert w.data[0] == pytest.approx(0.95 - 0.1 * 0.5 / math.sqrt(0.95), rel=1e-14)
    assert math.isnan(w.data[1])


def test_5_data_assigned_between_float_steps_is_used_and_not_overwritten():
    w, other = Value([1.0, 2.0], label="w"), Value(3.0)
    fused = compile(lambda x: ((w * x) ** 2).sum(), np.ones(2)).sgd(0.1)
    fused(np.ones(2))  # on floats: w = [0.8, 1.6] inside the step
    other.data = np.float64(4.0)  # an unrelated assignment changes nothing
    loss, _ = fused(np.ones(2))
    assert loss == pytest.approx(0.8**2 + 1.6**2)
    w.data = np.array([10.0, 10.0])  # a reset, or a loaded checkpoint
    loss, _ = fused(np.ones(2))
    assert loss == pytest.approx(200.0)
    fused.write_back()
    np.testing.assert_allclose(w.data, [8.0, 8.0])  # 10 − 0.1 · 2 · 10
    fused(np.ones(2))
    w.data = np.array([1.0, 1.0])  # assigned after a step: write_back keeps it
    fused.write_back()
    np.testing.assert_array_equal(w.data, [1.0, 1.0])


def test_5_an_assignment_to_one_parameter_keeps_the_trained_floats_of_the_others():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    fused = compile(lambda x: (a * x + b) ** 2, 1.0).sgd(0.1)
    fused(1.0)  # ∂a = ∂b = 2 (a + b) = 6: a = 0.4, b = 1.4, held as floats
    a.data = np.float64(0.0)
    loss, _ = fused(1.0)
    assert loss == pytest.approx(1.4**2)
    fused.write_back()
    assert a.data == pytest.approx(0.0 - 0.1 * 2 * 1.4) and b.data == pytest.approx(1.4 - 0.28)


# ------------------------------------------------------------------ 6-11: crashes


@pytest.mark.parametrize("base", [3.0, 2.0])
def test_6_a_number_raised_to_a_value(base):
    w = Value([0.5, 1.0], label="w")

    def fn(x):
        return (base ** (w * x)).sum()

    x = np.array([2.0, -1.0])
    loss, (grad_w,) = compile(fn, np.ones(2))(x)
    assert loss == pytest.approx((base ** (w.data * x)).sum(), rel=1e-14)
    np.testing.assert_allclose(grad_w, math.log(base) * base ** (w.data * x) * x, rtol=1e-14)
    # a Value exponent: its backward combines comparisons with `&`, which the float code
    # cannot write, so numpy code
    for _, (w1,), _ in _steps(fn, [w], [x], on_floats=False).values():
        np.testing.assert_allclose(w1, w.data - 0.1 * grad_w, rtol=1e-14)


def test_7_sgd_of_a_function_that_does_not_use_one_of_its_inputs():
    w = Value([0.5, 1.0], label="w")
    fn = lambda x, t: (w * x).sum()  # noqa: E731  (t unused)
    x, t = np.array([2.0, 3.0]), np.zeros(2)
    for loss, (w1,), _ in _steps(fn, [w], [x, t]).values():
        assert loss == pytest.approx(4.0)
        np.testing.assert_allclose(w1, w.data - 0.1 * x)


def test_8_a_chain_of_hundreds_of_affine_nodes_is_written_over_several_lines():
    w, a, c, n = Value(1.0, label="w"), 1.0001, 0.001, 400

    def fn(x):
        v = w * x
        for _ in range(n):
            v = v * a + c
        return v

    step = compile(fn, 1.0)
    loss, (grad_w,) = step(2.0)
    assert loss == pytest.approx(a**n * 2.0 + c * (a**n - 1) / (a - 1), rel=1e-12)
    assert grad_w == pytest.approx(a**n * 2.0, rel=1e-12)
    lines = step.source.splitlines()
    assert len(lines) > 20 and max(map(len, lines)) <= 120
    for _, (w1,), _ in _steps(fn, [w], [2.0]).values():
        assert w1 == pytest.approx(1.0 - 0.1 * a**n * 2.0, rel=1e-12)


def test_8_a_sum_of_three_thousand_terms():
    w = Value(np.linspace(-1.0, 1.0, 3000), label="w")

    def fn(x):
        v = w[0] * x
        for k in range(1, 3000):
            v = v + w[k] * x
        return v

    loss, (grad_w,) = compile(fn, 1.0)(2.0)
    assert loss == pytest.approx(2.0 * w.data.sum(), abs=1e-9)
    np.testing.assert_array_equal(grad_w, np.full(3000, 2.0))


def test_9_sgd_of_a_loss_with_no_parameters_gives_the_loss_and_changes_nothing():
    for loss, weights, _ in _steps(lambda x: (x * x).sum(), [], [np.array([1.0, 2.0])]).values():
        assert loss == 5.0 and weights == []


class StraightThrough(ops.Op):
    "y = round(x);  ∂x = 1   (a straight-through estimator: the gradient ignores ∂y)"

    name = "round_ste"
    forward = staticmethod(lambda x: np.round(x))
    backward = staticmethod(lambda g, y, x: (np.ones(x.shape),))


class ScaleFirst(ops.Op):
    "y = a · b;  ∂a = ∂y · b,  ∂b: none (a fixed table)"

    name = "scale_first"
    forward = staticmethod(lambda a, b: a * b)
    backward = staticmethod(lambda g, y, a, b: (g * b, None))


def test_10_a_custom_op_whose_gradient_ignores_g_is_a_constant_of_the_code():
    w = Value([0.4, 1.7], label="w")

    def fn(x):
        return (apply(StraightThrough, w * x) * 3.0).sum()  # ∂w = 1 · x (not 3x)

    x = np.array([2.0, -1.0])
    loss, (grad_w,) = compile(fn, np.ones(2))(x)
    assert loss == 3.0 * (np.round(0.8) + np.round(-1.7))
    np.testing.assert_array_equal(grad_w, x)
    # np.round cannot run on the float code's symbols: numpy code
    for _, (w1,), _ in _steps(fn, [w], [x], on_floats=False).values():
        np.testing.assert_allclose(w1, w.data - 0.1 * x, rtol=1e-14)


def test_10_none_for_one_input_is_no_gradient_on_every_path():
    w, table = Value([0.5, 1.7], label="w"), Value([2.0, 3.0], label="table")

    def fn(x):
        return apply(ScaleFirst, w * x, table).sum()

    x = np.array([1.0, 2.0])
    _, (grad_w, grad_table) = compile(fn, x)(x)
    np.testing.assert_array_equal(grad_w, table.data * x)
    np.testing.assert_array_equal(grad_table, [0.0, 0.0])
    for _, (w1, t1), _ in _steps(fn, [w, table], [x]).values():
        np.testing.assert_allclose(w1, w.data - 0.1 * table.data * x, rtol=1e-14)
        np.testing.assert_array_equal(t1, table.data)


class NumbersOnly(ops.Op):
    "y = x²;  ∂x = ∂y · 2x   (its backward reaches for numpy's nan_to_num: called, not written)"

    name = "numbers only"
    forward = staticmethod(lambda x: x * x)
    backward = staticmethod(lambda g, y, x: np.nan_to_num(g * 2 * x))  # bare


class NumbersOnlyPair(ops.Op):
    "y = a · b;  ∂a = ∂y · b"

    name = "numbers only"  # the same name as another op: each keeps its own function
    forward = staticmethod(lambda a, b: np.nan_to_num(a * b))
    backward = staticmethod(lambda g, y, a, b: (np.nan_to_num(g * b), None))


def test_ops_that_symbols_cannot_write_are_called_with_bare_and_none_gradients():
    w, v = Value([0.5, -1.5], label="w"), Value([2.0, 3.0], label="v")

    def fn(x):
        return (apply(NumbersOnly, w * x) + apply(NumbersOnlyPair, w, v)).sum()

    x = np.array([1.0, -2.0])
    step = compile(fn, np.ones(2))
    _, (grad_w, grad_v) = step(x)
    np.testing.assert_allclose(grad_w, 2 * w.data * x**2 + v.data, rtol=1e-14)
    np.testing.assert_array_equal(grad_v, [0.0, 0.0])
    assert "_backward_numbers_only(" in step.source and "_backward_numbers_only2(" in step.source


class TypeDependent(ops.Op):
    "y = 2x;  ∂x = 2 ∂y   (but 3 ∂y when not handed a numpy array: a user's mistake)"

    name = "twice"
    forward = staticmethod(lambda x: 2 * x)
    backward = staticmethod(lambda g, y, x: (g * (2.0 if isinstance(x, np.ndarray) else 3.0),))


def test_an_op_that_does_something_else_on_symbols_is_called_instead_giving_eagers_numbers():
    w = Value([1.0, 2.0], label="w")
    fn = lambda x: apply(TypeDependent, w * x).sum()  # noqa: E731
    step = compile(fn, np.array([1.0, 2.0]))
    assert "_backward_twice(" in step.source  # the self-check saw 3, called the op: 2
    x = np.array([3.0, -1.0])
    _, (grad_w,) = step(x)
    np.testing.assert_array_equal(grad_w, 2 * x)
    for _, (w1,), _ in _steps(fn, [w], [x]).values():
        np.testing.assert_allclose(w1, w.data - 0.1 * 2 * x, rtol=1e-14)


class Counting(ops.Op):
    "y = x · c, with c counting the calls;  ∂x = ∂y · c   (not a function of its arguments)"

    name = "counting"
    calls = [0]

    @staticmethod
    def forward(x):
        Counting.calls[0] += 1
        return x * Counting.calls[0]

    @staticmethod
    def backward(g, y, x):
        return (g * Counting.calls[0],)


def test_the_self_check_names_the_users_op_when_even_calling_it_gives_other_numbers():
    w = Value([1.0, 2.0], label="w")
    with pytest.raises(TraceError, match=r"your op Counting \('counting'\) called as") as err:
        compile(lambda x: apply(Counting, w * x).sum(), np.array([1.0, 2.0]))
    assert "random numbers, a counter" in str(err.value)


def test_2_a_spread_number_used_twice_by_an_ops_formula_keeps_its_shape():
    def fn(s):  # SquareBare's forward is x * x: its input gets a line of its own
        return apply(SquareBare, s.broadcast_to((2, 3))).sum()

    step = compile(fn, 1.0)
    assert step(2.0)[0] == 6 * 2.0**2


class ForgotReturn(ops.Op):
    "y = 2x;  ∂x = 2 ∂y   (but its backward forgets to return)"

    name = "forgot"
    forward = staticmethod(lambda x: 2 * x)
    backward = staticmethod(lambda g, y, x: None)


class OneTooMany(ops.Op):
    "y = 2x;  ∂x = 2 ∂y   (but its backward returns two gradients for one input)"

    name = "one_too_many"
    forward = staticmethod(lambda x: 2 * x)
    backward = staticmethod(lambda g, y, x: (2 * g, g))


@pytest.mark.parametrize(
    "op, error, match",
    [
        (
            ForgotReturn,
            TypeError,
            r"ForgotReturn.backward returned NoneType \(a missing return\?\)",
        ),
        (OneTooMany, ValueError, r"OneTooMany.backward returned 2 gradient\(s\) for 1 input"),
    ],
)
def test_10_a_malformed_backward_is_refused_by_the_engines_own_error_naming_the_op(
    op, error, match
):
    w = Value([1.0, 2.0], label="w")
    with pytest.raises(error, match=match):
        compile(lambda x: apply(op, w * x).sum(), np.ones(2))
