"""Your own derivation, checked node by node: a 2-2-1 tanh network on XOR.

    python examples/my_derivation.py [SEED]

The network, built from nn.Layer:

    u1 = x w1 + b1      h = tanh(u1)        (hidden layer, 2 units)
    u2 = h w2 + b2      y = u2              (output layer, 1 unit, identity)
    E  = ½ Σ (y − t)²                        (summed over the 4 XOR samples)

Backprop by hand, in numpy only (rows of x are samples, so Σ over samples is
a matrix product):

    δ2 = y − t                  the gradient at u2 (and at y)
    ∂w2 = hᵀ δ2,   ∂b2 = Σ δ2
    ∂h = δ2 w2ᵀ                 the gradient at h (labelled y1)
    δ1 = ∂h (1 − h²)            tanh'(u) = 1 − tanh(u)²
    ∂w1 = xᵀ δ1,   ∂b1 = Σ δ1

`compare_manual` puts each of these beside the engine's gradient at the node
with that label and prints the table; `assert_manual` does the same in a test.
"""

from __future__ import annotations

import sys

import numpy as np

from tinygrad_sine import Value
from tinygrad_sine.nn import Layer, squared_error
from tinygrad_sine.testing import compare_manual

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
T = np.array([[0.0], [1.0], [1.0], [0.0]])

# The formula behind each entry, by the label of the node it belongs to.
FORMULAS = {
    "u2": "δ2 = y − t",
    "w2": "∂w2 = hᵀ δ2",
    "b2": "∂b2 = Σ δ2",
    "y1": "∂h = δ2 w2ᵀ",
    "u1": "δ1 = ∂h (1 − h²)",
    "w1": "∂w1 = xᵀ δ1",
    "b1": "∂b1 = Σ δ1",
}


def build(seed: int = 0) -> tuple[Layer, Layer]:
    """The hidden (tanh) and output (identity) layers; wide weights, since 0.01 stalls XOR."""
    rng = np.random.default_rng(seed)
    hidden = Layer(2, 2, Value.tanh, wb_width=1.0, rng=rng, index=1)
    output = Layer(2, 1, Value.identity, wb_width=1.0, rng=rng, index=2)
    return hidden, output


def tanh_derivative(h: np.ndarray) -> np.ndarray:
    """tanh'(u) written with the output h = tanh(u)."""
    return 1 - h**2


def derive(x: np.ndarray, t: np.ndarray, hidden: Layer, output: Layer,
           activation_derivative=tanh_derivative) -> dict[str, np.ndarray]:
    """Backprop by hand, numpy only: ``{label: ∂E/∂node}`` for every formula above."""
    w1, b1, w2, b2 = (p.data for p in (hidden.w, hidden.b, output.w, output.b))
    h = np.tanh(x @ w1 + b1)             # forward, again, in numpy
    y = h @ w2 + b2
    delta2 = y - t                       # backward, output layer first
    grad_h = delta2 @ w2.T
    delta1 = grad_h * activation_derivative(h)
    return {
        "u2": delta2, "w2": h.T @ delta2, "b2": delta2.sum(axis=0),
        "y1": grad_h,
        "u1": delta1, "w1": x.T @ delta1, "b1": delta1.sum(axis=0),
    }


def loss(hidden: Layer, output: Layer, x=X, t=T) -> Value:
    """E = ½ Σ (y − t)² as a graph, through both layers."""
    return squared_error(output(hidden(Value(x, label="x"))), t)


def main(seed: int = 0) -> bool:
    hidden, output = build(seed)
    E = loss(hidden, output)
    comparison = compare_manual(E, derive(X, T, hidden, output), formulas=FORMULAS)
    print(f"2-2-1 tanh network on XOR, seed {seed}: E = {E.item():.4f}")
    print(comparison)
    worst = max(row.max_abs_diff for row in comparison.rows)
    verdict = "OK: every formula agrees" if comparison.ok else "FAIL: see the rows marked ✗"
    print(f"{verdict} (largest difference {worst:.1e})")
    return comparison.ok


if __name__ == "__main__":
    sys.exit(0 if main(int(sys.argv[1]) if len(sys.argv) > 1 else 0) else 1)
