"""``FusedSGD``: a compiled loss turned into a training step, the SGD update inside the code.

    fused = compile(loss, x0, t0).sgd(0.1)
    for x, t in batches:
        loss, (y,) = fused(x, t)      # forward, backward and w ← w − η ∂w
    fused.write_back()                # the weights, back into the parameters' .data

For small shapes (at most ``FLOAT_LIMIT`` numbers in the whole graph: the
seed's 1-3-1 net up to a batch of 16, a 1-8-1 net up to 4) the step is code
on Python floats (``float_code.py``) and the weights stay floats inside it
between calls, so the parameters' ``.data`` is only brought up to date by
``write_back()`` (or on leaving a ``with fused:`` block, or when a call
raises).  An assignment to a parameter's ``.data`` between two calls (a
reset, a loaded checkpoint) is seen by the data-change clock (one integer
compared per call): the next call reads the weights again, and neither it
nor ``write_back()`` overwrites what was assigned (an in-place write such
as ``w.data[0] = 1`` is not seen: assign a new array).  For larger shapes
the step is the numpy code of ``compile`` followed by ``p.data -= η g``,
and ``.data`` is always current.  A loss with no parameters gives its
loss and updates nothing, as ``SGD([])`` does.

A Ctrl-C during a float step writes back the weights as they are: before
the update lines, the last step's; after them, this step's.  The update
lines (``w1_0_0 -= 0.1 * grad_w1_0_0`` …) call no function, and CPython
acts on a Ctrl-C only at a call or a loop's jump back, so it does not land
between two of them there and a step is not left half applied.  (They stay
one line a weight, as the post writes the update, rather than one tuple
assignment.)

The limit was chosen by measurement (``python benchmarks/bench.py --only
fused`` prints the comparison): a float step costs about 0.05 µs per number
in the graph (1.6 µs for the seed's 25 numbers at batch 1), a numpy step
about 20 µs whatever the size up to a few hundred numbers.  On this machine
the two crossed between 340 and 500 numbers over several runs (1-3-1 at
batch 16, 235 numbers: 15 µs floats, 19 numpy; at batch 32, 459 numbers:
19–26 µs floats, 20–28 numpy).  300 keeps a margin below the crossing, and
the source short enough to read.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from .. import value as _value
from ..value import Value
from .float_code import FUNCTIONS, FloatGenerator, NotUnrollable
from .trace import _FLOAT64, _differs, float64_shapes, user_ops

FLOAT_LIMIT = 300  # numbers in the graph (all nodes' sizes added) up to which floats are used

class _FloatProgram:
    """The generated float code for one set of shapes, and how to feed it."""

    def __init__(self, source: str, trace, persistent: list, wrt: list):
        self.source = source
        namespace = dict(FUNCTIONS)
        exec(builtins.compile(source, "<tinygrad_sine.compile sgd_step>", "exec"), namespace)
        self.make = namespace["make"]
        self.shapes = tuple(v.shape for v in trace.inputs)
        self.one = tuple(v.size == 1 for v in trace.inputs)
        self.param_shapes = tuple(p.data.shape for p in persistent)
        self.persistent = persistent
        wanted = {id(p) for p in wrt}
        self.slots, start = [], 0  # (param, start, stop) of each updated parameter's floats
        for p in persistent:
            if id(p) in wanted:
                self.slots.append((p, start, start + p.size))
            start += p.size
        self.step = self.weights = None

    def load(self) -> None:
        """Read the parameters' .data into a fresh closure: the weights are floats from now.

        ``clock`` notes the data-change clock (``value._data_changes``, which
        every assignment to some ``v.data`` advances) and ``versions`` each
        parameter's last assignment, so that an assignment made while the
        floats hold the weights (a reset, a loaded checkpoint) is seen.
        """
        floats = [x for p in self.persistent for x in np.asarray(p.data).ravel().tolist()]
        self.step, self.weights = self.make(*floats)
        self.clock = _value._data_changes
        self.versions = [p._version for p in self.persistent]

    def assigned(self) -> list:
        """The parameters whose ``.data`` was assigned since ``load``."""
        return [p for p, v in zip(self.persistent, self.versions) if p._version != v]

    def unpack(self, inputs) -> list | None:
        """The inputs as the flat list of floats the step takes; None if they do not fit."""
        if len(inputs) != len(self.shapes):
            return None
        out = []
        for x, shape, one in zip(inputs, self.shapes, self.one):
            if type(x) is np.ndarray and x.dtype is _FLOAT64 and x.shape == shape:
                if one:
                    out.append(x.item())
                else:
                    out.extend(x.ravel().tolist())
            elif (type(x) is float or type(x) is np.float64) and shape == ():
                out.append(float(x))
            else:
                return None
        return out

    def store(self) -> None:
        """The floats, back into the updated parameters' .data: into the same arrays, as
        eager SGD updates them in place (a 0-d parameter gets a new np.float64).  A parameter
        whose .data was assigned since ``load`` keeps what was assigned: that is newer."""
        floats = self.weights()
        assigned = {id(p) for p in self.assigned()}
        for p, a, b in self.slots:
            if id(p) in assigned:
                continue
            d = p.data
            if d.shape:
                d[...] = np.reshape(floats[a:b], d.shape)
                p.data = d  # the same array: the assignment marks the Value as changed
            else:
                p.data = np.float64(floats[a])
        self.step = self.weights = None


class FusedSGD:
    """One SGD step per call: ``loss, outputs = fused(*inputs)``; see this module's notes.

    Made by ``compile(fn, ...).sgd(eta)``.  Each call runs ``fn``'s forward
    and backward pass as generated code and then ``w ← w − η ∂w`` for every
    parameter of ``params`` — what ``SGD(params, eta).step()`` does after
    ``loss.backward()``, with the same numbers.  It returns the loss (before
    the update) as a float and ``fn``'s extra outputs, each of its output's
    shape: nested lists of floats from the float code, numpy arrays from the
    numpy code (``np.asarray(y)`` gives an array either way).  ``source`` is
    the code of the latest step (for the latest call's shapes);
    ``write_back()`` puts the weights into ``.data``.

    >>> from tinygrad_sine import compile
    >>> from tinygrad_sine.nn import SineNet, squared_error
    >>> net = SineNet(seed=0)
    >>> x, t = np.array([[0.5]]), np.array([[0.2]])
    >>> with compile(lambda x, t: squared_error(net(x), t), x, t).sgd(0.1) as fused:
    ...     loss, _ = fused(x, t)
    >>> print([line.strip() for line in fused.source.splitlines() if "u1_2 =" in line][0])
    u1_2 = x_0 * w1_0_2 + b1_2
    """

    def __init__(self, compiled, eta: float, float_limit: int | None = None):
        if isinstance(eta, bool) or not isinstance(eta, (int, float, np.integer, np.floating)) \
                or not math.isfinite(eta) or eta < 0:
            raise ValueError(f"sgd: eta must be a finite number ≥ 0 (the learning rate), "
                             f"got {eta!r}")
        if float_limit is None:
            float_limit = FLOAT_LIMIT
        if isinstance(float_limit, bool) or not isinstance(float_limit, (int, np.integer)) \
                or float_limit < 0:
            raise ValueError(f"sgd: float_limit must be a whole number ≥ 0 (numbers in the "
                             f"graph up to which float code is used) or None, got {float_limit!r}")
        self.compiled, self.eta, self.float_limit = compiled, float(eta), int(float_limit)
        self.params = compiled.params
        self._floats: dict = {}  # shapes -> _FloatProgram, or None where numpy code is used
        self._sources: dict = {}  # shapes -> the code used for them (float or numpy)
        self._unchecked: dict = {}  # shapes -> float code whose check overflowed: tried again
        self._live: _FloatProgram | None = None  # the program holding the weights now
        self._numpy_shapes = None  # the input shapes of the last call that ran numpy code
        self.source = None

    def __call__(self, *inputs):
        live = self._live
        if live is not None and live.clock != _value._data_changes:  # some .data was assigned
            if live.assigned():  # ours: the weights are read again (the others kept)
                self.write_back()
                live = None
            else:
                live.clock = _value._data_changes
        if live is not None:
            args = live.unpack(inputs)
            if args is not None:
                try:  # (what _run does, written out: a call less on every step's path)
                    return live.step(*args)
                except (ArithmeticError, ValueError):
                    pass  # Python floats refuse what numpy allows: this step in numpy, below
                except BaseException:
                    self.write_back()
                    raise
            self.write_back()  # (or other shapes or kinds of input: find the code for them)
            if args is not None:
                return self._numpy_step(inputs)
        elif self._numpy_shapes is not None and float64_shapes(inputs) == self._numpy_shapes:
            return self._numpy_step(inputs)  # as last time: numpy code (it checks the rest)
        program, data, final = self._float_program(inputs)
        if program is None:
            self._numpy_shapes = float64_shapes(data) if final else None
            return self._numpy_step(data)
        self._numpy_shapes = None
        program.load()
        self._live = program
        return self._run(program, program.unpack(data), data)

    def _run(self, program: _FloatProgram, args: list, inputs):
        try:
            return program.step(*args)
        except (ArithmeticError, ValueError):  # Python floats refuse what numpy allows
            self.write_back()  # (an overflow in x ** 2): this step in numpy, as eager does it
            return self._numpy_step(inputs)
        except BaseException:
            self.write_back()
            raise

    def write_back(self) -> None:
        """Put the current weights into the parameters' ``.data`` (a no-op when they are there)."""
        if self._live is not None:
            live, self._live = self._live, None
            live.store()

    def __enter__(self) -> FusedSGD:
        return self

    def __exit__(self, *exc) -> bool:
        self.write_back()
        return False

    def _numpy_step(self, inputs):
        out = self.compiled(*inputs)
        loss, grads = out[0], out[1]
        for p, g in zip(self.params, grads):
            p.data -= self.eta * g
        return float(loss), (out[2] if len(out) > 2 else ())

    def _float_program(self, inputs) -> tuple[_FloatProgram | None, list, bool]:
        """The float code for these inputs' shapes (written and checked on first use), the
        inputs checked as ``Value(...)`` checks them, and whether that choice is for good
        (False while the check overflows: the next call with these shapes checks again)."""
        compiled = self.compiled
        data = [x.data if isinstance(x, Value) else compiled._as_input(x, k)
                for k, x in enumerate(inputs)]
        params = [p.data for p in compiled.persistent]
        key = tuple(np.shape(x) for x in data) + tuple(np.shape(w) for w in params)
        if key in self._floats:
            self.source = self._sources.get(key, self.source)
            return self._floats[key], data, True
        program = None
        if len(inputs) == len(compiled.names):
            numpy_program = compiled._programs.get(key) or compiled._program_for(data)
            trace = numpy_program.trace
            self._sources[key] = self.source = numpy_program.source
            if not compiled.check and sum(n.size for n in trace.order) <= self.float_limit:
                program = self._unchecked.pop(key, None)
                if program is None:
                    try:
                        source = FloatGenerator(trace, compiled.persistent, self.params,
                                                self.eta).source()
                    except NotUnrollable:
                        source = None
                    if source is not None:
                        try:
                            program = _FloatProgram(source, trace, compiled.persistent,
                                                    self.params)
                        except (SyntaxError, RecursionError, MemoryError):  # too deep for
                            program = None  # Python's parser: numpy code does it in lines
                checked = None if program is None else self._checked(program, numpy_program,
                                                                      data)
                if checked == "later":
                    self._unchecked[key] = program  # an overflow: cannot tell yet
                    return None, data, False
                if checked == "never":  # an op of yours does something else on floats
                    program = None
            if program is not None:
                self._sources[key] = self.source = program.source
        self._floats[key] = program
        return program, data, True

    def _checked(self, program: _FloatProgram, numpy_program, data) -> str:
        """Whether the float step gives the numpy code's loss and updated weights: "yes",
        "later" (an overflow: cannot tell now), or "never" (it does not, and the graph has ops
        of your own, whose code ran on the float code's symbols: numpy code, then; with none,
        the difference is a bug of float_code.py and raises)."""
        params = [np.array(p.data, dtype=np.float64) for p in self.compiled.persistent]
        with np.errstate(all="ignore"):
            out = numpy_program.run(*data, *params)
            program.load()
            try:
                loss, _ = program.step(*program.unpack(data))
            except (ArithmeticError, ValueError):  # cannot tell now: numpy code for these shapes
                return "later"
            floats = program.weights()
            updated = {id(p): g for p, g in zip(self.params, out[1])}
            want = np.concatenate([np.ravel(w - self.eta * updated[id(p)]) if id(p) in updated
                                   else np.ravel(w) for p, w in
                                   zip(self.compiled.persistent, params)] + [np.zeros(0)])
            same = np.allclose(loss, out[0], rtol=1e-9, atol=1e-12, equal_nan=True) and (
                np.allclose(floats, want, rtol=1e-9, atol=1e-12, equal_nan=True))
        program.step = program.weights = None
        if same:
            return "yes"
        if user_ops(numpy_program.trace):
            return "never"
        raise _differs("SGD step on Python floats (float_code.py)", numpy_program.trace,
                       program.source)

    def __repr__(self):
        return f"<FusedSGD eta={self.eta} of {self.compiled!r}>"
