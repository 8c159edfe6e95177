"""Remake docs/explore.png and docs/learn-page.png, the README's pictures of the two pages.

    python docs/make_screenshot.py          # needs Debian's chromium and playwright ('.[test]')

explore.png: the seed step's page as ``tinygrad-sine explore`` writes it,
opened in headless Chromium at a backward step (``#step=21``: δ_j of the
middle layer arriving at u1), as a 1280×720 window shows it.

learn-page.png: the learning page of the seed run (``tinygrad-sine train
--seed 0``, its ``learn.html``) at epoch 200 (``#epoch=200``), in a
1280×800 window.
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


def make_learn(out: Path = ROOT / "docs" / "learn-page.png", epoch: int = 200) -> Path:
    from playwright.sync_api import sync_playwright

    from tinygrad_sine.nn import SineNet
    from tinygrad_sine.sine import train
    from viz.learn import learn_page

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    history = train(SineNet(seed=0), epochs=2001, seed=0, engine="compiled")  # train's numbers
    with tempfile.TemporaryDirectory() as folder:
        page_file = Path(folder) / "learn.html"
        learn_page(history, page_file)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{page_file.as_uri()}#epoch={epoch}")
            page.wait_for_timeout(300)
            page.screenshot(path=str(out))
            browser.close()
    return out


if __name__ == "__main__":
    print("wrote", make())
    print("wrote", make_learn())
