"""`compile` under threads, nesting, changed parameters and bad input (issue 9, items 2, 6, 12)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from helpers import cli_here

from tinygrad_sine import TraceError, Value, compile


def test_nested_compiles_refuse_numbers_inside_and_leave_value_working_after():
    w = Value(2.0, label="w")
    inner_steps = []

    def outer(x):
        inner = compile(lambda z: (w * z) ** 2, 3.0)  # a compile inside a trace
        inner_steps.append(inner)
        with pytest.raises(TraceError, match=r"Value\.item"):
            (w * x).item()  # still refused: the outer trace is still running
        return w * x

    step = compile(outer, 1.0)
    assert step(4.0)[1][0] == 4.0  # ∂(w x)/∂w = x
    assert inner_steps[0](3.0)[1][0] == pytest.approx(2 * 2.0 * 9.0)  # ∂(w z)²/∂w = 2 w z²
    assert Value(3.0).item() == 3.0 and f"{Value(2.0):.1f}" == "2.0" and bool(Value(1.0))


def test_a_trace_in_one_thread_does_not_refuse_item_in_another():
    tracing, done = threading.Event(), threading.Event()
    w = Value(1.5, label="w")
    results, errors = [], []

    def slow(x):
        tracing.set()
        done.wait(timeout=10)  # stay inside the trace while the other thread works
        return w * x

    def other():
        tracing.wait(timeout=10)
        try:
            for k in range(200):
                v = Value(float(k)) * 2
                results.append((v.item(), f"{v:.1f}", bool(v)))
        except Exception as err:  # pragma: no cover - the bug this test pins
            errors.append(err)
        finally:
            done.set()

    thread = threading.Thread(target=other)
    thread.start()
    step = compile(slow, 1.0)
    thread.join()
    assert not errors
    assert [r[0] for r in results] == [2.0 * k for k in range(200)]
    assert step(2.0)[1][0] == 2.0


def test_a_parameter_whose_shape_changed_gets_a_gradient_of_its_new_shape():
    w = Value(np.ones(2), label="w")
    step = compile(lambda x: (w * x).sum(), np.array([1.0, 2.0]))
    w.data = np.full((3, 2), 0.5)  # now (3, 2): broadcast against x of shape (2,)
    loss, (g,) = step(np.array([1.0, 2.0]))
    assert loss == pytest.approx(3 * 0.5 * (1 + 2))
    np.testing.assert_array_equal(g, np.broadcast_to([1.0, 2.0], (3, 2)))  # ∂Σ w x / ∂w = x
    w.data = np.ones(2)
    assert step(np.array([1.0, 2.0]))[1][0].shape == (2,)


@pytest.mark.parametrize("bad", ["1.5", 1 + 2j, None, np.array([1j, 2.0])])
def test_inputs_are_refused_as_value_refuses_them(bad):
    with pytest.raises(TypeError) as eager:
        Value(bad)
    reason = str(eager.value).split(": ", 1)[1]  # what Value says after its own name
    w = Value(2.0, label="w")
    step = compile(lambda x: w * x, 1.0)
    with pytest.raises(TypeError) as compiled:
        step(bad)
    assert reason in str(compiled.value) and "input x" in str(compiled.value)
    with pytest.raises(TypeError) as first:
        compile(lambda x: w * x, bad)
    assert reason in str(first.value)
    with pytest.raises(TypeError) as fused:
        step.sgd(0.1)(bad)
    assert reason in str(fused.value)


def test_cli_train_compiled_with_diverging_weights_says_so_in_one_line_like_eager(tmp_path):
    outs = [cli_here("train", "--wb-width", "1e160", "--epochs", "3", *flag, "--out", str(tmp_path))
            for flag in ([], ["--compile"])]
    for out in outs:
        assert out.returncode == 2
        assert len(out.stderr.strip().splitlines()) == 1 and "diverged" in out.stderr
    assert outs[0].stderr == outs[1].stderr


def test_two_traces_that_overlap_in_threads_leave_value_working():
    a_inside, b_inside, a_done = threading.Event(), threading.Event(), threading.Event()
    w = Value(1.0, label="w")
    errors = []

    def fn_a(x):  # enters first, leaves first
        a_inside.set()
        b_inside.wait(timeout=10)
        return w * x

    def fn_b(x):  # enters second, leaves last
        b_inside.set()
        a_done.wait(timeout=10)
        return w * x

    def run_a():
        try:
            compile(fn_a, 1.0)
        except Exception as err:  # pragma: no cover
            errors.append(err)
        finally:
            a_done.set()
            b_inside.set()

    thread = threading.Thread(target=run_a)
    thread.start()
    a_inside.wait(timeout=10)
    compile(fn_b, 1.0)
    thread.join()
    assert not errors
    assert Value(3.0).item() == 3.0 and f"{Value(2.0):.1f}" == "2.0" and bool(Value(1.0))


def test_the_fused_step_follows_a_parameters_new_shape_after_a_write_back():
    w = Value(np.ones(2), label="w")
    fused = compile(lambda x: (w * x).sum(), np.array([1.0, 2.0])).sgd(0.5)
    fused(np.array([1.0, 2.0]))
    fused.write_back()
    np.testing.assert_allclose(w.data, [0.5, 0.0])  # w − η ∂w with ∂Σ w x / ∂w = x
    w.data = np.ones((3, 2))
    loss, _ = fused(np.array([1.0, 2.0]))
    fused.write_back()
    assert loss == 9.0
    np.testing.assert_allclose(w.data, np.ones((3, 2)) - 0.5 * np.array([1.0, 2.0]))
