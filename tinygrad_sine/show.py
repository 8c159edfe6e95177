"""``show``: a graph as a text tree, root at the top, each node's inputs below it.

The words — node names, kinds, numbers, op arguments, the seed's formulas —
come from ``describe.py``, which the stepper and the diagrams share.  (The
describing used to live here; its names are still importable from this
module: ``from tinygrad_sine.show import describe`` works.)
"""

from __future__ import annotations

import sys
from typing import TextIO

from .describe import (  # noqa: F401  (re-exported: once defined here; grad_getter is used here)
    INPUT_LABELS,
    KINDS,
    GraphInfo,
    SeedLayer,
    SeedQuantity,
    describe,
    find_seed_layers,
    grad_getter,
    op_parts,
    output_letter,
    preview,
    seed_lines,
    shape_text,
)
from .files import safe_text
from .value import Value

_MAX_INDENT = 30  # levels of indentation drawn; deeper ones start with "⋯ "


def node_line(node: Value, info: GraphInfo, *, show_data: bool = True,
              show_grad: bool = True, grads: dict | None = None) -> str:
    """One node in one line: call (with the op's arguments), kind, shape, data, grad and
    any seed formula.

    ``grads`` (``node -> array``, as ``Stepper.grads()`` gives; ``id(node)``
    keys work too) replaces ``node.grad``, as the stepper does to show the
    gradients at a given step; a node with no gradient (yet) shows ``—``.
    """
    parts = [info.call(node), info.kind(node), shape_text(node)]
    if show_data:
        parts.append("data " + preview(node.data))
    if show_grad:
        g = grad_getter(grads)(node)
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
    levels, so long chains print fine, in time and memory in proportion to
    their length (a chain of 100,000 nodes: about 2 s).  ``grads``
    (``node -> array``, as ``Stepper.grads()`` gives) shows those gradients
    instead of ``.grad``.  Each op line gives the op's arguments
    (``sum(a, axis=0)``), defaults left out; numbers are written by
    ``describe.number`` (``-0`` as ``0``, a rounded number never looking exact).
    """
    info = describe(root)
    lines: list[str] = []
    seen: set[int] = set()
    # (node, its depth, the indentation drawn above it, its branch: "" for the root,
    # "├─ " or "└─ ").  Each column is 3 characters and only the last _MAX_INDENT are
    # kept, so a long chain costs memory in proportion to its length, not its square.
    keep = 3 * _MAX_INDENT
    stack: list[tuple[Value, int, str, str]] = [(root, 0, "", "")]
    while stack:
        node, depth, indent, branch = stack.pop()
        lead = ("⋯ " if depth > _MAX_INDENT else "") + indent + branch
        if id(node) in seen:
            lines.append(f"{lead}{info.name(node)} ↑ (shown above)")
            continue
        seen.add(id(node))
        lines.append(lead + node_line(node, info, show_data=show_data,
                                      show_grad=show_grad, grads=grads))
        # Below a last child the column is blank; below any other it continues the line.
        below, deeper = indent, depth
        if branch:
            below = (indent + ("   " if branch == "└─ " else "│  "))[-keep:]
            deeper = depth + 1
        last = len(node.parents) - 1
        for i in reversed(range(len(node.parents))):
            stack.append((node.parents[i], deeper, below, "└─ " if i == last else "├─ "))
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
    # odd text in a name (a lone surrogate, which UTF-8 cannot print) as its escape
    print(safe_text(show_text(root, show_data=show_data, show_grad=show_grad), xml=False),
          file=sys.stdout if file is None else file)
