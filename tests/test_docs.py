"""The README's REPL tour and the docstring examples are run, so they cannot drift."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest
from helpers import ROOT

import tinygrad_sine

FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def test_readme_tour_runs_as_shown():
    result = doctest.testfile(str(ROOT / "README.md"), module_relative=False, optionflags=FLAGS)
    assert result.attempted >= 10
    assert result.failed == 0


MODULES = sorted(m.name for m in pkgutil.iter_modules(tinygrad_sine.__path__)
                 if m.name not in {"__main__"})


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(f"tinygrad_sine.{name}")
    result = doctest.testmod(module, optionflags=FLAGS)
    assert result.failed == 0


def test_readme_progress_lines_are_what_training_prints():
    import re

    from tinygrad_sine.nn import SineNet
    from tinygrad_sine.sine import train

    text = (ROOT / "README.md").read_text()
    shown = {int(e): float(v) for e, v in re.findall(r"^Epoch:(\d+)/2001 Error:(\S+)$", text, re.M)}
    assert {0, 200} <= set(shown)
    history = train(SineNet(seed=0), epochs=201, engine="manual", seed=0)
    for epoch, error in zip(history.epochs, history.errors):
        assert shown[epoch] == error


def test_readme_step_transcript_is_what_step_prints():
    import re

    from helpers import cli

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"^\$ printf '(.*?)' \| tinygrad-sine step\n\.\.\.\n(.*?)^```", text, re.M | re.S)
    commands, shown = found.group(1).replace("\\n", "\n"), found.group(2)
    result = cli("step", stdin=commands)
    assert result.returncode == 0
    assert shown in result.stdout
