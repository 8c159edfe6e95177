"""The Value node itself: construction, attributes, graph bookkeeping, numpy interop, errors, repr."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tinygrad_sine import Value

# ================================================================== construction and dtype


@pytest.mark.parametrize(
    "data, shape",
    [
        (3, ()),
        (2.5, ()),
        (True, ()),
        ([1, 2, 3], (3,)),
        ([[1, 2], [3, 4]], (2, 2)),
        (np.arange(6).reshape(2, 3), (2, 3)),
        (np.array([1.5, 2.5], dtype=np.float32), (2,)),
        (np.int64(7), ()),
        (np.float32(0.25), ()),
        (np.array([True, False]), (2,)),
    ],
    ids=repr,
)
def test_data_is_float64_array_for_numeric_input(data, shape):
    v = Value(data)
    # a single number may be kept as an np.float64 scalar, anything else as an ndarray
    assert isinstance(v.data, (np.ndarray, np.float64))
    assert v.data.dtype == np.float64
    if shape != ():
        assert isinstance(v.data, np.ndarray)
    assert v.shape == shape
    np.testing.assert_array_equal(v.data, np.asarray(data, dtype=np.float64))


def test_value_copies_its_input_array():
    arr = np.array([1.0, 2.0])
    v = Value(arr)
    arr[0] = 100.0
    assert v.data[0] == 1.0


@pytest.mark.parametrize(
    "bad, type_name",
    [
        ("abc", "str"),
        (b"12", "bytes"),
        (object(), "object"),
        (1 + 2j, "complex"),
        (np.array([1 + 1j]), "ndarray"),
        ([[1, 2], [3]], "list"),
        ([1, "a"], "list"),
        (None, "NoneType"),
        ({"a": 1}, "dict"),
    ],
    ids=lambda x: type(x).__name__ if not isinstance(x, str) else x,
)
def test_non_numeric_data_raises_type_error_naming_what_was_given(bad, type_name):
    with pytest.raises(TypeError) as info:
        Value(bad)
    assert type_name in str(info.value)


def test_type_error_shows_the_offending_string():
    with pytest.raises(TypeError, match="'abc'"):
        Value("abc")


def test_value_of_a_value_raises_type_error():
    with pytest.raises(TypeError, match="detach"):
        Value(Value(1.0))


def test_binary_op_with_a_string_raises_type_error():
    with pytest.raises(TypeError):
        Value(1.0) + "x"


# ================================================================== attributes


def test_shape_ndim_size():
    v = Value(np.zeros((2, 3, 4)))
    assert v.shape == (2, 3, 4)
    assert v.ndim == 3
    assert v.size == 24
    s = Value(1.0)
    assert s.shape == () and s.ndim == 0 and s.size == 1


def test_item_returns_python_float_for_one_element_values():
    assert Value(2.5).item() == 2.5
    assert isinstance(Value(2.5).item(), float)
    assert Value([[3.0]]).item() == 3.0
    assert Value([4.0]).item() == 4.0


def test_item_on_non_scalar_raises_value_error_with_the_shape():
    with pytest.raises(ValueError, match=re.escape("(2, 3)")):
        Value(np.ones((2, 3))).item()


def test_label_defaults_to_none_and_is_settable():
    v = Value(1.0)
    assert v.label is None
    v.label = "w1"
    assert v.label == "w1"
    assert Value(1.0, label="b").label == "b"
    y = v * 2
    y.label = "y"
    assert y.label == "y"


def test_leaf_has_empty_op_and_no_parents():
    v = Value([1.0, 2.0])
    assert v.op == ""
    assert v.parents == ()


@pytest.mark.parametrize(
    "expr, op",
    [
        (lambda a, b: a * b, "mul"),
        (lambda a, b: a + b, "add"),
        (lambda a, b: a - b, "sub"),
        (lambda a, b: a / b, "div"),
        (lambda a, b: -a, "neg"),
        (lambda a, b: a**2, "pow"),
        (lambda a, b: a**b, "pow"),
        (lambda a, b: a @ b, "matmul"),
        (lambda a, b: a.dot(b), "matmul"),
        (lambda a, b: a.exp(), "exp"),
        (lambda a, b: a.log(), "log"),
        (lambda a, b: a.sin(), "sin"),
        (lambda a, b: a.cos(), "cos"),
        (lambda a, b: a.tanh(), "tanh"),
        (lambda a, b: a.sigmoid(), "sigmoid"),
        (lambda a, b: a.relu(), "relu"),
        (lambda a, b: a.identity(), "identity"),
        (lambda a, b: a.sum(), "sum"),
        (lambda a, b: a.mean(), "mean"),
        (lambda a, b: a.reshape(2, 1), "reshape"),
        (lambda a, b: a.transpose(), "transpose"),
        (lambda a, b: a.T, "transpose"),
        (lambda a, b: a.broadcast_to((3, 2)), "broadcast_to"),
        (lambda a, b: a[0], "getitem"),
    ],
)
def test_op_names_the_operation_that_made_the_node(expr, op):
    a, b = Value([1.0, 2.0]), Value([3.0, 4.0])
    assert expr(a, b).op == op


def test_parents_are_in_argument_order():
    a, b = Value(1.0), Value(2.0)
    ab = a - b
    ba = b - a
    assert len(ab.parents) == 2 and ab.parents[0] is a and ab.parents[1] is b
    assert ba.parents[0] is b and ba.parents[1] is a


def test_parents_keep_repeats():
    a = Value(3.0)
    sq = a * a
    assert len(sq.parents) == 2
    assert sq.parents[0] is a and sq.parents[1] is a


def test_unary_op_has_one_parent():
    a = Value(0.0)
    s = a.sigmoid()
    assert len(s.parents) == 1 and s.parents[0] is a


def test_python_number_on_either_side_becomes_a_constant_parent():
    v = Value(5.0)
    left = 2 - v
    assert left.op == "sub"
    assert left.parents[1] is v
    assert isinstance(left.parents[0], Value) and left.parents[0].item() == 2.0
    assert left.item() == -3.0
    right = v / 4
    assert right.parents[0] is v and right.parents[1].item() == 4.0
    assert right.item() == 1.25
    assert (1 / v).item() == pytest.approx(0.2)


def test_rpow_puts_the_number_base_first():
    v = Value(3.0)
    p = 2**v
    assert p.op == "pow"
    assert p.parents[1] is v and p.parents[0].item() == 2.0
    assert p.item() == 8.0


def test_detach_copies_data_without_history():
    a = Value([1.0, 2.0], label="a")
    y = a * 2
    d = y.detach()
    assert d.parents == () and d.op == ""
    np.testing.assert_array_equal(d.data, [2.0, 4.0])
    d.data[0] = 99.0
    assert y.data[0] == 2.0


def test_len_and_iteration_over_the_first_axis():
    v = Value([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert len(v) == 3
    rows = list(v)
    assert len(rows) == 3
    np.testing.assert_array_equal(rows[2].data, [5.0, 6.0])
    assert rows[0].op == "getitem"
    with pytest.raises(TypeError):
        len(Value(1.0))


def test_bool_only_for_one_element_values():
    assert bool(Value(1.0)) is True
    assert bool(Value(0.0)) is False
    with pytest.raises(ValueError):
        bool(Value([1.0, 2.0]))


# ================================================================== numpy interop


def test_ndarray_times_value_returns_a_value_not_an_object_array():
    arr = np.array([1.0, 2.0, 3.0])
    v = Value([4.0, 5.0, 6.0])
    out = arr * v
    assert isinstance(out, Value)
    assert out.data.dtype == np.float64
    np.testing.assert_array_equal(out.data, [4.0, 10.0, 18.0])
    assert out.parents[1] is v


@pytest.mark.parametrize(
    "expr, expected",
    [
        (lambda arr, v: arr + v, lambda arr, x: arr + x),
        (lambda arr, v: arr - v, lambda arr, x: arr - x),
        (lambda arr, v: arr / v, lambda arr, x: arr / x),
        (lambda arr, v: v - arr, lambda arr, x: x - arr),
        (lambda arr, v: v * arr, lambda arr, x: x * arr),
        (lambda arr, v: arr**v, lambda arr, x: arr**x),
    ],
)
def test_ndarray_on_either_side_gives_values(expr, expected):
    arr = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = np.array([0.5, 2.0])
    out = expr(arr, Value(x))
    assert isinstance(out, Value)
    np.testing.assert_allclose(out.data, expected(arr, x))


def test_ndarray_matmul_value_returns_a_value():
    arr = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = np.array([[1.0], [-1.0]])
    out = arr @ Value(x)
    assert isinstance(out, Value)
    assert out.op == "matmul"
    np.testing.assert_array_equal(out.data, [[-1.0], [-1.0]])


@pytest.mark.parametrize("scalar", [np.float64(2.0), np.float32(2.0), np.int64(2)], ids=repr)
def test_numpy_scalar_times_value_is_a_value(scalar):
    v = Value([1.5, -1.0])
    for out in (scalar * v, v * scalar, scalar - v, scalar / v):
        assert isinstance(out, Value)
    np.testing.assert_array_equal((scalar * v).data, [3.0, -2.0])
    np.testing.assert_array_equal((scalar - v).data, [0.5, 3.0])


# ================================================================== shape errors


def test_matmul_shape_mismatch_names_both_shapes():
    a, b = Value(np.ones((2, 3))), Value(np.ones((4, 5)))
    with pytest.raises(ValueError, match=re.escape("Value.matmul: shapes (2, 3) and (4, 5) do not align")):
        a @ b


def test_matmul_with_a_zero_dim_operand_raises_value_error():
    with pytest.raises(ValueError, match="Value.matmul"):
        Value(2.0) @ Value([1.0, 2.0])


@pytest.mark.parametrize(
    "op_name, expr",
    [
        ("add", lambda a, b: a + b),
        ("sub", lambda a, b: a - b),
        ("mul", lambda a, b: a * b),
        ("div", lambda a, b: a / b),
    ],
)
def test_broadcasting_mismatch_names_the_op_and_both_shapes(op_name, expr):
    a, b = Value(np.ones((2, 3))), Value(np.ones((4,)))
    with pytest.raises(ValueError) as info:
        expr(a, b)
    message = str(info.value)
    assert f"Value.{op_name}" in message
    assert "(2, 3)" in message and "(4,)" in message


def test_broadcasting_mismatch_with_an_ndarray_names_value_add():
    with pytest.raises(ValueError, match=r"Value\.add.*\(3,\).*\(2,\)"):
        Value(np.ones(3)) + np.ones(2)


def test_reshape_to_wrong_size_names_value_reshape():
    with pytest.raises(ValueError) as info:
        Value(np.ones((2, 3))).reshape(4, 2)
    assert "Value.reshape" in str(info.value)
    assert "(2, 3)" in str(info.value)


def test_broadcast_to_incompatible_shape_raises_value_error():
    with pytest.raises(ValueError, match="Value.broadcast_to"):
        Value(np.ones(3)).broadcast_to((2, 4))


def test_sum_over_a_missing_axis_raises_value_error_naming_sum():
    with pytest.raises(ValueError, match="Value.sum"):
        Value(np.ones((2, 3))).sum(axis=2)


def test_indexing_with_a_value_raises_type_error():
    v = Value([1.0, 2.0, 3.0])
    with pytest.raises(TypeError):
        v[Value(0.0)]
    with pytest.raises(TypeError):
        v[0, Value(1.0)]


def test_index_out_of_range_raises():
    with pytest.raises((IndexError, ValueError)):
        Value([1.0, 2.0])[5]


# ================================================================== repr


def test_scalar_repr_shows_data_grad_op_and_label():
    x = Value(0.0)
    y = x.sigmoid()  # σ(0) = 0.5
    y.label = "y1"
    y.backward(grad=0.25)
    assert repr(y) == "Value(0.5, grad=0.25, op='sigmoid', label='y1')"
    assert x.grad == pytest.approx(0.25 * 0.5 * 0.5)


def test_scalar_repr_format_before_backward():
    y = Value(0.0).sigmoid()
    assert re.fullmatch(r"Value\(0\.5, grad=0\.0, op='sigmoid'\)", repr(y))


def test_leaf_scalar_repr_has_no_op():
    r = repr(Value(2.0, label="w"))
    assert re.fullmatch(r"Value\(2(\.0)?, grad=0(\.0)?, label='w'\)", r), r
    assert "op=" not in r


def test_array_repr_shows_shape_and_op():
    v = Value(np.ones((2, 3))) + 1
    r = repr(v)
    assert r.startswith("Value(")
    assert "shape=(2, 3)" in r
    assert "op='add'" in r
    assert "grad=" not in r  # no gradient yet


def test_array_repr_shows_grad_after_backward_and_stays_on_one_line():
    v = Value(np.arange(100.0).reshape(10, 10), label="big")
    v.sum().backward()
    r = repr(v)
    assert "shape=(10, 10)" in r
    assert "grad=" in r
    assert "label='big'" in r
    assert "\n" not in r
    assert len(r) < 300


@pytest.mark.parametrize("value, positive, error, words", [
    ("0.1", False, TypeError, "where: x must be a number; got str '0.1'"),
    (True, False, TypeError, "where: x must be a number; got bool True"),
    (float("nan"), False, ValueError, "where: x must be a finite number ≥ 0; got nan"),
    (-1, False, ValueError, "where: x must be a finite number ≥ 0; got -1"),
    (10**400, False, ValueError, "where: x must be a finite number ≥ 0"),
    (0.0, True, ValueError, "where: x must be a finite number > 0; got 0.0"),
])
def test_check_real_names_the_place_the_argument_and_the_value(value, positive, error, words):
    from tinygrad_sine.arguments import check_real
    with pytest.raises(error) as info:
        check_real(value, "where", "x", positive=positive)
    assert str(info.value).startswith(words)


def test_check_real_gives_a_float_and_every_caller_words_it_alike():
    from tinygrad_sine import gradcheck
    from tinygrad_sine.arguments import check_real
    from tinygrad_sine.nn import SGD, SineNet
    assert check_real(np.int64(2), "w", "x") == 2.0 and type(check_real(3, "w", "x")) is float
    assert check_real(0, "w", "x") == 0.0
    for call, words in [(lambda: SGD([], 0), "SGD: eta (the learning rate) must be a finite "
                                             "number > 0, such as 0.1; got 0"),
                        (lambda: gradcheck(lambda v: v, [Value(1.0)], eps=-1.0),
                         "gradcheck: eps must be a finite number > 0; got -1.0"),
                        (lambda: SineNet(wb_width=float("inf")), "SineNet: wb_width (the spread "
                         "of the initial weights) must be a finite number ≥ 0")]:
        with pytest.raises(ValueError) as info:
            call()
        assert str(info.value).startswith(words)
