"""Nothing turns a Value into plain numbers by accident (issue 17, "never lose the graph").

Each way out of the graph keeps it, refuses with an error that says what to
do, or gives plain numbers on purpose (as Value's docstring lists).
"""

import math
import operator
import re

import numpy as np
import pytest

from tinygrad_sine import Value, apply, enable_grad, gradcheck, no_grad, ops
from tinygrad_sine.autograd import is_grad_enabled
from tinygrad_sine.describe import role_of, set_role
from tinygrad_sine.nn import Middle, layer_of

# ------------------------------------------------------------------ float(), math.*


def _learners_trial():
    """y = u · e^(−u) with u = w · x: the learner's function."""
    w = Value(0.7, label="w")
    x = 1.3
    return w, x, w * x


@pytest.mark.parametrize(
    "convert",
    [float, int, complex, math.exp, math.tanh, math.log, math.sqrt, round, lambda v: "%.4f" % v],  # noqa: UP031  (%-formatting is the route tested here)
)
@pytest.mark.parametrize("which", ["op result", "parameter"])
def test_python_number_conversions_of_a_value_refuse_and_say_what_to_do(convert, which):
    w, _, u = _learners_trial()
    v = u if which == "op result" else w
    with pytest.raises(TypeError) as err:
        convert(v)
    message = str(err.value)
    assert "v.item()" in message
    if convert is not round:
        assert "v.exp()" in message and "np.exp(v)" in message


def test_the_learners_trial_gets_the_true_gradient_on_the_graph():
    w, x, u = _learners_trial()
    y = u * np.exp(-u)  # what math.exp(-u) used to replace with a constant
    y.backward()
    uu = 0.7 * 1.3
    truth = x * (1 - uu) * math.exp(-uu)  # d/dw [wx e^(−wx)] = x (1 − wx) e^(−wx), by hand
    assert w.grad.item() == pytest.approx(truth, rel=1e-12)
    gradcheck(lambda w: (w * x) * (-(w * x)).exp(), Value(0.7))


# ------------------------------------------------------------------ format


@pytest.mark.parametrize("shape", [(), (1,), (1, 1)])
@pytest.mark.parametrize("spec", [".4f", "10.3e", "+.2%", "g"])
def test_a_one_number_value_formats_like_its_number(shape, spec):
    loss = Value(np.full(shape, 0.123456789)) * 2
    assert format(loss, spec) == format(0.246913578, spec)
    assert f"{loss:{spec}}" == format(loss.item(), spec)


def test_an_empty_format_spec_keeps_the_repr():
    for v in (Value(1.5, label="a"), Value([1.0, 2.0]) * 2):
        assert f"{v}" == str(v) == repr(v) and format(v, "") == str(v)
        assert "%s" % (v,) == str(v)  # noqa: UP031


def test_a_format_spec_on_many_numbers_refuses_naming_the_shape():
    v = Value(np.ones((2, 3)))
    with pytest.raises(TypeError, match=re.escape("shape (2, 3)")):
        f"{v:.4f}"


# ------------------------------------------------------------------ comparisons

COMPARISONS = [operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge]


@pytest.mark.parametrize("compare", COMPARISONS, ids=lambda f: f.__name__)
def test_comparisons_give_numpy_booleans_with_values_numbers_or_arrays_on_either_side(compare):
    a = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    b = np.array([2.0, 2.0, 2.0])
    va, vb = Value(a) * 1, Value(b)  # an op result and a leaf
    pairs = [
        (va, vb, a, b),
        (va, b, a, b),
        (a, vb, a, b),
        (va, 2, a, 2),
        (2.0, va, 2.0, a),
        (np.float64(2.0), va, 2.0, a),
        (Value(2.0), Value(3.0), 2.0, 3.0),
    ]
    for left, right, plain_left, plain_right in pairs:
        got = compare(left, right)
        expected = compare(plain_left, plain_right)
        assert not isinstance(got, Value)
        assert np.asarray(got).dtype == bool
        np.testing.assert_array_equal(got, expected)
        assert np.shape(got) == np.shape(expected)


def test_numpy_comparison_functions_dispatch_to_the_same_booleans():
    a, v = np.array([1.0, 5.0]), Value([2.0, 2.0])
    for f in (np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal):
        np.testing.assert_array_equal(f(a, v), f(a, v.data))
        np.testing.assert_array_equal(f(v, a), f(v.data, a))


def test_a_comparison_records_no_node_and_a_mask_is_a_constant():
    x = Value([-1.5, 0.5, 2.0], label="x")
    mask = x > 0
    y = (x * mask * x).sum()  # Σ x² over the positive entries
    y.backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 4.0])  # 2x where x > 0, by hand
    assert {p.label for p in y.parents[0].parents[0].parents} == {"x", None}


def test_comparing_with_text_or_none_is_not_equality_and_ordering_refuses():
    v = Value([1.0, 2.0])
    assert (v == None) is False and (v != "text") is True  # noqa: E711
    with pytest.raises(TypeError):
        v < "a"  # noqa: B015


def test_comparing_shapes_that_do_not_broadcast_names_them():
    with pytest.raises(ValueError, match=re.escape("(2,) and (3,)")):
        Value([1.0, 2.0]) == Value([1.0, 2.0, 3.0])  # noqa: B015


def test_values_hash_by_identity_so_sets_and_dicts_keep_equal_numbers_apart():
    a, b = Value([1.0, 2.0]), Value([1.0, 2.0])
    assert len({a, b}) == 2 and {a: "a", b: "b"}[b] == "b"
    c, d = Value(1.0), Value(1.0)
    assert len({c, d}) == 2 and {c: 1}.get(d) is None


def test_roles_and_layers_are_found_by_identity_not_by_equal_numbers():
    w = Value([1.0, 2.0, 3.0])
    twin = Value([1.0, 2.0, 3.0])
    set_role(w, "input")
    assert role_of(w) == "input" and role_of(twin) is None
    layer = Middle(1, 3)
    layer(np.array([[0.5]]))  # a layer is numbered on its first call
    copies = Value(layer.w.data), Value(layer.b.data)
    assert layer_of(layer.w, layer.b) is not None and layer_of(*copies) is None


# ------------------------------------------------------------------ numpy's array routes


def test_np_asarray_of_a_leaf_is_read_only_so_the_gradient_stays_right():
    a = Value([1.0, 2.0])
    y = (a * a).sum()
    arr = np.asarray(a)
    np.testing.assert_array_equal(arr, [1.0, 2.0])
    with pytest.raises(ValueError, match="read-only"):
        arr *= 10
    y.backward()
    np.testing.assert_array_equal(a.grad, [2.0, 4.0])  # d Σa²/da = 2a


def test_np_array_of_a_leaf_is_a_writable_copy():
    a = Value([1.0, 2.0])
    arr = np.array(a)
    arr *= 10
    np.testing.assert_array_equal(a.data, [1.0, 2.0])


def test_np_array_of_a_list_of_values_refuses_unless_they_are_array_leaves():
    a, b = Value(1.0), Value(2.0)
    with pytest.raises(TypeError, match="lose their graph"):
        np.array([a * 2, b * 2])  # op results: the graph would be lost
    with pytest.raises(ValueError) as err:
        np.array([a, b])  # one-number leaves: numpy calls float(), which refuses
    assert isinstance(err.value.__cause__, TypeError) and "v.item()" in str(err.value.__cause__)
    rows = np.array([Value([1.0, 2.0]), Value([3.0, 4.0])])  # documented: plain numbers
    np.testing.assert_array_equal(rows, [[1.0, 2.0], [3.0, 4.0]])


def test_bool_of_a_value_is_the_truth_of_its_number():
    assert bool(Value(0.5)) is True and bool(Value([0.0])) is False
    with pytest.raises(ValueError, match=re.escape("(2,)")):
        bool(Value([1.0, 2.0]))


# ------------------------------------------------------------------ no_grad entered twice

_NO_GRAD = no_grad()
_ENABLE = enable_grad()


def _depth(n: int, seen: list) -> None:
    """A recursive function using one module-level no_grad() object."""
    with _NO_GRAD:
        if n:
            _depth(n - 1, seen)
        seen.append(is_grad_enabled())


def test_one_no_grad_object_entered_twice_restores_recording_after_each_exit():
    seen = []
    _depth(2, seen)
    assert seen == [False, False, False] and is_grad_enabled()
    with _NO_GRAD:
        with _NO_GRAD:
            assert not is_grad_enabled()
        assert not is_grad_enabled()
        assert (Value(1.0) * Value(2.0)).op == ""  # no graph inside
    assert is_grad_enabled() and (Value(1.0) * Value(2.0)).op == "mul"


def test_one_enable_grad_object_entered_twice_restores_each_mode():
    with no_grad():
        with _ENABLE:
            with _ENABLE:
                assert is_grad_enabled()
            assert is_grad_enabled()
            with no_grad():
                assert not is_grad_enabled()
            assert is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_a_block_left_by_an_exception_restores_the_mode():
    with pytest.raises(KeyError):
        with _NO_GRAD:
            with _NO_GRAD:
                raise KeyError("x")
    assert is_grad_enabled()


# ------------------------------------------------------------------ a custom op's forward


def _op(forward, name="mine"):
    return type(
        "Mine",
        (ops.Op,),
        {
            "name": name,
            "__doc__": "y = f(x);  ∂x = ∂y",
            "forward": staticmethod(forward),
            "backward": staticmethod(lambda g, y, x: g * np.ones_like(x)),
        },
    )


@pytest.mark.parametrize(
    "result, problem",
    [
        (lambda x: [1.0, 2.0], "list"),
        (lambda x: x + 1j, "complex128"),
        (lambda x: np.array([object(), object()]), "object"),
        (lambda x: np.array(["a", "b"]), "<U1"),
        (lambda x: Value(x), "a Value"),
        (lambda x: None, "NoneType"),
    ],
)
def test_a_forward_result_that_is_not_real_numbers_is_refused_naming_the_op(result, problem):
    with pytest.raises(TypeError, match=r"Mine\.forward \(op 'mine'\) returned") as err:
        apply(_op(result), Value([1.0, 2.0]))
    assert problem in str(err.value) and "numpy array of real numbers" in str(err.value)


@pytest.mark.parametrize(
    "result",
    [
        lambda x: np.array([1, 2]),
        lambda x: x.astype(np.float32),
        lambda x: np.float32(x.sum()),  # a numpy number
        lambda x: 3,  # a Python int
        lambda x: 2.5,
        lambda x: x > 1.5,
    ],
)
def test_int_float32_bool_and_number_results_become_float64(result):
    out = apply(_op(result), Value([1.0, 2.0]))
    expected = np.asarray(result(np.array([1.0, 2.0])), dtype=np.float64)
    assert out.data.dtype == np.float64 and isinstance(out.data, (np.ndarray, np.float64))
    np.testing.assert_array_equal(out.data, expected)
    (out * 3).sum().backward()  # the next op works on it (no "Mul.backward returned …")


def test_a_custom_op_returning_float32_gets_float64_gradients():
    square = type(
        "Square",
        (ops.Op,),
        {
            "name": "square",
            "__doc__": "y = x²;  ∂x = ∂y · 2x",
            "forward": staticmethod(lambda x: (x * x).astype(np.float32)),
            "backward": staticmethod(lambda g, y, x: g * 2 * x),
        },
    )
    x = Value([0.1, 0.7])
    y = apply(square, x)
    assert y.data.dtype == np.float64
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [0.2, 1.4], rtol=1e-15)  # 2x, by hand


def test_compile_tells_inputs_with_equal_numbers_apart():
    from tinygrad_sine import compile

    step = compile(lambda a, b: (a * b * b).sum(), np.ones(2), np.ones(2))  # equal numbers
    loss, _ = step(np.array([3.0, 1.0]), np.array([5.0, 2.0]))
    assert loss == 3.0 * 25.0 + 1.0 * 4.0  # Σ a b², by hand
