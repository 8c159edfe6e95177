"""Files are written whole or not at all: a failing writer, Ctrl-C or SIGTERM part way
leaves the previous file untouched and no temporary file behind."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from helpers import ROOT, fake_dot
from matplotlib.figure import Figure

from tinygrad_sine import files
from tinygrad_sine.files import atomic_write
from tinygrad_sine.nn import SineNet, squared_error
from tinygrad_sine.sine import History
from tinygrad_sine.value import Value
from viz import graph as graph_module
from viz.graph import GraphvizNotFound, render_graph
from viz.plots import save_figures

OUTPUTS = ("snapshots.png", "snapshots.svg", "error.png", "error.svg", "graph.svg")


def a_loss():
    net = SineNet(seed=0)
    return squared_error(net(Value([[0.1]], label="x")), [[0.2]])


def a_history() -> History:
    h = History()
    for epoch, err in ((0, 0.3), (1, 0.2)):
        h.epochs.append(epoch)
        h.errors.append(err)
        h.snapshots[epoch] = (np.linspace(-1, 1, 5), np.zeros(5))
    return h


def disk_full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device (simulated)")


@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, "disk full"), KeyboardInterrupt()])
def test_a_writer_failing_midway_leaves_the_old_file_and_no_temp_file(tmp_path, error):
    target = tmp_path / "figure.png"
    target.write_bytes(b"the old, good figure")

    def half_then_fail(tmp):
        tmp.write_bytes(b"\x89PNG half of it")
        raise error

    with pytest.raises(type(error)):
        atomic_write(target, half_then_fail)
    assert target.read_bytes() == b"the old, good figure"
    assert os.listdir(tmp_path) == ["figure.png"]
    assert atomic_write(target, b"new").read_bytes() == b"new"  # and a good write replaces it
    assert os.listdir(tmp_path) == ["figure.png"]


def test_a_failed_write_names_the_file_asked_for_not_the_temporary_one(tmp_path):
    target = tmp_path / "no such folder" / "page.html"
    with pytest.raises(FileNotFoundError) as caught:  # the same errno, so the same subclass
        atomic_write(target, "<html/>")
    message = str(caught.value)
    assert f"cannot write {str(target)!r}" in message and "No such file" in message
    assert ".tmp" not in message


def test_save_figures_failing_midway_keeps_every_old_figure(tmp_path, monkeypatch):
    names = ["snapshots.png", "snapshots.svg", "error.png", "error.svg"]
    for name in names:
        (tmp_path / name).write_bytes(b"old " + name.encode())
    real_savefig, calls = Figure.savefig, []

    def savefig_then_disk_full(fig, fname, **kwargs):  # the third file fails half written
        calls.append(fname)
        if len(calls) == 3:
            open(fname, "wb").write(b"\x89PNG\r\n\x1a\n half")
            disk_full()
        return real_savefig(fig, fname, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig_then_disk_full)
    with pytest.raises(OSError, match="No space"):
        save_figures(a_history(), tmp_path)
    assert sorted(os.listdir(tmp_path)) == sorted(names)  # no temp file left
    assert (tmp_path / "error.png").read_bytes() == b"old error.png"  # the failed one: untouched
    assert (tmp_path / "error.svg").read_bytes() == b"old error.svg"  # never reached
    assert (tmp_path / "snapshots.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # done before
    ET.parse(tmp_path / "snapshots.svg")


@pytest.mark.parametrize("suffix", [".dot", ".svg"])
def test_render_graph_failing_midway_keeps_the_old_file(tmp_path, monkeypatch, suffix):
    target = tmp_path / f"g{suffix}"
    target.write_text("the old drawing")
    if suffix == ".svg":  # no need for Graphviz here: dot's output is made up
        fake_dot(tmp_path.parent / f"{tmp_path.name}-bin", monkeypatch,
                 "while read -r line; do :; done; echo '<svg>new</svg>'")
    monkeypatch.setattr(files, "_fsync", disk_full)  # fails after the bytes are written
    with pytest.raises(OSError, match="No space"):
        render_graph(a_loss(), target)
    assert target.read_text() == "the old drawing"
    assert os.listdir(tmp_path) == [target.name]


def dot_is_missing(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "no-such-folder"))  # no dot program


def test_the_dot_fallback_never_overwrites_a_different_file(tmp_path, monkeypatch):
    dot_is_missing(monkeypatch, tmp_path)
    (tmp_path / "x.dot").write_text("someone's own notes")
    with pytest.raises(GraphvizNotFound, match="x-1.dot"):
        render_graph(a_loss(), tmp_path / "x.svg")
    assert (tmp_path / "x.dot").read_text() == "someone's own notes"
    source = (tmp_path / "x-1.dot").read_text(encoding="utf-8")
    assert source.startswith("digraph")
    # The same drawing again: the file that already holds it is reused, nothing new appears.
    with pytest.raises(GraphvizNotFound, match="x-1.dot"):
        render_graph(a_loss(), tmp_path / "x.svg")
    assert sorted(os.listdir(tmp_path)) == ["x-1.dot", "x.dot"]
    assert graph_module._free_dot_name(tmp_path / "new.dot", source) == tmp_path / "new.dot"


# ------------------------------------------------ train stopped while it writes


def is_complete(path) -> bool:
    """A whole PNG (signature … IEND chunk) or an SVG that parses as XML."""
    data = path.read_bytes()
    if path.suffix == ".png":
        return data.startswith(b"\x89PNG\r\n\x1a\n") and data[-12:-4] == b"\0\0\0\0IEND"
    try:
        return ET.fromstring(data).tag.endswith("svg")
    except ET.ParseError:
        return False


def writing_has_begun(out, old: dict) -> bool:
    """A temporary file in ``out``, or the first figure no longer the old one."""
    first = out / "snapshots.png"
    return (any(name.endswith(".tmp") for name in os.listdir(out))
            or first.stat().st_size != len(old[first.name]))


def train_stopped_while_writing(out, old: dict, signum: int, delay: float) -> int:
    """Start ``tinygrad-sine train``, wait until it starts writing into ``out``, wait
    ``delay`` more seconds, send ``signum``; return the exit status."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    child = subprocess.Popen([sys.executable, "-m", "tinygrad_sine", "train", "--epochs", "1",
                              "--out", str(out)], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while child.poll() is None and time.monotonic() < deadline:
        if writing_has_begun(out, old):
            time.sleep(delay)
            child.send_signal(signum)
            break
        time.sleep(0.0005)
    _, stderr = child.communicate(timeout=30)
    assert b"Traceback" not in stderr, stderr.decode()
    return child.returncode


@pytest.mark.parametrize("signum, delay", [
    (signal.SIGINT, 0.0),  # lands in the first figure
    (signal.SIGTERM, 0.02),  # lands a figure or two later
], ids=["SIGINT", "SIGTERM"])
def test_train_stopped_while_writing_leaves_each_output_whole_new_or_untouched(
        tmp_path, signum, delay):
    old = {name: f"old {name}".encode() for name in OUTPUTS}
    for attempt in range(3):  # on a busy machine this process may look too late: try again
        out = tmp_path / f"attempt{attempt}"
        out.mkdir()
        for name, data in old.items():
            (out / name).write_bytes(data)
        status = train_stopped_while_writing(out, old, signum, delay)
        if status != 0:
            break
    assert status == 128 + signum, "the signal did not land while train was writing"
    assert sorted(os.listdir(out)) == sorted(OUTPUTS)  # no temp or probe file left
    for name in OUTPUTS:
        path = out / name
        assert path.read_bytes() == old[name] or is_complete(path), name
