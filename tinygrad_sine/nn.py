"""The seed's network, built from ``Value`` operations.

The post's ``Neuron`` class becomes :class:`Layer`: weights ``w`` of shape
``(n_in, n_out)``, a bias ``b`` of shape ``(n_out,)``, and a call that
computes

    u = x @ w + b          (the pre-activation; its gradient is the seed's δ)
    y = activation(u)      (the output; its gradient is the seed's ∂y)

:class:`Middle` uses the sigmoid (中間層), :class:`Output` the identity (出力層).
Nothing here computes a gradient by hand: ``E.backward()`` does it all, and
``compare.py`` checks the result against the seed's formulas.

:class:`MLP` is the general network made of the same layers (any sizes,
tanh/relu/sigmoid hidden layers, an identity output), and
:func:`cross_entropy` the loss for classes beside the post's
:func:`squared_error`: softmax cross-entropy as one node, whose gradient at
the logits is δ = p − t.

Names: a layer's nodes are labelled ``w<n>``, ``b<n>``, ``u<n>``, ``y<n>``
with its number ``n``, so that diagrams and the stepper tell layers apart.
``SineNet`` numbers its layers 1, 2, … from the input side (the post's
names); a layer built by hand without ``index=`` takes its number when it is
first called (see :class:`Layer`).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable

import numpy as np

from . import anomaly as _anomaly
from .arguments import check_real, is_int
from .autograd import no_grad, topo_order
from .hints import input_error, input_hint, target_hint
from .ops import CrossEntropy, SquaredError
from .value import Value, _apply, _tick
from .weak import WeakIdDict

__all__ = ["ACTIVATIONS", "Layer", "Middle", "Output", "SineNet", "MLP", "squared_error",
           "cross_entropy", "SGD", "layer_of", "input_hint", "input_error"]

# Activations a layer takes by name; any other function from Value to Value works too.
ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "sigmoid": Value.sigmoid,
    "tanh": Value.tanh,
    "relu": Value.relu,
    "identity": Value.identity,
}

# Every layer that has a number, so that a layer called for the first time can
# find the layers whose outputs feed it (weak: a layer is never kept alive here).
_NUMBERED: weakref.WeakSet = weakref.WeakSet()

# Which layer made each parameter, so that diagrams and the stepper can tell
# a SineNet layer's values from a look-alike written by hand (``layer_of``).
# Weak keys matched by identity (a Value's == compares numbers): an entry goes
# with its parameter and never keeps one alive.
_MADE_BY = WeakIdDict()

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


_WB_WIDTH = "wb_width (the spread of the initial weights)"


def layer_of(w: Value, b: Value) -> tuple[str, int] | None:
    """``(kind, index)`` of the layer that made weights ``w`` and bias ``b`` together, or None.

    ``kind`` is ``"middle"``, ``"output"`` or ``"layer"``.
    """
    made = _MADE_BY.get(w)
    return made if made is not None and _MADE_BY.get(b) is made else None


def _activation(activation, n_out: int, where: str) -> tuple[Callable[[Value], Value], str]:
    """``(function, name)`` for an activation given by name or as a function of a Value.

    A function is tried once, on a small Value, so that one which does not
    work on Values fails when the layer is built rather than in training.
    """
    names = ", ".join(repr(n) for n in ACTIVATIONS)
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise ValueError(f"{where}: unknown activation {activation!r}; use one of {names}, "
                             "or a function of a Value such as Value.tanh")
        return ACTIVATIONS[activation], activation
    if not callable(activation):
        raise TypeError(f"{where}: activation must be one of {names} or a function of a Value, "
                        f"got {type(activation).__name__} {activation!r}")
    name = next((n for n, f in ACTIVATIONS.items() if f is activation),
                getattr(activation, "__name__", type(activation).__name__))
    probe = Value(np.full((1, n_out), 0.5))
    try:
        with no_grad():
            out = activation(probe)
    except Exception as err:
        raise TypeError(f"{where}: activation {name} failed on a Value ({type(err).__name__}: "
                        f"{err}); use one of {names}, or a function of a Value") from None
    if out is probe:  # `lambda u: u`: the identity, as a node of its own so u and y both show
        return ACTIVATIONS["identity"], "identity"
    if not isinstance(out, Value) or out.shape != probe.shape:
        got = f"shape {out.shape}" if isinstance(out, Value) else type(out).__name__
        raise TypeError(f"{where}: activation {name} must return a Value of its input's shape "
                        f"{probe.shape}, got {got}; use one of {names}, or a function of a Value")
    return activation, name


class Layer:
    """One fully connected layer: ``u = x @ w + b``, ``y = activation(u)``.

    ``activation`` is a name, ``"sigmoid"``, ``"tanh"``, ``"relu"`` or
    ``"identity"`` (:data:`ACTIVATIONS`), or a function from a Value to a
    Value of the same shape (``Value.tanh``, ``lambda u: u * u.sigmoid()``,
    or ``np.tanh`` where numpy functions dispatch to Value's operations).
    It is tried once on a small Value when the layer is built, so an unknown
    name, something that is not callable, or a function that does not work
    on Values is refused here, with the list of names, not during training.

    Initial weights, drawn from ``rng`` (a ``numpy.random.Generator`` or
    ``RandomState``; a fresh unseeded Generator if None):

    * ``wb_width`` given: the seed's rule, ``w = wb_width · N(0, 1)`` of shape
      ``(n_in, n_out)``, then ``b = wb_width · N(0, 1)`` of shape ``(n_out,)``.
    * ``wb_width=None`` (the default): scaled to the layer's fan-in, as a
      general network needs: ``w = N(0, 1) · √(1/n_in)`` (LeCun's, the
      Xavier/Glorot rule for fan-in; u then has about the spread of x),
      ``√(2/n_in)`` for ``relu`` (He's), and ``b = 0``.  PyTorch and Keras
      scale by fan-in too.  The seed's 0.01 suits its 1-3-1 sine network
      (``Middle``, ``Output`` and ``SineNet`` keep it) but stalls others: a
      2-2-1 tanh network on XOR stays at E = 0.5.

    Numbering: ``index=n`` labels the layer's nodes ``w<n>``, ``b<n>``,
    ``u<n>``, ``y<n>``.  Without it, the layer takes its number at its first
    call: one more than the highest-numbered layer whose output feeds it
    (directly or through other operations), or 1 if none does; until then
    its parameters are labelled ``w`` and ``b``.  So ``l2(l1(x))`` has w1 … y1
    and w2 … y2.  Two layers fed side by side from the same input would both
    take the same number: give such layers ``index=``.

    After a call, ``.x``, ``.u`` and ``.y`` hold that call's input,
    pre-activation and output nodes.

    >>> l1, l2 = Layer(2, 2, "tanh"), Layer(2, 1, "sigmoid")
    >>> y = l2(l1(np.ones((4, 2))))
    >>> [p.label for p in l1.parameters() + l2.parameters()], y.label
    (['w1', 'b1', 'w2', 'b2'], 'y2')
    """

    kind = "layer"

    def __init__(
        self,
        n_in: int,
        n_out: int,
        activation: str | Callable[[Value], Value],
        wb_width: float | None = None,
        rng: np.random.Generator | np.random.RandomState | None = None,
        index: int | None = None,
    ):
        where = type(self).__name__
        for name, n in (("n_in", n_in), ("n_out", n_out)):
            if not is_int(n) or n < 1:
                raise ValueError(f"{where}: {name} must be a whole number ≥ 1, got {n!r}")
        if n_in * n_out > MAX_WEIGHTS:  # refuse now, rather than a MemoryError or the OOM killer
            raise ValueError(f"{where}: n_in × n_out = {n_in} × {n_out} = "
                             f"{n_in * n_out:,} weights, more than the {MAX_WEIGHTS:,} allowed "
                             "(each is 8 bytes, and its gradient as many again)")
        if index is not None and (not is_int(index) or index < 0):
            raise ValueError(f"{where}: index must be a whole number ≥ 0 or None, got {index!r}")
        if wb_width is not None:  # None: weights scaled to the layer (see the class docstring)
            wb_width = check_real(wb_width, where, _WB_WIDTH, example="the post's 0.01")
        self.activation, self.activation_name = _activation(activation, n_out, where)
        rng = np.random.default_rng() if rng is None else rng
        self.n_in, self.n_out, self.wb_width = n_in, n_out, wb_width
        if wb_width is None:
            gain = 2.0 if self.activation_name == "relu" else 1.0
            w, b = rng.standard_normal((n_in, n_out)) * np.sqrt(gain / n_in), np.zeros(n_out)
        else:
            w = wb_width * rng.standard_normal((n_in, n_out))
            b = wb_width * rng.standard_normal(n_out)
        self.w = Value(w, label="w")
        self.b = Value(b, label="b")
        self.x: Value | None = None
        self.u: Value | None = None
        self.y: Value | None = None
        self.index: int | None = None
        if index is not None:
            self._number(index)

    def _number(self, index: int) -> None:
        """Take number ``index``: label w and b now, and u and y at every call."""
        self.index = index
        self.w.label, self.b.label = f"w{index}", f"b{index}"
        self._labels = (f"u{index}", f"y{index}")  # made once, not at every call
        _MADE_BY[self.w] = _MADE_BY[self.b] = (self.kind, index)  # one tuple per layer
        _NUMBERED.add(self)

    def _number_from(self, x: Value) -> None:
        """Take one more than the highest number among the layers whose outputs feed ``x``."""
        outputs = {id(layer.y): layer.index for layer in _NUMBERED if layer.y is not None}
        below = max((outputs.get(id(node), 0) for node in topo_order(x)), default=0)
        self._number(below + 1)

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
            raise input_error(repr(self), shape, self.n_in)
        if self.index is None:
            self._number_from(x)
        u = x @ self.w + self.b
        y = self.activation(u)
        u.label, y.label = self._labels
        self.x, self.u, self.y = x, u, y
        return y

    def parameters(self) -> list[Value]:
        """``[w, b]``."""
        return [self.w, self.b]

    def __repr__(self) -> str:
        number = "not numbered yet" if self.index is None else f"layer {self.index}"
        sizes = f"{self.n_in} → {self.n_out}"
        return f"{type(self).__name__}({sizes}, {self.activation_name}, {number})"


class Middle(Layer):
    """The seed's middle layer (中間層): ``y = sigmoid(x @ w + b)``, weights ``0.01 · N(0, 1)``."""

    kind = "middle"

    def __init__(self, n_in: int, n_out: int, wb_width: float = 0.01, rng=None,
                 index: int | None = None):
        super().__init__(n_in, n_out, "sigmoid", wb_width, rng, index)


class Output(Layer):
    """The seed's output layer (出力層): ``y = identity(x @ w + b)``, weights ``0.01 · N(0, 1)``.

    The identity is kept as its own node so that the diagram shows both the
    pre-activation ``u`` (where δ_k lives) and the output ``y``.
    """

    kind = "output"

    def __init__(self, n_in: int, n_out: int, wb_width: float = 0.01, rng=None,
                 index: int | None = None):
        super().__init__(n_in, n_out, "identity", wb_width, rng, index)


class Layers:
    """A network that is a list of :class:`Layer` objects, run in order (``self.layers``).

    :class:`SineNet` and :class:`MLP` are both this; ``train`` needs only
    ``__call__`` and ``parameters()``.
    """

    layers: list[Layer]

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


class SineNet(Layers):
    """The seed's network: ``n_in`` → sigmoid middle layer(s) → identity output.

    ``n_mid`` is the number of middle units (3 in the post), or a tuple for
    several middle layers, e.g. ``(5, 4)`` for 1-5-4-1.  Layers are numbered
    1, 2, … from the input side.  With ``seed`` the weights are reproducible:
    one ``numpy.random.default_rng(seed)`` draws, layer by layer from the
    input side, first ``w`` and then ``b``, each ``wb_width · N(0, 1)``.

    ``legacy_rng=True`` draws them as the post does instead:
    ``np.random.seed(seed)`` then ``wb_width * np.random.randn(...)``, in the
    same order (here from ``np.random.RandomState(seed)``, which gives the
    same numbers and leaves numpy's global generator alone).  Train it with
    ``train(..., legacy_rng=True)`` to replay the post's run for that seed.

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
        legacy_rng: bool = False,
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
        wb_width = check_real(wb_width, "SineNet", _WB_WIDTH, example="the post's 0.01")
        seed = check_seed(seed, "SineNet")  # 0 … 2**32 − 1, which the legacy generator takes too
        rng = np.random.RandomState(seed) if legacy_rng else np.random.default_rng(seed)
        self.legacy_rng = bool(legacy_rng)
        self.layers: list[Layer] = [
            Middle(sizes[i], sizes[i + 1], wb_width, rng, index=i + 1) for i in range(len(mids))
        ]
        self.layers.append(Output(sizes[-1], n_out, wb_width, rng, index=len(mids) + 1))
        self.sizes = (*sizes, n_out)

    def __repr__(self) -> str:
        return f"SineNet({'-'.join(map(str, self.sizes))})"


class MLP(Layers):
    """A general network: ``n_in`` → hidden layers → ``n_out``, made of :class:`Layer` objects.

    ``hidden`` lists the hidden layers' sizes (``[24]`` for one layer of 24,
    ``[]`` for none: then the net is one linear layer).  Every hidden layer
    uses ``activation`` (``"tanh"``, ``"relu"``, ``"sigmoid"`` or a function
    of a Value, as :class:`Layer` takes); the output layer is the identity,
    so the net gives raw scores (logits for :func:`cross_entropy`, values
    for :func:`squared_error`).  Initial weights use Layer's default,
    scaled to each layer's fan-in (``N(0, 1) · √(1/n_in)``, ``√(2/n_in)``
    for relu; biases 0), drawn layer by layer from
    ``numpy.random.default_rng(seed)``.  Layers are numbered 1, 2, … from the
    input side, so their nodes are ``w1``, ``u1``, ``y1``, ``w2`` …

    :class:`SineNet` stays the post's network (sigmoid middle layers,
    weights ``0.01 · N(0, 1)``); an ``MLP`` is the one to reach for next.

    >>> net = MLP(2, [24], 3, activation="tanh", seed=0)
    >>> net, [layer.w.shape for layer in net.layers]
    (MLP(2-24-3, tanh), [(2, 24), (24, 3)])
    """

    def __init__(self, n_in: int, hidden: Iterable[int] | int, n_out: int,
                 activation: str | Callable[[Value], Value] = "tanh", seed: int | None = None):
        if isinstance(hidden, (str, bytes)) or not (is_int(hidden) or isinstance(hidden, Iterable)):
            raise TypeError(f"MLP: hidden must be a list of layer sizes such as [24] or [16, 8], "
                            f"got {type(hidden).__name__} {hidden!r}")
        hidden = (hidden,) if is_int(hidden) else tuple(hidden)
        for name, n in (("n_in", n_in), *(("hidden", h) for h in hidden), ("n_out", n_out)):
            if not is_int(n) or n < 1:
                also = " (each hidden layer's size)" if name == "hidden" else ""
                raise ValueError(f"MLP: {name} must be a whole number ≥ 1{also}, got {n!r}")
        seed = check_seed(seed, "MLP")
        sizes = (int(n_in), *map(int, hidden), int(n_out))
        rng = np.random.default_rng(seed)
        self.layers: list[Layer] = [
            Layer(sizes[i], sizes[i + 1], activation if i < len(hidden) else "identity",
                  rng=rng, index=i + 1)
            for i in range(len(sizes) - 1)
        ]
        self.activation_name = self.layers[0].activation_name if hidden else "identity"
        self.sizes = sizes

    def __repr__(self) -> str:
        return f"MLP({'-'.join(map(str, self.sizes))}, {self.activation_name})"


def squared_error(y: Value, t) -> Value:
    """The seed's sum of squared errors (二乗和誤差): E = ½ Σ (y − t)², labelled ``E``.

    Summed, not averaged, over the batch: that is the Σ in the seed's
    formulas, and with it δ_k = y_k − t_k exactly.  It is one node (the
    ``SquaredError`` op, whose derivative is y − t, as in the post) rather
    than four; ``0.5 * ((y - t) ** 2).sum()`` gives the same numbers.
    A ``t`` that is not a Value becomes a leaf labelled ``t``.
    """
    if not isinstance(y, Value):
        raise TypeError(f"squared_error: y must be a Value (the network's output, e.g. "
                        f"net(x)), got {type(y).__name__}; the target t may be an array")
    if not isinstance(t, Value):
        t = Value(t, label="t")
    if t.data.shape != y.data.shape:
        raise ValueError(f"squared_error: y has shape {y.shape} but t has shape {t.shape}; "
                         f"they must match: {target_hint(y.shape, t.shape)}")
    e = _apply(SquaredError, (y, t))  # both are Values already: no second wrapping
    e.label = "E"
    return e


SUM_TOLERANCE = 1e-6  # how far a row of probability targets may sum from 1


def cross_entropy(logits: Value, t, reduction: str = "sum") -> Value:
    """Softmax cross-entropy from logits: E = −Σ t · log softmax(logits), labelled ``E``.

    ``logits`` is the network's raw output, shape ``(n, C)`` for ``n``
    samples and ``C`` classes (or ``(C,)`` for one sample): the softmax is
    part of the loss, so the net ends with an identity layer, as in
    PyTorch's ``cross_entropy``.  ``t`` is either

    * class indices, shape ``(n,)``: whole numbers 0 … C − 1 (ints, or
      floats that are whole); they become a one-hot leaf labelled ``t``;
    * or probabilities, shape ``(n, C)`` (one-hot, or soft labels): each
      entry ≥ 0 and each row summing to 1 (within 1e-6).  A ``t`` that is
      not a Value becomes a leaf labelled ``t``.

    Anything else is refused with a ValueError: the wrong shape, an index
    out of range or not whole, a negative probability, a row not summing
    to 1 (such a row would make the gradient ``(Σt) p − t`` rather than
    ``p − t``), nan or inf, or ``C = 1`` (the softmax of one number is 1,
    and the loss would be 0 whatever the weights).

    Summed over the batch (``reduction="sum"``, the default), like
    :func:`squared_error` and the seed's Σ, so that the gradient at the
    logits is exactly δ = p − t with p = softmax(logits);
    ``reduction="mean"`` divides by ``n``, as PyTorch does by default.
    One node (the ``CrossEntropy`` op), so the stepper and the diagrams show
    δ = p − t at the logits.  Stable for large logits (1000 is fine).

    >>> z = Value([[2.0, 0.0, -1.0]], label="z")
    >>> E = cross_entropy(z, [0])
    >>> E.backward()
    >>> p = np.exp(z.data) / np.exp(z.data).sum()
    >>> bool(np.allclose(z.grad, p - [1, 0, 0]))
    True
    """
    if not isinstance(logits, Value):
        raise TypeError(f"cross_entropy: logits must be a Value (the network's output, e.g. "
                        f"net(x)), got {type(logits).__name__}; the target t may be an array")
    if reduction not in ("sum", "mean"):
        raise ValueError(f"cross_entropy: reduction must be 'sum' (the seed's Σ, the default) "
                         f"or 'mean', got {reduction!r}")
    shape = logits.shape
    if len(shape) == 0 or shape[-1] < 2:
        raise ValueError(f"cross_entropy: logits have shape {shape}; they need one score per "
                         "class (at least 2) along the last axis, e.g. (n, C) for n samples of "
                         "C classes (the softmax of a single number is 1, and the loss 0)")
    return _cross_entropy(logits, class_targets(t, shape, "cross_entropy"), reduction == "mean")


def _cross_entropy(logits: Value, t, mean: bool = False) -> Value:
    """The ``CrossEntropy`` node for targets already checked (``train`` checks them once)."""
    if not isinstance(t, Value):
        t = Value(t, label="t")
    e = _apply(CrossEntropy, (logits, t), (mean,))
    e.label = "E"
    return e


def class_targets(t, shape: tuple, where: str):
    """``t`` as probability targets of ``shape`` (``(n, C)``): a one-hot array for class
    indices, the array (or ``t`` itself, for a Value) for probabilities; else a ValueError."""
    value = t if isinstance(t, Value) else None
    try:
        arr = np.asarray(t.data if value is not None else t)
    except (TypeError, ValueError):  # ragged lists
        arr = np.asarray(None)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{where}: t must be class indices or probabilities (numbers), got "
                        f"{type(t).__name__}")
    n_classes, rows = shape[-1], shape[:-1]
    want = (f"class indices of shape {rows} (whole numbers 0 … {n_classes - 1}) or "
            f"probabilities of shape {shape} (one row per sample, each summing to 1)")
    if not np.isfinite(arr).all():
        raise ValueError(f"{where}: t has nan or inf values; give {want}")
    if arr.shape == rows:  # class indices
        whole = arr == np.round(arr)
        if not whole.all():
            bad = arr[~whole].ravel()[0]
            raise ValueError(f"{where}: t has shape {arr.shape}, so it holds class indices, but "
                             f"{bad.item():g} is not a whole number; give {want}")
        outside = (arr < 0) | (arr >= n_classes)
        if outside.any():
            bad = arr[outside].ravel()[0]
            raise ValueError(f"{where}: class index {bad.item():g} is out of range for "
                             f"{n_classes} classes (logits of shape {shape}); indices run from "
                             f"0 to {n_classes - 1}")
        return np.eye(n_classes)[arr.astype(np.intp)]
    if arr.shape != shape:
        raise ValueError(f"{where}: t has shape {arr.shape}, but the logits have shape {shape}; "
                         f"give {want}")
    arr = arr.astype(np.float64)
    if (arr < 0).any():
        raise ValueError(f"{where}: t has a negative probability ({arr.min():g}); give {want}")
    sums = arr.sum(axis=-1)
    off = np.abs(sums - 1) > SUM_TOLERANCE
    if off.any():
        row = tuple(int(i) for i in np.argwhere(off)[0])
        raise ValueError(f"{where}: row {list(row)} of t sums to {sums[row]:.6g}, not 1; "
                         f"probability targets must sum to 1 in each row (then the gradient "
                         f"is p − t); give {want}")
    return value if value is not None else arr


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
        self.eta = check_real(eta, "SGD", "eta (the learning rate)", positive=True,
                              example="0.1")

    def step(self) -> None:
        """w ← w − η ∂w for every parameter, in place (the graph of the step is not needed).

        A parameter with no gradient (not in the last graph) is left alone, as in PyTorch.
        """
        if _anomaly.is_active():  # inside detect_anomaly(): every new value checked first
            self._check_step()
        eta, now = self.eta, _tick()  # one tick of the data-change clock for the whole step
        for p in self.params:
            g = p._grad  # read directly: ``p.grad`` would make zeros for a missing gradient
            if g is not None:
                data = p._data  # what ``p.data -= eta * g`` does, without two property calls:
                data -= eta * g  # in place for an array, a new number for a single one
                p._data, p._version = data, now

    def _check_step(self) -> None:
        """Inside ``detect_anomaly()``, before the step: every new value is worked out and
        checked, and an update that overflows raises before any parameter is changed.  Only
        a check: the step itself is then made as without ``detect_anomaly()``."""
        for p in self.params:
            if p._grad is not None:
                with np.errstate(all="ignore"):
                    value = p._data - self.eta * p._grad
                _anomaly.check_update(p, p._grad, self.eta, value)

    def zero_grad(self) -> None:
        """Clear every parameter's ``.grad`` before the next backward pass."""
        for p in self.params:
            p._grad = None  # what p.zero_grad() does, without a call per parameter
