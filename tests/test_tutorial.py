"""docs/tutorial.md: its figures and its notebook come from scripts, the notebook runs,
and every block pastes into the plain interactive interpreter.

(That every code block of the tutorial prints what the page shows is also
tests/test_transcripts.py, which emulates the prompt in-process.)
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys

import pytest
from helpers import ROOT, need

TUTORIAL = ROOT / "docs" / "tutorial.md"


def _load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _transcripts():
    """docs/transcripts.py as a module (its parser of blocks and its masks)."""
    if "transcripts" not in sys.modules:  # dataclasses look their module up there
        spec = importlib.util.spec_from_file_location("transcripts",
                                                      ROOT / "docs" / "transcripts.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["transcripts"] = module
        spec.loader.exec_module(module)
    return sys.modules["transcripts"]


def python_blocks_and_outputs(path) -> list[tuple[int, str, str]]:
    """``(line, code, shown output)`` for every ```python block of a page, in order."""
    t = _transcripts()
    lines = path.read_text(encoding="utf-8").splitlines()
    found = t.blocks(lines)
    pairs = []
    for block, nxt in zip(found, [*found[1:], None]):
        if block.lang != "python":
            continue
        between = lines[block.end + 1:nxt.start] if nxt else []
        shown = ("\n".join(nxt.body).rstrip() if nxt is not None and nxt.lang == "text"
                 and not "".join(between).strip() else "")
        pairs.append((block.start + 1, "\n".join(block.body), shown))
    return pairs


def test_every_block_pastes_into_the_interactive_interpreter_and_prints_what_is_shown(tmp_path):
    """The page says: paste the blocks into `python`.  So every block, in order, goes to a
    real interactive interpreter (`python -i` reading a pipe: the prompt's own rules, where
    a `for` loop must end with a blank line), followed by the Enter a reader presses after
    pasting; what each block prints, bare expressions' values included, is what the page
    shows under it, and nothing goes wrong on the way."""
    blocks = python_blocks_and_outputs(TUTORIAL)
    assert len(blocks) >= 15
    mark = "=== end of block"
    feed = []
    for n, (_, code, _) in enumerate(blocks):
        feed += [*code.splitlines(), "", f"print({mark!r}, {n})"]
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
               MPLBACKEND="Agg", PYTHONIOENCODING="utf-8", PYTHONSTARTUP="")
    done = subprocess.run([sys.executable, "-q", "-i"], input="\n".join(feed) + "\n",
                          capture_output=True, text=True, encoding="utf-8", cwd=tmp_path,
                          env=env, timeout=300)
    # stderr holds the prompts (>>> and ...) and, if a block fails, its traceback
    problems = re.sub(r"(>>> |\.\.\. )", "", done.stderr).strip()
    assert not problems, f"pasting the tutorial into python went wrong:\n{problems}"
    printed = re.split(rf"^{mark} \d+\n", done.stdout, flags=re.M)
    assert len(printed) == len(blocks) + 1 and printed[-1] == ""
    mask = _transcripts().mask
    for (line, _, shown), out in zip(blocks, printed):
        assert mask(out) == shown, f"docs/tutorial.md:{line}: pasted, the block prints\n{out}"


def test_the_readme_links_the_tutorial_at_the_top():
    top = (ROOT / "README.md").read_text(encoding="utf-8").split("\n## ")[0]
    assert "(docs/tutorial.md)" in top


def test_every_image_the_tutorial_shows_is_made_by_its_script():
    text = TUTORIAL.read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(images) >= 3
    script = (ROOT / "docs" / "tutorial" / "make_figures.py").read_text(encoding="utf-8")
    for image in images:
        assert (TUTORIAL.parent / image).is_file(), image
        assert f'"{image.split("/")[-1]}"' in script, f"{image} is not made by make_figures.py"


def test_the_one_neuron_figure_is_the_graph_of_section_2():
    import math

    from tinygrad_sine import topo_order

    figures = _load(ROOT / "docs" / "tutorial" / "make_figures.py")
    e = figures.neuron_graph()
    y = 1 / (1 + math.exp(0.3))                      # sigmoid(u), u = −1.2 · 0.5 + 0.3
    delta = (y - 0.8) * y * (1 - y)                  # section 2's hand derivation
    grads = {v.label: float(v.grad) for v in topo_order(e) if v.label in ("u", "w", "b")}
    assert grads == pytest.approx({"u": delta, "w": delta * 0.5, "b": delta}, rel=1e-12)
    svg = (ROOT / "docs" / "tutorial" / "neuron.svg").read_text(encoding="utf-8")
    assert "<svg" in svg and "sigmoid" in svg


def test_the_notebook_is_generated_from_the_markdown():
    maker = _load(ROOT / "docs" / "tutorial" / "make_notebook.py")
    committed = (ROOT / "examples" / "tutorial.ipynb").read_text(encoding="utf-8")
    assert committed == maker.render(), "run: python docs/tutorial/make_notebook.py"
    code = [source for kind, source in maker.cells(TUTORIAL.read_text(encoding="utf-8"))
            if kind == "code"]
    blocks = re.findall(r"^```python\n(.*?)\n```$", TUTORIAL.read_text(encoding="utf-8"),
                        re.M | re.S)
    assert code == blocks and len(code) >= 15


def test_the_notebook_runs_headless():
    nbformat = need("nbformat")
    nbclient = need("nbclient")
    need("ipykernel")
    notebook = nbformat.read(ROOT / "examples" / "tutorial.ipynb", as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=60, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT / "examples")}})
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on an error
    printed = "".join(out.get("text", "") for cell in notebook.cells
                      if cell.cell_type == "code" for out in cell.outputs)
    assert "δ_j = ∂y_j (1 − y_j²)" in printed and "yes" in printed  # the right derivation
    assert "AssertionError: 1 of 1 manual gradients disagree" in printed  # the wrong one
    if shutil.which("dot"):  # section 2's diagram shows itself inline
        shown = [out for cell in notebook.cells if cell.cell_type == "code"
                 for out in cell.outputs if out.output_type == "execute_result"]
        assert any("image/svg+xml" in out.data for out in shown)


def test_the_code_lines_section_7_quotes_are_in_the_source_it_prints():
    """The prose of section 7 quotes lines of compile's output: they must still be there."""
    text = TUTORIAL.read_text(encoding="utf-8")
    section = text.split("## 7 ")[1].split("## 8 ")[0]
    printed = re.search(r"^```text\n(.*?)^```$", section, re.M | re.S).group(1)
    quoted = [q for q in re.findall(r"`([^`]*=[^`]*)`", section) if q.startswith("grad_")]
    assert len(quoted) >= 7
    for line in quoted:
        assert line in printed, f"section 7 quotes `{line}`, which compile no longer writes"


def test_section_6s_hand_written_loop_gives_trains_errors_exactly():
    """Section 6 has the learner write the training loop (forward, backward(), the update,
    zeroing the gradients), then shows `train` printing the same errors: both blocks print
    the same lines (each is checked against the page by the transcript test), and run here
    the hand loop's errors equal train's to the last bit."""
    import contextlib
    import io

    import numpy as np

    from tinygrad_sine.nn import SineNet, squared_error
    from tinygrad_sine.sine import sine_data

    section = TUTORIAL.read_text(encoding="utf-8").split("\n## 6 ")[1].split("\n## 7 ")[0]
    blocks = [(code, shown) for _, code, shown in python_blocks_and_outputs(TUTORIAL)
              if code in section]
    hand = next((c, s) for c, s in blocks if "p.data -= eta * p.grad" in c)
    by_train = next((c, s) for c, s in blocks if "train(SineNet(seed=0), epochs=3" in c)
    for part in (".backward()", "zero_grad()", "squared_error(hand_net("):
        assert part in hand[0]
    assert "train(" not in hand[0]
    assert hand[1] == by_train[1] and len(hand[1].splitlines()) >= 3
    x_all, t_all = sine_data()
    space = dict(np=np, SineNet=SineNet, squared_error=squared_error, x_all=x_all, t_all=t_all)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(hand[0], space)
        errors = []
        exec(hand[0].replace("print(f\"epoch {epoch}: mean error {total / 63:.10f}\")",
                             "errors.append(total / 63)"), dict(space, errors=errors))
        exec(by_train[0], space)
    assert printed.getvalue().splitlines() == hand[1].splitlines() * 2
    assert errors == space["history"].errors  # exactly: the same arithmetic in the same order
    assert len(errors) == 3


def test_section_8_explains_the_layers_index_where_it_appears():
    section = TUTORIAL.read_text(encoding="utf-8").split("\n## 8 ")[1].split("\n## 9 ")[0]
    before = section.split("```python")[0]
    assert "index=1" in section.split("```python")[1]
    for told in ("`index=1`", "`w1`", "`u1`", "`y1`", "`index=2`", "Without `index=`"):
        assert told in before, told
