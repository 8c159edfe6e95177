"""Every operation of the engine: its forward computation and its local derivative, side by side.

The operations live in one small module per family (``arithmetic``,
``elementwise``, ``reductions``, ``losses``, ``shape``); this package holds
what they share (``Op``, ``sum_to`` and the helpers below) and names every
op, so ``ops.Mul`` works as before.

Each operation is a small class with two static methods:

* ``forward(*inputs, *args)`` computes the output from numpy arrays;
* ``backward(g, y, *inputs, *args)`` takes ``g`` (the gradient arriving at the
  output ``y``) and returns one gradient per input, in argument order.

``backward`` is written once and works on two kinds of things.  In a plain
backward pass it is handed numpy arrays and does numpy arithmetic.  When a
graph of the gradients is wanted (``grad(..., create_graph=True)``) it is
handed ``Value`` nodes, and the same lines build new graph nodes — which is
what makes second derivatives possible.  The few helpers below (``raw``,
``broadcast_to``, ``scatter_add``, ``let``) are the only places that need to
know which of the two they were given.

A gradient returned by ``backward`` may still have the *output's* broadcast
shape; the traversal (``autograd.py``) sums it back down to the input's shape
with :func:`sum_to`, in one place, for every operation.

Notation in the docstrings: ``∂x`` is the gradient of the final scalar with
respect to ``x``; ``∂y`` is the gradient arriving at the output.
"""

from __future__ import annotations

import numpy as np

_ARRAY_TYPES = (np.ndarray, np.generic)


def raw(x):
    """The numbers inside ``x``: ``x`` itself for an array, ``x.data`` for a Value."""
    return x if isinstance(x, _ARRAY_TYPES) else x.data


def broadcast_to(x, shape):
    if isinstance(x, _ARRAY_TYPES):
        return x + np.zeros(shape)  # a fresh array; np.broadcast_to's view is slower to make
    return x.broadcast_to(shape)


def scatter_add(g, shape, index):
    """A zero array of ``shape`` with ``g`` added at ``index`` (repeated indices add up)."""
    if isinstance(g, _ARRAY_TYPES):
        return IndexAdd.forward(g, shape, index)
    return g._scatter_add(shape, index)


def let(name: str, x):
    """``x`` itself: a value an op's forward formula uses twice, given a name.

    To numpy it changes nothing.  The numpy code generator (``compile``)
    writes it once on a line of its own, ``m = …``, and then uses ``m``,
    instead of writing (and computing) the expression twice.
    """
    return x if isinstance(x, _ARRAY_TYPES) else x._let(name)


def _exp_overflows(x) -> bool:
    """Whether eˣ overflows to ∞ somewhere in ``x`` (numpy would warn there).

    Only arrays and numbers are looked at; a traced symbol (compile.py) says no.
    """
    if type(x) is np.ndarray:
        return x.size > 0 and _largest(x, None) > _EXP_MAX
    return type(x) is np.float64 and x > _EXP_MAX


_EXP_MAX = np.log(np.finfo(np.float64).max)  # 709.78…: e^x is finite up to here
_largest = np.maximum.reduce  # x.max() without its Python wrapper


def sum_to(g, shape: tuple):
    """Undo numpy broadcasting: sum ``g`` down to ``shape``.

    Broadcasting copies an input along new leading axes and along axes of
    length 1, so its gradient is the sum over those axes.  Works on arrays
    and on Values (both have ``.sum(axis, keepdims)`` and ``.reshape``).
    """
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    if lead:  # new leading axes: sum them away (axis=0 alone is the quick common case)
        g = g.sum(axis=0 if lead == 1 else tuple(range(lead)))
        if g.shape == shape:  # the common case of a bias: (batch, n) summed to (n,)
            return g
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:  # axes of length 1 that were copied out: sum them, keep the axis
        g = g.sum(axis=stretched, keepdims=True)
    return g


def reduced_shape(shape: tuple, axis) -> tuple:
    """The shape of ``x.sum(axis, keepdims=True)`` for ``x`` of ``shape``.

    A 0-d ``x`` gives ``()`` whatever the axis (numpy's sum takes ``axis=0``
    or ``-1`` there, and has nothing to reduce).
    """
    if axis is None or not shape:
        return (1,) * len(shape)
    axes = axis if isinstance(axis, tuple) else (axis,)
    axes = {a % len(shape) for a in axes}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def swap_last_two(x):
    """The matrix transpose of the last two axes (``x.mT``)."""
    axes = list(range(x.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return x.transpose(*axes)


class Op:
    """Base of every operation.  ``name`` is the short name shown as ``Value.op``.

    ``hint`` finishes the error message raised when numpy refuses the inputs.
    It follows "shape (2, 3)" for a one-input op and "shapes (2, 3) and (4,)"
    otherwise, so its verb agrees with that ("does not …" / "do not …").

    Writing your own op (use it with ``tinygrad_sine.apply(MyOp, x)``):

    * ``forward(*inputs, *args)`` gets numpy arrays (and the op's fixed
      ``args``, e.g. an axis) and returns the output array.
    * ``backward(g, y, *inputs, *args)`` gets ``g`` = ∂y (the gradient
      arriving at the output ``y``), the output and the inputs, and returns a
      tuple with one gradient per input, in argument order.  A one-input op
      may return its gradient bare (``return g * 2 * x``).  ``None`` in
      place of a gradient means "no gradient for this input" (a zero), as
      in PyTorch's ``autograd.Function``: for an input such as a fixed
      table of numbers that nobody differentiates by (a bare ``None`` is
      refused: it is usually a forgotten ``return``).  A gradient may
      keep the output's broadcast shape: the traversal sums it back to its
      input's shape.  The wrong number of gradients, or one that cannot be
      summed back, is an error naming the op and the shapes.  Written with
      operators and numpy functions (``g * y``, ``np.cos(x)``), it also
      works on Values, so second derivatives come for free.
    * The docstring's first line is the math, forward and derivative side by
      side, separated by a semicolon::

          "y = x²;  ∂x = ∂y · 2x"

      ``show``, the stepper and the diagrams print these two halves; the
      names after ``g, y`` in ``backward``'s signature name the inputs there.
      Without such a line they show the op's name instead.
    * An op of any number of inputs takes them as ``*xs`` (``Concatenate``:
      ``forward(*xs_and_axis)``); its ``arguments`` (``("axis",)``) then name
      the static arguments at the end, for the views and the error messages.
    * A value the forward formula uses twice can be named with :func:`let`,
      so the code ``compile`` writes computes it once (softmax's shift).

    >>> from tinygrad_sine import Value, apply
    >>> class Square(Op):
    ...     "y = x²;  ∂x = ∂y · 2x"
    ...     name = "square"
    ...     forward = staticmethod(lambda x: x * x)
    ...     backward = staticmethod(lambda g, y, x: g * 2 * x)
    >>> x = Value(3.0)
    >>> apply(Square, x).backward()
    >>> x.grad.item()
    6.0
    """

    name = ""
    arguments: tuple[str, ...] = ()  # names of the static args, for a backward(g, y, *xs)
    hint = "cannot be used here: check the shapes and values of the inputs"

    @staticmethod
    def forward(*inputs):  # pragma: no cover - every op overrides it
        raise NotImplementedError

    @staticmethod
    def backward(g, y, *inputs):  # pragma: no cover
        raise NotImplementedError


_BROADCAST_HINT = (
    "do not broadcast (numpy's rule: trailing axes must be equal or 1); "
    "reshape one side, e.g. with .reshape(...)"
)


# The operations, one module per family (imported last: they use the helpers above).
from .arithmetic import Add, Div, Matmul, Mul, Neg, Pow, PowValue, Sub  # noqa: E402, F401
from .elementwise import (  # noqa: E402, F401
    Abs,
    Clip,
    Cos,
    Exp,
    Identity,
    LeakyRelu,
    Log,
    Maximum,
    Minimum,
    Relu,
    Sigmoid,
    Sin,
    Sqrt,
    Square,
    Tanh,
    Where,
)
from .losses import CrossEntropy, SquaredError  # noqa: E402, F401
from .reductions import (  # noqa: E402, F401
    LogSoftmax,
    Logsumexp,
    Max,
    Mean,
    Min,
    Softmax,
    Std,
    Sum,
    Var,
)
from .shape import (  # noqa: E402, F401
    BroadcastTo,
    Concatenate,
    ExpandDims,
    Flatten,
    GetItem,
    IndexAdd,
    Reshape,
    Squeeze,
    Stack,
    Transpose,
)
