"""The numpy code generator: a traced graph written as one Python function on arrays.

:class:`Generator` runs every node's op on symbols (``symbols.py``), names
the lines after the nodes' labels, and leaves out gradients nobody asked
for.  ``compile/__init__.py`` traces, checks and runs; this file only writes.
"""

from __future__ import annotations

import re

import numpy as np

from .. import ops
from .symbols import _ATOM, Sym, _lit
from .trace import fresh, op_base

# ------------------------------------------------------------------ the generator

# A node used once is written inside its user's line while its expression is at most INLINE
# characters long; past that it gets a line of its own, and a sum of many gradients is
# written over several lines of about LINE characters.  So a chain of a thousand nodes
# (Horner's rule, v = v * 1.0001 + 0.001 …) reads as lines, and Python's parser, which
# refuses expressions nested ~200 deep, never sees one.
INLINE, LINE = 60, 80


class Generator:
    """Writes one trace as a Python function: forward lines, then backward lines.

    ``trace`` is a ``compile._Trace`` (its ``order``, ``inputs``, ``input_ids``,
    ``loss``, ``outputs`` and ``tuple_out``); ``persistent`` are the leaves
    read afresh on each call, ``wrt`` those whose gradients are returned.
    """

    def __init__(self, trace, persistent: list, wrt: list, fname: str, called=frozenset()):
        self.called = called  # ops whose own forward and backward the code calls (see compile)
        self.trace, self.consts, self.namespace = trace, {}, {"np": np}
        self.op_functions = {}  # (kind, op) -> the name of its forward or backward in the code
        self.namespace["_index_add"] = ops.IndexAdd.forward
        self.taken = {"np", "_index_add", fname}
        self.pending, self._temporaries = [], {}  # lines an op's forward asks for (ops.let)
        order = trace.order
        persistent_ids = {id(p) for p in persistent}
        self.persistent = persistent

        self.name = trace.names(persistent, self.taken)
        self.arguments = {self.name[id(n)] for n in order if n._op is None and (
            id(n) in trace.input_ids or id(n) in persistent_ids)}
        self.wrt, self.needed = wrt, trace.needed(wrt)

        # the leaves: inputs and parameters are arguments, made-inside constants are literals
        self.sym = {}
        for node in order:
            if node._op is None:
                if id(node) in trace.input_ids or id(node) in persistent_ids:
                    self.sym[id(node)] = Sym(self.name[id(node)], node.data, _ATOM, self,
                                             view=True)
                elif node.size == 1 and node.ndim == 0:
                    self.sym[id(node)] = Sym(self.name[id(node)], node.data, _ATOM, self)._of(
                        float(node.data))
                else:
                    self.sym[id(node)] = Sym(self.constant(node.data, self.name[id(node)]),
                                              node.data, _ATOM, self, view=True)

    def _fresh(self, base, counters, numbered):
        return fresh(base, self.taken, counters, numbered)

    def constant(self, array, base="const") -> str:
        """A name in the generated code's globals for an array the code needs."""
        for name, value in self.consts.items():
            if value is array:
                return name
        name = self._fresh(base, {}, numbered=base == "const")
        self.consts[name] = array
        self.namespace[name] = array
        return name

    def temporary(self, base: str) -> str:
        """A fresh name for a value an op's forward names with ``ops.let`` (``m``, ``e`` …)."""
        return self._fresh(base, self._temporaries, numbered=False)

    def _forward_sym(self, node, parent_syms):
        """The node's forward as an expression, and the lines it needs first (``ops.let``)."""
        self.pending = []
        try:
            if node._op in self.called:
                raise TypeError("called, not written")
            out = node._op.forward(*parent_syms, *node._args)
            if isinstance(out, Sym):
                return out, self.pending
        except Exception:  # an op numpy cannot write as a formula: call its forward
            pass
        self.pending = []
        return self._call_op("forward", node._op.forward, parent_syms, node), []

    def _call_op(self, kind: str, func, syms, node):
        """A call of the op's own ``forward`` or ``backward`` (``kind``) in the generated code:
        for an op whose code branches on the numbers, or that numpy cannot write down."""
        key = (kind, node._op)
        if key not in self.op_functions:
            base = f"_{kind}_{op_base(node.op)}"
            self.op_functions[key] = self._fresh(base, {}, numbered=False)
            self.namespace[self.op_functions[key]] = func
        fname = self.op_functions[key]
        syms = [s.solid() for s in syms]
        # a number is handed over as np.float64, as eager autograd hands it over
        args = [s.expr if s.num is None else f"np.float64({s.expr})" for s in syms]
        args += [_lit(a, self.constant) for a in node._args]
        val = func(*[s.val if s.num is None else np.float64(s.val) for s in syms], *node._args)
        return Sym(f"{fname}({', '.join(args)})", val, _ATOM, self)

    def _local_gradients(self, node, g, y, inputs) -> list:
        """The op's ``backward`` run on symbols: one Sym (or None) per input.

        A one-input op may return its gradient bare; a gradient that does not
        depend on ``g`` (a straight-through estimator's ``np.ones(x.shape)``)
        is a constant of the code.  Anything else symbols cannot write raises,
        and the caller writes a call of the op's backward instead.
        """
        if node._op in self.called:
            raise TypeError("called, not written")
        local = node._op.backward(g, y, *inputs, *node._args)
        local = list(local) if isinstance(local, (tuple, list)) else [local]
        if len(local) != len(node.parents):
            raise ValueError("not one gradient per input")
        out = []
        for pg in local:
            if pg is not None and not isinstance(pg, Sym):
                if not isinstance(pg, (np.ndarray, np.generic, int, float)) or (
                        np.asarray(pg).dtype.kind not in "fiu"):  # (not an array of symbols)
                    raise TypeError(f"a {type(pg).__name__} among the gradients")
                pg = g._of(np.array(pg, dtype=np.float64))  # a constant: copied once, kept
            out.append(pg)
        return out

    def source(self, fname: str) -> str:
        """The generated function, as text."""
        trace, name = self.trace, self.name
        self.named = {i: Sym(name[i], None, _ATOM, self, view=True) for i in name}
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
            elif i not in contributions:  # every op it feeds gave it None: no gradient
                zeros = np.zeros(node.shape)
                total = (Sym(self.constant(zeros, "zeros"), zeros, _ATOM, self) if node.ndim
                         else Sym("0.0", 0.0, _ATOM, self, num=0.0))
            else:
                parts = contributions.pop(i)
                total = parts[0]
                for part in parts[1:]:  # a long sum is written over several lines
                    if len(total.expr) + len(part.expr) > LINE and not total.expr.isidentifier():
                        back.append(f"{gname[i]} = {total.expr}")
                        total = Sym(gname[i], total.val, _ATOM, self, total.spread, view=True)
                    total = total + part
            if node._op is None:  # a parameter: its gradient is returned, at full shape
                full = total.solid()
                expr = full.expr
                if node.ndim == 0 and (full.num is not None or full.view):
                    expr = f"np.float64({expr})"  # a number of its own, as eager gives
                elif full.view:  # never hand back an array the code did not make for it
                    expr += ".copy()"
                back.append(f"{gname[i]} = {expr}")
                continue
            if total.num is not None or (node.label is None and total.expr.isidentifier()):
                g = total  # a number, or another name for a gradient written already: no line
            else:
                back.append(f"{gname[i]} = {total.expr}")
                g = Sym(gname[i], total.val, _ATOM, self, total.spread, view=True)
            inputs = [self.sym[id(p)] if p._op is None else named[id(p)] for p in node.parents]
            y = named[i]
            try:
                local = self._local_gradients(node, g, y, inputs)
            except Exception:  # write a call of the op's backward instead
                tmp = self._fresh(f"_local_{op_base(node.op)}", {}, numbered=True)
                call = self._call_op("backward", node._op.backward, [g, y, *inputs], node)
                back.append(f"{tmp} = {call.expr}")
                if isinstance(call.val, (tuple, list)):
                    local = [None if v is None else Sym(f"{tmp}[{k}]", v, _ATOM, self, view=True)
                             for k, v in enumerate(call.val)]
                else:  # one input, its gradient returned bare
                    local = [Sym(tmp, call.val, _ATOM, self, view=True)]
            for parent, pg in zip(node.parents, local):
                if pg is None or id(parent) not in self.needed:  # None: no gradient for it
                    continue
                if pg.shape != parent.shape:
                    pg = ops.sum_to(pg, parent.shape)
                contributions.setdefault(id(parent), []).append(pg)
        return back, gname

    def _forward_lines(self, used_in_backward: set) -> list:
        """One line per node, except nodes that can be written inside their only user."""
        order, name, named = self.trace.order, self.name, self.named
        keep = {id(o) for o in (self.trace.loss, *self.trace.outputs)}
        uses = self.trace.uses()
        fwd, expr, inlined = [], {}, set()
        for node in order:
            i = id(node)
            if node._op is None:
                expr[i] = self.sym[i]
                continue
            parents = [expr[id(p)] for p in node.parents]
            temporaries = dict(self._temporaries)
            sym, first = self._forward_sym(node, parents)
            written = "\n".join([*first, sym.expr])
            repeated = [p for p in node.parents if id(p) in inlined and p._op is not None
                        and written.count(expr[id(p)].expr) > 1]
            if repeated:  # a formula that uses an input twice: that input gets its own line
                self.taken -= {line.split(" = ")[0] for line in first}  # the let names, afresh
                self._temporaries = temporaries
                for p in dict.fromkeys(repeated):
                    fwd.append(f"{name[id(p)]} = {expr[id(p)].solid().expr}")
                    expr[id(p)] = named[id(p)]
                sym, first = self._forward_sym(node, [expr[id(p)] for p in node.parents])
            fwd.extend(first)
            inline = (node.label is None and uses.get(i) == 1 and i not in keep
                      and name[i] not in used_in_backward and len(sym.expr) <= INLINE)
            if inline:
                expr[i] = sym
                inlined.add(i)
            else:  # (a number spread over a shape is written at its shape: np.full)
                fwd.append(f"{name[i]} = {sym.solid().expr}")
                expr[i] = named[i]
        return fwd
