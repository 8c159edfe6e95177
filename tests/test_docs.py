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


MODULES = sorted(m.name for m in pkgutil.walk_packages(tinygrad_sine.__path__, "tinygrad_sine.")
                 if not m.name.endswith("__main__"))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    examples = sum(len(t.examples) for t in doctest.DocTestFinder().find(module))
    result = doctest.testmod(module, optionflags=FLAGS)
    assert result.attempted == examples  # every example found was run
    assert result.failed == 0


def test_the_modules_with_examples_include_the_subpackages():
    assert {"tinygrad_sine.compile", "tinygrad_sine.compile.fused"} <= set(MODULES)
    with_examples = {name for name in MODULES if any(
        t.examples for t in doctest.DocTestFinder().find(importlib.import_module(name)))}
    assert {"tinygrad_sine.compile", "tinygrad_sine.compile.fused", "tinygrad_sine.value"} <= \
        with_examples


def test_readme_progress_lines_are_what_training_prints():
    """The first progress lines of the README's (slow, update-only) training transcript.

    Compared at a relative 1e-12, not ==: the last bits of a float depend on
    the BLAS that runs the matrix products (0.012541157591688643 on one
    machine, 0.01254115759168907 on another, 3e-14 apart after 12,600 SGD
    steps).  Regenerating the README on this machine would only move the
    failure to the next one; 1e-12 still pins every digit a reader compares,
    and a real change (shuffles, η, an op's derivative) moves the error by
    far more.
    """
    import re

    from tinygrad_sine.nn import SineNet
    from tinygrad_sine.sine import train

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = {int(e): float(v) for e, v in re.findall(r"^Epoch:(\d+)/2001 Error:(\S+)$", text, re.M)}
    assert {0, 200} <= set(shown)
    history = train(SineNet(seed=0), epochs=201, engine="manual", seed=0)
    assert history.epochs == [0, 200]
    for epoch, error in zip(history.epochs, history.errors):
        assert shown[epoch] == pytest.approx(error, rel=1e-12, abs=0)
