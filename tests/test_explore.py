"""The explorer page (viz.explore) without a browser: what it holds, its size, the CLI.

The page's behaviour in a real browser is pinned in test_explore_browser.py.
"""

from __future__ import annotations

import configparser
import fnmatch
import html
import json
import re

import numpy as np
import pytest
from helpers import ROOT, cli, fake_dot

from tinygrad_sine import Stepper, Value
from tinygrad_sine.cli import main
from viz.explore import ASSETS, ExplorePage, explore
from viz.graph import GraphTooLarge


def steps_in(page: str) -> dict:
    """The JSON the page's script reads."""
    found = re.search(r'<script type="application/json" id="steps-data">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


def svg_ids(page: str) -> set[str]:
    return set(re.findall(r'<g id="([^"]+)" class="node"', page))


def small_graph():
    a, b = Value(2.0, label="a"), Value(np.array([1.0, -3.0]), label="b")
    return ((a * b).tanh() + a).sum()


@pytest.fixture(scope="module")
def seed_page(tmp_path_factory):
    """The seed step's page, written by ``tinygrad-sine explore`` as a user runs it."""
    path = tmp_path_factory.mktemp("explore") / "step.html"
    result = cli("explore", "--out", str(path))
    assert result.returncode == 0, result.stderr
    return path, result.stdout


def test_cli_explore_writes_the_page_and_prints_its_path(seed_page, require_dot):
    path, stdout = seed_page
    assert path.is_file()
    assert f"Wrote {path}:" in stdout
    assert path.stat().st_size < 200_000, "the seed step's page must stay under 200 KB"


def test_the_page_holds_the_steppers_texts_and_ids_that_the_svg_has(require_dot):
    root = small_graph()
    page = explore(root)
    data = steps_in(page)
    stepper = Stepper(root)  # made independently of the page's own
    assert [s["text"] for s in data["steps"]] == [s.text for s in stepper]
    assert [s["phase"] for s in data["steps"]] == [s.phase for s in stepper]
    ids, order = svg_ids(page), stepper.info.order
    for step, shown in zip(stepper, data["steps"]):
        i = next(k for k, n in enumerate(order) if n is step.node)
        assert shown["box"] == f"v{i}" and shown["box"] in ids
        assert shown["op"] == (f"op{i}" if step.node.parents else None)
        assert shown["op"] is None or shown["op"] in ids


def test_a_collapsed_page_points_steps_inside_a_layer_at_the_layers_box(require_dot):
    from tinygrad_sine.nn import SineNet
    from tinygrad_sine.stepper import training_step

    net = SineNet(seed=0)
    root = training_step(net, np.array([[0.5]]), np.array([[0.2]]))
    data = steps_in(explore(root, collapse=True))
    stepper = Stepper(root)
    layer_of = {id(m): k for k, layer in enumerate(stepper.info.layers) for m in layer.members}
    for step, shown in zip(stepper, data["steps"]):
        if id(step.node) in layer_of:
            assert shown["box"] == f"layer{layer_of[id(step.node)]}" and shown["op"] is None
    assert {s["box"] for s in data["steps"]} >= {"layer0", "layer1"}


def test_a_collapsed_layers_tooltip_names_the_layer_and_every_box_has_one(require_dot):
    from tinygrad_sine.nn import SineNet
    from tinygrad_sine.stepper import training_step

    root = training_step(SineNet(seed=0), np.array([[0.5]]), np.array([[0.2]]))
    data = steps_in(explore(root, collapse=True))
    # a click on a layer's box walks all its members: the tooltip names the layer, as the box
    assert data["titles"]["layer0"] == "layer 1 · middle"
    assert data["titles"]["layer1"] == "layer 2 · output"
    boxes = {i for s in data["steps"] for i in (s["box"], s["op"]) if i is not None}
    assert set(data["titles"]) == boxes
    for shown in data["steps"]:
        if not shown["box"].startswith("layer"):
            assert data["titles"][shown["box"]] == shown["name"]


def test_the_page_describes_the_graph_once_the_steppers_way(monkeypatch, require_dot):
    """The diagram's box ids and the steps' come from one describe(): the stepper's."""
    from tinygrad_sine import describe as describe_module
    from tinygrad_sine import stepper as stepper_module
    from viz import graph as graph_module

    calls = []

    def counted(root):
        calls.append(root)
        return describe_module.describe(root)

    monkeypatch.setattr(stepper_module, "describe", counted)
    monkeypatch.setattr(graph_module, "describe", counted)
    root = small_graph()
    data = steps_in(explore(root))
    assert len(calls) == 1
    assert {s["box"] for s in data["steps"]} <= svg_ids(explore(Stepper(root)))


def test_graphviz_missing_or_failing_says_so_as_render_graph_does(tmp_path, monkeypatch):
    from viz.graph import GraphvizNotFound

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no dot program
    with pytest.raises(GraphvizNotFound, match="explore: cannot draw the graph: install"):
        explore(small_graph())

    fake_dot(tmp_path, monkeypatch, "while read -r line; do :; done; echo 'syntax error in line 1' >&2; exit 1")
    with pytest.raises(RuntimeError, match="explore: .*dot failed: syntax error in line 1"):
        explore(small_graph())


def test_the_page_is_self_contained(seed_page, require_dot):
    page = seed_page[0].read_text(encoding="utf-8")
    assert "<script src" not in page and "<link" not in page and "@import" not in page
    assert "url(" not in page  # no fonts or pictures to fetch
    # The only addresses are XML namespace names, which are never fetched.
    assert set(re.findall(r"https?://[^\s\"']+", page)) <= {
        "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    for asset in ASSETS:  # our script and styles are inlined as they are
        assert (ROOT / "viz" / asset).read_text(encoding="utf-8") in page


def test_labels_that_look_like_html_cannot_break_the_page(require_dot):
    a = Value(1.5, label="</script><b>&amp;")
    page = explore(a * a)
    assert page.count("</script>") == 2  # our two script elements, nothing else
    assert steps_in(page)["steps"][0]["text"] == Stepper(a * a)[0].text


def test_a_graph_over_max_nodes_is_refused_as_draw_graph_refuses_it(require_dot):
    with pytest.raises(GraphTooLarge, match="max_nodes=3"):
        explore(small_graph(), max_nodes=3)


def test_cli_explore_refusals_are_one_line_and_exit_2(tmp_path, capsys):
    assert main(["explore", "--max-nodes", "5", "--out", str(tmp_path / "a.html")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "more than --max-nodes 5; add --collapse" in err
    assert main(["explore", "--out", str(tmp_path / "a.svg")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--out must name an .html file" in err
    assert not list(tmp_path.iterdir())


def test_bad_arguments_name_themselves(require_dot):
    with pytest.raises(TypeError, match="explore: expected the Value"):
        explore(3.0)
    with pytest.raises(ValueError, match="explore: start must be a step number from 0 to 5"):
        explore(Value(2.0) * 3.0, start=6)  # 3 nodes: 6 steps


def test_the_page_is_written_whole_or_not_at_all(tmp_path, require_dot):
    target = tmp_path / "taken"
    target.mkdir()  # a folder where the page should go: os.replace fails
    with pytest.raises(OSError):
        explore(Value(2.0) * 3.0, target)
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]  # no temp file left behind
    assert not list(target.iterdir())


def test_making_the_page_leaves_the_graphs_gradients_alone(require_dot):
    a = Value(2.0, label="a")
    root = a * a
    root.backward()
    explore(root)
    assert a.grad == 4.0 and root.grad == 1.0  # as backward() left them (no second pass)


def test_jupyter_shows_the_page_in_a_sandboxed_srcdoc_iframe(require_dot):
    a = Value(2.0, label="a")
    stepper = Stepper(a * a)
    stepper.goto(3)
    shown = stepper._repr_html_()
    srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', shown).group(1))
    assert shown.startswith("<iframe") and 'sandbox="allow-scripts"' in shown
    assert steps_in(srcdoc)["start"] == 3  # opens where the stepper stands
    page = explore(a * a)
    assert isinstance(page, ExplorePage) and isinstance(page, str)
    assert html.unescape(re.search(r'srcdoc="([^"]*)"', page._repr_html_()).group(1)) == page


def test_train_writes_explore_html_beside_graph_svg(tmp_path, capsys, require_dot):
    assert main(["train", "--epochs", "1", "--out", str(tmp_path)]) == 0
    page = tmp_path / "explore.html"
    assert f"written: {page}" in capsys.readouterr().out
    assert (tmp_path / "graph.svg").is_file()
    steps = steps_in(page.read_text(encoding="utf-8"))["steps"]
    assert len(steps) == 30  # 13 forward, 13 backward, then an update of each of the 4 weights
    assert [s["phase"] for s in steps[26:]] == ["update"] * 4 and "η = 0.1" in steps[26]["text"]


def test_an_installed_package_carries_the_pages_script_and_styles():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    listed = {name.strip() for name in config["options.package_data"]["viz"].split(",")}
    assert all(any(fnmatch.fnmatch(asset, pattern) for pattern in listed) for asset in ASSETS)
    # (tests/test_install.py builds the wheel itself and finds both files in it)


def test_the_pages_data_boxes_and_steps_say_their_gradient_is_never_used(require_dot):
    from tinygrad_sine.describe import data_note
    from tinygrad_sine.nn import SineNet
    from tinygrad_sine.stepper import training_step

    loss = training_step(SineNet(n_mid=2, seed=0), np.array([[0.4]]), np.array([[0.9]]))
    page = explore(loss)
    data = steps_in(page)
    for name in ("x", "t"):
        steps = [s for s in data["steps"] if s["name"] == name]
        assert [data_note(name) in s["text"] for s in steps] == [False, True]  # backward only
        box = re.search(rf'<g id="{steps[0]["box"]}" class="node">(.*?)</g>', page, re.S).group(1)
        first, second = data_note(name).split(", ")
        assert f">{html.escape(first)},</text>" in box and f">{second}</text>" in box
    w1 = next(s for s in data["steps"] if s["name"] == "w1")
    box = re.search(rf'<g id="{w1["box"]}" class="node">(.*?)</g>', page, re.S).group(1)
    assert "is data" not in box and not any(
        "is data" in s["text"] for s in data["steps"] if s["name"] == "w1")
