"""The same SGD step of the seed's 1-3-1 network, written for each engine the benchmark compares.

Every ``make_*`` function returns ``step(x, t) -> loss`` doing one full SGD
update (forward, backward, ``w ← w − η ∂w``) on one batch, plus the
parameters, so the benchmark can check that all of them compute the same
numbers before it times them.  Initial weights all come from ``init_weights``.
"""

from __future__ import annotations

import math

import numpy as np

ETA = 0.1


def init_weights(seed: int = 0, n_mid: int = 3, wb_width: float = 0.01) -> list[np.ndarray]:
    """w1 (1, n_mid), b1 (n_mid,), w2 (n_mid, 1), b2 (1,), as SineNet draws them."""
    from tinygrad_sine.nn import SineNet

    net = SineNet(n_mid=n_mid, wb_width=wb_width, seed=seed)
    return [p.data.copy() for p in net.parameters()]


def _net(weights):
    from tinygrad_sine.nn import SineNet

    net = SineNet(n_mid=weights[0].shape[1], seed=0)
    for p, w in zip(net.parameters(), weights):
        p.data = w.copy()
    return net


# ---------------------------------------------------------------- tinygrad_sine


def make_eager(weights, eta=ETA):
    """Tensor mode: the training loop of tinygrad_sine.sine (Value graph + backward())."""
    from tinygrad_sine.sine import _eager_step

    net = _net(weights)
    step = _eager_step(net, eta)
    return (lambda x, t: step(x, t)[1]), net.parameters()


def make_compiled(weights, eta=ETA):
    """What ``train --engine compiled`` runs: ``compile(loss, x0, t0).sgd(eta)``, the step traced
    once and replayed as generated code with the update inside (on Python floats at batch 1)."""
    from tinygrad_sine.sine import _compiled_step

    net = _net(weights)
    step = _compiled_step(net, eta)
    return (lambda x, t: step(x, t)[1]), net.parameters()


def make_compiled_numpy(weights, eta=ETA):
    """``compile``'s numpy code (what it writes for large shapes), then ``p.data -= η g``."""
    from tinygrad_sine import compile
    from tinygrad_sine.nn import squared_error

    net = _net(weights)
    x0, t0 = samples(1, 1)[0]
    step = compile(lambda x, t: squared_error(net(x), t), x0, t0)
    params = step.params

    def run(x, t):
        loss, grads = step(x, t)
        for p, g in zip(params, grads):
            p.data -= eta * g
        return float(loss)

    return run, params


def make_manual(weights, eta=ETA):
    """The post's hand-derived backprop in numpy (tinygrad_sine.manual)."""
    from tinygrad_sine.sine import _manual_step

    step = _manual_step(_net(weights), eta)
    params = [a for layer in step.manual.layers for a in (layer.w, layer.b)]
    return (lambda x, t: step(x, t)[1]), params


def make_scalar(weights, eta=ETA):
    """Scalar mode: one tinygrad_sine Value per weight, the network written as a micrograd user
    would write it; the update is the library's own ``nn.SGD`` (as ``train`` uses), where
    micrograd, which has no optimiser, gets the loop from its README."""
    from tinygrad_sine import Value
    from tinygrad_sine.nn import SGD

    return _scalar_net(Value, weights, lambda u: u.sigmoid(), eta, optimiser=SGD)


def make_micrograd(weights, eta=ETA):
    """micrograd (PyPI), one Value per weight, with sigmoid as one node written the way
    micrograd writes its own ops (``relu``: the forward number, then a closure that adds
    the local derivative times ``out.grad``) — the headline scalar row."""
    from micrograd.engine import Value as MGValue

    def mg_sigmoid(v):
        s = 1 / (1 + math.exp(-v.data))
        out = MGValue(s, (v,), "sigmoid")

        def _backward():
            v.grad += (1 - s) * s * out.grad

        out._backward = _backward
        return out

    return _scalar_net(MGValue, weights, mg_sigmoid, eta, zero=_mg_zero,
                       grad_of=lambda p: p.grad)


def make_micrograd_five_nodes(weights, eta=ETA):
    """micrograd with sigmoid built from its ops as 1 / (1 + exp(−u)): five nodes per sigmoid
    against our one (information only: it flatters us).  micrograd has no exp, so ``mg_exp``
    adds one in its style."""
    from micrograd.engine import Value as MGValue

    def mg_exp(v):
        out = MGValue(math.exp(v.data), (v,), "exp")

        def _backward():
            v.grad += out.data * out.grad

        out._backward = _backward
        return out

    return _scalar_net(MGValue, weights, lambda u: 1 / (1 + mg_exp(-u)), eta,
                       zero=_mg_zero, grad_of=lambda p: p.grad)


def _mg_zero(p):
    p.grad = 0.0


def _scalar_net(V, weights, sigmoid, eta, zero=None, grad_of=None, optimiser=None):
    """The 1-n-1 net on one Value per weight; updated by ``optimiser(params, eta)`` if given,
    else by the loop ``zero(p)`` … ``p.data -= eta * grad_of(p)``."""
    w1, b1, w2, b2 = weights
    n = w1.shape[1]
    w1s = [V(float(w1[0, j])) for j in range(n)]
    b1s = [V(float(b1[j])) for j in range(n)]
    w2s = [V(float(w2[j, 0])) for j in range(n)]
    b2s = V(float(b2[0]))
    params = [*w1s, *b1s, *w2s, b2s]
    sgd = optimiser(params, eta) if optimiser else None

    def step(x, t):
        if sgd:
            sgd.zero_grad()
        else:
            for p in params:
                zero(p)
        ys = [sigmoid(w * x + b) for w, b in zip(w1s, b1s)]
        y = sum((w * yj for w, yj in zip(w2s, ys)), b2s)
        e = 0.5 * (y - t) ** 2
        e.backward()
        if sgd:
            sgd.step()
        else:
            for p in params:
                p.data -= eta * grad_of(p)
        return float(e.data)

    return step, params


# ---------------------------------------------------------------- others


def make_torch(weights, eta=ETA):
    """PyTorch eager, float64, one thread: the same formulas, autograd for the gradients."""
    import torch

    torch.set_num_threads(1)
    params = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in weights]
    w1, b1, w2, b2 = params

    def step(x, t):
        y = torch.sigmoid(x @ w1 + b1) @ w2 + b2
        e = 0.5 * ((y - t) ** 2).sum()
        e.backward()
        with torch.no_grad():
            for p in params:
                p -= eta * p.grad
                p.grad = None
        return e.item()

    return step, params


class _PostLayer:
    """A layer as the post writes one: forward keeps x and y; backward keeps grad_w, grad_b
    and grad_x; the activation and its derivative are functions it holds.  This base class is
    the output layer (its backward takes the targets t)."""

    def __init__(self, w, b, activation, derivative):
        self.w, self.b = w.copy(), b.copy()
        self.activation, self.derivative = activation, derivative

    def forward(self, x):
        self.x = x
        self.y = self.activation(np.dot(x, self.w) + self.b)
        return self.y

    def backward(self, t):
        delta = self.y - t  # identity output, squared error
        self.grad_w = np.dot(self.x.T, delta)
        self.grad_b = np.sum(delta, axis=0)
        self.grad_x = np.dot(delta, self.w.T)

    def update(self, eta):
        self.w -= eta * self.grad_w
        self.b -= eta * self.grad_b


class _PostMiddle(_PostLayer):
    """The middle layer overrides backward: δ = ∂y · f′(y), from the layer above's grad_x."""

    def backward(self, grad_y):
        delta = grad_y * self.derivative(self.y)
        self.grad_w = np.dot(self.x.T, delta)
        self.grad_b = delta.sum(axis=0)
        self.grad_x = np.dot(delta, self.w.T)


def make_post(weights, eta=ETA, error_every_step=True):
    """The post's loop in the post's shape (written here, not copied): a middle and an output
    layer object; per sample forward, backward (output, then middle), update.  The post
    computes the error only on recorded epochs (1 in 200): ``error_every_step=False`` times
    that loop; the check of equal losses needs it on."""
    w1, b1, w2, b2 = weights
    mid = _PostMiddle(w1, b1, lambda u: 1 / (1 + np.exp(-u)), lambda y: (1 - y) * y)
    out = _PostLayer(w2, b2, lambda u: u, lambda y: 1)

    def step(x, t):
        mid.forward(x)
        y = out.forward(mid.y)
        out.backward(t)
        mid.backward(out.grad_x)
        mid.update(eta)
        out.update(eta)
        if error_every_step:
            return 0.5 * float(np.sum(np.square(y - t)))

    return step, [mid.w, mid.b, out.w, out.b]


def make_plain_floats(weights, eta=ETA):
    """The hand-derived formulas on plain Python floats (no numpy, no graph): a floor."""
    w1, b1, w2, b2 = ([float(v) for v in w.ravel()] for w in weights)
    n = len(w1)
    b2 = b2[0]

    def step(x, t):
        nonlocal b2
        y1 = [1 / (1 + math.exp(-(x * w1[j] + b1[j]))) for j in range(n)]
        y = sum(w2[j] * y1[j] for j in range(n)) + b2
        delta = y - t  # δ_k = y_k − t_k
        for j in range(n):
            d = delta * w2[j] * (1 - y1[j]) * y1[j]  # δ_j = ∂y_j (1 − y_j) y_j
            w2[j] -= eta * y1[j] * delta
            w1[j] -= eta * x * d
            b1[j] -= eta * d
        b2 -= eta * delta
        return 0.5 * delta * delta

    return step, None


def samples(batch: int, steps: int, seed: int = 0, kind: str = "numpy"):
    """``steps`` batches of the seed's data, shuffled every epoch as the training loop does.

    ``kind`` is "numpy" ((batch, 1) float64 arrays), "float" (Python numbers,
    batch 1 only) or "torch" (float64 tensors).
    """
    from tinygrad_sine.sine import sine_data

    x_all, t_all = sine_data()
    x_all, t_all = x_all.reshape(-1, 1), t_all.reshape(-1, 1)
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < steps:
        order = rng.permutation(len(x_all))
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            out.append((x_all[idx], t_all[idx]))
    out = out[:steps]
    if kind == "float":
        return [(float(x[0, 0]), float(t[0, 0])) for x, t in out]
    if kind == "torch":
        import torch

        return [(torch.from_numpy(x), torch.from_numpy(t)) for x, t in out]
    return out
