"""Walk a graph one node at a time: the forward pass, then backprop, step by step.

    >>> from tinygrad_sine import Value, Stepper
    >>> a = Value(2.0, label="a")
    >>> s = Stepper(a * a)
    >>> len(s)                      # 2 nodes: 2 forward steps, then 2 backward steps
    4
    >>> s.goto("a").phase           # the next step about `a`: its forward step
    'forward'
    >>> s.goto(-1).text.splitlines()[1]
    '  gradient arriving  ∂a = 4   (total of 2 contributions, from mul#1)'

With ``eta=`` (a training step) the backward pass is followed by the update,
one step per parameter: ``w1 ← w1 − η·∂w1``, with the numbers before and
after.  The stepper works the new values out and keeps them
(``s.updated()``); it never assigns ``.data``.

The backward steps replay the same loop as ``autograd.backprop`` — reverse
topological order, each op's ``backward`` on the gradient arriving at its
output, ``sum_to`` to undo broadcasting, contributions added up per parent —
but record every contribution, so each step can say what it sent where.

Each op's ``backward`` is called and its result checked by the code
``backward()`` uses: ``autograd._local_gradients`` (no ``.data`` assigned
since the op ran, one gradient per input) and then
``autograd.checked_gradients`` (each an array, summed back to its input's
shape).  So a custom op's wrong gradient, or ``.data`` assigned since the
forward pass, stops the stepper with the error ``backward()`` gives
(``Stepper:`` in place of ``Value.backward:`` where a message names its
caller).

The stepper keeps its gradients to itself: ``s.grad(node)`` and
``s.grads()`` give each node's gradient as it stands at the current step,
and after the last step exactly what ``root.backward()`` computes.  Stepping
never touches ``.grad`` (nor ``.data``), so a stepper made before or after
your own ``backward()`` shows the same numbers, and ``.grad`` keeps what
``backward()`` left in it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .arguments import check_real, is_int
from .autograd import _local_gradients, _seed, checked_gradients
from .compare import GradientRow, format_table
from .describe import (
    DATA_KINDS,
    GraphInfo,
    SeedQuantity,
    data_note,
    describe,
    formulas,
    op_about,
    preview,
    seed_lines,
    shape_text,
    sum_digits,
    update_lines,
    update_rule,
    value_digits,
    values_read,
)
from .value import Value

_WIDTH = 60  # characters of array preview in a step's text
_DIGITS = 4  # significant digits of a number, at least (see describe.number)


@dataclass(frozen=True, repr=False)
class Step:
    """One step: ``phase`` is ``"forward"``, ``"backward"`` or ``"update"``; ``text`` explains it.

    ``title`` is the one-line summary the prompt's ``list`` shows; ``seed``
    the seed's quantities at this node (δ, ∂w, ∂b, ∂y), if any.  A Step's
    repr is its text, so ``s.next()`` at a Python prompt prints the step.
    """

    index: int
    phase: str  # "forward", "backward" or "update"
    node: Value
    text: str
    title: str  # the one-line summary `list` shows
    seed: tuple[SeedQuantity, ...] = field(default=())  # the seed's quantities at this node

    def __repr__(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text


@dataclass
class _Send:
    """One contribution a backward step sends: to ``parent``, the ``heard``-th of ``expected``."""

    parent: Value
    grad: np.ndarray
    note: str
    heard: int
    expected: int
    total: np.ndarray  # the parent's running total after this contribution


class Stepper:
    """The steps of one forward and one backward pass over the graph below ``root``.

    Forward: one step per node in topological order (leaves first), showing
    the op (its math in the graph's own names), its inputs and its output.
    Backward: one step per node in reverse order, showing the gradient
    arriving at the node, the op's local derivative in the graph's names
    (``∂u1 = ∂y1 · (1 − y1) · y1``), the contribution sent to each parent,
    and the running total when a parent hears from several children.  At
    nodes that carry one of the seed's quantities (δ, ∂y, ∂w, ∂b in a
    ``SineNet`` graph) the backward step shows the formula and the manual
    value beside the automatic one.  The backward step of a data leaf (an
    input like ``x``, the target ``t``, a constant) says that it is data: its
    gradient is computed, as PyTorch would with ``requires_grad``, but never
    used for an update (only parameters get update steps).

    Numbers: at least 4 significant digits, more where fewer would mislead —
    a rounded number never looks exact (``-0.99999``, not ``-1``), and
    wherever a gradient is the sum of several contributions, all of them and
    every running total are shown to as many digits as it takes for each
    shown total to be the shown previous total plus the shown contribution.

    ``eta`` (η, the learning rate) adds the update after backward: one step
    per parameter, ``w1 ← w1 − η·∂w1``, showing η, the value before, the
    gradient and the value after, in the order the forward pass meets them.
    The parameters are ``params`` when given (leaves of the graph), else the
    leaves that :func:`~tinygrad_sine.describe.describe` calls parameters:
    those an ``nn`` layer made, those marked with ``set_role(v, "parameter")``,
    and in a graph built by hand every labelled leaf but ``x``, ``t``, ``x1`` …
    (what the diagrams colour as parameters).  The forward and backward steps
    keep their numbers; the update steps come after them.

    ``grad`` seeds the backward pass for a root with more than one element
    (as in ``root.backward(grad)``).  The stepper starts *before* the first
    step; ``next()`` moves to step 0.  The gradients reached so far are the
    stepper's own (``grad``, ``grads``): no node's ``.grad`` is changed.
    A custom op whose ``backward`` returns what ``backward()`` refuses (a
    gradient of the wrong shape, too many or too few, a missing ``return``)
    raises here with the same error.

    Public API: ``len(s)``, ``s[i]``, iteration (``Step`` records with
    ``.index``, ``.phase``, ``.node``, ``.text``, ``.title``, ``.seed``),
    ``position``, ``current``, ``next``, ``prev``, ``goto``, ``where``,
    ``visited``, ``grad``, ``grads`` (keyed by Value), ``updated``, ``formulas``,
    ``formulas_table``, ``render``; ``info`` is the graph's
    :class:`~tinygrad_sine.describe.GraphInfo`, ``root`` its root, ``eta``
    its η (None without updates) and ``params`` the parameters it updates.
    """

    def __init__(self, root: Value, grad=None, *, eta: float | None = None,
                 params=None):
        self.root = root
        self.info: GraphInfo = describe(root)
        self.eta = None if eta is None else check_real(
            eta, "Stepper", "eta (the learning rate)", positive=True, example="0.1")
        self.params: list[Value] = self._parameters(params)
        self._seed = _seed(root, grad, "Stepper")
        self._seed_given = grad is not None
        self._nodes = {id(n): n for n in self.info.order}
        # id(node) -> [(step index, running total)] in the order contributions arrive
        self._arrivals: dict[int, list[tuple[int, np.ndarray]]] = {}
        self._steps: list[Step] = [self._forward_step(i, n) for i, n in enumerate(self.info.order)]
        self._backward_steps()
        # id(parameter) -> (its update step, its new value)
        self._updates: dict[int, tuple[int, np.ndarray]] = {}
        if self.eta is not None:
            self._update_steps()
        self._pos = -1

    # ------------------------------------------------------------ building the steps
    def _forward_step(self, index: int, node: Value) -> Step:
        info, name = self.info, self.info.name(node)
        later = self.info.by_node.get(id(node), ())
        if node._op is None:
            title = f"{name}: {info.kind(node)} {shape_text(node)}"
            lines = [f"  value  {preview(node.data, _WIDTH)}"]
        else:
            title = info.call(node)
            lines = [f"  operation  {formulas(node, info)[0]}"]
            about = op_about(node)
            if about:
                lines.append(f"  about      {about}")
            for p in node.parents:
                lines.append(f"  input      {info.name(p)} {shape_text(p)} = "
                             f"{preview(p.data, _WIDTH)}")
            lines.append(f"  output     {name} {shape_text(node)} = {preview(node.data, _WIDTH)}")
        for q in later:
            lines.append(f"  (carries {q.symbol} of the {q.layer.name}; see its backward step)")
        head = f"step {index} · forward · {title}"
        return Step(index, "forward", node, "\n".join([head, *lines]), f"forward   {title}")

    def _backward_steps(self) -> None:
        """Replay backprop in reverse topological order, recording every contribution.

        Two passes: first the numbers (every contribution and running total),
        then the words, once it is known how many digits each node's sums need.
        """
        order = self.info.order
        users: dict[int, list[Value]] = {}  # id(parent) -> the nodes that use it, once per use
        for node in order:
            for p in node.parents:
                users.setdefault(id(p), []).append(node)
        totals = {id(self.root): self._seed}
        parts: dict[int, list[np.ndarray]] = {}  # id(node) -> the contributions it receives
        replay = []
        for index, node in enumerate(reversed(order), start=len(order)):
            g = totals[id(node)]
            if node is self.root:
                self._arrivals[id(node)] = [(index, g)]
            sends = self._send(index, node, g, totals, users, parts) if node._op else []
            replay.append((index, node, g, sends))
        digits = {key: sum_digits(c, _DIGITS) for key, c in parts.items()}
        for index, node, g, sends in replay:
            self._steps.append(self._backward_step(index, node, g, sends, users, digits))

    def _send(self, index: int, node: Value, g, totals: dict, users: dict,
              parts: dict) -> list[_Send]:
        """Apply the op's local derivative to ``g``; add each result to its parent's total."""
        op = node._op
        # backward()'s own calls, with its checks and errors: op.backward(g, y, *inputs),
        # one gradient per input (local), then each summed back to its input's shape (outs)
        local = _local_gradients(op, g, node, create_graph=False, where="Stepper")
        outs = checked_gradients(op, local, node)
        sends = []
        for parent, pg, before in zip(node.parents, outs, local):
            note = ""
            if pg is None:  # "no gradient for this input", as in backward(): a zero
                pg = np.zeros(parent.shape)[()]
            elif before.shape != parent.shape:  # undone broadcasting, as backward() does
                note = f"   (summed back to shape {parent.shape})"
            key = id(parent)
            totals[key] = totals[key] + pg if key in totals else pg
            parts.setdefault(key, []).append(pg)
            self._arrivals.setdefault(key, []).append((index, totals[key]))
            sends.append(_Send(parent, pg, note, len(self._arrivals[key]), len(users[key]),
                               totals[key]))
        return sends

    def _backward_step(self, index: int, node: Value, g, sends: list[_Send], users: dict,
                       digits: dict) -> Step:
        info, name = self.info, self.info.name(node)
        here = digits.get(id(node), _DIGITS)
        if node is self.root:
            came = "(given)" if self._seed_given else f"(the start: ∂{name}/∂{name} = 1)"
        else:
            n = len(users[id(node)])
            from_ = ", ".join(dict.fromkeys(info.name(u) for u in users[id(node)]))
            came = f"(total of {n} contributions, from {from_})" if n > 1 else f"(from {from_})"
        read = values_read(node) if node._op is not None else []
        # the digits the formula's numbers need (the arriving gradient's too), so that
        # working the local derivative out from the numbers as shown gives what is sent
        p = value_digits(node, g, [s.grad for s in sends], _DIGITS) if read else here
        lines = [f"  gradient arriving  ∂{name} = {preview(g, _WIDTH, max(here, p))}   {came}"]
        if node._op is not None:
            lines.append(f"  local derivative   {formulas(node, info)[1]}")
            if read:  # the values the formula reads, to as many digits as it needs
                lines.append("                     at " + ", ".join(
                    f"{info.name(v)} = {preview(v.data, _WIDTH, p)}" for v in read))
            for send in sends:
                p = digits.get(id(send.parent), _DIGITS)
                lines.append(f"  → {info.name(send.parent)} gets "
                             f"{preview(send.grad, _WIDTH, p)}{send.note}")
                if send.expected > 1:
                    lines.append(f"      running total of ∂{info.name(send.parent)} "
                                 f"({send.heard} of {send.expected}): "
                                 f"{preview(send.total, _WIDTH, p)}")
        seed = tuple(info.by_node.get(id(node), ()))
        for q in seed:
            lines += seed_lines(q, g)
        summary = f"∂{name} = {preview(g, 30, here)}" + "".join(f"   ({q.symbol})" for q in seed)
        if info.kind(node) in DATA_KINDS:  # the target t, an input x, a constant
            lines.append(f"  data               {data_note(name)}")
            summary += "   (data)"
        head = f"step {index} · backward · {info.call(node)}"
        return Step(index, "backward", node, "\n".join([head, *lines]),
                    f"backward  {summary}", seed)

    def _parameters(self, params) -> list[Value]:
        """The leaves the update steps change: ``params``, or the graph's parameters."""
        if params is None:
            if self.eta is None:
                return []
            return [n for n in self.info.order if self.info.kind(n) == "parameter"]
        if self.eta is None:
            raise ValueError("Stepper: params= says what the update steps change; give eta= "
                             "(the learning rate) too, e.g. Stepper(loss, eta=0.1, params=[w])")
        found, members = [], {id(n) for n in self.info.order}
        for i, p in enumerate([params] if isinstance(params, Value) else list(params)):
            if not isinstance(p, Value):
                raise TypeError(f"Stepper: params[{i}] is a {type(p).__name__}, not a Value; "
                                "pass the leaves to update, e.g. net.parameters()")
            if id(p) not in members or p._op is not None:
                what = "is not in this graph" if id(p) not in members else "is not a leaf"
                raise ValueError(f"Stepper: params[{i}] ({self._label(p)}) {what}; the update "
                                 "steps change leaves the root depends on")
            if all(q is not p for q in found):
                found.append(p)
        return found

    def _label(self, v: Value) -> str:
        return self.info.name(v) if id(v) in self.info.names else repr(v.label)

    def _update_steps(self) -> None:
        """One step per parameter after backward: ``w ← w − η·∂w``, worked out, not stored."""
        final = self.grads(len(self._steps) - 1)
        for p in self.params:
            index, name, g = len(self._steps), self.info.name(p), final[p]
            with np.errstate(all="ignore"):  # a diverging step shows its inf and nan
                after = p.data - self.eta * g
            self._updates[id(p)] = (index, after)
            title, lines = update_lines(name, p.data, g, self.eta, after, _WIDTH, _DIGITS)
            head = f"step {index} · update · {update_rule(name)}"
            self._steps.append(Step(index, "update", p, "\n".join([head, *lines]),
                                    f"update    {title}"))

    # ------------------------------------------------------------ looking at the steps
    def __repr__(self) -> str:
        return f"<Stepper over {self.info.name(self.root)}, {len(self)} steps; {self.where()}>"

    def __len__(self) -> int:
        return len(self._steps)

    def __iter__(self) -> Iterator[Step]:
        return iter(self._steps)

    def __getitem__(self, index: int) -> Step:
        return self._steps[index]

    @property
    def position(self) -> int:
        """The current step's index; -1 before the first step."""
        return self._pos

    @property
    def current(self) -> Step | None:
        """The current step, or None before the first one."""
        return self._steps[self._pos] if self._pos >= 0 else None

    def grads(self, index: int | None = None) -> dict[Value, np.ndarray]:
        """``node -> gradient`` as it stands after step ``index`` (default: the current step).

        Keyed by the Value itself.  Nodes no contribution has reached yet are
        missing.  After the last step every node is there, with the gradient
        ``root.backward()`` gives.  (``viz.draw_graph(root, grads=s.grads())``
        and ``show_text(root, grads=s.grads())`` draw them.)
        """
        index = self._pos if index is None else index
        found = {}
        for key, arrivals in self._arrivals.items():
            for at, total in arrivals:
                if at > index:
                    break
                found[key] = total
        return {self._nodes[key]: total.copy() for key, total in found.items()}  # yours to change

    def arrivals(self) -> dict[Value, list[tuple[int, np.ndarray]]]:
        """``node -> [(step, running total), …]``: each contribution to the node's gradient,
        in the order they arrive, with the backward step that sent it and the total after it
        (the last total is the final gradient).  The root's one entry is its starting gradient.
        """
        return {self._nodes[key]: [(at, total.copy()) for at, total in found]
                for key, found in self._arrivals.items()}

    def update_values(self) -> dict[Value, tuple[int, np.ndarray]]:
        """``parameter -> (its update step, its new value)``; empty without eta."""
        return {self._nodes[key]: (at, after.copy()) for key, (at, after) in
                self._updates.items()}

    def updated(self, index: int | None = None) -> dict[Value, np.ndarray]:
        """``parameter -> its new value`` for the update steps done by step ``index``
        (default: the current step); empty before the first update step, and without eta.

        The parameters' own ``.data`` is never changed: a training loop makes
        the update (``SGD.step()``); here you watch it.
        """
        index = self._pos if index is None else index
        return {self._nodes[key]: after.copy() for key, (at, after) in self._updates.items()
                if at <= index}

    def grad(self, node: Value | str) -> np.ndarray | None:
        """The gradient of ``node`` (a Value or a name) at the current step; None if none yet."""
        if isinstance(node, str):
            nodes = self.info.find(node)
            if not nodes:
                raise ValueError(self._unknown("Stepper.grad", node))
            node = nodes[0]
        return self.grads().get(node)

    def where(self) -> str:
        """Where the stepper stands, in one line."""
        if self._pos < 0:
            return f"before the first step (steps 0–{len(self) - 1}); next() to begin"
        step = self.current
        title = step.title.partition(" ")[2].lstrip()  # without the phase `list` pads
        return f"step {step.index} of 0–{len(self) - 1} · {step.phase} · {title}"

    def visited(self) -> list[Value]:
        """The nodes whose step in this phase is done (forward: computed; backward: final)."""
        step = self.current
        if step is None:
            return []
        return [s.node for s in self._steps[: self._pos + 1] if s.phase == step.phase]

    # ------------------------------------------------------------ moving
    def _move_to(self, index: int) -> Step:
        """Stand at step ``index`` (its gradients are ``grads()``; ``.grad`` is left alone)."""
        self._pos = index
        return self.current

    def next(self, count: int = 1) -> Step | None:
        """Move ``count`` steps on and return the new step; None (staying put) past the end."""
        _check_count(count, "Stepper.next")
        if self._pos + count >= len(self):
            return None
        return self._move_to(self._pos + count)

    def prev(self, count: int = 1) -> Step | None:
        """Move ``count`` steps back and return the new step; None (staying put) before step 0."""
        _check_count(count, "Stepper.prev")
        if self._pos - count < 0:
            return None
        return self._move_to(self._pos - count)

    def goto(self, target: int | str) -> Step:
        """Go to a step by index (negative counts from the end) or by node name.

        A name jumps to the *next* step about that node after the current one,
        wrapping around: from the start ``goto("u1")`` finds u1's forward
        step, and a second ``goto("u1")`` its backward step.  A string is
        tried as a name first, so with a node labelled ``"5"``, ``goto("5")``
        finds that node; ``goto(5)`` (an int) is always step 5.
        """
        if not (isinstance(target, str) or is_int(target)):
            raise TypeError("Stepper.goto: target must be a step number (int) or a node name "
                            f"(str), got {type(target).__name__} {target!r}")
        if isinstance(target, str) and not self.info.find(target):
            try:
                target = int(target)
            except ValueError:
                raise ValueError(self._unknown("Stepper.goto", target)) from None
        if isinstance(target, str):
            n = len(self)
            for k in range(1, n + 1):
                step = self._steps[(self._pos + k) % n]
                if self.info.name(step.node) == target:
                    return self._move_to(step.index)
        if not -len(self) <= target < len(self):
            raise IndexError(f"Stepper.goto: step {target} does not exist; "
                             f"the steps are 0–{len(self) - 1}")
        return self._move_to(target % len(self))

    def _unknown(self, where: str, name: str) -> str:
        names = ", ".join(dict.fromkeys(self.info.names[id(n)] for n in self.info.order))
        return f"{where}: no node is called {name!r}; the names are: {names}"

    # ------------------------------------------------------------ the seed's formulas
    def formulas(self) -> list[GradientRow]:
        """The seed's quantities with their manual and automatic (final stepped) values.

        Empty when the graph is not the seed's error ``E`` over a ``SineNet``.
        """
        final = self.grads(len(self) - 1)
        return [GradientRow(q.layer.name, q.quantity, q.formula, q.node, q.manual,
                            final[q.node])
                for q in self.info.quantities if q.manual is not None]

    def formulas_table(self) -> str:
        """:meth:`formulas` as ``compare.format_table`` prints it (manual beside automatic)."""
        rows = self.formulas()
        if not rows:
            return "(no seed formulas here: the graph is not the error E of a SineNet)"
        return format_table(rows)

    # ------------------------------------------------------------ drawing
    def render(self, path: str | Path, **options) -> Path:
        """Draw the graph to ``path`` (.svg/.png/.pdf/.dot) with the current node highlighted.

        Nodes already visited in the current phase are shaded; in the backward
        phase each node shows its gradient as it stands at this step.
        ``options`` go to ``viz.draw_graph``.  (The drawing code lives in
        ``viz`` and is imported here, on use, so the engine never needs graphviz.)
        """
        from viz.graph import render_graph

        step = self.current
        backward = step is not None and step.phase != "forward"  # backward, or the update
        drawing = dict(highlight=[step.node] if step else [], shade=self.visited(),
                       show_grad=backward, grads=self.grads() if backward else None)
        drawing.update(options)
        return render_graph(self.root, path, **drawing)


    def _repr_html_(self) -> str | None:
        """Jupyter shows a stepper as the explorer page (``viz.explore``), at its current step.

        Every step is in the page, so it needs no kernel; without Graphviz,
        or for a graph too large to draw, Jupyter shows the text repr instead.
        """
        from viz.explore import explore
        from viz.graph import GraphTooLarge, GraphvizNotFound

        try:
            return explore(self)._repr_html_()
        except (GraphvizNotFound, GraphTooLarge):
            return None


def training_step(net, x, t, backward: bool = False) -> Value:
    """The graph of one training step of ``net``: ``E = ½ Σ (net(x) − t)²`` on one batch.

    ``x`` and ``t`` are arrays of shape ``(batch, n_in)`` and ``(batch, n_out)``.
    With ``backward=True`` the parameters' old gradients are cleared and
    ``E.backward()`` is run, as a training step does before its update
    (the update itself is not made).
    """
    from .sine import step_graph  # (here: sine imports this module)

    if backward:
        net.zero_grad()
    loss = step_graph(net, x, t)  # the graph train builds: x and t labelled, marked as inputs
    if backward:
        loss.backward()
    return loss


def _check_count(count, where: str) -> None:
    """A step count is a whole number ≥ 1 (to go back, use prev; to jump, goto)."""
    if not is_int(count):
        raise TypeError(f"{where}: count must be a whole number ≥ 1, "
                        f"got {type(count).__name__} {count!r}")
    if count < 1:
        raise ValueError(f"{where}: count must be a whole number ≥ 1, got {count}; "
                         "use prev/next for the other direction, or goto(N)")
