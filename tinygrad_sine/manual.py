"""The seed's backprop, derived by hand and written in numpy only (no ``Value``).

This is the reference the automatic gradients are checked against.  Each
layer keeps what its forward pass saw (``x``, ``u``, ``y``) and its backward
pass applies the seed's delta formulas.  For a batch ``X`` (rows = samples)
the Σ over samples is a matrix product.

Output layer (identity activation, squared error E = ½ Σ (y − t)²):

    δ_k   = y_k − t_k
    ∂w_jk = y_j δ_k            grad_w = xᵀ δ
    ∂b_k  = δ_k                grad_b = Σ_rows δ
    ∂y_j  = Σ_r δ_r w_jr       grad_x = δ wᵀ

Middle layer (sigmoid activation y = 1 / (1 + e^(−u))):

    δ_j   = ∂y_j (1 − y_j) y_j
    ∂w_ij = y_i δ_j            grad_w = xᵀ δ
    ∂b_j  = δ_j                grad_b = Σ_rows δ
    ∂y_i  = Σ_q δ_q w_iq       grad_x = δ wᵀ
"""

from __future__ import annotations

import numpy as np


class ManualLayer:
    """Weights, bias, and the hand-derived forward and backward of one layer."""

    kind = "layer"

    def __init__(self, w: np.ndarray, b: np.ndarray, index: int = 1):
        self.w = np.array(w, dtype=np.float64)
        self.b = np.array(b, dtype=np.float64)
        self.index = index
        self.x = self.u = self.y = None
        self.delta = self.grad_w = self.grad_b = self.grad_x = None

    def activation(self, u: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def forward(self, x: np.ndarray) -> np.ndarray:
        """u = x w + b, y = activation(u); keeps x, u and y for the backward pass."""
        self.x = x
        self.u = x.dot(self.w) + self.b
        self.y = self.activation(self.u)
        return self.y

    def _weight_gradients(self) -> np.ndarray:
        """From δ: ∂w = xᵀ δ, ∂b = Σ_rows δ, and ∂x = δ wᵀ (returned for the layer below)."""
        self.grad_w = self.x.T.dot(self.delta)
        self.grad_b = self.delta.sum(axis=0)
        self.grad_x = self.delta.dot(self.w.T)
        return self.grad_x

    def update(self, eta: float) -> None:
        """Gradient descent: w ← w − η ∂w, b ← b − η ∂b."""
        self.w -= eta * self.grad_w
        self.b -= eta * self.grad_b


class ManualOutput(ManualLayer):
    """Identity output with squared error: δ_k = y_k − t_k."""

    kind = "output"

    def activation(self, u):
        return u

    def backward(self, t: np.ndarray) -> np.ndarray:
        """δ_k = y_k − t_k, then ∂w_jk = y_j δ_k, ∂b_k = δ_k; returns ∂y_j = Σ_r δ_r w_jr."""
        self.delta = self.y - t
        return self._weight_gradients()


class ManualMiddle(ManualLayer):
    """Sigmoid middle layer: δ_j = ∂y_j (1 − y_j) y_j."""

    kind = "middle"

    def activation(self, u):
        # For u < −709, e^(−u) overflows to inf and 1 / inf is the exact 0 we want:
        # numpy's overflow warning would only alarm a learner.
        with np.errstate(over="ignore"):
            return 1 / (1 + np.exp(-u))

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        """δ_j = ∂y_j (1 − y_j) y_j, then ∂w_ij = y_i δ_j, ∂b_j = δ_j.

        Returns ∂y_i = Σ_q δ_q w_iq for the layer below.
        """
        self.delta = grad_y * (1 - self.y) * self.y
        return self._weight_gradients()


class ManualSineNet:
    """The whole network by hand: middle layer(s), then the output layer."""

    def __init__(self, layers: list[ManualLayer]):
        self.layers = layers

    @classmethod
    def from_net(cls, net) -> ManualSineNet:
        """A copy of a :class:`~tinygrad_sine.nn.SineNet`'s current weights (copies, not views)."""
        layers = []
        for layer in net.layers:
            kind = ManualOutput if layer.kind == "output" else ManualMiddle
            layers.append(kind(layer.w.data, layer.b.data, layer.index))
        return cls(layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Each layer in turn, from the input side; returns the output layer's y."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, t: np.ndarray) -> np.ndarray:
        """Output layer first (it takes t), then each middle layer takes the ∂y from above."""
        grad = self.layers[-1].backward(t)
        for layer in reversed(self.layers[:-1]):
            grad = layer.backward(grad)
        return grad

    def update(self, eta: float) -> None:
        """Gradient descent on every layer: w ← w − η ∂w, b ← b − η ∂b."""
        for layer in self.layers:
            layer.update(eta)

    @staticmethod
    def error(y: np.ndarray, t: np.ndarray) -> float:
        """E = ½ Σ (y − t)²."""
        return 0.5 * float(np.sum(np.square(y - t)))

    def copy_weights_to(self, net) -> None:
        """Write these weights back into a SineNet's parameter Values."""
        for mine, theirs in zip(self.layers, net.layers):
            theirs.w.data = mine.w.copy()
            theirs.b.data = mine.b.copy()
