"""The explorer page: step through a forward and a backward pass in a browser.

``explore(root)`` builds one self-contained HTML page from two things the
rest of the project already makes:

* the diagram of :func:`viz.graph.draw_graph`, rendered by Graphviz to SVG
  and put into the page as it is;
* the steps of :class:`tinygrad_sine.Stepper` — each step's text exactly as
  the REPL stepper prints it — stored in the page as JSON.

A small script of our own (``explore.js``, beside this file) moves through
the steps: Prev / Next, the ← / → keys, a slider; the step's node lights up
in the diagram, the nodes already visited in this phase are shaded, and the
edges into the node's op (the ones that carry its value forward and its
gradient back) stand out.  ``explore.css`` styles it.  Both files are read
here and inlined, so the page needs nothing else: no network, no other
files; it opens from ``file://``, from an e-mail attachment, offline.

The diagram fits the window's width, but never below a readable size (its
smallest box text stays 9 px; a wide diagram scrolls instead), and the
panel breaks a long line only between formulas and numbers, never inside one.

Steps find their boxes through ids we give the SVG (``viz.graph.box_ids``:
``v<i>`` for the i-th node of the stepper's order, ``layer<k>`` for a
collapsed layer, ``op<i>`` for an op's oval), never through label text, so
the page stays right whatever the labels and step texts say.

    >>> from tinygrad_sine import Value
    >>> a = Value(2.0, label="a")
    >>> page = explore(a * a)                 # doctest: +SKIP
    >>> page.startswith("<!DOCTYPE html>")    # doctest: +SKIP
    True
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from tinygrad_sine.autograd import topo_order
from tinygrad_sine.describe import box_data, box_grad
from tinygrad_sine.files import safe_text
from tinygrad_sine.stepper import Stepper
from tinygrad_sine.value import Value

from .graph import (
    LEGEND,
    MAX_NODES,
    STYLE,
    _pipe,
    box_ids,
    check_size,
    draw_graph,
)
from .page import Page, fill, html_page, write_page

ASSETS = ("explore.js", "page.css", "explore.css")  # read at build time (setup.cfg: *.js, *.css)

_BODY = """<header>
  <h1>{{title}}</h1>
  <nav aria-label="steps">
    <button id="prev" type="button" title="previous step (←)">◀ Prev</button>
    <div id="timeline">
      <input id="slider" type="range" min="0" max="{{last}}" value="{{start}}" step="1"
             aria-label="step">
      <div id="phases">
        <span class="forward" style="flex: {{forward}}">forward →</span>
        <span class="backward" style="flex: {{backward}}">← backward</span>{{update}}
      </div>
    </div>
    <button id="next" type="button" title="next step (→)">Next ▶</button>
    <span id="counter" aria-live="polite"></span>
  </nav>
</header>
<main>
  <section id="diagram" class="fit" aria-label="the graph">
{{svg}}
  </section>
  <aside id="panel" aria-label="the step">
    <pre id="text">{{text}}</pre>
    <p id="help">← / → keys or the slider move through the steps; click a box for its next
    step; <button id="zoom" type="button">actual size</button> (or zoom with the browser).
    The address ends in <code>#step=N</code>: copy it to link to this step.</p>
    <p id="legend">{{kinds}}<br><span class="key current">current</span>
    <span class="key visited">done in this phase</span>
    <span class="key edge forward">value, forward</span>
    <span class="key edge backward">gradient, back</span><br>
    <span class="key row partial">gradient so far</span>
    <span class="key row final">final gradient</span>
    <span class="key row updated">new value</span></p>
  </aside>
</main>"""


class ExplorePage(Page):
    """The page's HTML text (a ``str``); in Jupyter it shows as the page itself, inline.

    Jupyter displays it in an ``<iframe srcdoc=…>`` whose sandbox keeps the
    page's script and styles apart from the notebook's; every step is in the
    page, so it needs no kernel and works in a notebook exported to HTML.
    """

    frame_title = "step through backprop"


def explore(root: Value | Stepper, path: str | Path | None = None, *, grad=None,
            start: int | None = None, **draw_options) -> ExplorePage:
    """The page that steps through the forward and backward pass below ``root``.

    Returns the HTML text (an :class:`ExplorePage`, which Jupyter shows
    inline) and, when ``path`` is given, also writes it there (whole or not
    at all).  ``root`` may be a :class:`Stepper`: its root, its starting
    gradient and its current step are used.  ``grad`` seeds a root with more
    than one element, as in ``Stepper(root, grad)``; ``start`` is the step the
    page opens at (default 0; the address's ``#step=N`` wins over it).

    A Stepper made with ``eta=`` brings its update steps: after backward,
    one step per parameter, ``w1 ← w1 − η·∂w1``.

    Every box shows its gradient as it stands at the step: ``grad —`` until
    backprop reaches it, then the running total with how many of its
    contributions have arrived (``grad 0.5  (1 of 2 so far)``), then the
    final value; after a parameter's update step its box shows the new value.
    The words are ``describe.box_grad`` and ``box_data``'s, the numbers the
    stepper's (a collapsed layer's box follows its output ``y``).

    ``draw_options`` go to :func:`draw_graph` (``collapse``, ``rankdir``,
    ``max_nodes``, ``show_data`` …; ``rankdir`` is ``"TB"`` as everywhere, a
    tall diagram beside the text panel; ``show_grad=False`` leaves the
    gradient rows out), with one default of the page's own: ``legend=False``
    (the page has its own legend, beside the text, so the diagram fits
    wider).  ``title`` becomes the page's heading instead of a title in the
    diagram.  A graph over ``max_nodes`` is refused with :class:`viz.GraphTooLarge`, as
    ``draw_graph`` refuses it.
    """
    if isinstance(root, Stepper):
        stepper = root
        start = max(stepper.position, 0) if start is None else start
        if grad is not None:
            raise ValueError("explore: grad= is for a root Value; a Stepper already has "
                             "its starting gradient")
    elif isinstance(root, Value):
        stepper = None
    else:
        raise TypeError("explore: expected the Value at the top of a graph (or a Stepper), "
                        f"got {type(root).__name__}")
    options = {"rankdir": "TB", "show_grad": True, "legend": False, **draw_options}
    title = options.pop("title", None)
    if stepper is None:  # refuse a graph over max_nodes before the stepper works through it
        check_size(topo_order(root), options.get("max_nodes", MAX_NODES),
                   options.get("collapse", False))
        stepper = Stepper(root, grad)
    top = stepper.root
    collapse = options.get("collapse", False)
    if options["show_grad"]:  # drawn with the final gradients: the boxes are wide enough for them
        options.setdefault("grads", stepper.grads(_last_backward(stepper)))
    dot = draw_graph(top, info=stepper.info, **options)  # one describe: the ids are the steps'
    rows = _box_rows(stepper, collapse, options["show_grad"], options.get("show_data", True),
                     options.get("grads", {}))
    start = 0 if start is None else start
    if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start < len(stepper):
        raise ValueError(f"explore: start must be a step number from 0 to {len(stepper) - 1}, "
                         f"got {start!r}")
    title = str(title or f"Backprop step by step: {stepper.info.name(top)}")
    body = fill(_BODY, {
        "title": html.escape(safe_text(title)),
        "svg": _tag_rows(_svg(dot), rows),
        "kinds": _kinds(),
        "text": html.escape(safe_text(stepper[start].text)),  # shown before the script runs
        "last": str(len(stepper) - 1),
        "start": str(start),
        "forward": str(sum(s.phase == "forward" for s in stepper)),
        "backward": str(sum(s.phase == "backward" for s in stepper)),
        "update": _update_span(stepper),
    })
    page = ExplorePage(html_page(
        title, body, assets=ASSETS, attributes={"data-phase": "forward"}, data_id="steps-data",
        data=_step_data(stepper, collapse, start, rows)))
    if path is not None:
        write_page(page, path, "explore")
    return page


def _last_backward(stepper: Stepper) -> int:
    """The number of the last backward step (the gradients are final there)."""
    return max(st.index for st in stepper if st.phase != "update")


def _update_span(stepper: Stepper) -> str:
    """The timeline's part for the update steps, if there are any."""
    n = sum(st.phase == "update" for st in stepper)
    return f'<span class="update" style="flex: {n}">update</span>' if n else ""


def _box_rows(stepper: Stepper, collapse: bool, show_grad: bool, show_data: bool,
              final: dict) -> dict:
    """What each box's gradient and value rows say, and from which step on.

    ``{box id: {"grad": [[step, text, state], …], "data": […], "seed": […]}}``,
    where the first entry (step -1) is the text before any step changes it
    and ``state`` is ``"partial"`` (a running total), ``"final"``,
    ``"updated"``, ``"hidden"`` or ``""``; the script shows, at step k, each
    row's last entry at or before k (a text of None keeps the drawn one).
    ``"drawn"`` is the text the SVG holds (how the row is found; the seed's
    rows, ``manual …``, by its start): they appear once the box's gradient
    is final, as in a stepper's drawing.  ``final``: the gradients the SVG was
    drawn with.
    """
    info, boxes = stepper.info, box_ids(stepper.info, collapse)
    shown = {box: node for node in info.order if (box := boxes[id(node)]).startswith("v")}
    if collapse:  # a layer's box shows its output y's rows, named
        shown.update({f"layer{k}": layer.y for k, layer in enumerate(info.layers)})
    arrivals = stepper.arrivals()
    updates = {id(p): (at, after) for p, (at, after) in stepper.update_values().items()}
    rows = {}
    for box, node in shown.items():
        prefix = "" if box.startswith("v") else f"{info.name(node)} "
        entry = {}
        if show_grad:
            heard = arrivals.get(node, [])
            grad = [[-1, prefix + box_grad(None), ""]]
            grad += [[at, prefix + box_grad(total, k, len(heard)),
                      "final" if k == len(heard) else "partial"]
                     for k, (at, total) in enumerate(heard, 1)]
            entry["grad"] = {"drawn": prefix + box_grad(final.get(node)), "changes": grad}
            # the seed's manual value beside the automatic one: once that is final
            members = [node] if box.startswith("v") else list(info.layers[int(box[5:])].members)
            final_at = max((arrivals[m][-1][0] for m in members if arrivals.get(m)), default=-1)
            entry["seed"] = {"drawn": "manual ", "prefix": True,
                             "changes": [[-1, None, "hidden"], [final_at, None, ""]]}
        if show_data and id(node) in updates:
            at, after = updates[id(node)]
            entry["data"] = {"drawn": box_data(node.data),
                             "changes": [[-1, box_data(node.data), ""],
                                         [at, box_data(after), "updated"]]}
        if entry:
            rows[box] = entry
    return rows


def _tag_rows(svg: str, rows: dict) -> str:
    """The SVG with ``class="grad"`` / ``class="data"`` on the text of the rows that
    change, found inside each box's group by the exact text drawn there."""
    def tag_box(group: re.Match) -> str:
        wanted = rows.get(group.group(1))
        if not wanted:
            return group.group(0)
        left = dict(wanted)

        def tag_text(text: re.Match) -> str:
            content = html.unescape(text.group(2))
            for cls, row in list(left.items()):
                if row.get("prefix") and content.startswith(row["drawn"]):  # every such row
                    return f'<text class="{cls}"{text.group(1)}>{text.group(2)}</text>'
                if content == row["drawn"]:
                    del left[cls]
                    return f'<text class="{cls}"{text.group(1)}>{text.group(2)}</text>'
            return text.group(0)

        return re.sub(r"<text([^>]*)>(.*?)</text>", tag_text, group.group(0))

    return re.sub(r'<g id="([^"]+)" class="node">.*?</g>', tag_box, svg, flags=re.S)


def _step_data(stepper: Stepper, collapse: bool, start: int, rows: dict) -> dict:
    """What the script needs: per step its text, phase, node name, box id and op id;
    per box and oval the tooltip's name (a collapsed layer's box: the layer, not one node);
    per box the rows that change from step to step (:func:`_box_rows`)."""
    info = stepper.info
    boxes = box_ids(info, collapse)
    position = {id(n): i for i, n in enumerate(info.order)}
    titles = {}
    for i, node in enumerate(info.order):
        titles[boxes[id(node)]] = info.name(node)
        if node._op is not None and boxes[id(node)] == f"v{i}":
            titles[f"op{i}"] = info.name(node)
    for k, layer in enumerate(info.layers if collapse else []):
        titles[f"layer{k}"] = f"layer {layer.index} · {layer.kind}"  # as its box says
    steps = []
    for step in stepper:
        node, i = step.node, position[id(step.node)]
        box = boxes[id(node)]
        steps.append({
            "text": step.text,
            "phase": step.phase,
            "name": info.name(node),
            "box": box,
            # an op drawn as its own oval (not folded into a collapsed layer's box)
            "op": f"op{i}" if node._op is not None and box == f"v{i}" else None,
        })
    changing = {box: {cls: row["changes"] for cls, row in entry.items()}
                for box, entry in rows.items()}
    return {"steps": steps, "titles": titles, "start": start, "rows": changing}


def _kinds() -> str:
    """The legend of the diagram's colours, in the page (the diagram's own is left out)."""
    return "".join(f'<span class="key" style="--fill: {STYLE[kind][0]}; --border: '
                   f'{STYLE[kind][1]}">{text}</span>' for kind, text in LEGEND)


def _svg(dot) -> str:
    """The diagram as an inline ``<svg>`` element (no XML prolog, no DOCTYPE)."""
    svg = _pipe(dot, "svg", "explore: cannot draw the graph").decode("utf-8")
    return svg[svg.index("<svg"):]
