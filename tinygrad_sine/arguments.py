"""What a Value and its methods accept, checked in one place.

Numbers become float64 (``as_float64``); shapes, axes and ``keepdims`` are
checked before numpy sees them (``shape_arg``, ``axis_arg``, ``keepdims_arg``,
``bounds_arg``, ``real_arg``);
rates, widths and tolerances are finite real numbers (``check_real``).  Each
refusal is a TypeError or ValueError that names the operation, what was given
and what to pass instead — never a bare numpy error from deep inside.
"""

from __future__ import annotations

import math

import numpy as np


def as_float64(data, where: str = "Value"):
    """``data`` as float64: an ``np.float64`` for a single number, else a numpy array.

    Raises a TypeError naming what was given if it is not numeric.  A single
    number is kept as an ``np.float64`` scalar rather than a 0-d array
    because numpy does arithmetic on those about five times faster.
    """
    if type(data) is float or type(data) is np.float64:  # the common cases, made quick
        return np.float64(data)
    if type(data) is np.ndarray and data.dtype == np.float64 and data.ndim:
        return data.copy()
    if isinstance(data, (list, tuple)) and _holds_a_value(data):
        raise TypeError(
            f"{where}: data is a list holding Values; its numbers would lose their graph. "
            "Combine Values with operations, or pass [v.data for v in ...] for a new leaf"
        )
    if isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"{where}: data is {type(data).__name__} (raw bytes), not numbers; decode it, "
            "or read the bytes as numbers with np.frombuffer(data, dtype=...) first")
    if isinstance(data, np.ndarray) and hasattr(data, "mask"):
        raise TypeError(
            f"{where}: data is a masked array; a Value has no mask, and dropping it would "
            "silently use the hidden numbers: pass data.filled(fill_value) or "
            "data.compressed() instead")
    if isinstance(data, int) and not isinstance(data, bool) and not -2**63 <= data < 2**63:
        data = _big_int_as_float(data, where)  # beyond int64: numpy would make an object
    try:
        arr = np.asarray(data)
    except (ValueError, TypeError, OverflowError):  # ragged nested lists, odd objects
        arr = None
    if arr is not None and arr.dtype == object and all(  # a list holding ints beyond int64
            type(e) in (int, float) for e in arr.flat):
        try:
            arr = np.array(data, dtype=np.float64)
        except OverflowError:
            raise ValueError(f"{where}: a number in data is out of float64's range "
                             "(about ±1.8e308)") from None
    if arr is None or arr.dtype.kind not in "biuf":
        shown = repr(data)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise TypeError(
            f"{where}: data must be a number, a (nested) list of numbers or a numeric "
            f"numpy array; got {type(data).__name__} {shown}"
        )
    if arr.ndim == 0:
        return np.float64(arr)
    return np.array(arr, dtype=np.float64)


def _holds_a_value(items) -> bool:
    """Whether a (nested) list or tuple has a Value anywhere in it."""
    from .value import Value  # here, not at the top: value.py imports this module

    stack = [items]
    while stack:
        for item in stack.pop():
            if isinstance(item, Value):
                return True
            if isinstance(item, (list, tuple)):
                stack.append(item)
    return False


def _big_int_as_float(n: int, where: str) -> float:
    """A Python int too big for int64, as the float64 nearest to it (or a ValueError)."""
    try:
        return float(n)
    except OverflowError:
        raise ValueError(f"{where}: data {str(n)[:20]}… ({len(str(abs(n)))} digits) is out of "
                         "float64's range (about ±1.8e308)") from None


def is_int(n) -> bool:
    """A Python or numpy integer, not a bool: what shapes, axes and layer sizes take."""
    return isinstance(n, (int, np.integer)) and not isinstance(n, bool)


def is_real(x) -> bool:
    """A Python or numpy int or float, not a bool: what rates, widths and tolerances take."""
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def check_real(value, where: str, name: str, *, positive: bool = False,
               example: str | None = None) -> float:
    """``value`` as a float if it is a finite real number ≥ 0 (> 0 if ``positive``).

    Else a TypeError (not a number) or ValueError (nan, ±inf, too small)
    that begins with ``where`` and names ``name``, e.g. ``check_real(eta,
    "SGD", "eta (the learning rate)", positive=True, example="0.1")``.
    """
    __tracebackhide__ = True  # pytest shows the caller's line (assert_grad_close …)
    such_as = f", such as {example}" if example else ""
    if not is_real(value):
        raise TypeError(f"{where}: {name} must be a number{such_as}; got "
                        f"{type(value).__name__} {value!r}")
    try:
        number = float(value)
    except OverflowError:  # a Python int beyond float64
        number = math.inf
    if not (math.isfinite(number) and (number > 0 if positive else number >= 0)):
        raise ValueError(f"{where}: {name} must be a finite number {'> 0' if positive else '≥ 0'}"
                         f"{such_as}; got {value!r}")
    return number


def shape_arg(shape: tuple, where: str) -> tuple:
    """Accept both ``f(2, 3)`` and ``f((2, 3))``; anything but whole numbers is a TypeError."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not all(map(is_int, shape)):
        raise TypeError(f"Value.{where}: expected whole numbers, as in v.{where}(2, 3) or "
                        f"v.{where}((2, 3)); got {shape!r}")
    return tuple(shape)


def axis_arg(axis, where: str, ndim: int | None = None):
    """None, an int, or a tuple (or list) of ints; anything else is a TypeError naming ``where``.

    Given ``ndim``, a tuple that names one axis twice (``(1, 1)``, or ``(1, -1)``
    for 2 axes) is a ValueError saying so, as numpy refuses a repeated axis.
    (An axis out of range is left to numpy, whose error the op's hint explains.)
    """
    if axis is None:
        return None
    axes = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    if not all(map(is_int, axes)):
        raise TypeError(f"Value.{where}: axis must be None, an int or a tuple of ints; "
                        f"got {axis!r}")
    if ndim is not None and len(axes) > 1:
        named = [a % ndim for a in axes if -ndim <= a < ndim]
        twice = next((a for a in named if named.count(a) > 1), None)
        if twice is not None:
            raise ValueError(f"Value.{where}: axis {axis!r} names axis {twice} twice (the "
                             f"Value has {ndim} axes); numpy refuses a repeated axis too: "
                             "name each axis once")
    return axes if isinstance(axis, (list, tuple)) else axis


def keepdims_arg(keepdims, where: str) -> bool:
    """True or False (a numpy bool too); anything else is a TypeError naming ``where``."""
    if not isinstance(keepdims, (bool, np.bool_)):
        raise TypeError(f"Value.{where}: keepdims must be True or False; got {keepdims!r}")
    return bool(keepdims)


def real_arg(x, where: str, name: str) -> float:
    """A finite real number (an op's fixed argument, like leaky_relu's slope) as a float."""
    if not is_real(x):
        raise TypeError(f"Value.{where}: {name} must be a number; got {type(x).__name__} {x!r}")
    if not math.isfinite(float(x)):
        raise ValueError(f"Value.{where}: {name} must be a finite number; got {x!r}")
    return float(x)


def bounds_arg(lo, hi, where: str) -> tuple:
    """``(lo, hi)`` as floats (or None for no bound on a side), with lo ≤ hi."""
    if lo is None and hi is None:
        raise ValueError(f"Value.{where}: give lo, hi or both, e.g. v.{where}(-1.0, 1.0)")
    for name, bound in (("lo", lo), ("hi", hi)):
        if bound is not None and not is_real(bound):
            raise TypeError(f"Value.{where}: {name} must be a number or None; got "
                            f"{type(bound).__name__} {bound!r}")
        if bound is not None and math.isnan(float(bound)):
            raise ValueError(f"Value.{where}: {name} is nan; give a number or None")
    lo = None if lo is None else float(lo)
    hi = None if hi is None else float(hi)
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"Value.{where}: lo={lo!r} is greater than hi={hi!r}; "
                         "swap them, or give lo ≤ hi")
    return lo, hi
