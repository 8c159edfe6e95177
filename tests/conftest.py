"""Test configuration: make tests/helpers.py importable; the require_dot fixture."""

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import missing  # noqa: E402  (importable from the line above)


@pytest.fixture
def require_dot():
    """For tests that run Graphviz's ``dot``: skip without it, but fail when CI=true.

    On a developer's machine a missing Graphviz should not turn the suite
    red; in CI (which installs it) a missing ``dot`` is a broken set-up.
    """
    if shutil.which("dot") is None:
        missing("Graphviz's `dot` program is not on PATH (apt-get install graphviz)")
