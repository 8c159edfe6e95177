"""The install a user gets: the wheel built from this repository, in a fresh environment.

``dev.sh`` installs the package in editable mode, which imports the source
tree itself; so a subpackage or a data file that the wheel leaves out goes
unnoticed there.  Here the wheel is built (``pip wheel``, no network), put
into a new virtual environment with ``--no-deps`` (the runtime dependencies
numpy, graphviz and matplotlib come from the running environment through a
``.pth`` file, which adds their folder and nothing of the source tree), and
the commands run from a folder outside the repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import ROOT, need

PACKAGES = ("tinygrad_sine", "viz")
SKIP = shutil.ignore_patterns(
    ".*", "__pycache__", "*.pyc", "*.egg-info", "build", "dist", "out", "node_modules"
)


def _run(args: list, cwd: Path, timeout: int = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["MPLBACKEND"] = "Agg"
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def _source_files() -> set[str]:
    """Every file of the two packages in the source tree, as paths inside the wheel."""
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            parts = path.relative_to(ROOT).parts
            if (
                path.is_file()
                and not any(p.startswith(".") or p == "__pycache__" for p in parts)
                and path.suffix != ".pyc"
            ):
                found.add("/".join(parts))
    return found


def build_wheel(source: Path, into: Path) -> Path:
    """``pip wheel`` of a copy of ``source`` (the copy keeps build/ out of the repository)."""
    need("wheel")  # setuptools before 70.1 builds wheels with it (dev.sh installs it)
    tree = into / "src"
    shutil.copytree(source, tree, ignore=SKIP)
    result = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            into / "dist",
            tree,
        ],
        cwd=into,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = (into / "dist").glob("tinygrad_sine-*.whl")
    return wheel


def install(wheel: Path, venv: Path) -> Path:
    """A new virtual environment with ``wheel`` in it; returns its python."""
    result = _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=venv.parent)
    assert result.returncode == 0, result.stderr
    python = venv / "bin" / "python"
    result = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            wheel,
        ],
        cwd=venv.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # The runtime dependencies, from the running environment: its site-packages folder on
    # sys.path.  A folder named in a .pth file is not scanned for .pth files itself, so the
    # editable install's hook there never runs: the source tree stays out of reach.
    import numpy

    (site,) = (venv / "lib").glob("python*/site-packages")
    (site / "running_environment.pth").write_text(str(Path(numpy.__file__).parents[1]) + "\n")
    return python


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(python, folder outside the repository, the wheel) for the wheel of this repository."""
    where = tmp_path_factory.mktemp("install")
    wheel = build_wheel(ROOT, where)
    python = install(wheel, where / "venv")
    outside = where / "elsewhere"
    outside.mkdir()
    return python, outside, wheel


def test_the_wheel_holds_every_file_of_both_packages(installed):
    _, _, wheel = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = _source_files() - names
    assert not missing, (
        f"the wheel leaves out {sorted(missing)}: see setup.cfg's packages and package_data"
    )
    assert {
        "viz/explore.js",
        "viz/explore.css",
        "tinygrad_sine/compile/__init__.py",
        "tinygrad_sine/ops/__init__.py",
    } <= names
    others = {n.split("/")[0] for n in names} - set(PACKAGES)
    assert all(n.endswith(".dist-info") for n in others), others  # no tests/, docs/ …


def test_the_installed_packages_import_from_the_new_environment(installed):
    python, outside, _ = installed
    result = _run(
        [
            python,
            "-c",
            "import tinygrad_sine, viz, tinygrad_sine.compile; "
            "print(tinygrad_sine.__file__); print(viz.__file__)",
        ],
        cwd=outside,
    )
    assert result.returncode == 0, result.stderr
    venv = python.parent.parent
    for line in result.stdout.split():
        path = Path(line)
        assert path.is_relative_to(venv) and not path.is_relative_to(ROOT), line


def test_check_runs_from_the_wheel(installed):
    python, outside, _ = installed
    result = _run([python.parent / "tinygrad-sine", "check"], cwd=outside)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout


def test_train_with_the_compiled_engine_writes_every_file(installed, require_dot):
    python, outside, _ = installed
    out = outside / "run"
    result = _run(
        [
            python.parent / "tinygrad-sine",
            "train",
            "--epochs",
            "3",
            "--interval",
            "1",
            "--engine",
            "compiled",
            "--out",
            out,
        ],
        cwd=outside,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Epoch:2/3" in result.stdout
    for name in (
        "snapshots.png",
        "snapshots.svg",
        "error.png",
        "error.svg",
        "graph.svg",
        "explore.html",
    ):
        assert (out / name).stat().st_size > 0, name
    assert "<svg" in (out / "graph.svg").read_text(encoding="utf-8")


def test_explore_writes_a_page_with_its_script_and_styles_inside(installed, require_dot):
    python, outside, _ = installed
    result = _run([python.parent / "tinygrad-sine", "explore", "--out", "page.html"], cwd=outside)
    assert result.returncode == 0, result.stdout + result.stderr
    page = (outside / "page.html").read_text(encoding="utf-8")
    assert "<script src" not in page and "stylesheet" not in page
    for asset in ("explore.js", "explore.css"):  # a few of each file's lines are in the page
        lines = [
            s.strip()
            for s in (ROOT / "viz" / asset).read_text(encoding="utf-8").splitlines()
            if len(s.strip()) > 20 and "<" not in s and "&" not in s
        ]
        assert lines and all(line in page for line in lines[:5]), asset
