"""Describing a graph in words: what every view of a graph says about its nodes.

Four views read a graph: the text tree (``show.py``), the stepper
(``stepper.py``), the diagrams (``viz/graph.py``) and the browser page
(``viz``).  They all take their words from here, so a node has the same
name, kind, numbers and formulas whichever way you look at it:

* :func:`describe` names every node (its label, or a generated ``op#n``),
  gives it a kind (:data:`KINDS`) and finds the seed's layers and
  quantities (δ, ∂w, ∂b, ∂y), all in a :class:`GraphInfo`;
* :func:`set_role` says what a leaf is where the code knows it;
* the notation — :func:`number`, :func:`preview`, :func:`printable`,
  :func:`op_label`, :func:`formulas` (an op's math in the graph's own
  names) — lives in ``notation.py`` and is re-exported here, so this module
  is the one place the views import their words from.

Where the seed's hand-derived quantities live (see ``compare.py``): in one
layer ``u = x @ w + b``, ``y = activation(u)``, δ is the gradient at ``u``,
∂w and ∂b the gradients at ``w`` and ``b``, and ∂y the gradient at the
layer's input ``x`` (the output of the layer below).  :func:`describe` finds
such layers by their shape in the graph — a ``sigmoid`` (middle layer) or
``identity`` (output layer) of ``add(matmul(x, w), b)`` — whose ``w`` and
``b`` were made by an ``nn`` layer (``nn.layer_of``), so a graph built by
``SineNet`` is recognised from its root alone, while a look-alike written
by hand (a logistic regression, say) is drawn as plain ops.  When the
root is the seed's error ``E = ½ Σ (y − t)²`` on top of a full chain of such
layers, the manual values come from ``manual.py``, computed afresh from the
nodes' data.

Nothing here changes the graph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from .autograd import topo_order
from .compare import FORMULAS, QUANTITIES
from .manual import ManualMiddle, ManualOutput, ManualSineNet
from .nn import layer_of
from .notation import (  # noqa: F401  (re-exported: every view imports its words from here)
    DATA_KINDS,
    adds_up,
    box_data,
    box_grad,
    data_note,
    format_index,
    formulas,
    local_gradients,
    number,
    op_about,
    op_arguments,
    op_label,
    op_name,
    op_parts,
    output_letter,
    preview,
    printable,
    shape_text,
    shown_elements,
    sum_digits,
    update_digits,
    update_lines,
    update_rule,
    value_digits,
    values_read,
)
from .value import Value
from .weak import WeakIdDict

# ------------------------------------------------------------ kinds and roles

# How each kind of node is called.  See `describe` for how a leaf gets its kind.
KINDS = ("root", "parameter", "input", "constant", "intermediate")
# DATA_KINDS (from notation): inputs and constants, whose gradients no update uses
ROLES = ("parameter", "input", "constant")  # the kinds a leaf can be given with set_role
INPUT_LABELS = re.compile(r"[xt]\d*")
_LAYER_KINDS = {"sigmoid": "middle", "identity": "output"}

# Roles given explicitly, by the code that made a leaf.  Weak keys matched by
# identity: an entry goes with its Value and never keeps one alive.
_ROLES = WeakIdDict()


def set_role(value: Value, role: str) -> Value:
    """Say what a leaf is, for the views: ``"parameter"``, ``"input"`` or ``"constant"``.

    The views otherwise guess from labels (see :func:`describe`); code that
    knows — ``training_step`` feeding data, your own training loop — says so.
    A target (``t``) is data fed in, so its role is ``"input"``.  Returns
    ``value``, so ``x = set_role(Value(data, label="x"), "input")`` reads in
    one line.

    >>> v = set_role(Value([1.0, 2.0], label="target"), "input")
    >>> describe(v * 2).kind(v)
    'input'
    """
    if not isinstance(value, Value):
        raise TypeError(f"set_role: expected a Value, got {type(value).__name__}")
    if role not in ROLES:
        raise ValueError(f"set_role: role must be one of {', '.join(map(repr, ROLES))}; "
                         f"got {role!r}")
    _ROLES[value] = role
    return value


def role_of(value: Value) -> str | None:
    """The role given to ``value`` with :func:`set_role`, or ``"parameter"`` for the
    weights and biases an ``nn`` layer made; None when the code never said."""
    role = _ROLES.get(value)
    if role is None and layer_of(value, value) is not None:  # made by an nn Layer
        role = "parameter"
    return role


# ------------------------------------------------------------ the seed's layers


@dataclass
class SeedLayer:
    """One of the seed's layers found in a graph: ``u = x @ w + b``, ``y = activation(u)``."""

    index: int  # from the label w<n> when there is one, else the position from the input side
    kind: str  # "middle" (sigmoid) or "output" (identity)
    x: Value
    w: Value
    b: Value
    matmul: Value
    u: Value
    y: Value

    @property
    def members(self) -> tuple[Value, ...]:
        """The nodes this layer builds (its input ``x`` belongs to whoever made it)."""
        return (self.w, self.b, self.matmul, self.u, self.y)

    @property
    def name(self) -> str:
        """Like ``compare``'s layer names: ``"middle (layer 1)"``."""
        return f"{self.kind} (layer {self.index})"


@dataclass
class SeedQuantity:
    """A hand-derived quantity (δ, ∂w, ∂b, ∂y) at its node, with the manual value if known."""

    layer: SeedLayer
    quantity: str  # "δ", "∂w", "∂b" or "∂y"
    formula: str  # e.g. "δ_j = ∂y_j (1 − y_j) y_j"
    node: Value
    manual: np.ndarray | None  # None when the graph is not the seed's full error E

    @property
    def symbol(self) -> str:
        """The left side of the formula: ``"δ_j"``, ``"∂w_ij"`` …"""
        return self.formula.split(" = ")[0]

    def agrees(self, auto) -> bool:
        """Whether the manual value equals ``auto`` (the gradient autodiff found here).

        The one tolerance the text view, the stepper and the diagrams all use.
        """
        return self.manual is not None and bool(
            np.allclose(self.manual, auto, rtol=1e-7, atol=1e-10))

    def finite(self, auto) -> bool:
        """Whether the manual value and ``auto`` are both finite (no nan, no ±inf), so
        that comparing them means something; huge weights overflow both."""
        return self.manual is not None and bool(
            np.all(np.isfinite(self.manual)) and np.all(np.isfinite(auto)))


# ------------------------------------------------------------ describing a graph


@dataclass
class GraphInfo:
    """Everything the views say about a graph, computed once by :func:`describe`."""

    root: Value
    order: list[Value]  # topological: inputs before the nodes that use them, root last
    names: dict[int, str]  # id(node) -> label (one line), or a generated "op#n"
    kinds: dict[int, str]  # id(node) -> one of KINDS
    layers: list[SeedLayer]  # input side first
    quantities: list[SeedQuantity]  # output layer first, as backprop meets them
    by_node: dict[int, list[SeedQuantity]] = field(default_factory=dict)

    def name(self, node: Value) -> str:
        return self.names[id(node)]

    def kind(self, node: Value) -> str:
        return self.kinds[id(node)]

    def find(self, name: str) -> list[Value]:
        """The nodes called ``name`` (labels can repeat), in topological order."""
        return [n for n in self.order if self.names[id(n)] == name]

    def call(self, node: Value) -> str:
        """``"u1 = add(matmul#1, b1)"``, ``"s = sum(a, axis=0)"`` for an op node; a leaf's name.

        Static arguments are shown as :func:`op_arguments` writes them,
        defaults left out.
        """
        if node._op is None:
            return self.name(node)
        args = [self.name(p) for p in node.parents] + op_arguments(node)
        return f"{self.name(node)} = {op_name(node)}({', '.join(args)})"


def describe(root: Value) -> GraphInfo:
    """Name, classify and annotate every node of ``root``'s graph (read-only).

    A leaf's kind, first rule that applies:

    1. the role the code gave it with :func:`set_role` (``training_step``
       marks its ``x`` and ``t`` as inputs), or ``"parameter"`` for the
       weights and biases an ``nn`` layer made;
    2. in a recognised SineNet graph, the first layer's input and the target
       of the error ``E`` are inputs;
    3. a guess from the label, for graphs built by hand: ``x``, ``t``,
       ``x1``, ``t2`` … are inputs, any other labelled leaf a parameter, and a
       leaf with no label a constant (what arithmetic makes of a number, like
       the ½ in E).
    """
    if not isinstance(root, Value):
        raise TypeError("describe: expected the Value at the top of a graph, "
                        f"got {type(root).__name__}")
    order = _leaves_just_in_time(topo_order(root))
    names, counts = {}, {}
    for node in order:
        if node.label not in (None, ""):  # one line in the text views
            names[id(node)] = printable(node.label)
        else:  # matmul#1, matmul#2, const#1 …: unique and easy to type in the stepper
            op = op_name(node) or "const"
            counts[op] = counts.get(op, 0) + 1
            names[id(node)] = f"{op}#{counts[op]}"
    layers = find_seed_layers(order)
    target = _squared_error_target(root, layers[-1].y) if layers else None
    seed_inputs = set()
    if layers and layers[0].x._op is None:
        seed_inputs.add(id(layers[0].x))
    if target is not None and target._op is None:
        seed_inputs.add(id(target))
    kinds = {}
    for node in order:
        key = id(node)
        if node is root:
            kinds[key] = "root"
        elif node._op is not None:
            kinds[key] = "intermediate"
        else:
            kinds[key] = role_of(node) or ("input" if key in seed_inputs else _guess(node))
    quantities = _seed_quantities(layers, target)
    by_node: dict[int, list[SeedQuantity]] = {}
    for q in quantities:
        by_node.setdefault(id(q.node), []).append(q)
    return GraphInfo(root, order, names, kinds, layers, quantities, by_node)


def _guess(leaf: Value) -> str:
    """A leaf's kind from its label alone (rule 3 of :func:`describe`)."""
    if leaf.label in (None, ""):
        return "constant"
    return "input" if INPUT_LABELS.fullmatch(str(leaf.label)) else "parameter"


def _leaves_just_in_time(order: list[Value]) -> list[Value]:
    """The same nodes, each leaf moved to just before the first op that uses it.

    Still a topological order (so backprop over it is exact), but it reads
    like the forward pass: ``x, w1, matmul#1, b1, u1 …`` rather than every
    constant first.
    """
    placed: set[int] = set()
    result: list[Value] = []
    for node in order:
        if node._op is None:
            continue
        for p in node.parents:
            if p._op is None and id(p) not in placed:
                placed.add(id(p))
                result.append(p)
        result.append(node)
    if not result:  # the root is a lone leaf
        result = list(order)
    return result


def find_seed_layers(order: list[Value]) -> list[SeedLayer]:
    """Every ``activation(add(matmul(x, w), b))`` that an ``nn`` Middle or Output layer built.

    Input side first.  The activation must be the seed's (sigmoid for a
    middle layer, identity for the output) and ``w``, ``b`` made by that layer.
    """
    layers = []
    for y in order:
        kind = _LAYER_KINDS.get(y.op)
        if kind is None or len(y.parents) != 1:
            continue
        u = y.parents[0]
        if u.op != "add":
            continue
        m, b = u.parents
        if m.op != "matmul" or b._op is not None:
            continue
        x, w = m.parents
        made = layer_of(w, b)
        if made is None or made[0] != kind:
            continue  # the right shape, but not the values of a seed layer
        layers.append(SeedLayer(made[1], kind, x, w, b, m, u, y))
    return layers


def _squared_error_target(root: Value, y: Value) -> Value | None:
    """``t`` when ``root`` is ``nn.squared_error(y, t)``, the seed's E = ½ Σ (y − t)²."""
    if root.op != "squared_error" or root.parents[0] is not y:
        return None
    return root.parents[1]


def _seed_quantities(layers: list[SeedLayer], target: Value | None) -> list[SeedQuantity]:
    """The δ, ∂w, ∂b, ∂y of each layer (output layer first), with manual values when possible."""
    manual = _manual_layers(layers, target)
    found = []
    for pos in reversed(range(len(layers))):
        layer = layers[pos]
        nodes = {"δ": layer.u, "∂w": layer.w, "∂b": layer.b, "∂y": layer.x}
        for q in QUANTITIES:
            value = None
            if manual is not None:
                m = manual[pos]
                value = {"δ": m.delta, "∂w": m.grad_w, "∂b": m.grad_b, "∂y": m.grad_x}[q]
            found.append(SeedQuantity(layer, q, FORMULAS[(layer.kind, q)], nodes[q], value))
    return found


def _manual_layers(layers: list[SeedLayer], target: Value | None):
    """Run ``manual.py`` on a copy of the layers' weights, if the graph is the seed's whole net."""
    if target is None:
        return None
    chained = all(b.x is a.y for a, b in zip(layers, layers[1:]))
    kinds_ok = all(layer.kind == "middle" for layer in layers[:-1]) and layers[-1].kind == "output"
    if not (chained and kinds_ok):
        return None
    net = ManualSineNet(
        [ManualMiddle(layer.w.data, layer.b.data, layer.index) for layer in layers[:-1]]
        + [ManualOutput(layers[-1].w.data, layers[-1].b.data, layers[-1].index)]
    )
    with np.errstate(all="ignore"):  # a view never warns: huge weights show as nan/inf
        net.forward(layers[0].x.data)
        net.backward(target.data)
    return net.layers


# ------------------------------------------------------------ lines the views share


def seed_lines(q: SeedQuantity, auto: np.ndarray) -> list[str]:
    """The formula, and (when known) the manual value beside the automatic one."""
    lines = [f"  seed formula       {q.formula}   [{q.layer.name}]"]
    if q.manual is not None:
        if not q.finite(auto):  # the numbers overflowed: that says nothing about the formulas
            verdict = "✗ not finite (nan/inf): cannot compare"
        else:
            diff = float(np.max(np.abs(q.manual - auto)))
            verdict = "✓ the same" if q.agrees(auto) else "✗ DIFFERENT"
            verdict += f" (max |diff| {diff:.1e})"
        lines.append(f"      manual {preview(q.manual, 40)}   auto {preview(auto, 40)}"
                     f"   {verdict}")
    return lines


def grad_getter(grads: dict | None):
    """``node -> gradient`` from a dict keyed by Value (``Stepper.grads()``) or by ``id(node)``;
    with ``grads=None``, each node's own ``.grad`` (None when no backward pass reached it)."""
    if grads is None:
        return lambda node: node._grad
    return lambda node: grads[node] if node in grads else grads.get(id(node))
