"""The second code generator: a traced graph written out on Python floats, element by element.

For a network as small as the seed's (1-3-1, one sample per step) the time
of a numpy step is numpy's cost per call, not arithmetic: about 1 µs per
call, against about 20 ns for one Python float operation.  So for small
shapes the generated code does the element arithmetic itself, one line per
element, named after the node and the element's indices:

    u1_2 = x_0 * w1_0_2 + b1_2             # u_j = x w_j + b_j (batch index dropped)
    y1_2 = 1.0 / (1.0 + exp(-u1_2))
    ...
    grad_w1_0_2 = x_0 * grad_u1_2          # ∂w_ij = x_i δ_j
    w1_0_2 -= 0.1 * grad_w1_0_2            # the SGD update, inside the step

How: every element is a :class:`F` (a scalar symbol that writes ``+``,
``*``, ``exp`` … down as text), a node's data becomes a numpy *object*
array of them, and each op's own ``forward`` and ``backward`` from
``ops`` run on those arrays: numpy does the indexing, broadcasting,
``@`` and ``sum`` element by element, and every element comes out as a
formula.  Elementwise decisions are formulas too: a mask ``x > 0`` is
written as Python's comparison (a bool counts as 0 or 1), ``np.maximum``,
``np.clip``, a max over an axis and ``np.where`` as calls and conditionals
(see :class:`Elements`), so relu, clip, max and the softmaxes run on floats.
An op that cannot run that way (a Python ``if`` on a number, say) raises
:class:`NotUnrollable`, and ``compile`` uses the numpy generator.
A power that is not a whole number is written ``power(x, 0.5)``: Python's
``**`` would turn a negative ``x`` into a complex number, where numpy gives
nan; ``power`` refuses it instead, and that step runs in numpy.

The weights live in the generated closure as floats between steps (see
``fused.py``): no array is built, read or written on a step at all.
"""

from __future__ import annotations

import math
import re
import textwrap

import numpy as np

from .. import ops
from .numpy_code import INLINE
from .symbols import _ADD, _ATOM, _FOLD, _MUL, _POW, _UNARY  # precedences; _FOLD: + - * / **

# Names the generated code uses for itself; no node may take them.
RESERVED = {"exp", "log", "tanh", "sin", "cos", "sqrt", "abs", "power", "maximum", "minimum",
            "clip", "sign", "isfinite", "math", "inf", "nan", "make", "sgd_step", "weights"}


def exp(v: float) -> float:
    """``math.exp``, but ``inf`` where it overflows (as numpy gives) instead of OverflowError.

    So the sigmoid ``1 / (1 + exp(−u))`` of a very negative ``u`` is exactly 0.0,
    the eager engine's number, and training never stops on a saturated unit.
    """
    try:
        return math.exp(v)
    except OverflowError:
        return math.inf


def sqrt(v: float) -> float:
    """``math.sqrt``, but nan for a negative number (as numpy gives) instead of ValueError."""
    return math.sqrt(v) if v >= 0 else math.nan


def power(a: float, b: float) -> float:
    """``a ** b`` for a power that may not be a whole number: ``math.pow``, which raises
    ValueError for a negative ``a`` (Python's ``**`` would give a complex number; numpy and
    the eager engine give nan), so the step is done in numpy instead (see ``fused.py``)."""
    return math.pow(a, b)


# numpy's elementwise choices on numbers, for the ops that decide (max, clip, abs …):
# a nan anywhere gives nan, as numpy's do (Python's own max(nan, 1.0) depends on the order).
def maximum(*xs: float) -> float:
    """The largest of the numbers, as ``np.maximum`` (and ``ndarray.max``) gives it."""
    return math.nan if any(x != x for x in xs) else max(xs)


def minimum(*xs: float) -> float:
    """The smallest of the numbers, as ``np.minimum`` (and ``ndarray.min``) gives it."""
    return math.nan if any(x != x for x in xs) else min(xs)


def clip(x: float, lo: float, hi: float) -> float:
    """``np.clip`` of one number."""
    return minimum(maximum(x, lo), hi)


def sign(x: float) -> float:
    """``np.sign`` of one number: −1.0, 0.0 or 1.0 (nan for nan)."""
    return math.nan if x != x else float((x > 0) - (x < 0))


FUNCTIONS = {"exp": exp, "log": math.log, "tanh": math.tanh, "sin": math.sin,
             "cos": math.cos, "sqrt": sqrt, "power": power, "maximum": maximum,
             "minimum": minimum, "clip": clip, "sign": sign, "isfinite": math.isfinite,
             "math": math, "inf": math.inf, "nan": math.nan}


class NotUnrollable(Exception):
    """This graph cannot be written on floats; the numpy generator writes it instead."""


class F:
    """One number of the generated code: an expression, written as it is combined.

    ``num`` is set when the expression is a literal, so that ``1.0 * g``
    reads ``g`` and ``0.5 * 2.0`` reads ``1.0``.
    """

    __slots__ = ("expr", "prec", "num")

    def __init__(self, expr: str, prec: int = _ATOM, num: float | None = None):
        self.expr, self.prec, self.num = expr, prec, num

    @staticmethod
    def of(x) -> F:
        if isinstance(x, F):
            return x
        if isinstance(x, (bool, np.bool_, int, float, np.integer, np.floating)):  # a constant
            x = float(x)
            text = repr(x)
            if not math.isfinite(x):
                text = ("-inf" if x < 0 else "inf") if math.isinf(x) else "nan"
            return F(text, _UNARY if text.startswith("-") else _ATOM, x)
        raise NotUnrollable(f"a {type(x).__name__} inside the arithmetic")

    def wrap(self, prec: int) -> str:
        return self.expr if self.prec >= prec else f"({self.expr})"

    def _bin(self, other, sym, prec, swap=False):
        a, b = (F.of(other), self) if swap else (self, F.of(other))
        if a.num is not None and b.num is not None:  # two numbers: write the result
            try:
                result = _FOLD[sym](a.num, b.num)
                if not isinstance(result, complex):  # (−8) ** ⅓: numpy's nan, at run time
                    return F.of(result)
            except (ArithmeticError, ValueError):
                pass
        if sym == "*" and a.num == 1.0:
            return b
        if sym in ("*", "/", "**") and b.num == 1.0:
            return a
        if sym == "+" and b.num == 0.0:
            return a
        if sym == "+" and a.num == 0.0:
            return b
        if sym == "**":
            if b.num == 2.0 and a.prec == _ATOM:
                return F(f"{a.expr} * {a.expr}", _MUL)  # a * a: never an OverflowError
            if b.num is not None and b.num.is_integer() and abs(b.num) < 1e6:
                power = str(int(b.num)) if b.num >= 0 else f"({int(b.num)})"  # x ** 3, not 3.0
                return F(f"{a.wrap(_POW + 1)} ** {power}", _POW)
            return F(f"power({a.expr}, {b.expr})")  # never a complex number: see power()
        return F(f"{a.wrap(prec)} {sym} {b.wrap(prec + 1)}", prec)

    def __add__(self, o): return self._bin(o, "+", _ADD)
    def __radd__(self, o): return self._bin(o, "+", _ADD, True)
    def __sub__(self, o): return self._bin(o, "-", _ADD)
    def __rsub__(self, o): return self._bin(o, "-", _ADD, True)
    def __mul__(self, o): return self._bin(o, "*", _MUL)
    def __rmul__(self, o): return self._bin(o, "*", _MUL, True)
    def __truediv__(self, o): return self._bin(o, "/", _MUL)
    def __rtruediv__(self, o): return self._bin(o, "/", _MUL, True)
    def __pow__(self, o): return self._bin(o, "**", _POW)
    def __rpow__(self, o): return self._bin(o, "**", _POW, True)

    def __neg__(self):
        if self.num is not None:
            return F.of(-self.num)
        return F(f"-{self.wrap(_UNARY)}", _UNARY)

    def _call(self, name):
        return F(f"{name}({self.expr})")

    # numpy calls these on each element of an object array: np.exp(a) → a_i.exp()
    def exp(self): return self._call("exp")
    def log(self): return self._call("log")
    def tanh(self): return self._call("tanh")
    def sin(self): return self._call("sin")
    def cos(self): return self._call("cos")
    def sqrt(self): return self._call("sqrt")
    def __abs__(self): return self._call("abs")  # Python's own abs() on a float
    def conjugate(self): return self  # a real number (numpy's var asks for it)

    def __bool__(self):  # a Python decision on a number: the trace cannot write it
        raise NotUnrollable("a decision on a number")

    def _compare(self, other):  # a comparison outside numpy (Elements writes numpy's)
        raise NotUnrollable("a comparison of numbers")

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _compare
    __hash__ = object.__hash__

    def __repr__(self):
        return f"F({self.expr!r})"


# Comparisons are written as Python's (a bool, which counts as 0 or 1 in arithmetic: the
# masks of relu, clip, max …); numpy's choices as calls of the functions above.
_COMPARISONS = {np.greater: ">", np.less: "<", np.greater_equal: ">=", np.less_equal: "<=",
                np.equal: "==", np.not_equal: "!="}
_CHOICES = {"maximum", "minimum", "sign", "isfinite", "clip"}  # ufuncs, by name (clip's is
# numpy's internal ufunc behind np.clip)
_CMP = 40  # Python's precedence of a comparison


def _compare(ufunc):
    symbol = _COMPARISONS[ufunc]

    def one(a, b):
        a, b = F.of(a), F.of(b)
        if a.num is not None and b.num is not None:  # two numbers: the answer, 0.0 or 1.0
            return F.of(ufunc(a.num, b.num))  # numpy's answer, for nan too
        return F(f"{a.wrap(_CMP + 1)} {symbol} {b.wrap(_CMP + 1)}", _CMP)
    return one


def _choice(name: str):
    def one(*xs):
        fs = [F.of(x) for x in xs]
        if all(f.num is not None for f in fs):
            return F.of(FUNCTIONS[name](*[f.num for f in fs]))
        return F(f"{name}({', '.join(f.expr for f in fs)})")
    return one


def _plain(x):
    return x.view(np.ndarray) if isinstance(x, Elements) else x


class Elements(np.ndarray):
    """A numpy array of :class:`F`: numpy does the shapes, ``@`` and ``sum``; F writes each number.

    A subclass, not a plain object array, so that the ops' quick paths for real
    float arrays (``type(x) is np.ndarray``) step aside and their general code runs.
    It also writes what numpy cannot do on objects: comparisons (``x > 0``: a
    mask), ``np.maximum``/``minimum``/``clip``/``sign``/``isfinite``, a max or
    min over axes, and ``np.where`` (Python's ``a if c else b``).
    """

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = [_plain(x) for x in inputs]
        out = kwargs.pop("out", None)  # numpy's own var, clip … may write into arrays of ours
        if isinstance(out, tuple) and all(o is None for o in out):
            out = None
        if out is not None:
            kwargs["out"] = tuple(map(_plain, out)) if isinstance(out, tuple) else _plain(out)
        if kwargs.get("casting") in ("same_kind", "unsafe"):
            del kwargs["casting"]
        name = ufunc.__name__
        if method == "__call__" and not kwargs and (ufunc in _COMPARISONS or name in _CHOICES):
            one = _compare(ufunc) if ufunc in _COMPARISONS else _choice(name)
            return _objects(np.frompyfunc(one, len(inputs), 1)(*inputs))
        if method == "reduce" and name in ("maximum", "minimum"):  # x.max(axis=…), x.min(…)
            return _fold(name, inputs[0], kwargs.get("axis"), kwargs.get("keepdims", False))
        out = getattr(ufunc, method)(*inputs, **kwargs)
        if isinstance(out, F) or (isinstance(out, np.ndarray) and out.dtype == object):
            return _objects(out)  # (a sum down to one number: a 0-d array of it, as before)
        return out

    def __array_function__(self, func, types, args, kwargs):
        if func is np.where and len(args) == 3 and not kwargs:
            def choose(c, a, b):
                c = F.of(c)
                if c.num is not None:  # a fixed condition: the side it picks
                    return F.of(a if c.num else b)
                return F(f"({F.of(a).expr} if {c.expr} else {F.of(b).expr})")
            return _objects(np.frompyfunc(choose, 3, 1)(*[_plain(a) for a in args]))
        return super().__array_function__(func, types, args, kwargs)


def _fold(name: str, x: np.ndarray, axis, keepdims: bool) -> Elements:
    """``maximum(a, b, …)`` of the elements along ``axis`` (all, for None), one per output."""
    x = np.asarray(x, dtype=object)
    axes = tuple(range(x.ndim)) if axis is None else tuple(
        a % x.ndim for a in (axis if isinstance(axis, tuple) else (axis,)))
    if any(x.shape[a] == 0 for a in axes):
        raise NotUnrollable(f"a {name} over an empty axis")
    kept = [a for a in range(x.ndim) if a not in axes]
    rows = np.transpose(x, kept + list(axes)).reshape([x.shape[a] for a in kept] + [-1])
    out = _elements(rows.shape[:-1], lambda idx: _choice(name)(*rows[idx]))
    if keepdims:
        out = out.reshape([1 if a in axes else n for a, n in enumerate(x.shape)])
    return _objects(out)


def _elements(shape: tuple, fill=None) -> Elements:
    out = np.empty(shape, dtype=object)
    if fill is not None:
        for idx in np.ndindex(shape):
            out[idx] = fill(idx)
    return out.view(Elements)


def _objects(x) -> Elements:
    """An op's result as Elements (numpy hands back a bare element for 0-d results)."""
    if isinstance(x, np.ndarray) and x.dtype == object:
        return x if type(x) is Elements else x.view(Elements)
    if isinstance(x, F):
        return _elements((), lambda idx: x)
    if isinstance(x, (np.ndarray, np.generic, int, float)) and not isinstance(x, bool):
        numbers = np.asarray(x, dtype=np.float64)  # a gradient that ignores g: constants
        return _elements(numbers.shape, lambda idx: F.of(float(numbers[idx])))
    raise NotUnrollable(f"an op gave a {type(x).__name__}")


def _named(names: np.ndarray) -> Elements:
    return _elements(names.shape, lambda idx: F(names[idx]))


WIDTH = 90  # the generated source's lines: longer ones are wrapped


def _wrapped(head: str, text: str, indent: str) -> list[str]:
    """``indent + head + text`` as lines of at most WIDTH characters, broken at the spaces
    of ``text`` (a list inside brackets) and aligned after ``head``."""
    wrap = textwrap.TextWrapper(width=WIDTH, initial_indent=indent + head,
                                subsequent_indent=indent + " " * len(head),
                                break_long_words=False, break_on_hyphens=False)
    return wrap.wrap(text)


def _terms(expr: str) -> list[str]:
    """``expr`` split at its top-level `` + `` (outside any brackets)."""
    terms, depth, start = [], 0, 0
    for k, char in enumerate(expr):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and expr.startswith(" + ", k):
            terms.append(expr[start:k])
            start = k + 3
    return [*terms, expr[start:]]


def _assignment(name: str, expr: str, indent: str) -> list[str]:
    """``name = expr``; past WIDTH characters, with one term of the sum a line:
    ``name = (`` for a sum, ``name = 0.5 * (`` for a factor times a sum in brackets."""
    line = f"{indent}{name} = {expr}"
    if len(line) <= WIDTH:
        return [line]
    head, inner = "(", expr
    if len(_terms(expr)) == 1 and expr.endswith(")"):  # c * (a + b + …): split the bracket
        depth = 0
        for k in range(len(expr) - 1, -1, -1):
            depth += {")": 1, "(": -1}.get(expr[k], 0)
            if depth == 0:
                head, inner = expr[:k + 1], expr[k + 1:-1]
                break
    terms = _terms(inner)
    if len(terms) == 1:
        return [line]
    return [f"{indent}{name} = {head}", f"{indent}    {terms[0]}",
            *(f"{indent}    + {term}" for term in terms[1:]), f"{indent})"]


class FloatGenerator:
    """Writes one trace as a closure on Python floats with the SGD update built in.

    ``make(*weights)`` (the generated factory) returns ``(step, weights)``:
    ``step(*inputs)`` does forward, backward and ``w ← w − η ∂w`` on the
    floats it holds and returns ``(loss, outputs)`` with each output as
    nested lists of its shape; ``weights()`` gives the current floats, flat,
    parameter by parameter (row-major).
    """

    def __init__(self, trace, persistent: list, wrt: list, eta: float):
        self.trace, self.eta = trace, float(eta)
        self.name = trace.names(persistent, taken={"np", "_index_add", "sgd_step"})
        self.needed, self.wrt = trace.needed(wrt), wrt
        self.persistent = persistent
        self.taken = set(RESERVED)
        self.elements = {}  # id(node) -> object array of the element names (strings)
        batch_one = all(v.ndim == 2 and v.shape[0] == 1 for v in trace.inputs)
        persistent_ids = {id(p) for p in persistent}
        unused = [v for v in trace.inputs if id(v) not in {id(n) for n in trace.order}]
        for node in trace.order + unused:  # (an input fn does not use is still an argument)
            drop = batch_one and node.ndim == 2 and node.shape[0] == 1 and (
                id(node) not in persistent_ids)  # the batch index of a single sample
            self.elements[id(node)] = self._element_names(self.name[id(node)], node.shape, drop)

    def _element_names(self, base: str, shape: tuple, drop_first: bool) -> np.ndarray:
        names = np.empty(shape, dtype=object)
        for idx in np.ndindex(shape):
            shown = idx[1:] if drop_first else idx
            name = "_".join([base, *map(str, shown)])
            if name in self.taken or name.startswith("grad_"):
                raise NotUnrollable(f"two elements would both be called {name}")
            self.taken.add(name)
            names[idx] = name
        return names

    def _leaf(self, node) -> np.ndarray:
        if id(node) in self.trace.input_ids or any(node is p for p in self.persistent):
            return _named(self.elements[id(node)])
        data = np.asarray(node.data)  # a constant made inside fn: literals
        return _elements(node.shape, lambda idx: F.of(float(data[idx])))

    def _run(self, func, node, *arrays):
        with np.errstate(all="ignore"):
            try:
                out = func(*arrays, *node._args)
                if func is node._op.forward:
                    out = _objects(out)
                elif isinstance(out, (tuple, list)):
                    out = tuple(out)
                else:  # a one-input op may return its gradient bare
                    out = (out,)
            except NotUnrollable:
                raise
            except Exception as err:  # numpy or the op could not do it on objects
                raise NotUnrollable(f"{node.op}: {err}") from None
        return out

    def source(self) -> str:
        """The generated factory, as text."""
        back, updates = self._backward_lines()
        used = set(re.findall(r"\w+", "\n".join(expr for _, expr in back)))
        fwd, root_expr, outputs = self._forward_lines(used)
        inputs = [n for v in self.trace.inputs for n in self.elements[id(v)].ravel()]
        weights = [n for p in self.persistent for n in self.elements[id(p)].ravel()]
        body = " " * 8
        wrap = textwrap.TextWrapper(width=WIDTH - len(body + "nonlocal "), break_long_words=False,
                                    break_on_hyphens=False)
        nonlocal_lines = ["nonlocal " + line.rstrip(",") for line in
                          wrap.wrap(", ".join(weights))] if updates else []
        returned = ", ".join(outputs) + ("," if len(outputs) == 1 else "")
        lines = [
            *_wrapped("def make(", ", ".join(weights) + "):", ""),
            '    """A training step on Python floats, written by tinygrad_sine.compile: forward,',
            f'    backward, then w ← w − η ∂w with η = {self.eta!r}.  The weights live here."""',
            "",
            *_wrapped("def sgd_step(", ", ".join(inputs) + "):", " " * 4),
            *(body + line for line in nonlocal_lines),
            body + "# forward",
            *(line for name, expr in fwd for line in _assignment(name, expr, body)),
            f"{body}# backward: grad_v = ∂{self.name[id(self.trace.loss)]}/∂v",
            *(line for name, expr in back for line in _assignment(name, expr, body)),
            body + "# update: w ← w − η ∂w",
            *(body + line for line in updates),
            *_wrapped(f"return {root_expr}, (", returned + ")", body),
            "",
            "    def weights():",
            *_wrapped("return [", ", ".join(weights) + "]", body),
            "",
            "    return sgd_step, weights",
        ]
        return "\n".join(lines) + "\n"

    def _backward_lines(self):
        order, root = self.trace.order, self.trace.loss
        named = {id(n): _named(self.elements[id(n)]) for n in order if n._op is not None}
        back, updates, contributions = [], {}, {}
        wanted = {id(p) for p in self.wrt}
        for node in reversed(order):
            i = id(node)
            if i not in self.needed:
                continue
            if node is root:
                total = _elements(node.shape, lambda idx: F.of(1.0))
            elif i not in contributions:  # every op it feeds gave it None: no gradient
                total = _elements(node.shape, lambda idx: F.of(0.0))
            else:
                parts = contributions.pop(i)
                total = parts[0]
                for part in parts[1:]:
                    total = total + part
            g = _elements(node.shape)
            for idx in np.ndindex(node.shape):
                f = total[idx]
                if f.num is not None or (node._op is not None and f.prec == _ATOM
                                         and node.label is None):
                    g[idx] = f  # a number, or a name already written: no line
                else:
                    gname = "grad_" + self.elements[i][idx]
                    back.append((gname, f.expr))
                    g[idx] = F(gname)
            if node._op is None:
                if i in wanted:
                    updates[i] = [f"{self.elements[i][idx]} -= {self.eta!r} * "
                                  f"{g[idx].wrap(_MUL + 1)}" for idx in np.ndindex(node.shape)]
                continue
            inputs = [self._leaf(p) if p._op is None else named[id(p)] for p in node.parents]
            local = self._run(node._op.backward, node, g, named[i], *inputs)
            for parent, pg in zip(node.parents, local):
                if pg is None or id(parent) not in self.needed:  # None: no gradient for it
                    continue
                pg = _objects(pg)
                if pg.shape != parent.shape:
                    pg = _objects(ops.sum_to(pg, parent.shape))
                contributions.setdefault(id(parent), []).append(pg)
        return back, [line for p in self.wrt for line in updates.get(id(p), [])]

    def _forward_lines(self, used_in_backward: set):
        order, root = self.trace.order, self.trace.loss
        keep = {id(o) for o in (root, *self.trace.outputs)}
        uses = self.trace.uses()
        fwd, value = [], {}
        for node in order:
            i = id(node)
            if node._op is None:
                value[i] = self._leaf(node)
                continue
            out = self._run(node._op.forward, node, *[value[id(p)] for p in node.parents])
            if out.shape != node.shape:
                raise NotUnrollable(f"{node.op} gave shape {out.shape}, not {node.shape}")
            names = self.elements[i]
            inline = (node.label is None and uses.get(i) == 1 and i not in keep
                      and not any(n in used_in_backward for n in names.ravel())
                      and all(len(f.expr) <= INLINE for f in out.ravel()))
            if not inline:
                for idx in np.ndindex(node.shape):
                    if out[idx].expr != names[idx]:
                        fwd.append((names[idx], F.of(out[idx]).expr))
                out = _named(names)
            value[i] = out
        outputs = [self._nested(value[id(o)]) for o in self.trace.outputs]
        return fwd, value[id(root)].ravel()[0].expr, outputs  # the loss: one number

    @staticmethod
    def _nested(arr) -> str:
        """Source for the array's elements as nested lists of its shape (a bare name if 0-d)."""
        if isinstance(arr, F):
            return arr.expr
        if arr.ndim == 0:
            return arr[()].expr
        return "[" + ", ".join(FloatGenerator._nested(a) for a in arr) + "]"
