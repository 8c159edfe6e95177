"""Shape moves: reshape, transpose, broadcast, indexing and its scatter.

Each class is one operation: ``forward`` on numpy arrays and ``backward``
(one gradient per input), with the math in its docstring's first line.
"""

from __future__ import annotations

import numpy as np

from . import Op, scatter_add


class Reshape(Op):
    """y = x viewed with a new shape;  ∂x = ∂y reshaped back"""

    name = "reshape"
    hint = "cannot be reshaped as asked: the number of elements must stay the same"

    @staticmethod
    def forward(x, shape):
        return np.reshape(x, shape)

    @staticmethod
    def backward(g, y, x, shape):
        return (g.reshape(x.shape),)


class Transpose(Op):
    """y = x with its axes permuted;  ∂x = ∂y permuted back"""

    name = "transpose"
    hint = "cannot be transposed as asked: give a permutation of all the axes, or none"

    @staticmethod
    def forward(x, axes):
        return np.transpose(x, axes)

    @staticmethod
    def backward(g, y, x, axes):
        if axes is None:
            return (g.transpose(),)
        return (g.transpose(*np.argsort([a % len(axes) for a in axes])),)


class BroadcastTo(Op):
    """y = x copied along new or length-1 axes;  ∂x = ∂y summed back (by `sum_to`)"""

    name = "broadcast_to"
    hint = (
        "does not broadcast to that shape (numpy's rule: trailing axes must be equal "
        "or 1); reshape it first, e.g. with .reshape(...)"
    )

    @staticmethod
    def forward(x, shape):
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(g, y, x, shape):
        return (g,)  # the traversal's sum_to does the summing


class GetItem(Op):
    """y = x[index];  ∂x = zeros with ∂y added at index (repeated indices add up)"""

    name = "getitem"
    hint = "cannot be indexed as asked: the index is out of range or malformed"

    @staticmethod
    def forward(x, index):
        return x[index]

    @staticmethod
    def backward(g, y, x, index):
        return (scatter_add(g, x.shape, index),)


class IndexAdd(Op):
    """y = zeros(shape) with g added at index;  ∂g = ∂y[index]   (GetItem's backward, as an op)"""

    name = "index_add"

    @staticmethod
    def forward(g, shape, index):
        out = np.zeros(shape)
        np.add.at(out, index, g)
        return out

    @staticmethod
    def backward(gy, y, g, shape, index):
        return (gy[index],)
