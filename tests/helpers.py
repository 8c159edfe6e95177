"""Shared helpers for the tests: run the CLI and the examples as a user would."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
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
