"""What anomaly detection costs: the eager seed step with and without its hooks.

    python benchmarks/anomaly_cost.py          # prints one JSON line: µs per step, three ways

``detect_anomaly`` must cost nothing when it is not used.  Outside a block,
two places read its flag: ``autograd.backward`` (once per backward pass) and
``SGD.step`` (once per update).  This script builds the step without those two
reads from the engine's own source (as ``no_check.py`` does for the in-place
check: each edit must match exactly once) and times, taking turns round by
round in this one process:

* ``off``: today's code, outside any block (what every training loop runs);
* ``bare``: the same step with the two flag reads removed;
* ``checking``: today's code inside ``with detect_anomaly():`` (for information:
  the checks walk the graph twice more).

bench.py runs it as a subprocess and reports ``off`` against ``bare``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import contenders as C  # noqa: E402
from no_check import edited, time_variants  # noqa: E402

from tinygrad_sine import autograd, detect_anomaly, nn  # noqa: E402

EDITS = [
    (autograd, "backward", [
        ('    if _anomaly.is_active():  # inside detect_anomaly(): the walks checked for nan and '
         'inf\n        grads = _checked_backprop(root, seed, "Value.backward")\n    else:\n'
         '        _, grads = backprop(root, seed, where="Value.backward")\n',
         '    _, grads = backprop(root, seed, where="Value.backward")\n'),
    ]),
    (nn.SGD, "step", [
        ("    if _anomaly.is_active():  # inside detect_anomaly(): every new value checked "
         "first\n        self._check_step()\n", ""),  # (dedented source)
    ]),
]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args(argv)
    patches = {"off": [(owner, name, vars(owner)[name]) for owner, name, _ in EDITS],
               "bare": [(owner, name, edited(owner, name, edits))
                        for owner, name, edits in EDITS]}
    patches["checking"] = patches["off"]

    def contender(name: str, step):
        """The step as ``name`` runs it: ``checking`` inside a detect_anomaly block."""
        if name != "checking":
            return step

        def inside(x, t):
            with detect_anomaly():  # entering and leaving the block is part of its cost
                return step(x, t)

        return inside

    rows = {"batch 1": (C.make_eager, C.samples(1, args.steps), C.ETA),
            "full batch": (C.make_eager, C.samples(63, max(args.steps // 4, 20)), C.ETA / 63)}
    result = time_variants(patches, rows, args.rounds, restore="off", tolerance=0.0,
                           wrap=contender, script="anomaly_cost.py")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
