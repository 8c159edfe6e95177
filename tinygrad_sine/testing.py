"""Assertions for your own tests that compare manual and automatic gradients.

    from tinygrad_sine.testing import assert_manual_matches_auto
    assert_manual_matches_auto(SineNet(seed=1), x, t)

Failures raise ``AssertionError`` with the formula, the worst element's
index and both values, so pytest shows what disagreed and where.
"""

from __future__ import annotations

import numpy as np

from .compare import compare_gradients
from .value import Value


def assert_grad_close(actual, expected, atol: float = 1e-10, rtol: float = 1e-7,
                      formula: str = "gradient") -> None:
    """Assert ``|actual − expected| ≤ atol + rtol·|expected|`` element by element.

    ``actual`` and ``expected`` may be arrays, numbers or Values (their
    ``.data`` is used).  ``formula`` names the quantity in the message.
    """
    a = np.asarray(actual.data if isinstance(actual, Value) else actual, dtype=np.float64)
    e = np.asarray(expected.data if isinstance(expected, Value) else expected, dtype=np.float64)
    if a.shape != e.shape:
        raise AssertionError(f"{formula}: shapes differ: actual {a.shape}, expected {e.shape}")
    excess = np.abs(a - e) - (atol + rtol * np.abs(e))
    if np.isnan(a).any() or np.isnan(e).any() or (excess > 0).any():
        excess = np.where(np.isnan(excess), np.inf, excess)
        worst = np.unravel_index(int(np.argmax(excess)), a.shape) if a.ndim else ()
        idx = list(map(int, worst))
        raise AssertionError(
            f"{formula}: element {idx} differs: actual {a[worst]!r}, expected {e[worst]!r} "
            f"(|diff| {abs(a[worst] - e[worst]):.3e} > atol {atol} + rtol {rtol}·|expected|)"
        )


def assert_manual_matches_auto(net, x, t, atol: float = 1e-10) -> None:
    """Assert every seed quantity (δ, ∂w, ∂b, ∂y of every layer) matches autodiff.

    Runs :func:`~tinygrad_sine.compare.compare_gradients` and checks each
    row with :func:`assert_grad_close` (``rtol=0``); the message names the
    layer and the seed's formula.
    """
    for row in compare_gradients(net, x, t):
        node = row.node.label or row.node.op
        assert_grad_close(row.auto, row.manual, atol=atol, rtol=0.0,
                          formula=f"{row.layer}: {row.formula} (node {node!r})")
