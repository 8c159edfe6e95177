"""``Value``: a number or a numpy array that remembers how it was computed.

Every arithmetic operation on Values returns a new Value whose ``parents``
are its inputs and whose ``op`` names the operation (see the ``ops`` package).  The
result is a graph that ``backward`` (``autograd.py``) walks in reverse.

Design choices a reader may want to know:

* A node points to its parents, never to its children, and an operation is
  a class, not a closure.  So a graph has no reference cycles and is freed by
  plain reference counting the moment you drop its root.
* ``__slots__`` keeps a node small (a few hundred bytes) and quick to build.
* Assigning ``v.data`` (``v.data = …`` or ``v.data -= …``) is noticed: a
  backward pass through an op that saw the old numbers raises instead of
  using the new ones (see ``Value.data``).
* Graph recording (``no_grad``) is per thread and per asyncio task: it lives
  in a ``contextvars.ContextVar``.
* numpy functions on Values (``np.exp(v)``, ``np.dot(x, w)``, ``ndarray * v``)
  run the Value methods: one table in ``numpy_dispatch.py``.  ``np.asarray(v)``
  gives the numbers, not an array of objects.
"""

from __future__ import annotations

import contextvars
import copy
import inspect

import numpy as np

from . import ops
from .arguments import as_float64, axis_arg, bounds_arg, keepdims_arg, real_arg, shape_arg

# Whether operations record a graph: switched by ``no_grad()`` / ``enable_grad()``
# (autograd.py).  A context variable, so each thread and each asyncio task has
# its own mode, as in PyTorch.  ``_recording()`` is the quick read ``_apply`` makes.
_grad_mode: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "tinygrad_sine_grad_enabled", default=True)
_recording = _grad_mode.get

# The data-change clock: a count of every assignment to some ``v.data``.  Each
# node notes the clock when an op makes it (``_born``) and the tick of the
# last assignment to its own data (``_version``, 0 if never).  A parent whose
# ``_version`` is later than its child's ``_born`` changed after the op used it.
_data_changes = 0
_FLOAT64 = np.float64  # (read on every ``v.data -= …``: a module name is one lookup quicker)
_FLOAT64_DTYPE = np.dtype(np.float64)


def _tick() -> int:
    """Advance the data-change clock by one and return its new reading (.data, nn.SGD)."""
    global _data_changes
    _data_changes += 1
    return _data_changes


# While ``compile`` traces a function (in this thread or task only), a function that
# raises: turning a Value into a Python number then would freeze a data-dependent branch.
_tracing: contextvars.ContextVar = contextvars.ContextVar("tinygrad_sine_tracing", default=None)


def _apply(op, parents: tuple, args: tuple = ()) -> Value:
    """Run ``op`` forward on the parents' data and wrap the result in a new node."""
    data = _forward(op, parents, args)  # op.forward(*[p.data for p in parents], *args)
    out = Value.__new__(Value)
    out._data = data
    out._version = 0
    out._grad = None
    out.label = None
    if _recording():
        out.parents, out._op, out._args = parents, op, args
        out._born = _data_changes
    else:  # no graph; `_born = None` tells backward() this was an op's result, not a leaf
        out.parents, out._op, out._args = (), None, ()
        out._born = None
    return out


def _forward(op, parents: tuple, args: tuple):
    """``op.forward`` on the parents' numbers, as float64; a ValueError naming the op if it fails.

    The calls are spelled out for one and two inputs: building a list or
    unpacking ``*()`` costs more than a small op's numpy work.
    """
    try:
        if len(parents) == 2:
            if args:
                data = op.forward(parents[0]._data, parents[1]._data, *args)
            else:
                data = op.forward(parents[0]._data, parents[1]._data)
        elif len(parents) == 1:
            if args:
                data = op.forward(parents[0]._data, *args)
            else:
                data = op.forward(parents[0]._data)
        else:
            data = op.forward(*[p._data for p in parents], *args)
    except (ValueError, IndexError, TypeError) as err:
        raise _forward_error(op, parents, args, err) from None
    if data.__class__ is not _FLOAT64 and (
            data.__class__ is not np.ndarray or data.dtype is not _FLOAT64_DTYPE):
        data = _forward_result(op, data)  # not float64 yet: convert it, or say what is wrong
    return data


def _forward_error(op, parents: tuple, args: tuple, err: Exception) -> ValueError:
    """The error for numpy refusing an op's inputs: the op, the shapes, the args, a hint."""
    shapes = ("shape " if len(parents) == 1 else "shapes ") + " and ".join(
        str(p.shape) for p in parents)
    names = list(getattr(op, "arguments", ()) or
                 list(inspect.signature(op.forward).parameters)[len(parents):])
    extra = ", ".join(f"{n}={a!r}" for n, a in zip(names, args))
    extra = f" ({extra})" if extra else ""
    return ValueError(f"Value.{op.name}: {shapes}{extra} {op.hint} [numpy: {err}]")


def _forward_result(op, data):
    """An op's ``forward`` result as float64, or a TypeError naming the op.

    The ops of this package return float64 already.  A custom op's forward
    may return an array of ints, bools or float32, or a Python or numpy
    number: those become float64, as ``Value(...)`` would make them.  Anything
    else (a list, a Value, complex or object arrays) is refused here, where
    it was made, rather than failing later in some other op.
    """
    name = getattr(op, "__name__", type(op).__name__)
    if isinstance(data, Value):
        problem = ("a Value (forward gets the inputs' numbers and computes with numpy; "
                   "apply() makes the node)")
    elif isinstance(data, (np.ndarray, np.generic, int, float)) and \
            np.asarray(data).dtype.kind in "biuf":
        return as_float64(data, f"{name}.forward")  # an int, float32 or bool array; a number
    elif isinstance(data, (np.ndarray, np.generic)):
        problem = f"an array of dtype {np.asarray(data).dtype}, not real numbers"
    else:
        problem = type(data).__name__
    raise TypeError(f"{name}.forward (op {op.name!r}) returned {problem}; forward must return a "
                    "numpy array of real numbers (or one number), e.g. np.asarray(result, "
                    "dtype=float)")


def _lift(x, where: str = "apply") -> Value:
    """Wrap a number or array as a constant leaf; leave a Value alone.

    ``where`` names the operation in the error for something that is not a number.
    """
    if isinstance(x, Value):
        return x
    return _constant(x, where)


def _constant(x, where: str) -> Value:
    """``Value(x)``, a leaf; a TypeError naming ``where`` for something that is not a number.

    A Python float (the usual constant: ``0.5 * e``, ``w * x``) is made here
    directly, quicker than through ``Value.__init__``.
    """
    if type(x) is float:
        leaf = Value.__new__(Value)
        leaf._data, leaf._version, leaf._born, leaf._grad = np.float64(x), 0, 0, None
        leaf.parents, leaf._op, leaf._args, leaf.label = (), None, (), None
        return leaf
    try:
        return Value(x)
    except TypeError:
        shown = repr(x) if len(repr(x)) <= 40 else repr(x)[:37] + "..."
        raise TypeError(
            f"Value.{where}: cannot combine a Value with {type(x).__name__} {shown}; "
            "use a number, a numeric array or a Value"
        ) from None


def apply(op, *inputs, args: tuple = ()) -> Value:
    """Apply an operation class from ``ops`` (or your own ``Op`` subclass) to inputs.

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

    Turning a Value into plain numbers never happens by accident; each way
    out keeps the graph, refuses with a TypeError that says what to do, or
    gives plain numbers on purpose:

    * ``float(v)``, ``int(v)``, ``complex(v)`` refuse, and so do the
      ``math`` module's functions (``math.exp(v)`` calls ``float``),
      ``"%.4f" % v`` and ``round(v)``: use ``v.exp()`` or ``np.exp(v)`` to
      stay on the graph, ``v.item()`` for the number on purpose.
    * ``f"{loss:.4f}"`` formats a one-number Value like its number (a
      display, like ``item()``); ``f"{v}"`` is ``str(v)``.  A format spec on
      many numbers refuses, as in numpy and PyTorch.
    * ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` (with Values, numbers or
      arrays on either side, ``ndarray == v`` too) give numpy booleans,
      elementwise: no gradient flows through a comparison.  A mask made so
      can be used as a constant (``v * (v > 0)``).  Since ``==`` is not
      identity, ``v in a_list`` and ``a_list.index(v)`` do not find a Value;
      a Value hashes by identity (as a PyTorch tensor does), so sets and
      dict keys work.
    * ``bool(v)`` (``if v:``) is the truth of a one-number Value's number,
      as in PyTorch: a plain decision, no graph.
    * ``np.asarray(v)`` gives a leaf's numbers as a read-only view (and a
      copy for ``np.array(v)``); an op result refuses (see ``__array__``),
      as does ``Value([...])`` of Values.  ``v.data`` is the numbers,
      ``v.item()`` the one number, on purpose.
    """

    __slots__ = ("_data", "_version", "_born", "_grad", "parents", "_op", "_args", "label",
                 "__weakref__")

    # ------------------------------------------------------------ numpy
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """``np.exp(v)``, ``ndarray * v`` …: the Value method (table in numpy_dispatch.py)."""
        return _numpy_dispatch.array_ufunc(ufunc, method, *inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        """``np.sum(v)``, ``np.dot(x, w)`` …: the Value method (table in numpy_dispatch.py)."""
        return _numpy_dispatch.array_function(func, types, args, kwargs)

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(v)`` of a leaf: its numbers.  An op result refuses (TypeError).

        numpy also calls this on its own, to turn a list of Values into one
        array (``np.mean([l1, l2])``), and the graph would be lost with no
        word: training on that sum would give no gradient to anything before
        it.  So, like PyTorch's ``np.asarray(t)`` of a tensor that needs a
        gradient, an op result refuses; ``v.data`` or ``v.detach()`` take
        its numbers on purpose.  A leaf has no graph to lose.

        A leaf's numbers come as a read-only view (``np.array(v)`` makes a
        writable copy): writing into the leaf's own array before
        ``backward()`` would make its gradient silently wrong.
        """
        if self._op is not None:
            raise TypeError(
                f"np.asarray (or a numpy function given a list of Values) on the output of "
                f"op {self._op.name!r}, shape {self.shape}: its numbers would lose their "
                "graph, and no gradient would reach what made it. Combine Values with "
                "operations (a + b, v.sum(), np.sum(v)), or take the numbers on purpose "
                "with v.data or v.detach()")
        arr = np.asarray(self._data, dtype=dtype)
        if copy:
            return arr.copy()
        if arr is self._data:  # never hand out the leaf's own array: a read-only view of it
            arr = arr.view()
            arr.flags.writeable = False
        return arr

    def __init__(self, data, label: str | None = None):
        if isinstance(data, Value):
            raise TypeError(
                "Value: data is already a Value; use v.detach() for a copy "
                "without history, or use v itself"
            )
        self._data = as_float64(data)
        self._version = 0
        self._born = 0  # a leaf (see _apply)
        self._grad = None
        self.parents: tuple[Value, ...] = ()
        self._op = None
        self._args = ()
        self.label = label

    # ------------------------------------------------------------ attributes
    @property
    def data(self):
        """The numbers: an ``np.float64`` for a single number, else a float64 array.

        Assigning it (``v.data = …``, or ``v.data -= …``, which Python also
        turns into an assignment) is how an optimiser updates a parameter:
        do it after ``backward``, then run a new forward pass.  Doing it
        *between* a forward pass and its ``backward`` would make the
        backward pass mix old and new numbers, so the assignment is noted
        and that ``backward`` (or ``grad``) raises, naming this node —
        like PyTorch's "modified by an inplace operation".

        Not noticed: writing into the array itself (``v.data[:] = …``,
        ``v.data.fill(0)``, ``np.add(v.data, 1, out=v.data)``), which no
        Python hook sees; nor ``v.data -= …`` on a Value outside the graph
        whose array the graph shares (``copy.copy(v)``; a reshape, transpose
        or identity made outside it).  Assign a new array instead.

        An assigned value is stored as float64, copied (so a later in-place
        update of the parameter never writes into the caller's array), and
        checked like ``Value(...)``'s data.  A new shape clears ``.grad``:
        a gradient of the old shape belongs to the old numbers.
        """
        return self._data

    @data.setter
    def data(self, new) -> None:
        global _data_changes
        old = self._data
        # ``v.data -= …`` hands back the same array, or a new np.float64 for a single
        # number (immutable, no copy needed): both are fine as they are, and common.
        if (new.__class__ is not _FLOAT64 or old.__class__ is not _FLOAT64) and new is not old:
            new = as_float64(new, "Value.data")  # float64, and a copy of the caller's
            if new.shape != old.shape:
                self._grad = None  # a gradient of the old shape belongs to the old numbers
        _data_changes += 1  # _tick(), spelled out: one call less on every update
        self._data, self._version = new, _data_changes

    @property
    def grad(self) -> np.ndarray:
        """d(root)/d(this node), summed over every backward pass so far."""
        if self._grad is None:
            return np.zeros(self._data.shape)[()]  # np.float64 for a scalar, like .data
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        """Set (a copy of) a gradient of this node's shape; ``None`` clears it, like zero_grad."""
        if value is None:
            self._grad = None
            return
        g = as_float64(value, "Value.grad")
        if g.shape != self._data.shape:
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
        return self._data.shape

    @property
    def ndim(self) -> int:
        """The number of axes of ``data``."""
        return self._data.ndim

    @property
    def size(self) -> int:
        """The number of elements of ``data``."""
        return self._data.size

    def item(self) -> float:
        """The single number inside a one-element Value."""
        if _tracing.get() is not None:
            _tracing.get()("item")
        if self._data.size != 1:
            raise ValueError(
                f"Value.item: only a one-element Value converts to a number; this one "
                f"has shape {self.shape}. Index it (v[0, 1]) or reduce it (v.sum()) first"
            )
        return self._data.item()

    # ------------------------------------------------------------ numbers out
    # Each way a Value can turn into plain numbers either refuses, saying what to
    # do, or gives the numbers on purpose (see the class docstring's list).
    def __float__(self):
        """Refused: ``float(v)`` (and ``math.exp(v)``, which calls it) would drop the graph."""
        raise TypeError(_dropped_graph(self, "float"))

    def __int__(self):
        """Refused, as ``float(v)`` is."""
        raise TypeError(_dropped_graph(self, "int"))

    def __complex__(self):
        """Refused, as ``float(v)`` is."""
        raise TypeError(_dropped_graph(self, "complex"))

    def __round__(self, ndigits=None):
        """Refused: ``round(v)`` would give a plain number; round ``v.item()`` or ``v.data``."""
        raise TypeError(
            f"round(v) of {_what(self)}: a rounded Value would be a plain number without "
            "its graph (and a rounding has no useful gradient). Round the number on purpose: "
            "round(v.item(), 4), or np.round(v.data, 4) for an array")

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"``: a one-number Value formats like its number; ``f"{v}"`` is ``str(v)``.

        A format spec on a Value of many numbers raises a TypeError (as numpy
        and PyTorch do): format ``v.data`` or one element (``v[0].item()``).
        """
        if not spec:
            return str(self)
        if self._data.size != 1:
            raise TypeError(
                f"format(v, {spec!r}): v has shape {self.shape}, {self._data.size} numbers, and "
                "a format spec formats one number. Format one element (f'{v[0].item():.4f}') "
                "or the array (np.array2string(v.data, precision=4))")
        if _tracing.get() is not None:
            _tracing.get()("__format__")
        return format(self._data.item(), spec)

    def __bool__(self) -> bool:
        """Like PyTorch: only a one-element Value has a truth value (a plain answer, no graph)."""
        if _tracing.get() is not None:
            _tracing.get()("bool")
        if self._data.size != 1:
            raise ValueError(
                f"Value.__bool__: a Value of shape {self.shape} is neither true nor false; "
                "use (v.data > 0).any() or .all() for an elementwise test")
        return bool(self._data)

    # Comparisons compare the numbers, elementwise with numpy's broadcasting, and give
    # plain numpy booleans: no gradient flows through a comparison.  A Value still
    # hashes by identity (as a PyTorch tensor does), so sets and dicts of Values work;
    # ``v in a_list`` and ``a_list.index(v)`` do not (they use ==): compare ids there.
    __hash__ = object.__hash__

    def __eq__(self, other):
        """``v == other``: a numpy bool array, elementwise (not a test of identity)."""
        return _compare(self, other, np.equal, "==")

    def __ne__(self, other):
        """``v != other``: a numpy bool array, elementwise."""
        return _compare(self, other, np.not_equal, "!=")

    def __lt__(self, other):
        """``v < other``: a numpy bool array, elementwise."""
        return _compare(self, other, np.less, "<")

    def __le__(self, other):
        """``v <= other``: a numpy bool array, elementwise."""
        return _compare(self, other, np.less_equal, "<=")

    def __gt__(self, other):
        """``v > other``: a numpy bool array, elementwise."""
        return _compare(self, other, np.greater, ">")

    def __ge__(self, other):
        """``v >= other``: a numpy bool array, elementwise."""
        return _compare(self, other, np.greater_equal, ">=")

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
        return Value(self._data, label=self.label)

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
        _autograd.backward(self, grad)

    # ------------------------------------------------------------ copying
    def __copy__(self) -> Value:
        """``copy.copy(v)``: a new node with the same parents, op and data array."""
        new = Value.__new__(Value)
        for name in Value.__slots__[:-1]:  # all but __weakref__
            setattr(new, name, getattr(self, name))
        return new

    def __deepcopy__(self, memo: dict) -> Value:
        """``copy.deepcopy(v)``: a copy of the whole graph below ``v``, made without recursion.

        A node reached twice is copied once (the graph keeps its shape), and
        nodes already copied in the same ``deepcopy`` call are reused, so
        deep-copying a network keeps its parameters shared between layers
        and graphs.  Ops are classes and are shared, not copied.  Unlike
        PyTorch (which refuses to deep-copy a non-leaf), a result keeps its
        history; ``v.detach()`` gives a copy without it.
        """
        for node in _autograd.topo_order(self):  # leaves first: parents exist when needed
            if id(node) in memo:
                continue
            new = Value.__new__(Value)
            new._data, new._grad = _fresh(node._data), _fresh(node._grad)
            new._version, new._born, new._op = node._version, node._born, node._op
            new._args = copy.deepcopy(node._args, memo) if node._args else ()
            new.label = node.label
            new.parents = tuple(memo[id(p)] for p in node.parents)
            memo[id(node)] = new
        return memo[id(self)]

    def __reduce__(self):
        """``pickle``: the data, gradient and label, without the history (as PyTorch does).

        An unpickled Value is a leaf.  Pickling the graph would recurse once
        per node (a RecursionError for a long chain) and could not keep
        nodes shared with other pickled objects; rebuild the graph by running
        the computation again, or use ``copy.deepcopy`` within one process.
        """
        return _unpickle, (self._data, self._grad, self.label)

    # ------------------------------------------------------------ arithmetic
    def __add__(self, other):
        """``self + other`` (ops.Add: ∂a = ∂y, ∂b = ∂y)."""
        if type(other) is not Value:  # most often it is: skip the call to _lift
            other = _lift(other, "add")
        return _apply(ops.Add, (self, other))

    def __radd__(self, other):
        """``other + self``."""
        return _apply(ops.Add, (_lift(other, "add"), self))

    def __sub__(self, other):
        """``self − other`` (ops.Sub: ∂a = ∂y, ∂b = −∂y)."""
        if type(other) is not Value:  # most often it is: skip the call to _lift
            other = _lift(other, "sub")
        return _apply(ops.Sub, (self, other))

    def __rsub__(self, other):
        """``other − self``."""
        return _apply(ops.Sub, (_lift(other, "sub"), self))

    def __mul__(self, other):
        """``self · other`` (ops.Mul: ∂a = ∂y · b, ∂b = ∂y · a)."""
        if type(other) is not Value:  # most often it is: skip the call to _lift
            other = _lift(other, "mul")
        return _apply(ops.Mul, (self, other))

    def __rmul__(self, other):
        """``other · self``."""
        return _apply(ops.Mul, (_lift(other, "mul"), self))

    def __truediv__(self, other):
        """``self / other`` (ops.Div: ∂a = ∂y / b, ∂b = −∂y · a / b²)."""
        if type(other) is not Value:  # most often it is: skip the call to _lift
            other = _lift(other, "div")
        return _apply(ops.Div, (self, other))

    def __rtruediv__(self, other):
        """``other / self``."""
        return _apply(ops.Div, (_lift(other, "div"), self))

    def __neg__(self):
        """``−self`` (ops.Neg)."""
        return _apply(ops.Neg, (self,))

    def __pow__(self, exponent):
        """``self ** exponent``: a number (ops.Pow: ∂x = ∂y · n xⁿ⁻¹) or a Value (ops.PowValue)."""
        if type(exponent) is int or type(exponent) is float:  # the usual case, made quick
            return _apply(ops.Pow, (self,), (exponent,))
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
        if type(other) is not Value:  # most often it is: skip the call to _lift
            other = _lift(other, "matmul")
        return _apply(ops.Matmul, (self, other))

    def __rmatmul__(self, other):
        """``other @ self``."""
        return _apply(ops.Matmul, (_lift(other, "matmul"), self))

    def dot(self, other):
        """``np.dot(self, other)``, as ``ndarray.dot``: ``self @ other`` for 1-D and 2-D sides,
        a product with a single number, and numpy's rule for stacks (see numpy_dispatch.dot)."""
        return _numpy_dispatch.dot(self, other)

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

    def abs(self):
        """|x| elementwise, also ``abs(v)`` (ops.Abs: ∂x = ∂y · sign x, 0 at x = 0)."""
        return _apply(ops.Abs, (self,))

    __abs__ = abs

    def sqrt(self):
        """√x elementwise (ops.Sqrt: ∂x = ∂y / (2y))."""
        return _apply(ops.Sqrt, (self,))

    def square(self):
        """x² elementwise (ops.Square: ∂x = ∂y · 2x)."""
        return _apply(ops.Square, (self,))

    def maximum(self, other):
        """The larger of two, elementwise (ops.Maximum; a tie gives each side half of ∂y)."""
        return _apply(ops.Maximum, (self, _lift(other, "maximum")))

    def minimum(self, other):
        """The smaller of two, elementwise (ops.Minimum; a tie gives each side half of ∂y)."""
        return _apply(ops.Minimum, (self, _lift(other, "minimum")))

    def clip(self, lo=None, hi=None):
        """Each number held to [lo, hi], like ``np.clip`` (ops.Clip: ∂y passes where lo ≤ x ≤ hi).

        ``lo`` and ``hi`` are numbers; one of them may be None (no bound on that side).
        """
        return _apply(ops.Clip, (self,), bounds_arg(lo, hi, "clip"))

    def leaky_relu(self, slope: float = 0.01):
        """x where x > 0, else slope · x (ops.LeakyRelu; 0.01 and ∂ = slope at 0, as PyTorch)."""
        return _apply(ops.LeakyRelu, (self,), (real_arg(slope, "leaky_relu", "slope"),))

    # ------------------------------------------------------------ reductions
    def _reduction(self, op, axis, *keepdims) -> Value:
        """``op`` over ``axis`` (and ``keepdims``, for the ops that take it), checked.

        Every reduction comes through here, so each checks its arguments the
        same way: ``axis`` against this Value's axes, so that one named twice
        (``axis=(1, -1)`` of a matrix) is called repeated, as numpy refuses it,
        rather than left to numpy's error ("does not fit the axis").
        """
        where = op.name  # the method's name: "sum", "log_softmax", ...
        axis = axis_arg(axis, where, self.ndim)
        return _apply(op, (self,), (axis, *[keepdims_arg(k, where) for k in keepdims]))

    def sum(self, axis=None, keepdims: bool = False):
        """Σ over ``axis`` (all axes when None), like ``ndarray.sum`` (ops.Sum)."""
        return self._reduction(ops.Sum, axis, keepdims)

    def mean(self, axis=None, keepdims: bool = False):
        """The mean over ``axis`` (all axes when None), like ``ndarray.mean`` (ops.Mean)."""
        return self._reduction(ops.Mean, axis, keepdims)

    def max(self, axis=None, keepdims: bool = False):
        """The largest number over ``axis``, like ``ndarray.max`` (ops.Max; ties share ∂y)."""
        return self._reduction(ops.Max, axis, keepdims)

    def min(self, axis=None, keepdims: bool = False):
        """The smallest number over ``axis``, like ``ndarray.min`` (ops.Min; ties share ∂y)."""
        return self._reduction(ops.Min, axis, keepdims)

    def var(self, axis=None, keepdims: bool = False):
        """The variance over ``axis``, dividing by n as ``ndarray.var`` does (ops.Var)."""
        return self._reduction(ops.Var, axis, keepdims)

    def std(self, axis=None, keepdims: bool = False):
        """The standard deviation over ``axis``, dividing by n as ``ndarray.std`` (ops.Std)."""
        return self._reduction(ops.Std, axis, keepdims)

    def logsumexp(self, axis=None, keepdims: bool = False):
        """ln Σ eˣ over ``axis``, with no overflow for large x (ops.Logsumexp: ∂x = ∂y e^(x−y))."""
        return self._reduction(ops.Logsumexp, axis, keepdims)

    def softmax(self, axis=-1):
        """eˣ / Σ eˣ along ``axis`` (the last by default), without overflow (ops.Softmax)."""
        return self._reduction(ops.Softmax, axis)

    def log_softmax(self, axis=-1):
        """x − ln Σ eˣ along ``axis`` (the last by default), without overflow (ops.LogSoftmax)."""
        return self._reduction(ops.LogSoftmax, axis)

    # ------------------------------------------------------------ shapes
    def squeeze(self, axis=None):
        """Drop length-1 axes: those in ``axis``, or all of them (ops.Squeeze)."""
        return _apply(ops.Squeeze, (self,), (axis_arg(axis, "squeeze"),))

    def expand_dims(self, axis):
        """A new length-1 axis at ``axis`` (an int or a tuple), like ``np.expand_dims``."""
        if axis is None:
            raise TypeError("Value.expand_dims: axis must be an int or a tuple of ints; got None")
        return _apply(ops.ExpandDims, (self,), (axis_arg(axis, "expand_dims"),))

    def flatten(self):
        """All the numbers in one row (row-major), like ``ndarray.flatten`` (ops.Flatten)."""
        return _apply(ops.Flatten, (self,))

    def reshape(self, *shape):
        """``v.reshape(2, 3)`` or ``v.reshape((2, 3))``; one axis may be -1."""
        return _apply(ops.Reshape, (self,), (shape_arg(shape, "reshape"),))

    def transpose(self, *axes):
        """Reverse the axes, or permute them: ``v.transpose(1, 0, 2)``."""
        axes = shape_arg(axes, "transpose") or None
        return _apply(ops.Transpose, (self,), (axes,))

    @property
    def T(self):
        """The transpose (axes reversed), like ``ndarray.T``."""
        return self.transpose()

    def broadcast_to(self, *shape):
        """Copies along new or length-1 axes, like ``np.broadcast_to`` (ops.BroadcastTo)."""
        return _apply(ops.BroadcastTo, (self,), (shape_arg(shape, "broadcast_to"),))

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
            if index.size == 0:  # [] (numpy reads float64 []): an empty integer index, as numpy
                index = index.astype(np.intp)
        return _apply(ops.GetItem, (self,), (index,))

    def _scatter_add(self, shape, index):
        """Zeros of ``shape`` with this Value added at ``index`` (GetItem's backward)."""
        return _apply(ops.IndexAdd, (self,), (shape, index))

    # ------------------------------------------------------------ display
    def __repr__(self) -> str:
        parts = []
        if self._data.size == 1 and self.ndim == 0:
            parts.append(_number(self._data.item()))
            parts.append("grad=" + _number(self.grad.item()))
        else:
            parts.append(f"shape={self.shape}")
            parts.append("data=" + _preview(self._data))
            if self._grad is not None:
                parts.append("grad=" + _preview(self._grad))
        if self._op is not None:
            parts.append(f"op={self.op!r}")
        if self.label is not None:
            parts.append(f"label={self.label!r}")
        return f"Value({', '.join(parts)})"


def _what(v: Value) -> str:
    """A Value as the conversion errors name it: its label or op, and its shape."""
    kind = f"the output of op {v.op!r}" if v._op is not None else "a leaf"
    label = f" {v.label!r}" if v.label is not None else ""
    return f"{kind}{label} of shape {v.shape}"


def _dropped_graph(v: Value, kind: str) -> str:
    """The message for ``float(v)``, ``int(v)``, ``complex(v)`` (and ``math.exp(v)`` …)."""
    return (
        f"{kind}() of a Value ({_what(v)}) would give a plain number without its graph, "
        "so no gradient would reach what made it. The math module's functions "
        "(math.exp(v), math.tanh(v) …) and '%f' % v do this too. To stay on the graph use "
        "the Value's methods or numpy's functions: v.exp(), np.exp(v), v.tanh(). For the "
        "number on purpose, without its graph: v.item()")


def _compare(v: Value, other, compare, symbol: str):
    """``v <symbol> other`` on the numbers: numpy's bool result, or NotImplemented."""
    if isinstance(other, Value):
        theirs = other._data
    elif isinstance(other, (int, float, np.ndarray, np.generic, list, tuple)):
        theirs = other
    else:  # text, None, other objects: Python falls back (== is then identity)
        return NotImplemented
    if _tracing.get() is not None:
        _tracing.get()(f"__{compare.__name__}__ ({symbol})")
    try:
        return compare(v._data, theirs)
    except (ValueError, TypeError) as err:
        shape = other.shape if isinstance(other, Value) else np.shape(other)
        raise ValueError(f"Value {symbol}: shapes {v.shape} and {shape} do not compare "
                         f"elementwise [numpy: {err}]") from None


def _fresh(x):
    """A copy of a node's data or gradient (an np.float64 or None cannot change: kept)."""
    return x.copy() if type(x) is np.ndarray else x


def _unpickle(data, grad, label) -> Value:
    """Rebuild a pickled Value (see ``Value.__reduce__``): a leaf."""
    v = Value(data, label=label)
    v._grad = grad
    return v


def _number(x: float) -> str:
    """Six significant digits, still looking like a float: 3.0, not 3."""
    text = f"{x:.6g}"
    return text if any(c in text for c in ".enai") else text + ".0"


def _preview(arr: np.ndarray) -> str:
    """A one-line glimpse of an array: a few numbers at 4 significant digits."""
    return np.array2string(
        np.asarray(arr), precision=4, threshold=6, edgeitems=2, separator=", "
    ).replace("\n", "")


from . import autograd as _autograd  # noqa: E402  (autograd imports this module first)
from . import numpy_dispatch as _numpy_dispatch  # noqa: E402  (it imports Value from here)
