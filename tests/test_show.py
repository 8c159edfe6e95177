"""show / show_text (a text tree of a graph) and describe (the words every view shares)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from tinygrad_sine import Value, show, show_text, topo_order
from tinygrad_sine.compare import seed_quantities
from tinygrad_sine.nn import SineNet, squared_error
from tinygrad_sine.notation import number
from tinygrad_sine.show import describe, preview


def seed_graph():
    net = SineNet(seed=0)
    loss = squared_error(net(Value([[0.4]], label="x")), Value([[0.9]], label="t"))
    return net, loss


def test_every_node_is_printed_in_full_once_and_repeats_point_back():
    a = Value(3.0, label="a")
    b = a * a
    b.label = "b"
    c = b + a
    c.label = "c"
    lines = show_text(c).splitlines()
    full = [line for line in lines if "↑" not in line]
    assert len(full) == len(topo_order(c))
    assert sum("↑" in line for line in lines) == 2  # a under b (second use) and a under c
    assert lines[0].startswith("c = add(b, a)")
    assert lines[1].startswith("├─ b = mul(a, a)") and lines[-1].startswith("└─ a ↑")


def test_lines_show_op_label_shape_data_and_grad():
    a = Value([[1.0, 2.0]], label="a")
    y = (a * a).sum()
    y.label = "y"
    before = show_text(y)
    assert "grad —" in before  # no backward yet
    y.backward()
    after = show_text(y)
    a_line = next(line for line in after.splitlines() if "─ a " in line)
    assert "(1, 2)" in a_line and "data [[1, 2]]" in a_line
    assert "grad [[2, 4]]" in a_line  # d/da Σ a² = 2a
    assert after.splitlines()[0].startswith("y = sum(mul#1)  root")  # defaults left out


def test_show_prints_the_same_text(capsys):
    _, loss = seed_graph()
    show(loss)
    assert capsys.readouterr().out == show_text(loss) + "\n"


def test_the_text_can_leave_out_data_and_grad():
    _, loss = seed_graph()
    text = show_text(loss, show_data=False, show_grad=False)
    assert "data " not in text and "grad " not in text and "u1 = add(matmul#1, b1)" in text


def test_a_long_chain_prints_without_recursion_and_with_bounded_indent():
    v = Value(1.0, label="v")
    for _ in range(3000):
        v = v.tanh()
    lines = show_text(v, show_grad=False).splitlines()
    assert len(lines) == 3001
    assert max(len(line) for line in lines) < 200


def test_seed_quantities_sit_where_compare_says_and_kinds_are_told_apart():
    net, loss = seed_graph()
    info = describe(loss)
    found = {(q.formula, id(q.node)) for q in info.quantities}
    assert found == {(f, id(node)) for _, _, f, node, _ in seed_quantities(net)}
    assert [(la.u, la.y, la.w, la.b) for la in info.layers] == [
        (la.u, la.y, la.w, la.b) for la in net.layers]
    kinds = {info.name(n): info.kind(n) for n in info.order}
    assert kinds["w1"] == kinds["b2"] == "parameter"
    assert kinds["x"] == kinds["t"] == "input"
    assert kinds["E"] == "root" and kinds["u1"] == "intermediate"
    doubled = 2 * net.layers[0].w  # the 2 becomes an unlabelled leaf: a constant
    assert describe(doubled).kind(doubled.parents[0]) == "constant"
    text = show_text(loss)
    for _, _, formula, node, _ in seed_quantities(net):
        line = next(line for line in text.splitlines() if f"─ {node.label} " in line)
        assert f"[{formula}]" in line


def test_manual_values_need_the_seeds_error_on_top():
    net = SineNet(seed=0)
    y = net(Value([[0.4]], label="x"))
    info = describe((y * y).sum())  # not ½ Σ (y − t)²: the formulas, but no manual values
    assert len(info.quantities) == 8 and all(q.manual is None for q in info.quantities)


def test_generated_names_are_unique_per_op():
    a = Value(1.0)
    b = a * 2.0 * 3.0
    names = set(describe(b).names.values())
    assert {"const#1", "const#2", "const#3", "mul#1", "mul#2"} == names


def test_preview_keeps_four_digits_and_cuts_long_arrays():
    assert preview(np.array(1 / 3)) == "0.3333"
    summary = preview(np.arange(1000.0) / 7, width=200)
    assert summary == "[0, 0.1429, ..., 142.6, 142.7]"  # numpy's summary: 2 items each end
    cut = preview(np.arange(1000.0) / 7, width=20)
    assert cut == summary[:19] + "…"


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=6),
              elements=st.sampled_from([0.0, -0.0, 1.0, -2.5, 1 / 3, -0.9999877, 1e-5, 123456.7,
                                        np.nan, np.inf, -np.inf])),
       st.integers(4, 6))
def test_a_small_arrays_preview_is_what_numpys_array2string_writes(a, digits):
    """preview writes arrays of up to 6 numbers itself (quicker); the text is numpy's."""
    numpys = " ".join(np.array2string(
        a, threshold=6, edgeitems=2, separator=", ", max_line_width=10**6,
        formatter={"float_kind": lambda v: number(v, digits)}).split())
    assert preview(a, width=10**6, digits=digits) == numpys


def test_the_examples_in_docs_graphs_md_run_as_shown():
    import doctest

    from helpers import ROOT

    result = doctest.testfile(str(ROOT / "docs" / "graphs.md"), module_relative=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 10 and result.failed == 0


def test_a_label_with_a_newline_stays_on_one_line_in_text_but_breaks_in_the_diagram():
    from tinygrad_sine import Stepper
    from viz import draw_graph

    a = Value(2.0, label="multi\nline")
    b = a * a
    text = show_text(b)
    assert len(text.splitlines()) == 3  # the root, a, and a's repeat
    assert "multi⏎line" in text
    assert "multi⏎line: parameter scalar" in Stepper(b).goto(0).text.splitlines()[0]
    assert "multi<BR" in draw_graph(b).source  # the drawing shows the label as written
