"""Notation: how the views write numbers, labels and an op's formula.

The words of every view of a graph go through here (``describe.py``
re-exports all of it, so ``tinygrad_sine.describe`` is the one place to
import from):

* :func:`number` and :func:`preview` write numbers — at least 4 significant
  digits, more where fewer would mislead (a rounded number never looks
  exact) — and :func:`sum_digits` finds the digits at which a node's
  running totals add up as shown;
* :func:`printable` makes a label safe for one line of a terminal;
* :func:`op_label` says what an op node does with its arguments
  (``pow n=2``, ``sum axis=0``, ``getitem [0, :2]``), and :func:`formulas`
  writes its forward math and local derivative with the graph's own names
  (``∂u1 = ∂y1 · (1 − y1) · y1``), read from the first line of the op's
  docstring (``"y = …;  ∂x = …"``, see ``help(ops.Op)``).
"""

from __future__ import annotations

import decimal
import functools
import inspect
import math
import re
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np

from .ops import sum_to
from .value import Value

if TYPE_CHECKING:  # only for the type hints: describe.py imports this module
    from .describe import GraphInfo


# ------------------------------------------------------------ text and numbers


def printable(text) -> str:
    """``text`` on one line of a terminal: a newline as ``⏎``, a lone surrogate as ``\\ud800``.

    >>> printable("two\\nlines"), printable("\\ud800")
    ('two⏎lines', '\\\\ud800')
    """
    text = str(text).replace("\r\n", "⏎").replace("\n", "⏎").replace("\r", "⏎")
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def number(v, digits: int = 4) -> str:
    """One number in at least ``digits`` significant digits — more when rounding would lie.

    A rounded number never looks exact: ``-0.9999877`` is ``-0.99999``, not
    ``-1`` (which would make tanh's 1 − y² look like 0); ``1.00003`` is
    ``1.00003``.  So a number shown with fewer than ``digits`` digits is
    that number, up to float rounding noise (a few units in the last place:
    ``1.4999999999999996`` is ``1.5``).  ``-0.0`` is ``0``.  At 17 digits
    every float round-trips, so that is where it stops (Python's shortest
    ``repr``).  Asked for more than 4 digits (the views do, where a formula
    needs them), a number shows that many, trailing zeros included, rather
    than escalating: ``number(0.013040000541, 5)`` is ``"0.013040"``, not
    ``"0.0130400005"``.

    >>> number(1 / 3), number(-0.9999877), number(2.0), number(-0.0), number(1e-5)
    ('0.3333', '-0.99999', '2', '0', '1e-05')
    """
    v = float(v)
    if v == 0:
        return "0"
    if not math.isfinite(v):
        return repr(v)  # nan, inf, -inf
    noise = 4 * math.ulp(v)
    for p in range(max(1, digits), 17):
        text = f"{v:.{p}g}"
        if _significant(text) >= p or abs(float(text) - v) <= noise:
            return text
        if p == digits > 4:  # ":g" dropped trailing zeros that are digits asked for
            return f"{v:#.{p}g}"
    return repr(v)


def exact_number(v) -> str:
    """``v`` in the fewest digits that read back as ``v`` itself: :func:`number`'s text when
    that is exact, else Python's shortest ``repr``.  For a number a shown step multiplies by,
    such as η, where 4 digits would change the sum.

    >>> exact_number(0.1), exact_number(0.123456), exact_number(2.0)
    ('0.1', '0.123456', '2')
    """
    text = number(v)
    return text if float(text) == float(v) else repr(float(v))


def _significant(text: str) -> int:
    """How many significant digits ``text`` (as written by ``:g``) shows."""
    mantissa = text.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
    return len(mantissa)


def preview(arr, width: int = 44, digits: int = 4) -> str:
    """A one-line glimpse of an array: each number by :func:`number`, cut at ``width``.

    >>> preview(np.array([[0.5, 1e-5, 2.0]]))
    '[[0.5, 1e-05, 2]]'
    """
    a = np.asarray(arr, dtype=np.float64)
    if a.ndim == 0:
        text = number(a.item(), digits)
    elif 0 < a.size <= 6:  # shown whole: what array2string writes, without its set-up
        text = _nested(a, digits)
    else:
        text = np.array2string(
            a, threshold=6, edgeitems=2, separator=", ", max_line_width=10**6,
            formatter={"float_kind": lambda v: number(v, digits)},
        )
        text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _nested(a: np.ndarray, digits: int) -> str:
    """``[[1, 2], [3, 4]]``: a small array written whole, each number by :func:`number`.

    The text ``np.array2string`` gives for an array too small to summarise, once
    its line breaks are joined (``tests/test_show.py`` checks that they agree),
    at under a third of the cost (6 µs against 21 for a 1×3 array): a page of
    steps previews thousands of these.
    """
    if a.ndim == 1:
        return "[" + ", ".join(number(v, digits) for v in a.tolist()) + "]"
    return "[" + ", ".join(_nested(part, digits) for part in a) + "]"


def shown_elements(arr) -> np.ndarray:
    """The elements :func:`preview` shows (all of a small array; a big one's corners)."""
    a = np.asarray(arr, dtype=np.float64)
    if a.size <= 6:
        return a.ravel()
    corners = [sorted({0, 1, n - 2, n - 1} & set(range(n))) for n in a.shape]
    return a[np.ix_(*corners)].ravel()


def sum_digits(contributions: list[np.ndarray], digits: int = 4) -> int:
    """The fewest significant digits (at least ``digits``) at which sums add up as shown.

    With ``c1, c2, …`` added up into running totals ``T1 = c1``, ``T2 = T1 + c2`` …,
    each ``Tk`` as shown must be the shown ``T(k−1)`` plus the shown ``ck``, added
    as decimals, to within half a unit of the last digit of ``Tk`` (exactly, for
    a number shown with fewer than ``digits`` digits: :func:`number` shows those
    only when they are exact), and ``Tk`` shows every decimal place that both
    parts show: 3.00001 plus −0.00009831 is 2.99991, not 2.9999 (see
    :func:`adds_up`).  Checked on the elements a preview shows.  Where
    contributions nearly cancel, even 17 digits may not do: then every number
    is shown as the shortest text that reads back as the same float, so the
    float sum of the shown parts is the shown total.
    """
    if len(contributions) < 2:
        return digits
    triples, total = [], contributions[0]
    for c in contributions[1:]:
        new = total + c
        triples += zip(shown_elements(total), shown_elements(c), shown_elements(new))
        total = new
    for p in range(digits, 17):
        if all(adds_up(number(a, p), number(b, p), number(t, p), digits)
               and all(_place(number(v, p)) <= _place(number(v, digits)) for v in (a, b, t))
               for a, b, t in triples):  # and no number shows fewer places than at `digits`
            return p                   # (3.00001 at 5 digits is 3.0000: wait for 6)
    return 17


def _place(text: str) -> int:
    """The power of ten of the last digit ``text`` shows: -5 for ``"3.00001"``."""
    return Decimal(text).as_tuple().exponent if np.isfinite(float(text)) else 0


_EXACT = decimal.Context(prec=1000)  # decimal sums of shown numbers, without rounding


def adds_up(a: str, b: str, total: str, digits: int = 4) -> bool:
    """Whether the shown ``a + b`` is the shown ``total``, to the digits ``total`` shows.

    A total with fewer than ``digits`` significant digits claims to be exact
    (see :func:`number`), so it must match up to float noise.  A rounded total
    keeps the last decimal place of the coarser part (the place both parts
    show): ``3.00001 + -9.831e-05`` is ``2.99991``; ``2.9999`` is within half
    a unit of its own last digit, but drops a digit that the parts show.

    >>> adds_up("3.00001", "-9.831e-05", "2.9999"), adds_up("3.00001", "-9.831e-05", "2.99991")
    (False, True)
    """
    if not all(np.isfinite([float(a), float(b), float(total)])):
        return True  # nan and inf are shown as they are
    t = Decimal(total)
    if _significant(total) >= digits:
        if _place(total) > max(_place(a), _place(b)):  # the total drops a place both parts show
            return False
        tolerance = Decimal(5).scaleb(t.as_tuple().exponent - 1)  # half a unit, last digit
    else:
        tolerance = Decimal(4 * math.ulp(float(total)))
    return abs(_EXACT.subtract(_EXACT.add(Decimal(a), Decimal(b)), t)) <= tolerance


def shape_text(node: Value) -> str:
    """``"(1, 3)"``, or ``"scalar"`` for a 0-d Value."""
    return str(node.shape) if node.ndim else "scalar"


# ------------------------------------------------------------ what an op does


def op_parts(node: Value) -> tuple[str, str, list[str]]:
    """``(forward math, local derivative, argument names)`` of the op that made ``node``.

    Read from the op class: the first docstring line is ``"forward;  derivative"``
    (``"y = a + b;  ∂a = ∂y,  ∂b = ∂y"``) and ``backward(g, y, *inputs, *args)``
    names the inputs (``a``, ``b``, ``x``, ``u``) and static arguments (``n``,
    ``axis``) that the math uses.  An op whose docstring is missing or not in
    that form gives ``""`` for the part it lacks (the views then fall back to
    the op's name and its ``backward``); an op whose ``backward`` takes
    ``*args`` gets names ``x1``, ``x2`` … for the inputs it does not name, and
    its static arguments the names in the op's ``arguments`` (``("axis",)``).
    """
    if node._op is None:
        return "", "", []
    names = _argument_names(node)
    forward, local, _ = _docstring_formula(node._op)
    return forward, local, names


def op_about(node: Value) -> str:
    """The first docstring line of an op that has no ``y = …;  ∂x = …`` formula there
    (its words, shown instead of the math), else ``""``."""
    return "" if node._op is None else _docstring_formula(node._op)[2]


def _docstring_formula(op) -> tuple[str, str, str]:
    """The forward math and local derivative of an op's first docstring line (``""``
    for a part it lacks), and the line itself when it has no forward math."""
    lines = (op.__doc__ or "").strip().splitlines()
    first = lines[0].strip() if lines else ""
    forward, _, local = first.partition(";")
    forward, local = forward.strip(), local.strip()
    if "=" not in forward:  # free text, not "y = …"
        forward = ""
    if not local.startswith("∂"):  # not "∂x = …"
        local = ""
    return forward, local, "" if forward else first


@functools.lru_cache(maxsize=256)  # once per op class: inspect.signature is slow
def _parameters_of(op) -> tuple[inspect.Parameter, ...] | None:
    try:
        return tuple(inspect.signature(op.backward).parameters.values())
    except (TypeError, ValueError):  # a builtin or some other callable without a signature
        return None


def _argument_names(node: Value) -> list[str]:
    """One name per input and static argument, from ``backward``'s parameters."""
    return list(_names_for(node._op, len(node.parents), len(node._args)))


@functools.lru_cache(maxsize=1024)
def _names_for(op, n_inputs: int, n_args: int) -> tuple[str, ...]:
    params = _parameters_of(op) or ()
    named = [p.name for p in params[2:] if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    wanted = n_inputs + n_args
    if len(named) < wanted:  # backward(g, y, *xs): inputs x1, x2 …; args as the op names them
        inputs = [f"x{i + 1}" for i in range(n_inputs)]
        given = tuple(getattr(op, "arguments", ()) or ())[-n_args:] if n_args else ()
        extra = [*given, *(f"arg{i + 1}" for i in range(len(given), n_args))]
        named += (inputs + extra)[len(named):]
    return tuple(named[:wanted])


def output_letter(node: Value) -> str:
    """The op's name for its output: the second parameter of its ``backward`` (``y``, or ``E``)."""
    params = _parameters_of(node._op)
    return params[1].name if params and len(params) > 1 else "y"


def format_index(index) -> str:
    """An index as written between brackets: ``(0, slice(None, 2))`` → ``"[0, :2]"``."""
    parts = index if isinstance(index, tuple) else (index,)
    return "[" + ", ".join(_index_part(p) for p in parts) + "]"


def _index_part(p) -> str:
    if isinstance(p, slice):
        text = ":".join("" if v is None else str(v) for v in (p.start, p.stop))
        return text + (f":{p.step}" if p.step is not None else "")
    if p is Ellipsis:
        return "..."
    if p is None:
        return "None"
    if isinstance(p, np.ndarray):
        if p.size <= 6:
            return str(p.tolist())  # [True, False], [0, 1]
        text = np.array2string(p, threshold=6, edgeitems=2, separator=", ")
        return " ".join(text.split())
    return repr(p.item() if isinstance(p, np.generic) else p)


def op_arguments(node: Value) -> list[str]:
    """The op's static arguments as text, defaults left out.

    ``n=2`` for a power, ``axis=0`` and ``keepdims`` for a sum, ``(3, 1)``
    for a reshape's shape or a transpose's axes, ``[0, :2]`` for an index;
    ``name=value`` for anything else (your own op's arguments).
    """
    if node._op is None:
        return []
    names = _argument_names(node)[len(node.parents):]
    shown = []
    for name, value in zip(names, node._args):
        if value is None or value is False:  # axis=None, keepdims=False, axes=None
            continue
        if value is True:
            shown.append(name)
        elif name == "index":
            shown.append(format_index(value))
        elif isinstance(value, np.ndarray):  # a fixed array, like where's cond: a preview
            shown.append(f"{name}={_index_part(value)}")
        elif name in ("shape", "axes") and isinstance(value, tuple):
            shown.append(str(value))
        elif isinstance(value, (float, np.floating)):
            shown.append(f"{name}={number(value)}")
        else:
            shown.append(f"{name}={value!r}")
    return shown


def op_name(node: Value) -> str:
    """The op's short name (``Value.op``), or its class name for an op that set none."""
    if node._op is None:
        return ""
    return node.op or getattr(node._op, "__name__", "op")


def op_label(node: Value) -> str:
    """What the op that made ``node`` does, in a few words: ``"pow n=2"``, ``"mean axis=(0, 1)
    keepdims"``, ``"reshape (3, 1)"``, ``"getitem [0, :2]"``; ``""`` for a leaf."""
    if node._op is None:
        return ""
    return " ".join([op_name(node), *op_arguments(node)])


_WORD = r"[A-Za-z0-9_#]"  # letters that continue a name: "y" in "y2" or "y_k" is not y


def _in_names(text: str, names: dict[str, str]) -> str:
    """``text`` with each of the op's letters replaced by the graph's name for it, in one
    pass (so ``a ↔ b`` swaps cannot clash)."""
    if not names:
        return text
    letters = "|".join(map(re.escape, sorted(names, key=len, reverse=True)))
    pattern = rf"(?<![`]|{_WORD})({letters})(?![`]|{_WORD})"  # `axis` stays: a word
    return re.sub(pattern, lambda m: names[m.group(1)], text.replace("eˣ", "e^x"))


def formulas(node: Value, info: GraphInfo) -> tuple[str, str]:
    """``(forward, local derivative)`` of an op node, written with the graph's own names.

    ``u1 = add(matmul#1, b1)`` gives ``("u1 = matmul#1 + b1", "∂matmul#1 = ∂u1,  ∂b1 =
    ∂u1")``: the op's docstring letters (``y = a + b``) become the names of
    this node and its inputs, so no letter of a formula can be mistaken for a
    node of the graph.  A note after the formula (``"   (…)"``) and a
    qualifier of the forward math (``" with …"``, ``" for …"``) stay as written.  An op
    with no formula in its docstring falls back to its call (``y = myop(a)``)
    and to naming its ``backward``.
    """
    forward, local, arg_names = op_parts(node)
    names = {output_letter(node): info.name(node)}
    for letter, parent in zip(arg_names, node.parents):
        names.setdefault(letter, info.name(parent))
    numbers = set()  # letters that stand for a number argument here, like pow's n
    for letter, value in zip(arg_names[len(node.parents):], node._args):
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            names.setdefault(letter, number(value))
            numbers.add(letter)
    if forward:
        qualifier = re.search(r" (with|for) ", forward)  # prose: "a^b with b a Value"
        cut = qualifier.start() if qualifier else len(forward)
        rest = forward[cut:]
        if any(re.search(rf"(?<!{_WORD}){re.escape(n)}(?!{_WORD})", rest) for n in numbers):
            rest = ""  # "x^n for a number n" once n is written in: "a^2"
        forward = _in_names(forward[:cut], names) + rest
    else:
        forward = info.call(node)
    if local:
        formula, sep, note = local.partition("   (")
        local = _in_names(formula, names) + (f"   ({note}" if sep else "")
    else:
        local = (f"given by {getattr(node._op, '__name__', op_name(node))}.backward "
                 "(its docstring has no \"y = …;  ∂x = …\" formula)")
    return forward, local


def values_read(node: Value) -> list[Value]:
    """The nodes whose values the local derivative reads (not just their gradients).

    ``[a, b]`` for ``∂a = ∂y · b,  ∂b = ∂y · a``; ``[node]`` for tanh's
    ``∂x = ∂y · (1 − y²)``; none for an add.  Read from the op's letters in its
    docstring formula; every input and the output when there is no formula.
    """
    _, local, arg_names = op_parts(node)
    letters = {output_letter(node): node, **dict(zip(arg_names, node.parents))}
    if not local:
        return list(dict.fromkeys([*node.parents, node]))
    formula = local.partition("   (")[0]
    found = []
    for letter, value in letters.items():
        if re.search(rf"(?<![∂A-Za-z0-9_#]){re.escape(letter)}(?!{_WORD})", formula):
            found.append(value)
    return list(dict.fromkeys(found))


# ------------------------------------------------------------ digits a local derivative needs


def local_gradients(node: Value, g, y, inputs) -> tuple:
    """The op's local derivative applied to ``g``: one gradient per input, in order.

    ``backward(g, y, *inputs, *args)`` on the given numbers; a one-input op
    may return its gradient bare, which is made a 1-tuple here, and a ``None``
    (no gradient for that input) becomes zeros of the input's shape.
    """
    outs = node._op.backward(g, y, *inputs, *node._args)
    if len(node.parents) == 1 and not isinstance(outs, (tuple, list)):
        outs = (outs,)
    # None for an input means "no gradient for it" (as in autograd.backprop): a zero here
    return tuple(np.zeros(np.shape(x)) if o is None else o for o, x in zip(outs, inputs))


def value_digits(node: Value, g, sent: list, digits: int = 4) -> int:
    """The fewest significant digits (at least ``digits``) to show the op's input and
    output values (and the gradient arriving, ``g``) with, so that its local derivative
    worked out from the numbers as shown gives what was sent (to ``digits`` digits).

    So tanh's ``∂c = ∂e · (1 − e²)`` at a shown ``e = -0.99998771`` gives the shown
    ``2.458e-05``, where ``e = -1`` would give 0.  ``sent`` are the gradients the op
    sent to its inputs (summed back to their shapes).
    """
    values = [node.data, *[p.data for p in node.parents]]
    if any(np.size(v) > 64 for v in values):
        return digits  # a big array: only its corners are shown anyway
    want = [[number(v, digits) for v in shown_elements(s)] for s in sent]
    for p in range(digits, 17):
        rounded = [_as_shown(v, p) for v in values]
        try:
            with np.errstate(all="ignore"):
                outs = local_gradients(node, _as_shown(g, p), rounded[0], rounded[1:])
            got = [np.asarray(o, dtype=np.float64) for o in outs]
            got = [_summed_to(o, s.shape) for o, s in zip(got, sent)]
        except Exception:  # an op that will not take the rounded values: keep the default
            return digits
        if [[number(v, digits) for v in shown_elements(o)] for o in got] == want:
            return p
    return 17


def _as_shown(values, digits: int) -> np.ndarray:
    """``values`` as :func:`number` shows them with ``digits`` significant digits."""
    shown = [float(number(v, digits)) for v in np.ravel(values)]
    return np.array(shown).reshape(np.shape(values))


def _summed_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    return g if g.shape == shape else sum_to(g, shape)  # undo broadcasting, as autograd does


# ------------------------------------------------------------ the update, and the boxes' rows


def update_rule(name: str) -> str:
    """Gradient descent's update of parameter ``name``: ``"w1 ← w1 − η·∂w1"``."""
    return f"{name} ← {name} − η·∂{name}"


def update_digits(before, grad, eta_text: str, after, digits: int = 4) -> int:
    """The fewest significant digits (at least ``digits``) at which the shown
    ``before − η · ∂w`` is the shown ``after``, worked as decimals from the numbers as
    shown (``eta_text`` is η as shown: every digit, see :func:`exact_number`), to within
    half a unit of the last digit of ``after``.  Checked on the elements a preview shows,
    like :func:`sum_digits`."""
    eta = Decimal(eta_text)
    pairs = list(zip(shown_elements(before), shown_elements(grad), shown_elements(after)))
    for p in range(digits, 17):
        if all(adds_up(number(b, p), str(-_EXACT.multiply(eta, Decimal(number(g, p)))),
                       number(a, p), digits)
               for b, g, a in pairs if np.isfinite([b, g, a]).all()):
            return p
    return 17


def update_lines(name: str, before, grad, eta: float, after, width: int = 60,
                 digits: int = 4) -> tuple[str, list[str]]:
    """A parameter's update step in words: ``(title, lines)``.

    The lines show the rule, the value before, the gradient, and the sum
    ``before − η · ∂w = after`` with as many digits as it takes for the shown
    numbers to work out (see :func:`update_digits`).
    """
    eta_text = exact_number(eta)  # as it is: 4 digits of η = 0.123456 would not add up
    p = update_digits(before, grad, eta_text, after, digits)
    b, g, a = (preview(v, width, p) for v in (before, grad, after))
    rule = update_rule(name)
    lines = [f"  update     {rule}   (gradient descent, η = {eta_text})",
             f"  before     {name} = {b}",
             f"  gradient   ∂{name} = {g}",
             f"  after      {name} = {b} − {eta_text} · {g} = {a}"]
    return f"{rule} = {preview(after, 30, p)}", lines


DATA_KINDS = ("input", "constant")  # the kinds of leaf that are data, not parameters


def data_note(name: str) -> str:
    """What a data leaf's gradient is for, in the words every view uses (the stepper's
    step, the diagram's box, the explorer's box): computed, but never used for an update.

    Backprop computes the gradient of every leaf, the target ``t`` and the
    constants too (as PyTorch would with ``requires_grad=True``; we keep no such
    flag), but only parameters are changed by an update step.

    >>> data_note("t")
    't is data: its gradient is computed, never used for an update'
    """
    return f"{name} is data: its gradient is computed, never used for an update"


def box_grad(grad, heard: int = 1, expected: int = 1) -> str:
    """A box's gradient row as backprop reaches it: ``"grad —"`` before, then the running
    total with how many of its contributions have arrived (``"grad 0.5 (1 of 2 so far)"``),
    then the final value."""
    if grad is None:
        return "grad —"
    so_far = f"  ({heard} of {expected} so far)" if heard < expected else ""
    return f"grad {preview(grad)}{so_far}"


def box_data(data) -> str:
    """A box's value row: ``"data [0.5, 2]"`` (after a parameter's update step the
    explorer writes its new value here, in green)."""
    return f"data {preview(data)}"
