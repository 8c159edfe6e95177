"""Elementwise functions: exp, log, sin, cos, tanh, sigmoid, relu, identity, abs, sqrt,
square, maximum, minimum, clip, where, leaky_relu.

Each class is one operation: ``forward`` on numpy arrays and ``backward``
(one gradient per input), with the math in its docstring's first line.
"""

from __future__ import annotations

import math

import numpy as np

from . import _BROADCAST_HINT, _EXP_MAX, Op, _exp_overflows, raw


class Exp(Op):
    """y = eˣ;  ∂x = ∂y · y"""

    name = "exp"

    @staticmethod
    def forward(x):
        return np.exp(x)

    @staticmethod
    def backward(g, y, x):
        return (g * y,)


class Log(Op):
    """y = ln x;  ∂x = ∂y / x"""

    name = "log"

    @staticmethod
    def forward(x):
        return np.log(x)

    @staticmethod
    def backward(g, y, x):
        return (g / x,)


class Sin(Op):
    """y = sin x;  ∂x = ∂y · cos x"""

    name = "sin"

    @staticmethod
    def forward(x):
        return np.sin(x)

    @staticmethod
    def backward(g, y, x):
        return (g * np.cos(x),)


class Cos(Op):
    """y = cos x;  ∂x = −∂y · sin x"""

    name = "cos"

    @staticmethod
    def forward(x):
        return np.cos(x)

    @staticmethod
    def backward(g, y, x):
        return (-g * np.sin(x),)


class Tanh(Op):
    """y = tanh x;  ∂x = ∂y · (1 − y²)"""

    name = "tanh"

    @staticmethod
    def forward(x):
        return np.tanh(x)

    @staticmethod
    def backward(g, y, x):
        return (g * (1 - y * y),)


class Sigmoid(Op):
    """y = 1 / (1 + e^(−u));  ∂u = ∂y · (1 − y) · y   (the seed's δ_j, in its order)

    For u < −709.78, e^(−u) overflows to ∞ and y is exactly 0, as it should
    be (the true value is below the smallest float); numpy's overflow
    warning is silenced only then, so the usual case costs one max over u
    and a comparison, and gives the very numbers of the seed's formula.  A single number (a
    scalar Value) goes through ``math.exp``, quicker on one number than
    ``np.exp`` (the two agree to the last bit or differ in it).
    """

    name = "sigmoid"

    @staticmethod
    def forward(u):
        if type(u) is np.float64:  # one number: math.exp is ~4× quicker than np.exp on it
            return np.float64(0.0 if -u > _EXP_MAX else 1 / (1 + math.exp(-u)))
        minus_u = -u
        if _exp_overflows(minus_u):
            with np.errstate(over="ignore"):
                return 1 / (1 + np.exp(minus_u))
        return 1 / (1 + np.exp(minus_u))

    @staticmethod
    def backward(g, y, u):
        return (g * (1 - y) * y,)


class Relu(Op):
    """y = max(x, 0);  ∂x = ∂y · [x > 0]   (0 at x = 0, as in PyTorch)"""

    name = "relu"

    @staticmethod
    def forward(x):
        return np.maximum(x, 0.0)

    @staticmethod
    def backward(g, y, x):
        return (g * (raw(x) > 0),)


class Identity(Op):
    """y = x;  ∂x = ∂y   (the seed's output-layer activation, kept as its own node)"""

    name = "identity"

    @staticmethod
    def forward(x):
        return x

    @staticmethod
    def backward(g, y, x):
        return (g,)


class Abs(Op):
    """y = |x|;  ∂x = ∂y · sign x   (0 at x = 0, as in PyTorch)"""

    name = "abs"

    @staticmethod
    def forward(x):
        return np.abs(x)

    @staticmethod
    def backward(g, y, x):
        return (g * np.sign(raw(x)),)  # sign x is a constant: its own derivative is 0


class Sqrt(Op):
    """y = √x;  ∂x = ∂y / (2 · y)   (∞ at x = 0, and nan for x < 0, as in numpy and PyTorch)"""

    name = "sqrt"

    @staticmethod
    def forward(x):
        return np.sqrt(x)

    @staticmethod
    def backward(g, y, x):
        return (g / (2 * y),)


class Square(Op):
    """y = x²;  ∂x = ∂y · 2 · x"""

    name = "square"

    @staticmethod
    def forward(x):
        return x * x

    @staticmethod
    def backward(g, y, x):
        return (g * 2 * x,)


def _share(a, b):
    """[a > b] + ½ [a = b]: how much of the gradient of max(a, b) goes to ``a`` (numbers)."""
    a, b = raw(a), raw(b)
    return np.greater(a, b) + 0.5 * np.equal(a, b)


class Maximum(Op):
    """y = max(a, b);  ∂a = ∂y · [a > b],  ∂b = ∂y · [b > a]   (half each at a = b: PyTorch)"""

    name, hint = "maximum", _BROADCAST_HINT

    @staticmethod
    def forward(a, b):
        return np.maximum(a, b)

    @staticmethod
    def backward(g, y, a, b):
        to_a = _share(a, b)
        return g * to_a, g * (1 - to_a)


class Minimum(Op):
    """y = min(a, b);  ∂a = ∂y · [a < b],  ∂b = ∂y · [b < a]   (half each at a = b: PyTorch)"""

    name, hint = "minimum", _BROADCAST_HINT

    @staticmethod
    def forward(a, b):
        return np.minimum(a, b)

    @staticmethod
    def backward(g, y, a, b):
        to_a = _share(b, a)
        return g * to_a, g * (1 - to_a)


class Clip(Op):
    """y = min(max(x, lo), hi);  ∂x = ∂y · [lo ≤ x ≤ hi]   (the bounds pass ∂y, as in PyTorch)

    ``lo`` or ``hi`` may be None: no bound on that side.
    """

    name = "clip"

    @staticmethod
    def forward(x, lo, hi):
        return np.clip(x, lo, hi)

    @staticmethod
    def backward(g, y, x, lo, hi):
        x = raw(x)
        if lo is None:
            return (g * np.less_equal(x, hi),)
        if hi is None:
            return (g * np.greater_equal(x, lo),)
        return (g * np.greater_equal(x, lo) * np.less_equal(x, hi),)


class Where(Op):
    """y = a where cond, else b;  ∂a = ∂y · [cond],  ∂b = ∂y · [not cond]

    ``cond`` is a fixed array of booleans (a comparison such as ``v.data > 0``
    or ``v > 0``), not an input: no gradient flows through a choice.
    """

    name = "where"
    hint = ("do not broadcast with the condition (numpy's rule: trailing axes must be equal "
            "or 1); reshape one side, e.g. with .reshape(...)")

    @staticmethod
    def forward(a, b, cond):
        return np.where(cond, a, b)

    @staticmethod
    def backward(g, y, a, b, cond):
        return g * cond, g * np.logical_not(cond)


class LeakyRelu(Op):
    """y = x if x > 0, else slope · x;  ∂x = ∂y · (1 if x > 0, else slope)   (slope at 0: PyTorch)

    The default slope is 0.01, as in PyTorch.
    """

    name = "leaky_relu"

    @staticmethod
    def forward(x, slope):
        return np.where(x > 0, x, slope * x)

    @staticmethod
    def backward(g, y, x, slope):
        return (g * (slope + (1 - slope) * (raw(x) > 0)),)
