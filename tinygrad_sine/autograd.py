"""Reverse-mode traversal: ``topo_order``, ``backward``, ``grad`` and ``no_grad``.

The chain rule, one node at a time: walk the graph from the root back to
the leaves (reverse topological order, so a node is handled only after every
node that uses it), hand each node's gradient to its operation's
``backward``, and add what comes out to the gradients of its parents.
Everything here is a loop — no recursion — so a chain of a million nodes is
fine.

Before an op's ``backward`` runs, the traversal checks that nobody assigned
``.data`` of the op's inputs or output since the op ran (see ``Value.data``):
an op's derivative needs the numbers it was computed from.
"""

from __future__ import annotations

import contextvars
from collections.abc import Sequence

import numpy as np

from . import anomaly as _anomaly
from . import value as _value
from .arguments import as_float64
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
    # A depth-first walk; a node joins `order` once all of its parents have.
    # The stack holds nodes only: coming back to a node, we scan its parents
    # again and skip the ones already seen.  (A (node, iterator) pair per level
    # would be cheaper to resume, but the cyclic GC then has a million more
    # objects to scan on a long chain.)  So a node with k parents that are op
    # results costs up to k² parent checks: fine for ops' two or three inputs,
    # quadratic for one op with thousands of inputs.
    stack = [root]
    while stack:
        node = stack[-1]
        for parent in node.parents:
            if parent not in seen:
                seen.add(parent)
                if parent.parents:
                    stack.append(parent)
                    break  # walk into this parent now, come back for the rest later
                order.append(parent)  # a leaf: nothing to walk into
        else:  # every parent is in `order`
            stack.pop()
            order.append(node)
    return order


def _name(node: Value) -> str:
    """A node as an error message names it: its label, else its op and shape."""
    if node.label is not None:
        return repr(node.label)
    kind = f"{node.op!r} node" if node._op is not None else "leaf"
    return f"an unlabelled {kind} of shape {node.shape}"


def _data_changed(node: Value, where: str) -> RuntimeError:
    """The error for a node whose op's inputs or output had ``.data`` assigned since it ran."""
    if node._version > node._born:
        what = (f"the output of op {node.op!r}, {_name(node)}, had its .data assigned "
                "after it was computed")
    else:
        changed = next(p for p in node.parents if p._version > node._born)
        what = (f"{_name(changed)} had its .data assigned after op {node.op!r} "
                f"({_name(node)}) used it")
    return RuntimeError(
        f"{where}: {what}, so the gradient would mix old and new numbers. Assign .data only "
        "after backward (as an optimiser step does) and run the forward pass again, or "
        "compute on a copy (v.detach()) instead")


def _check_parents(node: Value, where: str) -> None:
    """Raise if ``.data`` of one of the node's inputs was assigned after its op ran."""
    for parent in node.parents:
        if parent._version > node._born:
            raise _data_changed(node, where)


def backprop(root: Value, seed, create_graph: bool = False,
             where: str = "backward") -> tuple[list[Value], dict]:
    """The chain rule over the whole graph.

    Returns the topological order and a dict ``node -> gradient`` for every
    node.  The dict works because a Value hashes by identity, like a PyTorch
    tensor: ``==`` on Values compares their numbers (elementwise, giving
    numpy booleans), but a dict finds each node by its hash and identity.
    Gradients are numpy arrays, or Values when ``create_graph`` is true
    (then the gradient computation is itself recorded and can be
    differentiated again).  No two nodes' gradients are the same array:
    where an op passes ``g`` (or a view of it) on to a parent, or one array
    to two parents, the parent gets a copy.

    Raises RuntimeError (``where`` begins the message) if ``.data`` of a
    node was assigned after an op used it.
    """
    order = topo_order(root)
    grads = {root: seed}
    ndarray = np.ndarray
    for node in reversed(order):  # the root first; a node only after every node that uses it
        op = node._op
        if op is None:
            continue  # a leaf: nothing to pass on
        g = grads[node]
        local = _local_gradients(op, g, node, create_graph, where)  # op.backward(g, y, *inputs)
        parents = node.parents
        try:
            for i in range(len(parents)):  # (quicker than zip(parents, local) for 1 or 2 inputs)
                parent, pg = parents[i], local[i]
                if pg is None:  # "no gradient for this input", as in PyTorch: a zero
                    if parent not in grads:
                        grads[parent] = _zero_gradient(parent, create_graph)
                    continue
                if pg.shape != parent._data.shape:
                    pg = _sum_back(op, pg, parent, node)  # undo broadcasting, for every op
                if parent in grads:
                    grads[parent] = grads[parent] + pg  # one more path to this parent: add
                elif type(pg) is ndarray:
                    grads[parent] = _own(pg, g, local, i)  # a copy if pg is shared
                else:
                    grads[parent] = pg  # a number, or a Value (create_graph)
        except AttributeError:  # a gradient with no .shape: a float, a list
            raise _not_arrays(op, local) from None
    return order, grads


def _local_gradients(op, g, node: Value, create_graph: bool, where: str) -> tuple:
    """``op.backward(g, y, *inputs, *args)`` for ``node``: one gradient per input, checked.

    First the check that no ``.data`` of the node or its inputs was assigned
    since the op ran.  With ``create_graph`` the op is handed the nodes
    themselves, so its arithmetic builds a graph; else their numbers, with
    the calls spelled out for one and two inputs (the common cases: building
    a list costs more than a small op's numpy work).
    """
    parents, born, args = node.parents, node._born, node._args
    n = len(parents)
    if node._version > born:  # the output changed since the op made it
        raise _data_changed(node, where)
    if create_graph:  # hand the op the nodes, so its arithmetic builds a graph
        _check_parents(node, where)
        local = op.backward(g, node, *parents, *args)
    elif n == 2 and not args:
        a, b = parents
        if a._version > born or b._version > born:
            raise _data_changed(node, where)
        local = op.backward(g, node._data, a._data, b._data)
    elif n == 1 and not args:
        (a,) = parents
        if a._version > born:
            raise _data_changed(node, where)
        local = op.backward(g, node._data, a._data)
    else:
        _check_parents(node, where)
        local = op.backward(g, node._data, *[p._data for p in parents], *args)
    if type(local) is not tuple or len(local) != n:
        return _one_per_input(op, local, parents)  # a bare array, a list, or an error
    return local


def _own(pg: np.ndarray, g, local: tuple, i: int) -> np.ndarray:
    """``pg``, or a copy where it may share memory with another node's gradient.

    An op may pass ``g`` on (Add), a view of it (a reshape) or one array to
    two inputs: each node's gradient is then made an array of its own, so
    that adding to one never changes another.
    """
    if pg is g or pg.base is not None or i and (
            pg is local[0] or i > 1 and any(pg is q for q in local[1:i])):
        return pg.copy()
    return pg


def checked_gradients(op, local: tuple, node: Value) -> tuple:
    """``local``, from ``_local_gradients``, with each gradient summed back to its input's shape.

    What ``backprop``'s loop does to each gradient before adding it up, with
    the same errors: a gradient that is not an array (a float, a list) is a
    TypeError from ``_not_arrays``; one of another shape than its input is
    summed back with ``_sum_back`` (undoing broadcasting), or a ValueError
    naming the op and the shapes.  ``None`` (no gradient for that input)
    stays ``None``.  The ``Stepper``, which replays backprop's loop step by
    step, calls ``_local_gradients`` and then this, for every node.
    """
    fitted = []
    try:
        for parent, pg in zip(node.parents, local):
            if pg is not None and pg.shape != parent._data.shape:
                pg = _sum_back(op, pg, parent, node)
            fitted.append(pg)
    except AttributeError:  # a gradient with no .shape: a float, a list
        raise _not_arrays(op, local) from None
    return tuple(fitted)


def _not_arrays(op, local) -> TypeError:
    """The error for gradients that are not arrays (a float, a list) in ``local``."""
    kinds = ", ".join(type(pg).__name__ for pg in local)
    return TypeError(f"{op.__name__}.backward returned ({kinds}); each gradient must be "
                     "a numpy array (or a Value when differentiating twice)")


def _zero_gradient(node: Value, create_graph: bool):
    """A zero gradient of ``node``'s shape (a Value when ``create_graph``)."""
    zero = np.zeros(node.shape)[()]  # np.float64 for a single number, like .data
    return Value(zero) if create_graph else zero


def _shapes(parents) -> str:
    return ", ".join(str(p.shape) for p in parents)


def _one_per_input(op, local, parents: tuple) -> tuple:
    """``backward``'s result as a tuple of one gradient per input, or an error naming the op.

    A one-input op may return its gradient bare (``return g * y``), as
    PyTorch's ``autograd.Function`` allows; a list is taken as a tuple.  A
    bare ``None`` is refused: it is far more often a forgotten ``return``
    than a meant "no gradient" (write ``(None,)`` for that).
    """
    if len(parents) == 1 and isinstance(local, (np.ndarray, np.generic, Value)):
        return (local,)
    if isinstance(local, (tuple, list)):
        if len(local) == len(parents):
            return tuple(local)
        raise ValueError(
            f"{op.__name__}.backward returned {len(local)} gradient(s) for {len(parents)} "
            f"input(s) of shapes {_shapes(parents)}; return one per input, in argument order")
    missing = " (a missing return?)" if local is None else ""
    raise TypeError(f"{op.__name__}.backward returned {type(local).__name__}{missing}; return "
                    f"a tuple of {len(parents)} gradient(s), one per input of shapes "
                    f"{_shapes(parents)} (None in it: no gradient for that input)")


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
    """The starting gradient: 1 for a one-element root, else ``grad`` checked and copied."""
    if root._born is None:
        raise RuntimeError(
            f"{where}: this Value was computed with graph recording off (inside no_grad()), "
            "so it has no graph to differentiate and no gradient would reach its inputs; "
            "compute it outside no_grad() (or inside enable_grad())")
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
        g = as_float64(grad.data if isinstance(grad, Value) else grad, f"{where}: grad")
    except ValueError as err:  # a number out of float64's range
        raise ValueError(f"{err}; grad must be numbers of the output's shape") from None
    except TypeError:  # strings, complex numbers, objects
        shown = repr(grad) if len(repr(grad)) <= 40 else repr(grad)[:37] + "..."
        raise TypeError(f"{where}: grad must be numbers of the output's shape {root.shape}; "
                        f"got {type(grad).__name__} {shown} (real numbers only: not text, "
                        "not complex)") from None
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
    seed = _seed(root, grad, "Value.backward")
    if _anomaly.is_active():  # inside detect_anomaly(): the walks checked for nan and inf
        grads = _checked_backprop(root, seed, "Value.backward")
    else:
        _, grads = backprop(root, seed, where="Value.backward")
    for node, g in grads.items():  # one entry per node of the graph
        before = node._grad  # each g is an array of its own (see backprop): no copy needed
        node._grad = g if before is None else before + g


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
            _, grads = backprop(output, seed, create_graph=True, where="grad")
        found = [grads.get(x) for x in inputs]
        return [Value(np.zeros_like(x.data)) if g is None else g for x, g in zip(inputs, found)]
    if _anomaly.is_active():
        grads = _checked_backprop(output, seed, "grad")
    else:
        _, grads = backprop(output, seed, where="grad")
    found = [grads.get(x) for x in inputs]
    return [Value(np.zeros_like(x.data) if g is None else g) for x, g in zip(inputs, found)]


def _checked_backprop(root: Value, seed, where: str) -> dict:
    """``backprop`` inside ``detect_anomaly()``: the forward values are checked first, then
    the gradients; the first non-finite number raises ``AnomalyError`` naming its node."""
    order = topo_order(root)
    _anomaly.check_forward(order)
    with np.errstate(all="ignore"):  # the check below says where, better than numpy's warning
        order, grads = backprop(root, seed, where=where)
    _anomaly.check_backward(order, grads)
    return grads


def is_grad_enabled() -> bool:
    """Whether operations record a graph here and now (in this thread and asyncio task)."""
    return _value._grad_mode.get()


# The modes found on entering each open ``no_grad``/``enable_grad`` block, innermost
# last: one per entry, so one object entered twice (a module-level ``no_grad()`` in a
# recursive function) restores the right mode after each exit.  A context variable
# too, so each thread and asyncio task keeps its own.
_saved_modes: contextvars.ContextVar[tuple[bool, ...]] = contextvars.ContextVar(
    "tinygrad_sine_saved_grad_modes", default=())


class _GradMode:
    """Context manager that switches graph recording off (or on) inside a block.

    The mode lives in a ``contextvars.ContextVar``: a ``no_grad()`` block in
    one thread (or asyncio task) leaves every other one recording, as in
    PyTorch.  Leaving restores the mode found on entering, so blocks nest;
    the saved modes are kept on a stack per thread and task, not on the
    object, so one object may be entered again before it is left.
    """

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __enter__(self):
        _saved_modes.set((*_saved_modes.get(), _value._grad_mode.get()))
        _value._grad_mode.set(self.enabled)
        return self

    def __exit__(self, *exc):
        saved = _saved_modes.get()
        _value._grad_mode.set(saved[-1])
        _saved_modes.set(saved[:-1])
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
