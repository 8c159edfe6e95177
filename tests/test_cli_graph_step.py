"""`tinygrad-sine step` and `tinygrad-sine graph` (train's graph.svg: test_cli_train_check.py),
run as a user runs them.

They run through ``cli_here`` (``cli.main`` in this process: the same code,
without a new Python each time), ``step`` reading its commands as from a pipe.
``step`` as a process of its own: test_cli_faults.py (input closed) and
test_repl_terminal.py (at a terminal); the README's piped transcripts run in a
shell (test_transcripts.py).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from helpers import cli_here, run

from tinygrad_sine.compare import FORMULAS
from tinygrad_sine.nn import SineNet
from tinygrad_sine.sine import sine_data


def svg_text(path) -> str:
    root = ET.parse(path).getroot()  # fails unless the SVG is valid XML
    return " ".join("".join(t.itertext()) for t in root.iter() if t.tag.endswith("}text"))


def one_line_error(result) -> None:
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_step_driven_through_a_pipe_prints_the_steps_and_formulas():
    result = cli_here("step", "--seed", "0", "--sample", "10",
                      stdin="n\nn\ngoto u1\nformulas\ngoto E\ngoto E\nq\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    x, t = sine_data()
    net = SineNet(seed=0)
    # The walk starts with the input, then the first weights (as the forward pass uses them).
    assert re.search(rf"step 0 · forward · x: input \(1, 1\)\n  value  \[\[{x[10]:.4g}\]\]", out)
    assert "step 1 · forward · w1: parameter (1, 3)" in out
    w1 = ", ".join(f"{v:.4g}" for v in net.layers[0].w.data[0])
    assert f"value  [[{w1}]]" in out
    assert "forward · u1 = add(matmul#1, b1)" in out and "operation  u1 = matmul#1 + b1" in out
    assert f"t = {t[10]:.4f}" in out
    for formula in FORMULAS.values():  # the formulas table
        assert formula in out
    diffs = re.findall(r"\s(\d\.\de[+-]\d\d)$", out, flags=re.M)
    assert len(diffs) == 8 and all(float(d) < 1e-12 for d in diffs)
    assert "backward · E = squared_error(y2, t)" in out and "∂E = 1" in out
    assert "∂y2 = ∂E · (y2 − t)" in out  # the seed's output-layer derivative, y − t


def test_step_says_an_unknown_command_in_one_line_and_goes_on():
    result = cli_here("step", stdin="bogus\nn\nhelp\n")  # and ends at end of input, without q
    assert result.returncode == 0 and result.stderr == ""
    said = result.stdout.split("> bogus\n")[1].split("\n")
    assert said[0] == "unknown command 'bogus': type help for the commands"
    assert said[1] == "> n"  # one line, not the whole help
    assert "step 0 · forward" in result.stdout.split("unknown command")[1]
    assert "goto LABEL|N" in result.stdout.split("> help")[1]  # help still lists them


def test_an_arrow_key_without_line_editing_is_named_in_one_line():
    result = cli_here("step", stdin="\x1b[A\nn\n")  # what ↑ sends where nothing edits the line
    said = result.stdout.split("> \x1b[A\n")[1].split("\n")
    assert said[0].startswith("that was an arrow or another special key")
    assert "type n for the next step, p for the one before" in said[0]
    assert said[1] == "> n" and "unknown command" not in result.stdout


def test_step_reports_mistakes_at_the_prompt_in_one_line():
    result = cli_here("step", stdin="goto nowhere\nshow out.txt\n")
    assert result.returncode == 0
    assert "error: Stepper.goto: no node is called 'nowhere'" in result.stdout
    assert "error: render_graph: cannot write 'out.txt'" in result.stdout


def test_step_with_two_middle_layers_walks_every_node():
    result = cli_here("step", "--n-mid", "4,2", stdin="l\n")
    listed = re.findall(r"^  \[\s*(\d+)\] (forward|backward)", result.stdout, flags=re.M)
    # 3 layers × 5 nodes (w, b, matmul, u, y), then x, t and E = 18 nodes
    assert len(listed) == 2 * 18 and [int(i) for i, _ in listed] == list(range(36))


def test_step_show_writes_a_diagram(tmp_path, require_dot):
    result = cli_here("step", stdin=f"goto u2\ngoto u2\nshow {tmp_path / 's.svg'}\n")
    assert result.returncode == 0, result.stderr
    assert "u2" in svg_text(tmp_path / "s.svg")


def test_graph_writes_an_svg_with_the_seed_formulas(tmp_path, require_dot):
    out = tmp_path / "graph.svg"
    result = cli_here("graph", "--seed", "1", "--sample", "5", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout
    text = svg_text(out)
    assert all(f in text for f in FORMULAS.values())
    assert "One training step of SineNet(1-3-1)" in text


def test_graph_collapse_and_no_grad(tmp_path, require_dot):
    out = tmp_path / "g.svg"
    assert cli_here("graph", "--collapse", "--no-grad", "--out", str(out)).returncode == 0
    text = svg_text(out)
    assert "layer 1 · middle" in text and "layer 2 · output" in text
    assert "grad " not in text and "data " in text


def test_graph_bad_input_exits_2_with_one_line(tmp_path):
    one_line_error(cli_here("graph", "--sample", "99", "--out", str(tmp_path / "g.svg")))
    one_line_error(cli_here("graph", "--out", str(tmp_path / "g.txt")))
    one_line_error(cli_here("graph", "--n-mid", "0"))
    one_line_error(cli_here("step", "--seed", "x"))


def test_graph_too_large_exits_2_naming_the_cli_options_and_collapse_draws_it(
        tmp_path, require_dot):
    result = cli_here("graph", "--n-mid", "3,3", "--max-nodes", "10", "--out", str(tmp_path / "g.svg"))
    assert result.returncode == 2
    one_line_error(result)
    assert "more than --max-nodes 10" in result.stderr and "add --collapse" in result.stderr
    assert "max_nodes=" not in result.stderr  # CLI words, not Python's
    result = cli_here("graph", "--n-mid", "3,3", "--max-nodes", "10", "--collapse",
                      "--out", str(tmp_path / "g.svg"))
    assert result.returncode == 0, result.stderr
    ET.parse(tmp_path / "g.svg")


def test_graph_without_dot_exits_2_with_the_install_hint(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` there
    result = cli_here("graph", "--out", str(tmp_path / "g.svg"))
    one_line_error(result)
    assert "apt-get install graphviz" in result.stderr
    ok = cli_here("graph", "--out", str(tmp_path / "g.dot"))
    assert ok.returncode == 0 and (tmp_path / "g.dot").read_text().startswith("digraph")


def test_train_without_dot_keeps_the_dot_source_and_still_succeeds(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = cli_here("train", "--epochs", "2", "--interval", "1", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "graph.svg skipped" in result.stdout and "apt-get install graphviz" in result.stdout
    assert (tmp_path / "graph.dot").read_text(encoding="utf-8").startswith("digraph")


@pytest.mark.parametrize("seed", ["0", "3"])
def test_step_through_example_walks_every_step_and_matches_backward(seed):
    result = run(["examples/step_through.py", seed])
    assert result.returncode == 0, result.stderr
    total = int(re.match(r"(\d+) steps", result.stdout).group(1))
    shown = [int(i) for i in re.findall(r"^step (\d+) · ", result.stdout, flags=re.M)]
    assert shown == list(range(total))
    worst = float(re.search(r"largest difference (\S+)", result.stdout).group(1))
    assert worst <= 1e-12


def test_draw_graph_example_writes_both_drawings(tmp_path, require_dot):
    result = run(["examples/draw_graph.py", str(tmp_path)])
    assert result.returncode == 0, result.stderr
    expression = svg_text(tmp_path / "expression.svg")
    assert all(re.search(rf"(^| ){n}( |$)", expression) for n in ("x1", "w1", "b", "n", "o"))
    # micrograd's neuron: o = tanh(x1 w1 + x2 w2 + b), do/dx1 = w1 (1 − o²)
    o = np.tanh(2.0 * -3.0 + 0.0 * 1.0 + 6.8813735870195432)
    assert f"data {o:.4g}" in expression and f"grad {-3.0 * (1 - o * o):.4g}" in expression
    seed = svg_text(tmp_path / "seed_step.svg")
    assert all(f in seed for f in FORMULAS.values())
    assert "layer 2 · output" in svg_text(tmp_path / "seed_step_collapsed.svg")


def test_the_piped_transcript_in_docs_graphs_md_is_what_step_prints():
    from helpers import ROOT

    doc = (ROOT / "docs" / "graphs.md").read_text(encoding="utf-8")
    found = re.search(r"^\$ printf '(.*?)' \| tinygrad-sine step\n(.*?)^```", doc, re.M | re.S)
    commands, shown = found.group(1).replace("\\n", "\n"), found.group(2)
    result = cli_here("step", stdin=commands)
    assert result.returncode == 0 and result.stdout == shown
