"""The whole numpy dispatch table against numpy itself, property-based (hypothesis).

Every numpy function a Value answers (``numpy_dispatch.UFUNCS`` and
``FUNCTIONS``) has one row in ``ROWS``: the function and a strategy that
draws a call to it (random shapes, 0-d and empty arrays included; axes as
None, an int or a tuple, negative too; ``keepdims``; which arguments are
Values and which plain arrays or numbers).  For every drawn call:

* if numpy refuses the plain arrays, the Values are refused too, with a
  TypeError or ValueError that names the function (never a number);
* otherwise the result's ``.data`` is numpy's result on the plain arrays:
  the same shape and the same numbers (nan where numpy gives nan);
* and its gradient passes gradcheck (central differences) for every Value
  argument, through a weighted sum of the output; an empty argument or
  output gets an empty or zero gradient, as in PyTorch.

A numpy function added to the table needs one row here (the first test
fails until it has one).  The suite runs a few hundred examples
(derandomized, so a failure repeats); ``benchmarks/long_checks.py`` runs
``check_rows`` with many more, at random.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_sine import Value, grad, gradcheck
from tinygrad_sine.numpy_dispatch import FUNCTIONS, UFUNCS

# ------------------------------------------------------------------ what a call is

REAL = (-2.0, 2.0)  # the numbers drawn: small enough for exp and for central differences
POSITIVE = (0.25, 2.0)  # log's domain, and a power's base
AWAY_FROM_ZERO = "away from zero"  # a divisor: |x| in [0.5, 2]
GRID = "multiples of 1/8"  # for kinks and ties: two numbers are equal or far apart (≫ eps)


@dataclass
class Call:
    """One call: ``arrays`` each passed as a Value, a plain array or a number (``kinds``),
    then the fixed ``extra`` positional arguments and ``kwargs``."""

    arrays: list[np.ndarray]
    kinds: list[str]  # "value", "array", "list" (nested lists) or "number" (0-d, as a float)
    extra: tuple = ()
    kwargs: dict = field(default_factory=dict)
    weights_seed: int = 0
    packed: bool = False  # the arrays go in as one list (np.concatenate, np.stack)

    def plain(self) -> list:
        forms = {"number": float, "list": np.ndarray.tolist}
        args = [forms.get(k, np.asarray)(a) for a, k in zip(self.arrays, self.kinds)]
        return [args] if self.packed else args

    def run(self, func: Callable, values: list[Value]):
        """``func`` on the arguments, the Value ones taken from ``values`` (in order)."""
        given, it = [], iter(values)
        for arg, kind in zip(self.plain()[0] if self.packed else self.plain(), self.kinds):
            given.append(next(it) if kind == "value" else arg)
        return func(*([given] if self.packed else given), *self.extra, **self.kwargs)

    def __repr__(self) -> str:  # hypothesis prints it for a failing example
        args = ", ".join(f"{k} {a.shape}: {a.tolist()!r}" for a, k in zip(self.arrays, self.kinds))
        return f"Call({args}; extra={self.extra!r}; kwargs={self.kwargs!r})"


class Row(NamedTuple):
    """One numpy function: ``call`` draws calls to it; ``grad``: it makes a node to check
    (False: it answers with plain numbers or booleans, compared as they are)."""

    func: Callable
    call: st.SearchStrategy
    grad: bool = True


# ------------------------------------------------------------------ strategies


def _numbers(domain) -> st.SearchStrategy:
    if domain == AWAY_FROM_ZERO:
        return st.floats(0.5, 2.0) | st.floats(-2.0, -0.5)
    if domain == GRID:
        return st.integers(-16, 16).map(lambda k: k / 8)
    return st.floats(*domain, allow_subnormal=False)


def _array(shape, domain=REAL) -> st.SearchStrategy:
    return hnp.arrays(np.float64, shape, elements=_numbers(domain))


def _kinds(shapes, draw) -> list[str]:
    """Which arguments are Values (at least one); the rest plain arrays, nested lists, or
    numbers if 0-d."""
    kinds = [draw(st.sampled_from(["value", "array", "number"] if s == () else
                                  ["value", "array", "list"])) for s in shapes]
    if "value" not in kinds:
        kinds[draw(st.integers(0, len(kinds) - 1))] = "value"
    return kinds


SHAPE = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)


@st.composite
def elementwise(draw, *domains) -> Call:
    """One or more arguments of mutually broadcastable shapes (0-d and empty included)."""
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=len(domains), min_dims=0,
                                                    max_dims=3, min_side=0, max_side=3))
    shapes = shapes.input_shapes
    arrays = [draw(_array(s, d)) for s, d in zip(shapes, domains)]
    return Call(arrays, _kinds(shapes, draw), weights_seed=draw(st.integers(0, 2**16)))


def _axis(draw, ndim: int):
    """None, an int or a tuple of distinct axes (negative too, () included); now and then
    one out of range or repeated (numpy refuses those, and so must a Value)."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from([ndim, -ndim - 1, (0, 0), (0, -ndim), (ndim - 1, -1)]))
    axes = [a - ndim if draw(st.booleans()) else a
            for a in draw(st.permutations(range(ndim)))[:draw(st.integers(0, ndim))]]
    form = draw(st.sampled_from(["none", "int", "tuple"] if ndim else ["none", "tuple"]))
    return None if form == "none" else axes[0] if form == "int" and axes else tuple(axes)


@st.composite
def reduction(draw) -> Call:
    """``np.sum``/``np.mean``: an array, an axis, keepdims; axis positional or by name."""
    shape = draw(SHAPE)
    axis, keepdims = _axis(draw, len(shape)), draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    if draw(st.booleans()):
        return Call([draw(_array(shape))], ["value"], (axis,), {"keepdims": keepdims}, seed)
    return Call([draw(_array(shape))], ["value"], (), {"axis": axis, "keepdims": keepdims}, seed)


@st.composite
def transposition(draw) -> Call:
    """``np.transpose``: no axes, a permutation (tuple or list, negative entries too), or
    for one axis an int."""
    shape = draw(SHAPE)
    ndim = len(shape)
    perm = draw(st.permutations(range(ndim)))
    perm = [p - ndim if draw(st.booleans()) else p for p in perm]
    forms = [None, tuple(perm), list(perm)] + ([perm[0]] if ndim == 1 else [])
    axes = draw(st.sampled_from(forms))
    extra = () if axes is None and draw(st.booleans()) else (axes,)
    return Call([draw(_array(shape))], ["value"], extra, weights_seed=draw(st.integers(0, 2**16)))


@st.composite
def reshaping(draw) -> Call:
    """``np.reshape``: to a shape of the same size (one -1 now and then), an int, a list, or
    numpy ints."""
    shape = draw(SHAPE)
    size = math.prod(shape)
    factors = [d for d in range(1, size + 1) if size % d == 0] or [0]
    d = draw(st.sampled_from(factors))
    targets = [(size,), size, shape[::-1], (1, *shape), (*shape, 1), (d, size // d if d else 3),
               list(shape), tuple(np.int64(n) for n in shape)]
    if size:
        targets += [-1, (d, -1), (-1, d)]
    target = draw(st.sampled_from(targets))
    return Call([draw(_array(shape))], ["value"], (target,),
                weights_seed=draw(st.integers(0, 2**16)))


@st.composite
def matmul_operands(draw) -> Call:
    """``a @ b``: 1-D or stacks of matrices, the stacks broadcasting; sides 0-3."""
    k, n, m = draw(st.integers(0, 3)), draw(st.integers(0, 3)), draw(st.integers(0, 3))
    stacks = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3))
    a_1d, b_1d = draw(st.booleans()), draw(st.booleans())
    a = (k,) if a_1d else (*stacks.input_shapes[0], n, k)
    b = (k,) if b_1d else (*stacks.input_shapes[1], k, m)
    if draw(st.integers(0, 9)) == 0:  # now and then one numpy refuses: 0-d, or not aligned
        a = draw(st.sampled_from([(), (k + 1,), (n, k + 1)]))
    shapes = [a, b]
    return Call([draw(_array(s)) for s in shapes], _kinds(shapes, draw),
                weights_seed=draw(st.integers(0, 2**16)))


@st.composite
def dot_operands(draw) -> Call:
    """``np.dot(a, b)``: any ranks 0-3; the last axis of a meets b's second-to-last."""
    a = draw(SHAPE)
    b = list(draw(SHAPE))
    if a and b and draw(st.integers(0, 9)):  # aligned (np.dot's rule), but now and then not
        b[-2 if len(b) >= 2 else 0] = a[-1]
    shapes = [a, tuple(b)]
    return Call([draw(_array(s)) for s in shapes], _kinds(shapes, draw),
                weights_seed=draw(st.integers(0, 2**16)))


@st.composite
def size_of(draw) -> Call:
    """``np.size(a)`` or ``np.size(a, axis)``."""
    shape = draw(SHAPE)
    extra = (draw(st.integers(-len(shape), len(shape) - 1)),) if shape and draw(
        st.booleans()) else ()
    return Call([draw(_array(shape))], ["value"], extra)


@st.composite
def distinct_reduction(draw, spread: bool = False) -> Call:
    """``np.max``/``np.min``/``np.var``/``np.std``: as ``reduction``, with no two numbers equal
    (a tie shares the gradient, as PyTorch: not central differences' half for three or more).
    ``spread``: at least two numbers per output, or none (the std of one number is 0, and
    its gradient 0/0 = nan, as in PyTorch)."""
    shape = draw(SHAPE)
    axis, keepdims = _axis(draw, len(shape)), draw(st.booleans())
    if spread:
        try:
            axes = range(len(shape)) if axis is None else np.atleast_1d(axis)
            per_output = math.prod(shape[a] for a in axes)
        except (IndexError, TypeError):
            per_output = 0  # a refused axis: numpy refuses, so must a Value
        assume(per_output != 1)
    x = draw(hnp.arrays(np.float64, shape, elements=_numbers(GRID), unique=True))
    seed = draw(st.integers(0, 2**16))
    if draw(st.booleans()):
        return Call([x], ["value"], (axis,), {"keepdims": keepdims}, seed)
    return Call([x], ["value"], (), {"axis": axis, "keepdims": keepdims}, seed)


# bounds for np.clip that a drawn number is never equal to (at a bound the gradient passes
# whole, as PyTorch's clamp: central differences would see half)
LO, HI = -0.7390851332151607, 0.5671432904097838


@st.composite
def clipping(draw) -> Call:
    """``np.clip(a, lo, hi)``: both bounds, or one and None."""
    shape = draw(SHAPE)
    lo, hi = draw(st.sampled_from([(LO, HI), (None, HI), (LO, None)]))
    return Call([draw(_array(shape, GRID))], ["value"], (lo, hi),
                weights_seed=draw(st.integers(0, 2**16)))


@st.composite
def choosing(draw) -> Call:
    """``np.where(cond, a, b)``: cond 0s and 1s (never a Value), the three broadcasting."""
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3,
                                                    min_side=0, max_side=3)).input_shapes
    cond = draw(hnp.arrays(np.float64, shapes[0], elements=st.sampled_from([0.0, 1.0])))
    arrays = [cond] + [draw(_array(s)) for s in shapes[1:]]
    kinds = _kinds(shapes[1:], draw)
    return Call(arrays, ["number" if shapes[0] == () else "array", *kinds],
                weights_seed=draw(st.integers(0, 2**16)))


@st.composite
def joining(draw, new_axis: bool) -> Call:
    """``np.concatenate``/``np.stack``: 1-3 arrays, equal but along the joining axis (for
    stack: all equal); now and then mismatched or an axis out of range (refused alike)."""
    shape = list(draw(hnp.array_shapes(min_dims=0 if new_axis else 1, max_dims=3, min_side=0,
                                       max_side=3)))
    ndim = len(shape) + new_axis
    axis = draw(st.integers(-ndim - 1, ndim)) if draw(st.integers(0, 9)) == 0 else draw(
        st.integers(-ndim, ndim - 1))
    shapes = []
    for _ in range(draw(st.integers(1, 3))):
        s = list(shape)
        if not new_axis and 0 <= axis % max(ndim, 1) < len(s) and -ndim <= axis < ndim:
            s[axis] = draw(st.integers(0, 3))
        shapes.append(tuple(s))
    if draw(st.integers(0, 9)) == 0:
        shapes[-1] = draw(SHAPE)  # most likely mismatched
    arrays = [draw(_array(s)) for s in shapes]
    kinds = _kinds([(1,)] * len(shapes), draw)  # Values and arrays (a number would be 0-d)
    return Call(arrays, kinds, (axis,), packed=True, weights_seed=draw(st.integers(0, 2**16)))


@st.composite
def squeezing(draw) -> Call:
    """``np.squeeze``: a shape with length-1 axes; axis None, one of them, a tuple, or (now
    and then) an axis not of length 1 (refused alike)."""
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=2))
    ones = [i - len(shape) if draw(st.booleans()) else i for i, n in enumerate(shape) if n == 1]
    forms = [None, tuple(ones)] + ones + ([0] if shape else [])
    axis = draw(st.sampled_from(forms))
    extra = () if axis is None and draw(st.booleans()) else (axis,)
    return Call([draw(_array(shape))], ["value"], extra, weights_seed=draw(st.integers(0, 2**16)))


@st.composite
def expanding(draw) -> Call:
    """``np.expand_dims``: an int or a tuple of axes, negative too, now and then out of range."""
    shape = draw(SHAPE)
    ndim = len(shape)
    axis = draw(st.integers(-ndim - 2, ndim + 1) | st.tuples(
        st.integers(-ndim - 2, ndim + 1), st.integers(-ndim - 2, ndim + 1)))
    return Call([draw(_array(shape))], ["value"], (axis,), weights_seed=draw(st.integers(0, 2**16)))


# ------------------------------------------------------------------ the table: one row each

ROWS = [
    Row(np.add, elementwise(REAL, REAL)),
    Row(np.subtract, elementwise(REAL, REAL)),
    Row(np.multiply, elementwise(REAL, REAL)),
    Row(np.true_divide, elementwise(REAL, AWAY_FROM_ZERO)),
    Row(np.power, elementwise(POSITIVE, REAL)),
    Row(np.negative, elementwise(REAL)),
    Row(np.matmul, matmul_operands()),
    Row(np.exp, elementwise(REAL)),
    Row(np.log, elementwise(POSITIVE)),
    Row(np.sin, elementwise(REAL)),
    Row(np.cos, elementwise(REAL)),
    Row(np.tanh, elementwise(REAL)),
    Row(np.sum, reduction()),
    Row(np.mean, reduction()),
    Row(np.transpose, transposition()),
    Row(np.reshape, reshaping()),
    Row(np.dot, dot_operands()),
    Row(np.shape, elementwise(REAL), grad=False),
    Row(np.ndim, elementwise(REAL), grad=False),
    Row(np.size, size_of(), grad=False),
    Row(np.equal, elementwise(REAL, REAL), grad=False),
    Row(np.not_equal, elementwise(REAL, REAL), grad=False),
    Row(np.less, elementwise(REAL, REAL), grad=False),
    Row(np.less_equal, elementwise(REAL, REAL), grad=False),
    Row(np.greater, elementwise(REAL, REAL), grad=False),
    Row(np.greater_equal, elementwise(REAL, REAL), grad=False),
    Row(np.absolute, elementwise(AWAY_FROM_ZERO)),
    Row(np.sqrt, elementwise(POSITIVE)),
    Row(np.square, elementwise(REAL)),
    Row(np.maximum, elementwise(GRID, GRID)),  # a tie: half each, as central differences see
    Row(np.minimum, elementwise(GRID, GRID)),
    Row(np.clip, clipping()),
    Row(np.where, choosing()),
    Row(np.max, distinct_reduction()),
    Row(np.amax, distinct_reduction()),
    Row(np.min, distinct_reduction()),
    Row(np.amin, distinct_reduction()),
    Row(np.var, reduction()),
    Row(np.std, distinct_reduction(spread=True)),
    Row(np.concatenate, joining(new_axis=False)),
    Row(np.stack, joining(new_axis=True)),
    Row(np.squeeze, squeezing()),
    Row(np.expand_dims, expanding()),
    Row(np.ravel, elementwise(REAL)),
]


# ------------------------------------------------------------------ the check


def check_call(func: Callable, call: Call, differentiate: bool = True) -> None:
    """The properties above for one call: refused alike, equal to numpy, gradient right."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # e.g. the mean of an empty slice
        _check_call(func, call, differentiate)


def _check_call(func: Callable, call: Call, differentiate: bool) -> None:
    name = func.__name__
    values = [Value(a) for a, k in zip(call.arrays, call.kinds) if k == "value"]
    try:
        want = func(*call.plain(), *call.extra, **call.kwargs)
    except Exception:  # numpy refuses: so must a Value, naming the function
        with pytest.raises((TypeError, ValueError), match=r"^(Value|np\.|numpy\.)"):
            call.run(func, values)
        return
    got = call.run(func, values)
    if not differentiate:  # np.shape, np.size, comparisons …: numpy's answer itself, no node
        assert not isinstance(got, Value), (name, got)
        assert np.shape(got) == np.shape(want), (name, np.shape(got), np.shape(want))
        assert np.asarray(got).dtype == np.asarray(want).dtype, (name, got, want)
        assert np.array_equal(got, want), (name, got, want)
        return
    assert isinstance(got, Value), (name, type(got))
    assert got.shape == np.shape(want), (name, got.shape, np.shape(want))
    np.testing.assert_allclose(got.data, want, rtol=1e-12, atol=1e-12, equal_nan=True)
    rng = np.random.default_rng(call.weights_seed)
    weights = rng.uniform(-1.0, 1.0, size=got.shape)  # the whole Jacobian in one direction

    def weighted(*vs):
        return (call.run(func, list(vs)) * weights).sum()

    if got.data.size and not np.all(np.isfinite(got.data)):
        return  # not differentiable here (no such draw today: the domains keep away)
    if got.data.size == 0 or (any(v.data.size == 0 for v in values) and not call.packed):
        for v, g in zip(values, grad(weighted(*values), values)):  # empty: zero, right shape
            assert g.shape == v.shape and not np.any(g.data), (name, v.shape, g.data)
        return
    # (joined with others, an empty array gets an empty gradient and the rest theirs: gradcheck)
    assert gradcheck(weighted, [Value(v.data) for v in values])


def check_rows(rows, examples: int, derandomize: bool) -> None:
    """Run every row's property for ``examples`` drawn calls (raises on the first failure)."""
    for row in rows:
        property_of(row, examples, derandomize)()


def property_of(row: Row, examples: int, derandomize: bool) -> Callable[[], None]:
    """The hypothesis test of one row: calls drawn by ``row.call``, each checked."""

    @settings(max_examples=examples, deadline=None, derandomize=derandomize, database=None)
    @given(call=row.call)
    def check(call):
        check_call(row.func, call, row.grad)

    return check


def test_every_numpy_function_in_the_dispatch_table_has_a_row():
    assert {row.func for row in ROWS} == set(UFUNCS) | set(FUNCTIONS)


@pytest.mark.parametrize("row", ROWS, ids=[row.func.__name__ for row in ROWS])
def test_a_numpy_function_on_values_follows_numpy_and_its_gradient_passes_gradcheck(row):
    check_rows([row], examples=15, derandomize=True)
