"""Manual versus automatic: each hand-derived quantity beside the gradient at its node.

Where each of the seed's quantities lives in the graph of one layer
(``u = x @ w + b``, ``y = activation(u)``):

    δ    the gradient at the pre-activation ``u``     (``layer.u.grad``)
    ∂w   the gradient at the weights ``w``            (``layer.w.grad``)
    ∂b   the gradient at the bias ``b``               (``layer.b.grad``)
    ∂y   the gradient at the layer's input ``x``, which is the output ``y`` of
         the layer below; the seed names it after that layer's units
         (``∂y_j`` at the output layer, ``∂y_i`` at the middle layer)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .manual import ManualSineNet
from .nn import SineNet, squared_error
from .value import Value

# The seed's formulas, by layer kind and quantity, in its own index letters.
FORMULAS = {
    ("output", "δ"): "δ_k = y_k − t_k",
    ("output", "∂w"): "∂w_jk = y_j δ_k",
    ("output", "∂b"): "∂b_k = δ_k",
    ("output", "∂y"): "∂y_j = Σ_r δ_r w_jr",
    ("middle", "δ"): "δ_j = ∂y_j (1 − y_j) y_j",
    ("middle", "∂w"): "∂w_ij = y_i δ_j",
    ("middle", "∂b"): "∂b_j = δ_j",
    ("middle", "∂y"): "∂y_i = Σ_q δ_q w_iq",
}
QUANTITIES = ("δ", "∂w", "∂b", "∂y")


@dataclass
class GradientRow:
    """One hand-derived quantity and the automatic gradient at its node."""

    layer: str  # e.g. "output (layer 2)"
    quantity: str  # "δ", "∂w", "∂b" or "∂y"
    formula: str  # the seed's formula, e.g. "δ_k = y_k − t_k"
    node: Value  # the graph node whose .grad is the automatic value
    manual: np.ndarray
    auto: np.ndarray

    @property
    def max_abs_diff(self) -> float:
        """The largest ``|manual − auto|``; NaN if either side has a NaN or an infinity."""
        with np.errstate(invalid="ignore"):  # inf − inf: a NaN, reported as such
            diff = np.abs(self.manual - self.auto)
        return float(diff.max()) if np.isfinite(diff).all() else float("nan")


def seed_quantities(net: SineNet) -> list[tuple]:
    """``(layer, quantity, formula, node, layer_name)`` for every seed quantity of the last
    forward pass, output layer first, as backprop visits them.

    The node is where autodiff's gradient of that quantity lives: δ at the
    layer's pre-activation ``u``, ∂w and ∂b at its parameters, ∂y at its
    input ``x`` (the output of the layer below).  The diagrams and the
    stepper find these nodes on their own, from the graph
    (``show.describe``); the tests check that both agree.
    """
    found = []
    for layer in reversed(net.layers):
        if layer.u is None:
            raise ValueError("seed_quantities: run the network forward first (net(x))")
        nodes = {"δ": layer.u, "∂w": layer.w, "∂b": layer.b, "∂y": layer.x}
        name = f"{layer.kind} (layer {layer.index})"
        for q in QUANTITIES:
            found.append((layer, q, FORMULAS[(layer.kind, q)], nodes[q], name))
    return found


def _manual_value(mlayer, quantity: str) -> np.ndarray:
    return {"δ": mlayer.delta, "∂w": mlayer.grad_w, "∂b": mlayer.grad_b, "∂y": mlayer.grad_x}[
        quantity
    ]


def compare_gradients(net: SineNet, x, t) -> list[GradientRow]:
    """Run one forward/backward pass both ways and pair up the seed's quantities.

    ``x`` has shape ``(batch, n_in)`` and ``t`` shape ``(batch, n_out)``.
    The network's ``.grad``s are reset first; the weights are not changed.
    """
    x = np.asarray(x.data if isinstance(x, Value) else x, dtype=np.float64)
    t = np.asarray(t.data if isinstance(t, Value) else t, dtype=np.float64)
    n_in, n_out = net.sizes[0], net.sizes[-1]
    if x.ndim != 2 or x.shape[1] != n_in:
        raise ValueError(f"compare_gradients: x has shape {x.shape}, expected (batch, {n_in}); "
                         "reshape a single sample with x.reshape(1, -1)")
    if t.shape != (len(x), n_out):
        raise ValueError(f"compare_gradients: t has shape {t.shape}, expected {(len(x), n_out)} "
                         "(one row of targets per row of x)")
    manual = ManualSineNet.from_net(net)
    manual.forward(x)
    manual.backward(t)

    net.zero_grad()
    xv = Value(x, label="x")
    loss = squared_error(net(xv), t)
    loss.backward()

    by_index = {m.index: m for m in manual.layers}
    return [
        GradientRow(name, q, formula, node, _manual_value(by_index[layer.index], q), node.grad)
        for layer, q, formula, node, name in seed_quantities(net)
    ]


def _short(arr: np.ndarray, width: int = 34) -> str:
    text = np.array2string(
        np.asarray(arr), precision=6, threshold=4, edgeitems=1, separator=" ", suppress_small=False
    ).replace("\n", "")
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def format_table(rows: list[GradientRow]) -> str:
    """The rows as an aligned text table: layer, formula, node, manual, automatic, |diff|."""
    header = ("layer", "formula", "node", "manual", "automatic", "max |diff|")
    body = [
        (r.layer, r.formula, r.node.label or r.node.op, _short(r.manual), _short(r.auto),
         f"{r.max_abs_diff:.1e}")
        for r in rows
    ]
    widths = [max(len(str(line[i])) for line in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip()
             for line in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
