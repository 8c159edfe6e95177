"""Diagrams: viz.draw_graph (DOT source) and viz.render_graph (files), checked as a reader would."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from helpers import ROOT

from tinygrad_sine import Value, topo_order
from tinygrad_sine.compare import FORMULAS, seed_quantities
from tinygrad_sine.nn import SineNet, squared_error
from viz import GraphTooLarge, GraphvizNotFound, draw_graph, render_graph

NASTY = 'a"b<c>&{d}|e\\delta_j\'s \\Gamma \\N \\E a\\\\b\nnew line'  # all that can break DOT


def parse_dot(source: str):
    """Value nodes (id -> bold name), op nodes (ids) and edges (in order) of a DOT source."""
    values, ops, edges = {}, set(), []
    for line in source.splitlines():
        edge = re.match(r"\s*(\S+) -> (\S+)", line)
        if edge:
            edges.append((edge.group(1), edge.group(2)))
            continue
        node = re.match(r"\s*(\w+) \[label=<(.*)", line)
        if node and "shape=ellipse" in line:
            ops.add(node.group(1))
        elif node:
            bold = re.search(r"<B>(.*?)</B>", node.group(2))
            if bold:
                values[node.group(1)] = bold.group(1)
    return values, ops, edges


def svg_texts(path) -> list[str]:
    """The text of every <text> element of an SVG file (which must be valid XML)."""
    tree = ET.parse(path)
    return ["".join(el.itertext()) for el in tree.iter() if el.tag.endswith("}text")]


def seed_step(seed=0, n_mid=3, backward=True):
    net = SineNet(n_mid=n_mid, seed=seed)
    loss = squared_error(net(Value([[0.4]], label="x")), Value([[0.9]], label="t"))
    if backward:
        loss.backward()
    return net, loss


def labelled_expression():
    """f = (a·b + c)² + a·a, every node labelled, `a` used twice by one op."""
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    d = a * b
    d.label = "d"
    e = d + c
    e.label = "e"
    g = e**2
    g.label = "g"
    h = a * a
    h.label = "h"
    f = g + h
    f.label = "f"
    return f


def test_dot_has_one_value_node_per_graph_node_and_edges_in_argument_order():
    root = labelled_expression()
    values, ops, edges = parse_dot(draw_graph(root).source)
    nodes = topo_order(root)
    assert sorted(values.values()) == sorted(n.label for n in nodes)
    by_name = {name: ident for ident, name in values.items()}
    for node in nodes:
        into = [src for src, dst in edges if dst == by_name[node.label]]
        if not node.parents:
            assert into == []
            continue
        assert len(into) == 1 and into[0] in ops  # value <- its op node
        inputs = [values[src] for src, dst in edges if dst == into[0]]
        assert inputs == [p.label for p in node.parents]  # argument order, repeats kept
    assert len(ops) == sum(1 for n in nodes if n.parents)


def test_a_parent_used_twice_gets_two_edges():
    a = Value(3.0, label="a")
    values, _, edges = parse_dot(draw_graph(a * a).source)
    a_id = next(i for i, name in values.items() if name == "a")
    assert sum(1 for src, _ in edges if src == a_id) == 2


def test_a_label_with_special_characters_renders_as_written(tmp_path, require_dot):
    x = Value(1.5, label=NASTY)
    y = x * 2
    y.label = "{y}|<z>"
    path = render_graph(y, tmp_path / "nasty.svg")
    texts = svg_texts(path)
    first, second = NASTY.split("\n")
    assert first in texts and second in texts
    assert "{y}|<z>" in texts


def test_special_characters_never_reach_the_dot_source_raw():
    x = Value(1.5, label=NASTY)
    source = draw_graph(x * 2).source
    assert NASTY.split("\n")[0] not in source  # only its escaped form is there
    assert "&quot;" in source and "&lt;c&gt;" in source and "&amp;" in source


def test_sine_net_layers_are_clustered_and_seed_quantities_named():
    net, loss = seed_step()
    source = draw_graph(loss).source
    values, _, _ = parse_dot(source)
    clusters = re.findall(r"subgraph (cluster_layer\d+) \{(.*?)\n\t\}", source, flags=re.S)
    assert len(clusters) == len(net.layers)
    for layer, (_, body) in zip(net.layers, clusters):
        names = {values[i] for i in re.findall(r"^\s*(v\d+) \[", body, flags=re.M)}
        assert {layer.w.label, layer.b.label, layer.u.label, layer.y.label} <= names
    lines = {values[m.group(1)]: m.group(0)
             for m in re.finditer(r"^\s*(v\d+) \[.*$", source, flags=re.M)}
    for _layer, _q, formula, node, _name in seed_quantities(net):
        assert formula in lines[node.label]


def test_a_graph_that_is_not_a_sine_net_has_no_clusters_or_formulas():
    source = draw_graph(labelled_expression()).source
    assert "cluster_layer" not in source
    assert not any(f in source for f in FORMULAS.values())


def test_a_hand_written_look_alike_of_a_layer_is_drawn_as_plain_ops():
    # sigmoid(X @ W + b) has a seed layer's shape, but no SineNet made it.
    rng = np.random.default_rng(0)
    W, b = Value(rng.standard_normal((2, 3)), label="W"), Value(np.zeros(3), label="b")
    L = (Value(rng.standard_normal((4, 2)), label="X") @ W + b).sigmoid().sum()
    source = draw_graph(L).source
    assert "cluster_layer" not in source
    assert not any(f in source for f in FORMULAS.values())
    # A layer built the same way by nn is recognised — also once the net itself is gone.
    loss = squared_error(SineNet(seed=0)(np.array([[0.3]])), np.array([[0.5]]))
    source = draw_graph(loss).source
    assert source.count("subgraph cluster_layer") == 2 and FORMULAS[("middle", "δ")] in source


def test_svg_is_valid_xml_with_labels_formulas_and_manual_values(tmp_path, require_dot):
    net, loss = seed_step()
    texts = " ".join(svg_texts(render_graph(loss, tmp_path / "step.svg")))
    for label in ("x", "w1", "b1", "u1", "y1", "w2", "b2", "u2", "y2", "t", "E"):
        assert re.search(rf"(^| ){label}( |$)", texts)
    for formula in FORMULAS.values():
        assert formula in texts
    assert texts.count("manual") == 8 and texts.count("✓ = auto") == 8


def test_png_and_pdf_start_with_their_signatures(tmp_path, require_dot):
    _, loss = seed_step()
    assert render_graph(loss, tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert render_graph(loss, tmp_path / "g.pdf").read_bytes()[:5] == b"%PDF-"


def test_render_returns_the_path_and_writes_dot_source(tmp_path):
    _, loss = seed_step()
    path = render_graph(loss, tmp_path / "sub" / "g.dot")
    assert path == tmp_path / "sub" / "g.dot"
    assert path.read_text(encoding="utf-8").lstrip().startswith("digraph")


def test_without_dot_on_path_svg_fails_with_the_install_hint_and_dot_still_works(
        tmp_path, monkeypatch):
    _, loss = seed_step()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(GraphvizNotFound) as caught:
        render_graph(loss, tmp_path / "x.svg")
    assert isinstance(caught.value, RuntimeError)
    assert "apt-get install graphviz" in str(caught.value) and ".dot" in str(caught.value)
    assert not (tmp_path / "x.svg").exists()
    # x.dot is written beside the requested file, and .dot output works on its own too
    assert "x.dot" in str(caught.value)
    assert (tmp_path / "x.dot").read_text(encoding="utf-8").lstrip().startswith("digraph")
    assert "digraph" in render_graph(loss, tmp_path / "y.dot").read_text(encoding="utf-8")


def test_an_oversize_graph_is_refused_and_collapse_draws_it():
    net = SineNet(n_mid=(2,) * 40, seed=1)  # 41 layers, about 215 nodes
    loss = squared_error(net(Value([[0.1]], label="x")), [[0.2]])
    count = len(topo_order(loss))
    with pytest.raises(GraphTooLarge) as caught:  # a ValueError
        draw_graph(loss, max_nodes=100)
    assert isinstance(caught.value, ValueError)
    assert (caught.value.nodes, caught.value.max_nodes, caught.value.layers) == (count, 100, 41)
    message = str(caught.value)
    assert str(count) in message and "max_nodes=100" in message and "collapse=True" in message
    source = draw_graph(loss, max_nodes=100, collapse=True).source
    boxes = re.findall(r"<B>layer (\d+) · (\w+)</B>", source)
    assert [int(i) for i, _ in boxes] == list(range(1, 42))
    assert [k for _, k in boxes] == ["middle"] * 40 + ["output"]
    assert "matmul" not in source  # the layers' insides are folded away


def test_a_collapsed_graph_still_too_large_is_refused_with_the_boxes_it_would_draw():
    net = SineNet(n_mid=(2,) * 40, seed=1)  # 41 layers: 5 nodes each fold into one box
    loss = squared_error(net(Value([[0.1]], label="x")), [[0.2]])
    drawn = len(topo_order(loss)) - 41 * 4
    with pytest.raises(GraphTooLarge, match=f"even with collapse=True the graph has {drawn} "):
        draw_graph(loss, max_nodes=drawn - 1, collapse=True)
    assert "layer 41" in draw_graph(loss, max_nodes=drawn, collapse=True).source


def test_draw_graph_uses_the_info_it_is_given_and_refuses_another_graphs(monkeypatch):
    from tinygrad_sine.describe import describe
    from viz import graph as graph_module

    a = Value(2.0, label="a")
    root = (a * a).tanh()
    info = describe(root)
    monkeypatch.setattr(graph_module, "describe", lambda _root: pytest.fail("described again"))
    source = draw_graph(root, info=info).source
    assert "v0 -> op1" in source and "tanh" in source
    with pytest.raises(ValueError, match="info describes another graph"):
        draw_graph(a * 3, info=info)


def test_an_oversize_graph_without_layers_is_refused_even_collapsed():
    v = Value(1.0, label="v")
    for _ in range(30):
        v = v * 1.01
    for collapse in (False, True):
        with pytest.raises(ValueError, match="max_nodes=20"):
            draw_graph(v, max_nodes=20, collapse=collapse)


def test_collapsed_svg_shows_each_layer_with_its_formulas(tmp_path, require_dot):
    _, loss = seed_step()
    texts = " ".join(svg_texts(render_graph(loss, tmp_path / "c.svg", collapse=True)))
    assert "layer 1 · middle" in texts and "layer 2 · output" in texts
    assert all(texts.count(f) == 1 for f in FORMULAS.values())  # each formula once
    source = draw_graph(loss, collapse=True).source
    # The edge into layer 2 is named after what flows on it, y1 (not "x", the input's name).
    assert re.search(r"-> layer1 \[label=<y1>\]", source)
    assert re.search(r"-> layer0 \[label=<x>\]", source)


def test_highlight_marks_only_the_given_nodes():
    net, loss = seed_step()
    source = draw_graph(loss, highlight=[net.layers[0].u, "w2"]).source
    values, _, _ = parse_dot(source)
    marked = {values[m.group(1)] for m in re.finditer(r"^\s*(v\d+) \[.*penwidth=3", source, re.M)}
    assert marked == {"u1", "w2"}


def test_bad_options_are_refused_with_a_clear_message(tmp_path):
    _, loss = seed_step()
    with pytest.raises(ValueError, match=r"\.svg, \.png, \.pdf or \.dot"):
        render_graph(loss, tmp_path / "g.txt")
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(loss, rankdir="XY")
    with pytest.raises(ValueError, match="'nope'"):
        draw_graph(loss, highlight=["nope"])
    with pytest.raises(TypeError, match="ndarray"):
        draw_graph(np.ones(3))


def test_show_data_and_show_grad_can_be_turned_off():
    _, loss = seed_step()
    quiet = draw_graph(loss, show_data=False, show_grad=False).source
    assert "data " not in quiet and "grad " not in quiet
    assert "data " in draw_graph(loss).source


def test_grad_before_backward_is_shown_as_a_dash():
    _, loss = seed_step(backward=False)
    assert "grad —" in draw_graph(loss).source
    assert "grad 1<" not in draw_graph(loss).source


def test_importing_the_engine_and_viz_loads_neither_graphviz_nor_matplotlib():
    code = ("import sys, tinygrad_sine, tinygrad_sine.stepper, tinygrad_sine.show, viz; "
            "print(sorted(m for m in ('graphviz', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, env={"PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_committed_docs_drawing_is_valid_svg_with_every_seed_formula():
    texts = " ".join(svg_texts(ROOT / "docs" / "seed_step.svg"))
    assert all(f in texts for f in FORMULAS.values())
    assert texts.count("✓ = auto") == 8 and "One training step of SineNet(1-3-1)" in texts


def test_the_inputs_of_a_two_input_op_are_numbered_not_lettered():
    # With micrograd-style labels a and b, an edge labelled "a" from the node b would mislead.
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    d = b - a
    d.label = "d"
    source = draw_graph(d).source
    ids = {name: re.search(rf'(v\d+) \[label=<<TABLE[^\n]*<B>{name}</B>', source)[1]
           for name in ("a", "b")}
    op = re.search(r"-> (op\d+)", source)[1]
    assert f"{ids['b']} -> {op} [label=1]" in source  # b is the first input of b − a
    assert f"{ids['a']} -> {op} [label=2]" in source
    assert not re.search(r"label=<?[ab]>?\]", source)


def test_a_diagram_at_the_prompt_says_what_it_is_and_how_to_see_it(tmp_path):
    root = labelled_expression()
    diagram = draw_graph(root)
    values, ops, edges = parse_dot(diagram.source)
    text = repr(diagram)
    assert "object at 0x" not in text
    assert (f"diagram of f: {len(values)} value boxes, {len(ops)} op ovals, "
            f"{len(edges)} edges") in text
    assert "Jupyter shows it inline" in text and ".render('graph.svg')" in text
    written = diagram.render(tmp_path / "f.dot")  # what the repr promises: that very file
    assert written == tmp_path / "f.dot" and written.read_text() == diagram.source
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.dot"]


def test_render_of_a_diagram_writes_the_file_it_is_given(tmp_path, require_dot):
    diagram = draw_graph(labelled_expression())
    path = diagram.render(str(tmp_path / "graph.svg"))
    assert path == tmp_path / "graph.svg" and "f" in svg_texts(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.svg"]


def test_data_boxes_say_their_gradient_is_never_used_for_an_update(tmp_path, require_dot):
    from tinygrad_sine.describe import data_note, describe

    net, loss = seed_step()  # x and t: inputs of the seed's error; w1, b1 …: parameters
    info = describe(loss)
    svg = render_graph(loss, tmp_path / "g.svg")
    texts = svg_texts(svg)
    for name in ("x", "t"):  # the note, split over two lines of the box
        first, second = data_note(name).split(", ")
        assert f"{first}," in texts and second in texts
    assert not any(t.startswith(("w1 is data", "b2 is data")) for t in texts)
    source = draw_graph(loss).source  # the note is in the data boxes, and only there
    boxes = {ident: line for line in source.splitlines()
             if (ident := (re.match(r"\s*(v\d+) \[label=", line) or [None, None])[1])}
    for i, node in enumerate(info.order):
        noted = "is data: its gradient is computed" in boxes[f"v{i}"]
        assert noted == (info.kind(node) in ("input", "constant")), info.name(node)
