"""tests/run_parallel.py, which `bash dev.sh test` (and so CI) runs the suite with: every test
runs exactly once, a module's fixtures are set up once, and a failure fails the whole run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

from helpers import ROOT

FILES = {
    "test_first.py": """
import os, pytest

def note(name):  # one line per test that ran, from whichever process ran it
    with open(os.environ["RAN"], "a") as log:
        log.write(f"{name} {os.getpid()}\\n")

@pytest.fixture(scope="module")
def shared():
    note("fixture")
    return 7

@pytest.mark.parametrize("k", range(4))
def test_a(shared, k):
    note(f"a{k}")
    assert shared == 7
""",
    "test_second.py": """
from test_first import note

def test_b():
    note("b")

def test_c_fails():
    note("c")
    assert 1 + 1 == 3, "the failing test's own message"
""",
    "test_third.py": """
import pytest
from test_first import note

@pytest.mark.parametrize("k", range(3))
def test_d(k):
    note(f"d{k}")

def test_e_skips():
    pytest.skip("a skip")
""",
    "conftest.py": "import sys, os\nsys.path.insert(0, os.path.dirname(__file__))\n",
    "pytest.ini": "[pytest]\n",
}


def test_every_test_runs_once_and_a_failure_fails_the_run(tmp_path):
    suite = tmp_path / "suite"
    suite.mkdir()
    for name, text in FILES.items():
        (suite / name).write_text(text)
    ran = tmp_path / "ran.txt"
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "run_parallel.py"), "-n", "2", str(suite)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "RAN": str(ran)})
    assert result.returncode == 1, result.stdout + result.stderr
    names = sorted(line.split()[0] for line in ran.read_text().splitlines())
    assert names == sorted(["fixture", "a0", "a1", "a2", "a3", "b", "c", "d0", "d1", "d2"])
    # a file runs whole in one process: its module fixture and its tests share a pid
    pids = {}
    for line in ran.read_text().splitlines():
        name, pid = line.split()
        pids.setdefault(name.rstrip("0123456789").replace("fixture", "a"), set()).add(pid)
    assert all(len(p) == 1 for p in pids.values()), pids
    out = result.stdout
    assert "the failing test's own message" in out  # the failure is shown, not only counted
    kept = re.search(r"^run_parallel: the tests' temporary folders are kept in (\S+)$", out, re.M)
    assert kept and os.path.isdir(kept.group(1))  # for a look at what the failing test wrote
    shutil.rmtree(kept.group(1))
    assert re.search(r"^run_parallel: 1 failed, 8 passed, 1 skipped in [\d.]+s \(2 processes\)$",
                     out, re.M), out
