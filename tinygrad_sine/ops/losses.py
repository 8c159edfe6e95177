"""Losses: the seed's squared error, and softmax cross-entropy, each as one node.

Each class is one operation: ``forward`` on numpy arrays and ``backward``
(one gradient per input), with the math in its docstring's first line.
"""

from __future__ import annotations

import numpy as np

from . import Op, raw


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


def log_softmax(z):
    """log pₖ = zₖ − log Σⱼ e^(zⱼ) along the last axis, computed without overflow.

    Every row is first shifted by its largest entry ``m``: softmax does not
    change when a row is shifted, and e^(z − m) ≤ 1 never overflows (logits
    of 1000 are fine).  The shift is taken from the numbers, as a constant:
    its own derivative would cancel exactly.  Works on arrays and on Values
    (the operators and ``np.exp``/``np.log`` dispatch), so second
    derivatives come for free.

    ``LogSoftmax.forward`` shifts with ``reductions._shift``, which names the
    maximum with :func:`~tinygrad_sine.ops.let`; this function also runs
    inside ``CrossEntropy.backward``, and ``compile`` writes ``let``'s line
    for a forward only, so the shift is spelled out here.
    """
    s = z - raw(z).max(axis=-1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


class CrossEntropy(Op):
    """E = −Σ t · log softmax(z);  ∂z = ∂E · (softmax(z) − t),  ∂t = −∂E · log softmax(z)

    Softmax and cross-entropy as one operation, from the logits ``z``
    (shape ``(n, C)``, or ``(C,)`` for one sample) and targets ``t`` of the
    same shape, one probability row per sample (one-hot for a class).
    With ``p = softmax(z)`` row by row, ``E = −Σₙ Σₖ tₙₖ log pₙₖ``, summed
    over the batch like the seed's squared error (``mean=True`` divides by
    the number of rows ``n``, and so both gradients).

    Why the derivative is so short: per row, ``log pₖ = zₖ − log Σⱼ e^(zⱼ)``,
    so ``∂E/∂zⱼ = −tⱼ + (Σₖ tₖ) pⱼ``; with ``Σₖ tₖ = 1`` that is
    ``δ = p − t``, the same shape as the seed's ``δ_k = y_k − t_k``.  The
    softmax's own Jacobian ``pⱼ([j = k] − pₖ)`` never has to be formed.

    ``backward`` computes ``(Σₖ tₖ) p − t``, which is ``p − t`` for every
    target :func:`~tinygrad_sine.nn.cross_entropy` accepts and stays exact
    for any ``t`` (a second derivative with respect to ``t`` needs that).
    Large logits are safe: see :func:`log_softmax`.
    """

    name = "cross_entropy"
    hint = "must have the same shape: give t one row of class probabilities per row of logits"

    @staticmethod
    def forward(z, t, mean):
        if z.shape != t.shape or z.ndim == 0:
            raise ValueError("z and t differ in shape, or z is a single number")
        E = -(t * log_softmax(z)).sum()
        return E / (z.size // z.shape[-1]) if mean else E

    @staticmethod
    def backward(g, E, z, t, mean):
        if mean:
            g = g / (z.size // z.shape[-1])
        log_p = log_softmax(z)
        p = np.exp(log_p)
        grad_z = g * (p * t.sum(axis=-1, keepdims=True) - t)  # = g · (p − t): rows of t sum to 1
        return grad_z, -g * log_p
