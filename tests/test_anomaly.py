"""When learning goes wrong: train and detect_anomaly name the first non-finite number.

Every message is checked against numbers worked out here in plain numpy
from the weights the run recorded, not against the engine itself.
"""

from __future__ import annotations

import re
import threading

import numpy as np
import pytest
from helpers import cli_here

from tinygrad_sine import AnomalyError, Value, detect_anomaly
from tinygrad_sine.anomaly import is_active
from tinygrad_sine.nn import SGD, SineNet, squared_error
from tinygrad_sine.sine import sine_data, train

NUMBER = r"-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?"
BIG = np.finfo(np.float64).max


def numpy_forward(weights, x):
    """The seed's 1-3-1 net in plain numpy: ``(u1, y1, y2)``."""
    w1, b1, w2, b2 = weights
    u1 = x @ w1 + b1
    with np.errstate(over="ignore"):
        y1 = 1 / (1 + np.exp(-u1))
    return u1, y1, y1 @ w2 + b2


def shown(text: str, name: str) -> np.ndarray:
    """The numbers the message shows for ``name = [[…]]``."""
    found = re.search(rf"\b{name} = (\[*{NUMBER}(?:, {NUMBER})*\]*)", text)
    assert found, (name, text)
    return np.array([float(v) for v in re.findall(NUMBER, found.group(1))])


@pytest.fixture(scope="module")
def run_at_60():
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning, match="train: stopped"):
        history = train(SineNet(seed=0), epochs=50, eta=60, interval=10, seed=0)
    return history


def test_a_run_at_eta_60_names_the_op_and_its_inputs(run_at_60):
    d = run_at_60.diverged
    assert d is not None and d.phase == "forward" and d.node == "E"
    assert d.message.startswith(f"epoch {d.epoch}, sample {d.sample}: square in "
                                "E = squared_error(y2, t) overflowed at y2 = ")
    # independently: the recorded weights are finite, and at that sample the output is so
    # large that ½ (y − t)² is beyond float64: the square overflows, the step before did not
    x, t = sine_data()
    assert all(np.isfinite(w).all() for w in d.weights)
    assert d.x.item() == x[d.sample] and d.t.item() == t[d.sample]
    _, _, y2 = numpy_forward(d.weights, d.x)
    assert np.isfinite(y2).all() and abs(y2.item() - d.t.item()) > np.sqrt(BIG)
    np.testing.assert_allclose(shown(d.message, "y2"), y2.ravel(), rtol=1e-3)
    np.testing.assert_allclose(shown(d.message, "t"), d.t.ravel(), rtol=1e-3)
    # the run stopped where the error first stopped being finite, and says so in its history
    assert run_at_60.epochs[-1] == d.stopped_epoch and not np.isfinite(run_at_60.errors[-1])
    assert np.isfinite(run_at_60.errors[:-1]).all()
    assert not np.isfinite(d.error)


def test_the_divergence_opens_the_explorer_at_the_nodes_step(run_at_60):
    d = run_at_60.diverged
    with np.errstate(all="ignore"):
        stepper = d.stepper(SineNet(seed=0))
    step = stepper[d.step]
    assert step.phase == "forward" and stepper.info.name(step.node) == "E"
    assert "output     E scalar = inf" in step.text
    assert [st.phase for st in stepper].count("update") == 4  # it knows its η: the update too


@pytest.mark.parametrize("engine", ["compiled", "manual"])
def test_every_engine_names_the_same_op(run_at_60, engine):
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        history = train(SineNet(seed=0), epochs=50, eta=60, interval=10, seed=0, engine=engine)
    assert history.diverged.message == run_at_60.diverged.message


def test_a_healthy_run_records_no_divergence():
    history = train(SineNet(seed=0), epochs=2, interval=1)
    assert history.diverged is None


def hand_loop(eta: float, steps: int = 200):
    """The seed's training written by hand: forward, backward, SGD."""
    net = SineNet(seed=0)
    sgd = SGD(net.parameters(), eta)
    x, t = sine_data()
    for i in range(steps):
        k = i % 63
        sgd.zero_grad()
        loss = squared_error(net(x[k:k + 1].reshape(1, 1)), t[k:k + 1].reshape(1, 1))
        loss.backward()
        sgd.step()
    return net


def test_detect_anomaly_names_the_op_in_a_hand_written_loop():
    with np.errstate(all="ignore"), detect_anomaly(), pytest.raises(AnomalyError) as caught:
        hand_loop(eta=60)
    err = caught.value
    assert isinstance(err, FloatingPointError)
    assert err.phase == "forward" and err.name == "E" and err.node.op == "squared_error"
    assert str(err).startswith("square in E = squared_error(y2, t) overflowed at y2 = ")
    y, t = (p.data for p in err.node.parents)  # the numbers it names: really beyond float64
    assert abs(y - t).item() > np.sqrt(BIG)
    np.testing.assert_allclose(shown(str(err), "y2"), y.ravel(), rtol=1e-3)


def test_without_detect_anomaly_the_loop_runs_on_with_nan_as_before():
    with np.errstate(all="ignore"):
        net = hand_loop(eta=60)
    assert not all(np.isfinite(p.data).all() for p in net.parameters())
    assert not is_active()


def test_a_forward_overflow_names_numpys_operation_and_the_input():
    x = Value(800.0, label="x")
    with np.errstate(all="ignore"):
        loss = x.exp() * 0.0  # exp overflows to inf; inf · 0 is nan
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        loss.backward()
    assert str(caught.value) == "exp in exp#1 = exp(x) overflowed at x = 800"
    assert caught.value.phase == "forward" and caught.value.node is loss.parents[0]
    with pytest.raises(FloatingPointError):  # numpy agrees: e^800 is beyond float64
        with np.errstate(over="raise"):
            np.exp(800.0)
    assert x.grad == 0  # nothing was written


def test_a_backward_overflow_names_the_local_derivative_and_its_numbers():
    x = Value(np.array([1.0, 1e-320]), label="x")  # log is finite there, 1/x is not
    loss = (x.log() * 2.0).sum()
    assert np.isfinite(loss.data)
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        loss.backward()
    err = caught.value
    assert err.phase == "backward" and err.name == "log#1"
    assert str(err).startswith("the backward step of log#1 = log(x): divide overflowed, "
                               "sending ∂x = [2, inf], at ∂log#1 = [2, 2], x = [1, 1e-320]")
    with np.errstate(all="ignore"):
        assert np.isinf(2.0 / 1e-320)  # d/dx 2·log x = 2/x, by hand
    assert x.grad.sum() == 0  # the check raised before any .grad was written


def test_a_leaf_that_already_holds_inf_is_named_as_a_leaf():
    w = Value(np.array([1.0, np.inf]), label="w")
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"^w is not finite before any op "
                                         r"reads it: w = \[1, inf\] \(a leaf"):
        (w * 2.0).sum().backward()


def test_an_update_that_overflows_is_named_and_changes_nothing():
    w, b = Value(np.array([1.0, 2.0]), label="w"), Value(2.0, label="b")
    ((w * -10.0).sum() + b * 0.5).backward()  # ∂w = -10, ∂b = 0.5: finite
    sgd = SGD([b, w], eta=1e308)  # η·∂w = -1e309: beyond float64
    with detect_anomaly(), pytest.raises(AnomalyError) as caught:
        sgd.step()
    assert caught.value.phase == "update" and caught.value.node is w
    assert str(caught.value) == ("the update w ← w − η·∂w multiply overflowed at w = [1, 2], "
                                 "η = 1e+308, ∂w = [-10, -10]")
    assert list(w.data) == [1.0, 2.0] and b.data == 2.0  # b came first: not changed either


def test_the_mode_is_per_block_and_per_thread():
    seen = []
    with detect_anomaly():
        with detect_anomaly():
            pass
        assert is_active()  # the inner block left the outer one's mode
        other = threading.Thread(target=lambda: seen.append(is_active()))
        other.start()
        other.join()
    assert seen == [False] and not is_active()


def test_cli_train_names_the_op_in_one_line_and_writes_the_page_at_that_step(tmp_path):
    result = cli_here("train", "--eta", "60", "--epochs", "30", "--out", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert re.search(r"training diverged: epoch \d+, sample \d+: square in E = "
                     r"squared_error\(y2, t\) overflowed at y2 = ", result.stderr)
    assert "Error:inf" in result.stdout  # the post's line for the epoch it stopped in
    if (tmp_path / "explore.html").exists():  # with Graphviz: the page opens at E's step
        page = (tmp_path / "explore.html").read_text(encoding="utf-8")
        start = int(re.search(r'"start":(\d+)', page).group(1))
        assert f"step {start} · forward · E = squared_error(y2, t)" in page


@pytest.mark.parametrize("checking", [False, True])
def test_detect_anomaly_only_checks_the_update_it_makes_it_as_without(checking):
    """Inside detect_anomaly() SGD.step updates the same arrays in place, with one tick of
    the data-change clock for the whole step, exactly as outside (it used to assign new arrays)."""
    from tinygrad_sine import value as value_module

    w, b = Value(np.array([1.0, 2.0]), label="w"), Value(np.array([0.5]), label="b")
    ((w * w).sum() + (b * 3.0).sum()).backward()  # ∂w = 2w, ∂b = 3
    arrays, clock = (w.data, b.data), value_module._data_changes
    if checking:
        with detect_anomaly():
            SGD([w, b], eta=0.1).step()
    else:
        SGD([w, b], eta=0.1).step()
    assert w.data is arrays[0] and b.data is arrays[1]  # in place
    assert value_module._data_changes == clock + 1 and w._version == b._version == clock + 1
    np.testing.assert_allclose(w.data, [0.8, 1.6], rtol=1e-15)
    np.testing.assert_allclose(b.data, [0.2], rtol=1e-15)
