"""Diagrams of a computation graph: ``draw_graph`` (a ``graphviz.Digraph``) and ``render_graph``.

What a diagram shows:

* one box per Value — its name (label, or a generated ``op#n``), kind and
  shape, a preview of its data and of its gradient — and one small oval per
  operation, with edges in argument order (``a * a`` draws two edges);
* colours for the kinds of node: parameters, inputs/constants, intermediate
  values and the root (a legend says which is which); the box of an input or
  constant says it is data (``t is data: its gradient is computed, never used
  for an update``, ``describe.data_note``);
* for a ``SineNet`` graph, a dashed cluster around each layer's nodes, and at
  the nodes that carry one of the seed's quantities the formula (δ at ``u``,
  ∂y at a layer's output, ∂w and ∂b at the parameters) with the manual value
  beside the automatic one (see ``tinygrad_sine/describe.py`` for how they are found);
* in each op's oval, what it does with its arguments: ``pow n=2``,
  ``sum axis=0``, ``reshape (3, 1)``, ``getitem [0, :2]``.

Diagrams run top to bottom by default (``rankdir="TB"``), as
``tinygrad-sine graph`` and ``Stepper.render`` draw them.

Every piece of text goes into Graphviz as an HTML-like label, escaped with
``html.escape``: quotes, ``<``, ``>``, ``&``, braces, ``|`` and backslashes
(``\\delta_j``) show as written, and a newline becomes a line break.  What
UTF-8 or XML cannot hold (a lone surrogate, U+FFFE, U+FFFF, control
characters) shows as its escape (``\\ud800``).  So no label, op name or
docstring can break the DOT source or make ``dot`` fail.

Graphviz is loaded inside the functions, never at import time.
"""

from __future__ import annotations

import functools
import html
import os
from collections.abc import Iterable
from pathlib import Path

from tinygrad_sine.arguments import is_int
from tinygrad_sine.autograd import topo_order
from tinygrad_sine.describe import (
    DATA_KINDS,
    GraphInfo,
    SeedLayer,
    box_data,
    box_grad,
    data_note,
    describe,
    find_seed_layers,
    grad_getter,
    op_label,
    preview,
    shape_text,
)
from tinygrad_sine.files import atomic_write, make_folder, safe_text
from tinygrad_sine.value import Value

from .dot import (  # noqa: F401  (INSTALL_HINT, DiagramTooSlow: part of viz.graph's names)
    COMPACT,
    COMPACT_FROM,
    INSTALL_HINT,
    DiagramTooSlow,
    GraphTooLarge,
    GraphvizNotFound,
    layout_limit,
    layout_size,
    run_dot,
)

FORMATS = ("svg", "png", "pdf", "dot")
MAX_NODES = 500  # draw_graph's default: dot gets slow past a few hundred boxes
RANKDIR = "TB"  # the one default direction: the CLI, the stepper and draw_graph all use it
# (fill, border) per kind of node; light fills so that black text stays readable
STYLE = {
    "parameter": ("#fde7b0", "#b7791f"),
    "input": ("#d6e8f7", "#3b78b0"),
    "constant": ("#d6e8f7", "#3b78b0"),
    "intermediate": ("#ffffff", "#666666"),
    "root": ("#d3efd3", "#2f7d32"),
}
# The legend's kinds, in its order, with their words ("constant" shares input's colours).
LEGEND = (("parameter", "parameter"), ("input", "input / constant"),
          ("intermediate", "intermediate"), ("root", "root"))
SHADE = "#d0d0d0"  # visited nodes (the stepper)
HIGHLIGHT = "#d62728"  # highlighted nodes: a thick red border
SEED_COLOUR = "#6a1b9a"  # the seed's formulas
FONT = "Helvetica"


def _graphviz():
    """The ``graphviz`` package, imported on first use."""
    try:
        import graphviz
    except ImportError:
        raise GraphvizNotFound(
            "the Python package 'graphviz' is missing: pip install graphviz"
        ) from None
    return graphviz


@functools.cache
def _digraph_class():
    """``graphviz.Digraph`` as draw_graph returns it: a repr that says what it is; ``pipe``
    (Jupyter's display) and ``render("x.svg")`` run ``dot`` bounded in time and memory
    (:func:`viz.dot.run_dot`), and a missing ``dot`` raises :class:`GraphvizNotFound` with
    the install hint, not graphviz's ``ExecutableNotFound``."""
    gv = _graphviz()

    class Digraph(gv.Digraph):
        summary = "a graph"  # draw_graph sets what the diagram shows: root, boxes, edges
        timeout = None  # and its timeout=: seconds dot may take (None: viz.dot.TIMEOUT)

        def __repr__(self) -> str:
            """What the diagram is and how to see it (the prompt shows this)."""
            return (f"<diagram of {self.summary}: Jupyter shows it inline; "
                    "elsewhere .render('graph.svg') writes it (.svg, .png, .pdf or .dot)>")

        def pipe(self, format=None, *args, encoding=None, **kwargs):
            """The diagram rendered by ``dot`` (what Jupyter's display calls), as
            :func:`viz.dot.run_dot` runs it: bounded in time and memory.  With
            graphviz's other arguments (renderer, engine …) graphviz's own ``pipe``."""
            if args or kwargs.get("engine") not in (None, "dot") or any(
                    v for k, v in kwargs.items() if k != "engine"):
                return super().pipe(format, *args, encoding=encoding, **kwargs)
            data = run_dot(self.source, format or self.format,
                           "draw_graph: cannot show the diagram", self.timeout, self.summary)
            return data.decode(encoding) if encoding else data

        def render(self, filename=None, *args, **kwargs):
            """``diagram.render("x.svg")`` writes x.svg (or .png, .pdf, .dot) as
            :func:`render_graph` does, and returns its Path.  Any other call is
            graphviz's own ``Digraph.render``."""
            if (isinstance(filename, (str, os.PathLike)) and not args and not kwargs
                    and Path(filename).suffix.lower().lstrip(".") in FORMATS):
                return _write_diagram(self, Path(filename), "render")
            return super().render(filename, *args, **kwargs)

    return Digraph


def _html(text) -> str:
    """``text`` safe inside an HTML-like label: entities escaped, newlines as line breaks."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    # What UTF-8 or SVG's XML cannot hold (other control characters, a lone surrogate,
    # U+FFFE, U+FFFF) shows as its escape, \x01 or \ud800 (tinygrad_sine.files.safe_text).
    text = safe_text(text)
    # Graphviz reads its own escapes (\N, \G, \E …) even inside HTML labels and
    # turns \\ into one backslash, so each backslash is doubled: a LaTeX-style
    # \Gamma_j then shows as written.
    lines = (html.escape(line, quote=True).replace("\\", "\\\\") for line in text.split("\n"))
    return '<BR ALIGN="LEFT"/>'.join(lines)


def _count(n: int, thing: str) -> str:
    """``3 edges``, ``1 edge``, ``2 value boxes``."""
    return f"{n} {thing}" if n == 1 else f"{n} {thing}{'es' if thing.endswith('x') else 's'}"


def _table(rows: list[str]) -> str:
    """An HTML-like label: one left-aligned row per entry (entries are already escaped)."""
    cells = "".join(f'<TR><TD ALIGN="LEFT" BALIGN="LEFT">{r}</TD></TR>' for r in rows)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>>'


def _small(text: str, colour: str = "#444444") -> str:
    return f'<FONT POINT-SIZE="10" COLOR="{colour}">{_html(text)}</FONT>'


def _seed_rows(info: GraphInfo, node: Value, grad, show_grad: bool) -> list[str]:
    """The seed's formula at ``node``, and its manual value beside the automatic one."""
    rows = []
    for q in info.by_node.get(id(node), ()):
        rows.append(f'<FONT POINT-SIZE="11" COLOR="{SEED_COLOUR}"><B>{_html(q.formula)}</B></FONT>')
        # The manual value appears with the automatic one, not before: a node
        # backprop has not reached yet (a stepper drawing) shows only the formula.
        if q.manual is not None and show_grad and grad is not None:
            if not q.finite(grad):  # overflowed, not a wrong formula
                verdict = "  (not finite: cannot compare)"
            else:
                verdict = "  ✓ = auto" if q.agrees(grad) else "  (auto differs)"
            rows.append(_small(f"manual {preview(q.manual)}{verdict}", SEED_COLOUR))
    return rows


def _logit_rows(info: GraphInfo, node: Value) -> list[str]:
    """``δ = p − t`` at the logits of a cross-entropy loss (the root's first input): the
    softmax and the cross-entropy are one node, so their gradient there is that simple."""
    root = info.root
    if root.op != "cross_entropy" or not root.parents or root.parents[0] is not node:
        return []
    mean = bool(root._args and root._args[0])
    p = f"p = softmax({info.name(node)})"
    formula = f"δ = (p − t) / n,  {p}" if mean else f"δ = p − t,  {p}"
    return [f'<FONT POINT-SIZE="11" COLOR="{SEED_COLOUR}"><B>{_html(formula)}</B></FONT>']


def _value_label(node: Value, info: GraphInfo, show_data: bool, show_grad: bool, grad) -> str:
    title = info.name(node) if node.label in (None, "") else str(node.label)  # newlines kept
    rows = [f'<FONT POINT-SIZE="13"><B>{_html(title)}</B></FONT>',
            _small(f"{info.kind(node)} · {shape_text(node)}", "#666666")]
    if show_data:
        rows.append(_small(box_data(node.data)))
    if show_grad:
        rows.append(_small(box_grad(grad)))
    if info.kind(node) in DATA_KINDS:  # its gradient is computed, but no update uses it
        rows.append(_small(data_note(info.name(node)).replace(", ", ",\n"), "#3b78b0"))
    return _table(rows + _seed_rows(info, node, grad, show_grad) + _logit_rows(info, node))


def _layer_label(layer: SeedLayer, info: GraphInfo, show_data: bool, show_grad: bool,
                 grad_of) -> str:
    """The box that stands for a whole layer when ``collapse=True``."""
    act = layer.y.op
    n = info.name
    rows = [f'<FONT POINT-SIZE="13"><B>{_html(f"layer {layer.index} · {layer.kind}")}</B></FONT>',
            _small(f"{n(layer.y)} = {act}({n(layer.x)} @ {n(layer.w)} + {n(layer.b)})"),
            _small(f"{n(layer.w)} {shape_text(layer.w)}   {n(layer.b)} {shape_text(layer.b)}",
                   "#666666")]
    if show_data:
        rows.append(_small(f"{n(layer.y)} data {preview(layer.y.data)}"))
    if show_grad:
        rows.append(_small(f"{n(layer.y)} {box_grad(grad_of(layer.y))}"))
    for node in layer.members:  # the formulas at the nodes folded into this box, each once
        rows += _seed_rows(info, node, grad_of(node), show_grad)
    return _table(rows)


def _legend(shaded: bool, highlighted: bool, seeded: bool) -> str:
    cells = []
    for kind, text in LEGEND:
        fill, border = STYLE[kind]
        cells.append(f'<TD BGCOLOR="{fill}" COLOR="{border}" BORDER="1">{text}</TD>')
    if shaded:
        cells.append(f'<TD BGCOLOR="{SHADE}" BORDER="1">visited</TD>')
    if highlighted:
        cells.append(f'<TD COLOR="{HIGHLIGHT}" BORDER="3">current / highlighted</TD>')
    if seeded:
        cells.append(f'<TD BORDER="0"><FONT COLOR="{SEED_COLOUR}">seed formula</FONT></TD>')
    return ('<<TABLE BORDER="0" CELLSPACING="4" CELLPADDING="3"><TR>'
            + "".join(cells) + "</TR></TABLE>>")


def _items(nodes, where: str) -> list:
    """``highlight``/``shade`` as a list: one Value or name alone counts as a list of one."""
    if isinstance(nodes, (str, Value)):
        return [nodes]
    if not isinstance(nodes, Iterable):
        raise TypeError(f"draw_graph: {where} takes Values or node names (one, or a list of "
                        f"them), got {type(nodes).__name__} {nodes!r}")
    return list(nodes)


def _resolve(nodes: Iterable, info: GraphInfo, where: str) -> set[int]:
    """ids of the given Values or names; an error names anything not in the graph."""
    ids, members = set(), {id(n) for n in info.order}
    for item in nodes:
        if isinstance(item, str):
            found = info.find(item)
            if not found:
                raise ValueError(f"draw_graph: {where} names {item!r}, "
                                 "which is no node of this graph")
            ids.update(id(n) for n in found)
        elif isinstance(item, Value) and id(item) in members:
            ids.add(id(item))
        else:
            raise ValueError(f"draw_graph: {where} holds {item!r}, "
                             "which is not a node of this graph")
    return ids


def box_ids(info: GraphInfo, collapse: bool = False) -> dict[int, str]:
    """``id(node) -> `` the name of its box in the drawing, which is also its id in the SVG.

    ``v<i>`` for the i-th node of ``info.order`` (the stepper's order), or
    ``layer<k>`` for a node folded into layer k's box by ``collapse=True``.
    A node made by an op has its op drawn as an oval named ``op<i>``.
    """
    layers = info.layers if collapse else []
    box = {id(m): f"layer{k}" for k, layer in enumerate(layers) for m in layer.members}
    return {id(n): box.get(id(n), f"v{i}") for i, n in enumerate(info.order)}


def check_size(order: list[Value], max_nodes: int, collapse: bool = False) -> None:
    """Raise :class:`GraphTooLarge` when drawing the nodes ``order`` (a graph's, in
    topological order) would take more than ``max_nodes`` boxes.

    ``collapse=True`` counts each SineNet layer's five nodes as one box.  Cheap
    (no labels, no Graphviz): callers check before any other work.
    """
    if not is_int(max_nodes):
        raise TypeError(f"draw_graph: max_nodes must be a whole number, got {max_nodes!r}")
    if len(order) <= max_nodes:
        return
    found = len(find_seed_layers(order))
    if not collapse:
        fold = (f"pass collapse=True to draw each of its {found} SineNet layers as one box, or "
                if found else "collapse=True folds SineNet layers (none here), so ")
        raise GraphTooLarge(f"draw_graph: the graph has {len(order)} value nodes, more than "
                            f"max_nodes={max_nodes}; {fold}raise max_nodes "
                            "(dot gets slow on big graphs)", len(order), max_nodes, found)
    drawn = len(order) - 4 * found  # a layer's w, b, matmul, u and y: one box
    if drawn > max_nodes:
        raise GraphTooLarge(f"draw_graph: even with collapse=True the graph has {drawn} nodes "
                            f"to draw, more than max_nodes={max_nodes}; raise max_nodes",
                            drawn, max_nodes, 0)


def draw_graph(root: Value, *, show_data: bool = True, show_grad: bool = True,
               highlight: Iterable = (), rankdir: str = RANKDIR, collapse: bool = False,
               max_nodes: int = MAX_NODES, shade: Iterable = (), grads: dict | None = None,
               title: str | None = None, legend: bool = True, info: GraphInfo | None = None,
               timeout: float | None = None):
    """The graph below ``root`` as a ``graphviz.Digraph`` (Jupyter shows it inline).

    ``highlight`` and ``shade`` are Values or names to mark with a red border
    or a grey fill; ``rankdir`` is ``"TB"`` (top to bottom, the default),
    ``"LR"``, ``"RL"`` or ``"BT"``; ``collapse=True`` draws each ``SineNet``
    layer as one box.  ``grads`` (``node -> array`` as ``Stepper.grads()``
    gives it; ``id(node)`` keys work too) replaces ``.grad`` in the boxes, which is how the
    stepper shows gradients part way through backprop.  A graph with more
    than ``max_nodes`` value nodes is refused before Graphviz is involved, so
    a huge graph never turns into a ``dot`` run that does not finish.

    Nodes are not all that costs: a node used far apart (a weight shared by
    every step of an unrolled loop) makes long edges, and dot's work grows
    with their length squared.  So the layout's size is estimated too
    (:func:`viz.dot.layout_size`); past ``32 × max_nodes`` pieces of edges
    the graph is refused as well (:class:`GraphTooLarge`, ``reason="layout"``),
    and past 2,000 it is drawn in a cheaper style (straight edges, the inputs'
    numbers at the arrow heads, dot's effort capped: :data:`viz.dot.COMPACT`).
    ``timeout`` is the seconds ``dot`` may take when the diagram is shown or
    rendered (default ``viz.dot.TIMEOUT``, 20 s); then it is stopped and
    :class:`viz.dot.DiagramTooSlow` says what to do.
    ``info`` is ``describe(root)`` when the caller has it already (a
    Stepper's ``.info``): the boxes' ids are then the stepper's own.

    >>> from tinygrad_sine import Value
    >>> a = Value(2.0, label="a")
    >>> dot = draw_graph(a * a, show_grad=False)
    >>> dot.source.count("v0 -> op1")          # a is used twice: two edges
    2
    """
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'LR', 'TB', 'RL' or 'BT', got {rankdir!r}")
    if not isinstance(root, Value):
        raise TypeError("draw_graph: expected the Value at the top of a graph, "
                        f"got {type(root).__name__}")
    if info is not None and info.root is not root:
        raise ValueError("draw_graph: info describes another graph (its root is "
                         f"{info.name(info.root)!r}); pass describe(root), or leave info out")
    highlight, shade = _items(highlight, "highlight"), _items(shade, "shade")
    check_size(info.order if info is not None else topo_order(root), max_nodes, collapse)
    info = info if info is not None else describe(root)
    layers = info.layers if collapse else []
    marked = _resolve(highlight, info, "highlight")
    shaded = _resolve(shade, info, "shade")
    order = info.order  # the same order (and so the same v<i> ids) as the stepper's
    pos = {id(n): i for i, n in enumerate(order)}
    ident = box_ids(info, collapse)

    grad_of = grad_getter(grads)

    def style(key: int, kind: str) -> dict:
        fill, border = STYLE[kind]
        attrs = {"id": ident[key],  # the SVG's id too, for the explorer page (viz/explore.py)
                 "fillcolor": SHADE if key in shaded else fill, "color": border}
        if key in marked:
            attrs.update(color=HIGHLIGHT, penwidth="3")
        elif kind == "root":
            attrs["penwidth"] = "2"
        return attrs

    dot = _digraph_class()("tinygrad_sine", graph_attr={
        "rankdir": rankdir, "fontname": FONT, "bgcolor": "white", "nodesep": "0.25",
        "ranksep": "0.35", "newrank": "true"},
        node_attr={"fontname": FONT, "shape": "box", "style": "rounded,filled",
                   "margin": "0.08,0.04"},
        edge_attr={"fontname": FONT, "fontsize": "9", "color": "#555555", "arrowsize": "0.7"})
    if title is not None:
        dot.attr(label=f"<<B>{_html(title)}</B>>", labelloc="t", fontsize="16")

    def add_value(g, node: Value) -> None:
        key = id(node)
        g.node(ident[key], _value_label(node, info, show_data, show_grad, grad_of(node)),
               **style(key, info.kind(node)))
        if node._op is not None:
            g.node(f"op{pos[key]}", f"<{_html(op_label(node))}>", shape="ellipse", style="filled",
                   fillcolor="#eeeeee", color="#999999", fontsize="10", height="0.3",
                   margin="0.04,0.02", id=f"op{pos[key]}")

    in_cluster = {id(m) for layer in info.layers for m in layer.members}
    for k, layer in enumerate(info.layers):
        if collapse:
            key = id(layer.y)
            kind = "root" if any(m is root for m in layer.members) else "intermediate"
            dot.node(f"layer{k}", _layer_label(layer, info, show_data, show_grad, grad_of),
                     **style(key, kind))
            continue
        with dot.subgraph(name=f"cluster_layer{k}") as c:
            c.attr(label=f"<<I>{_html(f'layer {layer.index} · {layer.kind} ({layer.y.op})')}</I>>",
                   style="rounded,dashed", color="#999999", fontsize="11", labeljust="l")
            for m in layer.members:
                add_value(c, m)
    for node in order:
        if id(node) not in in_cluster:
            add_value(dot, node)
    # Edges, in argument order: each input into the op, the op into its result.
    edges = []  # (tail, head, number of the input or None)
    for node in order:
        key = id(node)
        if ident[key].startswith("layer"):  # folded into a collapsed layer's box
            continue
        if node._op is not None:
            # Number the inputs of a two-input op (a − b, a @ b: order matters).  Numbers,
            # not the formula's letters, which could be read as nodes named a or b.
            several = len(node.parents) > 1
            for i, parent in enumerate(node.parents, 1):
                edges.append((ident[id(parent)], f"op{pos[key]}", str(i) if several else None))
            edges.append((f"op{pos[key]}", ident[key], None))
    into_layers = [(ident[id(layer.x)], f"layer{k}", f"<{_html(info.name(layer.x))}>")
                   for k, layer in enumerate(layers)]  # a collapsed layer's input, named
    pairs = [(t, h) for t, h, _ in edges + into_layers]
    size = layout_size(pairs, labelled=any(label for *_, label in edges + into_layers))
    compact = size > COMPACT_FROM
    if compact:  # dot's effort capped; labels at the arrow heads do not double the ranks
        size = layout_size(pairs, labelled=False)
        dot.graph_attr.update(COMPACT)
    _check_layout(size, max_nodes, len(set(ident.values())),
                  0 if collapse else len(info.layers))
    for tail, head, label in edges + into_layers:
        dot.edge(tail, head, **({} if label is None else
                                {"headlabel" if compact else "label": label}))
    if legend:
        with dot.subgraph(name="cluster_legend") as c:
            c.attr(label="", color="white")
            c.node("legend", _legend(bool(shaded), bool(marked), bool(info.quantities)),
                   shape="plaintext", style="")
    ovals = sum(1 for n in order if n._op is not None and not ident[id(n)].startswith("layer"))
    dot.summary = (f"{info.name(root)}: {_count(len(set(ident.values())), 'value box')}, "
                   f"{_count(ovals, 'op oval')}, {_count(len(edges) + len(into_layers), 'edge')}")
    dot.timeout = timeout
    return dot


def _check_layout(size: int, max_nodes: int, boxes: int, layers: int) -> None:
    """Refuse a layout of ``size`` pieces (:func:`viz.dot.layout_size`) over the limit."""
    limit = layout_limit(max_nodes)
    if size <= limit:
        return
    fold = (f"pass collapse=True to draw each of its {layers} SineNet layers as one box, "
            if layers else "")
    raise GraphTooLarge(
        f"draw_graph: the graph has only {boxes} value boxes, but nodes used far apart (a "
        f"weight shared by every step of a loop, one leaf used many times) make long edges: "
        f"about {size:,} pieces for dot to lay out, more than {limit:,} (32 × max_nodes="
        f"{max_nodes}), which could take dot minutes; {fold}draw a smaller graph (fewer "
        "steps, or a sub-expression as the root), read it as a text tree "
        "(tinygrad_sine.show(root)), or raise max_nodes to try anyway",
        boxes, max_nodes, layers, "layout")


def render_graph(root: Value, path: str | Path, **options) -> Path:
    """Draw ``root``'s graph into ``path`` (``.svg``, ``.png``, ``.pdf`` or ``.dot``); return it.

    ``options`` are those of :func:`draw_graph`.  ``.dot`` writes the DOT
    source and needs only the Python package; the other formats run
    Graphviz's ``dot``.  The file is written whole or not at all
    (:func:`tinygrad_sine.files.atomic_write`): an error or Ctrl-C leaves
    the previous file untouched.  When ``dot`` is missing, the DOT source is
    written beside the requested file (``x.svg`` → ``x.dot``, to render later
    or elsewhere; never over a different file: ``x-1.dot``, ``x-2.dot`` … are
    tried) and :class:`GraphvizNotFound` is raised with install instructions.
    """
    path = _diagram_path(path, "render_graph")
    return _write_diagram(draw_graph(root, **options), path, "render_graph")


def _diagram_path(path, where: str) -> Path:
    """``path`` as a Path, checked: a file name ending in one of FORMATS."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{where}: path must be a file name (str or Path) ending in .svg, "
                        f".png, .pdf or .dot, got {type(path).__name__} {path!r}")
    path = Path(path)
    if path.suffix.lower().lstrip(".") not in FORMATS:
        raise ValueError(f"{where}: cannot write {str(path)!r}: the file name must end in "
                         ".svg, .png, .pdf or .dot")
    return path


def _write_diagram(dot, path: Path, where: str) -> Path:
    """Write the diagram ``dot`` to ``path`` in the format its suffix names (see render_graph)."""
    fmt = path.suffix.lower().lstrip(".")
    make_folder(path.parent, where)
    if fmt == "dot":
        return atomic_write(path, dot.source)
    try:
        data = _pipe(dot, fmt, f"{where}: cannot write {path.name}")
    except GraphvizNotFound as err:
        fallback = _free_dot_name(path.with_suffix(".dot"), dot.source)
        atomic_write(fallback, dot.source)
        raise GraphvizNotFound(f"{err} (the DOT source is in {fallback})") from None
    return atomic_write(path, data)


def _pipe(dot, fmt: str, where: str) -> bytes:
    """``dot`` rendered by Graphviz's ``dot`` program to ``fmt`` (svg, png, pdf).

    ``where`` starts the error messages: a missing ``dot`` raises
    :class:`GraphvizNotFound` with the install hint, a failing one a
    ``RuntimeError`` with what it printed, one past the diagram's time limit
    :class:`DiagramTooSlow` (see :func:`viz.dot.run_dot`).
    """
    return run_dot(dot.source, fmt, where, getattr(dot, "timeout", None),
                   getattr(dot, "summary", "the graph"))


def _free_dot_name(path: Path, source: str) -> Path:
    """``path`` if it is free or already holds ``source``; else the first free ``x-N.dot``."""
    candidate, n = path, 0
    while candidate.exists():
        try:
            if candidate.read_text(encoding="utf-8") == source:
                break  # the same drawing: writing it again loses nothing
        except (OSError, UnicodeDecodeError):
            pass
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}.dot")
    return candidate
