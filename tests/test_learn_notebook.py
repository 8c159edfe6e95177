"""A notebook, executed headless (nbclient), shows a History as the learning page."""

from __future__ import annotations

import html
import json
import re

from helpers import need


def test_a_history_as_a_cells_last_expression_shows_the_learning_page(tmp_path):
    nbformat = need("nbformat")
    nbclient = need("nbclient")
    need("ipykernel")
    source = ("from tinygrad_sine.nn import SineNet\n"
              "from tinygrad_sine.sine import train\n"
              "train(SineNet(seed=0), epochs=5, interval=2, engine='compiled')")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nbclient.NotebookClient(notebook, timeout=60, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    (output,) = [o for o in notebook.cells[0].outputs if o.output_type == "execute_result"]
    shown = output.data["text/html"]
    assert shown.startswith("<iframe") and 'sandbox="allow-scripts"' in shown
    page = html.unescape(re.search(r'srcdoc="([^"]*)"', shown).group(1))
    data = json.loads(re.search(r'id="learn-data">(.*?)</script>', page, re.S).group(1))
    assert data["epochs"] == [0, 1, 2, 3, 4]
    assert data["lines"][2].startswith("Epoch:2/5 Error:0.")
    assert output.data["text/plain"].startswith("History(3 records, epochs 0…4")
