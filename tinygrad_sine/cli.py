"""``tinygrad-sine``: the seed's experiment from the command line.

    tinygrad-sine train [--epochs 2001 --eta 0.1 --n-mid 3 --seed 0 ...]
    tinygrad-sine check [--seed 0 --n-mid 3 --sample 10]
    tinygrad-sine graph [--seed 0 --sample 10 --out graph.svg --collapse --no-grad]
    tinygrad-sine step  [--seed 0 --sample 10 --n-mid 3 --eta 0.1]
    tinygrad-sine explore [--seed 0 --sample 10 --n-mid 3 --eta 0.1 --collapse --out step.html]

Bad input ends with one line on standard error and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np

TOLERANCE = 1e-10  # `check` fails when manual and automatic differ by more


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class UsageError(Exception):
    """Bad input from the command line: printed as one line, exit status 2."""


def _n_mid(text: str):
    """``3`` → 3, ``5,4`` → (5, 4)."""
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        shown = text if len(text) <= 30 else text[:20] + "…"
        raise argparse.ArgumentTypeError(
            f"--n-mid takes a whole number or a comma list like 5,4; got {shown!r}"
        ) from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"--n-mid sizes must be at least 1; got {text!r}")
    from .nn import MAX_WEIGHTS

    for n_in, n_out in zip((1, *sizes), (*sizes, 1)):  # every weight matrix must fit in memory
        if n_in * n_out > MAX_WEIGHTS:
            raise argparse.ArgumentTypeError(
                f"--n-mid {text} needs a {n_in} × {n_out} weight matrix ({n_in * n_out:,} "
                f"numbers), more than the {MAX_WEIGHTS:,} allowed")
    return sizes[0] if len(sizes) == 1 else sizes


def _path(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a path, got an empty one")
    return Path(text)


def _whole_in(text: str, least: int, most: int) -> int:
    """``text`` as a whole number from ``least`` to ``most``, or an argparse error saying so."""
    try:
        value = int(text) if len(text) <= 30 else None  # no 10,000-digit conversions
    except ValueError:
        value = None
    if value is None or not least <= value <= most:
        shown = text if len(text) <= 30 else text[:20] + "…"
        raise argparse.ArgumentTypeError(f"expected a whole number from {least} to {most:,}, "
                                         f"got {shown!r}")
    return value


def _positive_int(text: str) -> int:
    from .sine import MAX_COUNT

    return _whole_in(text, 1, MAX_COUNT)


def _seed_int(text: str) -> int:
    from .nn import MAX_SEED

    return _whole_in(text, 0, MAX_SEED)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _sample_index(text: str) -> int:
    from .sine import sine_data

    return _whole_in(text, 0, len(sine_data()[0]) - 1)


def _sample_arg(parser):
    parser.add_argument("--sample", type=_sample_index, default=10,
                        help="index of the data point (0-62) to use (default 10)")


def _net_args(parser, seed_help="seed for the weights"):
    parser.add_argument("--seed", type=_seed_int, default=0, help=f"{seed_help} (default 0)")
    parser.add_argument("--legacy-rng", action="store_true",
                        help="draw as the post does, np.random.seed(seed) then randn, instead "
                        "of numpy.random.default_rng(seed); reproduces the post's numbers")
    parser.add_argument("--n-mid", type=_n_mid, default=3,
                        help="middle units, or a comma list for several middle layers, "
                        "e.g. 5,4 (default 3)")


def _step_args(parser) -> None:
    """The options of the one training step that graph, step and explore show."""
    _net_args(parser)
    _sample_arg(parser)
    parser.add_argument("--wb-width", type=_positive_float, default=0.01,
                        help="spread of the initial weights (default 0.01, the seed's)")


def _eta_arg(parser) -> None:
    """η of the update steps that step and explore show after the backward pass."""
    parser.add_argument("--eta", type=_positive_float, default=0.1,
                        help="learning rate of the update steps after backward "
                        "(default 0.1, the seed's)")


def _drawing_args(parser) -> None:
    """How graph and explore draw the diagram."""
    parser.add_argument("--collapse", action="store_true", help="draw each layer as one box")
    parser.add_argument("--max-nodes", type=_positive_int, default=500,
                        help="refuse graphs with more nodes than this (default 500)")
    parser.add_argument("--rankdir", choices=("TB", "LR"), default="TB",
                        help="top to bottom (default) or left to right")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tinygrad-sine", description=(
        "Learn sin(x) with a 1-3-1 network, with backprop both by hand and automatic."))
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("train", help="train the seed's network and write its figures",
                       description="Train the seed's network as the post does; print progress "
                       "every --interval epochs; write figures into --out.")
    p.add_argument("--epochs", type=_positive_int, default=2001, help="epochs (default 2001)")
    p.add_argument("--eta", type=_positive_float, default=0.1, help="learning rate (default 0.1)")
    _net_args(p, "seed for the weights and the shuffles")
    p.add_argument("--interval", type=_positive_int, default=200,
                   help="record and print every N epochs (default 200)")
    p.add_argument("--batch-size", type=_positive_int, default=1,
                   help="samples per update; the gradient is summed over them (default 1)")
    p.add_argument("--engine", choices=("eager", "manual", "compiled", "auto"), default="eager",
                   help="eager: the Value graph and backward() at every step; manual: the "
                   "hand-derived numpy backprop; compiled: the automatic step traced once and "
                   "run as generated code; auto: an old name for eager (default eager)")
    p.add_argument("--compile", action="store_true", help="same as --engine compiled")
    p.add_argument("--wb-width", type=_positive_float, default=0.01,
                   help="spread of the initial weights (default 0.01)")
    p.add_argument("--out", type=_path, default=Path("out"),
                   help="folder for the figures (default out/)")
    p.add_argument("--animate", action="store_true",
                   help="also write learn.gif, the learning page's panels as an animation")
    p.set_defaults(run=cmd_train)

    p = sub.add_parser("check", help="compare manual and automatic gradients on one sample",
                       description="Build a network with random weights, take one sample, and "
                       "print the seed's quantities both ways; exit 1 if any differ by "
                       f"> {TOLERANCE}.")
    _net_args(p)
    _sample_arg(p)
    p.add_argument("--wb-width", type=_positive_float, default=1.0,
                   help="spread of the random weights (default 1.0, so no gradient is tiny)")
    p.set_defaults(run=cmd_check)

    p = sub.add_parser("graph", help="draw one training step's graph (after backward) to a "
                       ".svg, .png, .pdf or .dot file",
                       description="Build the seed's network, take one sample, run E.backward() "
                       "and draw the graph with data, gradients and the seed's formulas.")
    _step_args(p)
    p.add_argument("--out", type=_path, default=Path("graph.svg"),
                   help="file to write: .svg, .png, .pdf or .dot (default graph.svg)")
    _drawing_args(p)
    p.add_argument("--no-grad", action="store_true", help="leave the gradients out")
    p.set_defaults(run=cmd_graph)

    p = sub.add_parser("step", help="walk one training step node by node at a prompt",
                       description="Step through the forward and backward pass of one training "
                       "step of the seed's network.  Commands come from standard input, so a "
                       "pipe can drive it; type help at the prompt for the list.")
    _step_args(p)
    _eta_arg(p)
    p.set_defaults(run=cmd_step)

    p = sub.add_parser("explore", help="write a page that steps through one training step "
                       "in a browser",
                       description="Build the seed's network, take one sample, and write one "
                       "self-contained HTML page that steps through its forward and backward "
                       "pass: the diagram, and each step's text as `step` prints it.")
    _step_args(p)
    _eta_arg(p)
    p.add_argument("--out", type=_path, default=Path("step.html"),
                   help="the page to write, ending in .html (default step.html)")
    _drawing_args(p)
    p.set_defaults(run=cmd_explore)
    return parser


def _sample(index: int):
    from .sine import sine_data

    x, t = sine_data()
    if not 0 <= index < len(x):
        raise UsageError(f"--sample must be between 0 and {len(x) - 1}, got {index}")
    return x[index:index + 1].reshape(1, 1), t[index:index + 1].reshape(1, 1)


def cmd_train(args) -> int:
    from .nn import SineNet
    from .sine import progress_line, train

    if args.compile and args.engine == "manual":
        raise UsageError("--compile (same as --engine compiled) compiles the automatic engine; "
                         "drop --engine manual")
    from .sine import ENGINE_ALIASES

    engine = "compiled" if args.compile else ENGINE_ALIASES.get(args.engine, args.engine)
    if args.batch_size > 63:
        raise UsageError(f"--batch-size {args.batch_size} is more than the 63 samples; "
                         "use --batch-size 63 for full-batch training")
    _check_writable_folder(args.out, "--out")  # fail now, not after training
    net = SineNet(n_mid=args.n_mid, wb_width=args.wb_width, seed=args.seed,
                  legacy_rng=args.legacy_rng)
    legacy = " (legacy rng)" if args.legacy_rng else ""
    print(f"Training {net!r} on sin(x): {args.epochs} epochs, eta={args.eta}, "
          f"batch size {args.batch_size}, seed {args.seed}{legacy}, engine {engine}")
    start = time.perf_counter()
    def report(epoch, error, _history):
        print(progress_line(epoch, args.epochs, error), flush=True)

    # A diverging run stops at the first non-finite error and says once, below, what made it.
    with np.errstate(over="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        history = train(net, epochs=args.epochs, eta=args.eta, interval=args.interval,
                        seed=args.seed, batch_size=args.batch_size, engine=engine,
                        callback=report, legacy_rng=args.legacy_rng)
    if history.diverged is not None:
        _write_divergence_page(net, history.diverged, args.out)
        _write_learning(history, args.out, args.animate)  # it opens where the run went wrong
        raise UsageError(f"training diverged: {history.diverged.message}; lower --eta "
                         "(the post uses 0.1) or --wb-width")
    seconds = time.perf_counter() - start
    steps = args.epochs * -(-63 // args.batch_size)
    last = history.epochs[-1]
    recorded = ("" if last == args.epochs - 1 else f" (recorded every {args.interval} "
                f"epochs; training ran to epoch {args.epochs - 1})")
    faster = ""
    if engine == "eager":  # say how to go faster, from a few compiled steps timed on a copy
        from .sine import compiled_seconds

        try:
            with np.errstate(all="ignore"):
                guess = compiled_seconds(net, args.eta, args.batch_size, steps)
            if guess < seconds:  # a hint only where it would be faster (not on a tiny run)
                faster = f"; --engine compiled would take ≈{_seconds(guess)} s here"
        except Exception:  # only a hint: never lose a finished run's summary and figures
            pass
    print(f"Done: error {history.errors[0]:.4g} at epoch 0 → {history.final_error:.4g} at epoch "
          f"{last}{recorded}; {_seconds(seconds)} s, {seconds / steps * 1e6:.1f} µs per update"
          f"{faster}")

    from viz.plots import save_figures

    written = save_figures(history, args.out)
    print("Figures written:", ", ".join(str(p) for p in written))
    from viz.graph import GraphTooLarge

    from .stepper import training_step

    loss = training_step(net, *_sample(10), backward=True)  # one step at the trained weights
    try:
        path, folded = _write_step_graph(loss, args.out, collapse=False), ""
    except GraphTooLarge:  # a net too deep to draw node by node: one box per layer
        try:
            path, folded = _write_step_graph(loss, args.out, collapse=True), ", one box per layer"
        except GraphTooLarge as err:
            path, folded = None, None
            print(f"graph.svg and explore.html skipped: {err.nodes} nodes even with one box "
                  "per layer; draw it with tinygrad-sine graph --collapse --max-nodes N")
    if path is not None:
        print(f"Graph of one training step (sample 10, trained weights{folded}) written:", path)
        _write_explore_page(net, args.out, collapse=bool(folded), eta=args.eta)
    _write_learning(history, args.out, args.animate)
    return 0


def _write_learning(history, out: Path, gif: bool) -> None:
    """``out/learn.html`` (the page to watch the run learn) and, asked for, ``out/learn.gif``."""
    from viz.learn import learn_page

    path = out / "learn.html"
    with np.errstate(all="ignore"):
        learn_page(history, path)
    print("Page to watch it learn, epoch by epoch, written:", path)
    if gif:
        from viz.animation import animate

        path = out / "learn.gif"
        with np.errstate(all="ignore"):
            animate(history, path, progress=_progress(f"Writing {path}"))
        print("Animation written:", path)


def _progress(what: str):
    """``progress(done, total)`` for a long write: a line redrawn in place at a terminal,
    else a line at each quarter (so a log or a pipe gets four lines, not a hundred)."""
    live = sys.stdout.isatty()

    def show(done: int, total: int) -> None:
        if live:
            end = "\n" if done == total else ""
            print(f"\r{what}: frame {done} of {total}", end=end, flush=True)
        elif done == total or done * 4 // total > (done - 1) * 4 // total:
            print(f"{what}: frame {done} of {total}", flush=True)

    return show


def _write_divergence_page(net, diverged, out: Path) -> None:
    """``out/explore.html`` at the step of a diverged run that made the first non-finite
    number, opened at that step (the run's error is on standard error, in one line)."""
    from viz.explore import explore
    from viz.graph import GraphTooLarge, GraphvizNotFound

    path = out / "explore.html"
    title = (f"Where training diverged: {net!r}, epoch {diverged.epoch}, "
             f"sample {diverged.sample}")
    try:
        with np.errstate(all="ignore"):  # its numbers overflow: that is what it shows
            stepper = diverged.stepper(net)
            collapse = len(stepper.info.order) > 500
            explore(stepper, path, start=diverged.step, collapse=collapse, title=title)
    except (GraphvizNotFound, GraphTooLarge) as err:
        print(f"explore.html skipped: {err}")
        return
    step = "" if diverged.step is None else f", open at step {diverged.step}"
    print(f"Page of the step that diverged written{step}:", path)


def _write_explore_page(net, out: Path, collapse: bool, eta: float) -> None:
    """``out/explore.html``: the same training step, to step through in a browser."""
    from viz.explore import explore
    from viz.graph import GraphvizNotFound

    from .stepper import Stepper, training_step

    loss = training_step(net, *_sample(10))  # a fresh graph: the page runs its own backprop
    path = out / "explore.html"
    try:
        explore(Stepper(loss, eta=eta), path, start=0, collapse=collapse,
                title=f"One training step of {net!r} (sample 10, trained weights)")
    except GraphvizNotFound as err:
        print(f"explore.html skipped: {err}")
        return
    print("Page to step through it in a browser written:", path)


def _write_step_graph(loss, out: Path, collapse: bool) -> Path:
    """``out/graph.svg``; without ``dot``, the DOT source ``out/graph.dot`` (and why).

    ``graph.dot`` is one of train's own outputs, so like the figures it is
    replaced on the next run (render_graph's own fallback never overwrites).
    """
    from viz.graph import INSTALL_HINT, render_graph

    if shutil.which("dot") is None:  # keep the DOT source, to render later or elsewhere
        print(f"graph.svg skipped: Graphviz's dot program is not on PATH; {INSTALL_HINT}")
        return render_graph(loss, out / "graph.dot", rankdir="TB", collapse=collapse)
    return render_graph(loss, out / "graph.svg", rankdir="TB", collapse=collapse)


def _seconds(t: float) -> str:
    """A duration to two significant digits, never in e-notation: 0.0033, 5.7, 12, 123."""
    return f"{t:.2g}" if t < 100 else f"{t:.0f}"


def _check_writable_folder(folder: Path, option: str) -> None:
    """Make ``folder`` and write and remove a probe file in it, or raise UsageError saying why."""
    from .files import make_folder

    try:
        make_folder(folder, option)
        probe = folder / f".tinygrad-sine-probe-{os.getpid()}"
        try:
            probe.write_bytes(b"")
        finally:
            probe.unlink(missing_ok=True)
    except NotADirectoryError as err:
        raise UsageError(str(err)) from None
    except OSError as err:
        raise UsageError(f"{option}: cannot write into {str(folder)!r}: "
                         f"{err.strerror or err}") from None


def cmd_check(args) -> int:
    from .compare import compare_gradients, format_table
    from .nn import SineNet

    net = SineNet(n_mid=args.n_mid, wb_width=args.wb_width, seed=args.seed,
                  legacy_rng=args.legacy_rng)
    x, t = _sample(args.sample)
    with np.errstate(all="ignore"):  # huge weights: the table shows nan, and FAIL says why
        rows = compare_gradients(net, x, t)
    print(f"{net!r}, seed {args.seed}, sample {args.sample}: "
          f"x = {x.item():.4f}, t = {t.item():.4f}")
    print(format_table(rows))
    diffs = [r.max_abs_diff for r in rows]
    if any(np.isnan(d) for d in diffs):  # NaN compares False with everything: test it first
        print("FAIL: some gradients are not finite (nan or inf); the weights are too large "
              "for float64: lower --wb-width")
        return 1
    worst = max(diffs)
    if worst > TOLERANCE:
        print(f"FAIL: manual and automatic differ by up to {worst:.3e} (> {TOLERANCE})")
        return 1
    print(f"OK: all {len(rows)} quantities agree to {TOLERANCE} (largest difference {worst:.1e})")
    return 0


def _seed_step(args):
    """The error E of one training step on sample ``--sample`` (no backward yet), and a caption."""
    from .nn import SineNet
    from .stepper import training_step

    net = SineNet(n_mid=args.n_mid, wb_width=args.wb_width, seed=args.seed,
                  legacy_rng=args.legacy_rng)
    x, t = _sample(args.sample)
    about = (f"{net!r}, seed {args.seed}, sample {args.sample}: x = {x.item():.4f}, "
             f"t = {t.item():.4f}, E = ½ Σ (y − t)²")
    return training_step(net, x, t), about


def _seed_stepper(args):
    """The Stepper over one training step, with its update steps at ``--eta``; a caption."""
    from .stepper import Stepper

    loss, about = _seed_step(args)
    return Stepper(loss, eta=args.eta), about


def cmd_graph(args) -> int:
    from viz.graph import GraphTooLarge, GraphvizNotFound, render_graph

    _check_writable_folder(args.out.parent, "--out")
    try:
        with np.errstate(all="ignore"):  # huge weights: the diagram shows nan/inf, no warnings
            loss, about = _seed_step(args)
            loss.backward()
            path = render_graph(loss, args.out, collapse=args.collapse,
                                show_grad=not args.no_grad, rankdir=args.rankdir,
                                max_nodes=args.max_nodes, title=f"One training step of {about}")
    except GraphvizNotFound as err:
        raise UsageError(str(err)) from None
    except GraphTooLarge as err:
        raise UsageError(_too_large(err, args.collapse)) from None
    print(f"Wrote {path}: one training step of {about}")
    return 0


def _too_large(err, collapse: bool) -> str:
    """What to do about a graph that ``draw_graph`` refused (a ``GraphTooLarge``)."""
    fold = ("add --collapse to draw each layer as one box, or "
            if err.layers and not collapse else "")
    reason = getattr(err, "reason", "nodes")
    if reason == "time":  # dot was stopped at its time limit
        return (f"Graphviz's dot did not finish the layout in time and was stopped; "
                f"{fold or 'try --collapse, '}or see the graph as text: tinygrad-sine step, "
                "then tree")
    if reason == "layout":  # few nodes, but long edges: the layout would take minutes
        return (f"the graph's layout is too large for dot ({err.nodes} boxes, but long "
                f"edges); {fold}raise --max-nodes to try anyway")
    return (f"the graph has {err.nodes} nodes to draw, more than --max-nodes "
            f"{err.max_nodes}; {fold}raise --max-nodes")


def cmd_explore(args) -> int:
    from viz.explore import explore
    from viz.graph import GraphTooLarge, GraphvizNotFound

    if args.out.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--out must name an .html file (the page), got {str(args.out)!r}")
    _check_writable_folder(args.out.parent, "--out")
    try:
        with np.errstate(all="ignore"):  # huge weights: the page shows nan/inf, no warnings
            stepper, about = _seed_stepper(args)
            explore(stepper, args.out, start=0, collapse=args.collapse, rankdir=args.rankdir,
                    max_nodes=args.max_nodes, title=f"One training step of {about}")
    except GraphvizNotFound as err:
        raise UsageError(str(err)) from None
    except GraphTooLarge as err:
        raise UsageError(_too_large(err, args.collapse)) from None
    print(f"Wrote {args.out}: one training step of {about}, to step through in a browser "
          "(open it; ← / → move)")
    return 0


def cmd_step(args) -> int:
    from .repl import prompt

    if sys.stdin is None or sys.stdin.closed:  # e.g. tinygrad-sine step <&-
        raise UsageError("step reads its commands from standard input, which is closed; run "
                         "it at a terminal or pipe commands in, e.g. echo n | tinygrad-sine step")
    with np.errstate(all="ignore"):  # huge weights: the steps show nan/inf, no warnings
        stepper, about = _seed_stepper(args)
        counts = {phase: sum(st.phase == phase for st in stepper)
                  for phase in ("forward", "backward", "update")}
        print(f"Stepping through one training step of {about}")
        print(f"{len(stepper)} steps: {counts['forward']} forward, {counts['backward']} "
              f"backward, then {counts['update']} updates (η = {args.eta}). Type n for the next "
              "step, help for the commands, q to quit.")
        return prompt(stepper)


class _Stopped(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every ``finally`` runs and no temp file stays."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _stop(signum, _frame):
    raise _Stopped(signum)


def main(argv=None) -> int:
    """Run the command line; return the exit status.

    SIGTERM is handled as Ctrl-C is (files being written are left whole or
    untouched, exit status 128 + the signal number); a closed pipe on
    standard output (``tinygrad-sine check | head -1``) ends quietly, as
    other Unix tools do, with status 141 (128 + SIGPIPE).
    """
    args = build_parser().parse_args(argv)
    handle_term = _is_main_thread()  # Python only sets signal handlers in the main thread
    previous = signal.signal(signal.SIGTERM, _stop) if handle_term else None
    try:
        status = args.run(args)
        sys.stdout.flush()  # a closed pipe shows up here, not at interpreter exit
        return status
    except BrokenPipeError:
        _quiet_stdout()
        return 128 + 13
    except (UsageError, ValueError, TypeError, OSError) as err:
        print(f"tinygrad-sine {args.command}: error: {err}", file=sys.stderr)
        return 2
    except _Stopped as stop:
        print("tinygrad-sine: stopped", file=sys.stderr)
        return 128 + stop.signum
    except KeyboardInterrupt:
        print("tinygrad-sine: interrupted", file=sys.stderr)
        return 130
    finally:
        if handle_term:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _is_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _quiet_stdout() -> None:
    """After a broken pipe: point standard output at /dev/null, so that Python's own
    flush at exit finds nowhere to fail (no "Exception ignored" message)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is not a real file (e.g. captured in a test)
        pass


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
