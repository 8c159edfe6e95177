"""Issue 9, the engine's part: no silent wrong gradients under threads, in-place changes,
no_grad roots, pow at 0, NaN in gradcheck, and overflow in sigmoid."""

from __future__ import annotations

import asyncio
import copy
import math
import pickle
import threading
import warnings

import numpy as np
import pytest

from tinygrad_sine import Value, enable_grad, grad, gradcheck, no_grad, ops
from tinygrad_sine.autograd import is_grad_enabled
from tinygrad_sine.gradcheck import GradcheckError
from tinygrad_sine.nn import SGD
from tinygrad_sine.value import apply

# ------------------------------------------------------- 1. grad mode per thread / task


def test_no_grad_in_one_thread_leaves_another_thread_recording():
    entered, done = threading.Event(), threading.Event()
    seen = {}

    def sitter():  # thread A: sits inside no_grad while B works
        with no_grad():
            entered.set()
            done.wait(10)
            seen["A inside"] = is_grad_enabled()
        seen["A after"] = is_grad_enabled()

    def worker():  # thread B: records and backprops 10,000 times
        entered.wait(10)
        wrong = 0
        for i in range(10_000):
            x, w = Value(float(i)), Value(2.0)
            (x * w).backward()
            wrong += w.grad != float(i) or x.grad != 2.0
        seen["B wrong"] = wrong
        seen["B after"] = is_grad_enabled()
        done.set()

    threads = [threading.Thread(target=sitter), threading.Thread(target=worker)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert seen == {"A inside": False, "A after": True, "B wrong": 0, "B after": True}
    assert is_grad_enabled() and (Value(1.0) * 2).op == "mul"


def test_threads_leaving_no_grad_out_of_order_leave_recording_on():
    steps = [threading.Event() for _ in range(4)]
    after = {}

    def first():
        with no_grad():
            steps[0].set()
            steps[1].wait(10)
        steps[2].set()  # leaves first, while the other is still inside
        after["first"] = is_grad_enabled()

    def second():
        steps[0].wait(10)
        with no_grad():
            steps[1].set()
            steps[2].wait(10)
        after["second"] = is_grad_enabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert after == {"first": True, "second": True}
    assert is_grad_enabled()
    assert (Value(1.0) * 2).op == "mul"


def test_no_grad_in_one_asyncio_task_leaves_another_task_recording():
    async def quiet(ready: asyncio.Event, go: asyncio.Event):
        with no_grad():
            ready.set()
            await go.wait()
            return (Value(1.0) * 2).op

    async def busy(ready: asyncio.Event, go: asyncio.Event):
        await ready.wait()
        op = (Value(1.0) * 2).op
        go.set()
        return op

    async def main():
        ready, go = asyncio.Event(), asyncio.Event()
        return await asyncio.gather(quiet(ready, go), busy(ready, go))

    # In a thread of its own: when the browser tests' Playwright (a session fixture) is
    # open, this thread already has a running event loop, and asyncio.run refuses then.
    results = []
    runner = threading.Thread(target=lambda: results.append(asyncio.run(main())))
    runner.start()
    runner.join()
    assert results == [["", "mul"]]
    assert is_grad_enabled()


def test_nested_no_grad_and_enable_grad_restore_the_mode_they_found():
    with no_grad():
        with enable_grad():
            assert is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()


# ------------------------------------------------------- 3. .data changed before backward


def test_augmented_assignment_of_a_leaf_between_forward_and_backward_raises_naming_it():
    x, w = Value([1.0, 2.0], label="x"), Value([3.0, 4.0], label="w")
    y = (x * w).sum()
    w.data -= 97
    with pytest.raises(RuntimeError, match=r"'w' had its \.data assigned after op 'mul'"):
        y.backward()
    assert np.all(x.grad == 0) and np.all(w.grad == 0)  # nothing half-filled


def test_reassigning_data_between_forward_and_grad_raises_naming_the_node():
    x = Value(2.0, label="x")
    y = x.exp()
    x.data = np.float64(5.0)
    with pytest.raises(RuntimeError, match=r"grad: 'x' had its \.data assigned"):
        grad(y, [x])
    with pytest.raises(RuntimeError, match=r"'x' had its \.data assigned"):
        grad(y, [x], create_graph=True)


def test_zeroing_an_ops_output_before_backward_raises_naming_that_output():
    x = Value([1.0, 2.0])
    h = x.exp()
    h.label = "h"
    y = h.sum()
    h.data = np.zeros(2)
    with pytest.raises(RuntimeError, match=r"'h' had its \.data assigned after op 'sum'"):
        y.backward()
    with pytest.raises(RuntimeError, match=r"the output of op 'exp', 'h', had its \.data"):
        h.backward(grad=np.ones(2))


def test_an_unlabelled_changed_node_is_named_by_its_op_and_shape():
    x = Value(np.ones((2, 3)))
    y = (x * 2).sum()
    x.data = x.data * 3
    with pytest.raises(RuntimeError, match=r"an unlabelled leaf of shape \(2, 3\)"):
        y.backward()


def test_the_training_order_backward_update_forward_keeps_working():
    # w ← w − η ∂w with y = (w·x − t)²/2, ∂w = (w·x − t)·x, by hand alongside.
    x, t = 2.0, 1.0
    w = Value(0.3)
    w_hand = 0.3
    for _ in range(5):
        w.zero_grad()
        e = 0.5 * (w * x - t) ** 2
        e.backward()
        w.data -= 0.1 * w.grad
        w_hand -= 0.1 * (w_hand * x - t) * x
    assert w.item() == pytest.approx(w_hand, rel=1e-12)


def test_an_sgd_step_between_forward_and_backward_is_noticed_like_an_assignment():
    # SGD.step writes _data itself (quicker than the .data property) and ticks the clock once.
    w, b = Value([3.0, 4.0], label="w"), Value(0.5, label="b")
    sgd = SGD([w, b], 0.1)
    w.grad, b.grad = [1.0, 1.0], 1.0
    y, array = (w * w).sum() + b, w.data
    sgd.step()
    assert w.data is array  # updated in place, as `w.data -= …` does
    assert w.data.tolist() == [3.0 - 0.1, 4.0 - 0.1] and b.data == 0.5 - 0.1
    with pytest.raises(RuntimeError, match=r"'b' had its \.data assigned after op 'add'"):
        y.backward()  # (the first changed input the backward pass meets)
    sgd.zero_grad()
    y = (w * w).sum() + b  # the training order: a new forward pass after the update
    y.backward()
    assert w.grad.tolist() == [2 * (3.0 - 0.1), 2 * (4.0 - 0.1)] and b.grad == 1.0


def test_assigning_data_stores_a_float64_copy_and_checks_it_like_the_constructor():
    caller = np.array([1.0, 2.0])
    w = Value([0.0, 0.0])
    w.data = caller
    w.grad = [1.0, 1.0]
    SGD([w], 0.5).step()  # updates w's array in place
    assert caller.tolist() == [1.0, 2.0]  # the caller's array is not w's
    assert w.data.tolist() == [0.5, 1.5]
    w.data = np.array([1, 2], dtype=np.float32)
    assert w.data.dtype == np.float64
    w.data = [3, 4]  # a list becomes numbers, as in Value([3, 4])
    assert isinstance(w.data, np.ndarray) and w.data.tolist() == [3.0, 4.0]
    with pytest.raises(TypeError, match=r"Value\.data"):
        w.data = "abc"


def test_assigning_data_of_a_new_shape_clears_the_old_gradient():
    w = Value([1.0, 2.0])
    (w * w).sum().backward()
    w.data = np.ones(3)  # a new shape: the gradient of shape (2,) no longer belongs
    assert w.grad.tolist() == [0.0, 0.0, 0.0]
    (w * w).sum().backward()  # accumulates into a fresh gradient, no broadcast error
    assert w.grad.tolist() == [2.0, 2.0, 2.0]
    w.data = np.full(3, 2.0)  # the same shape keeps the gradient, as PyTorch does
    assert w.grad.tolist() == [2.0, 2.0, 2.0]
    w.data = np.float64(5.0)  # an array becomes a single number: cleared too
    assert w.grad == 0.0 and w.grad.shape == ()
    s = Value(2.0)
    (s * s).backward()
    s.data -= 0.5 * s.grad  # a single number's update: a new np.float64, the gradient kept
    assert s.data == 0.0 and s.grad == 4.0
    s.data = np.ones(2)  # a single number becomes an array: cleared
    assert s.grad.tolist() == [0.0, 0.0]


def test_a_graph_built_after_an_assignment_is_fine_and_uses_the_new_numbers():
    w = Value(1.0)
    w.data = np.float64(3.0)
    y = w * w
    y.backward()
    assert w.grad == 6.0


def test_gradcheck_leaves_an_earlier_graph_usable():
    x = Value([0.5, 1.0])
    y = x.sin().sum()
    assert gradcheck(lambda a: a.sin().sum(), [x])
    y.backward()
    assert np.allclose(x.grad, np.cos([0.5, 1.0]))


# ------------------------------------------------------- 4. backward of a no_grad result


def test_backward_of_a_result_made_under_no_grad_raises():
    x = Value(3.0)
    with no_grad():
        y = x * 2
    with pytest.raises(RuntimeError, match=r"Value.backward: .*recording off.*no_grad"):
        y.backward()
    with pytest.raises(RuntimeError, match=r"grad: .*recording off"):
        grad(y, [x])
    assert x.grad == 0.0


def test_backward_of_a_plain_leaf_still_gives_one():
    v = Value(3.0)
    v.backward()
    assert v.grad == 1.0
    with no_grad():
        d = Value(2.0).detach()  # a leaf made under no_grad is still a leaf
    d.backward()
    assert d.grad == 1.0


# ------------------------------------------------------- 5. a ** b at a = 0


@pytest.mark.parametrize("b, hessian", [
    # y = a^b at a = 0.  ∂a = b·a^(b−1), ∂b = a^b·ln a, with PyTorch's limits:
    # b = 2: ∂a = 0, ∂b = 0; ∂²/∂a² = b(b−1)a^(b−2) = 2, the rest → 0 (a ln a → 0).
    (2.0, [[2.0, 0.0], [0.0, 0.0]]),
    # b = 0: y = 1 is flat in both: every derivative 0.
    (0.0, [[0.0, 0.0], [0.0, 0.0]]),
])
def test_pow_with_a_value_exponent_at_zero_base_takes_pytorchs_limits(b, hessian):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a_, b_ = Value(0.0), Value(b)
        assert [g.item() for g in grad(a_ ** b_, [a_, b_])] == [0.0, 0.0]
        y = a_ ** b_
        y.backward()
        assert (a_.grad, b_.grad) == (0.0, 0.0)
        da, db = grad(a_ ** b_, [a_, b_], create_graph=True)
        rows = [[g.item() for g in grad(d, [a_, b_])] for d in (da, db)]
    assert rows == hessian  # d/db(∂a) and d/da(∂b) are the two orders: both 0


def test_pow_with_a_value_exponent_is_unchanged_away_from_zero_base():
    a, b = Value([0.5, 2.0, 0.0]), Value([1.5, 3.0, 2.0])
    assert gradcheck(lambda a, b: (a[:2] ** b[:2]).sum(), [a, b])
    da, db = grad((a ** b).sum(), [a, b])
    expect_a = [1.5 * 0.5 ** 0.5, 3.0 * 4.0, 0.0]
    expect_b = [0.5 ** 1.5 * math.log(0.5), 8.0 * math.log(2.0), 0.0]
    assert np.allclose(da.data, expect_a) and np.allclose(db.data, expect_b)


# ------------------------------------------------------- 7. gradcheck fails on nan


class _BrokenNaN(ops.Op):
    """y = 2x, with a backward that (wrongly) returns nan."""

    name = "broken"
    forward = staticmethod(lambda x: 2 * x)
    backward = staticmethod(lambda g, y, x: (g * np.nan,))


def test_gradcheck_fails_when_the_automatic_gradient_is_nan():
    with pytest.raises(GradcheckError, match=r"automatic nan"):
        gradcheck(lambda x: apply(_BrokenNaN, x).sum(), [Value([1.0, 2.0])])


def test_gradcheck_fails_when_the_numerical_gradient_is_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # log of a negative number
        with pytest.raises(GradcheckError, match=r"numerical nan"):
            gradcheck(lambda x: x.log(), Value(-1.0))


def test_gradcheck_accepts_a_single_value_as_inputs():
    assert gradcheck(lambda x: (x * x).sum(), Value([1.0, -2.0]))


# ------------------------------------------------------- 13. sigmoid without overflow warnings


def test_sigmoid_far_below_zero_is_exactly_zero_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = Value(-1000.0)
        y = s.sigmoid()
        y.backward()
        a = Value([-1000.0, -710.0, 0.0, 1000.0])
        ya = a.sigmoid()
        ya.sum().backward()
    assert y.item() == 0.0 and s.grad == 0.0
    assert ya.data.tolist() == [0.0, 0.0, 0.5, 1.0]
    assert a.grad.tolist() == [0.0, 0.0, 0.25, 0.0]


def test_sigmoid_keeps_the_seeds_formula_bit_for_bit():
    u = np.linspace(-30, 30, 61)
    assert np.array_equal(Value(u).sigmoid().data, 1 / (1 + np.exp(-u)))


# ------------------------------------------------------- bad input that converts, copies


def test_a_python_int_beyond_int64_becomes_the_nearest_float():
    assert Value(2**70).item() == float(2**70)
    assert Value([1, -(2**70)]).data.tolist() == [1.0, -float(2**70)]


@pytest.fixture(scope="module")
def chain():
    """x and y = −(−(… x)) with 100,000 nodes: y = x, ∂y/∂x = 1."""
    x = Value(0.5, label="x")
    y = x
    for _ in range(100_000):
        y = -y
    return x, y


def test_deepcopy_of_a_100000_node_chain_copies_the_graph_without_recursion(chain):
    x, y = chain
    x2, y2 = copy.deepcopy([x, y])
    assert y2 is not y and y2.parents[0] is not y.parents[0] and x2 is not x
    y2.backward()
    assert x2.grad == 1.0 and x.grad == 0.0  # the copy's graph leads to the copy's x


def test_pickle_of_a_100000_node_chain_keeps_data_grad_and_label_not_history(chain):
    x, y = chain
    y.grad = 1.0
    y2 = pickle.loads(pickle.dumps(y))
    assert (y2.item(), y2.grad, y2.parents, y2.op) == (0.5, 1.0, (), "")
    y.grad = None
    assert pickle.loads(pickle.dumps(x)).label == "x"


def test_gradcheck_calls_fn_once_plus_twice_per_element_with_float64_scalars():
    seen = []

    def fn(a, s):
        seen.append((type(a.data), type(s.data)))
        return (a * s).sin().sum()

    assert gradcheck(fn, [Value([0.5, 1.0]), Value(0.25)])
    assert len(seen) == 1 + 2 * (2 + 1)  # the output once, then ± eps per input element
    assert set(seen) == {(np.ndarray, np.float64)}  # a scalar input stays an np.float64
