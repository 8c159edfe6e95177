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

from .arguments import check_real
from .autograd import _name, grad, topo_order
from .gradcheck import disagree
from .hints import input_error, target_hint
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
        return max_abs_diff(self.manual, self.auto)


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


def check_data(net: SineNet, x, t, where: str) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``t`` as float64 arrays of shapes ``(batch, n_in)`` and ``(batch, n_out)``.

    Anything else is a ValueError naming ``where``, both shapes and the fix.
    """
    __tracebackhide__ = True
    x = np.asarray(x.data if isinstance(x, Value) else x, dtype=np.float64)
    t = np.asarray(t.data if isinstance(t, Value) else t, dtype=np.float64)
    n_in, n_out = net.sizes[0], net.sizes[-1]
    if x.ndim != 2 or x.shape[1] != n_in:
        raise input_error(where, x.shape, n_in)
    if t.shape != (len(x), n_out):
        raise ValueError(f"{where}: t has shape {t.shape}, expected {(len(x), n_out)} (one row of "
                         f"targets per row of x); {target_hint((len(x), n_out), t.shape)}")
    return x, t


def compare_gradients(net: SineNet, x, t) -> list[GradientRow]:
    """Run one forward/backward pass both ways and pair up the seed's quantities.

    ``x`` has shape ``(batch, n_in)`` and ``t`` shape ``(batch, n_out)``.
    The network's ``.grad``s are reset first; the weights are not changed.
    """
    x, t = check_data(net, x, t, "compare_gradients")
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


WHOLE = 36  # a gradient of at most this many numbers is shown whole in a table


def _short(arr: np.ndarray, at: tuple | None = None) -> str:
    """A table cell: a small array whole, one matrix row a line; a larger one by one element.

    Up to :data:`WHOLE` numbers are shown in full (``-0`` shown as ``0``); a
    larger array is shown by the element at ``at`` (the row's worst element),
    e.g. ``(63, 3) at [12, 0]: -0.0314``.
    """
    arr = np.asarray(arr, dtype=np.float64) + 0.0  # + 0.0 turns −0.0 into 0.0
    if arr.size <= WHOLE:
        return np.array2string(arr, precision=6, separator=" ", threshold=WHOLE + 1,
                               max_line_width=10**6, suppress_small=False)
    at = np.unravel_index(int(np.argmax(np.abs(arr))), arr.shape) if at is None else at
    return f"{arr.shape} at {list(map(int, at))}: {number(arr[at])}"


def worst_index(manual: np.ndarray, auto: np.ndarray, rtol: float = 0.0,
                atol: float = 0.0) -> tuple:
    """The index where ``|manual − auto|`` most exceeds ``atol + rtol·|auto|``.

    A NaN or an infinity counts as the largest excess.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(np.asarray(manual, dtype=np.float64) - auto)
        excess = np.where(np.isfinite(diff), diff - (atol + rtol * np.abs(auto)), np.inf)
    return np.unravel_index(int(np.argmax(excess)), excess.shape) if excess.size else ()


def format_table(rows: list[GradientRow]) -> str:
    """The rows as an aligned text table: layer, formula, node, manual, automatic, |diff|."""
    header = ("layer", "formula", "node", "manual", "automatic", "max |diff|")
    body = [
        (r.layer, r.formula, r.node.label or r.node.op, *_pair(r.manual, r.auto),
         f"{r.max_abs_diff:.1e}")
        for r in rows
    ]
    return _align(header, body)


def _pair(manual: np.ndarray, auto: np.ndarray, rtol: float = 0.0,
          atol: float = 0.0) -> tuple[str, str]:
    """Both sides' cells; a large array is shown on both sides at the same, worst, element."""
    at = worst_index(manual, auto, rtol, atol) if np.size(auto) > WHOLE else None
    return _short(manual, at), _short(auto, at)


def _align(header: tuple, body: list) -> str:
    """An aligned text table: the header, a line of dashes, then the rows of body.

    A cell may hold several lines (a matrix, one row a line): its table row
    is then as tall as its tallest cell.
    """
    cells = [[str(c).split("\n") for c in line] for line in [header, *body]]
    widths = [max(len(part) for line in cells for part in line[i]) for i in range(len(header))]
    lines = []
    for line in cells:
        for k in range(max(len(c) for c in line)):
            parts = [c[k] if k < len(c) else "" for c in line]
            lines.append("  ".join(p.ljust(w) for p, w in zip(parts, widths)).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def max_abs_diff(manual: np.ndarray, auto: np.ndarray) -> float:
    """The largest ``|manual − auto|``; NaN if either side has a NaN or an infinity (or none)."""
    with np.errstate(invalid="ignore", over="ignore"):  # inf − inf: a NaN, reported as such
        diff = np.abs(manual - auto)
    return float(diff.max()) if diff.size and np.isfinite(diff).all() else float("nan")


# ---------------------------------------------------------------- any graph: compare_manual


def check_tolerances(where: str, rtol, atol) -> None:
    """``rtol`` and ``atol`` must be finite numbers ≥ 0; a ValueError (TypeError) names which."""
    __tracebackhide__ = True
    check_real(rtol, where, "rtol")
    check_real(atol, where, "atol")


def number(x) -> str:
    """A number as a person writes it: ``0.4232``, ``3.0``, ``inf``; never ``np.float64(…)``."""
    text = f"{float(x) + 0.0:.6g}"  # + 0.0: −0.0 is shown as 0.0
    return text if any(c in text for c in ".enai") else text + ".0"  # 3.0, not 3


@dataclass
class ManualRow:
    """One entry of the learner's mapping beside the engine's gradient at that node."""

    name: str  # the node's label (or its op, for a node without one)
    node: Value
    formula: str  # the learner's name for the quantity; "" if none was given
    manual: np.ndarray
    auto: np.ndarray
    rtol: float
    atol: float
    reached: int = 0  # when backprop has finished this node's gradient: higher ones come first

    @property
    def shape(self) -> tuple:
        return self.node.shape

    @property
    def bad(self) -> np.ndarray:
        """A bool array: True where the two sides disagree."""
        return disagree(self.manual, self.auto, self.rtol, self.atol)

    @property
    def ok(self) -> bool:
        return not self.bad.any()

    @property
    def max_abs_diff(self) -> float:
        """The largest ``|manual − automatic|``; NaN if either side has a NaN or an infinity."""
        return max_abs_diff(self.manual, self.auto)

    def worst(self) -> str:
        """The worst disagreeing element, spelled out: index, both values, the differences."""
        bad = self.bad
        with np.errstate(invalid="ignore", over="ignore"):
            diff = np.abs(self.manual - self.auto)
            allowed = self.atol + self.rtol * np.abs(self.auto)
            excess = np.where(np.isfinite(diff), diff - allowed, np.inf)
        excess = np.where(bad, excess, -np.inf)
        flat = int(np.argmax(excess))
        idx = np.unravel_index(flat, self.shape) if self.shape else ()
        m, a, d = self.manual[idx], self.auto[idx], diff[idx]
        rel = d / abs(a) if a != 0 and np.isfinite(d) else float("inf")
        where = f"element {list(map(int, idx))}" if self.shape else "value"
        n_bad = int(bad.sum())
        more = f" ({n_bad} of {bad.size} elements disagree)" if bad.size > 1 else ""
        return (f"{where}: manual {number(m)}, automatic {number(a)}, |diff| {number(d)}, "
                f"rel {number(rel)} > tolerance {number(allowed[idx])} "
                f"(atol {number(self.atol)} + rtol {number(self.rtol)}·|automatic|){more}")


def start_with(failing: list[ManualRow]) -> str:
    """Which failing row to look at first: the one whose gradient backprop finishes first.

    Backprop walks the graph from the root, so a node's gradient is complete
    once every node that uses it has passed its gradient on; an error there
    flows into everything below.  Two nodes finished at the same step (two
    inputs of one operation, e.g. ``w`` and ``b`` of one layer) are named together.
    """
    first = max(r.reached for r in failing)
    names = [r.name for r in failing if r.reached == first]
    if len(names) == 1:
        return (f"Start with {names[0]}: of these, backprop reaches it first, and the others "
                "may only inherit its error.")
    both = ", ".join(names[:-1]) + " and " + names[-1]
    return (f"Start with {both}: backprop reaches them at the same step, before the others, "
            "which may only inherit their errors.")


def constant_factor(manual: np.ndarray, auto: np.ndarray) -> str:
    """A sentence when ``manual`` is the engine's gradient times one constant, else ``""``.

    That is the signature of a few common slips: averaging over the batch
    instead of summing (1/n), a forgotten ½ in E = ½ Σ (y − t)² (2), or
    y − t written t − y (−1).
    """
    with np.errstate(all="ignore"):
        m, a = np.asarray(manual, dtype=np.float64), np.asarray(auto, dtype=np.float64)
        if not (np.isfinite(m).all() and np.isfinite(a).all()):
            return ""
        scale = np.abs(a).max(initial=0.0)
        used = np.abs(a) > 1e-9 * scale
        if scale == 0 or m.size < 1 or not np.allclose(m[~used], 0, atol=1e-12 + 1e-9 * scale):
            return ""
        ratios = m[used] / a[used]
    r = float(np.median(ratios))
    if r == 0 or not np.allclose(ratios, r, rtol=1e-6, atol=0) or abs(r - 1) < 1e-6:
        return ""
    sign = "−" if r < 0 else ""
    n = round(1 / abs(r))
    if abs(r) < 1 and n >= 2 and abs(1 / abs(r) - n) < 1e-6 * n:
        said, guess = f"{sign}1/{n} of", f"a mean over {n} instead of a sum?"
    elif abs(abs(r) - 2) < 1e-6:
        said, guess = f"{sign}2 times", "a forgotten ½ (E = ½ Σ (y − t)²)?"
    elif abs(r + 1) < 1e-6:
        return ("your values are the engine's with the opposite sign everywhere: "
                "t − y instead of y − t, or a + for a −?")
    else:
        said = f"{r:.6g} times"
        guess = "a constant factor (a ½, a mean, a step size) in your formula?"
    if r < 0 and "opposite" not in guess:
        guess = guess[:-1] + ", and the opposite sign?"
    return f"your values are {said} the engine's everywhere: {guess}"


class ManualComparison:
    """What :func:`compare_manual` found: ``.rows`` (:class:`ManualRow`), ``.ok``, a table.

    ``str(comparison)`` is the table; :meth:`report` adds a line per failing
    row (what :func:`~tinygrad_sine.testing.assert_manual` raises).
    """

    def __init__(self, rows: list[ManualRow]):
        self.rows = rows

    @property
    def ok(self) -> bool:
        """True when every row agrees."""
        return all(row.ok for row in self.rows)

    def table(self) -> str:
        """node, shape, [formula,] manual, automatic, max |diff|, agree — one line per row."""
        with_formula = any(r.formula for r in self.rows)
        header = ("node", "shape", *(("formula",) if with_formula else ()),
                  "manual", "automatic", "max |diff|", "agree")
        body = [(r.name, str(r.shape), *((r.formula,) if with_formula else ()),
                 *_pair(r.manual, r.auto, r.rtol, r.atol), f"{r.max_abs_diff:.1e}",
                 "yes" if r.ok else "NO  ✗") for r in self.rows]
        return _align(header, body)

    def report(self) -> str:
        """The table, then each failing row's worst element."""
        failing = [r for r in self.rows if not r.ok]
        if not failing:
            return self.table() + f"\nOK: all {len(self.rows)} gradients agree"
        lines = []
        for r in failing:
            named = f"{r.name} ({r.formula})" if r.formula else r.name
            lines.append(f"✗ {named}: {r.worst()}")
            factor = constant_factor(r.manual, r.auto)
            if factor:
                lines.append(f"  {factor}")
        if len(failing) > 1:
            lines.append(start_with(failing))
        return "\n".join([f"{len(failing)} of {len(self.rows)} manual gradients disagree "
                          "with the engine:", self.table(), *lines])

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return f"<ManualComparison: {len(self.rows)} rows, {'ok' if self.ok else 'NOT ok'}>"


def _reached(nodes: list[Value]) -> dict:
    """For each node, when backprop finishes its gradient (higher: sooner).

    ``nodes`` is in topological order, and backprop visits it backwards; a
    node's gradient is complete when the last of its users (the one earliest
    in that order) has passed its part on.  The root is finished first.
    """
    reached = {node: len(nodes) for node in nodes}
    for i, node in enumerate(nodes):
        for parent in node.parents:
            reached[parent] = min(reached[parent], i)
    return reached


def _row_name(node: Value) -> str:
    """A node as the table's first column shows it: its label, else ``(op node)``."""
    return node.label if node.label is not None else f"({node.op or 'leaf'} node)"


def _sum_hint(given: tuple, shape: tuple) -> str:
    """Why a gradient may have too many numbers: it was left per sample, not summed.

    A node used by every sample (a bias, a weight) collects one contribution
    per sample, and its gradient is their sum: ``np.sum(delta, axis=0)`` in the post.
    """
    lead = len(given) - len(shape)
    if lead < 0 or given[lead:] != shape and not all(
            s in (1, g) for g, s in zip(given[lead:], shape)):
        return ""
    axes = tuple(range(lead)) + tuple(lead + i for i, (g, s) in enumerate(zip(given[lead:], shape))
                                      if s == 1 and g != 1)
    if not axes:
        return ""
    axis = axes[0] if len(axes) == 1 else axes
    return (f". It looks left per sample: this node is used by every sample, so its gradient "
            f"is summed over the batch, axis {axis}, as the post does with "
            f"np.sum(delta, axis={axis}){', keepdims=True' if len(given) == len(shape) else ''}")


def _find(key, nodes: set, by_label: dict) -> Value:
    """The node a key of ``manual`` stands for: the Value itself, or the one node so labelled."""
    __tracebackhide__ = True
    if isinstance(key, Value):
        if key not in nodes:
            raise ValueError(f"compare_manual: the node {_name(key)} (shape {key.shape}) is not "
                             "in root's graph: root does not depend on it. Was it made by an "
                             "earlier forward pass?")
        return key
    if not isinstance(key, str):
        raise TypeError(f"compare_manual: a key of manual must be a Value or a node's label, "
                        f"got {type(key).__name__} {key!r}")
    found = by_label.get(key, [])
    if not found:
        labels = sorted(by_label)
        raise ValueError(f"compare_manual: no node labelled {key!r} in root's graph; its labels "
                         f"are {', '.join(map(repr, labels)) or '(none)'}")
    if len(found) > 1:
        which = "; ".join(f"op {n.op or 'leaf'!r} shape {n.shape}" for n in found)
        raise ValueError(f"compare_manual: {len(found)} nodes share the label {key!r} ({which}); "
                         "give them different labels, or use the node itself as the key")
    return found[0]


def compare_manual(root: Value, manual, *, rtol: float = 1e-7, atol: float = 1e-12,
                   formulas=None) -> ManualComparison:
    """Put your hand-derived gradients beside the engine's, node by node.

    ``manual`` maps a node (a ``Value``) or a node's label to your value of
    ∂root/∂node, an array of the node's shape.  ``root`` must be a single
    number (a loss).  ``formulas`` may map the same keys to your name for
    each quantity (e.g. ``"δ1 = δ2 w2ᵀ (1 − h²)"``), shown in the table.

    The engine's side comes from its own backward pass over ``root``
    (:func:`~tinygrad_sine.autograd.grad`), so ``.grad`` is neither read nor
    changed: calling this twice, or after ``backward()``, gives the same.
    Elements agree when ``|manual − automatic| ≤ atol + rtol·|automatic|``,
    an infinity only with the same infinity; a NaN never agrees, not even
    with a NaN (unlike ``numpy.testing.assert_allclose``'s ``equal_nan``): a
    hand derivation that also gives 0/0 proves nothing.

    >>> from tinygrad_sine import Value
    >>> w = Value([1.0, 2.0], label="w")
    >>> E = (w * w).sum()
    >>> compare_manual(E, {"w": 2 * w.data}).ok     # ∂E/∂w = 2w
    True
    """
    __tracebackhide__ = True

    if not isinstance(root, Value):
        raise TypeError(f"compare_manual: root must be a Value (your loss), "
                        f"got {type(root).__name__}")
    if not hasattr(manual, "items"):
        raise TypeError("compare_manual: manual must be a dict {node or label: your gradient}, "
                        f"got {type(manual).__name__}")
    check_tolerances("compare_manual", rtol, atol)
    if root.size != 1:
        raise ValueError(f"compare_manual: root has shape {root.shape}; it must be a single "
                         "number (a loss), e.g. E = ½ Σ (y − t)²")
    formulas = formulas or {}
    nodes = topo_order(root)
    in_graph = set(nodes)  # a Value hashes by identity
    by_label: dict = {}
    for n in nodes:
        if n.label is not None:
            by_label.setdefault(n.label, []).append(n)
    found = []
    for key, value in manual.items():
        node = _find(key, in_graph, by_label)
        try:
            arr = np.array(value.data if isinstance(value, Value) else value, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"compare_manual: the manual gradient of {_name(node)} must be "
                            f"numbers, got {type(value).__name__}") from None
        if arr.shape != node.shape:
            raise ValueError(f"compare_manual: the manual gradient of {_name(node)} has shape "
                             f"{arr.shape}, but the node has shape {node.shape}; a gradient "
                             f"has its node's shape{_sum_hint(arr.shape, node.shape)}")
        found.append((node, str(formulas.get(key, "")), arr))
    autos = grad(root, [node for node, _, _ in found])
    reached = _reached(nodes)
    return ManualComparison([
        ManualRow(_row_name(node), node, formula, arr, np.asarray(auto.data, dtype=np.float64),
                  rtol, atol, reached[node])
        for (node, formula, arr), auto in zip(found, autos)])
