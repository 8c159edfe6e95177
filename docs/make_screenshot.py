"""Remake docs/explore.png, the README's picture of the explorer page.

    python docs/make_screenshot.py          # needs Debian's chromium and playwright ('.[test]')

It writes the seed step's page as ``tinygrad-sine explore`` does, opens it in
headless Chromium at a backward step (``#step=21``: δ_j of the middle layer
arriving at u1) and saves what a 1280×720 window shows.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tinygrad_sine.cli import main  # noqa: E402


def make(out: Path = ROOT / "docs" / "explore.png", step: int = 21) -> Path:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with tempfile.TemporaryDirectory() as folder:
        page_file = Path(folder) / "step.html"
        if main(["explore", "--out", str(page_file)]) != 0:
            raise SystemExit("tinygrad-sine explore failed")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True)
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(f"{page_file.as_uri()}#step={step}")
            page.wait_for_timeout(300)  # let the current box scroll into view
            page.screenshot(path=str(out))
            browser.close()
    return out


if __name__ == "__main__":
    print("wrote", make())
