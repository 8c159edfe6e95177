"""The tests' own helpers: a missing test-only dependency skips, but fails when CI=true."""

from __future__ import annotations

import pytest
from helpers import missing, need


@pytest.mark.parametrize("ci, outcome", [("true", pytest.fail.Exception),
                                          ("", pytest.skip.Exception)])
def test_a_missing_dependency_skips_here_and_fails_in_ci(ci, outcome, monkeypatch):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="no_such_module_for_the_test is not installed"):
        need("no_such_module_for_the_test")
    with pytest.raises(outcome, match="dot is missing"):
        missing("dot is missing")


def test_need_returns_the_module_when_it_is_there():
    import json

    assert need("json") is json
