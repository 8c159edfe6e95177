"""The traversal: backward, accumulation, grad() and higher order, no_grad, deep graphs, freeing.

Expected values are derived by hand (written next to each test) or computed
independently with numpy / central differences.
"""

from __future__ import annotations

import gc
import math
import tracemalloc
import weakref

import numpy as np
import pytest

from tinygrad_sine import Value, enable_grad, grad, gradcheck, no_grad, topo_order
from tinygrad_sine.autograd import is_grad_enabled


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# ================================================================== exact values by hand


def test_gradient_of_a_times_b_plus_b():
    # f = a·b + b;  ∂f/∂a = b,  ∂f/∂b = a + 1
    a, b = Value(3.0), Value(-2.0)
    f = a * b + b
    f.backward()
    assert a.grad == pytest.approx(-2.0)
    assert b.grad == pytest.approx(4.0)
    assert f.grad == 1.0


def test_gradient_of_a_plus_a_is_two():
    a = Value(1.7)
    (a + a).backward()
    assert a.grad == 2.0


def test_gradient_of_array_a_plus_a_is_two_everywhere():
    a = Value([1.0, -4.0, 0.5])
    (a + a).sum().backward()
    np.testing.assert_array_equal(a.grad, [2.0, 2.0, 2.0])


def test_gradient_of_a_times_a_is_two_a():
    data = np.array([-1.5, 0.0, 2.0, 3.25])
    a = Value(data)
    (a * a).sum().backward()
    np.testing.assert_allclose(a.grad, 2 * data)


def test_diamond_graph_gradient_matches_analytic_derivative():
    # b = 2a; c = b + 1; d = 3b; e = c·d = (2a + 1)(6a) = 12a² + 6a
    # ∂e/∂a = 24a + 6;  ∂e/∂c = d = 6a;  ∂e/∂d = c = 2a + 1;  ∂e/∂b = d + 3c
    a_val = 1.5
    a = Value(a_val)
    b = a * 2
    c = b + 1
    d = b * 3
    e = c * d
    e.backward()
    assert e.item() == pytest.approx(12 * a_val**2 + 6 * a_val)
    assert a.grad == pytest.approx(24 * a_val + 6)
    assert c.grad == pytest.approx(6 * a_val)
    assert d.grad == pytest.approx(2 * a_val + 1)
    assert b.grad == pytest.approx(6 * a_val + 3 * (2 * a_val + 1))


def test_non_leaf_node_used_twice_gets_both_contributions():
    # h = a·b; out = h² + h;  ∂out/∂h = 2h + 1;  ∂out/∂a = (2ab + 1)·b;  ∂out/∂b = (2ab + 1)·a
    a, b = Value(2.0), Value(3.0)
    h = a * b
    out = h * h + h
    out.backward()
    assert h.grad == pytest.approx(13.0)
    assert a.grad == pytest.approx(39.0)
    assert b.grad == pytest.approx(26.0)


def test_non_leaf_used_twice_with_arrays_matches_analytic():
    rng = np.random.default_rng(11)
    a_data, b_data = rng.normal(size=(3,)), rng.normal(size=(3,))
    a, b = Value(a_data), Value(b_data)
    h = a * b
    (h * h + h).sum().backward()
    np.testing.assert_allclose(a.grad, (2 * a_data * b_data + 1) * b_data)
    np.testing.assert_allclose(b.grad, (2 * a_data * b_data + 1) * a_data)


def test_backward_twice_doubles_every_gradient():
    a, b = Value(2.0), Value(3.0)
    h = a * b
    out = h * h + h
    out.backward()
    out.backward()
    assert a.grad == pytest.approx(2 * 39.0)
    assert b.grad == pytest.approx(2 * 26.0)
    assert h.grad == pytest.approx(2 * 13.0)
    assert out.grad == pytest.approx(2.0)


def test_zero_grad_resets_only_that_node():
    a, b = Value(2.0), Value(3.0)
    out = a * b
    out.backward()
    a.zero_grad()
    assert a.grad == 0.0
    assert b.grad == pytest.approx(2.0)
    out.backward()  # starts afresh for a, accumulates for b
    assert a.grad == pytest.approx(3.0)
    assert b.grad == pytest.approx(4.0)


def test_intermediate_nodes_have_gradients_after_backward():
    # y = sin(x)·2;  u = sin(x):  ∂y/∂u = 2;  ∂y/∂x = 2 cos x
    x = Value(0.3)
    u = x.sin()
    y = u * 2
    y.backward()
    assert u.grad == pytest.approx(2.0)
    assert x.grad == pytest.approx(2 * math.cos(0.3))


def test_grad_is_zeros_of_data_shape_before_backward():
    for data in (1.5, [1.0, 2.0], np.ones((2, 3, 4))):
        v = Value(data)
        assert v.grad.shape == v.data.shape
        assert np.all(v.grad == 0)
        w = v * 2
        assert w.grad.shape == w.shape
        assert np.all(w.grad == 0)


def test_backward_with_explicit_grad_for_non_scalar_output():
    # y = x²  →  ∂(g·y)/∂x = 2x·g
    x_data = np.array([1.0, -2.0, 0.5])
    g = np.array([1.0, 2.0, 3.0])
    x = Value(x_data)
    (x * x).backward(grad=g)
    np.testing.assert_allclose(x.grad, 2 * x_data * g)


def test_backward_accepts_a_value_as_grad():
    x = Value([1.0, 2.0])
    (x * 3).backward(grad=Value([1.0, -1.0]))
    np.testing.assert_array_equal(x.grad, [3.0, -3.0])


def test_backward_on_a_leaf_sets_its_grad_to_one():
    x = Value(4.0)
    x.backward()
    assert x.grad == 1.0


def test_grad_setter_accepts_arrays_and_none():
    x = Value([1.0, 2.0])
    x.grad = [3, 4]
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])
    x.grad = None
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


def test_grad_arrays_of_different_nodes_are_independent():
    # Add.backward returns the *same* array object for both parents; backward()
    # must still give each node its own .grad, or an in-place update of one
    # gradient (clipping, scaling, `a.grad += ...`) would change the other.
    a, b = Value([1.0, 2.0]), Value([3.0, 4.0])
    (a + b).sum().backward()
    a.grad += 1.0
    np.testing.assert_array_equal(a.grad, [2.0, 2.0])
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


def test_backward_does_not_keep_the_callers_grad_array():
    # Ops such as Identity/Add/Reshape pass the seed on as is, so without a copy
    # x.grad would be (or view) the caller's array.
    seed = np.array([1.0, 2.0])
    x = Value([5.0, 6.0])
    x.identity().backward(grad=seed)
    seed[0] = 100.0
    np.testing.assert_array_equal(x.grad, [1.0, 2.0])


@pytest.mark.parametrize(
    "make",
    [lambda x: x.sum(), lambda x: x.mean(), lambda x: x.broadcast_to((2, 3)).sum(),
     lambda x: x[[0, 0]].sum()],
    ids=["sum", "mean", "broadcast_to", "getitem"],
)
def test_grad_arrays_are_writable_after_backward(make):
    # Regression: Sum/Mean backward used to hand back np.broadcast_to views,
    # which became read-only .grad arrays (`x.grad *= 0.5` raised).
    x = Value([1.0, 2.0, 3.0])
    make(x).backward()
    before = x.grad.copy()
    x.grad *= 0.5
    np.testing.assert_array_equal(x.grad, before * 0.5)


# ================================================================== errors of the traversal


def test_backward_on_non_scalar_without_grad_raises_value_error_mentioning_grad():
    y = Value([1.0, 2.0]) * 2
    with pytest.raises(ValueError, match=r"shape \(2,\), not a single number.*pass grad="):
        y.backward()


def test_a_one_element_output_of_any_shape_is_seeded_with_one():
    x = Value([[2.0]])
    y = x * 3
    y.backward()  # shape (1, 1): one element, so no grad= is needed
    np.testing.assert_array_equal(y.grad, [[1.0]])
    np.testing.assert_array_equal(x.grad, [[3.0]])


def test_a_non_numeric_seed_gradient_is_a_type_error_naming_backward():
    y = Value(np.ones((2, 3))) * 2
    for bad in ("abc", object()):
        with pytest.raises(TypeError, match=r"Value.backward: grad must be numbers of the "
                                            r"output's shape \(2, 3\)"):
            y.backward(grad=bad)


def test_backward_with_wrong_shaped_grad_raises_value_error():
    y = Value(np.ones((2, 3))) * 2
    with pytest.raises(ValueError, match=r"\(3, 2\)"):
        y.backward(grad=np.ones((3, 2)))
    with pytest.raises(ValueError):
        y.backward(grad=np.ones(6))


def test_grad_function_on_non_scalar_without_grad_output_raises():
    x = Value([1.0, 2.0])
    with pytest.raises(ValueError, match=r"grad: the output has shape \(2,\).*pass grad="):
        grad(x * 2, [x])


def test_failed_backward_leaves_grads_untouched():
    x = Value([1.0, 2.0])
    y = x * 2
    with pytest.raises(ValueError):
        y.backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


# ================================================================== deep graphs and topo_order


def test_deep_chain_of_100000_multiplications_backward_without_recursion_error():
    factor = 1.0000001
    n = 100_000
    x = Value(1.0)
    v = x
    for _ in range(n):
        v = v * factor
    v.backward()
    # d/dx (x·f^n) = f^n
    assert x.grad == pytest.approx(factor**n, rel=1e-9)
    assert v.item() == pytest.approx(factor**n, rel=1e-9)


def test_deep_chain_of_100000_additions_grad_and_topo_order():
    n = 100_000
    x = Value(0.0)
    v = x
    for _ in range(n):
        v = v + 1
    (dx,) = grad(v, [x])
    assert dx.item() == 1.0
    assert v.item() == float(n)
    order = topo_order(v)
    assert order[0] is x
    assert order[-1] is v
    assert len(order) == 2 * n + 1  # x, n constants, n sums


def _diamond():
    a = Value(1.5, label="a")
    b = a * 2
    c = b + 1
    d = b * 3
    e = c * d
    return a, b, c, d, e


def test_topo_order_of_diamond_has_each_node_once_parents_before_children():
    a, b, c, d, e = _diamond()
    order = topo_order(e)
    ids = [id(n) for n in order]
    assert len(ids) == len(set(ids))
    assert order[0] is a
    assert order[-1] is e
    # every node of the graph: a, b, c, d, e and the three constants 2, 1, 3
    assert len(order) == 8
    for node in (a, b, c, d, e):
        assert id(node) in ids
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for parent in node.parents:
            assert position[id(parent)] < position[id(node)]
    leaves = [n for n in order if not n.parents]
    assert sorted(float(n.item()) for n in leaves) == [1.0, 1.5, 2.0, 3.0]


def test_topo_order_of_a_leaf_is_just_the_leaf():
    x = Value(1.0)
    assert topo_order(x) == [x]


def test_topo_order_visits_parents_in_argument_order():
    p, q = Value(1.0), Value(2.0)
    order = topo_order(p * q)
    assert order[0] is p and order[1] is q
    order = topo_order(q * p)
    assert order[0] is q and order[1] is p


# ================================================================== no_grad / enable_grad


def test_results_inside_no_grad_have_no_parents_and_empty_op():
    a = Value([1.0, 2.0])
    with no_grad():
        b = (a * 2).sin()
        c = b.sum()
    assert b.parents == () and b.op == ""
    assert c.parents == () and c.op == ""
    np.testing.assert_allclose(b.data, np.sin(np.array([1.0, 2.0]) * 2))


def test_no_grad_restores_recording_after_the_block():
    a = Value(1.0)
    with no_grad():
        pass
    b = a * 2
    assert b.op == "mul" and b.parents[0] is a


def test_nested_no_grad_restores_state_at_each_level():
    a = Value(1.0)
    with no_grad():
        with no_grad():
            assert (a + 1).op == ""
        assert (a + 1).op == ""
    assert (a + 1).op == "add"


def test_enable_grad_inside_no_grad_records_again():
    a = Value(1.0)
    with no_grad():
        with enable_grad():
            b = a * 3
            assert b.op == "mul" and b.parents[0] is a
        c = a * 3
        assert c.op == ""
    b.backward()
    assert a.grad == 3.0


def test_no_grad_restores_state_when_an_exception_escapes():
    a = Value(1.0)
    with pytest.raises(RuntimeError):
        with no_grad():
            raise RuntimeError("boom")
    assert (a * 2).op == "mul"
    assert is_grad_enabled() is True


def test_backward_through_graph_built_partly_in_no_grad_treats_it_as_constant():
    # y = x·detached(x²)  →  ∂y/∂x = x² (the no_grad part is a constant)
    x = Value(3.0)
    with no_grad():
        k = x * x
    (x * k).backward()
    assert x.grad == pytest.approx(9.0)


# ================================================================== grad() and higher order


@pytest.mark.parametrize("x0", [-1.5, 0.3, 2.0])
def test_second_derivative_of_x_cubed_is_six_x(x0):
    x = Value(x0)
    (dx,) = grad(x**3, [x], create_graph=True)
    assert dx.item() == pytest.approx(3 * x0**2)
    (ddx,) = grad(dx, [x])
    assert ddx.item() == pytest.approx(6 * x0)


def test_second_derivative_of_x_cubed_elementwise_for_arrays():
    data = np.array([-2.0, -0.5, 0.25, 1.0, 3.0])
    x = Value(data)
    (g,) = grad((x**3).sum(), [x], create_graph=True)
    np.testing.assert_allclose(g.data, 3 * data**2)
    (h,) = grad(g.sum(), [x])  # the Hessian is diagonal: 6x
    np.testing.assert_allclose(h.data, 6 * data)


@pytest.mark.parametrize("x0", [-3.0, -0.7, 0.0, 0.4, 2.5])
def test_second_derivative_of_sigmoid(x0):
    s = _sigmoid(x0)
    x = Value(x0)
    (d1,) = grad(x.sigmoid(), [x], create_graph=True)
    assert d1.item() == pytest.approx(s * (1 - s), rel=1e-12)
    (d2,) = grad(d1, [x])
    assert d2.item() == pytest.approx(s * (1 - s) * (1 - 2 * s), rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("x0", [-2.0, -0.3, 0.0, 0.8, 1.7])
def test_second_derivative_of_tanh(x0):
    t = np.tanh(x0)
    x = Value(x0)
    (d1,) = grad(x.tanh(), [x], create_graph=True)
    assert d1.item() == pytest.approx(1 - t * t, rel=1e-12)
    (d2,) = grad(d1, [x])
    assert d2.item() == pytest.approx(-2 * t * (1 - t * t), rel=1e-9, abs=1e-15)


def test_third_derivative_of_sin_is_minus_cos():
    x0 = 0.7
    x = Value(x0)
    (d1,) = grad(x.sin(), [x], create_graph=True)
    (d2,) = grad(d1, [x], create_graph=True)
    (d3,) = grad(d2, [x])
    assert d1.item() == pytest.approx(math.cos(x0))
    assert d2.item() == pytest.approx(-math.sin(x0))
    assert d3.item() == pytest.approx(-math.cos(x0))


def test_second_derivative_of_a_power_by_its_exponent_through_np_log():
    # y = aᵇ;  ∂y/∂b = aᵇ ln a;  ∂²y/∂b² = aᵇ (ln a)²  (Pow's backward calls np.log on a Value)
    a, b = Value(2.0), Value(1.5)
    (db,) = grad(a ** b, [b], create_graph=True)
    (dbb,) = grad(db, [b])
    assert db.item() == pytest.approx(2.0 ** 1.5 * math.log(2.0), rel=1e-12)
    assert dbb.item() == pytest.approx(2.0 ** 1.5 * math.log(2.0) ** 2, rel=1e-12)


def test_hessian_vector_product_of_sum_sin_x_times_x():
    # f = Σ sin(x_i)·x_i;  ∂f/∂x_i = cos x_i·x_i + sin x_i;  H = diag(2 cos x_i − x_i sin x_i)
    rng = np.random.default_rng(3)
    x_data, v = rng.normal(size=5), rng.normal(size=5)
    x = Value(x_data)
    f = (x.sin() * x).sum()
    (g,) = grad(f, [x], create_graph=True)
    np.testing.assert_allclose(g.data, np.cos(x_data) * x_data + np.sin(x_data))
    (hv,) = grad(g, [x], grad_output=v)
    expected = (2 * np.cos(x_data) - x_data * np.sin(x_data)) * v
    np.testing.assert_allclose(hv.data, expected, rtol=1e-10)
    (hv2,) = grad((g * v).sum(), [x])
    np.testing.assert_allclose(hv2.data, expected, rtol=1e-10)


def test_hessian_vector_product_with_off_diagonal_terms():
    # f = (Σ x_i²)(Σ x_j);  ∂f/∂x_k = 2 x_k S1 + S2;  H_kl = 2 δ_kl S1 + 2 x_k + 2 x_l
    rng = np.random.default_rng(4)
    x_data, v = rng.normal(size=4), rng.normal(size=4)
    x = Value(x_data)
    f = (x**2).sum() * x.sum()
    (g,) = grad(f, [x], create_graph=True)
    s1, s2 = x_data.sum(), (x_data**2).sum()
    np.testing.assert_allclose(g.data, 2 * x_data * s1 + s2)
    hessian = 2 * s1 * np.eye(4) + 2 * x_data[:, None] + 2 * x_data[None, :]
    (hv,) = grad(g, [x], grad_output=Value(v))
    np.testing.assert_allclose(hv.data, hessian @ v, rtol=1e-10)


def test_second_derivative_through_matmul_and_sum_matches_central_differences():
    # f = Σ (x @ W)²;  ∂f/∂W = 2 xᵀ (x W).  Differentiate that again w.r.t. x and W
    # and compare with central differences of the first derivative.
    rng = np.random.default_rng(5)
    x = Value(rng.normal(size=(2, 3)))
    w = Value(rng.normal(size=(3, 4)))

    def first_derivative(x, w):
        with enable_grad():  # gradcheck evaluates fn inside no_grad
            (gw,) = grad(((x @ w) ** 2).sum(), [w], create_graph=True)
        return gw

    np.testing.assert_allclose(first_derivative(x, w).data, 2 * x.data.T @ (x.data @ w.data))
    assert gradcheck(first_derivative, [x, w])

    # and by hand: central differences of ⟨∂f/∂W, V⟩ w.r.t. x
    v = rng.normal(size=(3, 4))
    (gw,) = grad(((x @ w) ** 2).sum(), [w], create_graph=True)
    (hx,) = grad((gw * v).sum(), [x])
    eps = 1e-6
    numeric = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape):
        plus, minus = x.data.copy(), x.data.copy()
        plus[idx] += eps
        minus[idx] -= eps
        fp = np.sum(2 * plus.T @ (plus @ w.data) * v)
        fm = np.sum(2 * minus.T @ (minus @ w.data) * v)
        numeric[idx] = (fp - fm) / (2 * eps)
    np.testing.assert_allclose(hx.data, numeric, rtol=1e-6, atol=1e-8)


SECOND_ORDER = {
    "mul/div": ((3,), lambda x: (x * x / (x * x + 1)).sum()),
    "pow": ((3,), lambda x: (x**3 + x**-1).sum()),
    "pow value": ((3,), lambda x: (x ** (x * 0.5)).sum()),
    "rpow": ((3,), lambda x: (2**x).sum()),
    "exp/log": ((3,), lambda x: (x.exp() + (x * x).log()).sum()),
    "sin/cos": ((3,), lambda x: (x.sin() * x.cos()).sum()),
    "tanh/sigmoid": ((3,), lambda x: (x.tanh() * x.sigmoid()).sum()),
    "relu": ((3,), lambda x: (x.relu() * x).sum()),
    "neg/sub/identity": ((3,), lambda x: (-(x * x) - x.identity() ** 3).sum()),
    "matmul 2-D": ((2, 3), lambda x: ((x @ x.T) ** 2).sum()),
    "matmul 1-D@2-D": ((3, 3), lambda x: ((x[0] @ x) ** 2).sum()),
    "matmul 2-D@1-D": ((3, 3), lambda x: ((x @ x[:, 1]) ** 2).sum()),
    "matmul 1-D@1-D": ((3,), lambda x: (x @ (x * x)) ** 2),
    "matmul batched": ((2, 2, 2), lambda x: ((x @ x[0]) ** 2).sum()),
    "sum axis keepdims": ((2, 3), lambda x: (x.sum(axis=1, keepdims=True) ** 2 * x).sum()),
    "mean axis": ((2, 3), lambda x: (x.mean(axis=0) ** 3).sum()),
    "reshape/transpose": ((2, 3), lambda x: ((x.reshape(3, 2).T * x) ** 2).sum()),
    "broadcast_to": ((3,), lambda x: (x.broadcast_to((2, 3)) ** 2 * x).sum()),
    "getitem repeated": ((4,), lambda x: (x[[0, 0, 2]] ** 3).sum() * x[1]),
    "getitem slice": ((2, 3), lambda x: (x[:, 1:] * x[:, :2]).sum() ** 2),
}


@pytest.mark.parametrize("name", list(SECOND_ORDER))
def test_hessian_of_each_op_matches_central_differences_of_the_gradient(name):
    shape, f = SECOND_ORDER[name]
    rng = np.random.default_rng(sorted(SECOND_ORDER).index(name))
    x = Value(rng.uniform(0.3, 1.5, size=shape) * np.where(rng.random(shape) < 0.5, 1, -1))
    if name in ("pow value", "exp/log"):
        x = Value(np.abs(x.data))

    def gradient(v):
        with enable_grad():
            (g,) = grad(f(v), [v], create_graph=True)
        return g

    assert gradcheck(gradient, [x])


def test_grad_does_not_touch_dot_grad():
    a, b = Value(2.0), Value(3.0)
    out = a * b
    grad(out, [a, b])
    grad(out, [a, b], create_graph=True)
    assert a.grad == 0.0 and b.grad == 0.0 and out.grad == 0.0
    out.backward()
    grad(out, [a, b])
    grad(out, [a], create_graph=True)
    assert a.grad == 3.0 and b.grad == 2.0


def test_grad_returns_values_with_input_shapes():
    x, w = Value(np.ones((2, 3))), Value(np.ones((3,)))
    gx, gw = grad((x * w).sum(), [x, w])
    assert isinstance(gx, Value) and isinstance(gw, Value)
    assert gx.shape == (2, 3) and gw.shape == (3,)
    np.testing.assert_array_equal(gw.data, [2.0, 2.0, 2.0])


def test_grad_of_a_single_input_value_returns_a_list():
    x = Value(2.0)
    result = grad(x * x, x)
    assert isinstance(result, list) and len(result) == 1
    assert result[0].item() == 4.0


@pytest.mark.parametrize("create_graph", [False, True])
def test_grad_of_an_unused_input_is_zeros_of_its_shape(create_graph):
    x, unused = Value(2.0), Value(np.ones((2, 3)))
    gx, gu = grad(x * x, [x, unused], create_graph=create_graph)
    assert gx.item() == 4.0
    assert isinstance(gu, Value)
    assert gu.shape == (2, 3)
    np.testing.assert_array_equal(gu.data, np.zeros((2, 3)))


def test_grad_with_respect_to_an_intermediate_node():
    # y = h²  with h = 3x  →  ∂y/∂h = 2h
    x = Value(1.5)
    h = x * 3
    (gh,) = grad(h * h, [h])
    assert gh.item() == pytest.approx(9.0)


def test_grad_without_create_graph_returns_leaves_and_with_it_graph_nodes():
    x = Value(0.5)
    (g_plain,) = grad(x.sin(), [x])
    assert g_plain.parents == () and g_plain.op == ""
    (g_graph,) = grad(x.sin(), [x], create_graph=True)
    assert g_graph.op != ""
    assert g_graph.item() == pytest.approx(math.cos(0.5))


def test_create_graph_works_inside_no_grad():
    x = Value(2.0)
    y = x**3
    with no_grad():
        (dx,) = grad(y, [x], create_graph=True)
    (ddx,) = grad(dx, [x])
    assert ddx.item() == pytest.approx(12.0)


# ================================================================== freeing memory


def test_graph_is_freed_by_reference_counting_when_the_root_is_dropped():
    assert "__weakref__" in Value.__slots__ or hasattr(Value(1.0), "__weakref__")
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        x = Value([0.5, -1.0, 2.0])
        mid = x * 3  # interior node; its parent 3 is a leaf created inside
        const_ref = weakref.ref(mid.parents[1])
        mid_ref = weakref.ref(mid)
        root = (mid.tanh() + mid.sigmoid() * mid).sum()
        del mid
        root.backward()
        assert mid_ref() is not None and const_ref() is not None  # kept alive by root
        del root
        assert mid_ref() is None, "interior node survived its root: a reference cycle?"
        assert const_ref() is None, "constant leaf survived its root: a reference cycle?"
        assert x.grad.shape == (3,)  # the caller's leaf is still alive
    finally:
        if gc_was_enabled:
            gc.enable()


def test_create_graph_gradients_free_the_graph_when_dropped():
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        x = Value([0.5, 1.0])
        s = x.sin()  # Mul's backward uses s, so g's graph refers to it
        y = (s * x).sum()
        node_ref = weakref.ref(s)
        del s
        (g,) = grad(y, [x], create_graph=True)
        g_ref = weakref.ref(g)
        (h,) = grad(g.sum(), [x])
        del y
        assert node_ref() is not None  # still reachable from g's graph
        del g
        assert g_ref() is None
        assert node_ref() is None
        assert h.shape == (2,)
    finally:
        if gc_was_enabled:
            gc.enable()


def test_deep_chain_is_freed_without_crashing():
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        x = Value(1.0)
        v = x + 1
        first_ref = weakref.ref(v)
        for _ in range(100_000):
            v = v * 1.0
        del v  # a 100k-deep chain of parents: must not blow the C stack
        assert first_ref() is None
    finally:
        if gc_was_enabled:
            gc.enable()


def test_many_training_steps_keep_memory_flat():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(4, 3))
    t = rng.normal(size=(4,))
    w = Value(rng.normal(size=(3,)) * 0.1)
    b = Value(0.0)

    def step():
        y = (x @ w + b).tanh()
        loss = ((y - t) ** 2).mean()
        loss.backward()
        with no_grad():
            w.data -= 0.01 * w.grad
            b.data -= 0.01 * b.grad
        w.zero_grad()
        b.zero_grad()

    gc_was_enabled = gc.isenabled()
    gc.disable()  # a reference cycle would then show up as growth
    tracemalloc.start()
    try:
        for _ in range(500):
            step()
        after_warmup = tracemalloc.get_traced_memory()[0]
        for _ in range(3_000):  # 100,000 steps: benchmarks/long_checks.py
            step()
        after_all = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
        if gc_was_enabled:
            gc.enable()
    # a step builds ~10 nodes; one leaked node (~200 bytes with its array) per step
    # would be ~600 KB here, and a leaked graph per step far more
    assert after_all - after_warmup < 256 * 1024
    assert np.all(np.isfinite(w.data))
