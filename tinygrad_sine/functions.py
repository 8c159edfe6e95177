"""Operations on several Values, as package functions: ``maximum``, ``minimum``, ``where``,
``concatenate``, ``stack``.

Each is one op of ``ops`` (its math and derivative are there); these
functions only check and convert what they are given, as numpy's functions
of the same names do.  Numbers and arrays are taken as constants (leaves).

>>> from tinygrad_sine import Value, where
>>> v = Value([-2.0, 3.0])
>>> where(v > 0, v, 0.01 * v).data        # a leaky relu from a comparison
array([-0.02,  3.  ])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import ops
from .arguments import is_int
from .value import Value, _apply, _lift


def maximum(a, b) -> Value:
    """The larger of ``a`` and ``b``, elementwise (ops.Maximum).

    ∂a = ∂y where a > b, ∂b = ∂y where b > a, and half to each where a = b
    (as ``torch.maximum``).  Either side may be a number or an array.
    """
    return _apply(ops.Maximum, (_lift(a, "maximum"), _lift(b, "maximum")))


def minimum(a, b) -> Value:
    """The smaller of ``a`` and ``b``, elementwise (ops.Minimum; half to each where a = b)."""
    return _apply(ops.Minimum, (_lift(a, "minimum"), _lift(b, "minimum")))


def where(cond, a, b) -> Value:
    """``a`` where ``cond`` is true, else ``b``, elementwise (ops.Where), like ``np.where``.

    ``cond`` is an array of booleans, typically a comparison: ``v > 0`` or
    ``v.data > 0`` (numbers count as numpy counts them: non-zero is true).
    It is fixed, not an input: no gradient flows through a choice.  ∂a is
    ∂y where ``cond`` holds, ∂b is ∂y elsewhere.  ``cond``, ``a`` and ``b``
    broadcast together.  So ``where(v > 0, v, 0.01 * v)`` is a leaky relu.

    Inside a function given to ``compile``, ``v > 0`` is refused (as
    ``v.item()`` is): the code would keep the choice made on the traced
    numbers.  Use an op that decides elementwise there (``leaky_relu``,
    ``maximum``, ``clip``).
    """
    return _apply(ops.Where, (_lift(a, "where"), _lift(b, "where")), (_condition(cond),))


def _condition(cond) -> np.ndarray:
    if isinstance(cond, Value):
        raise TypeError(
            "where: cond is a Value; a choice passes no gradient, so give booleans: a "
            "comparison such as v > 0 or v.data > 0")
    try:
        arr = np.array(cond)  # a copy: changing the caller's mask later leaves the graph alone
    except (ValueError, TypeError):
        arr = None
    if arr is None or arr.dtype.kind not in "biuf":
        raise TypeError(f"where: cond must be booleans (e.g. v > 0), got {type(cond).__name__} "
                        f"{cond!r:.60}")
    return arr.astype(bool)


def _values(values, where: str) -> tuple:
    if isinstance(values, (Value, np.ndarray)) or not isinstance(values, Sequence):
        raise TypeError(f"{where}: give a list of Values (or arrays), e.g. {where}([a, b]); "
                        f"got {type(values).__name__}")
    if not values:
        raise ValueError(f"{where}: needs at least one Value to join; got an empty list")
    return tuple(_lift(v, where) for v in values)


def _axis(axis, where: str) -> int:
    if not is_int(axis):
        raise TypeError(f"{where}: axis must be an int; got {axis!r}")
    return int(axis)


def concatenate(values: Sequence, axis: int = 0) -> Value:
    """The Values joined end to end along an existing ``axis``, like ``np.concatenate``.

    One node (ops.Concatenate) with every Value as an input: each one's
    gradient is the piece of ∂y where it sits.  All axes but ``axis`` must match.
    """
    return _apply(ops.Concatenate, _values(values, "concatenate"),
                  (_axis(axis, "concatenate"),))


def stack(values: Sequence, axis: int = 0) -> Value:
    """The Values (all of one shape) stacked along a new ``axis``, like ``np.stack``.

    One node (ops.Stack): the k-th Value's gradient is ∂y's k-th slice along ``axis``.
    """
    return _apply(ops.Stack, _values(values, "stack"), (_axis(axis, "stack"),))
