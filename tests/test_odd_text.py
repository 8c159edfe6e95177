"""Odd text never breaks a view, and a read-only disk names the file asked for.

A lone surrogate ("\\ud800", which UTF-8 cannot encode) in an op's name or
docstring, and U+FFFE / U+FFFF (which XML forbids) in a label, used to make
explore() raise UnicodeEncodeError and dot fail ("not well-formed").  Every
view now shows such text as its escape, as labels were already shown.
"""

from __future__ import annotations

import errno
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tinygrad_sine import Stepper, Value, apply, files, show
from tinygrad_sine.files import atomic_write, safe_text
from tinygrad_sine.ops import Op
from tinygrad_sine.repl import prompt
from viz import draw_graph, explore, render_graph

SURROGATE, FFFE, FFFF = chr(0xD800), chr(0xFFFE), chr(0xFFFF)


def odd_graph(odd: str, in_label: bool = False) -> Value:
    """(2x)² through a custom op whose name and docstring hold ``odd`` (and, if asked,
    the labels too)."""
    class Odd(Op):
        name = f"twice{odd}"
        forward = staticmethod(lambda x: 2 * x)
        backward = staticmethod(lambda g, y, x: 2 * g)

    # Set after the class is made: a class statement cannot hold a lone surrogate there.
    Odd.__doc__ = f"y = 2x{odd};  ∂x = ∂y · 2{odd}"
    x = Value(1.5, label=f"x{odd}" if in_label else "x")
    y = apply(Odd, x)
    y.label = f"y{odd}" if in_label else None
    root = y * y
    root.backward()
    return root


def svg_texts(svg: str) -> str:
    return " ".join("".join(e.itertext()) for e in ET.fromstring(svg).iter()
                    if e.tag.endswith("}text"))


def page_data(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json"[^>]*>(.*?)</script>',
                                page, re.S).group(1))


def test_safe_text_escapes_only_what_utf8_or_xml_cannot_hold():
    kept = "tab\t new\n cr\r é ∂ 𝔼 \U0010ffff <&>"
    assert safe_text(kept) == kept
    assert safe_text(f"a{SURROGATE}b{chr(0xDFFF)}") == "a\\ud800b\\udfff"
    assert safe_text(f"{FFFE}{FFFF}") == "\\ufffe\\uffff"
    assert safe_text("\x00\x01\x1f") == "\\x00\\x01\\x1f"
    assert safe_text(f"\x1b[A{FFFF}{SURROGATE}", xml=False) == f"\x1b[A{FFFF}\\ud800"
    safe_text(SURROGATE + FFFF).encode("utf-8")  # now writable


@pytest.mark.parametrize("odd", [SURROGATE, FFFE, FFFF])
def test_odd_text_in_an_op_name_or_docstring_or_label_shows_escaped_in_every_view(
        odd, tmp_path, require_dot):
    escaped = safe_text(odd)  # e.g. the six characters \ud800
    root = odd_graph(odd, in_label=True)
    # the diagram: a well-formed SVG whose texts show the escape
    svg = render_graph(root, tmp_path / "g.svg").read_text(encoding="utf-8")
    assert f"twice{escaped}" in svg_texts(svg) and f"x{escaped}" in svg_texts(svg)
    dot_text = render_graph(root, tmp_path / "g.dot").read_text(encoding="utf-8")
    assert odd not in dot_text
    # the explorer page: written, its steps' text and names escaped as the labels are
    page = explore(root, tmp_path / "e.html")
    written = (tmp_path / "e.html").read_bytes().decode("utf-8")  # strict: valid UTF-8
    assert written == page and odd not in page
    data = page_data(page)
    assert any(f"twice{escaped}" in step["text"] for step in data["steps"])
    assert any(step["name"] == f"y{escaped}" for step in data["steps"])
    # the REPL's show and tree, and show() on a strict UTF-8 stream: a terminal gets
    # every character UTF-8 can encode as it is, a lone surrogate as its escape
    printed = safe_text(odd, xml=False)
    out = io.StringIO()
    prompt(Stepper(root), io.StringIO(f"n\nshow {tmp_path / 's.svg'}\ntree\n"), out, False)
    assert "error" not in out.getvalue() and f"twice{printed}" in out.getvalue()
    ET.parse(tmp_path / "s.svg")
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    show(root, file=stream)
    stream.flush()
    assert f"twice{printed}" in stream.buffer.getvalue().decode("utf-8")


def test_a_lone_surrogate_in_the_dot_source_is_escaped_before_dot_sees_it():
    source = draw_graph(odd_graph(SURROGATE)).source
    source.encode("utf-8")  # used to fail: UnicodeEncodeError
    assert "twice\\\\ud800" in source  # backslash doubled for Graphviz, shown as \ud800


def test_atomic_write_of_text_with_a_lone_surrogate_writes_its_escape(tmp_path):
    path = atomic_write(tmp_path / "a.txt", f"a{SURROGATE}b")
    assert path.read_bytes() == b"a\\ud800b"


def read_only_disk(monkeypatch):
    """What a read-only filesystem does to atomic_write: making the temporary file fails
    with EROFS, and so does the cleanup's unlink of it.  (As root, as the tests run, a
    read-only folder does not stop a write, and mounting one needs privileges the
    tests do not have; so both calls are replaced by ones that fail as the kernel does.)"""
    def refuse(path, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(files, "open", refuse, raising=False)
    monkeypatch.setattr(Path, "unlink", lambda self, missing_ok=False: refuse(self))


@pytest.mark.parametrize("content", ["text", b"bytes", "writer"])
def test_a_read_only_disk_names_the_file_asked_for_not_the_temporary_one(
        tmp_path, monkeypatch, content):
    read_only_disk(monkeypatch)
    target = tmp_path / "a.txt"
    data = (lambda tmp: files.open(tmp, "xb")) if content == "writer" else content
    with pytest.raises(OSError) as err:
        atomic_write(target, data)
    assert err.value.errno == errno.EROFS
    assert str(target) in str(err.value) and ".tmp" not in str(err.value)
    assert "Read-only file system" in str(err.value)


def test_render_explore_and_the_repl_show_name_the_file_on_a_read_only_disk(
        tmp_path, monkeypatch):
    a = Value(2.0, label="a")
    read_only_disk(monkeypatch)
    for write, name in [(lambda p: render_graph(a * a, p), "g.dot"),
                        (lambda p: explore(a * a, p), "e.html")]:
        with pytest.raises(OSError, match=rf"cannot write '.*{name}': Read-only") as err:
            write(tmp_path / name)
        assert ".tmp" not in str(err.value)
    out = io.StringIO()
    prompt(Stepper(a * a), io.StringIO(f"show {tmp_path / 's.dot'}\n"), out, False)
    assert "error: " in out.getvalue() and "s.dot': Read-only" in out.getvalue()
    assert ".tmp" not in out.getvalue()
