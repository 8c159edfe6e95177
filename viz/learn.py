"""Watch a network learn: the learning page and the animation, from a ``History``.

``train`` keeps frames (:class:`tinygrad_sine.record.Frame`): the weights as
each frame epoch began, their gradients' sizes, the epoch's error.  Here
the panels' curves are computed from those weights, once, with the
network's own forward pass on a copy of it (``History.model``), and drawn
twice:

* :func:`learn_page` — one self-contained HTML page: an epoch slider,
  play/pause, ← / →, ``#epoch=N`` in the address; the panels drawn as SVG
  by ``learn.js`` from the numbers embedded as JSON; the post's line
  ``Epoch:200/2001 Error:…`` for the chosen epoch; and one training step at
  that epoch's weights, in the explorer (``viz.explore``), embedded.
* :func:`animate` — the same panels as a GIF (matplotlib's Pillow writer)
  or an MP4 (ffmpeg).

The panels, for a network with one input:

* **fit** — the post's dashed target (for the post's data), the samples,
  and the network's output on a fine grid over the input range;
* **contributions** — each unit ``j`` of the last hidden layer times its
  weight into the output, ``w_j · y_j(x)``, and the output's bias ``b``:
  they add up to the output (for the post's net, three sigmoids that sum
  to the sine).  When the output layer has an activation other than the
  identity, they add up to its input ``u`` instead;
* **residual** — ``y(x_i) − t_i`` at each sample;
* **error** — the mean error ``train`` prints, on a log scale;
* **|∂w|** and **|w|** — per parameter, the mean size of its gradient and
  of its values, over epochs (log scale).

With two inputs the fit becomes a map of the output over the input plane
with the samples on top, and each last-hidden unit gets a small map of its
own output.  The output shown is the first output column.
"""

from __future__ import annotations

import copy
import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinygrad_sine.autograd import no_grad
from tinygrad_sine.sine import (
    LOSSES,
    History,
    _copy_at,
    _loss_function,
    progress_line,
    sine_data,
    step_graph,
)
from tinygrad_sine.value import Value

from .page import Page, fill, html_page, write_page

ASSETS = ("learn.js", "page.css", "learn.css")  # read at build time (setup.cfg: *.js, *.css)
GRID = 101  # points of the fine grid over one input
PLANE = 24  # points a side of the grid over two inputs
MAX_UNITS = 8  # hidden units shown, at most
MAX_STEPS = 12  # epochs with an embedded training step, at most


# ---------------------------------------------------------------- the numbers


@dataclass
class Curves:
    """The panels' numbers for every frame of a history (``learn_data`` computes them).

    ``inputs`` is 1 or 2 (0 when the net has more inputs: only the error and
    size panels).  ``grid`` are the points the output is computed at: shape
    ``(GRID,)`` for one input, ``(PLANE², 2)`` for two.  Per frame ``f``:
    ``output[f]`` the first output column on the grid, ``units[f]`` the
    last hidden layer's units on the grid, ``contributions[f]`` those times
    their weights into the output, ``bias[f]`` the output's bias,
    ``residual[f]`` ``y − t`` at the samples.  ``contributions`` and
    ``bias`` are None when the net has no hidden layer to read.
    """

    epochs: list[int]
    errors: list[float]
    inputs: int
    grid: np.ndarray
    output: np.ndarray
    residual: np.ndarray
    units: np.ndarray | None = None
    contributions: np.ndarray | None = None
    bias: np.ndarray | None = None
    pre_activation: bool = False  # contributions add up to u, not to y
    grad_sizes: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    weight_sizes: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


def learn_data(history: History) -> Curves:
    """The panels' numbers, computed from the frames' weights (see :class:`Curves`).

    Each frame's weights are loaded into a copy of ``history.model`` and
    its own forward pass runs on the grid (and on the samples, for the
    residual), without recording a graph.
    """
    frames = _frames(history, "learn_data")
    x, t = history.samples
    model = copy.deepcopy(history.model)
    params = list(model.parameters())
    inputs = x.shape[1] if x.shape[1] in (1, 2) else 0
    grid = _grid(x, inputs)
    last = _last_layer(model)
    outs, units, contribs, biases, resids = [], [], [], [], []
    with no_grad(), np.errstate(all="ignore"):
        for frame in frames:
            for p, w in zip(params, frame.weights):
                p.data = w
            resids.append(_first(model(x)) - t[:, 0])  # arrays in, as train feeds it
            if not inputs:
                continue
            outs.append(_first(model(grid.reshape(len(grid), -1))))
            if last is not None:  # the last hidden layer: what the output layer was fed
                hidden = np.asarray(last.x.data)
                w, b = np.asarray(last.w.data), np.asarray(last.b.data)
                units.append(hidden.T[:MAX_UNITS])
                contribs.append((hidden * w[:, 0]).T[:MAX_UNITS])
                biases.append(float(b[0]))
    n_frames = len(frames)
    empty = np.zeros((n_frames, 0))
    return Curves(
        epochs=[f.epoch for f in frames],
        errors=[float(f.error) for f in frames],
        inputs=inputs,
        grid=grid,
        output=np.array(outs) if outs else empty,
        residual=np.array(resids),
        units=np.array(units) if units else None,
        contributions=np.array(contribs) if contribs else None,
        bias=np.array(biases) if biases else None,
        pre_activation=last is not None and last.activation_name != "identity",
        grad_sizes=np.array([f.grad_sizes for f in frames]),
        weight_sizes=np.array([f.weight_sizes for f in frames]),
    )


def _frames(history: History, where: str):
    if not isinstance(history, History):
        raise TypeError(
            f"{where}: expected the History that train returns, got {type(history).__name__}"
        )
    if not history.frames or history.samples is None or history.model is None:
        raise ValueError(
            f"{where}: the history has no frames to draw; train with frames ≥ 1 "
            "(the default keeps about 200)"
        )
    return history.frames


def _first(y: Value) -> np.ndarray:
    """The first output column of a forward pass, as a 1-D array."""
    data = np.asarray(y.data)
    return data.reshape(len(data), -1)[:, 0]


def _grid(x: np.ndarray, inputs: int) -> np.ndarray:
    """A fine grid over the samples' range: ``(GRID,)`` for one input, ``(PLANE², 2)`` for two."""
    if inputs == 0:
        return np.zeros((0,))
    low, high = x.min(axis=0), x.max(axis=0)
    pad = np.where(high > low, 0.05 * (high - low), 0.5)
    if inputs == 1:
        return np.linspace(low[0], high[0], GRID)
    a = np.linspace(low[0] - pad[0], high[0] + pad[0], PLANE)
    b = np.linspace(low[1] - pad[1], high[1] + pad[1], PLANE)
    aa, bb = np.meshgrid(a, b)  # row r: the second input's r-th value
    return np.stack([aa.ravel(), bb.ravel()], axis=1)


def _last_layer(model):
    """The output layer when the model is a list of layers with a hidden one before it."""
    layers = getattr(model, "layers", None)
    if not layers or len(layers) < 2:
        return None
    last = layers[-1]
    if not all(hasattr(last, a) for a in ("w", "b", "x", "activation_name")):
        return None
    return last


def target_curve(history: History, n: int = GRID):
    """``(x, sin)``: the post's target, the dashed curve, at ``n`` points over its data's
    range; None for data of your own."""
    if history.data is not None or history.samples[0].shape[1] != 1:
        return None
    xs, _ = sine_data()
    x = np.linspace(xs.min(), xs.max(), n)
    return x, np.sin(np.pi * x + np.pi)


# ---------------------------------------------------------------- the page


class LearnPage(Page):
    """The learning page's HTML text (a ``str``); Jupyter shows it inline, as the explorer."""

    frame_title = "watch the network learn"
    frame_height = 900


_BODY = """<header>
  <h1>{{title}}</h1>
  <nav aria-label="epochs">
    <button id="play" type="button" title="play / pause (space)">▶ Play</button>
    <button id="prev" type="button" title="previous frame (←)">◀</button>
    <input id="slider" type="range" min="0" max="{{last}}" value="{{start}}" step="1"
           aria-label="epoch">
    <button id="next" type="button" title="next frame (→)">▶</button>
    <span id="counter" aria-live="polite"></span>
  </nav>
  <p><code id="line">{{line}}</code> <span id="note">{{note}}</span></p>
</header>
<main>
  <section id="panels" aria-label="the panels"></section>
  <section id="step" aria-label="one training step at this epoch">
    <h2 id="step-title"></h2>
    <p id="step-help"></p>
    <iframe id="explorer" sandbox="allow-scripts" title="one training step"></iframe>
  </section>
</main>"""


def learn_page(
    history: History,
    path: str | Path | None = None,
    *,
    title: str | None = None,
    steps: int = MAX_STEPS,
    start: int | None = None,
) -> LearnPage:
    """The page to watch ``history``'s run learn; written to ``path`` too when given.

    Returns a :class:`LearnPage` (a ``str``; Jupyter shows it inline, as
    ``History`` does).  The page is one file: the styles and the script are
    inlined, the numbers are in it, no request leaves it.

    It opens at ``start`` (an epoch; default the first frame, or where
    ``history`` says the run diverged); ``#epoch=N`` in the address wins.
    For up to ``steps`` epochs (the printed ones, evenly chosen) it embeds
    one training step at that epoch's weights, on the samples of the
    epoch's first update, as the explorer (``viz.explore``) steps it:
    forward, backward, and the update where the explorer has it; at other
    epochs it shows the step of the nearest such epoch before, and says so.
    Without Graphviz, or for a graph too large to draw, the page has no
    step, and says why.
    """
    curves = learn_data(history)
    settings = history.settings
    epochs = settings.get("epochs", curves.epochs[-1] + 1)
    lines = [progress_line(e, epochs, err) for e, err in zip(curves.epochs, curves.errors)]
    frame_at = _start_frame(history, curves.epochs, start)
    data = _page_data(history, curves, lines)
    data["start"] = frame_at
    data["steps"], data["stepNote"] = _steps(history, curves.epochs, steps)
    title = title or (
        f"Watch {_net_name(history)} learn: {epochs} epochs, eta={settings.get('eta', '?')}"
    )
    body = fill(
        _BODY,
        {
            "title": html.escape(str(title)),
            "last": str(len(curves.epochs) - 1),
            "start": str(frame_at),
            "line": html.escape(lines[frame_at]),
            "note": html.escape(data["notes"][frame_at]),
        },
    )
    page = LearnPage(html_page(title, body, assets=ASSETS, data=data, data_id="learn-data"))
    if path is not None:
        write_page(page, path, "learn_page")
    return page


def _net_name(history: History) -> str:
    model = history.model
    return repr(model) if model is not None else "the network"


def _start_frame(history: History, epochs: list[int], start) -> int:
    """The frame the page opens at: ``start``'s, or where the run diverged, else 0."""
    if start is None and history.diverged is not None:
        start = history.diverged.epoch
    if start is None:
        return 0
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)):
        raise TypeError(f"learn_page: start must be an epoch (a whole number), got {start!r}")
    before = [i for i, e in enumerate(epochs) if e <= start]
    return before[-1] if before else 0


def _start_epoch(history: History, epochs: list[int]) -> int:
    return epochs[_start_frame(history, epochs, None)]


def _page_data(history: History, c: Curves, lines: list[str]) -> dict:
    """What learn.js reads: numbers as integers with a scale per series (a small page)."""
    x, t = history.samples
    notes = [f"(frame {i + 1} of {len(c.epochs)})" for i in range(len(c.epochs))]
    if history.diverged is not None:  # the frames from where it went wrong on say so
        for i, epoch in enumerate(c.epochs):
            if epoch >= _start_epoch(history, c.epochs):
                notes[i] = f"train stopped: {history.diverged.message}"
    data = {
        "epochs": c.epochs,
        "lines": lines,
        "notes": notes,
        "errors": _floats(c.errors),
        "inputs": c.inputs,
        "names": list(history.names),
        "gradSizes": _floats(c.grad_sizes),
        "weightSizes": _floats(c.weight_sizes),
        "residual": _ints(c.residual),
        "preActivation": c.pre_activation,
        "errorTitle": _error_title(history),
    }
    if c.inputs == 1:
        order = np.argsort(x[:, 0], kind="stable")
        data["grid"] = _floats(c.grid)
        data["samples"] = {"x": _floats(x[order, 0]), "t": _floats(t[order, 0])}
        data["residual"] = _ints(c.residual[:, order])
        data["residualX"] = data["samples"]["x"]
        target = target_curve(history)
        if target is not None:
            data["target"] = {"x": _floats(target[0]), "t": _floats(target[1])}
    elif c.inputs == 2:
        data["plane"] = {
            "n": PLANE,
            "a": _floats(c.grid[:PLANE, 0]),
            "b": _floats(c.grid[::PLANE, 1]),
        }
        data["samples"] = {"a": _floats(x[:, 0]), "b": _floats(x[:, 1]), "t": _floats(t[:, 0])}
        data["residualX"] = list(range(len(x)))
    if c.inputs:
        data["output"] = _ints(c.output)
        if c.contributions is not None:
            data["contributions"] = _ints(c.contributions)
            data["bias"] = _floats(c.bias)
            data["units"] = _ints(c.units)
    return data


def _error_title(history: History) -> str:
    name = history.settings.get("loss", "squared_error")
    what = {"squared_error": "mean ½(y − t)²", "cross_entropy": "mean cross-entropy"}
    return f"error ({what.get(name, 'mean ' + str(name))}, as train prints it)"


def _floats(a) -> list:
    """Numbers for JSON: 6 significant digits; nan and ±inf become null (JSON has neither)."""
    a = np.asarray(a, dtype=np.float64)
    out = np.array([float(f"{v:.6g}") if np.isfinite(v) else None for v in a.ravel()], dtype=object)
    return out.reshape(a.shape).tolist()


def _ints(a) -> dict:
    """A series as integers and one scale: ``value ≈ int · scale`` to 1/10,000 of its
    largest finite size (plenty for a plot; nan and ±inf become null)."""
    a = np.asarray(a, dtype=np.float64)
    finite = np.isfinite(a)
    top = float(np.abs(a[finite]).max()) if finite.any() else 0.0
    scale = float(f"{top / 10_000:.3g}") if top > 0 else 1.0
    q = np.where(finite, np.round(np.where(finite, a, 0) / scale), 0).astype(np.int64)
    values = np.where(finite, q, None).astype(object)
    return {"scale": scale, "values": values.tolist()}


def _steps(history: History, epochs: list[int], count: int) -> tuple[dict, str]:
    """Explorer pages of one training step at up to ``count`` epochs, by epoch."""
    if count <= 0:
        return {}, "no training step kept (steps=0)"
    from .graph import GraphTooLarge, GraphvizNotFound

    chosen = _step_epochs(history, epochs, count)
    by_epoch = {f.epoch: f for f in history.frames}
    # where the run diverged, the page opens at the step that went wrong
    wrong = _start_epoch(history, epochs) if history.diverged is not None else None
    pages = {}
    try:
        for epoch in chosen:
            pages[str(epoch)] = (_divergence_page(history) if epoch == wrong
                                 else _step_page(history, by_epoch[epoch]))
    except (GraphvizNotFound, GraphTooLarge) as err:  # no dot; or too large or slow even
        return {}, f"no training step here: {err}"      # one box per layer
    except _NoStep as err:
        return {}, str(err)
    return pages, ""


def _step_epochs(history: History, epochs: list[int], count: int) -> list[int]:
    """The printed epochs that have a frame (evenly chosen down to ``count``), and where
    the run diverged."""
    printed = [e for e in history.epochs if e in set(epochs)] or list(epochs)
    printed = [printed[i] for i in evenly(len(printed), count)]
    return sorted(set(printed) | {_start_epoch(history, epochs)})


def evenly(count: int, n: int) -> list[int]:
    """``n`` numbers out of ``range(count)``, evenly spread, the first and the last included
    (all of them when ``count <= n``): the frames an animation draws, the epochs that keep
    a step."""
    if count <= n:
        return list(range(count))
    return sorted({int(round(i)) for i in np.linspace(0, count - 1, n)})


def _step_page(history: History, frame) -> str:
    """The explorer page of the training step at the start of ``frame``'s epoch."""
    from tinygrad_sine.stepper import Stepper

    from .explore import explore
    from .graph import GraphTooLarge

    model = _copy_at(history.model, frame.weights)
    x, t = history.samples
    batch = frame.batch
    eta = history.settings.get("eta")
    which = (
        f"sample {int(batch[0])}"
        if len(batch) == 1
        else f"samples {', '.join(str(int(i)) for i in batch[:4])}"
        + ("…" if len(batch) > 4 else "")
    )
    title = f"Epoch {frame.epoch}: its first training step ({which}), at that epoch's weights"
    with np.errstate(all="ignore"):
        stepper = Stepper(_step_loss(history, model, x[batch], t[batch]), eta=eta)
        try:
            return explore(stepper, title=title)
        except GraphTooLarge:  # one box per layer: the same steps, drawn smaller
            return explore(stepper, title=title, collapse=True)


def _divergence_page(history: History) -> str:
    """The explorer page of the step where the run made its first non-finite number,
    opened at the step about that node."""
    from .explore import explore
    from .graph import GraphTooLarge

    d = history.diverged
    title = f"Where the run went wrong: {d.message}"
    with np.errstate(all="ignore"):  # its numbers overflow: that is what it shows
        stepper = d.stepper(history.model)
        try:
            return explore(stepper, start=d.step, title=title)
        except GraphTooLarge:
            return explore(stepper, start=d.step, title=title, collapse=True)


def _step_loss(history: History, model, x: np.ndarray, t: np.ndarray) -> Value:
    """The loss of one training step as ``train`` built it (``sine.step_graph``)."""
    name = history.settings.get("loss", "squared_error")
    if history.diverged is not None:
        loss = history.diverged.loss  # the run's own loss function, kept
    elif name in LOSSES:
        loss, _ = _loss_function(name)
    else:
        raise _NoStep(f"no training step here: the page rebuilds the step for the losses "
                      f"{', '.join(LOSSES)}, not for your loss {name}")
    return step_graph(model, x, t, loss)


class _NoStep(Exception):
    """The page cannot rebuild the training step (it says why instead)."""


