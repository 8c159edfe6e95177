"""Writing a traced graph as Python source: the symbols and the generator behind ``compile``.

A *symbol* (:class:`Sym`) is a stand-in for an array that answers ``+``,
``@``, ``np.exp``, ``.sum()`` … by writing the expression down (and computing
its value on the traced inputs alongside, for shapes).  Running an op's own
``forward`` and ``backward`` from ``ops.py`` on symbols therefore writes that
op's math as code.  :class:`Generator` does that for every node of a trace,
names the lines after the nodes' labels, and leaves out gradients nobody
asked for.  ``compile.py`` traces, checks and runs; this file only writes.
"""

from __future__ import annotations

import keyword
import operator
import re

import numpy as np

from .. import ops
from ..autograd import topo_order
from ..value import _shape_arg

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
    """

    __slots__ = ("expr", "val", "prec", "gen", "spread", "num")
    __array_priority__ = 1000

    def __init__(self, expr: str, val, prec: int, gen, spread: bool = False, num=None):
        self.expr, self.val, self.prec, self.gen = expr, val, prec, gen
        self.spread = spread and np.ndim(val) > 0
        self.num = num  # the Python number, when the expression is a literal

    def wrap(self, prec: int) -> str:
        return self.expr if self.prec >= prec else f"({self.expr})"

    def _new(self, expr, val, prec=_ATOM, spread=False):
        return Sym(expr, val, prec, self.gen, spread)

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
        if sym in ("*", "/", "**") and b._is(1) and np.shape(val) == a.shape:
            return a  # x * 1, x / 1, x ** 1
        if sym == "*" and a._is(1) and np.shape(val) == b.shape:
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
        return self._new(f"{a.wrap(prec)} {sym} {b.wrap(prec + 1)}", val, prec, spread)

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

    def __neg__(self):
        if self.num is not None:
            out = self._of(-self.num)
            out.val, out.spread = -self.val, self.spread
            return out
        return self._new(f"-{self.wrap(_UNARY)}", -self.val, _UNARY, self.spread)

    # methods that ops.py calls on arrays or Values
    def _method_or_np(self, name, args: str, val):
        self = self.solid()
        if isinstance(self.val, (np.ndarray, np.generic)):
            return self._new(f"{self.wrap(_ATOM)}.{name}({args})", val)
        return self._new(f"np.{name}({self.expr}{', ' if args else ''}{args})", val)

    def reshape(self, *shape):
        shape = _shape_arg(shape, "reshape")
        val = np.reshape(self.val, shape)
        if val.shape == self.shape:
            return self
        if self.run_shape == ():  # still one number, spread over the new shape
            return self._respread(val)
        return self._method_or_np("reshape", _lit(tuple(shape), self.gen.constant), val)

    def transpose(self, *axes):
        axes = tuple(int(a) for a in axes) or None
        val = np.transpose(self.val, axes)
        if self.spread:
            return self._respread(val)
        if axes is None or axes == tuple(range(self.ndim))[::-1]:
            if self.ndim < 2:
                return self
            return self._new(f"{self.wrap(_ATOM)}.T", val)
        return self._method_or_np("transpose", _lit(axes, None), val)

    def sum(self, axis=None, keepdims=False):
        return self._reduce("sum", axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return self._reduce("mean", axis, keepdims)

    def _reduce(self, name, axis, keepdims):
        val = getattr(np, name)(self.val, axis=axis, keepdims=keepdims)
        if isinstance(axis, tuple) and len(axis) == 1:
            axis = axis[0]
        args = [] if axis is None else [f"axis={_lit(axis, None)}"]
        args += ["keepdims=True"] if keepdims else []
        return self._method_or_np(name, ", ".join(args), val)

    def broadcast_to(self, *shape):
        shape = _shape_arg(shape, "broadcast_to")
        if tuple(shape) == self.shape:
            return self
        val = np.full(shape, self.val)
        if self.run_shape == ():
            return self._respread(val)
        return self._new(f"np.full({_lit(tuple(shape), None)}, {self.expr})", val)

    def _call(self, name, *args):
        return self._new(f"np.{name}({self.expr})", getattr(np, name)(self.val),
                         spread=self.spread)

    def exp(self): return self._call("exp")
    def log(self): return self._call("log")
    def sin(self): return self._call("sin")
    def cos(self): return self._call("cos")
    def tanh(self): return self._call("tanh")

    def __getitem__(self, index):
        self = self.solid()
        idx = index if isinstance(index, tuple) else (index,)
        text = ", ".join(_lit(i, self.gen.constant, subscript=True) for i in idx) or "()"
        return self._new(f"{self.wrap(_ATOM)}[{text}]", self.val[index])

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
        if name in ("sum", "mean"):
            return self._reduce(name, kwargs.get("axis", args[1] if len(args) > 1 else None),
                                kwargs.get("keepdims", args[2] if len(args) > 2 else False))
        if name == "reshape":
            return self.reshape(args[1])
        if name == "transpose":
            axes = kwargs.get("axes", args[1] if len(args) > 1 else None)
            return self.transpose(*(axes or ()))
        if name == "broadcast_to":
            return self.broadcast_to(args[1])
        raise TypeError(f"compile: numpy.{name} is not written as code")


_FOLD = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
         "**": operator.pow}


def _fold(op, a, b):
    """``a op b`` for two literals, as Python computes it at run time; None if not a float."""
    try:
        result = op(a, b)
    except (ArithmeticError, ValueError):
        return None
    return result if isinstance(result, (int, float)) and np.isfinite(result) else None


# ------------------------------------------------------------------ the generator


class Generator:
    """Writes one trace as a Python function: forward lines, then backward lines.

    ``trace`` is a ``compile._Trace`` (its ``order``, ``inputs``, ``input_ids``,
    ``loss``, ``outputs`` and ``tuple_out``); ``persistent`` are the leaves
    read afresh on each call, ``wrt`` those whose gradients are returned.
    """

    def __init__(self, trace, persistent: list, wrt: list, fname: str):
        self.trace, self.consts, self.namespace = trace, {}, {"np": np}
        self.namespace["_index_add"] = ops.IndexAdd.forward
        self.taken = {"np", "_index_add", fname}
        order = trace.order
        persistent_ids = {id(p) for p in persistent}
        self.persistent = persistent
        self.arguments = set()  # names of the generated function's arguments

        # names: labels where they make identifiers, else the op's name and a counter
        self.name, counters = {}, {}
        inputs_first = trace.inputs + [n for n in order if id(n) not in trace.input_ids]
        for node in inputs_first:
            if id(node) in trace.input_ids:
                base = node.label
            elif node._op is None:
                base = "param" if id(node) in persistent_ids else "const"
            else:
                base = node.op
            label = node.label
            if label and label.isidentifier() and not keyword.iskeyword(label):
                base = label
            self.name[id(node)] = self._fresh(base, counters, numbered=base != label)
            if node._op is None and (id(node) in trace.input_ids or id(node) in persistent_ids):
                self.arguments.add(self.name[id(node)])

        # which gradients are needed: nodes on a path from a wanted leaf to the loss
        wanted = {id(p) for p in wrt}
        below_loss = {id(n) for n in topo_order(trace.loss)}
        needed = set()
        for node in order:
            if id(node) in below_loss and (
                    id(node) in wanted or any(id(p) in needed for p in node.parents)):
                needed.add(id(node))
        self.wrt, self.needed = wrt, needed

        # the leaves: inputs and parameters are arguments, made-inside constants are literals
        self.sym = {}
        for node in order:
            if node._op is None:
                if id(node) in trace.input_ids or id(node) in persistent_ids:
                    self.sym[id(node)] = Sym(self.name[id(node)], node.data, _ATOM, self)
                elif node.size == 1 and node.ndim == 0:
                    self.sym[id(node)] = Sym(self.name[id(node)], node.data, _ATOM, self)._of(
                        float(node.data))
                else:
                    self.sym[id(node)] = Sym(self.constant(node.data, self.name[id(node)]),
                                              node.data, _ATOM, self)

    def _fresh(self, base, counters, numbered):
        while True:
            counters[base] = counters.get(base, 0) + 1
            name = f"{base}{counters[base]}" if numbered or counters[base] > 1 else base
            if name not in self.taken:
                self.taken.add(name)
                return name

    def constant(self, array, base="const") -> str:
        """A name in the generated code's globals for an array the code needs."""
        for name, value in self.consts.items():
            if value is array:
                return name
        name = self._fresh(base, {}, numbered=base == "const")
        self.consts[name] = array
        self.namespace[name] = array
        return name

    def _forward_sym(self, node, parent_syms):
        try:
            return node._op.forward(*parent_syms, *node._args)
        except Exception:  # an op numpy cannot write as a formula: call its forward
            return self._call_op(f"_forward_{node.op}", node._op.forward, parent_syms, node)

    def _call_op(self, fname, func, syms, node):
        syms = [s.solid() for s in syms]
        self.namespace[fname] = func
        args = [s.expr for s in syms] + [_lit(a, self.constant) for a in node._args]
        val = func(*[s.val for s in syms], *node._args)
        return Sym(f"{fname}({', '.join(args)})", val, _ATOM, self)

    def source(self, fname: str) -> str:
        """The generated function, as text."""
        trace, name = self.trace, self.name
        self.named = {i: Sym(name[i], None, _ATOM, self) for i in name}
        for node in trace.order:  # the traced values, for shapes
            self.named[id(node)].val = node.data
        # backward first: it tells which forward values must be kept in variables
        back, gname = self._backward_lines()
        fwd = self._forward_lines(used_in_backward=set(re.findall(r"\w+", "\n".join(back))))

        root = trace.loss
        args = [name[id(v)] for v in trace.inputs] + [name[id(p)] for p in self.persistent]
        grads = "[" + ", ".join(gname[id(p)] for p in self.wrt) + "]"
        result = f"{name[id(root)]}, {grads}"
        if trace.tuple_out:
            outs = [name[id(o)] if o._op is not None or id(o) in self.trace.input_ids
                    else self.sym[id(o)].expr for o in trace.outputs]
            outs = ", ".join(o + ".copy()" if o in self.arguments else o for o in outs)
            result += f", ({outs}{',' if len(trace.outputs) == 1 else ''})"
        lines = [f"def {fname}({', '.join(args)}):",
                 '    """Forward and backward pass, written by tinygrad_sine.compile."""',
                 "    # forward", *("    " + line for line in fwd),
                 f"    # backward: grad_v = ∂{name[id(root)]}/∂v, "
                 f"from grad_{name[id(root)]} = 1",
                 *("    " + line for line in back),
                 f"    return {result}"]
        return "\n".join(lines) + "\n"

    def _backward_lines(self):
        """The chain rule, node by node from the loss down, as lines; and the gradients' names."""
        order, name, named, root = self.trace.order, self.name, self.named, self.trace.loss
        back = []
        gname = {i: self._fresh("grad_" + name[i], {}, numbered=False) for i in self.needed}
        contributions = {id(root): []}
        for node in reversed(order):
            i = id(node)
            if i not in self.needed:
                continue
            if node is root:  # ∂E/∂E = 1, spread over E's shape if it has one
                total = Sym("1.0", np.ones(node.shape) if node.ndim else 1.0, _ATOM, self,
                             True, num=1.0)
            else:
                parts = contributions.pop(i)
                total = parts[0]
                for part in parts[1:]:
                    total = total + part
            if node._op is None:  # a parameter: its gradient is returned, at full shape
                full = total.solid().expr
                if full in self.arguments:  # never hand back an input's own array
                    full += ".copy()"
                back.append(f"{gname[i]} = " + (f"np.float64({full})" if total.num is not None
                                                 and node.ndim == 0 else full))
                continue
            if total.num is not None or (node.label is None and total.expr.isidentifier()):
                g = total  # a number, or another name for a gradient written already: no line
            else:
                back.append(f"{gname[i]} = {total.expr}")
                g = Sym(gname[i], total.val, _ATOM, self, total.spread)
            inputs = [self.sym[id(p)] if p._op is None else named[id(p)] for p in node.parents]
            y = named[i]
            try:
                local = node._op.backward(g, y, *inputs, *node._args)
            except Exception:  # write a call of the op's backward instead
                tmp = self._fresh(f"_local_{node.op}", {}, numbered=True)
                call = self._call_op(f"_backward_{node.op}", node._op.backward,
                                     [g, y, *inputs], node)
                back.append(f"{tmp} = {call.expr}")
                local = [Sym(f"{tmp}[{k}]", v, _ATOM, self) for k, v in enumerate(call.val)]
            for parent, pg in zip(node.parents, local):
                if id(parent) not in self.needed:
                    continue
                if pg.shape != parent.shape:
                    pg = ops.sum_to(pg, parent.shape)
                contributions.setdefault(id(parent), []).append(pg)
        return back, gname

    def _forward_lines(self, used_in_backward: set) -> list:
        """One line per node, except nodes that can be written inside their only user."""
        order, name, named = self.trace.order, self.name, self.named
        keep = {id(o) for o in (self.trace.loss, *self.trace.outputs)}
        uses = {}
        for node in order:
            for p in node.parents:
                uses[id(p)] = uses.get(id(p), 0) + 1
        fwd, expr = [], {}
        for node in order:
            i = id(node)
            if node._op is None:
                expr[i] = self.sym[i]
                continue
            parents = [expr[id(p)] for p in node.parents]
            sym = self._forward_sym(node, parents)
            inline = (node.label is None and uses.get(i) == 1 and i not in keep
                      and name[i] not in used_in_backward)
            if inline:
                expr[i] = sym
            else:
                fwd.append(f"{name[i]} = {sym.expr}")
                expr[i] = named[i]
        return fwd
