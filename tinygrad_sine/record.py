"""What ``train`` keeps of a run, frame by frame, for watching it learn.

Besides the post's printed records (every ``interval`` epochs), ``train``
keeps *frames*: at each frame epoch, before that epoch's first update,

* the parameters' values (``net.parameters()``, copied);
* the mean error over that epoch's samples, the number ``train`` prints;
* the size of each parameter's gradient, mean |∂p|, and of the parameter,
  mean |p|, where ∂p is the gradient of the mean error
  ``E / n`` over all ``n`` samples at those values (the direction the
  epoch's updates follow, on average);
* the samples of the epoch's first update, so a page can replay that
  step node by node.

The frame epochs are the printed ones plus a denser schedule early on,
where learning is fast: about ``frames`` of them however long the run
(see :func:`frame_epochs`).  Curves over the input range (the network's
output, each hidden unit's share of it) are not recorded: ``viz.learn``
computes them from the weights when it draws.

Nothing here needs to know the network: it is anything with
``parameters()`` and a call, as ``train`` takes it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .autograd import grad
from .value import Value

FRAMES = 200  # frames of a run by default: enough for a smooth animation, small to keep
FRAME_BYTES = 4_000_000  # at most this many bytes of weights over all frames (a big net: fewer)


@dataclass(repr=False)
class Frame:
    """One frame of a run: the network as it stood when epoch ``epoch`` began.

    ``weights[i]`` is a copy of ``net.parameters()[i]``'s values;
    ``grad_sizes[i]`` and ``weight_sizes[i]`` are mean |∂p| and mean |p| of
    it (∂p: the gradient of the mean error over all samples, at these
    weights); ``error`` is the mean error over the epoch's samples, each
    taken before its own update (the number ``train`` prints);
    ``batch`` the indices of the samples of the epoch's first update.
    """

    epoch: int
    weights: tuple[np.ndarray, ...]
    grad_sizes: np.ndarray
    weight_sizes: np.ndarray
    batch: np.ndarray
    error: float = float("nan")

    def __repr__(self) -> str:
        return f"Frame(epoch {self.epoch}, error {self.error:.4g})"


def frame_epochs(epochs: int, interval: int, frames: int = FRAMES) -> list[int]:
    """The epochs ``train`` keeps a frame at: about ``frames`` of them, more of them early.

    Half are spread evenly over the run, half geometrically (1, 2, 3, 5, 8,
    …: learning is fastest at the start); the printed epochs (every
    ``interval``) are all there too when there are at most ``frames / 2``
    of them, else every k-th of them.  So a run has at most about
    ``1.5 · frames`` frames, however long.  Epoch 0 and the last epoch are always
    in.  ``frames=0`` keeps none.

    >>> frame_epochs(2001, 200, frames=10)
    [0, 1, 7, 45, 299, 500, 600, 1000, 1200, 1500, 1800, 2000]
    """
    if frames <= 0:
        return []
    last = epochs - 1
    even = np.linspace(0, last, max(frames // 2, 2))
    early = np.geomspace(1, max(last, 1), max(frames - frames // 2, 1))
    half = max(frames // 2, 1)
    every = -(-epochs // interval)  # how many printed epochs: never made as a list
    printed = np.arange(0, epochs, interval * -(-every // half))  # every k-th of them
    chosen = np.concatenate([even, early, printed, [0, last]])
    return sorted({int(round(e)) for e in chosen if 0 <= round(e) <= last})


class Recorder:
    """Keeps a :class:`Frame` at each frame epoch of one run (``train`` drives it).

    ``loss(y, t)`` is the error of one batch as the training step computes
    it (a sum over the batch); the gradient sizes come from
    ``loss(net(x), t) / n`` over all ``n`` samples.  A network with more
    weights than fit ``FRAME_BYTES`` over ``frames`` frames gets fewer
    frames (at least the first and the last).
    """

    def __init__(
        self,
        net,
        x: np.ndarray,
        t: np.ndarray,
        epochs: int,
        interval: int,
        frames: int,
        loss: Callable[[Value, np.ndarray], Value],
    ):
        self.x, self.t, self.loss = x, t, loss
        self.params = list(net.parameters())
        size = max(sum(p.data.size for p in self.params), 1) * 8
        frames = min(frames, max(FRAME_BYTES // size, 2)) if frames > 0 else 0
        self.epochs = set(frame_epochs(epochs, interval, frames))
        self.twin = _copy_of(net) if self.epochs else None  # the gradients are worked out on it

    def wants(self, epoch: int) -> bool:
        return epoch in self.epochs

    def frame(self, epoch: int, batch: np.ndarray) -> Frame:
        """The network now (call it before the epoch's first update); then :meth:`finish`."""
        weights = tuple(np.array(p.data, dtype=np.float64, copy=True) for p in self.params)
        nan = np.full(len(weights), np.nan)
        return Frame(epoch, weights, nan, nan.copy(), np.array(batch, copy=True))

    def finish(self, frame: Frame, error: float) -> Frame:
        """``frame`` with the epoch's ``error`` and the sizes of its weights and gradients.

        Called after the epoch, so that a loss that fails is refused by the
        training step itself, with the batch it was given; the gradients are
        worked out on a copy of the network holding the frame's weights.
        """
        frame.error = error
        frame.weight_sizes = np.array([np.mean(np.abs(w)) for w in frame.weights])
        if self.twin is None:  # a network that cannot be copied: no gradient sizes (nan)
            return frame
        params = list(self.twin.parameters())
        for p, w in zip(params, frame.weights):
            p.data = w
        with np.errstate(all="ignore"):  # a diverging run: nan sizes, said by train itself
            mean_error = self.loss(self.twin(self.x), self.t) / len(self.x)  # as train calls it
            grads = grad(mean_error, params)
        frame.grad_sizes = np.array([np.mean(np.abs(g.data)) for g in grads])
        return frame


def _copy_of(net):
    """A copy of ``net`` (to work gradients out on, to draw frames with), or None if it
    cannot be copied."""
    try:
        return copy.deepcopy(net)
    except Exception:  # a network holding something uncopyable: the page draws less
        return None
