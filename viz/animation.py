"""The learning page's panels as an animation: a GIF (or an MP4 with ffmpeg).

``animate(history, "learn.gif")`` draws, frame by frame, the panels that
:func:`viz.learn_page` shows (the numbers come from the same
:func:`viz.learn.learn_data`): the fit, the contributions, the residual,
the error with the current epoch marked, and mean |∂w| and |w| over epochs.
A GIF is put together with Pillow (which comes with matplotlib); a path
ending in ``.mp4`` goes through matplotlib's ffmpeg writer, when ffmpeg is
on PATH.  The file is written whole or not at all.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tinygrad_sine.files import atomic_write, make_folder
from tinygrad_sine.sine import History, progress_line

from .learn import Curves, evenly, learn_data, target_curve
from .plots import _figure

FIGSIZE = (10.0, 5.6)  # inches; at the default dpi=80, 800 × 448 pixels
COLOURS = (
    "tab:blue",
    "tab:orange",
    "tab:green",
    "tab:red",
    "tab:purple",
    "tab:brown",
    "tab:pink",
    "tab:gray",
    "tab:olive",
    "tab:cyan",
)


def animate(
    history: History,
    path: str | Path,
    *,
    frames: int = 100,
    fps: float = 12,
    dpi: int = 80,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write the run in ``history`` as an animation to ``path``; return the path.

    ``frames`` of the history's frames are drawn (all of them if it has
    fewer), chosen evenly among them, so that the fast start, where frames
    are denser, stays slow enough to watch; the first and the last are
    always in, and the last one is held for a second and a half.  ``path``
    ending in ``.gif`` gives a GIF (Pillow); ``.mp4`` an MP4 (needs ffmpeg
    on PATH).  Each image is ``FIGSIZE × dpi`` pixels (800 × 448 by
    default).  ``progress(done, total)`` is called after each frame is drawn.

    >>> animate(train(SineNet(seed=0), epochs=201), "learn.gif")   # doctest: +SKIP
    """
    path = Path(path)
    kind = path.suffix.lower()
    if kind not in (".gif", ".mp4"):
        raise ValueError(f"animate: path must end in .gif or .mp4, got {str(path)!r}")
    if kind == ".mp4" and shutil.which("ffmpeg") is None:
        raise ValueError(
            "animate: an .mp4 needs ffmpeg on PATH (apt-get install ffmpeg); "
            "or write a .gif, which needs nothing more"
        )
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
        raise ValueError(f"animate: frames must be a whole number ≥ 1, got {frames!r}")
    if not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"animate: fps must be a number > 0, got {fps!r}")
    curves = learn_data(history)
    chosen = evenly(len(curves.epochs), frames)
    make_folder(path.parent, "animate: path's folder")
    fig, update, moving = _draw(history, curves)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    fig.set_dpi(dpi)
    update(chosen[0])  # the title's text too, so that the layout leaves room for it
    canvas.draw()  # everything that does not move, once (and the layout, then kept)
    fig.set_layout_engine("none")
    still = canvas.copy_from_bbox(fig.bbox)

    def images():
        for done, f in enumerate(chosen, start=1):
            update(f)
            canvas.restore_region(still)
            for artist in moving:  # only what moves is drawn again (blitting)
                fig.draw_artist(artist)
            yield np.asarray(canvas.buffer_rgba())[..., :3].copy()
            if progress is not None:
                progress(done, len(chosen))

    if kind == ".gif":
        atomic_write(path, lambda tmp: _write_gif(tmp, images(), fps))
    else:
        atomic_write(path, lambda tmp: _write_mp4(tmp, images(), fps))
    return path


def still(history: History, path: str | Path, *, epoch: int | None = None,
          dpi: int = 80) -> Path:
    """One frame of the animation as a picture (``.png``, ``.svg`` …): the frame at
    ``epoch`` (the last recorded one at or before it), by default the last frame."""
    curves = learn_data(history)
    frame = len(curves.epochs) - 1
    if epoch is not None:
        frame = max([i for i, e in enumerate(curves.epochs) if e <= epoch] or [0])
    fig, update, moving = _draw(history, curves)
    update(frame)
    for artist in moving:
        artist.set_animated(False)
    path = Path(path)
    make_folder(path.parent, "still: path's folder")
    return atomic_write(path, lambda tmp: fig.savefig(tmp, format=path.suffix[1:] or "png",
                                                      dpi=dpi))


def _write_gif(tmp: Path, images, fps: float) -> None:
    """A GIF of ``images`` (RGB arrays), all on one palette of 64 colours taken from the
    first and the last, without dithering: what does not move stays the same pixels, so
    the GIF stores little more than what changed from one frame to the next."""
    from PIL import Image

    arrays = list(images)
    palette = Image.fromarray(np.vstack([arrays[0], arrays[-1]])).quantize(
        colors=64, method=Image.Quantize.MEDIANCUT
    )
    pictures = [
        Image.fromarray(a).quantize(palette=palette, dither=Image.Dither.NONE) for a in arrays
    ]
    step = int(round(1000 / fps))
    durations = [step] * (len(pictures) - 1) + [1500]  # hold the last frame
    pictures[0].save(
        tmp,
        format="GIF",
        save_all=True,
        append_images=pictures[1:],
        duration=durations,
        loop=0,
        optimize=True,
    )


def _write_mp4(tmp: Path, images, fps: float) -> None:
    import subprocess

    first = next(images)
    height, width = first.shape[:2]
    command = [
        "ffmpeg",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        f"{width}x{height}",
        "-r",
        str(fps),
        "-i",
        "pipe:",
        "-vf",
        "pad=ceil(iw/2)*2:ceil(ih/2)*2",
        "-pix_fmt",
        "yuv420p",
        "-f",
        "mp4",
        str(tmp),
    ]
    with subprocess.Popen(command, stdin=subprocess.PIPE) as ffmpeg:
        ffmpeg.stdin.write(first.tobytes())
        for image in images:
            ffmpeg.stdin.write(image.tobytes())
        ffmpeg.stdin.close()
    if ffmpeg.returncode:
        raise OSError(f"ffmpeg failed (exit status {ffmpeg.returncode})")


def _draw(history: History, c: Curves):
    """The figure, a function ``update(frame)`` that moves every panel to that frame, and
    the artists that move (the residual's whole panel, whose scale follows the frame)."""
    fig = _figure(figsize=FIGSIZE, layout="constrained")
    axes = fig.subplots(2, 3)
    (fit, contrib, resid), (err, grads, weights) = axes
    x, t = history.samples
    epochs = np.array(c.epochs)
    epochs_total = history.settings.get("epochs", epochs[-1] + 1)
    updates, moving = [], []
    title = fig.suptitle("", family="monospace", fontsize=11)
    updates.append(lambda f: title.set_text(progress_line(c.epochs[f], epochs_total, c.errors[f])))
    tspan = float(np.ptp(t[:, 0])) or 1.0

    if c.inputs == 1:
        order = np.argsort(x[:, 0], kind="stable")
        xs, ts = x[order, 0], t[order, 0]
        target = target_curve(history, 200)
        if target is not None:  # the post's data: its dashed sine
            fit.plot(*target, "--", color="tab:gray", label="target sin")
        fit.scatter(xs, ts, s=8, color="black", alpha=0.5, label="data")
        (out,) = fit.plot(c.grid, c.output[0], color="tab:blue", lw=2, label="output")
        fit.set_ylim(ts.min() - 0.35 * tspan, ts.max() + 0.35 * tspan)
        fit.legend(loc="upper right", fontsize="x-small")
        updates.append(lambda f: out.set_ydata(c.output[f]))
        moving.append(out)
        if c.contributions is not None:
            lines = [
                contrib.plot(c.grid, row, color=COLOURS[j % 10], label=f"unit {j + 1}")[0]
                for j, row in enumerate(c.contributions[0])
            ]
            (bias,) = contrib.plot(
                c.grid[[0, -1]], [c.bias[0]] * 2, ":", color="black", label="bias"
            )
            values = np.concatenate([c.contributions.ravel(), c.bias])
            values = values[np.isfinite(values)]
            cap = 20 * tspan
            low, high = (
                (max(values.min(), -cap), min(values.max(), cap)) if values.size else (-1, 1)
            )
            pad = 0.08 * (high - low or 1.0)
            contrib.set_ylim(low - pad, high + pad)
            contrib.legend(loc="lower left", fontsize="x-small", ncol=2)

            def move(f):
                for line, row in zip(lines, c.contributions[f]):
                    line.set_ydata(row)
                bias.set_ydata([c.bias[f]] * 2)

            updates.append(move)
            moving.extend([*lines, bias])
        what = "u" if c.pre_activation else "y"
        contrib.set_title(f"contributions w_j·y_j(x), bias (sum: {what})", fontsize=10)
        resid_x = xs
        resid_rows = c.residual[:, order]
        fit.set_title("fit: output y(x)", fontsize=10)
    elif c.inputs == 2:
        n = int(np.sqrt(len(c.grid)))
        extent = (c.grid[0, 0], c.grid[n - 1, 0], c.grid[0, 1], c.grid[-1, 1])
        lo, hi = float(t[:, 0].min()), float(t[:, 0].max())
        hi = hi if hi > lo else lo + 1.0
        image = fit.imshow(
            c.output[0].reshape(n, n),
            origin="lower",
            extent=extent,
            cmap="PuOr_r",
            vmin=lo,
            vmax=hi,
            aspect="auto",
        )
        fit.scatter(
            x[:, 0], x[:, 1], c=t[:, 0], cmap="PuOr_r", vmin=lo, vmax=hi, edgecolors="black", s=40
        )
        fit.set_title("fit: output over the input plane", fontsize=10)
        updates.append(lambda f: image.set_data(c.output[f].reshape(n, n)))
        moving.append(image)
        if c.units is not None:
            units = c.units
            k = units.shape[1]
            finite = units[np.isfinite(units)]
            ulo, uhi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
            uhi = uhi if uhi > ulo else ulo + 1.0

            def tiles(f):  # the units' maps side by side, a blank column between
                gap = np.full((n, 2), np.nan)
                return np.hstack(
                    [m for j in range(k) for m in (units[f, j].reshape(n, n), gap)][:-1]
                )

            maps = contrib.imshow(
                tiles(0), origin="lower", cmap="PuOr_r", vmin=ulo, vmax=uhi, aspect="auto"
            )
            contrib.set_xticks(
                [j * (n + 2) + n / 2 for j in range(k)], [f"unit {j + 1}" for j in range(k)]
            )
            contrib.set_yticks([])
            updates.append(lambda f: maps.set_data(tiles(f)))
            moving.append(maps)
        contrib.set_title("hidden units over the plane", fontsize=10)
        resid_x = np.arange(len(x))
        resid_rows = c.residual
    else:
        for ax in (fit, contrib):
            ax.set_axis_off()
        resid_x, resid_rows = np.arange(len(x)), c.residual

    stems = resid.vlines(resid_x, 0, resid_rows[0], color="tab:red", lw=1)
    (dots,) = resid.plot(resid_x, resid_rows[0], ".", color="tab:red", ms=3)
    resid.axhline(0, color="gray", lw=0.8)
    resid.set_title("residual y − t (scale follows the frame)", fontsize=10)

    def move_residual(f):
        r = np.where(np.isfinite(resid_rows[f]), resid_rows[f], 0.0)
        stems.set_segments([[(a, 0), (a, b)] for a, b in zip(resid_x, r)])
        dots.set_ydata(r)
        top = float(np.abs(r).max()) * 1.1 or 1e-12
        resid.set_ylim(-top, top)

    updates.append(move_residual)

    errors = np.array(c.errors, dtype=float)
    err.semilogy(epochs, np.where(errors > 0, errors, np.nan), color="tab:blue")
    err.set_title("error (as train prints it)", fontsize=10)
    (mark,) = err.plot([epochs[0]], [errors[0]], "o", color="tab:red")
    rules = [
        ax.axvline(epochs[0], color="tab:red", lw=0.8, ls="--") for ax in (err, grads, weights)
    ]

    def move_marker(f):
        mark.set_data([epochs[f]], [errors[f]])
        for rule in rules:
            rule.set_xdata([epochs[f]] * 2)

    updates.append(move_marker)
    for ax, sizes, name in (
        (grads, c.grad_sizes, "mean |∂w|"),
        (weights, c.weight_sizes, "mean |w|"),
    ):
        for i, label in enumerate(history.names):
            column = sizes[:, i]
            ax.semilogy(
                epochs,
                np.where(column > 0, column, np.nan),
                color=COLOURS[i % 10],
                label=label,
                lw=1.2,
            )
        ax.set_title(f"{name} per parameter", fontsize=10)
        if len(history.names) <= 8:
            ax.legend(loc="best", fontsize="x-small", ncol=2)
    for ax in (err, grads, weights):
        ax.set_xlabel("epoch", fontsize=9)
    for ax in axes.ravel():
        ax.tick_params(labelsize=8)

    def update(f: int) -> None:
        for move in updates:
            move(f)

    moving = [title, resid, mark, *rules, *moving]
    for artist in moving:
        artist.set_animated(True)
    return fig, update, moving
