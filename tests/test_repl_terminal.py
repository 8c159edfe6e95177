"""`tinygrad-sine step` at a real terminal: a pseudo-terminal, keys typed as a person types them.

Through a pipe the prompt reads plain lines (tests/test_cli_graph_step.py);
here it runs as a learner meets it, with readline's history and editing.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time

import pytest

pty = pytest.importorskip("pty")  # POSIX only; Linux (CI) always has it

UP, LEFT = "\x1b[A", "\x1b[D"


class Terminal:
    """``tinygrad-sine step`` on a pseudo-terminal; ``type`` sends keys, ``read_until`` waits."""

    def __init__(self):
        self.main, sub = pty.openpty()
        env = dict(os.environ, TERM="xterm", COLUMNS="200")
        self.proc = subprocess.Popen([sys.executable, "-m", "tinygrad_sine", "step"],
                                     stdin=sub, stdout=sub, stderr=sub, env=env,
                                     start_new_session=True)
        os.close(sub)
        self.seen = ""

    def read_until(self, text: str, timeout: float = 20.0, start: int = 0) -> str:
        """Read until ``text`` shows (at or after ``start`` in what was seen)."""
        end = time.monotonic() + timeout
        while text not in self.seen[start:]:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.main], [], [], left)[0]:
                raise AssertionError(f"waited for {text!r}; the screen shows:\n{self.seen[-2000:]}")
            try:
                self.seen += os.read(self.main, 65536).decode("utf-8", "replace")
            except OSError:  # the program ended
                raise AssertionError(f"ended before {text!r}:\n{self.seen[-2000:]}") from None
        return self.seen

    def type(self, keys: str) -> None:
        os.write(self.main, keys.encode())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        os.close(self.main)


@pytest.fixture
def terminal():
    term = Terminal()
    yield term
    term.close()


def test_the_prompt_is_step_and_up_arrow_brings_back_the_last_command(terminal):
    terminal.read_until("step> ")
    terminal.type("goto u1\r")
    terminal.read_until("step 4 · forward")
    mark = len(terminal.seen)
    terminal.type("n\r")
    screen = terminal.read_until("step 5 · forward")
    # the next prompt: readline reads again (an arrow typed before it is echoed as ^[[A)
    terminal.read_until("step> ", start=screen.index("step 5 · forward"))
    terminal.type(UP + UP + "\r")  # ↑↑: back to "goto u1", which now finds u1's backward step
    screen = terminal.read_until("backward · u1")
    assert "unknown command" not in screen[mark:]
    # (whether the terminal also echoed ^[[A depends on whether readline had switched it to raw
    # mode when the keys arrived, a race; what counts is that readline read them as ↑)


def test_left_arrow_edits_the_line_before_it_is_sent(terminal):
    terminal.read_until("step> ")
    terminal.type("goto 7" + LEFT + "1\r")  # typed "goto 7", ← then "1": the line is "goto 17"
    screen = terminal.read_until("step 17 ·")
    assert "unknown command" not in screen


def test_an_unknown_command_at_the_terminal_is_one_line(terminal):
    terminal.read_until("step> ")
    terminal.type("bogus\r")
    screen = terminal.read_until("type help for the commands")
    after = screen.split("unknown command 'bogus'")[1]
    terminal.read_until("step> ", timeout=5)
    assert "goto LABEL|N" not in terminal.seen.split("unknown command 'bogus'")[1]
    assert after.startswith(": type help for the commands")
    terminal.type("q\r")
    assert terminal.proc.wait(timeout=10) == 0
