"""Where the time of one SGD step goes, phase by phase, for the engines the benchmark compares.

    python benchmarks/profile_step.py            # phases of the eager steps, tensor and scalar
    python benchmarks/profile_step.py --cprofile # and cProfile's top functions of the tensor step

Each phase is timed on its own, best of a few rounds (the numbers are only
comparable within one run: the machine is noisy).  The eager tensor step is
``sgd.zero_grad(); E = squared_error(net(x), t); E.backward(); sgd.step()``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import contenders as C  # noqa: E402
import numpy as np  # noqa: E402
from bench_engine import best_of  # noqa: E402

from tinygrad_sine import Value  # noqa: E402
from tinygrad_sine.autograd import backprop, backward, topo_order  # noqa: E402
from tinygrad_sine.nn import SGD, SineNet, squared_error  # noqa: E402


def best(fn, number: int = 3000, rounds: int = 5) -> float:
    """µs per call of ``fn()``, best of ``rounds``."""
    return best_of(fn, rounds, number) * 1e6


def tensor_phases() -> dict:
    net = SineNet(seed=0)
    sgd = SGD(net.parameters(), 0.1)
    (x, t), = C.samples(1, 1)
    e = squared_error(net(x), t)
    seed = np.float64(1.0)

    def fresh_backward():
        squared_error(net(x), t).backward()

    forward = best(lambda: squared_error(net(x), t))
    return {
        "forward (net + loss, 10 ops, 17 nodes)": forward,
        "topo_order": best(lambda: topo_order(e)),
        "backprop (chain rule, incl. topo_order)": best(lambda: backprop(e, seed)),
        "backward (backprop + fill .grad)": best(fresh_backward) - forward,
        "sgd.zero_grad + sgd.step": best(lambda: (sgd.step(), sgd.zero_grad())),
        "whole step (sine.py's eager step)": best(lambda: _eager_step(x, t)),
        "manual step (hand-written numpy)": best(lambda: _manual_step(x, t)),
        "the post's loop, its shape (the yardstick)": best(lambda: _post_step(x, t)),
        "compiled step (floats, update inside)": best(lambda: _compiled_step(x, t)),
    }


_eager_step = C.make_eager(C.init_weights())[0]
_manual_step = C.make_manual(C.init_weights())[0]
_post_step = C.make_post(C.init_weights(), error_every_step=False)[0]
_compiled_step = C.make_compiled(C.init_weights())[0]


def scalar_phases() -> dict:
    rng = np.random.default_rng(0)
    w1, b1, w2 = ([Value(0.01 * rng.standard_normal()) for _ in range(3)] for _ in range(3))
    b2 = Value(0.0)

    def loss(x, t):
        ys = [(w * x + b).sigmoid() for w, b in zip(w1, b1)]
        return 0.5 * (sum((w * y for w, y in zip(w2, ys)), b2) - t) ** 2

    e = loss(0.3, 0.5)
    step = C.make_scalar(C.init_weights())[0]
    forward = best(lambda: loss(0.3, 0.5))
    return {
        f"forward ({sum(1 for n in topo_order(e) if n.op)} ops, {len(topo_order(e))} nodes)":
            forward,
        "topo_order": best(lambda: topo_order(e)),
        "backprop (incl. topo_order)": best(lambda: backprop(e, np.float64(1.0))),
        "backward (backprop + fill .grad)": best(lambda: backward(loss(0.3, 0.5))) - forward,
        "whole step (zero, forward, backward, update)": best(lambda: step(0.3, 0.5)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cprofile", action="store_true")
    args = parser.parse_args()
    for title, phases in (("tensor mode, batch 1", tensor_phases()),
                          ("scalar mode (one Value per weight)", scalar_phases())):
        print(f"\n{title}: µs per step")
        for name, us in phases.items():
            print(f"  {name:48s} {us:7.1f}")
    if args.cprofile:
        batches = C.samples(1, 5000)
        profile = cProfile.Profile()
        profile.enable()
        for x, t in batches:
            _eager_step(x, t)
        profile.disable()
        print()
        pstats.Stats(profile).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
