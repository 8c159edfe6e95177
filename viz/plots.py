"""The seed's figures: fit snapshots over the true curve, and the error curve.

The figures are ``matplotlib.figure.Figure`` objects made without pyplot, so
no display and no backend choice is needed.  A Figure made that way does not
display itself in Jupyter (only pyplot's figures do, after ``%matplotlib
inline``); ours carry ``_repr_png_``, so a figure left as the last expression
of a cell shows inline as a PNG with no set-up.
"""

from __future__ import annotations

import functools
import io
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
    fig.suptitle(SNAPSHOT_NOTE, fontsize="small")
    return fig


SNAPSHOT_NOTE = ("each point is the prediction for its sample during that epoch, "
                 "just before that sample's own update (as the post plots them)")


def plot_error_curve(history: History):
    """Mean error Σ ½(y − t)² / 63 against epoch, on a log scale."""
    fig = _figure(figsize=(5.0, 3.2), layout="constrained")
    ax = fig.subplots()
    errors = np.maximum(np.asarray(history.errors), np.finfo(float).tiny)
    ax.semilogy(history.epochs, errors, marker="o")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean error  Σ ½(y − t)² / n")
    ax.set_title("training error")
    ax.grid(True, which="both", alpha=0.3)
    return fig


def save_figures(history: History, out_dir, formats=("png", "svg")) -> list[Path]:
    """Write ``snapshots.*`` and ``error.*`` into ``out_dir``; return the paths written.

    Each file is written whole or not at all (:func:`tinygrad_sine.files.atomic_write`):
    an error or Ctrl-C part way leaves the previous figure untouched.
    """
    out = make_folder(out_dir, "save_figures")
    written = []
    for name, fig in (("snapshots", plot_snapshots(history)), ("error", plot_error_curve(history))):
        for fmt in formats:
            path = atomic_write(out / f"{name}.{fmt}",
                                lambda tmp, fig=fig, fmt=fmt: fig.savefig(tmp, format=fmt, dpi=110))
            written.append(path)
    return written
