"""Assertions for your own tests: your hand-derived gradients against the engine's.

    from tinygrad_sine.testing import assert_manual

    def test_my_backprop():
        E = my_loss(x, t)                        # a Value graph with labelled nodes
        assert_manual(E, my_derivation(x, t))    # {label or node: ∂E/∂node}

A failure raises ``AssertionError`` with a table of every node (yours beside
the engine's) and, for each node that disagrees, the worst element's index,
both values and the differences.  pytest shows it without this library's
frames (``__tracebackhide__``).

For the seed's own network there is :func:`assert_manual_matches_auto`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from .compare import (
    FORMULAS,
    ManualComparison,
    check_data,
    check_tolerances,
    compare_manual,
    number,
)
from .gradcheck import disagree
from .manual import ManualSineNet
from .nn import squared_error
from .value import Value

__all__ = ["compare_manual", "assert_manual", "assert_grad_close", "assert_manual_matches_auto",
           "ManualComparison"]


def assert_manual(root: Value, manual: Mapping, *, rtol: float = 1e-7, atol: float = 1e-12,
                  formulas: Mapping | None = None) -> None:
    """Assert that every entry of ``manual`` agrees with the engine's ∂root/∂node.

    The arguments are those of :func:`~tinygrad_sine.compare.compare_manual`.
    On failure the ``AssertionError`` message is the comparison table with
    the failing rows marked ✗, and for each of them the worst element: its
    index, your value, the engine's, the absolute and relative difference and
    the tolerance it broke.
    """
    __tracebackhide__ = True
    comparison = compare_manual(root, manual, rtol=rtol, atol=atol, formulas=formulas)
    if not comparison.ok:
        raise AssertionError(comparison.report())


def _numbers(x, where: str, name: str) -> np.ndarray:
    __tracebackhide__ = True
    try:
        arr = np.asarray(x.data if isinstance(x, Value) else x)
    except (TypeError, ValueError):  # ragged lists
        arr = None
    if arr is None or arr.dtype.kind not in "biuf":  # None, strings, objects
        shown = repr(x) if len(repr(x)) <= 40 else repr(x)[:37] + "..."
        raise TypeError(f"{where}: {name} must be a Value, an array or a number; got "
                        f"{type(x).__name__} {shown}")
    return arr.astype(np.float64)


def assert_grad_close(actual, expected, atol: float = 1e-10, rtol: float = 1e-7,
                      formula: str = "gradient") -> None:
    """Assert ``|actual − expected| ≤ atol + rtol·|expected|`` element by element.

    When ``actual`` is a ``Value``, its **gradient** ``actual.grad`` is
    compared (and the message says so); if no backward pass has reached it
    yet, that is the failure.  Arrays and numbers are compared as given; an
    ``expected`` Value stands for its numbers (``.data``).  An infinity
    agrees only with the same infinity, and a NaN never agrees, not even with
    a NaN (unlike ``numpy.testing.assert_allclose``'s ``equal_nan``): a hand
    derivation that also gives 0/0 proves nothing.  ``formula`` names the
    quantity in the message.

    >>> w = Value([1.0, 2.0], label="w")
    >>> (w * w).sum().backward()
    >>> assert_grad_close(w, 2 * w.data)     # ∂(Σ w²)/∂w = 2w
    """
    __tracebackhide__ = True
    check_tolerances("assert_grad_close", rtol, atol)
    what = formula
    if isinstance(actual, Value):
        name = actual.label if actual.label is not None else "the Value"
        if actual._grad is None:
            raise AssertionError(f"{formula}: {name} has no gradient yet: call backward() first "
                                 "(for a Value, assert_grad_close compares its .grad)")
        what = f"{formula}: {name}.grad" if actual.label is not None else f"{formula}: .grad"
        actual = actual._grad
    a = _numbers(actual, "assert_grad_close", "actual")
    e = _numbers(expected, "assert_grad_close", "expected")
    if a.shape != e.shape:
        raise AssertionError(f"{what}: shapes differ: actual {a.shape}, expected {e.shape}")
    bad = disagree(a, e, rtol, atol)
    if bad.any():
        with np.errstate(invalid="ignore", over="ignore"):
            diff = np.abs(a - e)
            excess = np.where(np.isfinite(diff), diff - (atol + rtol * np.abs(e)), np.inf)
        worst = np.unravel_index(int(np.argmax(np.where(bad, excess, -np.inf))), a.shape)
        where = f"element {list(map(int, worst))}" if a.ndim else "value"
        raise AssertionError(
            f"{what}: {where} differs: actual {number(a[worst])}, expected {number(e[worst])} "
            f"(|diff| {number(diff[worst])} > atol {number(atol)} + rtol {number(rtol)}"
            f"·|expected|; {int(bad.sum())} of {bad.size} elements differ)"
        )


# ---------------------------------------------------------------- the seed's network


def _run_layers(layers: Sequence, net, x: np.ndarray, t: np.ndarray) -> None:
    """Your layer objects, given the net's weights: forward from the input, backward from t.

    The post's shape: ``forward(x)`` keeps ``.y``; ``backward(t)`` on the
    output layer and ``backward(grad_x of the layer above)`` on the others
    fill ``.grad_w``, ``.grad_b`` and ``.grad_x``.
    """
    __tracebackhide__ = True
    if len(layers) != len(net.layers):
        raise ValueError(f"assert_manual_matches_auto: manual has {len(layers)} layers, "
                         f"the net has {len(net.layers)} ({net!r})")
    for mine, theirs in zip(layers, net.layers):
        mine.w, mine.b = theirs.w.data.copy(), theirs.b.data.copy()
    h = x
    for mine in layers:
        out = mine.forward(h)
        h = mine.y if out is None else out
    g = t
    for mine in reversed(layers):
        out = mine.backward(g)
        g = getattr(mine, "grad_x", None) if out is None else out


def _layer_entries(layers: Sequence, net) -> tuple[dict, dict]:
    """``{node: your value}`` and ``{node: formula}`` for ∂w, ∂b, δ and ∂y of each layer."""
    manual, formulas = {}, {}
    for mine, layer in zip(layers, net.layers):
        kind = layer.kind if layer.kind in ("middle", "output") else "middle"
        for attr, q, node in (("delta", "δ", layer.u), ("grad_w", "∂w", layer.w),
                              ("grad_b", "∂b", layer.b), ("grad_x", "∂y", layer.x)):
            value = getattr(mine, attr, None)
            if value is None:
                if attr in ("grad_w", "grad_b"):
                    raise AttributeError(
                        f"assert_manual_matches_auto: your layer {type(mine).__name__} has no "
                        f"{attr} after backward(); it needs grad_w and grad_b, as in the post")
                continue  # δ and grad_x are optional
            manual[node] = value
            formulas[node] = f"{attr}: {FORMULAS[(kind, q)]}"
    return manual, formulas


def assert_manual_matches_auto(net, x, t, manual=None, *, atol: float = 1e-10,
                               rtol: float = 1e-7) -> None:
    """Assert that a hand-derived backprop of the seed's network matches autodiff.

    ``manual`` is one of:

    * ``None``: the library's own derivation, :mod:`tinygrad_sine.manual`;
    * your layer objects, input side first, in the post's shape: each has
      ``w`` and ``b`` (set here to the net's weights), ``forward(x)``
      (keeping ``.y``), ``backward(t)`` for the output layer and
      ``backward(grad_x of the layer above)`` for the others, after which
      ``grad_w`` and ``grad_b`` (and, if you keep them, ``delta`` and
      ``grad_x``) are compared — or an object with such a ``.layers`` list;
    * a function ``(x, t, net) -> {label: value}`` over the labels of the
      net's graph (``w1``, ``b1``, ``u1`` for δ, ``y1``, ``x`` …), called after
      the net's forward pass.

    The loss is the seed's E = ½ Σ (y − t)²; ``x`` is ``(batch, n_in)``, ``t``
    ``(batch, n_out)``.  Fails with :func:`assert_manual`'s table.
    """
    __tracebackhide__ = True
    x, t = check_data(net, x, t, "assert_manual_matches_auto")
    check_tolerances("assert_manual_matches_auto", rtol, atol)
    if manual is None:
        manual = ManualSineNet.from_net(net)
    function = callable(manual) and not hasattr(manual, "forward") and not hasattr(
        manual, "layers")
    if not function:
        layers = list(manual.layers if hasattr(manual, "layers") else manual)
        _run_layers(layers, net, x, t)
    loss = squared_error(net(Value(x, label="x")), t)
    if function:
        entries, formulas = _call(manual, x, t, net), None
    else:
        entries, formulas = _layer_entries(layers, net)
    assert_manual(loss, entries, rtol=rtol, atol=atol, formulas=formulas)


def _call(fn: Callable, x, t, net) -> Mapping:
    __tracebackhide__ = True
    entries = fn(x, t, net)
    if not hasattr(entries, "items"):
        raise TypeError(f"assert_manual_matches_auto: manual(x, t, net) must return a dict "
                        f"{{label: value}}, got {type(entries).__name__}")
    return entries
