"""The command line under faults and odd input: one line on stderr and exit 2, never a traceback;
a closed pipe ends quietly; train checks its --out folder before it trains."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from helpers import ROOT, cli, cli_here

HUGE = "1" * 40  # far past any int64


def one_line_error(result, needle: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert needle in result.stderr, result.stderr


@pytest.mark.parametrize("args, needle", [
    (["train", "--n-mid", "99999999999"], "--n-mid"),
    (["check", "--n-mid", "30000,30000"], "--n-mid"),
    (["train", "--epochs", HUGE], "--epochs"),
    (["train", "--interval", HUGE], "--interval"),
    (["train", "--seed", HUGE], "--seed"),
    (["check", "--seed", "4294967296"], "--seed"),
])
def test_sizes_and_counts_out_of_range_name_the_option(args, needle):
    one_line_error(cli_here(*args), needle)


def test_an_out_path_through_a_file_says_it_is_a_file_not_a_folder(tmp_path):
    (tmp_path / "afile").write_text("not a folder")
    one_line_error(cli("graph", "--out", str(tmp_path / "afile" / "x.svg")),
                   "afile' is a file, not a folder")
    (tmp_path / "graph.svg").write_text("<svg/>")
    one_line_error(cli_here("train", "--epochs", "1", "--out", str(tmp_path / "graph.svg")),
                   "graph.svg' is a file, not a folder")


def test_train_checks_that_it_can_write_into_out_before_training():
    result = cli_here("train", "--epochs", "5", "--out", "/sys")  # a folder nobody may write into
    one_line_error(result, "--out: cannot write into '/sys'")
    assert "Epoch" not in result.stdout  # refused before any training


def test_explore_checks_that_it_can_write_into_the_out_folder_first():
    result = cli("explore", "--out", "/proc/e.html")  # a folder nobody may write into
    one_line_error(result, "--out: cannot write into '/proc'")
    assert ".tmp" not in result.stderr  # never the temporary file's name


def test_step_with_standard_input_closed_exits_2_with_one_line():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "tinygrad_sine", "step"], env=env,
                            capture_output=True, text=True, timeout=60,
                            preexec_fn=lambda: os.close(0))  # as `tinygrad-sine step <&-`
    one_line_error(result, "standard input, which is closed")


def test_a_closed_pipe_on_stdout_ends_quietly():
    read_end, write_end = os.pipe()
    os.close(read_end)  # as `tinygrad-sine check | head -0`: nobody reads
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    try:
        result = subprocess.run([sys.executable, "-m", "tinygrad_sine", "check"], env=env,
                                stdout=write_end, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(write_end)
    assert result.stderr == b""  # no traceback, no "Exception ignored …" at exit
    assert result.returncode == 128 + 13  # as a Unix tool stopped by SIGPIPE reports


def test_the_step_prompt_answers_a_10000_digit_count_in_one_line():
    digits = "9" * 10_000
    result = cli_here("step", stdin=f"n {digits}\ngoto {digits}\nq\n")
    assert result.returncode == 0, result.stderr
    errors = [line for line in result.stdout.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and all(len(line) < 120 for line in errors), errors
    assert "the step count must be a whole number from 1 to 29" in errors[0]  # 30 steps
    assert "does not exist; the steps are 0–29" in errors[1]


@pytest.mark.parametrize("command, width", [("graph", "2000"), ("step", "2000"),
                                            ("graph", "1e200"), ("explore", "1e200")])
def test_a_saturated_sigmoid_prints_no_numpy_warnings(tmp_path, command, width):
    # What `train --n-mid 100000` does after training, drawing one step at trained weights
    # (sigmoid(u) at u < −709, in the engine and in the manual formulas), made cheap: wide
    # weights.  graph and step build that same step; train's run is the slow part.
    # At --wb-width 1e200 the numbers overflow to inf and nan: still no warning.
    out = {"graph": "g.dot", "explore": "e.html"}
    extra = ["--out", str(tmp_path / out[command])] if command in out else []
    result = cli(command, "--wb-width", width, *extra, stdin="q\n")
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr
