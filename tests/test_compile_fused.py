"""`compile(...).sgd(eta)`: a training step with the update inside the generated code — on Python
floats for small shapes — gives the hand-derived and the eager numbers, and hands the weights back."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tinygrad_sine import Value, apply, compile, ops, where
from tinygrad_sine.manual import ManualSineNet
from tinygrad_sine.nn import SGD, SineNet, squared_error
from tinygrad_sine.sine import sine_data, train

X_ALL, T_ALL = (a.reshape(-1, 1) for a in sine_data())


def _fused(net, batch=1, eta=0.1):
    def loss(x, t):
        y = net(x)
        return squared_error(y, t), y

    return compile(loss, X_ALL[:batch], T_ALL[:batch]).sgd(eta)


def _eager_steps(net, batches, eta):
    """The eager engine's SGD: E.backward(), then w ← w − η ∂w."""
    sgd, losses = SGD(net.parameters(), eta), []
    for x, t in batches:
        sgd.zero_grad()
        e = squared_error(net(x), t)
        e.backward()
        sgd.step()
        losses.append(e.item())
    return losses


def test_the_seed_step_on_floats_matches_the_hand_derived_backprop():
    net = SineNet(seed=3, wb_width=1.0)
    manual = ManualSineNet.from_net(net)
    fused = _fused(net)
    for k in (5, 40, 17, 62):
        x, t = X_ALL[k:k + 1], T_ALL[k:k + 1]
        loss, (y,) = fused(x, t)
        y_hand = manual.forward(x)
        assert loss == pytest.approx(manual.error(y_hand, t), rel=1e-12)
        np.testing.assert_allclose(y, y_hand, rtol=1e-12)
        manual.backward(t)
        manual.update(0.1)
    assert fused.source.startswith("def make(")  # the float code ran
    fused.write_back()
    for layer, hand in zip(net.layers, manual.layers):
        np.testing.assert_allclose(layer.w.data, hand.w, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(layer.b.data, hand.b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("n_mid, batch", [((2, 3), 1), (3, 4), (3, 40)])
def test_fused_steps_match_eager_sgd(n_mid, batch):
    a, b = SineNet(n_mid=n_mid, seed=1, wb_width=1.0), SineNet(n_mid=n_mid, seed=1, wb_width=1.0)
    batches = [(X_ALL[k:k + batch], T_ALL[k:k + batch]) for k in (0, 20, 3)]
    eager = _eager_steps(a, batches, 0.05)
    with _fused(b, batch, 0.05) as fused:
        losses = [fused(x, t)[0] for x, t in batches]
    np.testing.assert_allclose(losses, eager, rtol=1e-12)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(q.data, p.data, rtol=1e-12, atol=1e-15)
    assert fused.source.startswith("def make(") == (batch < 40)  # 40 rows: numpy code


def test_the_float_source_reads_like_the_posts_formulas_with_indices():
    fused = _fused(SineNet(seed=0))
    fused(X_ALL[:1], T_ALL[:1])
    code = dict(re.findall(r"^        (\w+) = (.+)$", fused.source, re.M))
    assert code["u1_2"] == "x_0 * w1_0_2 + b1_2"
    assert code["y1_2"] == "1.0 / (1.0 + exp(-u1_2))"
    assert code["u2_0"] == "y1_0 * w2_0_0 + y1_1 * w2_1_0 + y1_2 * w2_2_0 + b2_0"
    assert code["grad_u1_2"] == "grad_y1_2 * (1.0 - y1_2) * y1_2"  # δ_j = ∂y_j (1 − y_j) y_j
    assert code["grad_w1_0_2"] == "x_0 * grad_u1_2"
    assert "w1_0_2 -= 0.1 * grad_w1_0_2" in fused.source
    assert "grad_x_0" not in fused.source and "grad_t_0" not in fused.source


def test_a_saturated_sigmoid_on_floats_gives_zero_without_overflow_error():
    net = SineNet(seed=0)
    net.layers[0].w.data = np.array([[-2000.0, 1.0, 2000.0]])  # u = −1000 and +1000 at x = 0.5
    manual = ManualSineNet.from_net(net)
    x, t = np.array([[0.5]]), np.array([[0.3]])
    with np.errstate(over="ignore"):  # tracing runs the eager ops once: exp(1000) = inf there
        fused = _fused(net)
    with fused:
        loss, _ = fused(x, t)
    assert fused.source.startswith("def make(")
    with np.errstate(over="ignore"):  # the hand-derived numpy gives exp(1000) = inf, then 0
        y = manual.forward(x)
    manual.backward(t)
    manual.update(0.1)
    assert loss == manual.error(y, t)
    for layer, hand in zip(net.layers, manual.layers):
        np.testing.assert_allclose(layer.w.data, hand.w, rtol=1e-12)
        np.testing.assert_allclose(layer.b.data, hand.b, rtol=1e-12)


def test_an_overflow_that_python_floats_refuse_is_done_in_numpy_as_eager_does():
    a, b = SineNet(seed=0, wb_width=1e160), SineNet(seed=0, wb_width=1e160)
    with np.errstate(all="ignore"):
        eager = _eager_steps(a, [(X_ALL[:1], T_ALL[:1])], 0.1)
        with _fused(b) as fused:
            loss, _ = fused(X_ALL[:1], T_ALL[:1])  # (y − t)² overflows: OverflowError on floats
    np.testing.assert_array_equal(loss, eager[0])
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(q.data, p.data)


def test_weights_are_written_back_and_data_changed_in_between_is_read_again():
    net = SineNet(seed=2)
    fused = _fused(net)
    before = net.layers[1].b.data.copy()
    fused(X_ALL[:1], T_ALL[:1])
    np.testing.assert_array_equal(net.layers[1].b.data, before)  # still held as floats
    fused.write_back()
    moved = net.layers[1].b.data.copy()
    assert not np.array_equal(moved, before)
    net.layers[1].b.data = np.array([5.0])  # a change while the Values hold the weights
    _, (y,) = fused(X_ALL[:1], T_ALL[:1])
    assert abs(y[0][0] - 5.0) < 0.1  # b2 = 5 reached the output: the step read .data again


def test_an_exception_in_a_training_callback_leaves_the_weights_in_the_net():
    nets = {eng: SineNet(seed=4) for eng in ("auto", "compiled", "manual")}

    def stop(epoch, error, history):
        if epoch == 10:
            raise KeyboardInterrupt

    for eng, net in nets.items():
        with pytest.raises(KeyboardInterrupt):
            train(net, epochs=50, interval=5, seed=4, engine=eng, callback=stop)
    for eng in ("compiled", "manual"):
        for p, q in zip(nets["auto"].parameters(), nets[eng].parameters()):
            np.testing.assert_allclose(q.data, p.data, rtol=0, atol=1e-12)


def test_a_callback_sees_the_trained_weights_at_each_recorded_epoch():
    seen = {}
    for eng in ("auto", "compiled", "manual"):
        net = SineNet(seed=6)
        train(net, epochs=21, interval=10, seed=6, engine=eng,
              callback=lambda e, err, h, net=net, eng=eng: seen.setdefault(eng, []).append(
                  net.layers[0].w.data.copy()))
    assert not np.array_equal(seen["auto"][1], seen["auto"][0])  # the weights did move
    for eng in ("compiled", "manual"):
        np.testing.assert_allclose(np.array(seen[eng]), np.array(seen["auto"]),
                                   rtol=0, atol=1e-12)


def test_sgd_refuses_a_learning_rate_that_is_not_a_finite_number():
    w = Value(1.0, label="w")
    step = compile(lambda x: (w * x).sum(), 1.0)
    for bad in ("0.1", float("nan"), None, -0.1, True):
        with pytest.raises(ValueError, match="eta must be a finite number ≥ 0"):
            step.sgd(bad)


def test_compiled_seconds_leaves_the_net_alone_and_gives_a_positive_estimate():
    from tinygrad_sine.sine import compiled_seconds

    net = SineNet(seed=0)
    before = [p.data.copy() for p in net.parameters()]
    assert compiled_seconds(net, 0.1, 1, 1000, sample=50) > 0
    for p, b in zip(net.parameters(), before):
        np.testing.assert_array_equal(p.data, b)


def test_scalar_values_and_float_inputs_train_on_floats_as_eager_sgd_does():
    def make():
        rng = np.random.default_rng(3)
        return [Value(float(rng.standard_normal()), label=f"p{k}") for k in range(4)]

    def loss_of(p):
        return lambda x, t: 0.5 * ((p[2] * (p[0] * x + p[1]).tanh() + p[3]) - t) ** 2

    eager_p, fused_p = make(), make()
    samples = [(0.3, 0.5), (-0.7, 0.1), (0.9, -0.4)]
    sgd = SGD(eager_p, 0.2)
    for x, t in samples:
        sgd.zero_grad()
        loss_of(eager_p)(Value(x), Value(t)).backward()
        sgd.step()
    with compile(loss_of(fused_p), 0.3, 0.5).sgd(0.2) as fused:
        for x, t in samples:
            fused(x, t)
    assert "tanh(" in fused.source and fused.source.startswith("def make(")
    for p, q in zip(eager_p, fused_p):
        assert q.data == pytest.approx(p.data, rel=1e-12) and q.data.shape == ()


class _Decides(ops.Op):
    "y = 2x;  ∂x = 2 ∂y   (its backward decides in Python from the numbers: no float code)"

    name = "decides"
    forward = staticmethod(lambda x: 2.0 * x)
    backward = staticmethod(lambda g, y, x: g * (2.0 if (ops.raw(x) > -1e300).all() else 0.0))


def test_a_graph_the_float_code_cannot_write_runs_as_numpy_code_with_eager_numbers():
    w = Value(np.array([[0.5, -1.0, 2.0]]), label="w")
    eager_w = Value(w.data.copy())
    x, t = np.array([[0.7]]), np.array([[0.2]])

    def loss(x, t):
        return ((apply(_Decides, (x @ w).relu()).sum() - t) ** 2).sum()

    with compile(loss, x, t).sgd(0.1) as fused:
        fused(x, t)
    assert fused.source.startswith("def loss(")  # the numpy code (the float code is make())
    e = ((apply(_Decides, (Value(x) @ eager_w).relu()).sum() - Value(t)) ** 2).sum()
    e.backward()
    np.testing.assert_allclose(w.data, eager_w.data - 0.1 * eager_w.grad, rtol=1e-12)


def test_a_call_that_raises_leaves_the_weights_of_the_steps_before_in_the_net():
    net, twin = SineNet(seed=2), SineNet(seed=2)
    fused = _fused(net)
    fused(X_ALL[:1], T_ALL[:1])  # one step on floats: the weights live in the closure
    with pytest.raises(TypeError):
        fused("bad", T_ALL[:1])
    _eager_steps(twin, [(X_ALL[:1], T_ALL[:1])], 0.1)
    for p, q in zip(net.parameters(), twin.parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=0, atol=1e-15)


def test_an_interrupt_inside_the_float_step_writes_the_weights_back():
    net, twin = SineNet(seed=2), SineNet(seed=2)
    fused = _fused(net)
    fused(X_ALL[:1], T_ALL[:1])
    live = fused._live  # the float program holding the weights; its step is interrupted

    def interrupted(*args):
        raise KeyboardInterrupt

    live.step = interrupted
    with pytest.raises(KeyboardInterrupt):
        fused(X_ALL[1:2], T_ALL[1:2])
    _eager_steps(twin, [(X_ALL[:1], T_ALL[:1])], 0.1)
    for p, q in zip(net.parameters(), twin.parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=0, atol=1e-15)


class _StopsAt:
    """A training step that raises KeyboardInterrupt on its ``at``-th call (mid-epoch)."""

    def __init__(self, step, at):
        self.step, self.at, self.calls = step, at, 0
        if hasattr(step, "sync"):
            self.sync = step.sync

    def __call__(self, x, t):
        self.calls += 1
        if self.calls == self.at:
            raise KeyboardInterrupt
        return self.step(x, t)


@pytest.mark.parametrize("engine", ["compiled", "manual"])
def test_ctrl_c_in_the_middle_of_an_epoch_leaves_the_steps_done_so_far_in_the_net(
        engine, monkeypatch):
    from tinygrad_sine import sine

    nets = {}
    for eng in ("eager", engine):
        name = f"_{eng}_step"
        make = getattr(sine, name)
        monkeypatch.setattr(sine, name,
                            lambda net, eta, *loss, make=make: _StopsAt(make(net, eta, *loss), 70))
        nets[eng] = SineNet(seed=4)
        with pytest.raises(KeyboardInterrupt):  # step 70: the 7th of epoch 1, none recorded
            train(nets[eng], epochs=5, interval=1000, seed=4, engine=eng)
    start = SineNet(seed=4)
    for p, q, s in zip(nets["eager"].parameters(), nets[engine].parameters(), start.parameters()):
        assert not np.array_equal(p.data, s.data)
        np.testing.assert_allclose(q.data, p.data, rtol=0, atol=1e-12)


def test_source_follows_the_shapes_when_they_alternate():
    net = SineNet(seed=0)
    fused = _fused(net)
    shown = {}
    for batch in (1, 20, 40, 1, 40, 20):  # floats up to batch 16 and a bit; 40 is numpy code
        fused(X_ALL[:batch], T_ALL[:batch])
        assert ("x_19_0" in fused.source) == (batch == 20)  # the 20th sample's x, by name
        shown.setdefault(batch, []).append(fused.source)
    assert all(a == b for a, b in shown.values())
    assert "def make" in shown[1][0] and "def make" in shown[20][0]
    assert shown[40][0] == fused.compiled.sources()[((40, 1), (40, 1))]
    assert "def make" not in shown[40][0]


def test_the_write_back_updates_the_parameters_arrays_in_place_as_eager_sgd_does():
    net, twin = SineNet(seed=1), SineNet(seed=1)
    arrays = [p.data for p in net.parameters()]  # references taken before the fused run
    with _fused(net) as fused:
        for k in range(3):
            fused(X_ALL[k:k + 1], T_ALL[k:k + 1])
    _eager_steps(twin, [(X_ALL[k:k + 1], T_ALL[k:k + 1]) for k in range(3)], 0.1)
    for p, a, q in zip(net.parameters(), arrays, twin.parameters()):
        assert p.data is a
        np.testing.assert_allclose(a, q.data, rtol=0, atol=1e-15)


def test_an_overflow_in_the_first_step_does_not_rule_out_float_code_for_good():
    net, twin = SineNet(seed=0, wb_width=1e160), SineNet(seed=0)
    with np.errstate(all="ignore"):
        fused = _fused(net)
        fused(X_ALL[:1], T_ALL[:1])  # the check overflows: this step is numpy code
    assert "def make" not in fused.source
    for p, q in zip(net.parameters(), twin.parameters()):
        p.data = q.data.copy()  # sane weights again
    with fused:
        fused(X_ALL[1:2], T_ALL[1:2])
        assert "def make" in fused.source  # the float code, checked this time
        np.testing.assert_array_equal(net.layers[1].b.data, twin.layers[1].b.data)  # held
    _eager_steps(twin, [(X_ALL[1:2], T_ALL[1:2])], 0.1)
    for p, q in zip(net.parameters(), twin.parameters()):
        np.testing.assert_allclose(p.data, q.data, rtol=0, atol=1e-15)


@pytest.mark.parametrize("n_mid, batch", [(3, 16), (8, 4)])
def test_the_float_source_of_a_batch_keeps_its_lines_short(n_mid, batch):
    net = SineNet(n_mid=n_mid, seed=0)
    with _fused(net, batch) as fused:
        fused(X_ALL[:batch], T_ALL[:batch])
    lines = fused.source.splitlines()
    assert lines[0].startswith("def make(") and max(map(len, lines)) <= 90
    last = batch - 1
    assert "        E = 0.5 * (\n            (y2_0_0 - t_0_0) ** 2\n" in fused.source
    assert f"            + (y2_{last}_0 - t_{last}_0) ** 2\n        )\n" in fused.source


def test_float_limit_chooses_between_float_and_numpy_code():
    for limit, batch, floats in ((0, 1, False), (10**6, 40, True), (None, 40, False)):
        net = SineNet(seed=0)

        def loss(x, t, net=net):
            y = net(x)
            return squared_error(y, t), y

        step = compile(loss, X_ALL[:batch], T_ALL[:batch]).sgd(0.1, float_limit=limit)
        with step:
            step(X_ALL[:batch], T_ALL[:batch])
        assert step.source.startswith("def make(") is floats, (limit, batch)
    for bad in (-1, 2.5, True, "300"):
        with pytest.raises(ValueError, match="float_limit must be a whole number ≥ 0"):
            compile(lambda x: (Value(1.0) * x).sum(), 1.0).sgd(0.1, float_limit=bad)


@pytest.mark.parametrize("big", [np.inf, [np.inf]], ids=["0-d", "1-d"])
@pytest.mark.parametrize("x", [0.3, np.nan])
def test_a_comparison_of_two_worked_out_numbers_runs_on_floats_even_for_nan(big, x):
    """inf − inf is a nan the code writer works out itself; leaky_relu then compares it with 0.
    (That comparison was written as Python text and eval'd: a NameError for nan, so the float
    code was given up; and a 0-d inf constant was written as the undefined name ``inf``.)"""
    def make():
        w = Value([[0.5]], label="w")

        def loss(x, t):
            gap = (Value(big) - Value(big)).leaky_relu()  # nan > 0: decided while writing
            return squared_error(where(np.array([[True]]), x @ w, gap), t)
        return w, loss

    x0, x1, t = np.array([[0.3]]), np.array([[x]]), np.array([[0.1]])
    w, loss = make()
    with np.errstate(invalid="ignore"), compile(loss, x0, t).sgd(0.1) as fused:
        losses = [fused(x0, t)[0], fused(x1, t)[0]]
        assert fused.source.startswith("def make(")  # the float code, not numpy's instead
    w_eager, loss_eager = make()
    eager = []
    with np.errstate(invalid="ignore"):
        for xs in (x0, x1):
            e = loss_eager(Value(xs), Value(t))
            e.backward()
            w_eager.data -= 0.1 * w_eager.grad
            w_eager.grad = None
            eager.append(e.item())
    np.testing.assert_allclose(losses, eager, rtol=1e-12)  # (nan meets nan)
    np.testing.assert_allclose(w.data, w_eager.data, rtol=1e-12)
