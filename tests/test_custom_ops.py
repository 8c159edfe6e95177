"""Your own ops.Op subclass: a bare gradient is accepted, a wrong one is named (autograd.backprop)."""

from __future__ import annotations

import pydoc
import re

import numpy as np
import pytest

from tinygrad_sine import Value, apply, grad, gradcheck, ops


class Cube(ops.Op):
    "y = x³;  ∂x = ∂y · 3x²"

    name = "cube"
    forward = staticmethod(lambda x: x * x * x)
    backward = staticmethod(lambda g, y, x: g * 3 * x * x)  # bare, not a tuple


def test_a_bare_gradient_from_a_one_input_op_is_accepted_and_right():
    x = Value([0.5, -2.0, 1.5])
    apply(Cube, x).sum().backward()
    np.testing.assert_allclose(x.grad, 3 * x.data**2, rtol=1e-14)
    assert gradcheck(lambda v: apply(Cube, v).sum(), [Value([0.5, -2.0, 1.5])])
    s = Value(2.0)
    apply(Cube, s).backward()  # a 0-d gradient (np.float64) too
    assert s.grad.item() == 12.0


def test_a_bare_gradient_also_works_when_differentiating_twice():
    x = Value(1.5)
    (first,) = grad(apply(Cube, x), [x], create_graph=True)
    (second,) = grad(first, [x])
    assert first.item() == pytest.approx(3 * 1.5**2) and second.item() == pytest.approx(6 * 1.5)


class TooFew(ops.Op):
    "y = a · b;  ∂a = ∂y · b"

    name = "toofew"
    forward = staticmethod(lambda a, b: a * b)
    backward = staticmethod(lambda g, y, a, b: (g * b,))


class WrongShape(ops.Op):
    "y = Σ x;  ∂x = ∂y"

    name = "wrongshape"
    forward = staticmethod(lambda x: x.sum())
    backward = staticmethod(lambda g, y, x: (np.ones(5),))


class NotAnArray(ops.Op):
    name = "notanarray"
    forward = staticmethod(lambda x: 2 * x)
    backward = staticmethod(lambda g, y, x: (2.0,))


class NotATuple(ops.Op):
    name = "notatuple"
    forward = staticmethod(lambda a, b: a + b)
    backward = staticmethod(lambda g, y, a, b: g)


@pytest.mark.parametrize("build, error, words", [
    (lambda: apply(TooFew, Value([1.0, 2.0]), Value(3.0)).sum(), ValueError,
     "TooFew.backward returned 1 gradient(s) for 2 input(s) of shapes (2,), ()"),
    (lambda: apply(WrongShape, Value([1.0, 2.0])), ValueError,
     "WrongShape.backward: the gradient for input 0 has shape (5,), which does not sum back "
     "to that input's shape (2,)"),
    (lambda: apply(NotAnArray, Value(1.0)), TypeError,
     "NotAnArray.backward returned (float); each gradient must be a numpy array"),
    (lambda: apply(NotATuple, Value(1.0), Value(2.0)), TypeError,
     "NotATuple.backward returned float64; return a tuple of 2 gradient(s)"),
])
def test_a_wrong_backward_is_an_error_naming_the_op_and_the_shapes(build, error, words):
    root = build()
    with pytest.raises(error, match=re.escape(words)):
        root.backward()
    with pytest.raises(error, match=re.escape(words)):
        grad(root, list(root.parents))


def test_the_docstring_convention_is_in_help_of_op():
    text = pydoc.render_doc(ops.Op, renderer=pydoc.plaintext)
    assert '"y = x²;  ∂x = ∂y · 2x"' in text
    assert "one gradient per input" in text and "return its gradient bare" in text


class SameForBoth(ops.Op):
    "y = (a + b)²;  ∂a = ∂y · 2(a + b),  ∂b = ∂y · 2(a + b)"

    name = "sameforboth"
    forward = staticmethod(lambda a, b: (a + b) ** 2)

    @staticmethod
    def backward(g, y, a, b):
        h = g * 2 * (a + b)
        return h, h  # one fresh array for both inputs


def test_one_array_returned_for_two_inputs_gives_each_its_own_gradient():
    p, q = Value([1.0, 2.0]), Value([0.5, -1.0])
    apply(SameForBoth, p, q).sum().backward()
    assert p.grad is not q.grad
    np.testing.assert_allclose(p.grad, 2 * (p.data + q.data), rtol=1e-14)  # by hand
    p.grad += 1.0  # changing one leaves the other alone
    np.testing.assert_allclose(q.grad, 2 * (p.data + q.data), rtol=1e-14)
    assert gradcheck(lambda a, b: apply(SameForBoth, a, b).sum(), [p, q])


class SumOfThree(ops.Op):
    "y = a + 2b + c;  ∂a = ∂y,  ∂b = 2 ∂y,  ∂c = ∂y"

    name = "sumofthree"
    forward = staticmethod(lambda a, b, c: a + 2 * b + c)

    @staticmethod
    def backward(g, y, a, b, c):
        h = g * 1.0  # a fresh array, given to the first and the third input
        return h, 2 * g, h


def test_one_array_for_the_first_and_third_inputs_is_not_shared_either():
    a, b, c = Value([1.0, 2.0]), Value([3.0, 4.0]), Value([5.0, 6.0])
    apply(SumOfThree, a, b, c).sum().backward()
    assert a.grad is not c.grad
    assert a.grad.tolist() == [1.0, 1.0] and b.grad.tolist() == [2.0, 2.0]
    a.grad *= 10
    assert c.grad.tolist() == [1.0, 1.0]


class ScaleByTable(ops.Op):
    "y = x · t;  ∂x = ∂y · t   (t: a fixed table, no gradient)"

    name = "scalebytable"
    forward = staticmethod(lambda x, t: x * t)
    backward = staticmethod(lambda g, y, x, t: (g * t, None))


def test_none_for_an_input_means_no_gradient_for_it_as_in_pytorch():
    x, table = Value([1.0, 2.0]), Value([3.0, -4.0])
    (apply(ScaleByTable, x, table) * 2).sum().backward()
    assert x.grad.tolist() == [6.0, -8.0]  # 2t, by hand
    assert table.grad.tolist() == [0.0, 0.0]
    made = table * 1.0  # an op's output as the table: its own inputs get nothing either
    y = apply(ScaleByTable, x, made).sum() + made.sum()  # ... but from here they do
    dx, dtable = grad(y, [x, table])
    assert dx.data.tolist() == [3.0, -4.0] and dtable.data.tolist() == [1.0, 1.0]
    (first, none_yet) = grad(apply(ScaleByTable, x, table).sum(), [x, table], create_graph=True)
    assert isinstance(none_yet, Value) and none_yet.data.tolist() == [0.0, 0.0]
    assert first.data.tolist() == [3.0, -4.0]
    only_none = table * 1.0  # an op's output that gets nothing but None
    apply(ScaleByTable, x, only_none).sum().backward()
    assert table.grad.tolist() == [0.0, 0.0]


class ForgotReturn(ops.Op):
    name = "forgotreturn"
    forward = staticmethod(lambda x: 2 * x)

    @staticmethod
    def backward(g, y, x):
        g * 2  # no return: None


def test_a_bare_none_is_refused_as_a_likely_missing_return():
    with pytest.raises(TypeError, match=r"ForgotReturn\.backward returned NoneType \(a missing "
                                        r"return\?\)"):
        apply(ForgotReturn, Value([1.0])).sum().backward()


def test_an_op_that_gives_one_input_no_gradient_steps_and_compiles():
    from tinygrad_sine import Stepper, compile

    x, table = Value([1.0, 2.0], label="x"), Value([3.0, -4.0], label="table")
    loss = apply(ScaleByTable, x, table).sum()
    s = Stepper(loss)
    s.goto(len(s) - 1)
    assert s.grad(table).tolist() == [0.0, 0.0]  # shown as zero, never nan
    assert "nan" not in "".join(step.text for step in s)
    step = compile(lambda k: (apply(ScaleByTable, x, table) * k).sum(), np.array([2.0]))
    _, grads = step(np.array([2.0]))
    by_param = {id(p): g.tolist() for p, g in zip(step.params, grads)}
    assert by_param[id(x)] == [6.0, -8.0]  # 2t, by hand
    assert by_param.get(id(table), [0.0, 0.0]) == [0.0, 0.0]
    fused = step.sgd(0.5)  # the same step written on Python floats, the update inside
    fused(np.array([2.0]))
    fused.write_back()
    assert x.data.tolist() == [1.0 - 0.5 * 6.0, 2.0 + 0.5 * 8.0]
    assert table.data.tolist() == [3.0, -4.0]  # no gradient: not moved


class OneForThree(ops.Op):
    "y = 2x;  ∂x = 2 ∂y   (wrong: one number for every element)"

    name = "oneforthree"
    forward = staticmethod(lambda x: 2 * x)
    backward = staticmethod(lambda g, y, x: (np.array([2.0 * g.sum()]),))


class TwoForOne(ops.Op):
    "y = 2x;  ∂x = 2 ∂y   (wrong: two gradients for one input)"

    name = "twoforone"
    forward = staticmethod(lambda x: 2 * x)
    backward = staticmethod(lambda g, y, x: (2 * g, 2 * g))


@pytest.mark.parametrize("op, error, words", [
    (OneForThree, ValueError, "OneForThree.backward: the gradient for input 0 has shape (1,), "
                              "which does not sum back to that input's shape (3,)"),
    (TwoForOne, ValueError, "TwoForOne.backward returned 2 gradient(s) for 1 input(s)"),
    (ForgotReturn, TypeError, "ForgotReturn.backward returned NoneType (a missing return?)"),
    (NotAnArray, TypeError, "NotAnArray.backward returned (float); each gradient must be"),
])
def test_the_stepper_and_the_page_refuse_what_backward_refuses_with_its_error(op, error, words):
    from tinygrad_sine import Stepper

    root = (apply(op, Value([1.0, 2.0, 3.0], label="x")) * 1.0).sum()
    with pytest.raises(error, match=re.escape(words)):
        root.backward()
    with pytest.raises(error, match=re.escape(words)):
        Stepper(root)  # the steps are worked out when the stepper is made


def test_the_page_refuses_a_wrong_custom_gradient_too():
    from viz.explore import explore

    root = apply(OneForThree, Value([1.0, 2.0, 3.0], label="x")).sum()
    with pytest.raises(ValueError, match=r"OneForThree\.backward: the gradient for input 0"):
        explore(root)  # refused before anything is drawn: no Graphviz needed


def test_the_stepper_refuses_data_assigned_after_the_op_used_it_as_backward_does():
    from tinygrad_sine import Stepper

    x = Value([1.0, 2.0], label="x")
    root = (x * x).sum()
    x.data = np.array([5.0, 6.0])  # the op's derivative needs the old numbers
    words = "'x' had its .data assigned after op 'mul'"
    with pytest.raises(RuntimeError, match=re.escape(words)):
        root.backward()
    with pytest.raises(RuntimeError, match=re.escape("Stepper: " + words)):
        Stepper(root)
