"""Every transcript in the README and the docs is what the program prints (docs/transcripts.py).

When one of these fails after a deliberate change, refresh the outputs with
``python docs/transcripts.py --update`` and read the diff before committing.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest
from helpers import ROOT

spec = importlib.util.spec_from_file_location("transcripts", ROOT / "docs" / "transcripts.py")
transcripts = importlib.util.module_from_spec(spec)
sys.modules["transcripts"] = transcripts  # dataclasses look their module up there
spec.loader.exec_module(transcripts)


@pytest.mark.parametrize("name, least", [("README.md", 18), ("docs/graphs.md", 14),
                                         ("docs/tutorial.md", 16)])
def test_transcripts_match_the_program(name, least):
    result = transcripts.process(ROOT / name)
    assert not result.mismatches, "\n\n".join(map(str, result.mismatches)) + \
        "\n(refresh with: python docs/transcripts.py --update, then read the diff)"
    assert result.checked >= least  # the blocks are found, not silently skipped


STALE = """\
# A page

```python
print(2 + 3)
```

```text
6
```

```python
x = 7
```

```python
print(x * 2)
```

```pycon
>>> x + 1
9
>>> print("a\\n\\nb")

```

```console
$ echo hello; echo took 1.5 s, 13.2 µs per update
bye
```
"""


def test_a_stale_output_is_reported_and_update_rewrites_it(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(STALE, encoding="utf-8")
    result = transcripts.process(page)
    assert result.checked == 6
    shown = sorted((m.shown, m.printed) for m in result.mismatches)
    assert shown == [("", "14"), ("", "a\n\nb"), ("6", "5"), ("9", "8"),
                     ("bye", "hello\ntook ... s, ... µs per update")]
    assert transcripts.main(["--update", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert "```text\n5\n```" in text
    assert "```python\nprint(x * 2)\n```\n\n```text\n14\n```" in text   # a text block added
    assert ">>> x + 1\n8\n" in text and "a\n<BLANKLINE>\nb\n" in text   # doctest's own form
    assert "hello\ntook ... s, ... µs per update\n```" in text          # the timing masked
    assert transcripts.main([str(page)]) == 0                            # now it all matches
    assert not transcripts.process(page).mismatches


def test_a_block_that_raises_is_an_error_not_a_mismatch(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("```python\n1 / 0\n```\n", encoding="utf-8")
    with pytest.raises(transcripts.TranscriptError, match="ZeroDivisionError"):
        transcripts.process(page)
    assert transcripts.main([str(page)]) == 2
    assert page.read_text(encoding="utf-8") == "```python\n1 / 0\n```\n"


def test_slow_blocks_run_only_when_asked(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("<!-- transcript: slow -->\n```console\n$ echo now\nlater\n```\n",
                    encoding="utf-8")
    assert transcripts.process(page).checked == 0
    assert len(transcripts.process(page, slow=True).mismatches) == 1


def test_norun_blocks_are_prose_and_blocks_run_in_a_scratch_folder(tmp_path, monkeypatch):
    page = tmp_path / "page.md"
    page.write_text("```python norun\nraise SystemExit('a sketch')\n```\n\n"
                    "```python\nopen('made.txt', 'w').close()\nimport os\nprint(os.listdir())\n"
                    "```\n\n```text\n['made.txt']\n```\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = transcripts.process(page)
    assert result.checked == 1 and not result.mismatches
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.md"]


@pytest.mark.parametrize("t", [0.0, 0.0033, 0.04, 5.67, 12.3, 123.4, 98765.0])
def test_the_timing_mask_hides_every_duration_train_prints(t):
    from tinygrad_sine.cli import _seconds

    line = (f"Done: error 0.3 at epoch 0 → 0.1 at epoch 2; {_seconds(t)} s, 1.5 µs per update; "
            f"--engine compiled would take ≈{_seconds(t / 7)} s here")
    assert "e" not in _seconds(t).lower()  # two significant digits, never 1.2e+02
    assert transcripts.mask(line).endswith(
        "; ... s, ... µs per update; --engine compiled would take ≈... s here")


def test_python_blocks_run_as_pasted_at_the_prompt(tmp_path):
    """A bare expression shows its repr, as at `>>>`; a `for` loop followed directly by
    another statement, which the interactive prompt refuses, is an error that says so."""
    page = tmp_path / "page.md"
    page.write_text("```python\nx = [1, 2]\nx + [3]\nfor i in x:\n    print(i)\n\n"
                    "None\n```\n\n```text\n[1, 2, 3]\n1\n2\n```\n", encoding="utf-8")
    result = transcripts.process(page)
    assert result.checked == 1 and not result.mismatches
    page.write_text("```python\nfor i in [1]:\n    print(i)\nprint('after')\n```\n",
                    encoding="utf-8")
    with pytest.raises(transcripts.TranscriptError, match="line 3 .*pasted into the interactive"
                       r".*needs a blank line"):
        transcripts.process(page)
