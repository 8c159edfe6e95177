"""Write examples/tutorial.ipynb from docs/tutorial.md (the Markdown is the one source).

    python docs/tutorial/make_notebook.py

Prose becomes Markdown cells, each ```python block a code cell.  The
```text block under a code cell (what it prints) is left out: the notebook
prints it itself when run.  Relative links and images are rewritten to
work from examples/.  The notebook is saved without outputs; a test checks
that the committed file is what this script writes, and runs it.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SOURCE = ROOT / "docs" / "tutorial.md"
TARGET = ROOT / "examples" / "tutorial.ipynb"
NOTE = ("*Made from [docs/tutorial.md](../docs/tutorial.md) by "
        "`python docs/tutorial/make_notebook.py`: edit the Markdown, not this notebook.*")
LINK = re.compile(r"\]\(([^)#:]+)(#[^)]*)?\)")  # a relative link or image: ](path) or ](path#x)


def _relink(text: str) -> str:
    """Links relative to docs/ rewritten relative to examples/."""
    def move(found: re.Match) -> str:
        target = (SOURCE.parent / found.group(1)).resolve()
        return f"]({os.path.relpath(target, TARGET.parent)}{found.group(2) or ''})"
    return LINK.sub(move, text)


def cells(markdown: str) -> list[tuple[str, str]]:
    """``(kind, source)`` pairs, kind ``"markdown"`` or ``"code"``, in page order."""
    found, prose, lines, i = [], [], markdown.splitlines(), 0

    def flush():
        text = "\n".join(prose).strip()
        if text:
            found.append(("markdown", _relink(text)))
        prose.clear()

    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            end = lines.index("```", i + 1)
            kind = line[3:].strip()
            if kind == "python":
                flush()
                found.append(("code", "\n".join(lines[i + 1:end])))
            elif kind == "text" and found and found[-1][0] == "code" and not any(
                    s.strip() for s in prose):
                prose.clear()  # the output of the code cell above: the notebook makes its own
            else:
                prose.extend(lines[i:end + 1])
            i = end + 1
            continue
        prose.append(line)
        i += 1
    flush()
    return found


def notebook(markdown: str) -> dict:
    """The notebook as nbformat 4.5 JSON, with fixed cell ids so that it is reproducible."""
    out = []
    for n, (kind, source) in enumerate([("markdown", NOTE), *cells(markdown)]):
        cell = {"cell_type": kind, "id": f"cell-{n:02d}", "metadata": {},
                "source": source.splitlines(keepends=True)}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        out.append(cell)
    return {
        "cells": out,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                    "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def render() -> str:
    """The notebook file's text."""
    return json.dumps(notebook(SOURCE.read_text(encoding="utf-8")), indent=1,
                      ensure_ascii=False) + "\n"


def main() -> int:
    text = render()
    tmp = TARGET.with_name(f".{TARGET.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, TARGET)  # written whole or not at all
    print("wrote", TARGET.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
