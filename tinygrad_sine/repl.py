"""The ``tinygrad-sine step`` prompt: a tiny command loop over a :class:`Stepper`.

It reads one command per line from standard input, so a pipe can drive it:

    printf 'n\\ngoto u1\\nformulas\\nq\\n' | tinygrad-sine step
"""

from __future__ import annotations

import sys
from typing import TextIO

from .files import safe_text
from .show import show_text
from .stepper import Stepper

PROMPT_HELP = """commands:
  n, next [N]        the next step (or N steps on); an empty line does the same
  p, prev [N]        the step before
  g, goto LABEL|N    the next step about node LABEL (u1, w2, E, matmul#1 …), or step N
  l, list            every step, with → at the current one
  w, where           where you are
  tree               the graph as a text tree, gradients as they stand now
  show FILE.svg      draw the graph (.svg/.png/.pdf/.dot), current node highlighted
  formulas           the seed's formulas: manual beside automatic
  help               this text
  q, quit            leave"""


def prompt(stepper: Stepper, infile: TextIO | None = None, outfile: TextIO | None = None,
           interactive: bool | None = None) -> int:
    """A small command loop over ``stepper`` (the ``tinygrad-sine step`` prompt); returns 0.

    Reads one command per line from ``infile`` (standard input by default),
    so a pipe can drive it.  ``interactive`` (default: whether ``infile`` is a
    terminal) shows a ``step>`` prompt; otherwise each command is echoed as
    ``> command`` so the transcript reads well.  At a terminal the prompt has
    line editing and history (readline, where Python has it: ↑/↓ bring back
    earlier commands, ←/→ move along the line).  Mistakes print one line and
    the loop goes on; ``help`` lists the commands.
    """
    infile = sys.stdin if infile is None else infile
    out = sys.stdout if outfile is None else outfile
    interactive = infile.isatty() if interactive is None else interactive
    if interactive and infile is sys.stdin:
        _line_editing()

    def say(text: str) -> None:  # one write: a terminal shows the whole step at once
        out.write(safe_text(text, xml=False) + "\n")  # a lone surrogate as its escape
        out.flush()

    while True:
        if interactive and infile is sys.stdin:
            try:
                line = input("step> ")
            except EOFError:
                break
        else:
            line = infile.readline()
            if not line:
                break
            say(f"> {line.rstrip()}")
        word, _, arg = line.strip().partition(" ")
        word, arg = word.lower(), arg.strip()
        if word in ("q", "quit", "exit"):
            break
        try:
            say(_command(stepper, word, arg))
        except (ValueError, IndexError, OSError, RuntimeError) as err:
            say(f"error: {err}")
    return 0


def _command(s: Stepper, word: str, arg: str) -> str:
    """Carry out one prompt command and return what to print."""
    if word in ("", "n", "next", "p", "prev"):
        # len(arg) first: int() of a 10,000-digit string is itself an error
        if arg and (not arg.isdecimal() or len(arg) > 9 or int(arg) < 1):
            raise ValueError(f"the step count must be a whole number from 1 to {len(s) - 1}, "
                             f"got {_short(arg)}")
        count = int(arg) if arg else 1
        back = word in ("p", "prev")
        left = s.position if back else len(s) - 1 - s.position  # steps there are that way
        if 0 < left < count:
            raise ValueError(f"only {left} step{'s' if left > 1 else ''} "
                             f"{'back' if back else 'on'} from here, not {count}: "
                             f"{s.where()}")
        step = s.prev(count) if back else s.next(count)
        if step is None:
            return f"(no step there: {s.where()})"
        return step.text
    if word in ("g", "goto"):
        if not arg:
            raise ValueError("goto needs a node name or a step number, e.g. goto u1 or goto 5")
        if arg.isdecimal() and len(arg) > 9:
            raise IndexError(f"step {_short(arg)} does not exist; the steps are 0–{len(s) - 1}")
        return s.goto(arg).text
    if word in ("l", "list"):
        return "\n".join(f"{'→' if st.index == s.position else ' '} [{st.index:>2}] {st.title}"
                         for st in s)
    if word in ("w", "where"):
        return s.where()
    if word == "tree":
        step = s.current
        backward = step is not None and step.phase != "forward"  # backward, or the update
        return show_text(s.root, show_grad=backward, grads=s.grads())
    if word == "show":
        if not arg:
            raise ValueError("show needs a file name, e.g. show step.svg")
        return f"wrote {s.render(arg)}"
    if word in ("f", "formulas"):
        return s.formulas_table()
    if word in ("h", "help", "?"):
        return PROMPT_HELP
    if word.startswith("\x1b"):  # an arrow key where the terminal has no line editing
        return ("that was an arrow or another special key, which this prompt cannot read here; "
                "type n for the next step, p for the one before (help lists the commands)")
    return f"unknown command {_short(word)}: type help for the commands"


def _line_editing() -> bool:
    """Give ``input()`` line editing and history, where Python has readline; say whether it did.

    Importing ``readline`` is all it takes: from then on ``input()`` lets ↑/↓
    recall earlier lines and ←/→ move the cursor.  Windows' Python has no
    readline; there the prompt still works, without editing.
    """
    try:
        import readline  # noqa: F401  (its import switches editing on for input())
    except ImportError:
        return False
    return True


def _short(text: str) -> str:
    """``text`` quoted, cut to a readable length (a pasted 10,000-digit number stays one line)."""
    return repr(text) if len(text) <= 30 else f"{text[:20]!r}… ({len(text):,} characters)"
