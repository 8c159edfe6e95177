"""``Value``: a number or a numpy array that remembers how it was computed.

Every arithmetic operation on Values returns a new Value whose ``parents``
are its inputs and whose ``op`` names the operation (see ``ops.py``).  The
result is a graph that ``backward`` (``autograd.py``) walks in reverse.

Design choices a reader may want to know:

* A node points to its parents, never to its children, and an operation is
  a class, not a closure.  So a graph has no reference cycles and is freed by
  plain reference counting the moment you drop its root.
* ``__slots__`` keeps a node small (a few hundred bytes) and quick to build.
* numpy functions on Values (``np.exp(v)``, ``np.dot(x, w)``, ``ndarray * v``)
  run the Value methods: one table in ``numpy_dispatch.py``.  ``np.asarray(v)``
  gives the numbers, not an array of objects.
"""

from __future__ import annotations

import contextvars
import inspect

import numpy as np

from . import ops

# Set to False by ``no_grad()``: operations then record no graph.
_grad_enabled = True

# While ``compile`` traces a function (in this thread or task only), a function that
# raises: turning a Value into a Python number then would freeze a data-dependent branch.
_tracing: contextvars.ContextVar = contextvars.ContextVar("tinygrad_sine_tracing", default=None)


def _as_float_array(data, where: str = "Value"):
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
    try:
        arr = np.asarray(data)
    except (ValueError, TypeError):  # ragged nested lists, odd objects
        arr = None
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
    stack = [items]
    while stack:
        for item in stack.pop():
            if isinstance(item, Value):
                return True
            if isinstance(item, (list, tuple)):
                stack.append(item)
    return False


def _apply(op, parents: tuple, args: tuple = ()) -> Value:
    """Run ``op`` forward on the parents' data and wrap the result in a new node."""
    try:
        if len(parents) == 2:  # spelled out for the common cases: a list costs more than the op
            data = op.forward(parents[0].data, parents[1].data, *args)
        elif len(parents) == 1:
            data = op.forward(parents[0].data, *args)
        else:
            data = op.forward(*[p.data for p in parents], *args)
    except (ValueError, IndexError, TypeError) as err:
        shapes = ("shape " if len(parents) == 1 else "shapes ") + " and ".join(
            str(p.shape) for p in parents)
        names = list(inspect.signature(op.forward).parameters)[len(parents):]
        extra = ", ".join(f"{n}={a!r}" for n, a in zip(names, args))
        extra = f" ({extra})" if extra else ""
        raise ValueError(
            f"Value.{op.name}: {shapes}{extra} {op.hint} [numpy: {err}]"
        ) from None
    out = Value.__new__(Value)
    out.data = data
    out._grad = None
    out.label = None
    if _grad_enabled:
        out.parents, out._op, out._args = parents, op, args
    else:
        out.parents, out._op, out._args = (), None, ()
    return out


def _lift(x, where: str = "apply") -> Value:
    """Wrap a number or array as a constant leaf; leave a Value alone.

    ``where`` names the operation in the error for something that is not a number.
    """
    if isinstance(x, Value):
        return x
    try:
        return Value(x)
    except TypeError:
        shown = repr(x) if len(repr(x)) <= 40 else repr(x)[:37] + "..."
        raise TypeError(
            f"Value.{where}: cannot combine a Value with {type(x).__name__} {shown}; "
            "use a number, a numeric array or a Value"
        ) from None


def apply(op, *inputs, args: tuple = ()) -> Value:
    """Apply an operation class from ``ops.py`` (or your own ``Op`` subclass) to inputs.

    Inputs may be Values, numbers or arrays; ``args`` are the op's fixed
    extra arguments (an axis, a shape …).  This is how to add an operation:

    >>> from tinygrad_sine import ops
    >>> class Square(ops.Op):
    ...     "y = x²;  ∂x = ∂y · 2x"
    ...     name = "square"
    ...     forward = staticmethod(lambda x: x * x)
    ...     backward = staticmethod(lambda g, y, x: (g * 2 * x,))
    >>> v = Value(3.0)
    >>> s = apply(Square, v)
    >>> s.backward()
    >>> s.item(), v.grad.item()
    (9.0, 6.0)
    """
    return _apply(op, tuple(map(_lift, inputs)), args)


def is_int(n) -> bool:
    """A Python or numpy integer, not a bool: what shapes, axes and layer sizes take."""
    return isinstance(n, (int, np.integer)) and not isinstance(n, bool)


def _shape_arg(shape: tuple, where: str) -> tuple:
    """Accept both ``f(2, 3)`` and ``f((2, 3))``; anything but whole numbers is a TypeError."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not all(map(is_int, shape)):
        raise TypeError(f"Value.{where}: expected whole numbers, as in v.{where}(2, 3) or "
                        f"v.{where}((2, 3)); got {shape!r}")
    return tuple(shape)


class Value:
    """A scalar or numpy tensor in a computation graph.

    >>> a = Value(2.0, label="a")
    >>> y = (a * a + 1).sigmoid()
    >>> y.backward()
    >>> round(a.grad.item(), 6)   # d/da sigmoid(a² + 1) = y (1 − y) · 2a
    0.026592

    ``data`` may be a Python number, a (nested) list of numbers or a numeric
    numpy array; it is stored as float64 (an ``np.float64`` for a single
    number, else a copy as a float64 array).  Anything else — a string, an
    object, a complex number — raises ``TypeError`` naming what was given.

    Attributes: ``data`` (float64 array), ``grad`` (same shape; zeros until a
    backward pass reaches the node), ``parents`` (the inputs, in argument
    order, repeats kept), ``op`` (``""`` for a leaf), ``label`` (free text for
    diagrams and the stepper).
    """

    __slots__ = ("data", "_grad", "parents", "_op", "_args", "label", "__weakref__")

    # ------------------------------------------------------------ numpy
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """``np.exp(v)``, ``ndarray * v`` …: the Value method (table in numpy_dispatch.py)."""
        return _numpy_dispatch.array_ufunc(ufunc, method, *inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        """``np.sum(v)``, ``np.dot(x, w)`` …: the Value method (table in numpy_dispatch.py)."""
        return _numpy_dispatch.array_function(func, types, args, kwargs)

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(v)``: the numbers, no graph (like PyTorch's ``t.detach().numpy()``)."""
        arr = np.asarray(self.data, dtype=dtype)
        return arr.copy() if copy else arr

    def __init__(self, data, label: str | None = None):
        if isinstance(data, Value):
            raise TypeError(
                "Value: data is already a Value; use v.detach() for a copy "
                "without history, or use v itself"
            )
        self.data = _as_float_array(data)
        self._grad = None
        self.parents: tuple[Value, ...] = ()
        self._op = None
        self._args = ()
        self.label = label

    # ------------------------------------------------------------ attributes
    @property
    def grad(self) -> np.ndarray:
        """d(root)/d(this node), summed over every backward pass so far."""
        if self._grad is None:
            return np.zeros(self.data.shape)[()]  # np.float64 for a scalar, like .data
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        """Set (a copy of) a gradient of this node's shape; ``None`` clears it, like zero_grad."""
        if value is None:
            self._grad = None
            return
        g = _as_float_array(value, "Value.grad")
        if g.shape != self.data.shape:
            raise ValueError(f"Value.grad: got shape {g.shape}, but this Value has shape "
                             f"{self.shape}; a gradient has the shape of its Value")
        self._grad = g

    @property
    def op(self) -> str:
        """Short name of the operation that made this node; ``""`` for a leaf."""
        return self._op.name if self._op is not None else ""

    @property
    def shape(self) -> tuple:
        """The shape of ``data`` (``()`` for a single number)."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of axes of ``data``."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of elements of ``data``."""
        return self.data.size

    def item(self) -> float:
        """The single number inside a one-element Value."""
        if _tracing.get() is not None:
            _tracing.get()("item")
        if self.data.size != 1:
            raise ValueError(
                f"Value.item: only a one-element Value converts to a number; this one "
                f"has shape {self.shape}. Index it (v[0, 1]) or reduce it (v.sum()) first"
            )
        return self.data.item()

    def __float__(self) -> float:
        """``float(v)`` for a one-element Value."""
        if _tracing.get() is not None:
            _tracing.get()("float")
        return self.item()

    def __bool__(self) -> bool:
        """Like PyTorch: only a one-element Value has a truth value."""
        if _tracing.get() is not None:
            _tracing.get()("bool")
        if self.data.size != 1:
            raise ValueError(
                f"Value.__bool__: a Value of shape {self.shape} is neither true nor false; "
                "use (v.data > 0).any() or .all() for an elementwise test")
        return bool(self.item())

    def __len__(self) -> int:
        """The length of the first axis."""
        if self.ndim == 0:
            raise TypeError("Value.__len__: a 0-d Value has no length")
        return self.shape[0]

    def __iter__(self):
        """``v[0], v[1], …`` along the first axis, each a graph node."""
        return (self[i] for i in range(len(self)))

    def detach(self) -> Value:
        """A new leaf with a copy of this node's data and no history."""
        return Value(self.data, label=self.label)

    def zero_grad(self) -> None:
        """Forget this node's accumulated gradient (it reads as zeros again)."""
        self._grad = None

    def backward(self, grad=None) -> None:
        """Fill ``.grad`` of every node of the graph below this one.

        For a one-element Value the seed gradient is 1.  Otherwise pass
        ``grad``, an array of this Value's shape.  Gradients *accumulate*:
        a second call adds to ``.grad`` (as in PyTorch); use ``zero_grad``
        between calls to start afresh.
        """
        from .autograd import backward

        backward(self, grad)

    # ------------------------------------------------------------ arithmetic
    def __add__(self, other):
        """``self + other`` (ops.Add: ∂a = ∂y, ∂b = ∂y)."""
        return _apply(ops.Add, (self, _lift(other, "add")))

    def __radd__(self, other):
        """``other + self``."""
        return _apply(ops.Add, (_lift(other, "add"), self))

    def __sub__(self, other):
        """``self − other`` (ops.Sub: ∂a = ∂y, ∂b = −∂y)."""
        return _apply(ops.Sub, (self, _lift(other, "sub")))

    def __rsub__(self, other):
        """``other − self``."""
        return _apply(ops.Sub, (_lift(other, "sub"), self))

    def __mul__(self, other):
        """``self · other`` (ops.Mul: ∂a = ∂y · b, ∂b = ∂y · a)."""
        return _apply(ops.Mul, (self, _lift(other, "mul")))

    def __rmul__(self, other):
        """``other · self``."""
        return _apply(ops.Mul, (_lift(other, "mul"), self))

    def __truediv__(self, other):
        """``self / other`` (ops.Div: ∂a = ∂y / b, ∂b = −∂y · a / b²)."""
        return _apply(ops.Div, (self, _lift(other, "div")))

    def __rtruediv__(self, other):
        """``other / self``."""
        return _apply(ops.Div, (_lift(other, "div"), self))

    def __neg__(self):
        """``−self`` (ops.Neg)."""
        return _apply(ops.Neg, (self,))

    def __pow__(self, exponent):
        """``self ** exponent``: a number (ops.Pow: ∂x = ∂y · n xⁿ⁻¹) or a Value (ops.PowValue)."""
        if isinstance(exponent, Value):
            return _apply(ops.PowValue, (self, exponent))
        if isinstance(exponent, np.ndarray) and exponent.ndim == 0:
            exponent = exponent.item()  # a 0-d array is a number
        if isinstance(exponent, (int, float, np.integer, np.floating)):
            return _apply(ops.Pow, (self,), (exponent,))
        return _apply(ops.PowValue, (self, _lift(exponent, "pow")))

    def __rpow__(self, base):
        """``base ** self`` (ops.PowValue: ∂b = ∂y · y · ln a)."""
        return _apply(ops.PowValue, (_lift(base, "pow"), self))

    def __matmul__(self, other):
        """``self @ other`` (ops.Matmul: ∂a = ∂y @ bᵀ, ∂b = aᵀ @ ∂y)."""
        return _apply(ops.Matmul, (self, _lift(other, "matmul")))

    def __rmatmul__(self, other):
        """``other @ self``."""
        return _apply(ops.Matmul, (_lift(other, "matmul"), self))

    def dot(self, other):
        """Same as ``self @ other``."""
        return self @ other

    # ------------------------------------------------------------ maths
    def exp(self):
        """eˣ elementwise (ops.Exp: ∂x = ∂y · y)."""
        return _apply(ops.Exp, (self,))

    def log(self):
        """ln x elementwise (ops.Log: ∂x = ∂y / x)."""
        return _apply(ops.Log, (self,))

    def sin(self):
        """sin x elementwise (ops.Sin: ∂x = ∂y · cos x)."""
        return _apply(ops.Sin, (self,))

    def cos(self):
        """cos x elementwise (ops.Cos: ∂x = −∂y · sin x)."""
        return _apply(ops.Cos, (self,))

    def tanh(self):
        """tanh x elementwise (ops.Tanh: ∂x = ∂y · (1 − y²))."""
        return _apply(ops.Tanh, (self,))

    def sigmoid(self):
        """1 / (1 + e^(−u)) elementwise (ops.Sigmoid: ∂u = ∂y · (1 − y) · y)."""
        return _apply(ops.Sigmoid, (self,))

    def relu(self):
        """max(x, 0) elementwise (ops.Relu: ∂x = ∂y · [x > 0])."""
        return _apply(ops.Relu, (self,))

    def identity(self):
        """A new node equal to this one (the seed's output activation)."""
        return _apply(ops.Identity, (self,))

    # ------------------------------------------------------------ reductions
    def sum(self, axis=None, keepdims: bool = False):
        """Σ over ``axis`` (all axes when None), like ``ndarray.sum`` (ops.Sum)."""
        return _apply(ops.Sum, (self,), (_axis_arg(axis, "sum"), keepdims))

    def mean(self, axis=None, keepdims: bool = False):
        """The mean over ``axis`` (all axes when None), like ``ndarray.mean`` (ops.Mean)."""
        return _apply(ops.Mean, (self,), (_axis_arg(axis, "mean"), keepdims))

    # ------------------------------------------------------------ shapes
    def reshape(self, *shape):
        """``v.reshape(2, 3)`` or ``v.reshape((2, 3))``; one axis may be -1."""
        return _apply(ops.Reshape, (self,), (_shape_arg(shape, "reshape"),))

    def transpose(self, *axes):
        """Reverse the axes, or permute them: ``v.transpose(1, 0, 2)``."""
        axes = _shape_arg(axes, "transpose") or None
        return _apply(ops.Transpose, (self,), (axes,))

    @property
    def T(self):
        """The transpose (axes reversed), like ``ndarray.T``."""
        return self.transpose()

    def broadcast_to(self, *shape):
        """Copies along new or length-1 axes, like ``np.broadcast_to`` (ops.BroadcastTo)."""
        return _apply(ops.BroadcastTo, (self,), (_shape_arg(shape, "broadcast_to"),))

    def __getitem__(self, index):
        """``v[index]``: ints, slices, ``None``, ``...`` and integer arrays (ops.GetItem).

        Repeated integer indices add up in the gradient.
        """
        if isinstance(index, Value) or (
            isinstance(index, tuple) and any(isinstance(i, Value) for i in index)
        ):
            raise TypeError(
                "Value.getitem: index with ints, slices or integer arrays, not Values; "
                "use v[idx.data.astype(int)] if the indices really live in a Value"
            )
        if isinstance(index, list):
            index = np.asarray(index)
        return _apply(ops.GetItem, (self,), (index,))

    def _scatter_add(self, shape, index):
        """Zeros of ``shape`` with this Value added at ``index`` (GetItem's backward)."""
        return _apply(ops.IndexAdd, (self,), (shape, index))

    # ------------------------------------------------------------ display
    def __repr__(self) -> str:
        parts = []
        if self.data.size == 1 and self.ndim == 0:
            parts.append(_number(self.data.item()))
            parts.append("grad=" + _number(self.grad.item()))
        else:
            parts.append(f"shape={self.shape}")
            parts.append("data=" + _preview(self.data))
            if self._grad is not None:
                parts.append("grad=" + _preview(self._grad))
        if self._op is not None:
            parts.append(f"op={self.op!r}")
        if self.label is not None:
            parts.append(f"label={self.label!r}")
        return f"Value({', '.join(parts)})"


def _axis_arg(axis, where: str):
    """None, an int, or a tuple (or list) of ints; anything else is a TypeError naming ``where``."""
    if axis is None:
        return None
    axes = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    if not all(map(is_int, axes)):
        raise TypeError(f"Value.{where}: axis must be None, an int or a tuple of ints; "
                        f"got {axis!r}")
    return axes if isinstance(axis, (list, tuple)) else axis


def _number(x: float) -> str:
    """Six significant digits, still looking like a float: 3.0, not 3."""
    text = f"{x:.6g}"
    return text if any(c in text for c in ".enai") else text + ".0"


def _preview(arr: np.ndarray) -> str:
    """A one-line glimpse of an array: a few numbers at 4 significant digits."""
    return np.array2string(
        np.asarray(arr), precision=4, threshold=6, edgeitems=2, separator=", "
    ).replace("\n", "")


from . import numpy_dispatch as _numpy_dispatch  # noqa: E402  (it imports Value from here)
