"""Describing a graph in words: node names, kinds, previews, the seed's quantities — and ``show``.

Three views read a graph: the text tree here (:func:`show`), the stepper
(``stepper.py``) and the diagrams (``viz/graph.py``).  They all take their
words from :func:`describe`, so a node has the same name, the same kind and
the same seed formula whichever way you look at it.

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

import inspect
import re
import sys
from dataclasses import dataclass, field
from typing import TextIO

import numpy as np

from .autograd import topo_order
from .compare import FORMULAS, QUANTITIES
from .manual import ManualMiddle, ManualOutput, ManualSineNet
from .nn import layer_of
from .value import Value

# How each kind of node is called.  "input" covers the seed's x and t (and any leaf
# labelled x, t, x1, t2 …); "parameter" any other leaf you named; "constant" a leaf
# nobody named (a number lifted into the graph by arithmetic, like the ½ in E).
KINDS = ("root", "parameter", "input", "constant", "intermediate")
INPUT_LABELS = re.compile(r"[xt]\d*")
_LAYER_KINDS = {"sigmoid": "middle", "identity": "output"}


def preview(arr, width: int = 44) -> str:
    """A one-line glimpse of an array: each number to 4 significant digits, cut at ``width``.

    >>> preview(np.array([[0.5, 1e-5, 2.0]]))
    '[[0.5, 1e-05, 2]]'
    """
    a = np.asarray(arr, dtype=np.float64)
    if a.ndim == 0:
        text = f"{a.item():.4g}"
    else:
        text = np.array2string(
            a, threshold=6, edgeitems=2, separator=", ", max_line_width=10**6,
            formatter={"float_kind": lambda v: f"{v:.4g}"},
        )
        text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def shape_text(node: Value) -> str:
    """``"(1, 3)"``, or ``"scalar"`` for a 0-d Value."""
    return str(node.shape) if node.ndim else "scalar"


def op_parts(node: Value) -> tuple[str, str, list[str]]:
    """``(forward math, local derivative, argument names)`` of the op that made ``node``.

    Read from the op class: the first docstring line is ``"forward;  derivative"``
    and ``backward(g, y, *inputs, *args)`` names the inputs (``a``, ``b``, ``x``, ``u``)
    and static arguments (``n``, ``axis``) that the math uses.
    """
    if node._op is None:
        return "", "", []
    first = (node._op.__doc__ or "").strip().splitlines()[0]
    forward, _, local = first.partition(";")
    names = list(inspect.signature(node._op.backward).parameters)[2:]
    return forward.strip(), local.strip(), names


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


@dataclass
class GraphInfo:
    """Everything the views say about a graph, computed once by :func:`describe`."""

    root: Value
    order: list[Value]  # topological: inputs before the nodes that use them, root last
    names: dict[int, str]  # id(node) -> label, or a generated "op#n"
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
        """``"u1 = add(matmul#1, b1)"`` for an op node, the name alone for a leaf."""
        if node._op is None:
            return self.name(node)
        arg_names = op_parts(node)[2][len(node.parents):]
        args = [self.name(p) for p in node.parents]
        args += [f"{n}={a!r}" for n, a in zip(arg_names, node._args)]
        return f"{self.name(node)} = {node.op}({', '.join(args)})"


def describe(root: Value) -> GraphInfo:
    """Name, classify and annotate every node of ``root``'s graph (read-only)."""
    if not isinstance(root, Value):
        raise TypeError("describe: expected the Value at the top of a graph, "
                        f"got {type(root).__name__}")
    order = _leaves_just_in_time(topo_order(root))
    names, counts = {}, {}
    for node in order:
        if node.label not in (None, ""):  # one line in the text views ("⏎" for a newline)
            names[id(node)] = str(node.label).replace("\r\n", "⏎").replace("\n", "⏎")
        else:  # matmul#1, matmul#2, const#1 …: unique and easy to type in the stepper
            op = node.op or "const"
            counts[op] = counts.get(op, 0) + 1
            names[id(node)] = f"{op}#{counts[op]}"
    layers = find_seed_layers(order)
    target = _squared_error_target(root, layers[-1].y) if layers else None
    inputs = {id(n) for n in order
              if n._op is None and INPUT_LABELS.fullmatch(str(n.label)) is not None}
    if layers and layers[0].x._op is None:
        inputs.add(id(layers[0].x))
    if target is not None and target._op is None:
        inputs.add(id(target))
    params = {id(p) for layer in layers for p in (layer.w, layer.b)}
    kinds = {}
    for node in order:
        key = id(node)
        if node is root:
            kinds[key] = "root"
        elif node._op is not None:
            kinds[key] = "intermediate"
        elif key in inputs and key not in params:
            kinds[key] = "input"
        elif key in params or node.label not in (None, ""):
            kinds[key] = "parameter"
        else:
            kinds[key] = "constant"
    quantities = _seed_quantities(layers, target)
    by_node: dict[int, list[SeedQuantity]] = {}
    for q in quantities:
        by_node.setdefault(id(q.node), []).append(q)
    return GraphInfo(root, order, names, kinds, layers, quantities, by_node)


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
        if kind is None:
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
    net.forward(layers[0].x.data)
    net.backward(target.data)
    return net.layers


def op_bindings(node: Value, info: GraphInfo) -> str:
    """``"y = u1, a = matmul#1, b = b1"``: the op's letters bound to this node's names and args."""
    names = op_parts(node)[2]
    values = [info.name(p) for p in node.parents] + [repr(a) for a in node._args]
    pairs = [(output_letter(node), info.name(node)), *zip(names, values)]
    return ", ".join(f"{n} = {v}" for n, v in pairs if n != v)  # not "t = t"


def output_letter(node: Value) -> str:
    """The op's name for its output: the second parameter of its ``backward`` (``y``, or ``E``)."""
    return list(inspect.signature(node._op.backward).parameters)[1]


def seed_lines(q: SeedQuantity, auto: np.ndarray) -> list[str]:
    """The formula, and (when known) the manual value beside the automatic one."""
    lines = [f"  seed formula       {q.formula}   [{q.layer.name}]"]
    if q.manual is not None:
        diff = float(np.max(np.abs(q.manual - auto)))
        verdict = "✓ the same" if q.agrees(auto) else "✗ DIFFERENT"
        lines.append(f"      manual {preview(q.manual, 40)}   auto {preview(auto, 40)}"
                     f"   {verdict} (max |diff| {diff:.1e})")
    return lines


def node_line(node: Value, info: GraphInfo, *, show_data: bool = True,
              show_grad: bool = True, grads: dict | None = None) -> str:
    """One node in one line: call, kind, shape, data, grad and any seed formula.

    ``grads`` (``id(node) -> array``) replaces ``node.grad``, as the stepper
    does to show the gradients at a given step; a node with no gradient (yet)
    shows ``—``.
    """
    parts = [info.call(node), info.kind(node), shape_text(node)]
    if show_data:
        parts.append("data " + preview(node.data))
    if show_grad:
        g = grads.get(id(node)) if grads is not None else node._grad
        parts.append("grad " + ("—" if g is None else preview(g)))
    for q in info.by_node.get(id(node), ()):
        parts.append(f"[{q.formula}]")
    return "  ".join(parts)


def show_text(root: Value, *, show_data: bool = True, show_grad: bool = True,
              grads: dict | None = None) -> str:
    """The graph as an indented tree, root at the top, each node's inputs below it.

    A node reached a second time (shared, or used twice as in ``a * a``) is
    printed in full once and then as ``name ↑`` pointing back up.  The walk
    is a loop, not recursion, and the indentation stops growing past 30
    levels, so long chains print fine.
    """
    info = describe(root)
    lines: list[str] = []
    seen: set[int] = set()
    # (node, the indentation above it, its branch: "" for the root, "├─ " or "└─ ")
    stack: list[tuple[Value, tuple[str, ...], str]] = [(root, (), "")]
    while stack:
        node, prefix, branch = stack.pop()
        lead = ("⋯ " if len(prefix) > 30 else "") + "".join(prefix[-30:]) + branch
        if id(node) in seen:
            lines.append(f"{lead}{info.name(node)} ↑ (shown above)")
            continue
        seen.add(id(node))
        lines.append(lead + node_line(node, info, show_data=show_data,
                                      show_grad=show_grad, grads=grads))
        # Below a last child the column is blank; below any other it continues the line.
        below = prefix + ("   " if branch == "└─ " else "│  ",) if branch else prefix
        last = len(node.parents) - 1
        for i in reversed(range(len(node.parents))):
            stack.append((node.parents[i], below, "└─ " if i == last else "├─ "))
    return "\n".join(lines)


def show(root: Value, *, show_data: bool = True, show_grad: bool = True,
         file: TextIO | None = None) -> None:
    """Print the graph below ``root`` as a text tree (op, label, shape, data, grad).

    For terminals without Graphviz; the same text as a string is
    ``tinygrad_sine.show_text(root)``.

    >>> from tinygrad_sine import Value
    >>> a = Value(2.0, label="a")
    >>> show(a * a, show_grad=False)
    mul#1 = mul(a, a)  root  scalar  data 4
    ├─ a  parameter  scalar  data 2
    └─ a ↑ (shown above)
    """
    if file is not None and not callable(getattr(file, "write", None)):
        raise TypeError("show: file must be a text stream with a .write method (sys.stdout, an "
                        f"open file, io.StringIO()), got {type(file).__name__} {file!r}")
    print(show_text(root, show_data=show_data, show_grad=show_grad),
          file=sys.stdout if file is None else file)
