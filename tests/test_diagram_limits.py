"""A diagram never hangs: dot's work is estimated and bounded, and a slow dot is stopped.

Graphs that share a node far apart (one weight in every step of an unrolled
loop, one leaf used many times) made Graphviz's layout take minutes far below
max_nodes.  viz/dot.py estimates the layout, caps dot's effort, and runs dot
with a time limit; these tests pin each of those.
"""

from __future__ import annotations

import os
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable

import numpy as np
import pytest
from helpers import fake_dot

from tinygrad_sine import Stepper, Value
from tinygrad_sine.cli import main
from viz import GraphTooLarge, draw_graph, explore, render_graph
from viz import dot as dot_module
from viz.dot import DiagramTooSlow, layout_size


def recurrence(steps: int) -> Value:
    """An unrolled h = tanh(w·h + u·x[t]): w and u are used by every step."""
    w, u = Value(0.5, label="w"), Value(0.3, label="u")
    x = Value(np.linspace(-1.0, 1.0, steps), label="x")
    h = Value(0.0, label="h0")
    for t in range(steps):
        h = (w * h + u * x[t]).tanh()
    return h


def leaf_used(times: int) -> Value:
    """s = a + 0·a + 1·a + … : the leaf a is used 2·times + 1 times, at every depth."""
    a = Value(0.5, label="a")
    s = a
    for i in range(times):
        s = s + a * i
    return s


def live_processes(match) -> list[int]:
    """Live processes (zombies aside) for which ``match(cmd, parent, group)`` holds: their
    command line, parent's id and process group's id, read from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, parent, group = fields[0], int(fields[1]), int(fields[2])
        if state != "Z" and match(cmd, parent, group):
            found.append(int(entry))
    return found


def no_process_left(match) -> bool:
    """True once no such process is alive (a killed process may take a moment to go)."""
    for _ in range(50):
        if not live_processes(match):
            return True
        time.sleep(0.1)
    return False


def slow_dot(tmp_path, monkeypatch) -> Callable[[], set]:
    """A fake dot that sleeps; returns a function giving the process groups it ran in.

    Each run writes its shell's ``$$`` to a file: dot is started in a session of its own,
    so that is its process group, and the sleep it started is in it too.
    """
    pids = tmp_path / "dot-pids"
    fake_dot(tmp_path, monkeypatch, f"echo $$ >> '{pids}'; sleep 317; echo '<svg/>'")
    return lambda: {int(line) for line in pids.read_text().split()} if pids.exists() else set()


def groups_gone(groups: set) -> bool:
    """True once nothing in these process groups is alive: this test's dots, not another
    run's."""
    return no_process_left(lambda cmd, parent, group: group in groups)


needs_proc = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads /proc to find processes left behind")


def test_layout_size_counts_the_pieces_of_long_edges():
    # a → b → c and a → c: ranks a 2, b 1, c 0; the pieces 1 + 1 + 2
    assert layout_size([("a", "b"), ("b", "c"), ("a", "c")], labelled=False) == 4
    # labels on edges make dot double every rank
    assert layout_size([("a", "b"), ("b", "c"), ("a", "c")], labelled=True) == 8
    # one node feeding a chain of n at every depth: its edges span 1, 2, …, n
    n = 30
    chain = [(f"c{i}", f"c{i + 1}") for i in range(n)]
    fan = [("w", f"c{i}") for i in range(1, n + 1)]
    assert layout_size(chain + fan, labelled=False) == n + n * (n + 1) // 2


def test_a_long_unrolled_loop_is_drawn_with_dot_s_effort_capped():
    small, big = draw_graph(recurrence(10)), draw_graph(recurrence(40))
    assert "nslimit" not in small.source and "[label=1]" in small.source  # drawn as always
    # 40 steps: dot's effort capped, and the inputs' numbers at the arrow heads (edge
    # labels would double the ranks)
    assert big.graph_attr["nslimit"] == "0.1" and "splines=line" in big.source
    assert "headlabel=1" in big.source and "[label=1]" not in big.source


@needs_proc
def test_an_unrolled_recurrence_of_40_steps_is_drawn_or_refused_and_no_dot_is_left(
        tmp_path, require_dot):
    h = recurrence(40)
    h.backward()
    try:
        path = render_graph(h, tmp_path / "h.svg", timeout=15)
        ET.parse(path)  # a whole SVG
    except GraphTooLarge as err:  # refusing is fine too, if it says what to do
        assert "collapse" in str(err) and "show(root)" in str(err)
    try:
        page = explore(h, timeout=15)
        assert "<svg" in page
    except GraphTooLarge as err:
        assert "show(root)" in str(err)
    assert no_process_left(lambda cmd, parent, group: "dot" in cmd and parent == os.getpid())


def test_a_leaf_used_150_times_is_refused_before_dot_runs_saying_what_to_do(
        tmp_path, monkeypatch):
    marker = tmp_path / "dot-ran"
    fake_dot(tmp_path, monkeypatch, f"touch {marker}; exit 1")
    root = leaf_used(150)  # 451 value nodes: under max_nodes, but every depth uses a
    for attempt in (lambda: draw_graph(root), lambda: render_graph(root, tmp_path / "a.svg"),
                    lambda: explore(root)):
        with pytest.raises(GraphTooLarge, match=r"long edges.*show\(root\).*max_nodes") as err:
            attempt()
        assert err.value.reason == "layout"
    assert not marker.exists()  # refused before dot was asked
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake-bin"]
    # raising max_nodes lets it through (dot's effort capped)
    assert draw_graph(root, max_nodes=2000).graph_attr["mclimit"] == "0.3"


@needs_proc
def test_a_dot_that_does_not_finish_is_stopped_with_its_children(tmp_path, monkeypatch):
    dot_groups = slow_dot(tmp_path, monkeypatch)
    a = Value(2.0, label="a")
    target = tmp_path / "out" / "a.svg"
    with pytest.raises(DiagramTooSlow, match=r"did not finish .* within 0.2 s.*show\(root\)"):
        render_graph(a * a, target, timeout=0.2)
    (first,) = dot_groups()  # dot ran once, in a group of its own
    assert first != os.getpgrp()
    assert groups_gone({first})  # the whole process group was killed, the sleep too
    assert not target.exists() and os.listdir(target.parent) == []
    # Jupyter's display of a diagram runs dot the same way
    with pytest.raises(DiagramTooSlow):
        draw_graph(a * a, timeout=0.2)._repr_mimebundle_()
    # a Stepper in Jupyter falls back to its text when the page's diagram takes too long
    monkeypatch.setattr(dot_module, "TIMEOUT", 0.2)
    assert Stepper(a * a)._repr_html_() is None
    assert len(dot_groups()) >= 3 and groups_gone(dot_groups())  # each call ran a dot


def test_the_cli_says_in_one_line_that_dot_was_stopped(tmp_path, monkeypatch, capsys):
    fake_dot(tmp_path, monkeypatch, "sleep 317; echo '<svg/>'")
    monkeypatch.setattr(dot_module, "TIMEOUT", 0.2)
    assert main(["graph", "--out", str(tmp_path / "g.svg")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did not finish" in err and "--collapse" in err
    assert not (tmp_path / "g.svg").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the memory cap is Linux's")
def test_dot_runs_with_its_memory_capped(tmp_path, monkeypatch):
    fake_dot(tmp_path, monkeypatch, "while read -r line; do :; done; ulimit -v")
    printed = dot_module.run_dot("digraph {}", "svg", "test")
    assert int(printed) * 1024 == dot_module.MEMORY


def test_the_cli_names_each_limit_in_its_own_words():
    from tinygrad_sine.cli import _too_large

    layout = GraphTooLarge("…", 451, 500, 0, "layout")
    assert "layout is too large" in _too_large(layout, False)
    assert "raise --max-nodes" in _too_large(layout, False)
    nodes = GraphTooLarge("…", 900, 500, 2, "nodes")
    assert "more than --max-nodes 500" in _too_large(nodes, False)
    assert "--collapse" in _too_large(nodes, False)
    slow = DiagramTooSlow("…", 0, 0, 0, "time")
    assert "did not finish" in _too_large(slow, True) and "tree" in _too_large(slow, True)
