"""Reductions: sum and mean over axes.

Each class is one operation: ``forward`` on numpy arrays and ``backward``
(one gradient per input), with the math in its docstring's first line.
"""

from __future__ import annotations

import math

from . import Op, broadcast_to, raw, reduced_shape


class Sum(Op):
    """y = Σ x over `axis`;  ∂x = ∂y copied back along the summed axes"""

    name = "sum"
    hint = "does not fit the axis: use an axis between -ndim and ndim - 1"

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
