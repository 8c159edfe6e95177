"""Tracing: one eager run of ``fn`` recorded as a graph, and what a trace refuses."""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence
from contextlib import contextmanager

import numpy as np

from ..arguments import as_float64
from ..autograd import enable_grad, topo_order
from ..value import Value, _tracing


class TraceError(ValueError):
    """``fn`` cannot be compiled, or a call does not match what was compiled."""


_FLOAT64 = np.dtype(np.float64)


def float64_shapes(inputs) -> tuple | None:
    """The shapes of the inputs if every one is a float64 array (the quick path); else None."""
    for x in inputs:
        if type(x) is not np.ndarray or x.dtype is not _FLOAT64:
            return None
    return tuple([x.shape for x in inputs])


def fresh(base: str, taken: set, counters: dict, numbered: bool) -> str:
    """A name not in ``taken`` (then added to it): ``base``, or ``base`` with a counter."""
    while True:
        counters[base] = counters.get(base, 0) + 1
        name = f"{base}{counters[base]}" if numbered or counters[base] > 1 else base
        if name not in taken:
            taken.add(name)
            return name


def op_base(op_name: str) -> str:
    """An op's name as the start of a variable name (a user's op may be called "my op")."""
    base = re.sub(r"\W", "_", op_name)
    return base if base and not base[0].isdigit() else "op_" + base


# ------------------------------------------------------------------ tracing


class _Trace:
    """One eager run of ``fn``: its graph, inputs and leaves."""

    def __init__(self, fn, inputs: Sequence, names: Sequence[str]):
        self.inputs = [Value(as_float64(_raw(x), f"compile: input {n}"), label=n)
                       for x, n in zip(inputs, names)]
        with enable_grad(), _no_python_numbers():
            out = fn(*self.inputs)
        outs = out if isinstance(out, tuple) else (out,)
        if not outs or not all(isinstance(o, Value) for o in outs):
            got = ", ".join(type(o).__name__ for o in outs)
            raise TraceError(
                f"compile: fn must return a Value (the loss), or a tuple (loss, *outputs) of "
                f"Values; it returned {got}")
        if outs[0].size != 1:
            raise TraceError(
                f"compile: the loss must be a single number, but fn's result has shape "
                f"{outs[0].shape}; reduce it first, e.g. with .sum()")
        self.loss, self.outputs, self.tuple_out = outs[0], outs[1:], isinstance(out, tuple)
        order, seen = [], set()
        for root in outs:
            for node in topo_order(root):
                if id(node) not in seen:
                    seen.add(id(node))
                    order.append(node)
        self.order = order
        self.index = {id(n): i for i, n in enumerate(order)}
        self.input_ids = {id(v) for v in self.inputs}

    def signature(self, persistent: frozenset = frozenset()) -> list:
        """What the graph is, node by node: op, arguments, parents, shape.

        Leaves not in ``persistent`` (ids) are constants written into the
        code, so their numbers are part of what the graph is.
        """
        sig = []
        for node in self.order:
            if id(node) in self.input_ids:
                where = next(i for i, x in enumerate(self.inputs) if x is node)  # not .index: ==
                entry = ("input", where, node.shape)
            elif node._op is None:
                entry = ("leaf", node.shape) if id(node) in persistent else (
                    "leaf", node.shape, _key((np.asarray(node.data),)))
            else:
                entry = (node.op, _key(node._args),
                         tuple(self.index[id(p)] for p in node.parents), node.shape)
            sig.append(entry)
        return sig

    def leaves(self) -> list:
        return [n for n in self.order if n._op is None and id(n) not in self.input_ids]

    # what both code generators need to know about the graph

    def names(self, persistent: list, taken: set) -> dict:
        """``{id(node): name}``: labels where they make identifiers, else the op's name (or
        param/const for a leaf) and a counter; inputs first.  Adds the names to ``taken``."""
        persistent_ids, name, counters = {id(p) for p in persistent}, {}, {}
        for node in self.inputs + [n for n in self.order if id(n) not in self.input_ids]:
            if id(node) in self.input_ids:
                base = node.label
            elif node._op is None:
                base = "param" if id(node) in persistent_ids else "const"
            else:
                base = op_base(node.op)
            label = node.label
            if label and label.isidentifier() and not keyword.iskeyword(label):
                base = label
            name[id(node)] = fresh(base, taken, counters, numbered=base != label)
        return name

    def needed(self, wrt: list) -> set:
        """The ids of the nodes whose gradient is needed: on a path from a ``wrt`` leaf up to
        the loss."""
        wanted, below_loss = {id(p) for p in wrt}, {id(n) for n in topo_order(self.loss)}
        needed = set()
        for node in self.order:
            if id(node) in below_loss and (
                    id(node) in wanted or any(id(p) in needed for p in node.parents)):
                needed.add(id(node))
        return needed

    def uses(self) -> dict:
        """``{id(node): how many times it is a parent}``; a node used once (and not the loss or
        an output) can be written inside its user's line."""
        uses = {}
        for node in self.order:
            for p in node.parents:
                uses[id(p)] = uses.get(id(p), 0) + 1
        return uses


def user_ops(trace: _Trace) -> list[tuple]:
    """The ops of the graph that are not the engine's own (``ops``): ``(op, "Class ('name')")``."""
    found = {}
    for node in trace.order:
        op = node._op
        if op is not None and not getattr(op, "__module__", "").startswith("tinygrad_sine."):
            found.setdefault(op, f"{op.__qualname__} ('{op.name}')")
    return list(found.items())


def _differs(what: str, trace: _Trace, source: str) -> Exception:
    """The error to raise when the self-check found the code's ``what`` differs from
    eager's: naming the user's ops when the graph has some, else a bug of compile."""
    mine = [shown for _, shown in user_ops(trace)]
    if mine:
        return TraceError(
            f"compile: the generated code's {what} differs from eager autograd's, even with "
            f"your op{'s' if len(mine) > 1 else ''} {', '.join(mine)} called as eager autograd "
            "calls them. An op whose forward or backward depends on anything besides its "
            "arguments (random numbers, a counter, a global that changes) gives other numbers "
            "on every run, which compiled code cannot repeat: make it a function of its "
            "arguments only, or call fn eagerly. If it is such a function, this is a bug of "
            f"compile: please report it with the code:\n{source}"
        )
    return AssertionError(  # pragma: no cover - a bug in this module
        f"compile: the generated code's {what} differs from eager autograd's; "
        f"please report this with the code:\n{source}"
    )


def _raw(x):
    return x.data if isinstance(x, Value) else x


def _key(args) -> tuple:
    """A comparable stand-in for op arguments (arrays by content)."""
    out = []
    for a in args:
        if isinstance(a, np.ndarray):
            out.append(("array", a.shape, a.tobytes()))
        elif isinstance(a, tuple):
            out.append(_key(a))
        else:
            out.append(repr(a))
    return tuple(out)


@contextmanager
def _no_python_numbers():
    """While tracing, ``Value.item``, ``float(v)`` and ``bool(v)`` raise: Python would decide.

    The flag is a context variable (``value._tracing``) that those methods
    check: it is set for this thread (and asyncio task) only, so another
    thread's ``.item()`` is unaffected, and nested traces restore it in order.
    """
    token = _tracing.set(_refuse)
    try:
        yield
    finally:
        _tracing.reset(token)


def _refuse(name: str):
    raise TraceError(
        f"compile: fn turned a Value into a Python number (Value.{name}) while "
        "being traced. A compiled function replays only the ops, so a Python `if`/`while` "
        "on a Value's number would be frozen at the branch taken now. Use ops for such "
        "choices (relu, a 0/1 mask), or move the conversion (e.g. printing) out of fn")
