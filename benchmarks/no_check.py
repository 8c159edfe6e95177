"""What the in-place-change check costs: the eager step with and without its work.

    python benchmarks/no_check.py              # prints one JSON line: µs per step, both ways

The engine has no switch for the check (a switch read on every op would cost
something itself), so this script builds the variant *without* it from the
engine's own source, in its own process (bench.py runs it as a subprocess, so
nothing here touches the process that times the other rows):

* ``Value.data`` becomes a property whose getter and setter are the ``_data``
  slot's own C-level accessors: no Python call, no clock (what a plain slot
  costs, near enough);
* ``_apply`` no longer stamps ``_version`` on a new node nor reads the clock
  for ``_born`` (it writes a constant 0: a node made under ``no_grad`` still
  gets ``None``);
* ``_local_gradients`` (backprop's call of an op's ``backward``) no longer
  compares versions (the ``create_graph`` branch, which the step does not
  take, keeps its check);
* ``SGD.step`` no longer ticks the clock nor stamps ``_version``.

Each edit is a text replacement that must match exactly once, so a change in
the engine that the edits no longer fit stops this script with an error rather
than timing something else.  Both variants then take turns, round by round, in
this one process, swapping the functions between rounds; each keeps its best
round.
"""

from __future__ import annotations

import argparse
import inspect
import json
import operator
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import contenders as C  # noqa: E402

from tinygrad_sine import autograd, nn, value  # noqa: E402
from tinygrad_sine.value import Value  # noqa: E402

# (module or class, function name, [(old text, new text), ...])
EDITS = [
    (value, "_apply", [
        ("    out._version = 0\n", ""),
        ("        out._born = _data_changes\n", "        out._born = 0\n"),
    ]),
    (autograd, "_local_gradients", [
        ("    if node._version > born:  # the output changed since the op made it\n"
         "        raise _data_changed(node, where)\n", ""),
        ("        if a._version > born or b._version > born:\n"
         "            raise _data_changed(node, where)\n", ""),
        ("        if a._version > born:\n"
         "            raise _data_changed(node, where)\n", ""),
        ("        _check_parents(node, where)\n        local = op.backward(g, node._data,",
         "        local = op.backward(g, node._data,"),
    ]),
    (nn.SGD, "step", [
        ("eta, now = self.eta, _tick()", "eta = self.eta"),
        ("p._data, p._version = data, now", "p._data = data"),
    ]),
]


def edited(owner, name: str, edits) -> object:
    """``owner.name`` recompiled from its source with ``edits`` applied (each must match once)."""
    source = textwrap.dedent(inspect.getsource(getattr(owner, name)))
    for old, new in edits:
        if source.count(old) != 1:
            raise SystemExit(f"no_check.py: {name}: expected this text once, found it "
                             f"{source.count(old)} times (the engine changed?):\n{old}")
        source = source.replace(old, new)
    module = sys.modules[owner.__module__] if isinstance(owner, type) else owner
    space = dict(vars(module))
    exec(compile(source, f"<{name} without the check>", "exec"), space)
    return space[name]


def variants() -> dict:
    """``{"on": patches, "off": patches}``: (owner, attribute, object) triples to install."""
    on = [(owner, name, vars(owner)[name]) for owner, name, _ in EDITS]
    off = [(owner, name, edited(owner, name, edits)) for owner, name, edits in EDITS]
    on.append((nn, "_apply", nn._apply))  # nn imported _apply by name
    off.append((nn, "_apply", off[0][2]))
    slot = vars(Value)["_data"]
    on.append((Value, "data", vars(Value)["data"]))
    off.append((Value, "data", property(operator.attrgetter("_data"), slot.__set__)))
    return {"on": on, "off": off}


def install(patches) -> None:
    for owner, name, obj in patches:
        setattr(owner, name, obj)


def time_variants(patches: dict, rows: dict, rounds: int, restore: str, tolerance: float,
                  wrap=lambda name, step: step, script: str = "no_check.py") -> dict:
    """Time the variants in ``patches`` on each row ``{name: (make, batches, eta)}``.

    Each variant builds its own step under its own code (``wrap(name, step)`` may
    put it inside something); on the first batches they must give the same
    losses (to ``tolerance``); then they take turns, round by round
    (``bench.alternate``).  ``patches[restore]`` is installed again at the end.
    """
    from bench import alternate

    weights = C.init_weights()
    result = {}
    try:
        for row, (make, batches, eta) in rows.items():
            steps = {}
            for name in patches:  # each variant makes its own net under its own code
                install(patches[name])
                steps[name] = wrap(name, make(weights, eta)[0])
            losses = {}
            for name in patches:  # the same numbers every way
                install(patches[name])
                losses[name] = [steps[name](x, t) for x, t in batches[:5]]
            first = next(iter(losses.values()))
            if any(abs(a - b) > tolerance for other in losses.values()
                   for a, b in zip(first, other)):
                raise SystemExit(f"{script}: {row}: the variants disagree: {losses}")
            result[row] = alternate({name: (steps[name], batches) for name in patches},
                                    rounds, before_round=lambda name: install(patches[name]))
    finally:
        install(patches[restore])
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args(argv)
    rows = {"batch 1": (C.make_eager, C.samples(1, args.steps), C.ETA),
            "full batch": (C.make_eager, C.samples(63, max(args.steps // 4, 20)), C.ETA / 63),
            "scalar": (C.make_scalar, C.samples(1, args.steps, kind="float"), C.ETA)}
    result = time_variants(variants(), rows, args.rounds, restore="on", tolerance=1e-12)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
