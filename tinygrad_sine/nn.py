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

MAX_WEIGHTS = 10**8  # numbers in one weight matrix: 0.8 GB of float64, and as much again per grad
MAX_SEED = 2**32 - 1  # numpy's generators take more, its legacy RandomState no more than this


def check_seed(seed, where: str) -> int | None:
    """``seed`` as an int if it is None or a whole number 0 … MAX_SEED; else a clear error."""
    if seed is None:
        return None
    if not is_int(seed):
        raise TypeError(f"{where}: seed must be None or a whole number from 0 to {MAX_SEED}, "
                        f"got {type(seed).__name__} {seed!r}")
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"{where}: seed must be a whole number from 0 to {MAX_SEED}, got {seed}")
    return int(seed)


def _is_real(x) -> bool:
    """A Python or numpy int or float, not a bool."""
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def _check_width(wb_width, where: str) -> float:
    """``wb_width`` as a float if it is a finite number ≥ 0; else a clear error."""
    if not _is_real(wb_width):
        raise TypeError(f"{where}: wb_width (the spread of the initial weights) must be a number "
                        f"such as 0.01, got {type(wb_width).__name__} {wb_width!r}")
    if not (np.isfinite(wb_width) and wb_width >= 0):
        raise ValueError(f"{where}: wb_width (the spread of the initial weights) must be a finite "
                         f"number ≥ 0, such as the post's 0.01; got {wb_width!r}")
    return float(wb_width)


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
        for name, n in (("n_in", n_in), ("n_out", n_out)):
            if not is_int(n) or n < 1:
                raise ValueError(f"{type(self).__name__}: {name} must be a whole number ≥ 1, "
                                 f"got {n!r}")
        if n_in * n_out > MAX_WEIGHTS:  # refuse now, rather than a MemoryError or the OOM killer
            raise ValueError(f"{type(self).__name__}: n_in × n_out = {n_in} × {n_out} = "
                             f"{n_in * n_out:,} weights, more than the {MAX_WEIGHTS:,} allowed "
                             "(each is 8 bytes, and its gradient as many again)")
        wb_width = _check_width(wb_width, type(self).__name__)
        rng = np.random.default_rng() if rng is None else rng
        self.n_in, self.n_out, self.index = n_in, n_out, index
        self.activation = activation
        self.w = Value(wb_width * rng.standard_normal((n_in, n_out)), label=f"w{index}")
        self.b = Value(wb_width * rng.standard_normal(n_out), label=f"b{index}")
        self.x: Value | None = None
        self.u: Value | None = None
        self.y: Value | None = None
        _MADE_BY[self.w] = _MADE_BY[self.b] = (self.kind, index)  # one tuple per layer

    def __setstate__(self, state: dict) -> None:
        """A copy (``copy.deepcopy``, ``pickle``) is a layer too: its parameters are
        registered, so diagrams and the stepper recognise it as the original is."""
        self.__dict__.update(state)
        _MADE_BY[self.w] = _MADE_BY[self.b] = (self.kind, self.index)

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
        sizes = (n_in, *mids)
        for a, b in zip(sizes, (*mids, n_out)):  # refuse now, not with a MemoryError later
            if a * b > MAX_WEIGHTS:
                raise ValueError(f"SineNet: n_in={n_in}, n_mid={n_mid!r}, n_out={n_out} need a "
                                 f"{a} × {b} weight matrix ({a * b:,} numbers), more than the "
                                 f"{MAX_WEIGHTS:,} allowed")
        wb_width = _check_width(wb_width, "SineNet")
        rng = np.random.default_rng(check_seed(seed, "SineNet"))
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
    if not isinstance(y, Value):
        raise TypeError(f"squared_error: y must be a Value (the network's output, e.g. "
                        f"net(x)), got {type(y).__name__}; the target t may be an array")
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
        """``params``: the Values to update, e.g. ``net.parameters()``; ``eta``: the step size.

        Checked here, not at the first ``step``: every parameter must be a
        leaf ``Value`` (made by you, not the result of an operation — updating
        a computed node would change nothing that the next forward pass
        reads), and ``eta`` a finite number > 0.
        """
        self.params = list(params)
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(f"SGD: params[{i}] is a {type(p).__name__}, not a Value; "
                                "pass the network's parameters, e.g. SGD(net.parameters())")
            if p.parents:
                raise ValueError(f"SGD: params[{i}] ({p.op}) is the result of an operation, not a "
                                 "leaf Value; optimise the leaves it was computed from")
        if not _is_real(eta):
            raise TypeError(f"SGD: eta (the learning rate) must be a number such as 0.1, "
                            f"got {type(eta).__name__} {eta!r}")
        if not (np.isfinite(eta) and eta > 0):
            raise ValueError(f"SGD: eta (the learning rate) must be a finite number > 0, "
                             f"got {eta!r}")
        self.eta = eta

    def step(self) -> None:
        """w ← w − η ∂w for every parameter, in place (the graph of the step is not needed)."""
        for p in self.params:
            p.data -= self.eta * p.grad

    def zero_grad(self) -> None:
        """Clear every parameter's ``.grad`` before the next backward pass."""
        for p in self.params:
            p.zero_grad()
