"""Random programs over every op of the engine, run four ways: the differential test of compile.

A *program* is a loss function ``fn(*inputs)`` built from a few random steps
over a pool of nodes (its inputs, its parameters and what earlier steps
made), with broadcasting shapes, nodes used more than once, constants on
either side of an operator, and custom ops whose backward returns a tuple, a
bare gradient, None or a constant.  :func:`check` runs one program

* eagerly (the expectation: loss, gradients, and the weights after one SGD
  step ``w − η ∂w``);
* as ``compile``'s numpy code, traced at one input (zeros, ones or random
  numbers) and called at another;
* as ``compile(...).sgd(η)`` on Python floats (where the float code can
  write it) and as ``.sgd(η, float_limit=0)`` on numpy code,

and returns how far each is from eager, or raises naming the first
disagreement.  ``compile`` may also refuse a program, with its own
``TraceError``.

**One line an op.**  ``OPS`` lists every op as ``(op class, how to use it)``;
the helpers ``unary``, ``binary``, ``reduction``, ``along_axis`` and
``special`` say what operands it takes.  An op added to the engine is tested
once it has a line here; :func:`missing_ops` names the ops of
``tinygrad_sine.ops`` that have none yet (``benchmarks/long_checks.py``
refuses to pass while there are some).

**The tolerance.**  Compiled code does the same float64 arithmetic as eager
autograd, but not always in the same order: a sum of gradients from several
uses may be added in another order, BLAS's ``@`` against the float code's
written-out sums, ``0.5 * 2.0`` folded to ``1.0`` while writing.  Each such
reordering costs a unit or two in the last place (eps = 2.2e-16) of the
largest number summed, and a program of at most ten steps over numbers of
moderate size carries that through without amplifying it much: over 5,000
programs the largest difference seen is 3 units (6.7e-16).  So two results
agree when ``|compiled − eager| ≤ 1e-12 · max(1, max |eager|)`` over each
array (about 4,500 units in the last place: a margin for the reordering,
nowhere near a real mistake), and nan must meet nan, ±inf the same inf.
A real mistake (a missing term, a wrong broadcast, a dropped element, a
gradient of the wrong sign) is off by the size of the numbers themselves.
The largest difference seen is reported (``benchmarks/long_checks.py``
prints it).
"""

from __future__ import annotations

import operator

import numpy as np

from tinygrad_sine import TraceError, Value, apply, compile, grad, ops
from tinygrad_sine.functions import concatenate, maximum, minimum, stack, where
from tinygrad_sine.nn import squared_error

TOLERANCE = 1e-12  # relative to each array's largest number (at least 1): see above
ETA = 0.05
SHAPES = [(), (1,), (3,), (1, 3), (2, 1), (2, 3)]  # all broadcast with each other


# ------------------------------------------------------------------ custom ops, four kinds


class SquareBare(ops.Op):
    "y = x²;  ∂x = ∂y · 2x   (the gradient returned bare)"

    name = "square_bare"
    forward = staticmethod(lambda x: x * x)
    backward = staticmethod(lambda g, y, x: g * 2 * x)


class MulTuple(ops.Op):
    "y = a · b;  ∂a = ∂y · b,  ∂b = ∂y · a   (a tuple)"

    name = "mul_tuple"
    forward = staticmethod(lambda a, b: a * b)
    backward = staticmethod(lambda g, y, a, b: (g * b, g * a))


class MulNone(ops.Op):
    "y = a · b;  ∂a = ∂y · b,  ∂b: None (no gradient)"

    name = "mul_none"
    forward = staticmethod(lambda a, b: a * b)
    backward = staticmethod(lambda g, y, a, b: (g * b, None))


class StraightThrough(ops.Op):
    "y = round(x);  ∂x = 1   (a constant gradient that ignores ∂y)"

    name = "round_ste"
    forward = staticmethod(lambda x: np.round(x))
    backward = staticmethod(lambda g, y, x: (np.ones(np.shape(x)),))


# ------------------------------------------------------------------ kinds of op


def _pick(rng, pool, fits=lambda v: True):
    """The index of a random node of the pool that ``fits`` (None if none does)."""
    choices = [k for k, v in enumerate(pool) if fits(v)]
    return int(rng.choice(choices)) if choices else None


def _constant(rng, shape):
    """A number (a Python float) or an array that broadcasts with ``shape``."""
    if rng.random() < 0.5:
        return float(np.round(rng.uniform(-2, 2), 2))
    return np.round(rng.uniform(-1.5, 1.5, SHAPES[rng.integers(len(SHAPES))]), 2)


def unary(f):
    """An op of one node: ``f(a)``."""

    def make(rng, pool):
        i = _pick(rng, pool)
        return lambda nodes: f(nodes[i])

    return make


def binary(f):
    """An op of two operands with broadcasting: two nodes (maybe the same one), or a node and
    a constant (a number or an array) on either side."""

    def make(rng, pool):
        i = _pick(rng, pool)
        kind = rng.integers(3)
        if kind == 0:
            j = _pick(rng, pool, lambda v: _broadcasts(v.shape, pool[i].shape))
            return lambda nodes: f(nodes[i], nodes[j])
        c = _constant(rng, pool[i].shape)
        if kind == 1:
            return lambda nodes: f(nodes[i], c)
        return lambda nodes: f(c, nodes[i])

    return make


def reduction(f):
    """``f(a, axis, keepdims)``: over all axes or one (negative ones too)."""

    def make(rng, pool):
        i = _pick(rng, pool)
        ndim, keep = pool[i].ndim, bool(rng.integers(2))
        axis = None if ndim == 0 or rng.random() < 0.4 else int(rng.integers(-ndim, ndim))
        return lambda nodes: f(nodes[i], axis, keep)

    return make


def along_axis(f):
    """``f(a, axis)`` of a node with at least one axis (softmax-like: the shape stays)."""

    def make(rng, pool):
        i = _pick(rng, pool, lambda v: v.ndim > 0)
        if i is None:
            return None
        axis = int(rng.integers(-pool[i].ndim, pool[i].ndim))
        return lambda nodes: f(nodes[i], axis)

    return make


def special(make_with_rng):
    """An op with its own rules for operands: ``make_with_rng(rng, pool)`` returns the step
    (a function of the nodes) or None when the pool has nothing it can use."""
    return make_with_rng


def _broadcasts(a, b) -> bool:
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


# ------------------------------------------------------------------ the ops with rules of their own


_MADE: list = []  # the parameters the ops below make (a matrix for @): the program's too


def _param(numbers) -> Value:
    _MADE.append(Value(numbers))
    return _MADE[-1]


def _matmul(rng, pool):
    i = _pick(rng, pool, lambda v: v.ndim >= 1)
    if i is None:
        return None
    n = pool[i].shape[-1]
    w = _param(rng.uniform(-1, 1, (n, 3) if rng.random() < 0.7 else (n,)))
    if rng.random() < 0.5:
        return lambda nodes: nodes[i] @ w
    m = _param(rng.uniform(-1, 1, (3, n)))
    return lambda nodes: m @ nodes[i] if nodes[i].ndim == 1 else (nodes[i] @ m.T) @ w


def _reshape(rng, pool):
    i = _pick(rng, pool)
    shape = pool[i].shape
    size = int(np.prod(shape))
    new = [(-1,), (1, size), (size, 1), (), (1,)][rng.integers(5)]
    if int(np.prod([d for d in new if d != -1])) != size and -1 not in new:
        new = (-1,)
    return lambda nodes: nodes[i].reshape(new)


def _transpose(rng, pool):
    i = _pick(rng, pool, lambda v: v.ndim >= 2)
    if i is None:
        return None
    axes = () if rng.random() < 0.5 else tuple(rng.permutation(pool[i].ndim).tolist())
    return lambda nodes: nodes[i].transpose(*axes)


def _broadcast_to(rng, pool):
    i = _pick(rng, pool, lambda v: _broadcasts(v.shape, (2, 3)) and v.ndim <= 2)
    if i is None:
        return None
    target = np.broadcast_shapes(pool[i].shape, (2, 3) if rng.random() < 0.7 else (3,))
    return lambda nodes: nodes[i].broadcast_to(target)


def _getitem(rng, pool):
    i = _pick(rng, pool, lambda v: v.ndim >= 1)
    if i is None:
        return None
    n = pool[i].shape[0]
    index = [slice(None, None, -1), 0, np.array([0] * 2 + [n - 1]), slice(0, 1)][rng.integers(4)]
    return lambda nodes: nodes[i][index]


def _index_add(rng, pool):  # GetItem's backward as an op (what second derivatives build)
    i = _pick(rng, pool, lambda v: v.ndim == 1)
    if i is None:
        return None
    n = pool[i].shape[0]
    index = np.array([0] * n)  # every element into one place: repeats add up
    return lambda nodes: apply(ops.IndexAdd, nodes[i], args=((2,), index))


def _squared_error(rng, pool):
    i = _pick(rng, pool)
    kind = rng.integers(2)
    if kind == 0:
        j = _pick(rng, pool, lambda v: v.shape == pool[i].shape)
        return lambda nodes: squared_error(nodes[i], nodes[j])
    t = rng.uniform(-1, 1, pool[i].shape)
    return lambda nodes: squared_error(nodes[i], t)


def _cross_entropy(rng, pool):
    from tinygrad_sine.nn import cross_entropy

    i = _pick(rng, pool, lambda v: v.ndim in (1, 2) and v.shape[-1] >= 2)
    if i is None:
        return None
    shape = pool[i].shape
    reduction = ["sum", "mean"][rng.integers(2)]
    if len(shape) == 2 and rng.random() < 0.5:
        t = rng.integers(0, shape[-1], shape[0])  # class indices
    else:
        t = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1] or None)  # probabilities
    return lambda nodes: cross_entropy(nodes[i], t, reduction)


def _where(rng, pool):
    i = _pick(rng, pool)
    shape = SHAPES[rng.integers(len(SHAPES))]
    if not _broadcasts(shape, pool[i].shape):
        shape = pool[i].shape
    cond = rng.random(shape) < 0.5  # fixed booleans (a comparison would be refused in fn)
    j = _pick(rng, pool, lambda v: _broadcasts(v.shape, np.broadcast_shapes(shape, pool[i].shape)))
    if rng.random() < 0.3:
        c = _constant(rng, pool[i].shape)
        return lambda nodes: where(cond, c, nodes[i])
    return lambda nodes: where(cond, nodes[i], nodes[j])


def _concatenate(rng, pool):
    i = _pick(rng, pool, lambda v: v.ndim >= 1)
    if i is None:
        return None
    shape = pool[i].shape
    axis = int(rng.integers(-len(shape), len(shape)))
    j = _pick(rng, pool, lambda v: v.ndim == len(shape) and all(
        a == b for k, (a, b) in enumerate(zip(v.shape, shape)) if k != axis % len(shape)))
    c = np.round(rng.uniform(-1, 1, shape), 2)
    n = 2 + int(rng.random() < 0.3)  # now and then a constant joined too
    return lambda nodes: concatenate([nodes[i], nodes[j], c][:n], axis=axis)


def _stack(rng, pool):
    i = _pick(rng, pool)
    j = _pick(rng, pool, lambda v: v.shape == pool[i].shape)
    axis = int(rng.integers(-pool[i].ndim - 1, pool[i].ndim + 1))
    return lambda nodes: stack([nodes[i], nodes[j]], axis=axis)


def _squeeze(rng, pool):
    i = _pick(rng, pool, lambda v: 1 in v.shape)
    if i is None:
        return None
    shape = pool[i].shape
    axis = None if rng.random() < 0.5 else shape.index(1) - len(shape) * int(rng.integers(2))
    return lambda nodes: nodes[i].squeeze(axis)


# ------------------------------------------------------------------ the table: one line an op

OPS = [
    (ops.Add, binary(operator.add)),
    (ops.Sub, binary(operator.sub)),
    (ops.Mul, binary(operator.mul)),
    (ops.Div, binary(lambda a, b: a / (b * b + 0.5))),  # the divisor kept away from 0
    (ops.Div, binary(operator.truediv)),  # and not: 1/0 is inf in every engine
    (ops.Neg, unary(operator.neg)),
    (ops.Pow, unary(lambda a: a**3)),
    (ops.Pow, unary(lambda a: a**2)),
    (ops.Pow, unary(lambda a: (a * a + 0.25) ** -0.5)),
    (ops.Pow, unary(lambda a: a**0.5)),  # a negative base: nan in every engine
    (ops.Pow, unary(lambda a: a**0)),
    (ops.PowValue, binary(lambda a, b: (a * a + 0.5) ** b)),
    (ops.PowValue, unary(lambda a: 2.0**a)),  # a number raised to a Value
    (ops.Matmul, special(_matmul)),
    (ops.Exp, unary(lambda a: a.exp())),
    (ops.Log, unary(lambda a: (a * a + 0.5).log())),
    (ops.Sin, unary(lambda a: a.sin())),
    (ops.Cos, unary(lambda a: a.cos())),
    (ops.Tanh, unary(lambda a: a.tanh())),
    (ops.Sigmoid, unary(lambda a: a.sigmoid())),
    (ops.Relu, unary(lambda a: a.relu())),
    (ops.Identity, unary(lambda a: a.identity())),
    (ops.Sum, reduction(lambda a, axis, keep: a.sum(axis=axis, keepdims=keep))),
    (ops.Mean, reduction(lambda a, axis, keep: a.mean(axis=axis, keepdims=keep))),
    (ops.Reshape, special(_reshape)),
    (ops.Transpose, special(_transpose)),
    (ops.BroadcastTo, special(_broadcast_to)),
    (ops.GetItem, special(_getitem)),
    (ops.IndexAdd, special(_index_add)),
    (ops.SquaredError, special(_squared_error)),
    (ops.CrossEntropy, special(_cross_entropy)),
    (ops.Abs, unary(lambda a: a.abs())),
    (ops.Sqrt, unary(lambda a: (a * a + 0.25).sqrt())),
    (ops.Sqrt, unary(lambda a: a.sqrt())),  # a negative number: nan in every engine
    (ops.Square, unary(lambda a: a.square())),
    (ops.Maximum, binary(maximum)),
    (ops.Minimum, binary(minimum)),
    (ops.Clip, unary(lambda a: a.clip(-0.5, 0.75))),
    (ops.Clip, unary(lambda a: a.clip(hi=0.25))),
    (ops.Where, special(_where)),
    (ops.LeakyRelu, unary(lambda a: a.leaky_relu(0.1))),
    (ops.Max, reduction(lambda a, axis, keep: a.max(axis=axis, keepdims=keep))),
    (ops.Min, reduction(lambda a, axis, keep: a.min(axis=axis, keepdims=keep))),
    (ops.Var, reduction(lambda a, axis, keep: a.var(axis=axis, keepdims=keep))),
    (ops.Std, reduction(lambda a, axis, keep: (a * a + 1.0).std(axis=axis, keepdims=keep))),
    (ops.Logsumexp, reduction(lambda a, axis, keep: a.logsumexp(axis=axis, keepdims=keep))),
    (ops.Softmax, along_axis(lambda a, axis: a.softmax(axis))),
    (ops.LogSoftmax, along_axis(lambda a, axis: a.log_softmax(axis))),
    (ops.Concatenate, special(_concatenate)),
    (ops.Stack, special(_stack)),
    (ops.Squeeze, special(_squeeze)),
    (ops.ExpandDims, unary(lambda a: a.expand_dims(-1))),
    (ops.Flatten, unary(lambda a: a.flatten())),
    # custom ops
    (SquareBare, unary(lambda a: apply(SquareBare, a))),
    (MulTuple, binary(lambda a, b: apply(MulTuple, a, b))),
    (MulNone, binary(lambda a, b: apply(MulNone, a, b))),
    (StraightThrough, unary(lambda a: apply(StraightThrough, a))),
]


def missing_ops() -> list[str]:
    """The op classes of ``tinygrad_sine.ops`` that have no line in ``OPS`` yet."""
    covered = {op for op, _ in OPS}
    engine = {
        v
        for v in vars(ops).values()
        if isinstance(v, type) and issubclass(v, ops.Op) and v is not ops.Op
    }
    return sorted(op.__name__ for op in engine - covered)


# ------------------------------------------------------------------ a program


class Program:
    """A random loss function over inputs and parameters; ``fn`` is what compile is given."""

    def __init__(self, seed: int, steps: int | None = None):
        rng = np.random.default_rng(seed)
        self.seed = seed
        self.params = [
            Value(self._numbers(rng, SHAPES[rng.integers(len(SHAPES))]), label=f"p{k}")
            for k in range(rng.integers(1, 4))
        ]
        self.input_shapes = [SHAPES[rng.integers(len(SHAPES))] for _ in range(rng.integers(1, 3))]
        self.example = [self._example(rng, s) for s in self.input_shapes]  # traced here
        self.call = [rng.uniform(-1.5, 1.5, s) for s in self.input_shapes]  # called here
        pool = [Value(x) for x in self.example] + list(self.params)
        self.steps, self.used = [], []
        _MADE.clear()
        for _ in range(steps if steps is not None else rng.integers(2, 8)):
            op, make = OPS[rng.integers(len(OPS))]
            step = make(rng, pool)
            if step is None:
                continue
            try:
                with np.errstate(all="ignore"):
                    pool.append(step(pool))
            except ValueError:  # shapes this op refuses: try another
                continue
            self.steps.append(step)
            self.used.append(op.__name__)
        self.made = list(_MADE)  # parameters too, but not the pool's: see fn
        last = len(pool) - 1
        other = _pick(rng, pool[:-1])
        self.extra = other if rng.random() < 0.5 else None  # a second node in the loss
        self.outputs = rng.random() < 0.3  # fn returns (loss, output)
        self.last = last

    @staticmethod
    def _numbers(rng, shape):
        kind = rng.integers(6)
        if kind == 0:
            return np.zeros(shape)  # a bias that starts at 0
        if kind == 1:
            return np.ones(shape)
        return rng.uniform(-1.5, 1.5, shape)

    def _example(self, rng, shape):
        kind = rng.integers(3)
        return (
            np.zeros(shape)
            if kind == 0
            else np.ones(shape)
            if kind == 1
            else (rng.uniform(-1.5, 1.5, shape))
        )

    def fn(self, *inputs):
        nodes = list(inputs) + list(self.params)
        for step in self.steps:
            nodes.append(step(nodes))
        loss = nodes[-1].sum()
        if self.extra is not None:
            loss = loss + nodes[self.extra].mean() * 0.5
        return (loss, nodes[-1]) if self.outputs else loss


# ------------------------------------------------------------------ running it four ways


class Disagreement(AssertionError):
    pass


def _far(got, want) -> float:
    """How far ``got`` is from ``want``, in units of the tolerance's scale; inf if the shape,
    a nan or an infinity differs."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return np.inf
    if not np.array_equal(np.isnan(got), np.isnan(want)):
        return np.inf
    inf = np.isinf(want) | np.isinf(got)
    if not np.array_equal(got[inf], want[inf]):
        return np.inf
    finite = ~np.isnan(want) & ~inf
    if not finite.any():
        return 0.0
    scale = max(1.0, float(np.max(np.abs(want[finite]))))
    return float(np.max(np.abs(got[finite] - want[finite]))) / scale


def check(program: Program) -> dict:
    """Run ``program`` four ways; return ``{"refused": bool, "worst": float}`` or raise
    :class:`Disagreement` naming the way, the quantity and the program's seed."""
    params, fn = program.params + program.made, program.fn
    start = [np.array(p.data) for p in params]
    with np.errstate(all="ignore"):
        out = fn(*[Value(x) for x in program.call])
        loss = out[0] if isinstance(out, tuple) else out
        grads = [g.data for g in grad(loss, params)]
        want_loss, want_w = loss.data, [s - ETA * g for s, g in zip(start, grads)]
    worst, floats = 0.0, 0

    def agree(what, got, want):
        nonlocal worst
        far = _far(got, want)
        if isinstance(got, (np.ndarray, np.generic)) and got.dtype != np.float64:
            far = np.inf  # a gradient of booleans, say: numbers are float64
        if not far <= TOLERANCE:
            raise Disagreement(
                f"program {program.seed} ({' → '.join(program.used)}): {what} "
                f"differs from eager's: {got!r} against {want!r}"
            )
        worst = max(worst, far)

    def reset():
        for p, s in zip(params, start):
            p.data = s.copy()

    with np.errstate(all="ignore"):
        try:
            step = compile(fn, *program.example)
        except TraceError as err:  # compile's own refusal: it must say what and why
            if not str(err).startswith("compile:") or "differs from eager" in str(err):
                raise Disagreement(f"program {program.seed}: {err}") from None
            return {"refused": True, "worst": 0.0, "floats": 0}
        got = step(*program.call)
        agree("the numpy code's loss", got[0], want_loss)
        by_param = {id(p): g for p, g in zip(step.params, got[1])}
        for k, (p, g) in enumerate(zip(params, grads)):
            agree(f"the numpy code's gradient of p{k}", by_param.get(id(p), np.zeros_like(g)), g)
        for kind, limit in (("floats", 10**6), ("numpy code", 0)):
            reset()
            fused = step.sgd(ETA, float_limit=limit)
            with fused:
                got_loss, _ = fused(*program.call)
            floats += fused.source.startswith("def make(")
            agree(f"the SGD step's loss ({kind})", got_loss, want_loss)
            updated = {id(p) for p in step.params}
            for k, (p, w, s) in enumerate(zip(params, want_w, start)):
                agree(f"p{k} after the SGD step ({kind})", p.data, w if id(p) in updated else s)
        reset()
    return {"refused": False, "worst": worst, "floats": floats}


def run(seeds) -> dict:
    """``check`` every program of ``seeds``; the counts and the largest difference seen."""
    done = refused = floats = 0
    worst = 0.0
    for seed in seeds:
        result = check(Program(seed))
        done += 1
        refused += result["refused"]
        floats += result["floats"]
        worst = max(worst, result["worst"])
    return {"programs": done, "refused": refused, "on floats": floats, "worst": worst}
