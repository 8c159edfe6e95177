"""The speed targets (issues 5 and 14), measured in one run, as ratios between contenders.

    python benchmarks/bench.py                      # the whole table (a few minutes)
    python benchmarks/bench.py --quick              # a smoke run: small sizes, few rounds
    python benchmarks/bench.py --json bench.json    # also write the rows as JSON

The machine this runs on is usually shared and noisy, so no number here is
read alone: every row times two contenders in the same process, alternating
them round by round (A B, then B A, …), and keeps each one's best round.  The
ratio of those two is what the target is about.  Contenders that are not
installed (micrograd, PyTorch) are skipped with a note; they are never
dependencies of tinygrad_sine.  Before timing, every contender is run on the
same samples from the same weights and must give the same losses.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

import contenders as C  # noqa: E402
import numpy as np  # noqa: E402


def available(module: str) -> str | None:
    """The version of ``module`` if it imports, else None."""
    try:
        __import__(module)
    except ImportError:
        return None
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module)
    except PackageNotFoundError:
        return "installed"


# ---------------------------------------------------------------- timing


def timed_round(step, batches, clock=time.perf_counter) -> float:
    """Seconds per step over one pass through ``batches``."""
    start = clock()
    for x, t in batches:
        step(x, t)
    return (clock() - start) / len(batches)


def alternate(entries: dict, rounds: int, clock=time.perf_counter, before_round=None) -> dict:
    """µs per step for each ``name: (step, batches)``, best of ``rounds``, taken in turns.

    The order alternates (A B, then B A, …) so that neither contender always
    runs right after the other.  ``clock`` is what measures (``time.process_time``
    for this process's CPU time only); ``before_round(name)``, if given, runs
    untimed before each of ``name``'s rounds (to swap in that contender's code).
    """
    names = list(entries)
    prepare = before_round or (lambda name: None)
    for name in names:  # warm up (and let `compile` trace) outside the timing
        step, batches = entries[name]
        prepare(name)
        timed_round(step, batches[:20], clock)
    best = {name: float("inf") for name in names}
    for r in range(rounds):
        for name in (names if r % 2 == 0 else names[::-1]):
            step, batches = entries[name]
            prepare(name)
            best[name] = min(best[name], timed_round(step, batches, clock))
    return {name: sec * 1e6 for name, sec in best.items()}


def same_losses(makers: dict, kinds: dict, weights, batch: int, steps: int = 40,
                eta: float = C.ETA) -> float:
    """Run every contender on the same samples; return the largest loss difference."""
    losses = {}
    for name, make in makers.items():
        step, _ = make(weights, eta)
        losses[name] = [step(x, t) for x, t in C.samples(batch, steps, seed=1, kind=kinds[name])]
    ref = next(iter(losses.values()))
    worst = max(abs(a - b) for ls in losses.values() for a, b in zip(ls, ref))
    if worst > 1e-9:
        raise SystemExit(f"bench: contenders disagree on the losses by {worst:.3g}: "
                         f"{sorted(losses)}")
    return worst


# ---------------------------------------------------------------- rows


class Table:
    def __init__(self):
        self.rows, self.notes = [], []

    def add(self, what, ours, ref_name, ref, target=None, unit="µs/step"):
        ratio = ours / ref if ref else None
        met = None if target is None or ratio is None else ratio <= target
        self.rows.append(dict(what=what, ours=ours, reference=ref_name, ref=ref, unit=unit,
                              ratio=ratio, target=target, met=met))
        shown = f"{ratio:.2f}×" if ratio is not None else "—"
        status = "" if met is None else ("met" if met else "NOT met")
        against = f" vs {ref_name} {ref:.3g}" if ref is not None else ""
        print(f"  {what}: {ours:.3g}{against} {unit} → {shown} {status}", flush=True)

    def note(self, text):
        self.notes.append(text)
        print("  note:", text, flush=True)

    def markdown(self) -> str:
        lines = ["| measurement | ours | reference | ref | ratio | target | met |",
                 "| --- | ---: | --- | ---: | ---: | ---: | --- |"]
        for r in self.rows:
            ratio = f"{r['ratio']:.2f}×" if r["ratio"] is not None else "—"
            target = f"≤ {r['target']}×" if r["target"] is not None else "(info)"
            met = {True: "yes", False: "**no**", None: ""}[r["met"]]
            lines.append(f"| {r['what']} | {_fmt(r['ours'])} {r['unit']} | {r['reference']} | "
                         f"{_fmt(r['ref'])} | {ratio} | {target} | {met} |")
        return "\n".join(lines + [""] + [f"- {n}" for n in self.notes])


def _fmt(v) -> str:
    if v is None:
        return "—"
    return f"{v:.3g}" if v < 1000 else f"{v:,.0f}"


def bench_steps(table: Table, args) -> None:
    weights = C.init_weights()
    n, rounds = args.steps, args.rounds
    have_mg, have_torch = available("micrograd"), available("torch")
    if not have_mg:
        table.note("micrograd is not installed (pip install micrograd): its rows are skipped")
    if not have_torch:
        table.note("PyTorch is not installed (pip install torch): its rows are skipped")

    print("checking that the contenders compute the same losses …", flush=True)
    tensor = {"eager": C.make_eager, "compiled": C.make_compiled, "manual": C.make_manual,
              "post": C.make_post, "compiled numpy": C.make_compiled_numpy}
    kinds = dict.fromkeys(tensor, "numpy")
    scalar = {"scalar": C.make_scalar, "floats": C.make_plain_floats}
    kinds.update(dict.fromkeys(scalar, "float"))
    if have_mg:
        scalar.update({"micrograd": C.make_micrograd, "micrograd 5": C.make_micrograd_five_nodes})
        kinds.update({"micrograd": "float", "micrograd 5": "float"})
    if have_torch:
        tensor["torch"] = C.make_torch
        kinds["torch"] = "torch"
    worst = same_losses({**tensor, **scalar}, kinds, weights, batch=1)
    full_eta = C.ETA / 63  # the gradient is summed over the batch: η = 0.1 would diverge
    worst = max(worst, same_losses({k: tensor[k] for k in ("eager", "compiled", "post")},
                                   kinds, weights, batch=63, steps=10, eta=full_eta))
    table.note(f"all contenders give the same losses on the same samples "
               f"(largest difference {worst:.1e})")

    batch1 = C.samples(1, n)
    floats = C.samples(1, n, kind="float")

    def entry(make, batches, *eta, **kw):
        return make(weights, *eta, **kw)[0], batches

    print("batch size 1, tensor mode …", flush=True)
    entries = {"eager": entry(C.make_eager, batch1), "manual": entry(C.make_manual, batch1),
               "post": entry(C.make_post, batch1, C.ETA, error_every_step=False),
               "compiled": entry(C.make_compiled, batch1),
               "compiled numpy": entry(C.make_compiled_numpy, batch1)}
    if have_torch:
        entries["torch"] = entry(C.make_torch, C.samples(1, n, kind="torch"))
    us = alternate(entries, rounds)
    post = "the post's loop (its shape)"
    table.add("eager autograd, tensor, batch 1", us["eager"], post, us["post"], 2.3)
    table.add("eager autograd, tensor, batch 1", us["eager"], "manual numpy", us["manual"])
    table.add("compiled step, batch 1 (floats, update inside)", us["compiled"], post,
              us["post"], 0.3)
    table.add("compiled numpy code + update, batch 1", us["compiled numpy"], post, us["post"])
    if have_torch:
        table.add("eager autograd, tensor, batch 1", us["eager"],
                  f"PyTorch {have_torch} eager (float64, 1 thread)", us["torch"])

    print("batch size 1, scalar mode …", flush=True)
    entries = {"scalar": entry(C.make_scalar, floats), "floats": entry(C.make_plain_floats, floats)}
    if have_mg:
        entries["micrograd"] = entry(C.make_micrograd, floats)
        entries["micrograd 5"] = entry(C.make_micrograd_five_nodes, floats)
    us_s = alternate(entries, rounds)
    if have_mg:
        table.add("eager autograd, scalar Values", us_s["scalar"],
                  f"micrograd {have_mg}, one-node sigmoid", us_s["micrograd"], 0.9)
        table.add("eager autograd, scalar Values", us_s["scalar"],
                  "micrograd, sigmoid from 5 nodes (flatters us)", us_s["micrograd 5"])
    table.add("compiled step, batch 1 (floats, update inside)", us["compiled"],
              "plain Python floats (by hand)", us_s["floats"])

    print("full batch (63 samples per update) …", flush=True)
    full = C.samples(63, max(n // 4, 20))  # longer rounds: fewer, slower steps
    us_f = alternate({"eager": entry(C.make_eager, full, full_eta),
                      "post": entry(C.make_post, full, full_eta, error_every_step=False),
                      "compiled": entry(C.make_compiled, full, full_eta)}, rounds)
    table.add("eager autograd, full batch", us_f["eager"], f"{post}, batch 63",
              us_f["post"], 2.3)
    table.add("compiled step (numpy code: 63 rows is past the float limit), full batch",
              us_f["compiled"], f"{post}, batch 63", us_f["post"])
    table.note(f"per step, the seed's run is 126,063 batch-1 steps: {us['eager'] * 0.126063:.1f} s "
               f"eager, {us['post'] * 0.126063:.1f} s for the post's loop; 2001 full-batch "
               f"epochs: {us_f['eager'] * 2001e-6:.2f} s eager, "
               f"{us_f['post'] * 2001e-6:.2f} s the post's loop")


def bench_seed_run(table: Table, args) -> None:
    """The whole seed run through ``train``, compiled and eager: time, and the same errors."""
    from tinygrad_sine.nn import SineNet
    from tinygrad_sine.sine import train

    epochs = args.seed_epochs
    print(f"the seed's run, {epochs} epochs, compiled and eager …", flush=True)
    runs = {}
    for engine in ("compiled", "auto"):
        net = SineNet(seed=0)
        start = time.perf_counter()
        history = train(net, epochs=epochs, engine=engine)
        runs[engine] = (time.perf_counter() - start, history, net)
    (sec_c, h_c, net_c), (sec_e, h_e, net_e) = runs["compiled"], runs["auto"]
    errors = max(abs(a - b) for a, b in zip(h_c.errors, h_e.errors))
    figures = max(float(np.max(np.abs(h_c.snapshots[k][1] - h_e.snapshots[k][1])))
                  for k in h_e.snapshots)
    weights = max(float(np.max(np.abs(p.data - q.data)))
                  for p, q in zip(net_c.parameters(), net_e.parameters()))
    if max(errors, figures) > 1e-9 or h_c.epochs != h_e.epochs:
        raise SystemExit(f"bench: the compiled run differs from the eager run by {errors:.3g} "
                         f"(errors) / {figures:.3g} (figures' predictions)")
    budget = 1.5 * epochs / 2001  # (a short --quick run also pays the one trace: no target)
    table.add(f"train --engine compiled, the seed's run ({epochs * 63:,} updates)", sec_c,
              "the issue's budget", budget, 1.0 if epochs == 2001 else None, "s")
    table.add(f"train (eager), the same run ({epochs * 63:,} updates)", sec_e, "—", None, None,
              "s")
    table.note(f"the compiled run reproduces the eager run: errors to {errors:.1e}, the figures' "
               f"predictions to {figures:.1e}, the final weights to {weights:.1e}")


def bench_recording(table: Table, args) -> None:
    """What keeping frames costs (issue 19): the seed's run with frames and without,
    alternating, eager (the seed run) and compiled; and how much the History and the
    learning page weigh."""
    import pickle

    from tinygrad_sine.nn import SineNet
    from tinygrad_sine.sine import train

    epochs, rounds = args.seed_epochs, max(2, args.rounds // 3)
    print(f"recording frames: the seed's run ({epochs} epochs) with and without, "
          f"{rounds} rounds …", flush=True)
    for engine, name in (("auto", "eager"), ("compiled", "compiled")):
        best = {"on": float("inf"), "off": float("inf")}
        for r in range(rounds):
            for key in (("on", "off") if r % 2 == 0 else ("off", "on")):
                start = time.perf_counter()
                train(SineNet(seed=0), epochs=epochs, engine=engine,
                      frames=200 if key == "on" else 0)
                best[key] = min(best[key], time.perf_counter() - start)
        table.add(f"train ({name}) keeping frames, the seed's run", best["on"],
                  "the same run without (frames=0)", best["off"],
                  1.10 if engine == "auto" else None, "s")
    history = train(SineNet(seed=0), epochs=epochs, engine="compiled")
    size = len(pickle.dumps(history)) / 1e6
    table.add(f"the seed run's History, pickled ({len(history.frames)} frames)", size,
              "a few MB", 3.0, 1.0, "MB")
    if shutil.which("dot"):
        from viz.learn import learn_page

        page = len(learn_page(history).encode("utf-8")) / 1e6
        table.add("the seed run's learning page (learn.html)", page, "the issue's budget", 2.0,
                  1.0, "MB")


def bench_float_limit(table: Table, args) -> None:
    """Floats against numpy code for the fused step, by batch size: where FLOAT_LIMIT comes from."""
    from tinygrad_sine import compile
    from tinygrad_sine.autograd import topo_order
    from tinygrad_sine.compile.fused import FLOAT_LIMIT
    from tinygrad_sine.nn import squared_error

    print("float code against numpy code, by batch size …", flush=True)
    for batch in args.limit_batches:
        xs = C.samples(batch, max(args.steps // (4 * batch), 10))
        steps = {}
        for kind, limit in (("floats", 10**9), ("numpy", 0)):
            net = C._net(weights=C.init_weights())
            step = compile(lambda x, t, net=net: squared_error(net(x), t), *xs[0]).sgd(
                C.ETA / batch, float_limit=limit)
            step(*xs[0])  # writes the code now, under this limit
            steps[kind] = (step, xs)
        numbers = sum(v.size for v in topo_order(squared_error(net(xs[0][0]), xs[0][1])))
        us = alternate(steps, max(3, args.rounds // 3))
        table.add(f"fused step on floats, batch {batch} ({numbers} numbers in the graph)",
                  us["floats"], "the same on numpy code", us["numpy"])
    table.note(f"FLOAT_LIMIT = {FLOAT_LIMIT} numbers in the graph: floats are used below it, "
               "numpy code above (the rows above show where the two cross on this machine)")


def bench_inplace_check(table: Table, args) -> None:
    """The in-place-change check's cost: the eager step against a variant without its work.

    The variant is built from the engine's source in a separate process
    (``no_check.py``), so the patched code never runs in this one.
    """
    print("the in-place-change check: the eager step with and without it …", flush=True)
    out = subprocess.run([sys.executable, str(HERE / "no_check.py"), "--rounds", str(args.rounds),
                          "--steps", str(args.steps)], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"bench: no_check.py failed:\n{out.stderr}")
    for row, us in json.loads(out.stdout).items():
        table.add(f"eager step with the in-place check, {row}", us["on"],
                  "the same step with the check's work removed", us["off"], 1.05)
    table.note("the check's work: the clock in the .data setter (and .data being a property), "
               "the stamps in _apply and SGD.step, the comparisons in backprop "
               "(benchmarks/no_check.py)")


def bench_anomaly(table: Table, args) -> None:
    """detect_anomaly's cost when it is not used: the eager step with and without the reads
    of its flag (``anomaly_cost.py``, in a process of its own); and inside a block, for
    information."""
    print("detect_anomaly: the eager step with and without its hooks …", flush=True)
    out = subprocess.run([sys.executable, str(HERE / "anomaly_cost.py"), "--rounds",
                          str(args.rounds), "--steps", str(args.steps)],
                         capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"bench: anomaly_cost.py failed:\n{out.stderr}")
    for row, us in json.loads(out.stdout).items():
        table.add(f"eager step, detect_anomaly not used, {row}", us["off"],
                  "the same step without its flag reads", us["bare"], 1.05)
        table.add(f"eager step inside detect_anomaly(), {row}", us["checking"],
                  "the same step outside it", us["off"])
    table.note("detect_anomaly's hooks: one read of its flag per backward() and per SGD.step() "
               "(benchmarks/anomaly_cost.py)")


def import_time(module: str) -> float:
    """Cumulative µs of ``import module`` in a fresh interpreter (``-X importtime``)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # time the import as installed: from .pyc files
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                         capture_output=True, text=True, env=env, check=True).stderr
    times = [int(m.group(1)) for m in
             re.finditer(rf"^import time:\s+\d+ \|\s+(\d+) \| {re.escape(module)}$", out, re.M)]
    return times[-1]


def bench_import(table: Table, args) -> None:
    print("import times …", flush=True)
    import_time("tinygrad_sine")  # write the .pyc files first
    best = {"tinygrad_sine": float("inf"), "numpy": float("inf")}
    for r in range(args.import_runs):
        for mod in (best if r % 2 == 0 else list(best)[::-1]):
            best[mod] = min(best[mod], import_time(mod))
    table.add("import tinygrad_sine", best["tinygrad_sine"] / 1e3, "import numpy",
              best["numpy"] / 1e3, 1.5, "ms")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and few rounds (a smoke run)")
    parser.add_argument("--rounds", type=int, default=9,
                        help="alternating rounds per row (default 9)")
    parser.add_argument("--steps", type=int, default=2000,
                        help="batch-1 steps per round (default 2000)")
    parser.add_argument("--json", type=Path, help="also write the table here as JSON")
    parts_all = ("steps", "seed", "record", "fused", "inplace", "anomaly", "chain", "import")
    parser.add_argument("--only", choices=parts_all, action="append",
                        help="run only these parts (repeatable)")
    args = parser.parse_args(argv)
    args.chain, args.chain_repeat, args.chain_memory = (10**4, 10**5, 10**6), 3, 10**5
    args.import_runs, args.seed_epochs, args.limit_batches = 7, 2001, (1, 4, 16, 32)
    if args.quick:
        args.rounds, args.steps = 2, 100
        args.chain, args.chain_repeat, args.chain_memory = (10**3, 10**4), 1, 10**3
        args.import_runs, args.seed_epochs, args.limit_batches = 1, 21, (1, 16)
    parts = args.only or list(parts_all)

    table = Table()
    started = time.time()
    if "steps" in parts:
        bench_steps(table, args)
    if "seed" in parts:
        bench_seed_run(table, args)
    if "record" in parts:
        bench_recording(table, args)
    if "fused" in parts:
        bench_float_limit(table, args)
    if "inplace" in parts:
        bench_inplace_check(table, args)
    if "anomaly" in parts:
        bench_anomaly(table, args)
    if "chain" in parts:
        from bench_chain import bench_chain

        bench_chain(table, args)
    if "import" in parts:
        bench_import(table, args)

    print()
    print(table.markdown())
    info = dict(python=platform.python_version(), numpy=np.__version__,
                micrograd=available("micrograd"), torch=available("torch"),
                machine=f"{platform.machine()}, {os.cpu_count()} cores",
                date=time.strftime("%Y-%m-%d"), seconds=round(time.time() - started, 1),
                rounds=args.rounds, steps_per_round=args.steps)
    print(f"\n{info['machine']}, Python {info['python']}, numpy {info['numpy']}; "
          f"{args.rounds} alternating rounds of {args.steps} steps; {info['seconds']} s")
    if args.json:
        tmp = args.json.with_name(args.json.name + ".tmp")  # whole or not at all
        tmp.write_text(json.dumps(dict(info=info, rows=table.rows, notes=table.notes),
                                  indent=2, ensure_ascii=False) + "\n")
        os.replace(tmp, args.json)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
