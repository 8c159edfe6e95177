"""Check automatic gradients against central differences.

The oracle: for a small ``eps``, ∂f/∂xᵢ ≈ (f(x + eps·eᵢ) − f(x − eps·eᵢ)) / (2 eps),
with an error of order eps².  It needs nothing but the forward pass, so it
is independent of every ``backward`` in ``ops/``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .arguments import check_real
from .autograd import grad
from .value import Value


class GradcheckError(AssertionError):
    """An automatic gradient disagrees with its central-difference estimate."""


def numerical_jacobian(fn: Callable[..., Value], inputs: Sequence[Value], eps: float = 1e-6,
                       out_shape: tuple | None = None):
    """∂out/∂in by central differences: one array per input, of shape out.shape + in.shape.

    Graph recording stays on, so ``fn`` may itself call ``grad(..., create_graph=True)``.
    The inputs' numbers are swapped in through ``_data``, not ``.data``: they
    come back unchanged, so graphs built before the check stay valid for
    their ``backward`` (an assignment to ``.data`` would mark them changed).
    ``out_shape`` spares one call of ``fn`` when the caller knows it.
    """
    if out_shape is None:
        out_shape = _call(fn, inputs).shape
    jacobians = []
    for x in inputs:
        original = x.data
        jac = np.zeros(out_shape + np.shape(original))
        try:
            for idx in np.ndindex(*np.shape(original)):
                values = []
                for step in (eps, -eps):
                    bumped = np.array(original, dtype=np.float64)
                    bumped[idx] += step
                    x._data = bumped[()]  # np.float64 for a single number, as in any Value
                    values.append(np.asarray(fn(*inputs).data))
                jac[(...,) + idx] = (values[0] - values[1]) / (2 * eps)
        finally:  # the inputs come back unchanged, even if fn raises
            x._data = original
        jacobians.append(jac)
    return jacobians


def disagree(actual, expected, rtol: float, atol: float) -> np.ndarray:
    """Where ``actual`` and ``expected`` disagree, element by element (a bool array).

    The one rule of every checker here (gradcheck, ``assert_grad_close``,
    ``compare_manual``): finite numbers agree when
    ``|actual − expected| ≤ atol + rtol·|expected|``; an infinity agrees only
    with the same infinity (same sign); a NaN never agrees, not even with a
    NaN.  Unlike ``numpy.testing.assert_allclose`` (whose ``equal_nan`` is on
    by default), because a hand derivation that also gives 0/0 proves nothing.
    """
    actual, expected = np.asarray(actual), np.asarray(expected)
    with np.errstate(invalid="ignore", over="ignore"):  # inf − inf: nan, sorted out below
        close = np.abs(actual - expected) <= atol + rtol * np.abs(expected)  # False for nan
        same_infinity = np.isinf(actual) & (actual == expected)
    return ~np.where(np.isfinite(actual) & np.isfinite(expected), close, same_infinity)


def _call(fn, inputs) -> Value:
    out = fn(*inputs)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: fn must return a Value, got {type(out).__name__}")
    return out


def gradcheck(
    fn: Callable[..., Value],
    inputs: Value | Sequence[Value],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Compare the automatic gradients of ``fn(*inputs)`` with central differences.

    ``fn`` takes the Values of ``inputs`` (one Value, or a list of them and
    of numbers) and returns a Value.  For a non-scalar output the full
    Jacobian is compared, one backward pass per output element.  An element
    agrees when ``|automatic − numerical| ≤ atol + rtol · |numerical|``, an
    infinity only with the same infinity, and a nan never (:func:`disagree`).
    Returns ``True``, or raises :class:`GradcheckError` naming the input,
    the element and both values.  ``eps`` must be finite and > 0, ``atol``
    and ``rtol`` finite and ≥ 0.

    >>> gradcheck(lambda a, b: (a * b).sin().sum(), [Value([1.0, 2.0]), Value(0.5)])
    True
    """
    if not callable(fn):
        raise TypeError(f"gradcheck: fn must be a function of the inputs returning a Value, "
                        f"got {type(fn).__name__} {fn!r:.40}")
    check_real(eps, "gradcheck", "eps", positive=True)
    check_real(atol, "gradcheck", "atol")
    check_real(rtol, "gradcheck", "rtol")
    if isinstance(inputs, Value):
        inputs = [inputs]  # one input, as grad() accepts
    inputs = [x if isinstance(x, Value) else Value(x) for x in inputs]
    out = _call(fn, inputs)
    numeric = numerical_jacobian(fn, inputs, eps, out.shape)
    for out_idx in np.ndindex(*out.shape):
        seed = np.zeros(out.shape)
        seed[out_idx] = 1.0
        autos = grad(out, inputs, grad_output=seed)
        for i, (x, auto, num) in enumerate(zip(inputs, autos, numeric)):
            num = num[out_idx]
            if auto.shape != x.shape:
                raise GradcheckError(
                    f"gradcheck: the automatic gradient of input {i} has shape {auto.shape}, "
                    f"but the input has shape {x.shape}"
                )
            bad = disagree(auto.data, num, rtol, atol)
            if bad.any():
                where = tuple(int(k) for k in np.argwhere(bad)[0])
                name = f"input {i}" + (f" ({x.label!r})" if x.label else "")
                of = f"output{list(out_idx)}" if out.ndim else "output"
                raise GradcheckError(
                    f"gradcheck: d {of} / d {name}{list(where)}: automatic "
                    f"{auto.data[where]:.10g}, numerical {num[where]:.10g} "
                    f"(atol={atol}, rtol={rtol})"
                )
    return True
