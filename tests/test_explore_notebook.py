"""A notebook, executed headless (nbclient), shows a Stepper as the explorer page."""

from __future__ import annotations

import html
import json
import re
import shutil

from helpers import missing

from tinygrad_sine import Stepper, Value


def test_a_stepper_as_a_cells_last_expression_shows_the_page(tmp_path):
    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError:
        missing("nbclient, nbformat and ipykernel are missing (pip install -e '.[test]')")
    if shutil.which("dot") is None:
        missing("Graphviz's `dot` program is not on PATH (apt-get install graphviz)")
    source = ("from tinygrad_sine import Stepper, Value\n"
              "a = Value(2.0, label='a')\n"
              "Stepper(a * a + 1.0)")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    NotebookClient(notebook, timeout=60, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    (output,) = [o for o in notebook.cells[0].outputs if o.output_type == "execute_result"]
    shown = output.data["text/html"]
    assert shown.startswith("<iframe") and "srcdoc=" in shown
    page = html.unescape(re.search(r'srcdoc="([^"]*)"', shown).group(1))
    data = json.loads(re.search(r'id="steps-data">(.*?)</script>', page, re.S).group(1))
    a = Value(2.0, label="a")
    assert [s["text"] for s in data["steps"]] == [s.text for s in Stepper(a * a + 1.0)]
