"""Writing files whole or not at all.

Every file the project writes (diagrams, figures, ``train``'s outputs) goes
through :func:`atomic_write`: the bytes go to a temporary file in the same
folder, are flushed to disk, and only then does ``os.replace`` put the file
in place.  ``os.replace`` within one folder is atomic, so a reader (or the
next run) sees either the complete new file or the untouched old one — never
a half-written file — even when the disk fills up, the writer raises, or the
program is stopped with Ctrl-C (``KeyboardInterrupt``).  The temporary file
is removed on any error.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path


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
    it replaces ``path`` in one step (``os.replace``).  On any error,
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
    try:
        if callable(data):
            data(tmp)
        else:
            with open(tmp, "xb") as f:  # "x": never write into someone else's file
                f.write(data.encode("utf-8") if isinstance(data, str) else data)
        _fsync(tmp)  # the bytes are on disk before the name points at them
        os.replace(tmp, path)
    except OSError as err:  # name the file asked for, not the temporary one
        tmp.unlink(missing_ok=True)
        raise OSError(err.errno, f"cannot write {str(path)!r}: {err.strerror or err}") from err
    except BaseException:  # also KeyboardInterrupt and SystemExit: leave nothing behind
        tmp.unlink(missing_ok=True)
        raise
    _fsync(path.parent)  # the rename itself survives a crash (best effort)
    return path


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
