"""Shape moves: reshape, transpose, broadcast, indexing and its scatter, squeeze,
expand_dims, flatten, and joining Values (concatenate, stack).

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


class Squeeze(Op):
    """y = x without its length-1 axes (`axis`, or all of them);  ∂x = ∂y reshaped back"""

    name = "squeeze"
    hint = "cannot be squeezed there: only an axis of length 1 can be removed"

    @staticmethod
    def forward(x, axis):
        return np.squeeze(x, axis)

    @staticmethod
    def backward(g, y, x, axis):
        return (g.reshape(x.shape),)


class ExpandDims(Op):
    """y = x, a new length-1 axis inserted at `axis`;  ∂x = ∂y reshaped back"""

    name = "expand_dims"
    hint = "cannot take a new axis there: use an axis between -(ndim + 1) and ndim"

    @staticmethod
    def forward(x, axis):
        return np.expand_dims(x, axis)

    @staticmethod
    def backward(g, y, x, axis):
        return (g.reshape(x.shape),)


class Flatten(Op):
    """y = x as one row of all its numbers (row-major);  ∂x = ∂y reshaped back"""

    name = "flatten"

    @staticmethod
    def forward(x):
        return np.reshape(x, (-1,))

    @staticmethod
    def backward(g, y, x):
        return (g.reshape(x.shape),)


def _along(axis: int, ndim: int, index) -> tuple:
    """The index that takes ``index`` (an int or a slice) on ``axis`` and everything elsewhere."""
    return (slice(None),) * (axis % ndim) + (index,)


class Concatenate(Op):
    """y = x1, x2, … joined along `axis`;  ∂x_k = the piece of ∂y where x_k sits

    The inputs are any number of Values; ``axis`` is the one static argument.
    """

    name = "concatenate"
    arguments = ("axis",)
    hint = ("do not fit together: all axes but the joining one must be equal, "
            "and the ranks the same")

    @staticmethod
    def forward(*xs_and_axis):
        *xs, axis = xs_and_axis
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def backward(g, y, *xs_and_axis):
        *xs, axis = xs_and_axis
        grads, start = [], 0
        for x in xs:
            stop = start + x.shape[axis]
            grads.append(g[_along(axis, y.ndim, slice(start, stop))])
            start = stop
        return tuple(grads)


class Stack(Op):
    """y = x1, x2, … stacked along a new `axis`;  ∂x_k = ∂y's k-th slice along `axis`

    The inputs are any number of Values of one shape; ``axis`` is the static argument.
    """

    name = "stack"
    arguments = ("axis",)
    hint = "do not stack: all inputs must have the same shape"

    @staticmethod
    def forward(*xs_and_axis):
        *xs, axis = xs_and_axis
        return np.stack(xs, axis=axis)

    @staticmethod
    def backward(g, y, *xs_and_axis):
        *xs, axis = xs_and_axis
        return tuple(g[_along(axis, y.ndim, k)] for k in range(len(xs)))
