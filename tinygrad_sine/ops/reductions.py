"""Reductions over axes (sum, mean, max, min, var, std, logsumexp) and softmax along one.

Each class is one operation: ``forward`` on numpy arrays and ``backward``
(one gradient per input), with the math in its docstring's first line.
"""

from __future__ import annotations

import math

import numpy as np

from . import Op, broadcast_to, let, raw, reduced_shape

_AXIS_HINT = "does not fit the axis: use an axis between -ndim and ndim - 1"


class Sum(Op):
    """y = Σ x over `axis`;  ∂x = ∂y copied back along the summed axes"""

    name = "sum"
    hint = _AXIS_HINT

    @staticmethod
    def forward(x, axis, keepdims):
        return x.sum(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(g, y, x, axis, keepdims):
        return (broadcast_to(g.reshape(reduced_shape(x.shape, axis)), x.shape),)


class Mean(Op):
    """y = (1/n) Σ x over `axis`;  ∂x = ∂y / n copied back   (n = elements per output)

    Over an empty axis (n = 0) the mean is numpy's: nan, with numpy's
    "Mean of empty slice" warning.  Its gradient is then empty, as x is, as
    in PyTorch: no element of x exists to receive anything (the division
    by n is skipped, so there is no 0/0 to warn about).
    """

    name = "mean"
    hint = Sum.hint

    @staticmethod
    def forward(x, axis, keepdims):
        return x.mean(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(g, y, x, axis, keepdims):
        shape = raw(x).shape
        n = math.prod(shape) // max(math.prod(raw(y).shape), 1)  # elements averaged per output
        spread = g.reshape(reduced_shape(shape, axis))
        return (broadcast_to(spread / n if n else spread, shape),)  # n = 0: x is empty


def _kept(v, x, axis):
    """``v`` (a reduction's output or its gradient) with the reduced axes back, as length 1."""
    return v.reshape(reduced_shape(x.shape, axis))


def _dropped(v, axis):
    """``v`` reduced with ``keepdims=True``, its reduced axes dropped (``keepdims=False``)."""
    axes = range(v.ndim) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    gone = {a % v.ndim for a in axes}
    return v.reshape(tuple(n for i, n in enumerate(v.shape) if i not in gone))


def _ties_shared(g, y, x, axis):
    """∂y sent to the elements equal to the reduction's result, split evenly among ties."""
    x, y = raw(x), _kept(raw(y), raw(x), axis)
    hit = np.equal(x, y)  # the elements that are the max (or min): 1, others 0
    return _kept(g, x, axis) * hit / hit.sum(axis=axis, keepdims=True)


class Max(Op):
    """y = max x over `axis`;  ∂x = ∂y at the largest x, shared evenly by ties   (as torch.amax)"""

    name = "max"
    hint = "does not fit the axis, or is empty along it: use an axis between -ndim and ndim - 1"

    @staticmethod
    def forward(x, axis, keepdims):
        return x.max(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(g, y, x, axis, keepdims):
        return (_ties_shared(g, y, x, axis),)


class Min(Op):
    """y = min x over `axis`;  ∂x = ∂y at the smallest x, shared evenly by ties   (as torch.amin)"""

    name = "min"
    hint = Max.hint

    @staticmethod
    def forward(x, axis, keepdims):
        return x.min(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(g, y, x, axis, keepdims):
        return (_ties_shared(g, y, x, axis),)


class Var(Op):
    """y = mean (x − mean x)² over `axis`;  ∂x = ∂y · 2 (x − mean x) / n   (ddof = 0, as numpy)

    n is the number of elements per output.  Like numpy's
    ``var`` (and ``torch.var(..., correction=0)``) it divides by n, not n − 1.
    """

    name = "var"
    hint = _AXIS_HINT

    @staticmethod
    def forward(x, axis, keepdims):
        return x.var(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(g, y, x, axis, keepdims):
        n = np.size(raw(x)) / max(np.size(raw(y)), 1)  # elements per output
        centred = x - x.mean(axis=axis, keepdims=True)
        return (_kept(g, x, axis) * centred * (2 / n if n else 0.0),)  # n = 0: x is empty


class Std(Op):
    """y = √(mean (x − mean x)²) over `axis`;  ∂x = ∂y · (x − mean x) / (n · y)   (ddof = 0)

    n is the number of elements per output; like numpy's ``std`` it divides by n, not n − 1.

    Where all the elements are equal, y = 0 and the gradient is 0/0 = nan,
    as in PyTorch: √ has no slope at 0.
    """

    name = "std"
    hint = _AXIS_HINT

    @staticmethod
    def forward(x, axis, keepdims):
        return x.std(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(g, y, x, axis, keepdims):
        n = np.size(raw(x)) / max(np.size(raw(y)), 1)  # elements per output
        centred = x - x.mean(axis=axis, keepdims=True)
        return (_kept(g, x, axis) * centred / (n * _kept(y, x, axis)),)


def _shift(x, axis):
    """The largest x along ``axis`` (kept as length 1), or 0 where that is ±∞: subtracting it
    before ``exp`` keeps every eˣ ≤ 1, so logits of 1000 do not overflow."""
    m = let("m", x.max(axis=axis, keepdims=True))
    return np.where(np.isfinite(m), m, 0.0)


class Logsumexp(Op):
    """y = ln Σ eˣ over `axis`;  ∂x = ∂y · e^(x − y)   (computed as m + ln Σ e^(x − m), m = max x)

    Stable: with m the largest x, no eˣ overflows (logits of 1000 are fine).
    """

    name = "logsumexp"
    hint = Max.hint

    @staticmethod
    def forward(x, axis, keepdims):
        m = let("shift", _shift(x, axis))
        y = m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))
        return y if keepdims else _dropped(y, axis)

    @staticmethod
    def backward(g, y, x, axis, keepdims):
        return (_kept(g, x, axis) * np.exp(x - _kept(y, x, axis)),)


class Softmax(Op):
    """y = eˣ / Σ eˣ along `axis`;  ∂x = y · (∂y − Σ ∂y · y along `axis`)

    Stable: eˣ is computed as e^(x − m), m the largest x along the axis.
    """

    name = "softmax"
    hint = _AXIS_HINT

    @staticmethod
    def forward(x, axis):
        e = let("e", np.exp(x - _shift(x, axis)))  # e^(x − m) ≤ 1: no overflow
        return e / e.sum(axis=axis, keepdims=True)

    @staticmethod
    def backward(g, y, x, axis):
        return (y * (g - (g * y).sum(axis=axis, keepdims=True)),)


class LogSoftmax(Op):
    """y = x − ln Σ eˣ along `axis`;  ∂x = ∂y − e^y · Σ ∂y along `axis`

    Stable: ln Σ eˣ is computed as m + ln Σ e^(x − m), m the largest x.
    """

    name = "log_softmax"
    hint = _AXIS_HINT

    @staticmethod
    def forward(x, axis):
        shifted = let("shifted", x - _shift(x, axis))  # ≤ 0: e^shifted never overflows
        return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

    @staticmethod
    def backward(g, y, x, axis):
        return (g - np.exp(y) * g.sum(axis=axis, keepdims=True),)
