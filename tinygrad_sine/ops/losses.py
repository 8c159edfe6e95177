"""Losses: the seed's squared error as one node.

Each class is one operation: ``forward`` on numpy arrays and ``backward``
(one gradient per input), with the math in its docstring's first line.
"""

from __future__ import annotations

from . import Op


class SquaredError(Op):
    """E = ½ Σ (y − t)²;  ∂y = ∂E · (y − t),  ∂t = −∂E · (y − t)   (with ∂E = 1: δ_k = y_k − t_k)

    One operation, as the post treats "identity + sum of squared errors" as
    one step whose derivative is simply y − t.  Composing it from ``-``,
    ``**``, ``sum`` and ``*`` gives the same numbers through four nodes.
    """

    name, hint = "squared_error", "must have the same shape: reshape t to y's shape"

    @staticmethod
    def forward(y, t):
        if y.shape != t.shape:
            raise ValueError("y and t differ in shape")
        return 0.5 * ((y - t) ** 2).sum()

    @staticmethod
    def backward(g, E, y, t):
        grad_y = g * (y - t)
        return grad_y, -grad_y
