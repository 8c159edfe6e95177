"""numpy functions on Values: ``np.exp(v)`` is ``v.exp()``, ``np.dot(x, w)`` is ``x @ w``.

numpy asks an argument that defines ``__array_ufunc__`` (for ufuncs such as
``np.exp`` or ``np.add``) or ``__array_function__`` (for functions such as
``np.sum`` or ``np.reshape``) to compute the call itself.  ``Value`` answers
with the table below: each numpy function maps to the Value method that
already exists, so the graph is exactly the one the method records — same
ops, same nodes, same diagrams.  There is no second set of operations here.

So the post's numpy code runs on Values unchanged::

    u = np.dot(x, w) + b             # the same nodes as x @ w + b
    y = 1 / (1 + np.exp(-u))         # reciprocal, add, exp, neg: as written
    E = 0.5 * np.sum((y - t) ** 2)

``ndarray * Value`` also comes through here (numpy calls ``np.multiply(arr,
v)``), keeping the argument order, so it gives the node ``v.__rmul__(arr)``
would.  Any other numpy function raises ``TypeError`` naming it and the
methods that exist.  ``np.asarray(v)`` gives a leaf's numbers; an op
result refuses, as a tensor needing a gradient does in PyTorch (see
``Value.__array__``): use ``v.data`` for its numbers.

Value with Value (``a * b``) never comes here: Python calls ``Value.__mul__``
directly, which keeps the common path quick.
"""

from __future__ import annotations

import math

import numpy as np

from .value import Value, _lift


def _method(name: str):
    """A caller for ``np.<ufunc>(a, b, …)``: the first input's Value method ``name``.

    A number or array on the left is wrapped as a constant leaf first, exactly
    as the reflected operator (``v.__radd__(arr)``) does, so the node has the
    same parents in the same order.
    """

    def call(first, *rest):
        return getattr(_lift(first, name.strip("_")), name)(*rest)

    call.__name__ = name
    return call


# numpy's ufunc → the Value method it stands for.  (np.divide is np.true_divide.)
UFUNCS = {
    np.add: _method("__add__"),
    np.subtract: _method("__sub__"),
    np.multiply: _method("__mul__"),
    np.true_divide: _method("__truediv__"),
    np.power: _method("__pow__"),
    np.negative: _method("__neg__"),
    np.matmul: _method("__matmul__"),
    np.exp: _method("exp"),
    np.log: _method("log"),
    np.sin: _method("sin"),
    np.cos: _method("cos"),
    np.tanh: _method("tanh"),
    np.absolute: _method("abs"),  # np.abs
    np.sqrt: _method("sqrt"),
    np.square: _method("square"),
    np.maximum: _method("maximum"),
    np.minimum: _method("minimum"),
    # Comparisons (``ndarray == v``, ``np.less(v, 1)``): numpy booleans, no node (see Value).
    np.equal: _method("__eq__"),
    np.not_equal: _method("__ne__"),
    np.less: _method("__lt__"),
    np.less_equal: _method("__le__"),
    np.greater: _method("__gt__"),
    np.greater_equal: _method("__ge__"),
}


def _refuse(func: str, **given) -> None:
    """A TypeError for numpy arguments a Value cannot honour (``out=``, ``dtype=`` …)."""
    bad = [name for name, val in given.items() if val is not None]
    if bad:
        raise TypeError(
            f"np.{func} on a Value: {', '.join(f'{n}=' for n in bad)} is not supported "
            "(a Value always makes a new float64 node); drop it, or use v.data for plain numbers"
        )


def _sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _refuse("sum", dtype=dtype, out=out, initial=initial, where=where)
    return _lift(a, "sum").sum(axis, keepdims)


def _mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    _refuse("mean", dtype=dtype, out=out, where=where)
    return _lift(a, "mean").mean(axis, keepdims)


def _transpose(a, axes=None):
    """``np.transpose(a, axes)``: ``axes`` a tuple or list, or an int (numpy takes one for 1-D)."""
    a = _lift(a, "transpose")
    return a.transpose() if axes is None else a.transpose(axes)


def _reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    _refuse("reshape", copy=copy, order=None if order == "C" else order)
    shape = newshape if shape is None else shape
    return _lift(a, "reshape").reshape(shape)


def dot(a, b) -> Value:
    """``np.dot(a, b)`` with numpy's rules, built from existing ops (so its gradient is theirs).

    np.dot sums over the last axis of ``a`` and the second-to-last of ``b``
    (the only one, if ``b`` is 1-D)::

        dot(a, b)[i…, j…, n] = Σ_k a[i…, k] · b[j…, k, n]
        shape: a.shape[:-1] + b.shape[:-2] + b.shape[-1:]

    * a single number on either side multiplies (``a * b``);
    * when either side is 1-D, or both are at most 2-D, that is exactly
      ``a @ b``: one matmul node;
    * otherwise (e.g. (2, 2, 3)·(2, 3, 4), where ``@`` would pair the stacks
      and give (2, 2, 4)) every stack of ``a`` meets every stack of ``b``:
      ``b``'s summed axis is moved to the front and both sides are flattened
      into matrices, ``(P, K) @ (K, M)``, and the product is reshaped to
      numpy's shape.  Transpose, reshape and matmul nodes, each with its own
      derivative, so first and second derivatives come out right.

    ``@`` (``np.matmul``) keeps matmul's stacking rule; use it for batches.

    >>> import numpy as np
    >>> a, b = Value(np.ones((2, 2, 3))), Value(np.ones((2, 3, 4)))
    >>> np.dot(a, b).shape, (a @ b).shape
    ((2, 2, 2, 4), (2, 2, 4))
    """
    a, b = _lift(a, "dot"), _lift(b, "dot")
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.ndim == 1 or b.ndim == 1 or (a.ndim <= 2 and b.ndim <= 2):
        return a @ b
    k = a.shape[-1]
    if b.shape[-2] != k:
        raise ValueError(f"np.dot: shapes {a.shape} and {b.shape} do not align: the last axis "
                         f"of the left side ({k}) must equal the second-to-last axis of the "
                         f"right side ({b.shape[-2]})")
    rest = b.shape[:-2] + b.shape[-1:]  # b's axes that stay, in order
    axes = list(range(b.ndim))
    front = axes.pop(-2)
    # explicit sizes (math.prod), since reshape's -1 is ambiguous for an empty array
    left = a.reshape(math.prod(a.shape[:-1]), k)
    right = b.transpose(front, *axes).reshape(k, math.prod(rest))
    return (left @ right).reshape(a.shape[:-1] + rest)


def _dot(a, b, out=None):
    """``np.dot``: :func:`dot` (numpy's rules), refusing ``out=``."""
    _refuse("dot", out=out)
    return dot(a, b)


def _reduction(name: str):
    """``np.max``, ``np.var`` …: the Value method ``name`` over ``axis``, numpy's signature."""

    def call(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, initial=None,
             where=None, mean=None, correction=None):
        _refuse(name, dtype=dtype, out=out, initial=initial, where=where, mean=mean)
        if ddof != 0 or correction not in (None, 0):
            raise TypeError(
                f"np.{name} on a Value: only ddof=0 is supported (divide by n, as numpy's "
                f"default); for n - 1, write ((v - v.mean()) ** 2).sum() / (n - 1)")
        return getattr(_lift(a, name), name)(axis, keepdims)

    call.__name__ = name
    return call


def _max_min(name: str):
    """``np.max``/``np.amax`` and ``np.min``/``np.amin`` (no dtype or ddof in their signature)."""
    reduce = _reduction(name)

    def call(a, axis=None, out=None, keepdims=False, initial=None, where=None):
        return reduce(a, axis, out=out, keepdims=keepdims, initial=initial, where=where)

    return call


def _clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None, **kwargs):
    _refuse("clip", out=out, **{k: True for k in kwargs})
    lo = min if a_min is None else a_min
    hi = max if a_max is None else a_max
    if isinstance(lo, Value) or isinstance(hi, Value):
        raise TypeError("np.clip on a Value: the bounds must be numbers (or None), not Values; "
                        "for a bound that is a Value use maximum(v, lo) and minimum(v, hi)")
    return _lift(a, "clip").clip(lo, hi)


def _where(condition, x=None, y=None):
    if x is None or y is None:
        raise TypeError("np.where on a Value needs three arguments (cond, a, b); np.where(cond) "
                        "alone gives indices: use np.where(v.data > 0) for those")
    return _functions.where(condition, x, y)


def _join(name: str):
    def call(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
        _refuse(name, out=out, dtype=dtype, casting=None if casting == "same_kind" else casting)
        return getattr(_functions, name)(arrays, axis)

    call.__name__ = name
    return call


def _squeeze(a, axis=None):
    return _lift(a, "squeeze").squeeze(axis)


def _expand_dims(a, axis):
    return _lift(a, "expand_dims").expand_dims(axis)


def _ravel(a, order="C"):
    _refuse("ravel", order=None if order == "C" else order)
    return _lift(a, "flatten").flatten()


def _size(a, axis=None):
    return np.size(a.data, axis)


# numpy's function → the Value method it stands for, with numpy's own signature.
# (np.shape, np.ndim and np.size only read the shape: they make no node.)
FUNCTIONS = {
    np.sum: _sum,
    np.mean: _mean,
    np.transpose: _transpose,
    np.reshape: _reshape,
    np.dot: _dot,
    np.max: _max_min("max"),
    np.amax: _max_min("max"),
    np.min: _max_min("min"),
    np.amin: _max_min("min"),
    np.var: _reduction("var"),
    np.std: _reduction("std"),
    np.clip: _clip,
    np.where: _where,
    np.concatenate: _join("concatenate"),
    np.stack: _join("stack"),
    np.squeeze: _squeeze,
    np.expand_dims: _expand_dims,
    np.ravel: _ravel,
    np.shape: lambda a: a.shape,
    np.ndim: lambda a: len(a.shape),
    np.size: _size,
}

_METHODS = ("exp, log, sin, cos, tanh, sigmoid, relu, identity, abs, sqrt, square, maximum, "
            "minimum, clip, leaky_relu, sum, mean, max, min, var, std, logsumexp, softmax, "
            "log_softmax, reshape, transpose, broadcast_to, squeeze, expand_dims, flatten, dot, "
            "T, [index], + − * / ** @")


# Functions that make no node (they read the shape, or compare): not listed as operations.
_NO_NODE = {"shape", "ndim", "size", "equal", "not_equal", "less", "less_equal", "greater",
            "greater_equal"}


def _unsupported(name: str) -> TypeError:
    numpy_names = sorted({f.__name__ for f in (*UFUNCS, *FUNCTIONS)} - _NO_NODE)
    return TypeError(
        f"{name} is not supported on a Value (it would record no gradient). "
        f"Value methods: {_METHODS}. numpy functions that work on Values: "
        f"{', '.join('np.' + n for n in numpy_names)}. For plain numbers without a graph, "
        "use v.data; for a new operation, write an ops.Op subclass"
    )


def _is_ours(x) -> bool:
    """Types numpy may hand us alongside a Value: Values, arrays, numbers."""
    return isinstance(x, (Value, np.ndarray, np.generic, int, float, list, tuple))


def array_ufunc(ufunc, method: str, *inputs, **kwargs):
    """``Value.__array_ufunc__``: run a supported ufunc as its Value method."""
    if not all(map(_is_ours, inputs)):
        return NotImplemented  # another array-like (e.g. compile's tracer) may know better
    if method != "__call__":
        raise _unsupported(f"numpy.{ufunc.__name__}.{method}")
    call = UFUNCS.get(ufunc)
    if call is None:
        raise _unsupported(f"numpy.{ufunc.__name__}")
    if kwargs:  # out=, where=, dtype=, casting= …: numpy passes only those given
        _refuse(ufunc.__name__, **{k: True for k in kwargs})
    return call(*inputs)


def array_function(func, types, args, kwargs):
    """``Value.__array_function__``: run a supported numpy function as its Value method."""
    if not all(issubclass(t, (Value, np.ndarray)) for t in types):
        return NotImplemented
    call = FUNCTIONS.get(func)
    if call is None:
        raise _unsupported(f"numpy.{func.__name__}")
    return call(*args, **kwargs)


from . import functions as _functions  # noqa: E402  (it imports value, which imports this module)
