"""Symbols: stand-ins for arrays that write numpy code down instead of computing it.

A *symbol* (:class:`Sym`) answers ``+``, ``@``, ``np.exp``, ``.sum()`` … by
writing the expression down (and computing its value on the traced inputs
alongside, for shapes).  Running an op's own ``forward`` and ``backward``
from ``ops`` on symbols therefore writes that op's math as code; the
generator in ``numpy_code.py`` does that node by node.
"""

from __future__ import annotations

import operator

import numpy as np

from .. import ops
from ..arguments import shape_arg

# ------------------------------------------------------------------ symbols

# Python's operator precedence, loosest to tightest, to place brackets.
_CMP, _ADD, _MUL, _UNARY, _POW, _ATOM = 40, 60, 70, 80, 90, 100
_NUMBERS = (int, float, np.integer, np.floating)


def _lit(v, consts, subscript: bool = False) -> str:
    """Python source for a number, shape, axis, index or (via ``consts``) an array."""
    if isinstance(v, (bool, np.bool_)) or v is None:
        return repr(bool(v) if v is not None else None)
    if isinstance(v, (int, np.integer)):
        return repr(int(v))
    if isinstance(v, (float, np.floating)):
        if not np.isfinite(v):  # repr's inf and nan are no names in the code: numpy's are
            return "np.nan" if np.isnan(v) else "np.inf" if v > 0 else "-np.inf"
        return repr(float(v))
    if isinstance(v, tuple):
        return "(" + ", ".join(_lit(x, consts) for x in v) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, list):
        return "[" + ", ".join(_lit(x, consts) for x in v) + "]"
    if isinstance(v, slice) and subscript:
        parts = [("" if p is None else _lit(p, consts)) for p in (v.start, v.stop, v.step)]
        return ":".join(parts[:2] if v.step is None else parts)
    if isinstance(v, slice):
        return f"slice({_lit(v.start, consts)}, {_lit(v.stop, consts)}, {_lit(v.step, consts)})"
    if v is Ellipsis:
        return "..." if subscript else "Ellipsis"
    return consts(v)


class Sym:
    """An expression of the generated code, with the value it has on the traced inputs.

    Arithmetic on symbols returns symbols, so running an op's ``forward`` or
    ``backward`` on them writes that op's math down as source.  ``val`` is
    computed alongside by numpy, which gives shapes (and so the branches the
    ops take on ``ndim``) exactly as at run time.

    A *spread* symbol stands for one number copied out to ``val``'s shape (the
    gradient arriving at a sum, say) but is written as just the number:
    elementwise arithmetic broadcasts it for free, so ``np.full`` is written
    only where the shape really matters (see ``solid``).

    A *view* symbol may share memory with an array the code did not make
    for it: a name (an input, a parameter, a node's line), or a transpose,
    reshape or index of one.  A gradient handed back that is a view gets
    ``.copy()``, so an update of one parameter in place never changes
    another's gradient (``grad_w = p.T``).
    """

    __slots__ = ("expr", "val", "prec", "gen", "spread", "num", "view")
    __array_priority__ = 1000
    __hash__ = object.__hash__  # (== writes a comparison down, as for arrays)

    def __init__(self, expr: str, val, prec: int, gen, spread: bool = False, num=None,
                 view: bool = False):
        self.expr, self.val, self.prec, self.gen = expr, val, prec, gen
        self.spread = spread and np.ndim(val) > 0
        self.num = num  # the Python number, when the expression is a literal
        self.view = view

    def wrap(self, prec: int) -> str:
        return self.expr if self.prec >= prec else f"({self.expr})"

    def _new(self, expr, val, prec=_ATOM, spread=False, view=False):
        return Sym(expr, val, prec, self.gen, spread, view=view)

    @property
    def run_shape(self) -> tuple:
        """The shape the expression has when the code runs."""
        return () if self.spread else self.shape

    def _respread(self, val) -> Sym:
        """The same number, spread over ``val``'s shape."""
        return Sym(self.expr, val, self.prec, self.gen, True, self.num)

    def solid(self) -> Sym:
        """This symbol with its full shape (a spread number written out with np.full)."""
        if not self.spread:
            return self
        return self._new(f"np.full({_lit(self.shape, None)}, {self.expr})", self.val)

    def _elementwise(self, syms, val):
        """The operands to write for an elementwise op, and whether the result is spread."""
        if all(s.run_shape == () for s in syms):
            return syms, True
        if np.broadcast_shapes(*(s.run_shape for s in syms)) != np.shape(val):
            syms = [s.solid() for s in syms]
        return syms, False

    def _of(self, x) -> Sym:
        if isinstance(x, Sym):
            return x
        if isinstance(x, np.ndarray) and x.ndim == 0:
            x = x[()]
        if isinstance(x, _NUMBERS):
            x = x.item() if isinstance(x, np.generic) else x
            if type(x) is int:  # numpy mixes a float into arrays faster than an int
                x = float(x)
            text = _lit(x, None)
            return Sym(text, x, _UNARY if text.startswith("-") else _ATOM, self.gen, num=x)
        return self._new(self.gen.constant(np.asarray(x)), np.asarray(x))

    def _real(self) -> bool:
        """Whether the value is real numbers (not a comparison's booleans)."""
        return np.asarray(self.val).dtype.kind == "f"

    def _is(self, number) -> bool:
        return self.expr == repr(number) or self.expr == repr(float(number))

    # shapes, for the ops' own checks
    shape = property(lambda self: np.shape(self.val))
    ndim = property(lambda self: np.ndim(self.val))
    size = property(lambda self: np.size(self.val))
    data = property(lambda self: self)  # what ops.raw() reads
    T = property(lambda self: self.transpose())

    # arithmetic
    def _bin(self, other, sym, prec, fn, swap=False):
        a, b = (self._of(other), self) if swap else (self, self._of(other))
        val = fn(a.val, b.val)
        if a.num is not None and b.num is not None and sym in _FOLD:
            folded = _fold(_FOLD[sym], a.num, b.num)  # two numbers: write the result
            if folded is not None:
                out = self._of(folded)
                out.val, out.spread = val, np.ndim(val) > 0
                return out
        if a.num is not None and b.num is not None:  # Python would refuse 1.0 / 0.0 or give a
            a = a._new(f"np.float64({a.expr})", np.float64(a.val))  # complex; numpy: inf, nan
        if sym in ("*", "/", "**") and b._is(1) and np.shape(val) == a.shape and a._real():
            return a  # x * 1, x / 1, x ** 1 (but 1.0 * (x > 0) stays: a mask is not a number)
        if sym == "*" and a._is(1) and np.shape(val) == b.shape and b._real():
            return b
        if sym == "@":
            a, b, spread = a.solid(), b.solid(), False
        else:
            (a, b), spread = self._elementwise([a, b], val)
        if sym == "**":
            power = b.wrap(_UNARY)
            if b.num is not None and float(b.num).is_integer():
                power = _lit(int(b.num), None)  # x ** 2 reads better than x ** 2.0
                power = f"({power})" if power.startswith("-") else power
            return self._new(f"{a.wrap(_POW + 1)} ** {power}", val, _POW, spread)
        left = a.wrap(prec + 1 if prec == _CMP else prec)  # (a < b) == c: never chained
        return self._new(f"{left} {sym} {b.wrap(prec + 1)}", val, prec, spread)

    def __add__(self, o): return self._bin(o, "+", _ADD, np.add)
    def __radd__(self, o): return self._bin(o, "+", _ADD, np.add, True)
    def __sub__(self, o): return self._bin(o, "-", _ADD, np.subtract)
    def __rsub__(self, o): return self._bin(o, "-", _ADD, np.subtract, True)
    def __mul__(self, o): return self._bin(o, "*", _MUL, np.multiply)
    def __rmul__(self, o): return self._bin(o, "*", _MUL, np.multiply, True)
    def __truediv__(self, o): return self._bin(o, "/", _MUL, np.true_divide)
    def __rtruediv__(self, o): return self._bin(o, "/", _MUL, np.true_divide, True)
    def __matmul__(self, o): return self._bin(o, "@", _MUL, np.matmul)
    def __rmatmul__(self, o): return self._bin(o, "@", _MUL, np.matmul, True)
    def __pow__(self, o): return self._bin(o, "**", _POW, np.power)
    def __rpow__(self, o): return self._bin(o, "**", _POW, np.power, True)
    def __gt__(self, o): return self._bin(o, ">", _CMP, np.greater)
    def __lt__(self, o): return self._bin(o, "<", _CMP, np.less)
    def __ge__(self, o): return self._bin(o, ">=", _CMP, np.greater_equal)
    def __le__(self, o): return self._bin(o, "<=", _CMP, np.less_equal)
    def __eq__(self, o): return self._bin(o, "==", _CMP, np.equal)
    def __ne__(self, o): return self._bin(o, "!=", _CMP, np.not_equal)

    def __neg__(self):
        if self.num is not None:
            out = self._of(-self.num)
            out.val, out.spread = -self.val, self.spread
            return out
        return self._new(f"-{self.wrap(_UNARY)}", -self.val, _UNARY, self.spread)

    # methods that the ops call on arrays or Values
    def _method_or_np(self, name, args: str, val, view=False):
        self = self.solid()
        if isinstance(self.val, (np.ndarray, np.generic)):
            return self._new(f"{self.wrap(_ATOM)}.{name}({args})", val, view=view)
        return self._new(f"np.{name}({self.expr}{', ' if args else ''}{args})", val)

    def reshape(self, *shape):
        shape = shape_arg(shape, "reshape")
        val = np.reshape(self.val, shape)
        if val.shape == self.shape:
            return self
        if self.run_shape == ():  # still one number, spread over the new shape
            return self._respread(val)
        return self._method_or_np("reshape", _lit(tuple(shape), self.gen.constant), val,
                                  self.view)

    def transpose(self, *axes):
        axes = tuple(int(a) for a in axes) or None
        val = np.transpose(self.val, axes)
        if self.spread:
            return self._respread(val)
        if axes is None or axes == tuple(range(self.ndim))[::-1]:
            if self.ndim < 2:
                return self
            return self._new(f"{self.wrap(_ATOM)}.T", val, view=self.view)
        return self._method_or_np("transpose", _lit(axes, None), val, self.view)

    def sum(self, axis=None, keepdims=False):
        return self._reduce("sum", axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return self._reduce("mean", axis, keepdims)

    def max(self, axis=None, keepdims=False):
        return self._reduce("max", axis, keepdims)

    def min(self, axis=None, keepdims=False):
        return self._reduce("min", axis, keepdims)

    def var(self, axis=None, keepdims=False):
        return self._reduce("var", axis, keepdims)

    def std(self, axis=None, keepdims=False):
        return self._reduce("std", axis, keepdims)

    def _reduce(self, name, axis, keepdims):
        val = getattr(np, name)(self.val, axis=axis, keepdims=keepdims)
        if isinstance(axis, tuple) and len(axis) == 1:
            axis = axis[0]
        args = [] if axis is None else [f"axis={_lit(axis, None)}"]
        args += ["keepdims=True"] if keepdims else []
        return self._method_or_np(name, ", ".join(args), val)

    def broadcast_to(self, *shape):
        shape = shape_arg(shape, "broadcast_to")
        if tuple(shape) == self.shape:
            return self
        val = np.full(shape, self.val)
        if self.run_shape == ():
            return self._respread(val)
        return self._new(f"np.full({_lit(tuple(shape), None)}, {self.expr})", val)

    def _call(self, name):
        return self._new(f"np.{name}({self.expr})", getattr(np, name)(self.val),
                         spread=self.spread)

    def exp(self): return self._call("exp")
    def log(self): return self._call("log")
    def sin(self): return self._call("sin")
    def cos(self): return self._call("cos")
    def tanh(self): return self._call("tanh")

    def _let(self, base: str) -> Sym:
        """``ops.let``: this expression on a line of its own (``gen.pending``), used by name."""
        if self.expr.isidentifier() or self.num is not None:
            return self  # a name or a number already
        name = self.gen.temporary(base)
        self.gen.pending.append(f"{name} = {self.expr}")
        return Sym(name, self.val, _ATOM, self.gen, self.spread)

    def __getitem__(self, index):
        self = self.solid()
        idx = index if isinstance(index, tuple) else (index,)
        text = ", ".join(_lit(i, self.gen.constant, subscript=True) for i in idx) or "()"
        return self._new(f"{self.wrap(_ATOM)}[{text}]", self.val[index], view=self.view)

    def _scatter_add(self, shape, index):
        self, c = self.solid(), self.gen.constant
        return self._new(f"_index_add({self.expr}, {_lit(tuple(shape), c)}, {_lit(index, c)})",
                         ops.IndexAdd.forward(self.val, shape, index))

    # numpy functions and ufuncs called on symbols (np.exp(u), np.sum(x, ...), …)
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs:
            raise TypeError(f"compile: numpy's {ufunc.__name__}.{method} is not written as code")
        syms = [self._of(x) for x in inputs]
        val = ufunc(*[s.val for s in syms])
        syms, spread = self._elementwise(syms, val)
        return self._new(f"np.{ufunc.__name__}({', '.join(s.expr for s in syms)})", val,
                         spread=spread)

    def __array_function__(self, func, types, args, kwargs):
        name = func.__name__
        if name in ("ndim", "shape", "size"):
            return getattr(self, name)
        if name in _REDUCTIONS:
            return self._of(args[0])._reduce(
                _REDUCTIONS[name], kwargs.get("axis", args[1] if len(args) > 1 else None),
                kwargs.get("keepdims", args[2] if len(args) > 2 else False))
        if name in _WRITTEN_AS_CALLS:
            return self._np_call(func, args, kwargs)
        if name == "reshape":
            return self.reshape(args[1])
        if name == "transpose":
            axes = kwargs.get("axes", args[1] if len(args) > 1 else None)
            return self.transpose(*(axes or ()))
        if name == "broadcast_to":
            return self.broadcast_to(args[1])
        raise TypeError(f"compile: numpy.{name} is not written as code")

    def _np_call(self, func, args, kwargs):
        """``np.where(c, a, b)``, ``np.concatenate([a, b], axis=1)`` …: written as the call."""
        def text(x):
            if isinstance(x, (list, tuple)) and any(isinstance(e, Sym) for e in x):
                return "[" + ", ".join(text(e) for e in x) + "]"
            if isinstance(x, Sym) or isinstance(x, np.ndarray):
                return self._of(x).solid().expr
            return _lit(x, self.gen.constant)

        def value(x):
            if isinstance(x, (list, tuple)):
                return type(x)(value(e) for e in x)
            return x.val if isinstance(x, Sym) else x

        parts = [text(a) for a in args] + [f"{k}={text(v)}" for k, v in kwargs.items()]
        val = func(*[value(a) for a in args], **{k: value(v) for k, v in kwargs.items()})
        return self._new(f"np.{func.__name__}({', '.join(parts)})", val)


# numpy's reductions a symbol writes as its method (np.amax(x, 1) → x.max(axis=1))
_REDUCTIONS = {"sum": "sum", "mean": "mean", "max": "max", "amax": "max", "min": "min",
               "amin": "min", "var": "var", "std": "std"}
# numpy functions a symbol writes as the call itself
_WRITTEN_AS_CALLS = {"where", "clip", "concatenate", "stack", "squeeze", "expand_dims"}


_FOLD = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
         "**": operator.pow}


def _fold(op, a, b):
    """``a op b`` for two literals, as Python computes it at run time; None if not a float."""
    try:
        result = op(a, b)
    except (ArithmeticError, ValueError):
        return None
    return result if isinstance(result, (int, float)) and np.isfinite(result) else None
