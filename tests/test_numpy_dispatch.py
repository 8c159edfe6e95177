"""numpy functions on Values record the same graph as the Value methods (numpy_dispatch.py)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from tinygrad_sine import Value, grad, gradcheck, topo_order
from tinygrad_sine.nn import SineNet, squared_error


def _ops(root: Value) -> list[str]:
    return [n.op for n in topo_order(root)]


# Each numpy call beside the Value method it must equal: same op, same parents, same numbers.
A = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
B = np.array([[1.0, 2.0, 0.5], [-0.5, 1.0, 3.0]])
CASES = [
    ("exp", lambda a, b: np.exp(a), lambda a, b: a.exp()),
    ("log", lambda a, b: np.log(b * b), lambda a, b: (b * b).log()),
    ("sin", lambda a, b: np.sin(a), lambda a, b: a.sin()),
    ("cos", lambda a, b: np.cos(a), lambda a, b: a.cos()),
    ("tanh", lambda a, b: np.tanh(a), lambda a, b: a.tanh()),
    ("add", lambda a, b: np.add(a, b), lambda a, b: a + b),
    ("subtract", lambda a, b: np.subtract(a, b), lambda a, b: a - b),
    ("multiply", lambda a, b: np.multiply(a, b), lambda a, b: a * b),
    ("divide", lambda a, b: np.divide(a, b), lambda a, b: a / b),
    ("true_divide", lambda a, b: np.true_divide(a, b), lambda a, b: a / b),
    ("power number", lambda a, b: np.power(a, 2), lambda a, b: a**2),
    ("power value", lambda a, b: np.power(b * b, a), lambda a, b: (b * b) ** a),
    ("negative", lambda a, b: np.negative(a), lambda a, b: -a),
    ("matmul", lambda a, b: np.matmul(a, b.T), lambda a, b: a @ b.T),
    ("dot", lambda a, b: np.dot(a, b.T), lambda a, b: a.dot(b.T)),
    ("sum", lambda a, b: np.sum(a), lambda a, b: a.sum()),
    ("sum axis keepdims", lambda a, b: np.sum(a, axis=0, keepdims=True),
     lambda a, b: a.sum(axis=0, keepdims=True)),
    ("sum positional axis", lambda a, b: np.sum(a, 1), lambda a, b: a.sum(1)),
    ("mean", lambda a, b: np.mean(a, axis=1), lambda a, b: a.mean(axis=1)),
    ("transpose", lambda a, b: np.transpose(a), lambda a, b: a.transpose()),
    ("transpose axes", lambda a, b: np.transpose(a, (1, 0)), lambda a, b: a.transpose(1, 0)),
    ("reshape", lambda a, b: np.reshape(a, (3, 2)), lambda a, b: a.reshape(3, 2)),
    ("reshape -1", lambda a, b: np.reshape(a, -1), lambda a, b: a.reshape(-1)),
]


@pytest.mark.parametrize("name, numpy_call, method_call", CASES, ids=[c[0] for c in CASES])
def test_numpy_function_records_the_same_nodes_as_the_value_method(name, numpy_call, method_call):
    a, b = Value(A, label="a"), Value(B, label="b")
    got, want = numpy_call(a, b), method_call(a, b)
    assert isinstance(got, Value)
    assert got.op == want.op and got._args == want._args
    assert _ops(got) == _ops(want)
    np.testing.assert_array_equal(got.data, want.data)
    # and the derivative is right: central differences, not the engine against itself
    assert gradcheck(lambda a, b: numpy_call(a, b).sum(), [Value(A), Value(B)])


@pytest.mark.parametrize("numpy_call, parents_first", [
    (lambda arr, v: np.multiply(arr, v), "array"),
    (lambda arr, v: arr * v, "array"),
    (lambda arr, v: arr - v, "array"),
    (lambda arr, v: arr / v, "array"),
    (lambda arr, v: arr ** v, "array"),
    (lambda arr, v: np.dot(arr, v), "array"),
    (lambda arr, v: np.subtract(v, arr), "value"),
])
def test_an_array_argument_keeps_its_place_in_the_node(numpy_call, parents_first):
    arr, v = np.array([[1.0, 2.0], [3.0, 4.0]]), Value([[0.5, 2.0], [1.0, 1.5]])
    out = numpy_call(arr, v)
    first, second = out.parents
    if parents_first == "array":
        assert second is v and first.op == "" and np.array_equal(first.data, arr)
    else:
        assert first is v and np.array_equal(second.data, arr)


def test_np_asarray_gives_a_leafs_numbers_without_a_graph():
    v = Value([[3.0, 6.0]])
    arr = np.asarray(v)
    assert type(arr) is np.ndarray and arr.dtype == np.float64
    np.testing.assert_array_equal(arr, [[3.0, 6.0]])
    assert np.asarray(Value(2.0)).shape == ()
    assert np.array(v, copy=True) is not v.data
    np.testing.assert_array_equal(np.array(v, dtype=np.float32), [[3.0, 6.0]])


def test_np_asarray_of_an_op_result_refuses_rather_than_drop_its_graph():
    v = Value([[1.0, 2.0]]) * 3
    with pytest.raises(TypeError, match=r"op 'mul', shape \(1, 2\).*lose their graph.*v\.data"):
        np.asarray(v)
    np.testing.assert_array_equal(v.data, [[3.0, 6.0]])  # the way to take them on purpose


def test_a_numpy_function_on_a_list_of_losses_refuses_instead_of_training_on_the_rest():
    # np.mean([l1, l2]) + reg would turn the losses into plain numbers: w would get no gradient.
    w = Value(2.0)
    l1, l2, reg = w * 3.0, w * w, Value(0.1)
    with pytest.raises(TypeError, match=r"op 'mul'.*would lose their graph"):
        np.mean([l1, l2]) + reg
    with pytest.raises(TypeError, match=r"op 'mul'"):
        np.sum([l1, l2])
    assert np.shape(l1) == () and np.ndim(l1) == 0 and np.size(l1) == 1  # shape only: fine


def test_np_shape_ndim_and_size_read_the_shape_without_a_node():
    v = Value(np.ones((2, 3)))
    assert np.shape(v) == (2, 3) and np.ndim(v) == 2 and np.size(v) == 6 and np.size(v, 1) == 3
    assert np.shape(Value(1.0)) == ()


@pytest.mark.parametrize("call, name", [
    (lambda v: np.fmax(v, 0), "numpy.fmax"),
    (lambda v: np.cbrt(v), "numpy.cbrt"),
    (lambda v: np.add.reduce(v), "numpy.add.reduce"),
    (lambda v: np.hstack([v, v]), "numpy.hstack"),
    (lambda v: np.median(v), "numpy.median"),
])
def test_any_other_numpy_function_is_refused_naming_it_and_the_methods(call, name):
    with pytest.raises(TypeError) as info:
        call(Value([1.0, 4.0]))
    message = str(info.value)
    assert message.startswith(f"{name} is not supported on a Value")
    assert "Value methods: exp, log" in message and "np.dot" in message


@pytest.mark.parametrize("call, bad", [
    (lambda v: np.exp(v, out=np.zeros(2)), "out="),
    (lambda v: np.add(v, 1.0, where=np.array([True, False])), "where="),
    (lambda v: np.sum(v, out=np.zeros(())), "out="),
    (lambda v: np.sum(v, where=np.array([True, False])), "where="),
    (lambda v: np.mean(v, dtype=np.float32), "dtype="),
    (lambda v: np.dot(v, v, out=np.zeros(())), "out="),
    (lambda v: np.reshape(v, (2, 1), order="F"), "order="),
])
def test_out_where_and_dtype_are_refused_by_name(call, bad):
    with pytest.raises(TypeError, match=re.escape(bad) + ".*not supported"):
        call(Value([1.0, 4.0]))


def test_a_list_of_values_as_data_is_refused_rather_than_losing_the_graph():
    with pytest.raises(TypeError, match="list holding Values"):
        Value([[Value(1.0)], [2.0]])


# ------------------------------------------------------------------ the post's code on Values


def _forward_written_in_numpy(x, t, w1, b1, w2, b2):
    """A 1-3-1 forward pass in plain numpy style, on Values: no Value method called."""
    u1 = np.dot(x, w1) + b1
    y1 = 1 / (1 + np.exp(-u1))
    u2 = np.dot(y1, w2) + b2
    return 0.5 * np.sum(np.power(np.subtract(u2, t), 2))


def test_numpy_forward_pass_on_values_matches_the_same_net_written_with_methods():
    x = np.array([[-0.5], [0.1], [0.9]])
    t = np.sin(np.pi * x)
    net = SineNet(seed=3, wb_width=1.0)
    e = _forward_written_in_numpy(x, t, *net.parameters())
    e.backward()
    by_numpy = [p.grad.copy() for p in net.parameters()]

    # the same formula with Value methods gives the same graph, op for op
    net.zero_grad()
    hidden, output = net.layers
    xv = Value(x)
    y1 = 1 / (1 + (-(xv.dot(hidden.w) + hidden.b)).exp())
    e_methods = 0.5 * (((y1.dot(output.w) + output.b) - t) ** 2).sum()
    assert _ops(e) == _ops(e_methods)
    e_methods.backward()
    for got, p in zip(by_numpy, net.parameters()):
        np.testing.assert_allclose(got, p.grad, rtol=1e-13, atol=0)

    # the SineNet's own graph (sigmoid and squared-error nodes) gives the same numbers
    net.zero_grad()
    e_net = squared_error(net(x), t)
    np.testing.assert_allclose(e.data, e_net.data, rtol=1e-13)
    e_net.backward()
    for got, p in zip(by_numpy, net.parameters()):
        np.testing.assert_allclose(got, p.grad, rtol=1e-10, atol=1e-14)

    # and against central differences
    assert gradcheck(lambda *params: _forward_written_in_numpy(x, t, *params),
                     [Value(p.data) for p in net.parameters()])


def test_value_with_value_and_value_with_number_never_go_through_the_dispatch(monkeypatch):
    from tinygrad_sine import numpy_dispatch

    def refuse(*args, **kwargs):
        raise AssertionError("the numpy dispatch was used")

    monkeypatch.setattr(numpy_dispatch, "array_ufunc", refuse)
    monkeypatch.setattr(numpy_dispatch, "array_function", refuse)
    a, b = Value([1.0, 2.0]), Value([3.0, 4.0])
    out = ((a * b + a - b) / b) ** 2 @ a + 2.0 * a.sum() - 1
    np.testing.assert_allclose(out.data, (((a.data * b.data + a.data - b.data) / b.data) ** 2
                                          @ a.data + 2.0 * a.data.sum() - 1))
    with pytest.raises(AssertionError, match="dispatch was used"):
        np.ones(2) * a  # while an array on the left does


def test_np_dot_with_a_single_number_multiplies_as_numpys_does():
    v = Value([1.0, -2.0])
    for out in (np.dot(2.0, v), np.dot(v, np.float64(2.0)), np.dot(Value(2.0), v)):
        assert out.op == "mul" and out.data.tolist() == np.dot(2.0, v.data).tolist()
    w = Value([[1.0, 2.0], [3.0, 4.0]])
    s = Value(3.0)
    np.dot(s, w).sum().backward()
    assert s.grad == 10.0 and w.grad.tolist() == [[3.0, 3.0], [3.0, 3.0]]  # ∂s = Σw, ∂w = s


# ------------------------------------------------------------------ numpy's own rules (issue 17)


@pytest.mark.parametrize("a_shape, b_shape", [
    ((2, 3), (2, 3, 4)),  # matmul's rule gave wrong numbers here
    ((2, 2, 3), (2, 3, 4)),  # and the shape (2, 2, 4) here, where numpy gives (2, 2, 2, 4)
    ((3, 1, 2), (2, 2, 3)),
])
def test_np_dot_on_stacks_follows_np_dot_and_its_gradients_are_right(a_shape, b_shape):
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=a_shape), rng.normal(size=b_shape)
    want = np.dot(a, b)
    for got in (np.dot(Value(a), Value(b)), Value(a).dot(b), np.dot(a, Value(b))):
        assert got.shape == want.shape == a_shape[:-1] + b_shape[:-2] + b_shape[-1:]
        np.testing.assert_allclose(got.data, want, rtol=1e-13, atol=1e-14)
    # by hand: dot(a, b)[i…, j…, n] = Σ_k a[i…, k] b[j…, k, n], so with G = ∂out
    # ∂a[i…, k] = Σ_{j…, n} G[i…, j…, n] b[j…, k, n] and ∂b[j…, k, n] = Σ_{i…} a[i…, k] G[i…, j…, n]
    g = rng.normal(size=want.shape)
    va, vb = Value(a), Value(b)
    np.dot(va, vb).backward(g)
    ai, bj = "xyz"[:len(a_shape) - 1], "uvw"[:len(b_shape) - 2]
    np.testing.assert_allclose(va.grad, np.einsum(f"{ai}{bj}n,{bj}kn->{ai}k", g, b), rtol=1e-12)
    np.testing.assert_allclose(vb.grad, np.einsum(f"{ai}k,{ai}{bj}n->{bj}kn", a, g), rtol=1e-12)
    # and against central differences, to second order
    assert gradcheck(lambda x, y: (np.dot(x, y) * g).sum(), [Value(a), Value(b)])

    def first(x, y):  # ∂ of a smooth function of dot, differentiated once more
        gx, gy = grad((np.dot(x, y) * g).sum().tanh(), [x, y], create_graph=True)
        return (gx * gx).sum() + (gy * gy * gy).sum()

    assert gradcheck(first, [Value(a), Value(b)])


def test_np_dot_on_stacks_that_do_not_align_is_refused_naming_the_shapes():
    with pytest.raises(ValueError, match=r"np\.dot: shapes \(2, 3\) and \(2, 4, 5\) do not align"):
        np.dot(Value(np.ones((2, 3))), Value(np.ones((2, 4, 5))))


@pytest.mark.parametrize("axes", [0, -1, [0], (-1,)])
def test_np_transpose_of_a_1d_value_takes_an_int_as_numpy_does(axes):
    v = Value([1.0, -2.0, 3.0])
    out = np.transpose(v, axes)
    assert out.data.tolist() == np.transpose(v.data, axes).tolist()
    (out * np.array([1.0, 2.0, 3.0])).sum().backward()
    assert v.grad.tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match=r"Value\.transpose: shape \(2, 2\)"):
        np.transpose(Value(np.ones((2, 2))), 0)  # numpy refuses this too


@pytest.mark.parametrize("index", [[], [[]], ([], 0), (slice(None), [])])
def test_an_empty_index_list_gives_an_empty_result_and_a_zero_gradient(index):
    x = np.arange(6.0).reshape(2, 3)
    v = Value(x)
    out = v[index]
    assert out.shape == x[index].shape and out.data.size == 0
    out.sum().backward()
    assert v.grad.shape == (2, 3) and not np.any(v.grad)
    assert gradcheck(lambda w: w[index].sum() + (w * w).sum(), [Value(x)])


@pytest.mark.parametrize("shape, axis", [((3, 0), 0), ((3, 0), 1), ((0, 3), 0), ((0,), None)])
def test_the_mean_over_an_empty_axis_is_numpys_and_its_gradient_is_empty(shape, axis):
    x = np.zeros(shape)
    with warnings.catch_warnings(record=True) as numpys:
        warnings.simplefilter("always")
        want = x.mean(axis=axis)  # nan where the axis averaged is empty, as numpy warns
    v = Value(x)
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        got = v.mean(axis=axis)
    np.testing.assert_array_equal(got.data, want)  # nan equals nan here
    assert [str(w.message) for w in ours] == [str(w.message) for w in numpys]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the backward pass has no 0/0 to warn about
        got.sum().backward()  # was ZeroDivisionError
        (again,) = grad(got.sum(), [v], create_graph=True)
    assert v.grad.shape == shape and again.shape == shape  # empty, as in PyTorch


@pytest.mark.parametrize("axis", [(1, 1), (1, -1), [0, 0]])
def test_a_repeated_axis_is_called_repeated(axis):
    for method in ("sum", "mean"):
        with pytest.raises(ValueError, match=rf"Value\.{method}: axis .* names axis \d twice "
                                             r"\(the Value has 2 axes\).*repeated axis"):
            getattr(Value(np.ones((3, 2))), method)(axis=axis)


def test_sum_over_axis_0_of_a_single_number_works_as_numpys_and_mean_refuses_as_numpys():
    s = Value(2.5)
    for axis in (0, -1):
        out = s.sum(axis=axis)
        assert out.data == np.sum(np.array(2.5), axis=axis)
        out.backward()  # was ZeroDivisionError (integer modulo by zero)
    assert s.grad == 2.0
    with pytest.raises(ValueError, match=r"Value\.mean: shape \(\)"):
        s.mean(axis=0)  # numpy: axis 0 is out of bounds for array of dimension 0
