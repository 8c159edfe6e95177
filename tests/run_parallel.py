"""Run the whole suite in a few pytest processes at once (`bash dev.sh test` does).

    python tests/run_parallel.py [-n N] [pytest arguments]

Why: one pytest process keeps one core busy at a time (its own tests, then
the CLI runs, Chromium or kernels it waits for), and this machine has two.  N processes
(default: one per core, at most 4) each collect the whole suite, then share it
out one test *file* at a time: a process claims the next file nobody has
claimed yet (an ``O_EXCL`` file in a shared folder) and runs all of its tests
in order, so module fixtures and the order inside a file stay as in a plain
``pytest`` run.  Files known to be slow are offered first, so the processes
finish together; a stale list only costs balance, never a test.

Each process writes its own report into a log; at the end each log is shown
(without the rows of progress dots) and one line adds them up, e.g.
``run_parallel: 1812 passed, 26 skipped in 52.1s (2 processes)``.  The tests'
temporary folders (``tmp_path``) are removed after a green run and kept, with
their place printed, after a red one.  The exit status is pytest's: 0 only when
every process passed.  (Each process collects every file, so a file that
cannot be imported is reported once per process.)

The suite starts many Pythons (each CLI run in a process of its own, the
examples, a kernel, the wheel's venv); each would compile the package's and the
tests' modules afresh where ``PYTHONDONTWRITEBYTECODE`` is set, as in many
containers (this machine's too).  So the test processes let Python cache them,
as it does by default, in ``__pycache__`` folders that git ignores.

This file is also the pytest plugin the processes load (``pytest_runtestloop``
below); it does nothing in a plain ``pytest`` run.  No dependency beyond pytest.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLAIMS = "TINYGRAD_SINE_CLAIMS"  # the environment variable naming the shared folder

# Offered first (slowest first, roughly as measured); every other file follows in
# collection order.  Only the balance between the processes depends on this list.
# A tuple is claimed as one: the browser tests then share one Chromium.
SLOW_FIRST = (
    ("tests/test_explore_browser.py", "tests/test_learn_browser.py"),
    "tests/test_install.py",
    "tests/test_cli_train_check.py",
    "tests/test_animate.py",
    "tests/test_tutorial.py",
    "tests/test_examples.py",
    "tests/test_describe.py",
    "tests/test_files.py",
    "tests/test_transcripts.py",
    "tests/test_jupyter.py",
    "tests/test_autograd.py",
    "tests/test_learn.py",
    "tests/test_sine_net.py",
    "tests/test_cli_faults.py",
    "tests/test_numpy_rules.py",
    "tests/test_compile.py",
    "tests/test_diagram_limits.py",
    "tests/test_cli_graph_step.py",
)


# --- the plugin: runs inside each pytest process --------------------------------------

def _claim(folder: Path, name: str) -> bool:
    """True for the one process that creates ``folder/name`` first."""
    try:
        os.close(os.open(folder / name.replace("/", "__"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        return False


def pytest_runtestloop(session):
    """Run the tests of each file this process claims; leave the others to the rest.

    The same loop as pytest's own, except for which items run.  An item's
    ``nextitem`` must be known before it runs (pytest tears fixtures down
    against it), so the next file is claimed just before the last test of the
    current one.
    """
    folder = os.environ.get(CLAIMS)
    if not folder or session.config.option.collectonly:
        return None  # pytest's own loop
    if session.testsfailed and not session.config.option.continue_on_collection_errors:
        return None  # pytest's own loop reports the collection errors
    folder = Path(folder)
    files: dict[str, list] = {}
    for item in session.items:
        files.setdefault(item.nodeid.split("::")[0], []).append(item)
    units = [unit if isinstance(unit, tuple) else (unit,) for unit in SLOW_FIRST]
    listed = {name for unit in units for name in unit}
    units += [(name,) for name in files if name not in listed]
    order = [[name for name in unit if name in files] for unit in units]
    order = [unit for unit in order if unit]
    done = open(folder / "done", "ab", buffering=0)

    def next_file():  # the tests of the next unit nobody has claimed, or None
        while order:
            unit = order.pop(0)
            if _claim(folder, unit[0]):
                return [item for name in unit for item in files[name]]
        return None

    with done:
        current = next_file()
        while current:
            following = None
            for i, item in enumerate(current):
                if i + 1 < len(current):
                    nextitem = current[i + 1]
                else:
                    following = next_file()
                    nextitem = following[0] if following else None
                item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
                done.write(b".")  # one byte per test: the runner's progress count
                if session.shouldfail:
                    raise session.Failed(session.shouldfail)
                if session.shouldstop:
                    raise session.Interrupted(session.shouldstop)
            current = following
    return True


def pytest_collection_finish(session):
    folder = os.environ.get(CLAIMS)
    if folder:
        (Path(folder) / "total").write_text(str(len(session.items)))


# --- the runner ---------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
COUNT = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed|deselected|warnings?)")
DOTS = re.compile(r"^[.sxXFE]+\s*$")


def _progress(folder: Path, started: float, at_terminal: bool, last: list) -> None:
    try:
        done = (folder / "done").stat().st_size
        total = (folder / "total").read_text()
    except (OSError, ValueError):
        return
    line = f"run_parallel: {done}/{total} tests, {time.monotonic() - started:.0f} s"
    if at_terminal:
        print("\r" + line, end="", flush=True)
    elif time.monotonic() - last[0] >= 15:  # a log file gets a line now and then
        print(line, flush=True)
        last[0] = time.monotonic()


def main(argv: list[str]) -> int:
    workers = min(os.cpu_count() or 2, 4)
    if argv[:1] == ["-n"] and len(argv) > 1 and argv[1].isdigit():
        workers, argv = max(1, int(argv[1])), argv[2:]
    scratch = Path(tempfile.mkdtemp(prefix="tinygrad-sine-tests-"))
    claims = scratch / "claims"
    claims.mkdir()
    env = dict(os.environ, **{CLAIMS: str(claims)})
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # see the docstring
    print(f"run_parallel: the suite in {workers} pytest processes, sharing it out file by file",
          flush=True)
    started = time.monotonic()
    procs, logs = [], []
    for k in range(workers):
        log = open(scratch / f"worker{k}.log", "w+")
        cmd = [sys.executable, __file__, "--worker", "-q", "-p", "no:cacheprovider",
               "-o", "console_output_style=classic", f"--basetemp={scratch / f'tmp{k}'}", *argv]
        procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log,
                                      stderr=subprocess.STDOUT))
        logs.append(log)
    at_terminal, last = sys.stdout.isatty(), [started]
    try:
        while any(p.poll() is None for p in procs):
            _progress(claims, started, at_terminal, last)
            time.sleep(0.5)
    except KeyboardInterrupt:  # the processes got the Ctrl-C too: let them report
        for p in procs:
            p.wait()
    if at_terminal:
        print()
    codes = [p.returncode for p in procs]
    totals: dict[str, int] = {}
    for k, log in enumerate(logs):
        log.seek(0)
        text = [line for line in log.read().splitlines() if not DOTS.match(line)]
        log.close()
        print(f"---- process {k + 1} of {workers} (exit {codes[k]}) ----")
        print("\n".join(text))
        for number, word in COUNT.findall(text[-1] if text else ""):
            word = {"error": "errors", "warning": "warnings"}.get(word, word)
            totals[word] = totals.get(word, 0) + int(number)
    if all(code == 0 for code in codes):
        shutil.rmtree(scratch, ignore_errors=True)
    else:  # what the failing tests wrote (tmp_path: pages, screenshots) stays for a look
        print(f"run_parallel: the tests' temporary folders are kept in {scratch}")
    order = ("failed", "errors", "passed", "skipped", "xfailed", "xpassed", "deselected", "warnings")
    summary = ", ".join(f"{totals[w]} {w}" for w in order if w in totals) or "no tests ran"
    print(f"run_parallel: {summary} in {time.monotonic() - started:.1f}s ({workers} processes)")
    if all(code == 0 for code in codes):
        return 0
    failing = [code for code in codes if code != 0]
    if all(code == 5 for code in failing) and len(failing) == len(codes):
        return 5  # nothing was collected
    return next((code for code in failing if code != 5), 1)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        import pytest

        sys.path.insert(1, os.getcwd())  # as `python -m pytest` would
        sys.exit(pytest.main(sys.argv[2:], plugins=[sys.modules[__name__]]))
    sys.exit(main(sys.argv[1:]))
