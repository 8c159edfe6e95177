"""``compile``: trace a loss function once, then replay it without building nodes.

    step = compile(lambda x, t: squared_error(net(x), t), x0, t0)
    loss, grads = step(x, t)            # grads line up with step.params
    print(step.source)                  # the forward and backward pass as Python

How it works, in four steps:

1. **Trace.**  ``fn`` runs eagerly, twice, on the example inputs wrapped as
   Values.  The graph it builds is the recipe (and must be the same both
   times).  A leaf that is the same object in both runs lives outside ``fn``
   (the weights): a *parameter*, whose ``.data`` is read afresh on every
   call and whose gradient is returned.  A leaf made inside ``fn`` (the
   ``0.5`` in ``0.5 * e``) is a constant, written into the code
   (``trace.py``).
2. **Write the code** (``numpy_code.py``).  Every op's own ``forward`` and
   ``backward`` (from ``ops``) run once more on *symbols*: stand-ins
   that answer ``+``, ``@``, ``np.exp`` … by writing the expression down
   instead of computing it.  So the generated lines are the ops' math, one
   line per node, named after the nodes' labels: ``u1 = x @ w1 + b1``,
   ``grad_w1 = x.T @ grad_u1``.  Gradients nobody asked for (of the inputs
   and constants) are not computed, and arithmetic on two plain numbers is
   done once while writing (½ · 2 = 1, so the seed's δ reads ``sub1``).
3. **Check.**  The code is run on the example inputs and its gradients are
   compared with eager autograd's (computed first, so an op whose
   ``backward`` is malformed is refused by the engine's own error, naming
   it).  A difference raises: a ``TraceError`` naming your own ops when the
   graph has some (their code ran on symbols, and may do something else
   there), else an ``AssertionError`` (a bug of compile, to report).
4. **Replay.**  A call checks the inputs (as ``Value(...)`` does) and the
   inputs' and parameters' shapes (new shapes are traced afresh) and runs
   the code: plain numpy, no Value nodes.

For training there is a fifth: ``step.sgd(eta)`` (``fused.py``) is one SGD
step per call with the update ``w ← w − η ∂w`` inside the generated code.
For small shapes (the seed's net at batch 1) that code is written on Python
floats, one line per element (``float_code.py``), and the weights stay
floats between calls: numpy's cost per call, not arithmetic, is what a tiny
step spends its time on.

What a trace cannot see is Python deciding something from the numbers
(``if loss.item() > 1: ...``): the code keeps the branch taken when it was
traced.  Turning a Value into a Python number (``item``, ``float``, ``bool``)
while tracing is therefore refused — in the tracing thread (or asyncio task)
only: the flag is a context variable those methods check, so other threads
and nested or overlapping traces are unaffected.  Decisions made from ``.data`` cannot be
intercepted; ``check=True`` traces every call again and refuses any call whose
graph (its op sequence, shapes or constants) differs from the compiled one.
Side effects of ``fn`` (such as a layer remembering its last input) do not
happen on a compiled call.
"""

from __future__ import annotations

import builtins
import inspect
import keyword
from collections.abc import Callable, Sequence

import numpy as np

from ..arguments import as_float64
from ..autograd import backprop
from ..value import Value
from .fused import FusedSGD
from .numpy_code import Generator
from .trace import TraceError, _differs, _Trace, float64_shapes, user_ops

__all__ = ["compile", "CompiledFunction", "TraceError", "FusedSGD"]


# ------------------------------------------------------------------ the compiled function


class _Program:
    """The code for one set of input shapes."""

    def __init__(self, trace: _Trace, persistent, wrt, fname, called=frozenset()):
        gen = Generator(trace, persistent, wrt, fname, called)
        with np.errstate(all="ignore"):  # the symbols' values: a diverging trace says nothing
            self.source = gen.source(fname)
        self.signature = trace.signature(frozenset(map(id, persistent)))
        self.shapes = tuple(v.shape for v in trace.inputs)
        self.key = self.shapes + tuple(p.data.shape for p in persistent)
        self.trace = trace  # for the float code of FusedSGD
        namespace = dict(gen.namespace)
        # (builtins.compile: this module's own `compile` hides Python's)
        exec(builtins.compile(self.source, f"<tinygrad_sine.compile {fname}>", "exec"), namespace)
        self.run = namespace[fname]


class CompiledFunction:
    """``fn`` traced once and written out as numpy code; see :func:`compile`.

    Calling it returns ``(loss, grads)`` (or ``(loss, grads, outputs)`` when
    ``fn`` returned a tuple); ``grads[k]`` is ∂loss/∂``params[k]``.
    ``source`` is the generated code for the example inputs' shapes.
    """

    def __init__(self, fn, example_inputs, wrt=None, check: bool = False):
        if not callable(fn):
            raise TypeError(f"compile: fn must be callable, got {type(fn).__name__}")
        if not example_inputs:
            raise TypeError("compile: give example inputs after fn, e.g. compile(fn, x0, t0)")
        self.fn, self.check = fn, check
        self.names = _input_names(fn, len(example_inputs))
        name = getattr(fn, "__name__", "")
        self.fname = name if name.isidentifier() and not keyword.iskeyword(name) and not (
            name == "np" or name.startswith("_")) else "compiled_step"
        trace, self.persistent = self._trace_twice(example_inputs)
        self.params = self._wrt(wrt, self.persistent)
        program = self._verified(trace, _eager_gradients(trace))
        self._programs = {program.key: program}
        self.source = program.source

    def _trace_twice(self, inputs):
        """Trace ``fn`` twice: the graph, and its parameters (the leaves met both times)."""
        first = _Trace(self.fn, inputs, self.names)
        second = _Trace(self.fn, inputs, self.names)
        everything = frozenset(map(id, first.leaves() + second.leaves()))
        if first.signature(everything) != second.signature(everything):
            raise TraceError(
                f"compile: fn built two different graphs from the same inputs "
                f"({_first_difference(first, second)}); it must be deterministic: pass random "
                "numbers in as inputs instead of drawing them inside fn")
        persistent = []
        for a, b in zip(first.leaves(), second.leaves()):
            if a is b:
                persistent.append(a)
            elif not np.array_equal(a.data, b.data):
                raise TraceError(
                    f"compile: fn makes a leaf{_called(a)} of shape {a.shape} with different "
                    "numbers on each run; make it an input, or create it outside fn")
        return second, persistent

    def _wrt(self, wrt, persistent):
        if wrt is None:
            return list(persistent)
        wrt = list(wrt)
        known = {id(p) for p in persistent}
        for k, p in enumerate(wrt):
            if not isinstance(p, Value) or id(p) not in known:
                raise TraceError(
                    f"compile: wrt[{k}]{_called(p) if isinstance(p, Value) else ''} is not a "
                    "leaf that the loss depends on and that exists outside fn (a parameter); "
                    f"the parameters found are: {', '.join(_describe(q) for q in persistent)}")
        return wrt

    def _verified(self, trace, eager: dict) -> _Program:
        """The code for ``trace``, checked: run on the traced inputs, its loss and gradients
        must be eager autograd's.

        If they are not and the graph has ops of your own, the code is written again
        calling those ops' own ``forward`` and ``backward`` (on arrays, as eager
        autograd does) instead of writing them out: an op whose code does something
        else on compile's symbols (it looks at the type of its inputs, say) then
        gives eager's numbers too.  A difference left is a ``TraceError`` naming
        your ops, or, with none in the graph, an ``AssertionError``: a bug of compile.
        """
        program = _Program(trace, self.persistent, self.params, self.fname)
        what = self._difference(program, trace, eager)
        if what is None:
            return program
        mine = user_ops(trace)
        if mine:
            called = frozenset(op for op, _ in mine)
            program = _Program(trace, self.persistent, self.params, self.fname, called)
            if self._difference(program, trace, eager) is None:
                return program
        raise _differs(what, trace, program.source)

    def _difference(self, program, trace, eager: dict) -> str | None:
        """What of the program's results differs from eager autograd's (None: nothing)."""
        with np.errstate(all="ignore"):
            loss, grads = program.run(*[v.data for v in trace.inputs],
                                      *[p.data for p in self.persistent])[:2]
        for p, g in zip(self.params, grads):
            want = eager.get(p, np.zeros(p.shape))
            with np.errstate(all="ignore"):  # nan and inf (a diverging run) must agree too
                same = np.shape(g) == p.shape and np.allclose(g, want, rtol=1e-9, atol=1e-12,
                                                              equal_nan=True)
            if not same:
                return f"gradient for {_describe(p)}"
        with np.errstate(all="ignore"):
            same = np.allclose(loss, trace.loss.data, rtol=1e-12, atol=0, equal_nan=True)
        return None if same else "loss"

    def __call__(self, *inputs):
        data = inputs  # float64 arrays pass straight through; anything else is converted
        if float64_shapes(inputs) is None:
            data = [self._as_input(x, k) for k, x in enumerate(inputs)]
        params = [p.data for p in self.persistent]
        program = self._programs.get(tuple([x.shape for x in data] + [w.shape for w in params]))
        if program is None or self.check:
            if len(inputs) != len(self.names):
                raise TypeError(f"compile: the compiled {self.fname} takes {len(self.names)} "
                                f"inputs ({', '.join(self.names)}), got {len(inputs)}")
            if program is None:  # new shapes: trace again
                program = self._program_for(data)
            else:
                self._check(program, _Trace(self.fn, data, self.names))
        return program.run(*data, *params)

    def _as_input(self, x, k: int):
        """An input as a float64 array (one number: np.float64), refused as ``Value(x)`` refuses."""
        if isinstance(x, Value):
            return x.data
        name = self.names[k] if k < len(self.names) else f"in{k}"
        return as_float64(x, f"compile: input {name} of {self.fname}")

    def sgd(self, eta: float, float_limit: int | None = None) -> FusedSGD:
        """One SGD step per call, ``w ← w − η ∂w`` built into the generated code; see FusedSGD.

        ``float_limit``: the most numbers in the graph for which the step is code on
        Python floats (default ``fused.FLOAT_LIMIT``; 0 means numpy code always).
        """
        return FusedSGD(self, eta, float_limit)

    def _program_for(self, data):
        trace, persistent = self._trace_twice(data)
        if {id(p) for p in persistent} != {id(p) for p in self.persistent}:
            shapes = ", ".join(str(np.shape(x)) for x in data)
            raise TraceError(
                f"compile: for inputs of shapes {shapes} fn uses other parameters than for the "
                "example inputs (its control flow depends on the shapes); compile it "
                "separately for each case")
        program = self._verified(trace, _eager_gradients(trace))
        self._programs[program.key] = program
        return program

    def _check(self, program, trace):
        now = trace.signature(frozenset(map(id, self.persistent)))
        if now != program.signature:
            raise TraceError(
                f"compile: for these inputs fn builds a different graph than it did when "
                f"compiled ({_first_difference_sig(program.signature, now)}). "
                "Its Python control flow depends on the data, which compiled code cannot "
                "follow; branch with ops instead, or call fn eagerly")
        leaves = trace.leaves()
        for p in self.persistent:
            if not any(p is q for q in leaves):
                raise TraceError(f"compile: for these inputs fn no longer uses {_describe(p)}; "
                                 "its control flow depends on the data")

    def sources(self) -> dict:
        """The generated code for every input shape seen so far, by shapes."""
        return {p.shapes: p.source for p in self._programs.values()}

    def __repr__(self):
        return (f"<compiled {self.fname}({', '.join(self.names)}) with "
                f"{len(self.params)} parameters>")


def _eager_gradients(trace: _Trace) -> dict:
    """Eager autograd's gradients on the trace, the self-check's expectation.

    Run before any code is written, so an op whose ``backward`` is wrong
    (the wrong number of gradients, a bare ``None``) is refused by the
    engine's own error, naming the op, rather than stumbling the generator.
    """
    with np.errstate(all="ignore"):
        return backprop(trace.loss, np.ones(trace.loss.shape)[()])[1]


def _input_names(fn, n: int) -> list[str]:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    names = names[:n] if len(names) >= n else [f"in{k}" for k in range(n)]
    return [name + "_" if name == "np" else name for name in names]  # np: the code's numpy


def _called(v) -> str:
    return f" (label {v.label!r})" if v.label else ""


def _describe(v) -> str:
    return v.label or f"an unlabelled leaf of shape {v.shape}"


def _first_difference(a: _Trace, b: _Trace) -> str:
    everything = frozenset(map(id, a.leaves() + b.leaves()))
    return _first_difference_sig(a.signature(everything), b.signature(everything))


def _first_difference_sig(a: list, b: list) -> str:
    def show(entry):
        if entry[0] == "leaf":
            return f"a leaf of shape {entry[1]}" + (" (a constant)" if len(entry) > 2 else "")
        if entry[0] == "input":
            return f"input {entry[1]} of shape {entry[2]}"
        return f"'{entry[0]}' of shape {entry[3]}"
    for k, (x, y) in enumerate(zip(a, b)):
        if x[:2] == y[:2] == ("leaf", x[1]) and x != y:
            return f"node {k}: the constant of shape {x[1]} now has other numbers"
        if x != y:
            return f"node {k}: compiled {show(x)}, now {show(y)}"
    return f"compiled {len(a)} nodes, now {len(b)}"


def compile(
    fn: Callable[..., Value],
    *example_inputs,
    wrt: Sequence[Value] | None = None,
    check: bool = False,
) -> CompiledFunction:
    """Trace ``fn`` on ``example_inputs`` and return it as generated numpy code.

    ``fn`` takes arrays (or numbers) and returns a scalar loss Value, or a
    tuple ``(loss, *outputs)``.  The compiled function takes new inputs of the
    same shapes and returns ``(loss, grads)`` — or ``(loss, grads, outputs)``
    — with ``grads[k]`` the gradient for ``params[k]``: by default every leaf
    the loss depends on that exists outside ``fn`` (a network's weights),
    in the order the graph meets them; ``wrt`` chooses them.  ``.grad`` is
    not touched and no Value nodes are built: update with
    ``p.data -= eta * g``, or let ``step.sgd(eta)`` (a :class:`FusedSGD`)
    do the update inside the generated code — on Python floats, for small
    shapes, which is several times faster.  Inputs and parameters of new
    shapes are traced again; inputs are refused as ``Value(...)`` refuses
    them (a string, a complex number, None).  ``check=True`` retraces every
    call and raises :class:`TraceError` if the graph differs (data-dependent
    Python control flow); it is slow.

    >>> w = Value([[0.5], [-1.0]], label="w")
    >>> step = compile(lambda x: ((x @ w).tanh() ** 2).sum(), np.ones((1, 2)))
    >>> loss, (grad_w,) = step(np.array([[1.0, 0.0]]))
    >>> print(step.source.splitlines()[3])
        tanh1 = np.tanh(x @ w)
    """
    return CompiledFunction(fn, example_inputs, wrt=wrt, check=check)
