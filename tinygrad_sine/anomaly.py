"""Anomaly detection: name the first operation that made a non-finite number.

When a loss turns into ``nan`` or ``inf``, the number itself says nothing
about where it came from: one overflow spreads through every node after it.
Inside ``with detect_anomaly():`` each backward pass looks for the first
node that made a non-finite number (``nan``, ``inf`` or ``-inf``) and raises
:class:`AnomalyError` naming it, its op and the numbers it read:

    >>> import numpy as np
    >>> from tinygrad_sine import Value, detect_anomaly
    >>> x = Value(800.0, label="x")
    >>> with np.errstate(all="ignore"), detect_anomaly():
    ...     (x.exp() * 0.0).backward()
    Traceback (most recent call last):
    tinygrad_sine.anomaly.AnomalyError: exp in exp#1 = exp(x) overflowed at x = 800

The check follows the two walks of autograd:

* **forward** — the nodes in topological order: the first whose value is
  not finite is either a leaf that already held it, or an op that made it
  from finite inputs; that op is run again on its inputs with numpy set to
  raise, so the message can say what numpy did (``exp`` overflowed, a
  division by zero, an invalid operation such as ``inf − inf``);
* **backward** — the nodes in reverse order: the first op whose local
  derivative turned a finite gradient into a non-finite one.

:class:`~tinygrad_sine.nn.SGD` checks its update ``w ← w − η·∂w`` in the
same block.  The checks run only inside the block: outside it a backward
pass reads one flag (a context variable, per thread and asyncio task, as
``no_grad`` is) and nothing else.  Like PyTorch's ``detect_anomaly``, the
block is for finding a bug, not for every run: it walks the graph twice
more.  ``train`` uses it to say where a diverging run went wrong.
"""

from __future__ import annotations

import contextvars
import math
import re

import numpy as np

from .value import Value

_active: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "tinygrad_sine_detect_anomaly", default=False)
is_active = _active.get  # read once per backward pass and per SGD step


class AnomalyError(FloatingPointError):
    """The first non-finite number of a step, and where it came from.

    ``phase`` is ``"forward"``, ``"backward"`` or ``"update"``; ``node`` the
    Value whose op (or whose update) made it; ``name`` that node's name in
    the graph (as the stepper and diagrams call it).  A ``FloatingPointError``,
    which is what numpy raises under ``np.errstate(all="raise")``.
    """

    def __init__(self, message: str, phase: str, node: Value, name: str):
        super().__init__(message)
        self.phase, self.node, self.name = phase, node, name


class detect_anomaly:
    """``with detect_anomaly(): …`` — every backward pass and SGD step inside checks
    for non-finite numbers and raises :class:`AnomalyError` at the first one.

    Blocks nest; leaving one restores the mode found on entering it.
    """

    def __enter__(self) -> detect_anomaly:
        self._token = _active.set(True)
        return self

    def __exit__(self, *exc) -> bool:
        _active.reset(self._token)
        return False


def finite(x) -> bool:
    """Whether every number in ``x`` (an array or a number) is finite."""
    if type(x) is np.float64 or isinstance(x, float):
        return math.isfinite(x)
    return bool(np.isfinite(x).all())


def check_forward(order: list[Value], info=None) -> None:
    """Raise :class:`AnomalyError` for the first node of ``order`` whose value is not finite.

    ``order`` is topological (inputs first), so that node is a leaf that
    held the number already, or an op that made it from finite inputs.
    """
    for node in order:
        if finite(node._data):
            continue
        info = info or _describe(order[-1])
        raise AnomalyError(forward_message(node, info), "forward", node, info.name(node))


def check_backward(order: list[Value], grads: dict, info=None) -> None:
    """Raise :class:`AnomalyError` for the first op (in backward order) whose local
    derivative made a non-finite gradient from a finite one.

    ``grads`` is what ``autograd.backprop`` returned for the graph ``order``.
    Only an op with a parent whose total gradient is not finite is worked
    again, so a healthy graph costs one finiteness test per node.
    """
    from .notation import local_gradients

    for node in reversed(order):
        g = grads.get(node)
        if g is None:
            continue
        if not finite(g):  # the root's own starting gradient
            info = info or _describe(order[-1])
            raise AnomalyError(f"the starting gradient of {info.name(node)} is not finite: "
                               f"{_preview(g)}", "backward", node, info.name(node))
        if node._op is None or all(finite(grads.get(p, 0.0)) for p in node.parents):
            continue
        with np.errstate(all="ignore"):
            local = local_gradients(node, g, node._data, [p._data for p in node.parents])
        if all(finite(x) for x in local):
            continue  # the non-finite gradient came from another user of the parent
        info = info or _describe(order[-1])
        raise AnomalyError(backward_message(node, g, local, info), "backward", node,
                           info.name(node))


def check_update(param: Value, grad, eta: float, new) -> None:
    """Raise :class:`AnomalyError` if the update ``param ← param − η·grad`` gave ``new``
    that is not finite from finite numbers (``train`` and ``nn.SGD`` call it)."""
    if finite(new):
        return
    name = str(param.label) if param.label not in (None, "") else "a parameter"
    what = _numpy_says(lambda: param._data - eta * grad) or "made a number that is not finite"
    raise AnomalyError(f"the update {name} ← {name} − η·∂{name} {what} at {name} = "
                       f"{_preview(param._data)}, η = {eta:g}, ∂{name} = {_preview(grad)}",
                       "update", param, name)


# ------------------------------------------------------------ the messages


def forward_message(node: Value, info) -> str:
    """Why ``node``'s value is not finite, in one line with the numbers it read."""
    name = info.name(node)
    if node._op is None:
        return (f"{name} is not finite before any op reads it: {name} = {_preview(node._data)} "
                "(a leaf: set that way, or by an earlier update)")
    parents = node.parents
    what = _numpy_says(lambda: node._op.forward(*[p._data for p in parents], *node._args))
    if what is None:  # the op made it without a numpy floating-point error
        what = f"made {_kind(node._data)}"
    inputs = ", ".join(dict.fromkeys(f"{info.name(p)} = {_preview(p._data)}" for p in parents))
    return f"{_ufunc_first(what, info.call(node))} at {inputs}"


def backward_message(node: Value, g, local, info) -> str:
    """Which gradient the op's local derivative made non-finite, from which numbers."""
    from .notation import values_read

    name = info.name(node)
    parents = node.parents
    what = _numpy_says(lambda: node._op.backward(g, node._data, *[p._data for p in parents],
                                                 *node._args))
    bad = next(p for p, x in zip(parents, local) if not finite(x))
    sent = next(x for p, x in zip(parents, local) if p is bad)
    read = values_read(node)
    numbers = ", ".join([f"∂{name} = {_preview(g)}"]
                        + [f"{info.name(v)} = {_preview(v._data)}" for v in read])
    how = what or f"made {_kind(sent)}"
    return (f"the backward step of {info.call(node)}: {how}, sending ∂{info.name(bad)} = "
            f"{_preview(sent)}, at {numbers}")


_NUMPY = re.compile(r"(overflow|invalid value|divide by zero) encountered in (?:scalar )?(\w+)")
_EVENTS = {"overflow": "overflowed", "invalid value": "made nan (an invalid operation)",
           "divide by zero": "divided by zero"}


def _numpy_says(compute) -> str | None:
    """What numpy reports when ``compute()`` runs with floating-point errors raised:
    ``"exp overflowed"``; None when it runs without one (or fails otherwise)."""
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            compute()
    except FloatingPointError as err:
        found = _NUMPY.search(str(err))
        if found:
            return f"{found.group(2)} {_EVENTS[found.group(1)]}"
        return str(err)
    except Exception:  # an op that will not run again here: say what came out instead
        return None
    return None


def _ufunc_first(what: str, call: str) -> str:
    """``"exp overflowed"`` at node ``y = exp(x)`` → ``"exp in y = exp(x) overflowed"``."""
    word, _, rest = what.partition(" ")
    if word in ("made",):
        return f"{call} {what}"
    return f"{word} in {call} {rest}"


def _kind(x) -> str:
    a = np.asarray(x)
    return "nan" if np.isnan(a).any() else "inf"


def _preview(x) -> str:
    from .notation import preview

    return preview(x, 60)


def _describe(root: Value):
    from .describe import describe

    return describe(root)
