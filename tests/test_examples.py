"""The examples are programs a learner runs; run them (with few epochs)."""

from __future__ import annotations

import re

from helpers import run


def test_quickstart_prints_matching_hand_and_engine_gradients():
    result = run(["examples/quickstart.py"])
    assert result.returncode == 0, result.stderr
    pairs = re.findall(r"= (-?\d\.\d+)\s+engine: (-?\d\.\d+)", result.stdout)
    assert len(pairs) == 2 and all(a == b for a, b in pairs)


def test_reproduce_post_runs_end_to_end(tmp_path):
    result = run(["examples/reproduce_post.py", "3", str(tmp_path)])  # 2001 by default
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Epoch:0/3 Error:0.")
    for name in ("snapshots.png", "snapshots.svg", "error.png", "error.svg"):
        assert f"wrote {tmp_path / name}" in result.stdout and (tmp_path / name).exists()


def test_compare_table_example_prints_every_formula_agreeing():
    result = run(["examples/compare_table.py", "2"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("=") >= 8
    worst = float(re.search(r"largest difference: (\S+)", result.stdout).group(1))
    assert worst <= 1e-12
