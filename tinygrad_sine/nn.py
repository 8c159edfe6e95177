"""The seed's network, built from ``Value`` operations.

The post's ``Neuron`` class becomes :class:`Layer`: weights ``w`` of shape
``(n_in, n_out)``, a bias ``b`` of shape ``(n_out,)``, and a call that
computes

    u = x @ w + b          (the pre-activation; its gradient is the seed's δ)
    y = activation(u)      (the output; its gradient is the seed's ∂y)

:class:`Middle` uses the sigmoid (中間層), :class:`Output` the identity (出力層).
Nothing here computes a gradient by hand: ``E.backward()`` does it all, and
``compare.py`` checks the result against the seed's formulas.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable

import numpy as np

from .ops import SquaredError
from .value import Value, apply, is_int

# The seed's names for the units of each layer: input i, middle j, output k.
_SIGMOID = Value.sigmoid
_IDENTITY = Value.identity

# Which layer made each parameter, so that diagrams and the stepper can tell
# a SineNet layer's values from a look-alike written by hand (``layer_of``).
# Weak keys: an entry goes with its parameter and never keeps one alive.
_MADE_BY: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def layer_of(w: Value, b: Value) -> tuple[str, int] | None:
    """``(kind, index)`` of the layer that made weights ``w`` and bias ``b`` together, or None.

    ``kind`` is ``"middle"``, ``"output"`` or ``"layer"``.
    """
    made = _MADE_BY.get(w)
    return made if made is not None and _MADE_BY.get(b) is made else None


class Layer:
    """One fully connected layer: ``u = x @ w + b``, ``y = activation(u)``.

    ``activation`` is a function from Value to Value (``Value.sigmoid``,
    ``Value.identity``, ``Value.tanh``, …).  Initial weights follow the seed:
    ``w = wb_width · N(0, 1)`` of shape ``(n_in, n_out)``, then
    ``b = wb_width · N(0, 1)`` of shape ``(n_out,)``, drawn in that order from
    ``rng`` (a ``numpy.random.Generator``; a fresh unseeded one if ``None``).

    After a call, ``.x``, ``.u`` and ``.y`` hold that call's input,
    pre-activation and output nodes, labelled ``x``/``u<n>``/``y<n>`` so that
    diagrams and the stepper can name them.
    """

    kind = "layer"

    def __init__(
        self,
        n_in: int,
        n_out: int,
        activation: Callable[[Value], Value],
        wb_width: float = 0.01,
        rng: np.random.Generator | None = None,
        index: int = 1,
    ):
        if n_in < 1 or n_out < 1:
            raise ValueError(f"Layer: sizes must be at least 1, got n_in={n_in}, n_out={n_out}")
        rng = np.random.default_rng() if rng is None else rng
        self.n_in, self.n_out, self.index = n_in, n_out, index
        self.activation = activation
        self.w = Value(wb_width * rng.standard_normal((n_in, n_out)), label=f"w{index}")
        self.b = Value(wb_width * rng.standard_normal(n_out), label=f"b{index}")
        self.x: Value | None = None
        self.u: Value | None = None
        self.y: Value | None = None
        _MADE_BY[self.w] = _MADE_BY[self.b] = (self.kind, index)  # one tuple per layer

    def __call__(self, x) -> Value:
        if not isinstance(x, Value):
            x = Value(x, label="x")
        shape = x.data.shape
        if len(shape) != 2 or shape[1] != self.n_in:
            raise ValueError(
                f"{type(self).__name__}{self.index}: input has shape {x.shape}, expected "
                f"(batch, {self.n_in}); reshape a single sample with x.reshape(1, -1)"
            )
        u = x @ self.w + self.b
        u.label = f"u{self.index}"
        y = self.activation(u)
        y.label = f"y{self.index}"
        self.x, self.u, self.y = x, u, y
        return y

    def parameters(self) -> list[Value]:
        """``[w, b]``."""
        return [self.w, self.b]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.n_in} → {self.n_out}, layer {self.index})"


class Middle(Layer):
    """The seed's middle layer (中間層): ``y = sigmoid(x @ w + b)``."""

    kind = "middle"

    def __init__(self, n_in: int, n_out: int, wb_width: float = 0.01, rng=None, index: int = 1):
        super().__init__(n_in, n_out, _SIGMOID, wb_width, rng, index)


class Output(Layer):
    """The seed's output layer (出力層): ``y = identity(x @ w + b)``.

    The identity is kept as its own node so that the diagram shows both the
    pre-activation ``u`` (where δ_k lives) and the output ``y``.
    """

    kind = "output"

    def __init__(self, n_in: int, n_out: int, wb_width: float = 0.01, rng=None, index: int = 2):
        super().__init__(n_in, n_out, _IDENTITY, wb_width, rng, index)


class SineNet:
    """The seed's network: ``n_in`` → sigmoid middle layer(s) → identity output.

    ``n_mid`` is the number of middle units (3 in the post), or a tuple for
    several middle layers, e.g. ``(5, 4)`` for 1-5-4-1.  With ``seed`` the
    weights are reproducible: one ``numpy.random.default_rng(seed)`` draws,
    layer by layer from the input side, first ``w`` and then ``b``.

    >>> net = SineNet(seed=0)
    >>> [layer.w.shape for layer in net.layers]
    [(1, 3), (3, 1)]
    """

    def __init__(
        self,
        n_in: int = 1,
        n_mid: int | Iterable[int] = 3,
        n_out: int = 1,
        wb_width: float = 0.01,
        seed: int | None = None,
    ):
        mids = tuple(n_mid) if isinstance(n_mid, Iterable) else (n_mid,)
        if not mids:
            raise ValueError("SineNet: n_mid needs at least one middle layer size")
        for name, n in (("n_in", n_in), *(("n_mid", m) for m in mids), ("n_out", n_out)):
            if not is_int(n) or n < 1:
                also = " (or a tuple of them, one per middle layer)" if name == "n_mid" else ""
                raise ValueError(f"SineNet: {name} must be a whole number ≥ 1{also}, got {n!r}")
        rng = np.random.default_rng(seed)
        sizes = (n_in, *mids)
        self.layers: list[Layer] = [
            Middle(sizes[i], sizes[i + 1], wb_width, rng, index=i + 1) for i in range(len(mids))
        ]
        self.layers.append(Output(sizes[-1], n_out, wb_width, rng, index=len(mids) + 1))
        self.sizes = (*sizes, n_out)

    def __call__(self, x) -> Value:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Value]:
        """``[w1, b1, w2, b2, …]``, input side first."""
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self) -> None:
        """Clear the parameters' ``.grad`` (gradients accumulate otherwise)."""
        for p in self.parameters():
            p.zero_grad()

    def __repr__(self) -> str:
        return f"SineNet({'-'.join(map(str, self.sizes))})"


def squared_error(y: Value, t) -> Value:
    """The seed's sum of squared errors (二乗和誤差): E = ½ Σ (y − t)², labelled ``E``.

    Summed, not averaged, over the batch: that is the Σ in the seed's
    formulas, and with it δ_k = y_k − t_k exactly.  It is one node (the
    ``SquaredError`` op, whose derivative is y − t, as in the post) rather
    than four; ``0.5 * ((y - t) ** 2).sum()`` gives the same numbers.
    """
    if not isinstance(t, Value):
        t = Value(t, label="t")
    if t.shape != y.shape:
        raise ValueError(
            f"squared_error: y has shape {y.shape} but t has shape {t.shape}; "
            "they must match (reshape t to (batch, n_out))"
        )
    e = apply(SquaredError, y, t)
    e.label = "E"
    return e


class SGD:
    """Plain gradient descent, as in the seed: ``w ← w − η ∂w`` for every parameter."""

    def __init__(self, params: Iterable[Value], eta: float = 0.1):
        self.params = list(params)
        self.eta = eta

    def step(self) -> None:
        """w ← w − η ∂w for every parameter, in place (the graph of the step is not needed)."""
        for p in self.params:
            p.data -= self.eta * p.grad

    def zero_grad(self) -> None:
        """Clear every parameter's ``.grad`` before the next backward pass."""
        for p in self.params:
            p.zero_grad()
