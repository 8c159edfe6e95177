"""Shared helpers for the tests: run the CLI and the examples as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
