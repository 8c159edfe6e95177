"""Elementwise functions: exp, log, sin, cos, tanh, sigmoid, relu, identity.

Each class is one operation: ``forward`` on numpy arrays and ``backward``
(one gradient per input), with the math in its docstring's first line.
"""

from __future__ import annotations

import math

import numpy as np

from . import _EXP_MAX, Op, _exp_overflows, raw


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
