"""The learning page in a real browser: Debian's Chromium, headless, driven by Playwright.

As for the explorer (test_explore_browser.py, whose browser and tab
helpers these tests share): the system's chromium, nothing downloaded;
every page records its console errors and its requests, and each test ends
by checking there were none but the page's own file.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers import cli_here
from test_explore_browser import Opened

from tinygrad_sine.nn import SineNet
from tinygrad_sine.sine import train

SETTINGS = ("--epochs", "41", "--interval", "20", "--engine", "compiled")


@pytest.fixture(scope="module")
def run(tmp_path_factory, require_dot):
    """learn.html as ``tinygrad-sine train`` writes it, the lines it printed, and the same
    run's History, made again in Python."""
    folder = tmp_path_factory.mktemp("learn")
    result = cli_here("train", *SETTINGS, "--out", str(folder))
    assert result.returncode == 0, result.stderr
    printed = re.findall(r"^Epoch:\d+/41 Error:\S+$", result.stdout, re.M)
    history = train(SineNet(seed=0), epochs=41, interval=20, engine="compiled")
    return (folder / "learn.html").as_uri(), printed, history


@pytest.fixture(scope="module")
def tab(browser, run):
    tab = Opened(browser, run[0])
    yield tab
    tab.page.close()


def shown(tab: Opened) -> dict:
    return tab.page.evaluate("""() => ({
        epoch: Number(document.body.dataset.epoch),
        line: document.getElementById('line').textContent,
        hash: location.hash,
        slider: Number(document.getElementById('slider').value),
        stepEpoch: document.getElementById('explorer').dataset.epoch,
        paths: document.querySelectorAll('#fit path.output').length,
        units: document.querySelectorAll('#contributions path.unit').length,
    })""")


def test_the_slider_at_the_first_and_last_epoch_shows_the_error_train_printed(tab, run, tmp_path):
    _, printed, history = run
    tab.load()
    first = shown(tab)
    assert first["epoch"] == 0 and first["line"] == printed[0] and first["hash"] == "#epoch=0"
    assert first["paths"] == 1 and first["units"] == 3
    tab.page.screenshot(path=tmp_path / "epoch-0.png")
    last = len(history.frames) - 1
    tab.page.fill("#slider", str(last))
    end = shown(tab)
    assert end["epoch"] == 40 and end["line"] == printed[-1] and end["hash"] == "#epoch=40"
    tab.page.screenshot(path=tmp_path / "epoch-40.png", full_page=True)
    for name in ("epoch-0.png", "epoch-40.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    tab.check_quiet()


def test_keys_buttons_and_the_address_move_between_epochs_both_ways(tab, run):
    history = run[2]
    epochs = [f.epoch for f in history.frames]
    tab.load("#epoch=20")
    assert shown(tab)["epoch"] == 20
    tab.page.keyboard.press("ArrowRight")
    after = epochs[epochs.index(20) + 1]
    assert shown(tab)["epoch"] == after and shown(tab)["hash"] == f"#epoch={after}"
    tab.page.click("#prev")
    tab.page.keyboard.press("ArrowLeft")
    assert shown(tab)["epoch"] == epochs[epochs.index(20) - 1]
    tab.page.evaluate("location.hash = '#epoch=3'")  # an edited address
    tab.page.wait_for_function("document.body.dataset.epoch === '3'")
    tab.page.keyboard.press("Home")
    assert shown(tab)["epoch"] == 0 and tab.page.is_disabled("#prev")
    tab.check_quiet()


def test_play_runs_through_the_frames_and_pause_stops(tab):
    tab.load("#epoch=30")
    tab.page.click("#play")
    tab.page.wait_for_function("Number(document.body.dataset.epoch) > 31")
    tab.page.click("#play")  # pause
    stopped = shown(tab)["epoch"]
    tab.page.wait_for_timeout(300)
    assert shown(tab)["epoch"] == stopped and tab.page.inner_text("#play") == "▶ Play"
    tab.check_quiet()


def step_weights(frame) -> dict:
    """The numbers each parameter's forward step shows in the embedded explorer."""
    import json

    data = json.loads(frame.evaluate("document.getElementById('steps-data').textContent"))
    found = {}
    for step in data["steps"]:
        if step["phase"] == "forward" and step["name"] in ("w1", "b1", "w2", "b2"):
            value = re.search(r"value\s+(.*)", step["text"]).group(1)
            found[step["name"]] = np.array([float(v) for v in re.findall(r"-?\d\.?\d*(?:e-?\d+)?",
                                                                           value)])
    return found


def test_the_embedded_step_runs_at_that_epochs_recorded_weights(tab, run):
    history = run[2]
    tab.load("#epoch=20")
    assert shown(tab)["stepEpoch"] == "20"
    frame = tab.page.frame_locator("#explorer")
    frame.locator("body").wait_for()
    inner = tab.page.frames[1]
    inner.wait_for_function("document.body.dataset.step === '0'")
    weights = step_weights(inner)
    recorded = next(f for f in history.frames if f.epoch == 20).weights
    for name, want in zip(("w1", "b1", "w2", "b2"), recorded):
        np.testing.assert_allclose(weights[name], want.ravel(), rtol=1e-3)  # 4 digits shown
    assert "Epoch 20: its first training step" in inner.inner_text("h1")
    tab.page.keyboard.press("ArrowRight")  # the learning page moves; the step stays at 20
    assert shown(tab)["epoch"] > 20 and shown(tab)["stepEpoch"] == "20"
    assert "nearest epoch before it" in tab.page.inner_text("#step-help")
    inner.click("#next")  # the explorer works inside the page
    inner.wait_for_function("document.body.dataset.step === '1'")
    tab.check_quiet()


def test_a_page_for_xor_draws_the_plane_and_each_hidden_unit(browser, tmp_path):
    from viz.learn import PLANE, learn_page

    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    t = np.array([[0.0], [1.0], [1.0], [0.0]])
    history = train(SineNet(n_in=2, n_mid=3, wb_width=1.0, seed=1), data=(x, t), eta=0.3,
                    epochs=60, interval=20, batch_size=4, engine="compiled")
    learn_page(history, tmp_path / "xor.html", steps=2)
    page = Opened(browser, (tmp_path / "xor.html").as_uri()).load("#epoch=59")
    try:
        counts = page.page.evaluate("""() => ({
            cells: document.querySelectorAll('#fit rect[fill]').length,
            points: document.querySelectorAll('#fit circle.point').length,
            units: document.querySelectorAll('#units .small').length,
            unitCells: document.querySelectorAll('#unit1 rect[fill]').length,
        })""")
        page.page.screenshot(path=tmp_path / "xor.png")
        page.check_quiet()
    finally:
        page.page.close()
    assert counts == {"cells": PLANE * PLANE, "points": 4, "units": 3, "unitCells": PLANE * PLANE}


def test_jupyters_srcdoc_frame_runs_the_page(tab, run):
    history = run[2]
    tab.page.set_content(history._repr_html_())
    frame = tab.page.frames[1]
    frame.wait_for_function("document.body.dataset.epoch === '0'")
    frame.click("#next")
    assert frame.evaluate("document.body.dataset.epoch") == "1"
    tab.check_quiet()


def test_a_diverged_run_opens_at_its_epoch_and_the_step_that_overflowed(browser, tmp_path,
                                                                      require_dot):
    from viz.learn import learn_page

    with pytest.warns(RuntimeWarning):
        with np.errstate(all="ignore"):  # it overflows: that is the point
            history = train(SineNet(seed=0), eta=60, epochs=50, interval=5)
    d = history.diverged
    learn_page(history, tmp_path / "diverged.html")
    page = Opened(browser, (tmp_path / "diverged.html").as_uri()).load()
    try:
        assert shown(page)["epoch"] == d.epoch
        inner = page.page.frames[1]
        inner.wait_for_function(f"document.body.dataset.step === '{d.step}'")
        assert d.node in inner.inner_text("#text")
        page.page.screenshot(path=tmp_path / "diverged.png")
        page.check_quiet()
    finally:
        page.page.close()


def test_the_embedded_steps_update_is_before_minus_eta_times_gradient(tab, run):
    history = run[2]
    frame = next(f for f in history.frames if f.epoch == 20)
    tab.load("#epoch=20")
    inner = tab.page.frames[1]
    inner.wait_for_function("document.body.dataset.step === '0'")
    last = inner.get_attribute("#slider", "max")
    inner.fill("#slider", last)  # the last step: b2's update
    inner.wait_for_function(f"document.body.dataset.step === '{last}'")
    text = inner.evaluate("document.getElementById('text').textContent")
    assert "update · b2 ← b2 − η·∂b2" in text and "η = 0.1" in text
    found = re.search(r"after\s+b2 = \[(\S+)\] − 0\.1 · \[(\S+)\] = \[(\S+)\]", text)
    before, gradient, after = (float(v) for v in found.groups())
    last_digit = 10.0 ** -len(found.group(3).split(".")[1])  # the numbers work out as shown
    assert abs(before - 0.1 * gradient - after) <= last_digit
    w1, b1, w2, b2 = frame.weights
    assert before == pytest.approx(b2[0], rel=5e-4)  # the recorded weights, to the digits shown
    # ∂b2 = δ = y − t for the epoch's first sample, from the recorded weights in numpy
    (i,) = frame.batch
    x, t = history.samples
    y = (1 / (1 + np.exp(-(x[i] @ w1 + b1)))) @ w2 + b2
    assert gradient == pytest.approx(float(y[0] - t[i, 0]), rel=5e-4)
    tab.check_quiet()
