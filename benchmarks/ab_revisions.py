"""The eager engine at two revisions, timed in one process, alternating round by round.

    python benchmarks/ab_revisions.py HEAD~3            # the working tree against HEAD~3
    python benchmarks/ab_revisions.py main --rows b1,scalar --rounds 41

The machine is shared and noisy, so both versions run in the same process,
in turns (A B, then B A, …), and each keeps its best round.  Time is CPU
time of this process (``time.process_time``), which other programs on the
machine do not inflate.  The old revision is unpacked with ``git archive``
into a temporary folder under another package name, so both import side by
side.  Rows: ``b1`` (one SGD step of the seed's net on one sample), ``b63``
(on 63 samples), ``scalar`` (the same net as scalar Values), ``chainN``
(a chain of N tanh nodes, forward and backward, µs per node).
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def unpack(rev: str, where: Path) -> str:
    """Put ``tinygrad_sine`` at ``rev`` into ``where`` as package ``tg_old``; return its name."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "tinygrad_sine"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)
    (where / "tinygrad_sine").rename(where / "tg_old")
    return "tg_old"


def tensor_step(pkg: str, batch: int):
    sine, nn = (importlib.import_module(f"{pkg}.{m}") for m in ("sine", "nn"))
    eager_step = getattr(sine, "_eager_step", None) or sine._auto_step  # its old name
    step = eager_step(nn.SineNet(n_mid=3, wb_width=0.01, seed=0), 0.1 / batch)
    rng = np.random.default_rng(1)
    xs = [rng.uniform(-np.pi, np.pi, (batch, 1)) for _ in range(200)]
    return step, [(x, np.sin(x)) for x in xs], 1


def scalar_step(pkg: str):
    V = importlib.import_module(pkg).Value
    rng = np.random.default_rng(0)
    w1, w2 = ([V(float(v)) for v in rng.normal(size=3)] for _ in range(2))
    b1, b2 = [V(0.0) for _ in range(3)], V(0.0)
    params = w1 + b1 + w2 + [b2]
    samples = [(float(v), float(np.sin(v))) for v in rng.uniform(-3, 3, 200)]

    def step(x, t):
        for p in params:
            p.zero_grad()
        hs = [(V(x) * w + b).sigmoid() for w, b in zip(w1, b1)]
        y = hs[0] * w2[0] + hs[1] * w2[1] + hs[2] * w2[2] + b2
        (0.5 * (y - t) ** 2).backward()
        for p in params:
            p.data -= 0.1 * p.grad

    return step, samples, 1


def chain(pkg: str, n: int):
    V = importlib.import_module(pkg).Value

    def run(_x, _t):
        v = V(0.5)
        for _ in range(n):
            v = v.tanh()
        v.backward()

    return run, [(None, None)], n  # one run of the chain a round; µs per node


def make(row: str, pkg: str):
    if row.startswith("chain"):
        return chain(pkg, int(row[5:]))
    return scalar_step(pkg) if row == "scalar" else tensor_step(pkg, int(row[1:]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev", help="the git revision to compare the working tree with")
    parser.add_argument("--rows", default="b1,b63,scalar,chain100000")
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args(argv)
    from bench import alternate  # (benchmarks/ is on sys.path: this script's folder)

    with tempfile.TemporaryDirectory() as tmp:
        sys.path[:0] = [tmp, str(ROOT)]
        pkgs = {args.rev: unpack(args.rev, Path(tmp)), "working tree": "tinygrad_sine"}
        print(f"| row | {args.rev} µs | working tree µs | ratio |\n| --- | ---: | ---: | ---: |")
        for row in args.rows.split(","):
            runs = {name: make(row, pkg) for name, pkg in pkgs.items()}
            us = alternate({name: (step, batches) for name, (step, batches, _) in runs.items()},
                           args.rounds, clock=time.process_time)
            old, new = (us[name] / per for name, (_, _, per) in runs.items())
            print(f"| {row} | {old:.2f} | {new:.2f} | {new / old:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
