"""Running Graphviz's ``dot`` so that a diagram never hangs.

Graphviz lays a graph out in rows (*ranks*): every edge points at least one
rank down, and an edge that spans k ranks is laid out as k pieces with k − 1
invisible nodes between them.  A node that many others use far apart — one
weight shared by every step of an unrolled recurrence, one leaf used k
times — makes long edges, and the invisible nodes grow with the square of
the graph's length.  dot's placement work grows faster than their number:
an unrolled ``h = tanh(w·h + u·x[t])`` of 40 steps (205 value nodes, far
below ``max_nodes``) took over four minutes, and one ``dot`` grew to 6.4 GB.

So the work is bounded three ways:

* :func:`layout_size` estimates the pieces dot will lay out, from the edges
  alone, before dot runs; ``draw_graph`` refuses a graph over its limit and
  draws a large one in a cheaper style (:data:`COMPACT`);
* :data:`COMPACT` caps dot's effort: fewer network-simplex iterations
  (``nslimit``, ``nslimit1``), a shorter crossing search (``mclimit``,
  ``remincross``), straight edges (``splines=line``), and the inputs'
  numbers at the arrow heads (``headlabel``) instead of as edge labels,
  which would double the ranks;
* :func:`run_dot` runs ``dot`` with a time limit (``timeout`` seconds, then
  the process and its group are killed and waited for, so none is left
  behind) and, on Linux, a memory limit.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections import defaultdict, deque
from collections.abc import Iterable

TIMEOUT = 20.0  # seconds dot may take before it is stopped
MEMORY = 2 << 30  # bytes of address space dot may use (Linux)
LAYOUT_PER_NODE = 32  # pieces of edges allowed per node of max_nodes (500 → 16,000)
COMPACT_FROM = 2000  # from this layout size on, draw in the COMPACT style
COMPACT = {  # dot's effort capped (see the module's docstring)
    "nslimit": "0.1", "nslimit1": "0.1", "mclimit": "0.3", "remincross": "false",
    "splines": "line",
}
INSTALL_HINT = (
    "install Graphviz's `dot` program (Debian/Ubuntu: sudo apt-get install graphviz; "
    "macOS: brew install graphviz; conda: conda install -c conda-forge graphviz; "
    "others: https://graphviz.org/download/), or write a .dot file, which needs no Graphviz"
)


class GraphvizNotFound(RuntimeError):
    """Graphviz (the ``dot`` program, or the Python package) is missing.

    The message says how to install it.  A ``RuntimeError``, so ``except
    RuntimeError`` catches it too.
    """


class GraphTooLarge(ValueError):
    """A graph too large to draw: more nodes than ``max_nodes``, a layout
    larger than dot can do quickly, or a ``dot`` stopped at its time limit.

    The message says what to do; ``nodes``, ``max_nodes`` and ``layers``
    (how many SineNet layers ``collapse=True`` could fold) let a caller such
    as the CLI say it in its own words, and ``reason`` says which limit it
    was: ``"nodes"``, ``"layout"`` or ``"time"``.  A ``ValueError``.
    """

    def __init__(self, message: str, nodes: int, max_nodes: int, layers: int,
                 reason: str = "nodes"):
        super().__init__(message)
        self.nodes, self.max_nodes, self.layers = nodes, max_nodes, layers
        self.reason = reason


class DiagramTooSlow(GraphTooLarge):
    """``dot`` did not finish within its time limit and was stopped (``reason="time"``).

    A :class:`GraphTooLarge`, so whatever handles a graph too large to draw
    handles this too.
    """


def layout_size(edges: Iterable[tuple[str, str]], labelled: bool) -> int:
    """How many rank-to-rank pieces dot lays out for these edges (an estimate).

    Each node's rank is its longest path down to a node with no edges out
    (dot puts every edge at least one rank down, and a node used at several
    depths above the highest of them); an edge from rank r to rank s is
    r − s pieces.  ``labelled=True`` (some edge carries a label) doubles
    every rank, as dot does.  Linear in the number of edges.

    >>> layout_size([("a", "b"), ("b", "c"), ("a", "c")], labelled=False)
    4
    """
    edges = list(edges)
    out, waiting, nodes = defaultdict(list), defaultdict(int), set()
    for tail, head in edges:
        out[tail].append(head)
        waiting[head] += 1
        nodes.update((tail, head))
    ready = deque(n for n in nodes if not waiting[n])
    order = []
    while ready:  # Kahn's topological order, tails before heads
        node = ready.popleft()
        order.append(node)
        for head in out[node]:
            waiting[head] -= 1
            if not waiting[head]:
                ready.append(head)
    step = 2 if labelled else 1
    rank: dict[str, int] = {}
    for node in reversed(order):
        rank[node] = max((rank[h] + step for h in out[node]), default=0)
    return sum(rank[t] - rank[h] for t, h in edges)


def layout_limit(max_nodes: int) -> int:
    """The largest :func:`layout_size` drawn for a given ``max_nodes``: 32 pieces a node."""
    return LAYOUT_PER_NODE * max_nodes


def run_dot(source: str, fmt: str, where: str, timeout: float | None = None,
            about: str = "the graph") -> bytes:
    """``source`` (DOT text) rendered by Graphviz's ``dot`` to ``fmt`` (svg, png, pdf).

    ``where`` starts the error messages; ``about`` says what is drawn.  A
    missing ``dot`` raises :class:`GraphvizNotFound` with the install hint; a
    ``dot`` still running after ``timeout`` seconds is killed with its whole
    process group, waited for, and :class:`DiagramTooSlow` says what to do; a
    failing one raises ``RuntimeError`` with what it printed.  Ctrl-C kills
    it too.  On Linux its memory is capped at ``MEMORY`` bytes.  ``timeout=None``
    is ``TIMEOUT`` (20 s) as it stands when dot runs.
    """
    timeout = TIMEOUT if timeout is None else timeout
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFound(f"{where}: {INSTALL_HINT}")
    proc = subprocess.Popen([exe, f"-T{fmt}"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    _cap_memory(proc.pid)  # dot is still waiting for its input: nothing is allocated yet
    try:
        out, err = proc.communicate(source.encode("utf-8"), timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise DiagramTooSlow(
            f"{where}: Graphviz's dot did not finish laying out {about} within {timeout:g} s "
            "and was stopped; draw less (collapse=True folds SineNet layers, a shorter "
            "unrolled loop or a sub-expression as the root), read it as a text tree "
            "(tinygrad_sine.show(root)), or allow more time (timeout=)",
            0, 0, 0, "time") from None
    except BaseException:  # Ctrl-C, or anything else: leave no dot behind
        _kill(proc)
        raise
    if proc.returncode != 0:
        stderr = err.decode("utf-8", "replace").strip()
        if proc.returncode < 0 or "out of memory" in stderr.lower():
            stderr = (f"it ran out of memory (the limit is {MEMORY >> 30} GB) or was stopped "
                      f"({stderr or f'signal {-proc.returncode}'}); draw less, e.g. collapse=True,"
                      " or read it as a text tree (tinygrad_sine.show(root))")
        raise RuntimeError(f"{where}: dot failed: {stderr}")
    return out


def _cap_memory(pid: int) -> None:
    """Limit process ``pid``'s address space to ``MEMORY`` (Linux; elsewhere nothing)."""
    try:
        import resource

        resource.prlimit(pid, resource.RLIMIT_AS, (MEMORY, MEMORY))
    except (ImportError, AttributeError, OSError, ValueError):
        pass


def _kill(proc: subprocess.Popen) -> None:
    """Kill ``proc`` and its process group, and wait for it (no zombie, no orphan)."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass
    proc.communicate()
