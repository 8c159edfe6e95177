"""Writing files whole or not at all.

Every file the project writes (diagrams, figures, ``train``'s outputs) goes
through :func:`atomic_write`: the bytes go to a temporary file in the same
folder, are flushed to disk, and only then does ``os.replace`` put the file
in place.  ``os.replace`` within one folder is atomic, so a reader (or the
next run) sees either the complete new file or the untouched old one — never
a half-written file — even when the disk fills up, the writer raises, or the
program is stopped with Ctrl-C (``KeyboardInterrupt``).  The temporary file
is removed on any error.

Text that a file cannot hold is escaped where it is written
(:func:`safe_text`): a lone surrogate (U+D800 … U+DFFF, which UTF-8 cannot
encode) and the characters XML forbids (U+FFFE, U+FFFF, most control
characters), which would make Graphviz and SVG readers fail, are written as
their escapes, so a label or an op's name never breaks a diagram or a page.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path

# Characters no UTF-8 file or XML document can hold: C0 controls but tab, newline and
# carriage return; lone surrogates; the two non-characters U+FFFE and U+FFFF.
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def safe_text(text: str, xml: bool = True) -> str:
    r"""``text`` with every character that UTF-8 or XML cannot hold shown as its escape.

    A lone surrogate becomes ``\ud800``, U+FFFE ``\ufffe``, a control
    character ``\x01`` (as Python writes them in a string's repr); tab,
    newline and everything else are kept.  Every view that writes text to a
    file or to Graphviz (diagrams, the explorer page, the text tree) passes
    it through here, so odd text shows as written instead of failing.
    ``xml=False`` escapes only lone surrogates (for text printed to a terminal,
    where control characters such as an arrow key's escape stay as they are).

    >>> print(safe_text("x" + chr(0xD800) + " y" + chr(0xFFFE) + " z" + chr(1) + " ok"))
    x\ud800 y\ufffe z\x01 ok
    """
    return (_UNWRITABLE if xml else _SURROGATE).sub(_escape, text)


def _escape(found: re.Match) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def make_folder(folder: str | os.PathLike, what: str = "folder") -> Path:
    """Create ``folder`` and its parents if needed; return it as a Path.

    When some part of the path is an existing *file*, raise
    ``NotADirectoryError`` saying which part, instead of the bare
    ``[Errno 17] File exists`` that ``Path.mkdir`` gives.  ``what`` names the
    caller or the option in the message (e.g. ``"--out"``).
    """
    folder = Path(folder)
    for part in (folder, *folder.parents):
        if part.exists() and not part.is_dir():
            raise NotADirectoryError(f"{what}: {str(part)!r} is a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def atomic_write(path: str | os.PathLike, data: bytes | str | Callable[[Path], object]) -> Path:
    """Write ``path`` whole or not at all; return it as a Path.

    ``data`` is the content (``bytes``, or ``str`` written as UTF-8), or a
    function that writes the file at the path it is given — e.g.
    ``lambda tmp: fig.savefig(tmp, format="png")`` — for writers that want a
    file name rather than bytes.  That path is a temporary name in the same
    folder (``.NAME.<random>.tmp``); once it is complete and flushed to disk
    it replaces ``path`` in one step (``os.replace``).  ``str`` content with a
    lone surrogate (which UTF-8 cannot encode) has it written as its escape,
    ``\\ud800``.  On any error,
    ``KeyboardInterrupt`` included, the temporary file is removed and
    ``path`` is left as it was; an ``OSError`` is raised again (same errno,
    so the same subclass) with a message naming ``path``, not the temporary name.

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     atomic_write(pathlib.Path(folder) / "note.txt", "hello").read_text()
    'hello'
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    if isinstance(data, str):  # a lone surrogate, which UTF-8 cannot hold, as \udXXX
        data = data.encode("utf-8", "backslashreplace")
    try:
        if callable(data):
            data(tmp)
        else:
            with open(tmp, "xb") as f:  # "x": never write into someone else's file
                f.write(data)
        _fsync(tmp)  # the bytes are on disk before the name points at them
        os.replace(tmp, path)
    except OSError as err:  # name the file asked for, not the temporary one
        _remove(tmp)
        raise OSError(err.errno, f"cannot write {str(path)!r}: {err.strerror or err}") from err
    except BaseException:  # also KeyboardInterrupt and SystemExit: leave nothing behind
        _remove(tmp)
        raise
    _fsync(path.parent)  # the rename itself survives a crash (best effort)
    return path


def _remove(tmp: Path) -> None:
    """Remove a temporary file, if it is there; a failure here (a read-only disk, where
    it was never made) must not replace the error that says which file could not be
    written."""
    try:
        tmp.unlink(missing_ok=True)
    except OSError:
        pass


def _fsync(path: Path) -> None:
    """Flush a file's (or a folder's) data to disk; a no-op where the system cannot."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # e.g. folders on Windows
        pass
    finally:
        os.close(fd)
