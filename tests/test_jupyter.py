"""Jupyter: figures, diagrams, a History (the learning page) and a Stepper (the explorer
page) show inline in a notebook, with no %matplotlib and no pyplot.

One small notebook is executed headless (nbclient + ipykernel, one kernel for
the whole module); the tests read its outputs as Jupyter would show them.
"""

from __future__ import annotations

import html
import json
import os
import re

import pytest
from helpers import ROOT, need

from tinygrad_sine import Stepper, Value

CELLS = {
    "train": "from tinygrad_sine.nn import SineNet\n"
             "from tinygrad_sine.sine import train\n"
             "from tinygrad_sine import Value\n"
             "import viz\n"
             "h = train(SineNet(seed=0), epochs=3, interval=1, engine='manual')",
    # the control: a Figure made without pyplot has no display of its own
    "plain figure": "from matplotlib.figure import Figure\nFigure(figsize=(1, 1))",
    "error curve": "viz.plot_error_curve(h)",
    "snapshots": "viz.plot_snapshots(h)",
    "learning page": "train(SineNet(seed=0), epochs=5, interval=2, engine='compiled')",
    "explorer page": "from tinygrad_sine import Stepper\n"
                     "b = Value(2.0, label='a')\n"
                     "Stepper(b * b + 1.0)",
    "pyplot untouched": "import sys\n'matplotlib.pyplot' in sys.modules",
    "diagram": "a = Value(2.0, label='a')\nviz.draw_graph(a * a)",
    "diagram without dot": "import os\n"
                           "os.environ['PATH'] = {empty!r}  # a PATH on which there is no dot\n"
                           "viz.draw_graph(a * a)",
}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """``{cell name: [outputs]}`` of the notebook, run once in a fresh kernel."""
    nbformat = need("nbformat")
    nbclient = need("nbclient")
    need("ipykernel")
    empty = tmp_path_factory.mktemp("no_dot")
    cells = [nbformat.v4.new_code_cell(src.format(empty=str(empty)) if "{empty" in src else src)
             for src in CELLS.values()]
    nb = nbformat.v4.new_notebook(cells=cells)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("MPLBACKEND", None)  # as in a fresh Jupyter: the kernel picks its own backend
    client = nbclient.NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True,
                                     resources={"metadata": {"path": str(ROOT)}})
    client.execute(env=env)
    return {name: cell.outputs for name, cell in zip(CELLS, nb.cells)}


def _mimetypes(cell_outputs) -> set[str]:
    return {m for out in cell_outputs if out.output_type == "execute_result" for m in out.data}


def _errors(cell_outputs) -> list[str]:
    return [f"{out.ename}: {out.evalue}" for out in cell_outputs if out.output_type == "error"]


def test_the_notebook_setup_ran_and_a_plain_figure_shows_no_image(outputs):
    assert not _errors(outputs["train"])
    # Without this the image tests below would prove nothing: plain Figures do not display.
    assert not _mimetypes(outputs["plain figure"]) & {"image/png", "image/svg+xml"}


@pytest.mark.parametrize("cell", ["error curve", "snapshots"])
def test_a_figure_as_the_last_expression_shows_inline_without_pyplot(outputs, cell):
    assert not _errors(outputs[cell])
    assert _mimetypes(outputs[cell]) & {"image/png", "image/svg+xml"}
    png = next(out.data["image/png"] for out in outputs[cell] if out.output_type == "execute_result")
    assert len(png) > 1000  # base64 of a real picture, not an empty one
    (pyplot,) = [out.data["text/plain"] for out in outputs["pyplot untouched"]
                 if out.output_type == "execute_result"]
    assert pyplot == "False"


def test_a_diagram_shows_inline_as_svg(outputs, require_dot):
    assert not _errors(outputs["diagram"])
    assert "image/svg+xml" in _mimetypes(outputs["diagram"])


def test_a_diagram_without_dot_raises_our_error_with_the_install_hint(outputs):
    errors = _errors(outputs["diagram without dot"])
    assert errors and all(e.startswith("GraphvizNotFound:") for e in errors), errors
    assert "apt-get install graphviz" in errors[0] and "ExecutableNotFound" not in errors[0]


def _shown(cell_outputs) -> dict:
    (result,) = [out for out in cell_outputs if out.output_type == "execute_result"]
    return result.data


def test_a_history_as_a_cells_last_expression_shows_the_learning_page(outputs):
    assert not _errors(outputs["learning page"])
    shown = _shown(outputs["learning page"])
    assert shown["text/html"].startswith("<iframe") and 'sandbox="allow-scripts"' in shown["text/html"]
    page = html.unescape(re.search(r'srcdoc="([^"]*)"', shown["text/html"]).group(1))
    data = json.loads(re.search(r'id="learn-data">(.*?)</script>', page, re.S).group(1))
    assert data["epochs"] == [0, 1, 2, 3, 4]
    assert data["lines"][2].startswith("Epoch:2/5 Error:0.")
    assert shown["text/plain"].startswith("History(3 records, epochs 0…4")


def test_a_stepper_as_a_cells_last_expression_shows_the_explorer_page(outputs, require_dot):
    assert not _errors(outputs["explorer page"])
    shown = _shown(outputs["explorer page"])["text/html"]
    assert shown.startswith("<iframe") and "srcdoc=" in shown
    page = html.unescape(re.search(r'srcdoc="([^"]*)"', shown).group(1))
    data = json.loads(re.search(r'id="steps-data">(.*?)</script>', page, re.S).group(1))
    a = Value(2.0, label="a")
    assert [s["text"] for s in data["steps"]] == [s.text for s in Stepper(a * a + 1.0)]
