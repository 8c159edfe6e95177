"""Test configuration: make tests/helpers.py importable; the require_dot and browser fixtures."""

import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import missing  # noqa: E402  (importable from the line above)


@pytest.fixture(scope="session")
def require_dot():
    """For tests that run Graphviz's ``dot``: skip without it, but fail when CI=true.

    On a developer's machine a missing Graphviz should not turn the suite
    red; in CI (which installs it) a missing ``dot`` is a broken set-up.
    Session-wide (it holds nothing), so module-wide fixtures can ask for it too.
    """
    if shutil.which("dot") is None:
        missing("Graphviz's `dot` program is not on PATH (apt-get install graphviz)")


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright: one for the whole run (never a
    downloaded browser).  Skips without it, but fails when CI=true, as require_dot does."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the Python package playwright is missing (pip install -e '.[test]')")
    if not os.path.exists(CHROMIUM):
        missing("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()
