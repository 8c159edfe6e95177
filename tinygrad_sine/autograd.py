"""Reverse-mode traversal: ``topo_order``, ``backward``, ``grad`` and ``no_grad``.

The chain rule, one node at a time: walk the graph from the root back to
the leaves (reverse topological order, so a node is handled only after every
node that uses it), hand each node's gradient to its operation's
``backward``, and add what comes out to the gradients of its parents.
Everything here is a loop — no recursion — so a chain of a million nodes is
fine.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import value as _value
from .ops import sum_to
from .value import Value


def topo_order(root: Value) -> list[Value]:
    """Every node the root depends on, each once, leaves first and the root last.

    Parents are visited in argument order, so the order is deterministic.
    """
    if not isinstance(root, Value):
        raise TypeError(f"topo_order: expected a Value (the root of a graph), "
                        f"got {type(root).__name__}")
    order: list[Value] = []
    seen: set[Value] = {root}
    # A depth-first walk.  Each stack entry is a node and an iterator over its
    # parents; a node joins `order` once all of its parents have.
    stack = [(root, iter(root.parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent not in seen:
                seen.add(parent)
                if not parent.parents:  # a leaf: nothing to walk into
                    order.append(parent)
                    continue
                stack.append((parent, iter(parent.parents)))
                break  # walk into this parent now, come back for the rest later
        else:  # every parent is in `order`
            stack.pop()
            order.append(node)
    return order


def backprop(root: Value, seed, create_graph: bool = False) -> tuple[list[Value], dict]:
    """The chain rule over the whole graph.

    Returns the topological order and a dict ``node -> gradient`` for every
    node (a Value hashes by identity, like a PyTorch tensor, which is why
    ``==`` on Values is not overloaded).  Gradients are numpy arrays, or Values when
    ``create_graph`` is true (then the gradient computation is itself
    recorded and can be differentiated again).
    """
    order = topo_order(root)
    grads = {root: seed}
    for node in reversed(order):
        op, parents = node._op, node.parents
        if op is None:
            continue  # a leaf: nothing to pass on
        g = grads[node]
        if create_graph:  # hand the op the nodes, so its arithmetic builds a graph
            local = op.backward(g, node, *parents, *node._args)
        else:
            if len(parents) == 2:  # spelled out for the common cases, as in value._apply
                local = op.backward(g, node.data, parents[0].data, parents[1].data, *node._args)
            elif len(parents) == 1:
                local = op.backward(g, node.data, parents[0].data, *node._args)
            else:
                local = op.backward(g, node.data, *[p.data for p in parents], *node._args)
        if type(local) is not tuple or len(local) != len(parents):
            local = _one_per_input(op, local, parents)  # a bare array, a list, or an error
        try:
            for parent, pg in zip(parents, local):
                if pg.shape != parent.data.shape:
                    pg = _sum_back(op, pg, parent, node)  # undo broadcasting, for every op
                before = grads.get(parent)
                grads[parent] = pg if before is None else before + pg
        except AttributeError:  # a gradient with no .shape: a float, a list, None
            kinds = ", ".join(type(pg).__name__ for pg in local)
            raise TypeError(f"{op.__name__}.backward returned ({kinds}); each gradient must be "
                            "a numpy array (or a Value when differentiating twice)") from None
    return order, grads


def _shapes(parents) -> str:
    return ", ".join(str(p.shape) for p in parents)


def _one_per_input(op, local, parents: tuple) -> tuple:
    """``backward``'s result as a tuple of one gradient per input, or an error naming the op.

    A one-input op may return its gradient bare (``return g * y``), as
    PyTorch's ``autograd.Function`` allows; a list is taken as a tuple.
    """
    if len(parents) == 1 and isinstance(local, (np.ndarray, np.generic, Value)):
        return (local,)
    if isinstance(local, (tuple, list)):
        if len(local) == len(parents):
            return tuple(local)
        raise ValueError(
            f"{op.__name__}.backward returned {len(local)} gradient(s) for {len(parents)} "
            f"input(s) of shapes {_shapes(parents)}; return one per input, in argument order")
    raise TypeError(f"{op.__name__}.backward returned {type(local).__name__}; return a tuple "
                    f"of {len(parents)} gradient(s), one per input of shapes {_shapes(parents)}")


def _sum_back(op, pg, parent: Value, node: Value):
    """``pg`` summed down to ``parent``'s shape (undo broadcasting); else an error naming the op."""
    try:
        fitted = sum_to(pg, parent.data.shape)
    except (ValueError, IndexError):
        fitted = None
    if fitted is None or fitted.shape != parent.data.shape:
        i = next(k for k, p in enumerate(node.parents) if p is parent)
        raise ValueError(
            f"{op.__name__}.backward: the gradient for input {i} has shape {pg.shape}, which "
            f"does not sum back to that input's shape {parent.shape} (the op's inputs have "
            f"shapes {_shapes(node.parents)}, its output {node.shape})")
    return fitted


def _seed(root: Value, grad, where: str):
    if grad is None:
        if root.data.size != 1:
            raise ValueError(
                f"{where}: the output has shape {root.shape}, not a single number, so "
                "the starting gradient is ambiguous; pass grad= an array of that shape "
                "(or reduce first, e.g. out.sum().backward())"
            )
        return np.float64(1.0) if root.ndim == 0 else np.ones(root.shape)
    # A copy, so that the gradients never share memory with the caller's array.
    try:
        g = np.array(grad.data if isinstance(grad, Value) else grad, dtype=np.float64)
    except (TypeError, ValueError):
        shown = repr(grad) if len(repr(grad)) <= 40 else repr(grad)[:37] + "..."
        raise TypeError(f"{where}: grad must be numbers of the output's shape {root.shape}; "
                        f"got {type(grad).__name__} {shown}") from None
    if g.shape != root.shape:
        raise ValueError(
            f"{where}: grad has shape {g.shape} but the output has shape {root.shape}; "
            "they must match"
        )
    return g


def backward(root: Value, grad=None) -> None:
    """Accumulate d(root)/d(node) into ``node.grad`` for every node of the graph.

    Like PyTorch, gradients add up over repeated calls; unlike PyTorch, the
    graph is kept, so calling twice simply doubles every ``.grad``.
    """
    order, grads = backprop(root, _seed(root, grad, "Value.backward"))
    for node in order:
        g = grads[node]
        if node._grad is not None:
            node._grad = node._grad + g
        elif type(g) is np.ndarray:
            # A copy the first time: ops pass arrays through (Add gives both
            # parents the same g), and each node's .grad must be its own array.
            node._grad = g.copy()
        else:  # an np.float64 cannot be changed in place, so it needs no copy
            node._grad = g


def grad(
    output: Value,
    inputs: Value | Sequence[Value],
    grad_output=None,
    create_graph: bool = False,
) -> list[Value]:
    """The gradients of ``output`` with respect to each of ``inputs``, as Values.

    ``.grad`` attributes are left untouched.  With ``create_graph=True`` the
    returned gradients are nodes of a new graph (built from the same ops),
    so they can be differentiated again:

    >>> x = Value(2.0)
    >>> (dx,) = grad(x ** 3, [x], create_graph=True)   # 3x² = 12
    >>> (ddx,) = grad(dx, [x])                          # 6x = 12
    >>> dx.item(), ddx.item()
    (12.0, 12.0)

    An input the output does not depend on gets a zero gradient (PyTorch
    would raise unless ``allow_unused``; a zero is the true derivative).
    """
    if not isinstance(output, Value):
        raise TypeError(f"grad: output must be a Value, got {type(output).__name__}")
    single = isinstance(inputs, Value)
    inputs = [inputs] if single else list(inputs)
    if not all(isinstance(x, Value) for x in inputs):
        raise TypeError("grad: inputs must be Values (the leaves or nodes to differentiate by)")
    seed = _seed(output, grad_output, "grad")
    if create_graph:
        seed = grad_output if isinstance(grad_output, Value) else Value(seed)
        with enable_grad():
            _, grads = backprop(output, seed, create_graph=True)
        found = [grads.get(x) for x in inputs]
        return [Value(np.zeros_like(x.data)) if g is None else g for x, g in zip(inputs, found)]
    _, grads = backprop(output, seed)
    found = [grads.get(x) for x in inputs]
    return [Value(np.zeros_like(x.data) if g is None else g) for x, g in zip(inputs, found)]


class _GradMode:
    """Context manager that switches graph recording off (or on) inside a block."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __enter__(self):
        self.previous = _value._grad_enabled
        _value._grad_enabled = self.enabled
        return self

    def __exit__(self, *exc):
        _value._grad_enabled = self.previous
        return False


def no_grad() -> _GradMode:
    """``with no_grad():`` — operations inside record no graph (results have no parents).

    Use it for updates (``w.data -= eta * w.grad`` needs no graph anyway) and
    for evaluation, where building the graph is wasted work.
    """
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """Switch recording back on inside a ``no_grad`` block."""
    return _GradMode(True)
