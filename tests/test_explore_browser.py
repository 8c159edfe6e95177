"""The explorer page in a real browser: Debian's Chromium, headless, driven by Playwright.

One browser for the whole module.  The browser is the system's
(``/usr/bin/chromium``, from ``apt-get install chromium``): nothing is
downloaded.  Without it (or without the ``playwright`` package) these tests
skip on a developer's machine and fail when ``CI=true``.  Every page opened
here records its console messages, errors and network requests; each test
ends by checking there were no errors and no request but the page's own file.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers import cli

from tinygrad_sine import Stepper, Value
from tinygrad_sine.cli import _seed_step, build_parser
from tinygrad_sine.manual import ManualMiddle, ManualOutput, ManualSineNet
from tinygrad_sine.nn import SineNet
from tinygrad_sine.sine import train
from viz.explore import explore


@pytest.fixture(scope="module")
def seed(tmp_path_factory, require_dot):
    """The seed step's page as ``tinygrad-sine explore`` writes it, and its Stepper."""
    folder = tmp_path_factory.mktemp("explore")
    result = cli("explore", "--out", str(folder / "step.html"))
    assert result.returncode == 0, result.stderr
    args = build_parser().parse_args(["explore"])  # the same defaults
    loss, _ = _seed_step(args)
    return (folder / "step.html").as_uri(), Stepper(loss, eta=args.eta)


class Opened:
    """A browser tab, with what its pages said on the console and what they fetched."""

    def __init__(self, browser, url: str):
        self.page = browser.new_page(viewport={"width": 1366, "height": 768})
        self.errors, self.requests = [], []
        self.page.on("console", lambda m: m.type in ("error", "warning")
                     and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.url = url

    def load(self, suffix: str = "") -> Opened:
        """Load the page afresh (not a jump within it), at ``url + suffix``."""
        self.page.goto("about:blank")
        self.page.goto(self.url + suffix)
        return self

    def state(self) -> dict:
        """What the page shows, read in one round trip."""
        return self.page.evaluate("""() => {
            const ids = s => [...document.querySelectorAll(s)].map(g => g.id);
            const current = document.querySelectorAll('#diagram g.node.current');
            return {
                step: Number(document.body.dataset.step),
                text: document.getElementById('text').textContent,
                current: ids('#diagram g.node.current'),
                label: current.length === 1 ? current[0].textContent : '',
                visited: ids('#diagram g.node.visited'),
                active: document.querySelectorAll('#diagram g.edge.active').length,
                hash: location.hash,
            };
        }""")

    def check_quiet(self):
        """No errors or warnings on the console, no request but for the page's own file."""
        errors, self.errors[:] = list(self.errors), []
        requests, self.requests[:] = list(self.requests), []
        assert errors == []
        assert {u.split("#")[0] for u in requests} <= {self.url, "about:blank"}


@pytest.fixture(scope="module")
def tab(browser, seed):
    tab = Opened(browser, seed[0])
    yield tab
    tab.page.close()


@pytest.fixture
def opened(tab):
    """``opened(suffix)`` loads the seed page in the module's tab; checks it stayed quiet."""
    yield tab.load
    tab.check_quiet()


def box_of(stepper: Stepper, node) -> str:
    return "v" + str(next(i for i, n in enumerate(stepper.info.order) if n is node))


def shows_step(page: Opened, stepper: Stepper, index: int) -> None:
    """The page stands at step ``index`` exactly as ``stepper`` has it."""
    step, shown = stepper.goto(index), page.state()
    assert shown["step"] == index
    assert shown["text"] == step.text
    assert shown["current"] == [box_of(stepper, step.node)]
    assert stepper.info.name(step.node) in shown["label"]  # the box Graphviz drew for that node
    assert set(shown["visited"]) == {box_of(stepper, n) for n in stepper.visited()}
    # the edges into the node's op, and the op's edge into the node
    assert shown["active"] == (len(step.node.parents) + 1 if step.node.parents else 0)
    assert shown["hash"] == f"#step={index}"


def test_arrow_keys_walk_the_steps_as_the_stepper_does(opened, seed):
    stepper = seed[1]
    page = opened()
    shows_step(page, stepper, 0)
    at = 0
    for target in (1, 5, 13, 21, len(stepper) - 1):
        for _ in range(target - at):
            page.page.keyboard.press("ArrowRight")
        at = target
        shows_step(page, stepper, at)
    page.page.keyboard.press("ArrowRight")  # past the last step: stays
    shows_step(page, stepper, len(stepper) - 1)
    for _ in range(3):
        page.page.keyboard.press("ArrowLeft")
    shows_step(page, stepper, len(stepper) - 4)


def test_left_arrow_and_buttons_go_back_and_stop_at_step_0(opened, seed):
    stepper = seed[1]
    page = opened()
    page.page.click("#next")
    page.page.click("#next")
    shows_step(page, stepper, 2)
    page.page.keyboard.press("ArrowLeft")
    shows_step(page, stepper, 1)
    page.page.click("#prev")
    page.page.keyboard.press("ArrowLeft")  # before step 0: stays
    shows_step(page, stepper, 0)
    assert page.page.is_disabled("#prev") and not page.page.is_disabled("#next")


def test_clicking_a_box_goes_to_that_nodes_next_step(opened, seed):
    stepper = seed[1]
    page = opened("#step=3")
    stepper.goto(3)
    name = "u1"
    (node,) = stepper.info.find(name)
    for _ in range(3):  # forward step, backward step, then round to the forward step again
        page.page.click(f"#{box_of(stepper, node)}")
        shows_step(page, stepper, stepper.goto(name).index)
    page.page.click("#op" + box_of(stepper, node)[1:])  # v4 is drawn by op4: the same
    shows_step(page, stepper, stepper.goto(name).index)


def test_a_collapsed_layers_tooltip_names_the_layer(browser, tmp_path, require_dot):
    result = cli("explore", "--collapse", "--out", str(tmp_path / "c.html"))
    assert result.returncode == 0, result.stderr
    page = Opened(browser, (tmp_path / "c.html").as_uri()).load()
    try:
        tips = page.page.evaluate("""() => Object.fromEntries(
            [...document.querySelectorAll('#diagram g.node.steppable')].map(
                g => [g.id, g.querySelector('title').textContent]))""")
        page.check_quiet()
    finally:
        page.page.close()
    assert tips["layer0"] == "layer 1 · middle (click: its next step)"
    assert tips["layer1"] == "layer 2 · output (click: its next step)"


def test_the_slider_moves_to_a_step(opened, seed):
    page = opened()
    page.page.fill("#slider", "17")  # a range input takes its value and fires `input`
    shows_step(page, seed[1], 17)
    page.page.keyboard.press("ArrowRight")  # with the slider focused: one step, not two
    shows_step(page, seed[1], 18)


def test_the_address_opens_a_step_and_follows_navigation(opened, seed):
    stepper = seed[1]
    page = opened("#step=21")
    shows_step(page, stepper, 21)
    page.page.keyboard.press("ArrowRight")
    shows_step(page, stepper, 22)  # the address now ends in #step=22
    page.page.evaluate("location.hash = '#step=4'")  # an edited address
    page.page.wait_for_function("document.body.dataset.step === '4'")
    shows_step(page, stepper, 4)


def test_screenshots_at_a_forward_and_a_backward_step(opened, seed, tmp_path):
    page = opened("#step=5")
    page.page.screenshot(path=tmp_path / "forward-step-5.png")
    page.page.keyboard.press("End")
    for _ in range(8):  # from the last update step back to backward step 21
        page.page.keyboard.press("ArrowLeft")
    shows_step(page, seed[1], 21)
    page.page.screenshot(path=tmp_path / "backward-step-21.png")
    for name in ("forward-step-5.png", "backward-step-21.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_jupyters_srcdoc_frame_runs_the_page(tab, seed):
    stepper = Stepper(seed[1].root)
    stepper.goto(7)
    tab.page.set_content(stepper._repr_html_())
    frame = tab.page.frames[1]
    frame.wait_for_function("document.body.dataset.step === '7'")
    assert frame.evaluate("document.getElementById('text').textContent") == stepper[7].text
    frame.click("#next")  # the buttons work in the sandbox (no history there: no error either)
    assert frame.evaluate("document.getElementById('text').textContent") == stepper[8].text
    tab.check_quiet()


# ---------------------------------------------------------------- gradients in the boxes, the update

NUMBER = r"-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?"


def numbers(text: str) -> np.ndarray:
    return np.array([float(v) for v in re.findall(NUMBER, text)])


def box_rows(page: Opened) -> dict:
    """Each box's gradient and value rows as the page shows them: ``{box: {class: (text,
    state)}}``."""
    return page.page.evaluate("""() => Object.fromEntries(
        [...document.querySelectorAll('#diagram g.node')].map(g => [g.id, Object.fromEntries(
            [...g.querySelectorAll('text.grad, text.data')].map(t => [t.getAttribute('class'),
                [t.textContent, t.getAttribute('data-state')]]))]))""")


def central_difference(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """∂f/∂x by central differences, element by element (the oracle, not the engine)."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        grad[i] = (f(up) - f(down)) / (2 * eps)
    return grad


@pytest.fixture
def small_page(browser, tmp_path, require_dot):
    """f = Σ (tanh(a·b) + a): ∂a arrives twice, from the add and then from the mul."""
    a, b = Value(0.7, label="a"), Value(np.array([1.5, -0.4]), label="b")
    root = ((a * b).tanh() + a).sum()
    stepper = Stepper(root, eta=0.5)
    explore(stepper, tmp_path / "small.html")
    page = Opened(browser, (tmp_path / "small.html").as_uri())
    yield page, stepper, a, b
    page.check_quiet()
    page.page.close()


def test_boxes_show_the_running_total_then_the_final_gradient(small_page, tmp_path):
    page, stepper, a, b = small_page
    box = box_of(stepper, a)
    arrivals = [at for at, _ in stepper.arrivals()[a]]
    assert len(arrivals) == 2 and arrivals[0] < arrivals[1]  # from two backward steps
    page.load(f"#step={arrivals[0] - 1}")  # before any contribution
    assert box_rows(page)[box]["grad"] == ["grad —", ""]
    page.load(f"#step={arrivals[0]}")  # the add's step: ∂a = Σ 1 over b's two elements = 2
    text, state = box_rows(page)[box]["grad"]
    assert text == "grad 2  (1 of 2 so far)" and state == "partial"
    page.page.screenshot(path=tmp_path / "partial.png")
    page.load(f"#step={arrivals[1]}")  # the mul's step: the final value
    text, state = box_rows(page)[box]["grad"]
    assert state == "final" and "so far" not in text

    def f(av):
        return float(np.sum(np.tanh(av * b.data) + av))

    want = central_difference(f, np.array(a.data))
    np.testing.assert_allclose(numbers(text), want, rtol=5e-4)  # 4 digits shown
    assert numbers(text)[0] != 2.0  # the mul's contribution came on top
    page.page.keyboard.press("End")  # the last update step: every box final, b's data new
    rows = box_rows(page)
    want_b = central_difference(lambda bv: float(np.sum(np.tanh(a.data * bv) + a.data)), b.data)
    np.testing.assert_allclose(numbers(rows[box_of(stepper, b)]["grad"][0]), want_b, rtol=5e-4)
    text, state = rows[box_of(stepper, b)]["data"]
    assert state == "updated" and text.startswith("data ")
    np.testing.assert_allclose(numbers(text), b.data - 0.5 * want_b, rtol=1e-3)
    page.page.screenshot(path=tmp_path / "updated.png")
    for name in ("partial.png", "updated.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_update_step_shows_before_minus_eta_gradient_equals_after(opened, seed, tmp_path):
    """Checked against the hand-derived formulas of manual.py and the net's own weights."""
    stepper = seed[1]
    net_x = next(n for n in stepper.info.order if stepper.info.name(n) == "x").data
    net_t = next(n for n in stepper.info.order if stepper.info.name(n) == "t").data
    layers = stepper.info.layers
    manual = ManualSineNet([ManualMiddle(layers[0].w.data, layers[0].b.data, 1),
                            ManualOutput(layers[1].w.data, layers[1].b.data, 2)])
    manual.forward(net_x)
    manual.backward(net_t)
    by_hand = {id(layers[0].w): manual.layers[0].grad_w, id(layers[0].b): manual.layers[0].grad_b,
               id(layers[1].w): manual.layers[1].grad_w, id(layers[1].b): manual.layers[1].grad_b}
    page = opened()
    updates = [st for st in stepper if st.phase == "update"]
    assert len(updates) == 4
    for step in updates:
        page.page.fill("#slider", str(step.index))
        shown = page.state()
        assert shown["step"] == step.index and shown["text"] == step.text
        line = next(x for x in shown["text"].splitlines() if x.startswith("  after"))
        found = re.fullmatch(r"  after\s+(\S+) = (.*) − (\S+) · (.*) = (.*)", line)
        name, before, eta, grad_, after = found.groups()
        p = step.node
        assert name == stepper.info.name(p) and float(eta) == 0.1
        b_, g_, a_ = numbers(before), numbers(grad_), numbers(after)
        np.testing.assert_allclose(b_, p.data.ravel(), rtol=1e-3)  # the weights it had
        np.testing.assert_allclose(g_, by_hand[id(p)].ravel(), rtol=1e-3)  # manual.py's ∂w
        scale = 10.0 ** (np.floor(np.log10(np.abs(a_))) - 3)
        assert np.all(np.abs(b_ - 0.1 * g_ - a_) <= 0.5 * scale + 1e-15), line  # as shown
        np.testing.assert_allclose(a_, (p.data - 0.1 * by_hand[id(p)]).ravel(), rtol=1e-3)
        text, state = box_rows(page)[box_of(stepper, p)]["data"]
        assert state == "updated"  # the box shows the new value
        np.testing.assert_allclose(numbers(text), a_, rtol=1e-3)
    page.page.screenshot(path=tmp_path / "update-step.png")


def test_the_divergence_page_opens_at_the_op_that_overflowed(browser, tmp_path, require_dot):
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        history = train(SineNet(seed=0), epochs=20, eta=60, interval=10)
    d = history.diverged
    with np.errstate(all="ignore"):
        explore(d.stepper(SineNet(seed=0)), tmp_path / "diverged.html", start=d.step)
    page = Opened(browser, (tmp_path / "diverged.html").as_uri()).load()
    try:
        shown = page.state()
        page.page.screenshot(path=tmp_path / "diverged.png")
        page.check_quiet()
    finally:
        page.page.close()
    assert shown["step"] == d.step and shown["text"].startswith(
        f"step {d.step} · forward · E = squared_error(y2, t)")
    assert "output     E scalar = inf" in shown["text"]


def test_the_seeds_manual_values_appear_once_the_boxs_gradient_is_final(opened, seed):
    stepper = seed[1]
    page = opened("#step=13")  # the first backward step: E's; no gradient is final below it
    shown = page.page.evaluate("""() => Object.fromEntries(
        [...document.querySelectorAll('#diagram g.node')].map(g => [g.id,
            [...g.querySelectorAll('text.seed')].map(t => getComputedStyle(t).visibility)]))""")
    assert sum(len(v) for v in shown.values()) == 8  # 4 quantities in each of 2 layers
    assert all(v == "hidden" for vs in shown.values() for v in vs)
    page.page.fill("#slider", "20")  # y1's backward step: ∂y1 has arrived, ∂w1 not yet
    (y1,), (w1,) = stepper.info.find("y1"), stepper.info.find("w1")

    def visible(node) -> list[str]:
        return page.page.evaluate(f"""() => [...document.querySelectorAll(
            '#{box_of(stepper, node)} text.seed')].map(t => getComputedStyle(t).visibility)""")

    assert visible(y1) == ["visible"] and visible(w1) == ["hidden"]
    page.page.keyboard.press("End")
    assert visible(w1) == ["visible"]


@pytest.fixture(scope="module")
def wide(tmp_path_factory, require_dot):
    """A 1-5-4-1 tanh net's training step drawn left to right: a wide, flat diagram."""
    from tinygrad_sine.nn import MLP
    from tinygrad_sine.stepper import training_step

    loss = training_step(MLP(1, [5, 4], 1, activation="tanh", seed=0),
                         np.array([[0.4]]), np.array([[0.9]]))
    path = tmp_path_factory.mktemp("wide") / "wide.html"
    explore(loss, path, rankdir="LR")
    return path.as_uri(), Stepper(loss)


READABLE_PX = 9  # the smallest text of a box, in CSS pixels, at the page's default view


def test_a_wide_diagram_keeps_its_boxes_readable_and_scrolls(browser, wide, tmp_path):
    page = Opened(browser, wide[0]).load("#step=25")
    try:
        shown = page.page.evaluate("""() => {
            const svg = document.querySelector('#diagram svg');
            const diagram = document.getElementById('diagram');
            const texts = [...svg.querySelectorAll('g.node text')];
            return {heights: texts.map(t => t.getBoundingClientRect().height),
                    fonts: texts.map(t => Number(t.getAttribute('font-size')) *
                                          svg.getScreenCTM().a),
                    scrolls: diagram.scrollWidth > diagram.clientWidth,
                    current: diagram.querySelector('g.node.current').getBoundingClientRect(),
                    view: diagram.getBoundingClientRect()};
        }""")
        page.page.screenshot(path=tmp_path / "wide.png")
        page.check_quiet()
    finally:
        page.page.close()
    assert min(shown["fonts"]) >= READABLE_PX - 0.01  # fit to width would make it ≈ 2 px
    assert min(shown["heights"]) >= READABLE_PX
    assert shown["scrolls"]  # the rest of the diagram is a scroll away
    box, view = shown["current"], shown["view"]  # and the current box is in view
    assert view["left"] <= box["left"] and box["right"] <= view["right"]


def test_the_panel_never_breaks_a_line_inside_a_formula(browser, wide):
    """At E's backward step the local derivative is two formulas: a line may break
    between them, never inside one (`∂t = −∂E` / `· (y3 − t)`)."""
    stepper = wide[1]
    k = next(st.index for st in stepper if st.phase == "backward")
    formulas = ["∂y3 = ∂E · (y3 − t)", "∂t = −∂E · (y3 − t)", "(the start: ∂E/∂E = 1)"]
    assert all(f in stepper[k].text for f in formulas)
    page = Opened(browser, wide[0])
    try:
        for width in (1366, 1100, 900):  # the panel narrower and narrower
            page.page.set_viewport_size({"width": width, "height": 700})
            page.load(f"#step={k}")
            shown = page.page.evaluate("""(formulas) => {
                const text = document.getElementById('text');
                const line = parseFloat(getComputedStyle(text).lineHeight);
                const walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
                const heights = {};
                for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                    for (const f of formulas) {
                        const at = node.textContent.indexOf(f);
                        if (at < 0) continue;
                        const range = document.createRange();
                        range.setStart(node, at);
                        range.setEnd(node, at + f.length);
                        heights[f] = range.getBoundingClientRect().height;
                    }
                }
                return {line: line, heights: heights, text: text.textContent};
            }""", formulas)
            assert shown["text"] == stepper[k].text
            assert set(shown["heights"]) == set(formulas), width
            for f, height in shown["heights"].items():
                assert 0 < height <= 1.2 * shown["line"], (width, f, height)  # one line
        page.check_quiet()
    finally:
        page.page.close()
