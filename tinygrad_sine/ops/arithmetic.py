"""Arithmetic: + − × ÷, powers and the matrix product.

Each class is one operation: ``forward`` on numpy arrays and ``backward``
(one gradient per input), with the math in its docstring's first line.
"""

from __future__ import annotations

import numpy as np

from . import _BROADCAST_HINT, Op, raw, swap_last_two


class Add(Op):
    """y = a + b;  ∂a = ∂y,  ∂b = ∂y"""

    name, hint = "add", _BROADCAST_HINT

    @staticmethod
    def forward(a, b):
        return a + b

    @staticmethod
    def backward(g, y, a, b):
        return g, g


class Sub(Op):
    """y = a − b;  ∂a = ∂y,  ∂b = −∂y"""

    name, hint = "sub", _BROADCAST_HINT

    @staticmethod
    def forward(a, b):
        return a - b

    @staticmethod
    def backward(g, y, a, b):
        return g, -g


class Mul(Op):
    """y = a · b;  ∂a = ∂y · b,  ∂b = ∂y · a"""

    name, hint = "mul", _BROADCAST_HINT

    @staticmethod
    def forward(a, b):
        return a * b

    @staticmethod
    def backward(g, y, a, b):
        return g * b, g * a


class Div(Op):
    """y = a / b;  ∂a = ∂y / b,  ∂b = −∂y · a / b²"""

    name, hint = "div", _BROADCAST_HINT

    @staticmethod
    def forward(a, b):
        return a / b

    @staticmethod
    def backward(g, y, a, b):
        return g / b, -g * a / (b * b)


class Neg(Op):
    """y = −x;  ∂x = −∂y"""

    name = "neg"

    @staticmethod
    def forward(x):
        return -x

    @staticmethod
    def backward(g, y, x):
        return (-g,)


class Pow(Op):
    """y = x^n for a number n;  ∂x = ∂y · n · x^(n−1)"""

    name = "pow"

    @staticmethod
    def forward(x, n):
        return x**n

    @staticmethod
    def backward(g, y, x, n):
        if n == 0:  # x⁰ = 1 is a constant (and 0 · 0⁻¹ would be nan at x = 0)
            return (g * 0.0,)
        return (g * n * x ** (n - 1),)


class PowValue(Op):
    """y = a^b with b a Value;  ∂a = ∂y · b · a^(b−1),  ∂b = ∂y · y · ln a

    At a = 0 the formulas meet 0 · ∞; like PyTorch we take the limits there:
    ∂a = 0 where b = 0 (y = a⁰ = 1 is flat in a), and ∂b = 0 where a = 0 and
    b ≥ 0 (y = 0^b stays 0, or 1 at b = 0).  Elsewhere ln a of a < 0 gives
    ∂b = nan, as in PyTorch, and a^(b−1) of 0 with b < 1 gives ∂a = ±∞.
    """

    name, hint = "pow", _BROADCAST_HINT

    @staticmethod
    def forward(a, b):
        return a**b

    @staticmethod
    def backward(g, y, a, b):
        # Where a limit applies, the formula is evaluated at a harmless a (1 instead
        # of 0) and then multiplied by 0: the result and every derivative of it
        # (with create_graph=True) are 0 there, with no nan from 0 · ∞.
        b_is_0 = raw(b) == 0
        a_is_0 = (raw(a) == 0) & (raw(b) >= 0)
        a_for_da = a + b_is_0 * (1 - raw(a)) if b_is_0.any() else a
        a_for_db = a + a_is_0 if a_is_0.any() else a
        # No warnings: ln a of a < 0 is nan and 0^(b−1) is ∞ on purpose, and b is
        # often a constant array nobody differentiates by.
        with np.errstate(divide="ignore", invalid="ignore"):
            grad_a = g * b * a_for_da ** (b - 1)
            grad_b = g * y * np.log(a_for_db)
        if b_is_0.any():
            grad_a = grad_a * ~b_is_0
        if a_is_0.any():
            grad_b = grad_b * ~a_is_0
        return grad_a, grad_b


class Matmul(Op):
    """y = a @ b;  ∂a = ∂y @ bᵀ,  ∂b = aᵀ @ ∂y   (1-D sides count as a row / a column)"""

    name = "matmul"
    hint = (
        "do not align: the last axis of the left side must equal the first axis "
        "(second-to-last for stacks) of the right side; transpose or reshape one side"
    )

    @staticmethod
    def forward(a, b):
        if type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == 2 == b.ndim:
            return a.dot(b)  # the same as a @ b for two matrices, and quicker on small ones
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul does not take 0-d operands; use * for scalars")
        return a @ b

    @staticmethod
    def backward(g, y, a, b):
        if a.ndim == 2 and b.ndim == 2:  # two matrices: the rule itself
            if type(g) is np.ndarray:
                return g.dot(b.T), a.T.dot(g)  # as above: ndarray.dot is the quicker @
            return g @ b.T, a.T @ g
        if a.ndim == 1 and b.ndim == 1:  # a dot product: y is a number
            return g * b, g * a
        # A 1-D side acts as a matrix (a row on the left, a column on the right):
        # add that axis to it and to g, apply the matrix rule, then drop it again.
        a2 = a.reshape((1, -1)) if a.ndim == 1 else a
        b2 = b.reshape((-1, 1)) if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = g2.reshape(g2.shape[:-1] + (1,) + g2.shape[-1:])
        if b.ndim == 1:
            g2 = g2.reshape(g2.shape + (1,))
        ga = g2 @ swap_last_two(b2)
        gb = swap_last_two(a2) @ g2
        if a.ndim == 1:
            ga = ga.reshape(ga.shape[:-2] + ga.shape[-1:])
        if b.ndim == 1:
            gb = gb.reshape(gb.shape[:-1])
        return ga, gb
