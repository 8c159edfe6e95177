"""From a sine to classes: a 2-24-3 tanh network learns a three-arm spiral.

    python examples/classify.py [EPOCHS] [OUT_DIR]

Defaults: 3000 epochs, figures into out/classify/.  The data is
``spiral_data()``: 60 points on each of three arms, made with numpy.

The network (``MLP(2, [24], 3)``, built from nn.Layer) and its loss:

    u1 = x w1 + b1      h = tanh(u1)           (hidden layer, 24 units; h is labelled y1)
    u2 = h w2 + b2      z = u2                 (output layer, 3 units, identity: the logits)
    p  = softmax(z)     E = −Σ t log p         (cross-entropy, summed over the samples)

Backprop by hand, in numpy only (rows are samples; t is one-hot):

    δ_out    = p − t                 the gradient at u2 (and at the logits y2):
                                     the softmax's Jacobian collapses into this
    ∂w2 = hᵀ δ_out,   ∂b2 = Σ δ_out
    ∂h       = δ_out w2ᵀ             the gradient at h (y1)
    δ_hidden = ∂h ⊙ (1 − h²)         tanh'(u) = 1 − tanh(u)²
    ∂w1 = xᵀ δ_hidden,   ∂b1 = Σ δ_hidden

The script checks these against the engine with ``compare_manual``, trains
full batch with η = 0.5/180 (the loss is summed over the 180 samples, so
this is a step of 0.5 on the mean), prints the error and accuracy, and
draws the decision regions.  It exits with status 1 if the derivation and
the engine disagree.
"""

from __future__ import annotations

import sys

import numpy as np

from tinygrad_sine import Value
from tinygrad_sine.nn import MLP, cross_entropy
from tinygrad_sine.sine import spiral_data, train
from tinygrad_sine.testing import compare_manual

FORMULAS = {
    "u2": "δ_out = p − t",
    "w2": "∂w2 = hᵀ δ_out",
    "b2": "∂b2 = Σ δ_out",
    "y1": "∂h = δ_out w2ᵀ",
    "u1": "δ_hidden = ∂h ⊙ (1 − h²)",
    "w1": "∂w1 = xᵀ δ_hidden",
    "b1": "∂b1 = Σ δ_hidden",
}


def softmax(z: np.ndarray) -> np.ndarray:
    """Row by row; shifting each row by its largest entry changes nothing but avoids overflow."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def backprop_by_hand(x, t, w1, b1, w2, b2) -> tuple[float, dict]:
    """The loss E = −Σ t log p and every gradient above, in numpy: ``(E, {label: value})``."""
    h = np.tanh(x @ w1 + b1)
    z = h @ w2 + b2
    p = softmax(z)
    loss = float(-(t * np.log(p)).sum())
    delta_out = p - t
    grad_h = delta_out @ w2.T
    delta_hidden = grad_h * (1 - h**2)
    return loss, {
        "u2": delta_out, "w2": h.T @ delta_out, "b2": delta_out.sum(axis=0),
        "y1": grad_h,
        "u1": delta_hidden, "w1": x.T @ delta_hidden, "b1": delta_hidden.sum(axis=0),
    }


def check_derivation(net: MLP, x: np.ndarray, t: np.ndarray):
    """One forward pass through the engine, and the hand derivation beside it, node by node."""
    E = cross_entropy(net(Value(x, label="x")), t)
    w1, b1, w2, b2 = (p.data for p in net.parameters())
    _, manual = backprop_by_hand(x, t, w1, b1, w2, b2)
    return compare_manual(E, manual, formulas=FORMULAS)


def main(epochs: int = 3000, out_dir: str = "out/classify") -> int:
    x, labels = spiral_data()
    t = np.eye(3)[labels]
    net = MLP(2, [24], 3, activation="tanh", seed=0)

    comparison = check_derivation(net, x, t)
    print(f"Backprop by hand against the engine, {net!r}, 180 spiral points:")
    for row in comparison.rows:
        print(f"  {row.name:3} {str(row.shape):10} {row.formula:25} max |diff| "
              f"{row.max_abs_diff:.1e}  {'agrees' if row.ok else 'DIFFERS'}")
    if not comparison.ok:
        print(comparison.report())
        return 1

    interval = max(1, epochs // 6)
    history = train(net, data=(x, labels), loss="cross_entropy", epochs=epochs,
                    eta=0.5 / 180, batch_size=180, interval=interval, seed=0)
    print(f"\nTraining full batch, eta = 0.5/180, {epochs} epochs:")
    for epoch, error, accuracy in zip(history.epochs, history.errors, history.accuracies):
        print(f"epoch {epoch:5d}: mean cross-entropy {error:.4f}, accuracy {accuracy:.3f}")
    final = float((net(x).data.argmax(axis=1) == labels).mean())
    print(f"after epoch {epochs - 1}: accuracy {final:.3f} ({round(final * 180)} of 180 points)")

    from viz.plots import save_figures

    for path in save_figures(history, out_dir):
        print("wrote", path)
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000,
                  sys.argv[2] if len(sys.argv) > 2 else "out/classify"))
