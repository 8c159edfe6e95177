"""docs/inside.md quotes the engine's heart: every quote is still the source, line for line.

A quote is a fenced block right under a comment naming its file:

    <!-- quote: tinygrad_sine/value.py -->
    ```python
    def _apply(op, parents: tuple, args: tuple = ()) -> Value:
    ...
    ```

and its lines must be consecutive lines of that file, indentation and all.
When the code changes, copy the new lines into the page.
"""

from __future__ import annotations

import re

from helpers import ROOT

INSIDE = ROOT / "docs" / "inside.md"
QUOTE = re.compile(r"^<!-- quote: (\S+) -->\n```(\w*)\n(.*?)\n```$", re.M | re.S)


def quotes(text: str) -> list[tuple[str, list[str]]]:
    """``(path, lines)`` of every quote of the page, in order."""
    return [(path, body.splitlines()) for path, _, body in QUOTE.findall(text)]


def where_in(lines: list[str], source: list[str]) -> int | None:
    """The index where ``lines`` occur as consecutive lines of ``source``, or None."""
    n = len(lines)
    for i in range(len(source) - n + 1):
        if source[i:i + n] == lines:
            return i
    return None


def test_every_quote_is_verbatim_in_the_file_it_names():
    text = INSIDE.read_text(encoding="utf-8")
    found = quotes(text)
    assert len(found) >= 12
    for path, lines in found:
        source = (ROOT / path).read_text(encoding="utf-8").splitlines()
        assert where_in(lines, source) is not None, (
            f"docs/inside.md quotes {path}, but these lines are no longer in it "
            f"(copy the new code into the page):\n" + "\n".join(lines))


def test_every_code_block_of_the_page_is_a_checked_quote():
    """No block of code slips in without a file to be checked against."""
    text = INSIDE.read_text(encoding="utf-8")
    fences = re.findall(r"^```\w*$", text, re.M)
    assert len(fences) == 2 * len(quotes(text))  # an opening and a closing fence each


def test_the_page_quotes_the_heart_in_the_order_the_data_flows():
    """The issue's list, in its order, in about 200–300 quoted lines."""
    found = quotes(INSIDE.read_text(encoding="utf-8"))
    firsts = [lines[0].strip() for _, lines in found]
    wanted = ["__slots__ = (", "def _apply(", "class Mul(Op):", "def topo_order(",
              "def backprop(", "def sum_to(", "seed = grad_output if"]
    at = [next(i for i, first in enumerate(firsts) if first.startswith(w)) for w in wanted]
    assert at == sorted(at), dict(zip(wanted, at))
    assert 180 <= sum(len(lines) for _, lines in found) <= 320


def test_the_quote_finder_catches_a_changed_line(tmp_path):
    """A quote whose code changed is caught: the check is not vacuous."""
    source = (ROOT / "tinygrad_sine" / "ops" / "arithmetic.py").read_text(encoding="utf-8")
    lines = source.splitlines()
    quote = lines[lines.index("class Mul(Op):"):][:12]
    assert where_in(quote, lines) is not None
    changed = [line.replace("g * b, g * a", "g * a, g * b") for line in quote]
    assert changed != quote and where_in(changed, lines) is None
    dedented = [line.strip() for line in quote]
    assert where_in(dedented, lines) is None  # the indentation counts too


def test_the_quoted_code_is_the_algorithm_not_its_speed_paths():
    """_apply, _lift and backprop read as the algorithm: the spelled-out calls for one and
    two inputs and the float leaf's quick path live in small named helpers."""
    found = {lines[0].strip().split("(")[0]: "\n".join(lines) for _, lines in quotes(
        INSIDE.read_text(encoding="utf-8"))}
    apply_, lift, backprop = (found[k] for k in ("def _apply", "def _lift", "def backprop"))
    assert "len(parents) == 2" not in apply_ and "_forward(op, parents, args)" in apply_
    assert "type(x) is float" not in lift and "_constant(x, where)" in lift
    assert "n == 2 and not args" not in backprop and "_local_gradients(" in backprop


def test_the_readme_links_inside_md_on_its_first_screen():
    top = (ROOT / "README.md").read_text(encoding="utf-8").split("\n## ")[0]
    assert "(docs/inside.md)" in top


def test_the_tutorial_links_inside_md_in_its_closing_sections():
    text = (ROOT / "docs" / "tutorial.md").read_text(encoding="utf-8")
    assert "(inside.md)" in text.split("\n## 9 ")[1].split("\n## 10 ")[0]  # where to go next
    assert "(inside.md)" in text.split("\n## ")[-1]  # and the last section
