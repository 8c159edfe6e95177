"""The seed's figures: fit snapshots over the true curve, and the error curve; for a
network of two inputs, its decision regions over the plane.

The figures are ``matplotlib.figure.Figure`` objects made without pyplot, so
no display and no backend choice is needed.  A Figure made that way does not
display itself in Jupyter (only pyplot's figures do, after ``%matplotlib
inline``); ours carry ``_repr_png_``, so a figure left as the last expression
of a cell shows inline as a PNG with no set-up.
"""

from __future__ import annotations

import functools
import io
import textwrap
from pathlib import Path

import numpy as np

from tinygrad_sine.files import atomic_write, make_folder
from tinygrad_sine.sine import History, sine_data

SNAPSHOT_EPOCHS = (0, 200, 400, 1000, 2000)  # the epochs the post shows


@functools.cache
def _figure_class():
    """matplotlib's ``Figure`` with ``_repr_png_``, which Jupyter calls to show it inline."""
    from matplotlib.figure import Figure

    class InlineFigure(Figure):
        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png", dpi=100)
            return buffer.getvalue()

    return InlineFigure


def _figure(**options):
    """A matplotlib ``Figure`` that Jupyter shows inline (as PNG) without pyplot."""
    return _figure_class()(**options)


def plot_snapshots(history: History, epochs=SNAPSHOT_EPOCHS):
    """One panel per epoch asked for: the dashed true curve and the scattered predictions.

    An epoch the history did not record is replaced by the nearest recorded
    one; epochs past the end of the run are left out, and the last recorded
    epoch is always shown (so a short run, or an ``interval`` that misses
    200, 400 …, still shows how far training got).
    """
    recorded = sorted(history.snapshots)
    if not recorded:
        raise ValueError("plot_snapshots: the history has no snapshots; train with interval ≥ 1")
    nearest = [min(recorded, key=lambda r: (abs(r - e), r)) for e in epochs if e <= recorded[-1]]
    shown = sorted(set(nearest) | {recorded[-1]})
    x, t = sine_data() if history.data is None else history.data  # the post's data, or yours
    if history.data is not None:
        x, t = x[np.argsort(x)], t[np.argsort(x)]
    fig = _figure(figsize=(3.2 * len(shown), 3.0), layout="constrained")
    axes = fig.subplots(1, len(shown), sharey=True, squeeze=False)[0]
    for ax, epoch in zip(axes, shown):
        px, py = history.snapshots[epoch]
        ax.plot(x, t, linestyle="dashed", color="tab:gray",
                label="sin" if history.data is None else "target")
        ax.scatter(px, py, s=12, color="tab:blue", label="prediction")
        ax.set_title(f"epoch {epoch}")  # 0 too: its points come during epoch 0, not before it
        ax.set_xlabel("x (rescaled)")
    axes[0].set_ylabel("y")
    axes[0].legend(loc="upper left", fontsize="small")
    # about 15 characters of small type to the inch: wrapped, a narrow figure keeps it all
    fig.suptitle(textwrap.fill(SNAPSHOT_NOTE, width=int(15 * 3.2 * len(shown))),
                 fontsize="small")
    return fig


SNAPSHOT_NOTE = ("each point is the prediction for its sample during that epoch, "
                 "just before that sample's own update (as the post plots them)")


def plot_error_curve(history: History):
    """Mean error per sample against epoch, on a log scale; with cross-entropy, the accuracy
    beside it.

    The error is the loss the history was trained with: Σ ½(y − t)² / n for
    the post's squared error, the mean cross-entropy for ``loss="cross_entropy"``.
    """
    accuracy = bool(history.accuracies)
    fig = _figure(figsize=(9.0 if accuracy else 5.0, 3.2), layout="constrained")
    axes = fig.subplots(1, 2 if accuracy else 1, squeeze=False)[0]
    ax = axes[0]
    errors = np.maximum(np.asarray(history.errors), np.finfo(float).tiny)
    ax.semilogy(history.epochs, errors, marker="o")
    ax.set_xlabel("epoch")
    loss = history.settings.get("loss", "squared_error")
    ax.set_ylabel({"squared_error": "mean error  Σ ½(y − t)² / n",
                   "cross_entropy": "mean cross-entropy  −Σ t log p / n"}.get(
                       loss, f"mean {loss} per sample"))
    ax.set_title("training error")
    ax.grid(True, which="both", alpha=0.3)
    if accuracy:
        ax = axes[1]
        ax.plot(history.epochs, history.accuracies, marker="o", color="tab:green")
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("epoch")
        ax.set_ylabel("fraction classified right")
        ax.set_title("accuracy")
        ax.grid(True, alpha=0.3)
    return fig


def decision_grid(net, x, steps: int = 200, margin: float = 0.1):
    """The network's outputs on a grid over the plane of two-input data, in one forward pass.

    ``net`` is anything that maps an array of points ``(m, 2)`` to outputs
    ``(m, n_out)``: a network (its Value result is read without recording a
    graph) or a numpy function (e.g. a forward pass from recorded weights).
    ``x`` is the data's inputs ``(n, 2)``; the grid spans their range,
    widened by ``margin`` times that range on each side, with ``steps``
    points along each axis.

    Returns ``(gx, gy, out)``: the grid's coordinates ``gx`` and ``gy``
    (each ``(steps,)``) and ``out`` of shape ``(steps, steps, n_out)``, where
    ``out[i, j]`` is the output at the point ``(gx[j], gy[i])`` (rows follow
    y, as ``imshow`` and ``contourf`` take them).  The class a point falls
    in is ``out.argmax(axis=-1)`` (for one output, ``out[..., 0] > 0.5``).
    """
    from tinygrad_sine import Value, no_grad

    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2 or len(x) == 0:
        raise ValueError(f"decision_grid: x must be the data's inputs of shape (n, 2), two "
                         f"inputs per sample, got shape {x.shape}")
    if not (isinstance(steps, (int, np.integer)) and 2 <= steps <= 2000):
        raise ValueError(f"decision_grid: steps must be a whole number from 2 to 2000, "
                         f"got {steps!r}")
    low, high = x.min(axis=0), x.max(axis=0)
    pad = margin * np.where(high > low, high - low, 1.0)
    gx = np.linspace(low[0] - pad[0], high[0] + pad[0], steps)
    gy = np.linspace(low[1] - pad[1], high[1] + pad[1], steps)
    points = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2)
    with no_grad():
        out = net(points)
    out = np.asarray(out.data if isinstance(out, Value) else out, dtype=np.float64)
    return gx, gy, out.reshape(steps, steps, -1)


def _classes(t) -> np.ndarray:
    """Class numbers from targets: indices as they are, one-hot/probability rows by argmax,
    one column of 0/1 targets by rounding."""
    t = np.asarray(t)
    if t.ndim == 2 and t.shape[1] > 1:
        return t.argmax(axis=1)
    return np.rint(t.reshape(-1)).astype(int)


def plot_decision_regions(net, x, t, steps: int = 200, title: str | None = None):
    """The plane coloured by the class the network gives each point, with the data on top.

    ``x`` is the data's inputs ``(n, 2)``, ``t`` their targets: class
    indices, one-hot or probability rows, or (for a one-output network)
    0/1 numbers.  With several outputs a point's class is the largest
    output (softmax does not change which one); with one output it is
    ``y > 0.5``.  The grid comes from :func:`decision_grid`.
    """
    gx, gy, out = decision_grid(net, x, steps)
    regions = out.argmax(axis=-1) if out.shape[-1] > 1 else (out[..., 0] > 0.5).astype(int)
    labels = _classes(t)
    n_classes = max(out.shape[-1], 2, int(labels.max()) + 1)
    from matplotlib.colors import ListedColormap

    colours = [f"C{k % 10}" for k in range(n_classes)]
    fig = _figure(figsize=(4.2, 4.0), layout="constrained")
    ax = fig.subplots()
    ax.contourf(gx, gy, regions, levels=np.arange(n_classes + 1) - 0.5,
                cmap=ListedColormap(colours), alpha=0.25)
    x = np.asarray(x)
    for k in range(n_classes):
        mine = labels == k
        if mine.any():
            ax.scatter(x[mine, 0], x[mine, 1], s=14, color=colours[k], edgecolors="white",
                       linewidths=0.4, label=f"class {k}")
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.set_title(title or "decision regions")
    ax.legend(loc="upper right", fontsize="small")
    return fig


def save_figures(history: History, out_dir, formats=("png", "svg")) -> list[Path]:
    """Write ``snapshots.*`` and ``error.*`` into ``out_dir``; return the paths written.

    For data of two inputs the snapshots (a curve over one input) give way
    to ``regions.*``: the trained network's decision regions over the plane
    (:func:`plot_decision_regions`, from ``history.net`` as it is now).
    Each file is written whole or not at all (:func:`tinygrad_sine.files.atomic_write`):
    an error or Ctrl-C part way leaves the previous figure untouched.
    """
    out = make_folder(out_dir, "save_figures")
    samples = history.samples
    if samples is not None and samples[0].shape[1] == 2 and history.net is not None:
        done = history.settings.get("epochs")
        title = f"decision regions after {done} epochs" if done else None
        first = ("regions", plot_decision_regions(history.net, samples[0], samples[1],
                                                  title=title))
    else:
        first = ("snapshots", plot_snapshots(history))
    written = []
    for name, fig in (first, ("error", plot_error_curve(history))):
        for i, fmt in enumerate(formats):
            if i == 1:  # the layout is done: the next formats keep it rather than redo it
                fig.set_layout_engine("none")
            path = atomic_write(out / f"{name}.{fmt}",
                                lambda tmp, fig=fig, fmt=fmt: fig.savefig(tmp, format=fmt, dpi=110))
            written.append(path)
    return written
