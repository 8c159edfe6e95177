"""Per-operation and per-backward-node cost of the engine, measured in one run.

    python benchmarks/bench_engine.py [--repeat 5]

Prints µs per forward op and per backward node for scalar and small-tensor
graphs, next to the plain numpy cost of the same arithmetic, and the ratio.
The machine is shared and noisy: read ratios, not absolute numbers; each
figure is the best of --repeat runs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from tinygrad_sine import Value


def best_of(fn, repeat: int, number: int) -> float:
    """Seconds per call: the best of `repeat` timings of `number` calls."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def chain(make_start, steps: int):
    """A graph of `steps` ops, each of them sigmoid(a * v + b)-like."""

    def forward():
        v = make_start()
        for _ in range(steps):
            v = (v * 0.9 + 0.1).tanh()
        return v

    return forward


def measure(label: str, start_data, repeat: int) -> list[str]:
    steps = 100
    n_ops = 3 * steps  # mul, add, tanh per step
    as_numpy = np.asarray(start_data, dtype=np.float64)

    def numpy_forward():
        v = as_numpy
        for _ in range(steps):
            v = np.tanh(v * 0.9 + 0.1)
        return v

    forward = chain(lambda: Value(start_data), steps)

    def forward_backward():
        out = forward()
        (out.sum() if out.ndim else out).backward()

    t_np = best_of(numpy_forward, repeat, 20)
    t_fwd = best_of(forward, repeat, 20)
    t_both = best_of(forward_backward, repeat, 20)
    per_op_np = t_np / n_ops * 1e6
    per_op = t_fwd / n_ops * 1e6
    per_node_bwd = (t_both - t_fwd) / n_ops * 1e6
    return [
        f"| {label} | {per_op_np:.2f} | {per_op:.2f} | {per_op / per_op_np:.1f}× "
        f"| {per_node_bwd:.2f} |"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = ["| graph | numpy µs/op | Value µs/op (forward) | ratio | µs per backward node |",
            "| --- | --- | --- | --- | --- |"]
    rows += measure("scalar", 0.3, args.repeat)
    rows += measure("vector (3,)", [0.1, 0.2, 0.3], args.repeat)
    rows += measure("matrix (8, 8)", np.full((8, 8), 0.2), args.repeat)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
