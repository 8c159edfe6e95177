"""The README's REPL tour and the docstring examples are run, so they cannot drift."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import tinygrad_sine
from helpers import ROOT

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
