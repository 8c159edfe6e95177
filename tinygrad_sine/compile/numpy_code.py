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
from .trace import fresh

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
                    self.sym[id(node)] = Sym(self.name[id(node)], node.data, _ATOM, self)
                elif node.size == 1 and node.ndim == 0:
                    self.sym[id(node)] = Sym(self.name[id(node)], node.data, _ATOM, self)._of(
                        float(node.data))
                else:
                    self.sym[id(node)] = Sym(self.constant(node.data, self.name[id(node)]),
                                              node.data, _ATOM, self)

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
            return node._op.forward(*parent_syms, *node._args), self.pending
        except Exception:  # an op numpy cannot write as a formula: call its forward
            self.pending = []
            return self._call_op(f"_forward_{node.op}", node._op.forward, parent_syms, node), []

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
            elif i not in contributions:  # every op it feeds gave it None: no gradient
                zeros = np.zeros(node.shape)
                total = (Sym(self.constant(zeros, "zeros"), zeros, _ATOM, self) if node.ndim
                         else Sym("0.0", 0.0, _ATOM, self, num=0.0))
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
                    fwd.append(f"{name[id(p)]} = {expr[id(p)].expr}")
                    expr[id(p)] = named[id(p)]
                sym, first = self._forward_sym(node, [expr[id(p)] for p in node.parents])
            fwd.extend(first)
            inline = (node.label is None and uses.get(i) == 1 and i not in keep
                      and name[i] not in used_in_backward)
            if inline:
                expr[i] = sym
                inlined.add(i)
            else:
                fwd.append(f"{name[i]} = {sym.expr}")
                expr[i] = named[i]
        return fwd
