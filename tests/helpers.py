"""Shared helpers for the tests: run the CLI and the examples as a user would."""

from __future__ import annotations

import importlib
import io
import os
import subprocess
import sys
import warnings
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def missing(message: str):
    """A test-only dependency is missing: skip, but fail when CI=true (CI installs them all).

    On a developer's machine a missing extra should not turn the suite red;
    in CI a missing one is a broken set-up, so it must not hide as a skip.
    """
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}, and CI=true requires it")
    pytest.skip(message)


def need(module: str):
    """Import a test-only Python package, or ``missing(...)`` naming it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        missing(f"{module} is not installed (pip install -e '.[test]')")


def run(args: list[str], stdin: str | None = None, cwd=None, timeout: int = 300):
    """Run ``python <args>`` with the repository importable; return the CompletedProcess."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("MPLBACKEND", "Agg")
    return subprocess.run(
        [sys.executable, *args], input=stdin, capture_output=True, text=True,
        cwd=cwd or ROOT, env=env, timeout=timeout,
    )


def cli(*args: str, stdin: str | None = None, cwd=None):
    """Run ``tinygrad-sine ARGS`` (as ``python -m tinygrad_sine``)."""
    return run(["-m", "tinygrad_sine", *args], stdin=stdin, cwd=cwd)


def cli_here(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run ``tinygrad-sine ARGS`` in this process: ``cli.main`` with its output captured.

    The command is exactly this call (``python -m tinygrad_sine`` only calls
    ``main()``), but a new Python would first spend up to a second importing
    numpy and matplotlib.  ``stdin`` is read as a pipe would be (not a
    terminal).  Warnings are written to the captured standard error as a
    fresh Python would write them, so a test can still see a stray numpy
    warning.  Returns what :func:`cli` returns.  Tests of the process itself
    (the entry point, signals, a closed pipe, the installed wheel) use
    :func:`cli`.
    """
    from tinygrad_sine.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved_stdin, sys.stdin = sys.stdin, io.StringIO(stdin or "")

    def show(message, category, filename, lineno, file=None, line=None):
        err.write(warnings.formatwarning(message, category, filename, lineno, line))

    with redirect_stdout(out), redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = show
        try:
            code = main(list(args))
        except SystemExit as stop:  # argparse: --help (0) or a usage error (2)
            code = stop.code if isinstance(stop.code, int) else 1
        finally:
            sys.stdin = saved_stdin
    return subprocess.CompletedProcess(["tinygrad-sine", *args], code, out.getvalue(), err.getvalue())


def fake_dot(folder: Path, monkeypatch, script: str) -> Path:
    """Put a ``dot`` program that runs the shell ``script`` first on PATH; return its folder.

    Tests of how the project runs Graphviz (a failing ``dot``, a made-up
    output, a slow one) use it: the code under test finds and runs it as it
    would the real one.
    """
    bindir = folder / "fake-bin"
    bindir.mkdir(parents=True, exist_ok=True)
    program = bindir / "dot"
    program.write_text("#!/bin/sh\n" + script + "\n")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    return bindir
