"""`tinygrad-sine train` and `tinygrad-sine check`, run as a user runs them.

The runs of ``train`` go through ``cli_here`` (``cli.main`` in this process, the
same code without a second of imports each); the process itself, its exit
status and its one line on stderr, is checked through ``cli`` below and in
test_cli_faults.py, test_files.py and test_install.py.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree

import numpy as np
import pytest
from helpers import cli, cli_here

from tinygrad_sine.nn import SineNet
from tinygrad_sine.sine import train


@pytest.fixture(scope="module")
def seed3(tmp_path_factory):
    """``train --epochs 45 --interval 20 --seed 3``: what it printed, and its --out folder.

    45 epochs, printed every 20: the last one (44) is not among the printed ones.
    """
    out = tmp_path_factory.mktemp("train")
    result = cli_here("train", "--epochs", "45", "--interval", "20", "--seed", "3", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return result, out


def test_train_prints_the_seeds_progress_lines_and_writes_figures(seed3):
    result, out = seed3
    lines = re.findall(r"^Epoch:(\d+)/45 Error:([0-9.e-]+)$", result.stdout, flags=re.M)
    assert [int(e) for e, _ in lines] == [0, 20, 40]
    # The printed errors are the library's errors for the same settings.
    expected = train(SineNet(seed=3), epochs=45, interval=20, seed=3).errors
    np.testing.assert_allclose([float(v) for _, v in lines], expected, rtol=1e-12)
    for name in ("snapshots.png", "snapshots.svg", "error.png", "error.svg"):
        assert (out / name).stat().st_size > 1000
        assert name in result.stdout
    for name in ("snapshots.png", "error.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name in ("snapshots.svg", "error.svg"):  # valid XML, an SVG document
        root = ElementTree.parse(out / name).getroot()
        assert root.tag.endswith("svg")


def test_the_summary_says_when_the_last_epoch_was_not_recorded(seed3):
    assert "at epoch 40 (recorded every 20 epochs; training ran to epoch 44)" in seed3[0].stdout


def test_train_also_writes_the_graph_of_one_step(seed3, require_dot):
    result, out = seed3
    assert f"written: {out / 'graph.svg'}" in result.stdout
    root = ElementTree.parse(out / "graph.svg").getroot()  # valid XML
    text = " ".join("".join(t.itertext()) for t in root.iter() if t.tag.endswith("}text"))
    assert "δ_k = y_k − t_k" in text


def test_train_manual_engine_prints_the_errors_of_the_automatic_gradient(tmp_path):
    result = cli_here("train", "--epochs", "21", "--interval", "10", "--engine", "manual",
                      "--out", str(tmp_path))
    printed = re.findall(r"^Epoch:\S+ Error:(\S+)$", result.stdout, flags=re.M)
    assert len(printed) == 3 and "engine manual" in result.stdout
    automatic = train(SineNet(seed=0), epochs=21, interval=10, seed=0, engine="eager").errors
    np.testing.assert_allclose(np.array(printed, float), automatic, rtol=0, atol=1e-9)


def test_check_prints_the_table_and_exits_zero():
    result = cli_here("check", "--seed", "4", "--n-mid", "5,4")
    assert result.returncode == 0, result.stderr
    for formula in ("δ_k = y_k − t_k", "∂w_jk = y_j δ_k", "δ_j = ∂y_j (1 − y_j) y_j",
                    "∂y_i = Σ_q δ_q w_iq"):
        assert formula in result.stdout
    assert "OK: all 12 quantities agree" in result.stdout


def test_check_fails_when_an_op_derivative_is_wrong(monkeypatch, capsys):
    from tinygrad_sine import cli as cli_module
    from tinygrad_sine import ops

    monkeypatch.setattr(ops.Sigmoid, "backward", staticmethod(lambda g, y, u: (g * y,)))
    assert cli_module.main(["check", "--seed", "1"]) == 1
    out = capsys.readouterr().out
    assert "FAIL: manual and automatic differ by up to" in out


def test_check_fails_on_gradients_that_are_not_finite():
    result = cli("check", "--wb-width", "1e300")  # exp overflows: every gradient is nan
    assert result.returncode == 1
    assert "FAIL: some gradients are not finite" in result.stdout and "OK" not in result.stdout
    assert "Warning" not in result.stderr


def test_a_diverging_run_stops_with_one_line_and_exit_2(tmp_path):
    result = cli_here("train", "--epochs", "3", "--eta", "1e300", "--out", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "training diverged: epoch 0, sample " in result.stderr
    assert "overflowed at y2 = " in result.stderr and "; lower --eta" in result.stderr


def test_train_on_a_deep_net_draws_one_box_per_layer(tmp_path, require_dot):
    deep = ",".join(["2"] * 100)  # about 500 value nodes: over draw_graph's limit
    result = cli_here("train", "--epochs", "1", "--n-mid", deep, "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "trained weights, one box per layer) written" in result.stdout
    text = (tmp_path / "graph.svg").read_text(encoding="utf-8")
    assert "layer 101 · output" in text and "layer 100 · middle" in text


@pytest.mark.parametrize("args, needle", [
    (["train", "--eta", "fast"], "--eta"),
    (["train", "--eta", "0"], "--eta"),
    (["train", "--out", ""], "--out: expected a path, got an empty one"),
    (["graph", "--max-nodes", "0"], "--max-nodes"),
    (["train", "--eta", "-0.1"], "--eta"),
    (["train", "--epochs", "0"], "--epochs"),
    (["train", "--n-mid", "3,x"], "--n-mid"),
    (["check", "--sample", "63"], "--sample: expected a whole number from 0 to 62, got '63'"),
    (["graph", "--sample", "1.5"], "--sample: expected a whole number from 0 to 62"),
    (["check", "--seed", "-1"], "--seed"),
    (["train", "--batch-size", "64"], "more than the 63 samples"),
    (["train", "--epochs", "1", "--out", "/proc/no/such/dir"], "No such file"),
    (["launch"], "invalid choice"),
])
def test_bad_input_exits_2_with_one_line_and_no_traceback(args, needle):
    result = cli_here(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert needle in result.stderr


@pytest.mark.parametrize("args", [["train", "--eta", "fast"], ["train", "--eta", "-0.1"],
                                  ["launch"]])
def test_the_command_itself_exits_2_with_one_line_on_bad_input(args):
    result = cli(*args)  # a real process: its exit status and all it writes to stderr
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""


@pytest.mark.parametrize("command", ["train", "check", "graph", "step"])
def test_every_command_has_help(command):
    result = cli_here(command, "--help")
    assert result.returncode == 0 and "usage:" in result.stdout and "--seed" in result.stdout
