"""What train records per frame, and the learning page's numbers, checked without a browser.

Every number is checked against something computed apart from the code
under test: a plain numpy forward pass of the recorded weights, central
differences for the gradients' sizes, a second training run for the
weights, the lines train prints.  The page in a real browser is
test_learn_browser.py.
"""

from __future__ import annotations

import json
import pickle
import re

import numpy as np
import pytest

from tinygrad_sine.nn import SineNet
from tinygrad_sine.record import Recorder, frame_epochs
from tinygrad_sine.sine import progress_line, sine_data, train
from viz.learn import GRID, PLANE, learn_data, learn_page


def sigmoid(u):
    return 1 / (1 + np.exp(-u))


def numpy_net(weights, x):
    """The post's 1-…-1 network in plain numpy: (hidden outputs, output)."""
    w1, b1, w2, b2 = weights
    h = sigmoid(x @ w1 + b1)
    return h, h @ w2 + b2


@pytest.fixture(scope="module")
def run():
    """A short run of the seed's network: 61 epochs, printed every 20."""
    printed = []
    history = train(SineNet(seed=0), epochs=61, interval=20, engine="compiled",
                    callback=lambda e, err, h: printed.append(progress_line(e, 61, err)))
    return history, printed


def page_data(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="learn-data">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


def unpack(series) -> np.ndarray:
    values = np.array(series["values"], dtype=float)  # null -> nan
    return values * series["scale"]


def test_frames_hold_the_weights_as_each_epoch_began(run):
    history, _ = run
    epochs = [f.epoch for f in history.frames]
    assert epochs[:5] == [0, 1, 2, 3, 4] and epochs[-1] == 60  # dense early, the last one in
    assert {0, 20, 40, 60} <= set(epochs)  # every printed epoch
    first = [p.data for p in SineNet(seed=0).parameters()]
    for got, want in zip(history.frames[0].weights, first):
        np.testing.assert_array_equal(got, want)
    # a second run stopped after 3 epochs ends where the first run's frame 3 begins
    short = SineNet(seed=0)
    train(short, epochs=3, engine="compiled", frames=0)
    for got, want in zip(history.frames[3].weights, short.parameters()):
        np.testing.assert_allclose(got, want.data, rtol=1e-13, atol=1e-15)


def test_frame_errors_are_the_errors_train_prints(run):
    history, printed = run
    by_epoch = {f.epoch: f.error for f in history.frames}
    shown = [progress_line(e, 61, by_epoch[e]) for e in history.epochs]
    assert shown == printed
    page = page_data(learn_page(history, steps=0))
    lines = dict(zip(page["epochs"], page["lines"]))
    assert [lines[e] for e in history.epochs] == printed


def test_gradient_sizes_are_mean_abs_central_differences_of_the_mean_error(run):
    history, _ = run
    x, t = (a.reshape(-1, 1) for a in sine_data())
    frame = history.frames[7]
    weights = [w.copy() for w in frame.weights]

    def mean_error():
        return float(np.sum(0.5 * (numpy_net(weights, x)[1] - t) ** 2) / len(x))

    h = 1e-6
    for i, w in enumerate(weights):
        numeric = np.zeros_like(w)
        for index in np.ndindex(w.shape):
            keep = w[index]
            w[index] = keep + h
            up = mean_error()
            w[index] = keep - h
            down = mean_error()
            w[index] = keep
            numeric[index] = (up - down) / (2 * h)
        assert frame.grad_sizes[i] == pytest.approx(np.mean(np.abs(numeric)), rel=1e-6)
        assert frame.weight_sizes[i] == pytest.approx(np.mean(np.abs(w)), rel=1e-15)


def test_the_panels_are_a_numpy_forward_pass_of_the_recorded_weights(run):
    history, _ = run
    curves = learn_data(history)
    x, t = (a.reshape(-1, 1) for a in sine_data())
    grid = np.linspace(x.min(), x.max(), GRID).reshape(-1, 1)
    np.testing.assert_allclose(curves.grid, grid[:, 0])
    for f, frame in enumerate(history.frames):
        h, y = numpy_net(frame.weights, grid)
        w2, b2 = frame.weights[2], frame.weights[3]
        np.testing.assert_allclose(curves.output[f], y[:, 0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(curves.contributions[f], (h * w2[:, 0]).T, rtol=1e-12,
                                   atol=1e-14)
        assert curves.bias[f] == b2[0]
        # the three sigmoids' shares and the bias add up to the output
        np.testing.assert_allclose(curves.contributions[f].sum(axis=0) + curves.bias[f],
                                   curves.output[f], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(curves.residual[f], numpy_net(frame.weights, x)[1][:, 0]
                                   - t[:, 0], rtol=1e-12, atol=1e-14)
    # and the page carries those numbers, to 1/10,000 of each series' size
    page = page_data(learn_page(history, steps=0))
    for name in ("output", "contributions"):
        series = page[name]
        got = unpack(series)
        want = getattr(curves, name)
        assert np.abs(got - want).max() <= series["scale"] / 2 * 1.001
        assert series["scale"] <= np.abs(want).max() / 5000
    order = np.argsort(x[:, 0], kind="stable")
    assert np.abs(unpack(page["residual"]) - curves.residual[:, order]).max() <= (
        page["residual"]["scale"] / 2 * 1.001)
    assert page["samples"]["x"] == pytest.approx(x[order, 0].tolist(), rel=1e-5)


def test_recording_changes_nothing_in_the_training(run):
    history, _ = run
    net = SineNet(seed=0)
    plain = train(net, epochs=61, interval=20, engine="compiled", frames=0)
    assert plain.frames == [] and plain.errors == history.errors
    auto = train(SineNet(seed=0), epochs=3, interval=1, engine="auto")
    bare = train(SineNet(seed=0), epochs=3, interval=1, engine="auto", frames=0)
    assert auto.errors == bare.errors


def test_the_frame_schedule_stays_a_few_hundred_however_long():
    assert len(frame_epochs(10**9, 1)) <= 300
    assert len(frame_epochs(2001, 200)) <= 300
    dense = frame_epochs(2001, 200)
    assert set(range(19)) <= set(dense)  # every epoch of the fast start
    assert set(range(0, 2001, 200)) <= set(dense)
    assert frame_epochs(1, 1) == [0] and frame_epochs(5, 1, frames=0) == []


def test_a_big_network_keeps_fewer_frames_and_history_stays_small(run):
    history, _ = run
    assert len(pickle.dumps(history)) < 1_000_000
    big = SineNet(n_mid=20_000, seed=0)  # 60,001 weights: 480 KB a frame
    x, t = (a.reshape(-1, 1) for a in sine_data())
    recorder = Recorder(big, x, t, 2001, 200, 200, loss=None)
    assert 2 <= len(recorder.epochs) <= 20


def test_train_refuses_a_bad_number_of_frames():
    with pytest.raises(ValueError, match="frames"):
        train(SineNet(seed=0), epochs=2, frames=-3)


def test_learn_page_refuses_a_history_without_frames():
    history = train(SineNet(seed=0), epochs=2, frames=0)
    with pytest.raises(ValueError, match="no frames"):
        learn_page(history)
    with pytest.raises(TypeError, match="History"):
        learn_page([1, 2])
    assert history._repr_html_() is None  # Jupyter shows its text instead


def test_the_seed_runs_page_stays_under_2_mb(require_dot):
    history = train(SineNet(seed=0), epochs=2001, engine="compiled")
    page = learn_page(history)
    assert len(page.encode("utf-8")) < 2_000_000
    data = page_data(page)
    assert sorted(map(int, data["steps"])) == list(range(0, 2001, 200))
    assert "<script src" not in page and "<link" not in page  # one file (no request: the
    # browser test watches them)


def xor():
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return x, np.array([[0.0], [1.0], [1.0], [0.0]])


def test_a_page_for_xor_maps_the_output_and_each_hidden_unit_over_the_plane():
    x, t = xor()
    history = train(SineNet(n_in=2, n_mid=3, wb_width=1.0, seed=1), data=(x, t), eta=0.3,
                    epochs=300, interval=100, batch_size=4, engine="compiled")
    curves = learn_data(history)
    assert curves.inputs == 2 and curves.grid.shape == (PLANE * PLANE, 2)
    for f in (0, len(history.frames) - 1):
        h, y = numpy_net(history.frames[f].weights, curves.grid)
        np.testing.assert_allclose(curves.output[f], y[:, 0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(curves.units[f], h.T, rtol=1e-12, atol=1e-14)
    data = page_data(learn_page(history, steps=0))
    assert data["inputs"] == 2 and data["plane"]["n"] == PLANE
    assert len(data["units"]["values"][0]) == 3
    assert data["samples"]["t"] == [0.0, 1.0, 1.0, 0.0]


def test_a_diverged_runs_page_opens_where_it_went_wrong(require_dot):
    with pytest.warns(RuntimeWarning, match="stopped"):
        with np.errstate(all="ignore"):  # it overflows: that is the point
            history = train(SineNet(seed=0), eta=60, epochs=50, interval=5)
    d = history.diverged
    data = page_data(learn_page(history))
    assert data["epochs"][data["start"]] == max(e for e in data["epochs"] if e <= d.epoch)
    step = data["steps"][str(data["epochs"][data["start"]])]
    assert "Where the run went wrong" in step and d.message.split(":")[0] in step
    inner = json.loads(re.search(r'id="steps-data">(.*?)</script>', step, re.S).group(1))
    assert inner["start"] == d.step is not None
    assert data["notes"][data["start"]] == f"train stopped: {d.message}"
