"""Check the transcripts in our Markdown files against what the program prints, or rewrite them.

    python docs/transcripts.py                  # check README.md, docs/graphs.md, docs/tutorial.md
    python docs/transcripts.py --update         # rewrite every shown output from the program
    python docs/transcripts.py --all            # check, including the blocks marked slow
    python docs/transcripts.py docs/tutorial.md # only this file (with or without --update)

A *transcript* is a fenced block that shows code together with what it prints.
Three kinds are recognised:

``python`` + ``text``
    A ```python block runs as if pasted into ``python``'s interactive prompt:
    line by line, by the interactive interpreter's rules (``codeop``, as
    ``code.InteractiveConsole`` does), so a bare expression shows its value's
    repr, and a block that the prompt would refuse (a ``for`` loop followed
    directly by another statement, without the blank line that ends it) is
    an error.  The ```text block right after it (only blank lines between)
    is what it prints.  A python block with no text block after it must
    print nothing (``--update`` adds one if it does).
``pycon``
    A doctest-style session: ``>>> `` and ``... `` lines are run one
    statement at a time; the lines below a statement, up to a blank line or
    the next ``>>>``, are what it prints (its value, as in the REPL).  An
    empty line inside that output is written ``<BLANKLINE>``, as doctest does,
    so ``doctest`` can read the same blocks.
shell
    A block whose first line starts with ``$ ``: each ``$ `` line is run by
    bash, and the lines below it, up to the next ``$ `` line, are what it
    prints (standard output and error).  ``tinygrad-sine`` there is this
    checkout's command line; every file's commands run in one fresh
    temporary folder, so files they write go nowhere.

All python and pycon blocks of one file run in order in one namespace: the
file is one program, read top to bottom, in a fresh temporary folder (so a
block that writes a file leaves nothing behind).  Other blocks are prose,
and so is a block whose opening line says ``norun`` (```` ```python norun ````),
for a sketch that is not meant to run.

Shown output must equal the printed output exactly, line by line (trailing
spaces and trailing empty lines aside), after the MASKS below have replaced
what differs from run to run (timings, memory addresses) by ``...``.  There
is no other wildcard: what a reader sees is what the program prints.

A line ``<!-- transcript: slow -->`` just before a block marks a transcript
that takes seconds (the README's full training run): the tests skip it,
``--all`` and ``--update`` run it.

``--update`` rewrites a file (whole, through a temporary file) only when an
output changed, and leaves code, prose and the order of blocks as they are.
Exit status: 0 when everything matches (or was updated), 1 on a mismatch,
2 when a block raises.
"""

from __future__ import annotations

import argparse
import codeop
import contextlib
import io
import os
import re
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ("README.md", "docs/graphs.md", "docs/tutorial.md")

# What varies from one run or machine to the next, and what it is shown as.
MASKS = [
    (re.compile(r"\d+(\.\d+)? s, \d+(\.\d+)? µs per update"), "... s, ... µs per update"),
    (re.compile(r" at 0x[0-9a-fA-F]+"), " at 0x..."),
    (re.compile(r"would take ≈\S+ s here"), "would take ≈... s here"),
]

FENCE = re.compile(r"^```(\S*)(.*)$")  # ```python, or ```python norun
SLOW = "<!-- transcript: slow"


class TranscriptError(Exception):
    """A block raised, or a command could not run: there is no output to compare."""


@dataclass
class Block:
    """One fenced block: ``lines[start]`` is the opening fence, ``lines[end]`` the closing one."""

    start: int
    end: int
    lang: str
    body: list[str]
    slow: bool = False


@dataclass
class Mismatch:
    path: Path
    line: int  # 1-based: the python block's fence, the >>> line or the $ line
    shown: str
    printed: str

    def __str__(self) -> str:
        import difflib

        diff = difflib.unified_diff(self.shown.splitlines(), self.printed.splitlines(),
                                    "shown", "printed", lineterm="", n=2)
        return f"{self.path}:{self.line}: the shown output differs from the printed one\n" + \
            "\n".join(diff)


@dataclass
class Result:
    path: Path
    checked: int = 0  # outputs compared (one per python block, pycon statement, $ command)
    mismatches: list[Mismatch] = field(default_factory=list)
    new_text: str | None = None  # the file with every output as printed


def mask(text: str) -> str:
    """``text`` with trailing spaces and empty lines dropped and the MASKS applied."""
    for pattern, shown in MASKS:
        text = pattern.sub(shown, text)
    return "\n".join(line.rstrip() for line in text.rstrip().splitlines())


def blocks(lines: list[str]) -> list[Block]:
    """The fenced blocks of a Markdown file, in order."""
    found, i = [], 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        end = i + 1
        while end < len(lines) and not re.match(r"^```\s*$", lines[end]):
            end += 1
        if end == len(lines):
            raise TranscriptError(f"line {i + 1}: a ``` block is never closed")
        slow = i > 0 and lines[i - 1].startswith(SLOW)
        lang = "" if "norun" in opening.group(2).split() else opening.group(1)
        found.append(Block(i, end, lang, lines[i + 1:end], slow))
        i = end + 1
    return found


# ------------------------------------------------------------------ running code


def run_python(source: str, namespace: dict, where: str) -> str:
    """Paste ``source`` into an interactive prompt over ``namespace``; return what it printed.

    The lines go in one at a time, as they do when a reader pastes the block
    into ``python``: a statement runs as soon as it is complete, a compound
    one (``for``, ``if``, ``def`` …) at the blank line that ends it, and a bare
    expression prints its value's repr.  One empty line follows the block (the
    Enter a reader presses after pasting).  A line the prompt would refuse is a
    :class:`TranscriptError`, as is an exception.
    """
    out, buffer = io.StringIO(), []
    lines = source.splitlines() + [""]
    with contextlib.redirect_stdout(out):
        for n, line in enumerate(lines, 1):
            buffer.append(line)
            try:
                code = codeop.compile_command("\n".join(buffer), where, "single")
            except SyntaxError as err:
                raise TranscriptError(
                    f"{where}: line {n} of the block fails pasted into the interactive "
                    f"prompt ({type(err).__name__}: {err.msg}); a compound statement such as "
                    "`for` needs a blank line after it") from None
            if code is None:  # the prompt asks for more (its "..." prompt)
                continue
            buffer = []
            try:
                exec(code, namespace)  # "single": a bare expression's value is echoed
            except Exception as err:
                raise TranscriptError(
                    f"{where}: the block raised\n{traceback.format_exc()}") from err
    return out.getvalue()


def run_statement(source: str, namespace: dict, where: str) -> str:
    """Run one REPL statement; return what it printed, its value's repr or its exception."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            exec(compile(source, where, "single"), namespace)  # "single" echoes a value
        except Exception as err:
            return (out.getvalue() + "Traceback (most recent call last):\n...\n"
                    + "".join(traceback.format_exception_only(type(err), err)))
    return out.getvalue()


def pycon_examples(body: list[str]) -> list[tuple[list[str], int, int]]:
    """``(source lines, first output line, end of output)`` per ``>>>`` statement of a body."""
    examples, i = [], 0
    while i < len(body):
        if not body[i].startswith(">>>"):
            i += 1
            continue
        source = [body[i]]
        i += 1
        while i < len(body) and (body[i].startswith("... ") or body[i] == "..."):
            source.append(body[i])
            i += 1
        first = i
        while i < len(body) and body[i].strip() and not body[i].startswith(">>>"):
            i += 1
        examples.append((source, first, i))
    return examples


class Shell:
    """Runs ``$`` lines in bash, in one temporary folder, with ``tinygrad-sine`` on PATH."""

    def __init__(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="transcripts-")
        self.cwd = Path(self._tmp.name)
        bindir = self.cwd / ".bin"
        bindir.mkdir()
        tool = bindir / "tinygrad-sine"
        tool.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m tinygrad_sine "$@"\n')
        tool.chmod(0o755)
        python = bindir / "python"  # `$ python examples/….py`: this Python, the repo's examples
        python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        python.chmod(0o755)
        (self.cwd / "examples").symlink_to(ROOT / "examples")
        self.env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
                        PYTHONPATH=f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
                        MPLBACKEND="Agg", COLUMNS="100", PYTHONIOENCODING="utf-8")

    def run(self, command: str, where: str) -> str:
        done = subprocess.run(["bash", "-c", command], cwd=self.cwd, env=self.env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
        if done.returncode not in (0, 1, 2):
            raise TranscriptError(f"{where}: `{command}` exited with {done.returncode}\n"
                                  f"{done.stdout}")
        return done.stdout

    def close(self) -> None:
        self._tmp.cleanup()


# ------------------------------------------------------------------ one file


class _File:
    """One file's run: its lines, one namespace, and what to replace where."""

    def __init__(self, path: Path):
        self.path = path
        self.lines = path.read_text(encoding="utf-8").splitlines()
        self.result = Result(path)
        self.namespace = {"__name__": "__transcript__"}
        self.shell: Shell | None = None
        self.replacements: list[tuple[int, int, list[str]]] = []  # lines[first:end] → new

    def compare(self, line: int, shown: str, printed: str, first: int, end: int, new=None):
        """Count one output; on a difference, note it and the lines that replace it."""
        self.result.checked += 1
        if shown != printed:
            self.result.mismatches.append(Mismatch(self.path, line, shown, printed))
            self.replacements.append((first, end, printed.splitlines() if new is None else new))

    def python(self, block: Block, text: Block | None) -> None:
        """A python block, and the text block after it (None if there is none)."""
        where = f"{self.path}:{block.start + 1}"
        printed = mask(run_python("\n".join(block.body) + "\n", self.namespace, where))
        if text is not None:
            self.compare(block.start + 1, "\n".join(text.body).rstrip(), printed,
                         text.start + 1, text.end)
        else:  # a text block to add below, if it printed anything
            self.compare(block.start + 1, "", printed, block.end + 1, block.end + 1,
                         ["", "```text", *printed.splitlines(), "```"])

    def pycon(self, block: Block) -> None:
        base = block.start + 1  # lines[base + i] is block.body[i]
        for source, first, end in pycon_examples(block.body):
            code = "\n".join(s[4:] for s in source) + "\n"
            line = base + first - len(source) + 1  # 1-based, of the >>> line
            printed = mask(run_statement(code, self.namespace, f"{self.path}:{line}"))
            shown = "\n".join("" if s == "<BLANKLINE>" else s for s in block.body[first:end])
            doctest_form = [s if s.strip() else "<BLANKLINE>" for s in printed.splitlines()]
            self.compare(line, shown.rstrip(), printed, base + first, base + end, doctest_form)

    def commands(self, block: Block) -> None:
        self.shell = self.shell or Shell()
        base = block.start + 1
        starts = [i for i, s in enumerate(block.body) if s.startswith("$ ")]
        for i, end in zip(starts, [*starts[1:], len(block.body)]):
            printed = mask(self.shell.run(block.body[i][2:], f"{self.path}:{base + i + 1}"))
            shown = "\n".join(block.body[i + 1:end]).rstrip()
            self.compare(base + i + 1, shown, printed, base + i + 1, base + end)

    def new_text(self) -> str:
        lines = list(self.lines)
        for first, end, new in sorted(self.replacements, reverse=True):  # bottom up
            lines[first:end] = new
        return "\n".join(lines) + "\n"


def process(path: Path, slow: bool = False) -> Result:
    """Run every transcript of ``path``; compare, and compute the file as printed."""
    file = _File(path)
    found = blocks(file.lines)
    here = os.getcwd()
    folder = tempfile.TemporaryDirectory(prefix="transcripts-")
    os.chdir(folder.name)
    try:
        outputs = set()  # the text blocks that belong to a python block
        for block, nxt in zip(found, [*found[1:], None]):
            if block.start in outputs or (block.slow and not slow):
                continue
            if block.lang == "python":
                between = file.lines[block.end + 1:nxt.start] if nxt else []
                is_output = nxt is not None and nxt.lang == "text" and not "".join(between).strip()
                file.python(block, nxt if is_output else None)
                if is_output:
                    outputs.add(nxt.start)
            elif block.lang == "pycon":
                file.pycon(block)
            elif block.body and block.body[0].startswith("$ "):
                file.commands(block)
    finally:
        os.chdir(here)
        folder.cleanup()
        if file.shell is not None:
            file.shell.close()
    file.result.new_text = file.new_text()
    return file.result


def write_whole(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path,
                        help=f"Markdown files (default: {', '.join(FILES)})")
    parser.add_argument("--update", action="store_true",
                        help="rewrite the shown outputs from what the program prints")
    parser.add_argument("--all", action="store_true",
                        help="also run the blocks marked slow (--update always does)")
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    sys.path.insert(0, str(ROOT))
    files = args.files or [ROOT / f for f in FILES]
    status = 0
    for path in files:
        try:
            result = process(path, slow=args.all or args.update)
        except TranscriptError as err:
            print(err, file=sys.stderr)
            status = 2
            continue
        if args.update:
            if result.mismatches:
                write_whole(path, result.new_text)
            print(f"{path}: {result.checked} outputs, {len(result.mismatches)} updated")
        else:
            for m in result.mismatches:
                print(m, file=sys.stderr)
            print(f"{path}: {result.checked} outputs, {len(result.mismatches)} differ")
            status = max(status, 1 if result.mismatches else 0)
    return status


if __name__ == "__main__":
    sys.exit(main())
