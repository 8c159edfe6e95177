"""Reductions: sum and mean over axes.

Each class is one operation: ``forward`` on numpy arrays and ``backward``
(one gradient per input), with the math in its docstring's first line.
"""

from __future__ import annotations

import numpy as np

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
    """y = (1/n) Σ x over `axis`;  ∂x = ∂y / n copied back   (n = elements per output)"""

    name = "mean"
    hint = Sum.hint

    @staticmethod
    def forward(x, axis, keepdims):
        return x.mean(axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(g, y, x, axis, keepdims):
        n = np.size(raw(x)) / np.size(raw(y))
        return (broadcast_to(g.reshape(reduced_shape(x.shape, axis)) / n, x.shape),)
