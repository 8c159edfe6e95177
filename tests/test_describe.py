"""What the views say about a graph (describe.py): numbers that add up, formulas in the graph's
names, op arguments, leaf roles, your own ops, odd labels, long chains."""

from __future__ import annotations

import inspect
import math
import re
import subprocess
import sys
import tracemalloc
from decimal import Decimal, localcontext

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_sine import Stepper, Value, apply, ops, show_text
from tinygrad_sine.describe import describe, number, role_of, set_role
from tinygrad_sine.nn import SineNet
from tinygrad_sine.repl import PROMPT_HELP, _command
from tinygrad_sine.stepper import training_step
from viz.graph import RANKDIR, STYLE, draw_graph

NUMBER = r"-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?"


def describe_name(s: Stepper, step) -> str:
    return s.info.name(step.node)


def micrograd_example():
    """d = tanh(a·b) + a² at a = 2, b = −3 (micrograd's letters as labels)."""
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    e = c.tanh()
    e.label = "e"
    d = e + a**2
    d.label = "d"
    return a, b, d


def tolerance(text: str) -> Decimal:
    """How far the number shown as ``text`` may be from the true one: half a unit in its
    last digit, or float noise for a short number (fewer than 4 significant digits are
    only shown for a number that is exactly that)."""
    digits = len(text.lstrip("-").split("e")[0].replace(".", "").lstrip("0"))
    if digits < 4:
        return Decimal(4 * math.ulp(float(text)))
    return Decimal(5) * Decimal(10) ** (Decimal(text).as_tuple().exponent - 1)


def exact_sum_is_shown(b: str, p: str, t: str) -> bool:
    """The shown parts, added as decimals, give the shown total to its last digit —
    or, where parts nearly cancel, each is the shortest text of its float and the
    float sum of the parts is the total."""
    with localcontext() as ctx:
        ctx.prec = 1000
        if abs(Decimal(b) + Decimal(p) - Decimal(t)) <= tolerance(t) and keeps_places(b, p, t):
            return True
    floats = [float(x) for x in (b, p, t)]
    return [repr(x) for x in floats] == [b, p, t] and floats[0] + floats[1] == floats[2]


def keeps_places(b: str, p: str, t: str) -> bool:
    """A rounded total shows every decimal place that both parts show: 3.00001 plus
    −0.00009831 is 2.99991, not 2.9999 (which is within half a unit of its own last
    digit, but drops the digit the parts show).  A short total is exact: no places lost."""
    if tolerance(t) < Decimal(5) * Decimal(10) ** (Decimal(t).as_tuple().exponent - 1):
        return True  # fewer than 4 significant digits: exact
    place = [Decimal(x).as_tuple().exponent for x in (b, p, t)]
    return place[2] <= max(place[0], place[1])


def numbers_in(text: str) -> list[str]:
    return re.findall(NUMBER, text)


def check_sums_add_up_as_shown(s: Stepper) -> int:
    """Every running total shown is the shown previous total plus the shown contribution,
    to the digits shown; the gradient that then arrives is written as the last total.
    Returns how many sums were checked."""
    totals: dict[str, list[str]] = {}
    checked = 0
    for step in s:
        if step.phase != "backward":
            continue
        lines = step.text.splitlines()
        arriving = re.match(r"  gradient arriving  ∂(.+?) = (.*?)   \(total of", lines[1])
        if arriving:
            assert totals[arriving.group(1)][-1] == arriving.group(2)
        for line, after in zip(lines, lines[1:] + [""]):
            sent = re.match(r"  → (.+?) gets (.*?)(   \(summed|$)", line)
            total = re.match(r"      running total of ∂(.+?) \((\d+) of \d+\): (.*)$", after)
            if not (sent and total):
                continue
            name, part, now = total.group(1), sent.group(2), total.group(3)
            assert sent.group(1) == name
            if total.group(2) == "1":
                assert now == part
            elif "..." not in now and "…" not in now:
                before = totals[name][-1]
                for b, p, t in zip(numbers_in(before), numbers_in(part), numbers_in(now),
                                   strict=True):
                    assert exact_sum_is_shown(b, p, t), (b, p, t)
                    checked += 1
            totals.setdefault(name, []).append(now)
    return checked


# ------------------------------------------------------------ numbers


def test_the_stepper_shows_sums_that_add_up_and_no_rounding_that_looks_exact():
    a, b, d = micrograd_example()
    s = Stepper(d)
    assert check_sums_add_up_as_shown(s) == 1  # ∂a = 4 (from a²) + ∂c · b (from a · b)
    y = math.tanh(-6.0)
    true_da = 2 * 2.0 + (1 - y * y) * -3.0  # by hand: d/da (tanh(ab) + a²)
    shown_da = re.search(rf"∂a = ({NUMBER})   \(total of 2", s[-1].text).group(1)
    assert abs(Decimal(shown_da) - Decimal(true_da)) <= tolerance(shown_da)
    # tanh(-6) = -0.9999877…: shown as -1, tanh's 1 − y² would look like 0.
    forward = next(st for st in s if st.phase == "forward" and st.node.label == "e").text
    shown_y = float(re.search(rf"output     e scalar = ({NUMBER})", forward).group(1))
    assert 1 - shown_y**2 > 0 and abs(shown_y - y) < 1e-5
    # The backward step of e gives e to the digits its local derivative 1 − e² needs.
    back = next(st for st in s if st.phase == "backward" and st.node.label == "e").text
    assert "local derivative   ∂c = ∂e · (1 − e²)" in back
    at_e = float(re.search(rf"at e = ({NUMBER})", back).group(1))
    sent = re.search(rf"→ c gets ({NUMBER})", back).group(1)
    assert f"{(1 - at_e**2) * 1.0:.4g}" == f"{float(sent):.4g}"


def test_sums_add_up_as_shown_in_the_seed_network_and_where_parts_nearly_cancel():
    _, loss = (net := SineNet(n_mid=3, wb_width=1.0, seed=1)), None
    loss = training_step(net, np.array([[0.4]]), np.array([[0.9]]))
    check_sums_add_up_as_shown(Stepper(loss))
    a = Value(1.0, label="a")
    big = a * 1e8 - a * (1e8 - 1e-3)  # two contributions that nearly cancel
    assert check_sums_add_up_as_shown(Stepper(big)) == 1


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=2, max_size=5))
def test_sums_add_up_as_shown_for_any_contributions(weights):
    a = Value(0.7, label="a")
    total = a * weights[0]
    for w in weights[1:]:
        total = total + a * w
    total.label = "f"
    assert check_sums_add_up_as_shown(Stepper(total)) == len(weights) - 1


def _two_contributions(first: float, second: float) -> tuple[Stepper, Value]:
    """A node ``n`` that hears ``first`` (from ``n · c1``), then ``second`` (from ``n · c2``)."""
    n = Value(0.5, label="n")
    f = n * Value(second, label="c2") + n * Value(first, label="c1")  # c2's product: last
    f.label = "f"
    return Stepper(f), n


def test_a_running_total_of_very_different_contributions_keeps_the_digits_its_parts_show():
    # the case: 3.00001, then −0.00009831, was shown as a total of 2.9999
    s, n = _two_contributions(-0.00009831, 3.00001)
    totals = re.findall(rf"running total of ∂n \(\d of 2\): ({NUMBER})", "\n".join(
        st.text for st in s))
    parts = re.findall(rf"→ n gets ({NUMBER})", "\n".join(st.text for st in s))
    assert len(totals) == len(parts) == 2
    assert Decimal(parts[0]) == Decimal("-0.00009831") and Decimal(parts[1]) == Decimal("3.00001")
    assert totals[1] == "2.99991"  # 3.00001 − 0.00009831 = 2.99991169, by hand
    arriving = next(st.text for st in s if st.phase == "backward" and st.node is n)
    assert f"∂n = {totals[1]}   (total of 2" in arriving
    assert check_sums_add_up_as_shown(s) == 1


@settings(max_examples=60, deadline=None)
@given(st.floats(1e-3, 1e3), st.integers(-9, 1), st.floats(-1, 1).filter(lambda m: abs(m) > .01),
       st.booleans())
def test_running_totals_keep_their_parts_digits_whatever_the_sizes(big, exponent, mantissa,
                                                                    small_first):
    """Contributions many powers of ten apart, either first: each shown total is the
    shown previous total plus the shown contribution at the total's last digit, keeps
    the places the parts show, and rounds the true total correctly."""
    small = mantissa * 10.0**exponent
    first, second = (small, big) if small_first else (big, small)
    s, n = _two_contributions(first, second)
    assert check_sums_add_up_as_shown(s) == 1
    text = "\n".join(st.text for st in s)
    shown = re.findall(rf"running total of ∂n \(2 of 2\): ({NUMBER})", text)[0]
    true = Decimal(first) + Decimal(second)  # exact sum of the two floats
    with localcontext() as ctx:
        ctx.prec = 1000
        assert abs(true - Decimal(shown)) <= tolerance(shown) + Decimal(4 * math.ulp(float(true)))


def test_number_keeps_four_digits_and_never_rounds_to_a_number_that_looks_exact():
    assert number(1 / 3) == "0.3333" and number(2.0) == "2" and number(-0.0) == "0"
    assert number(math.tanh(-6.0)) == "-0.99999"
    assert number(1.00003) == "1.00003" and number(1.4999999999999996) == "1.5"  # float noise
    for v in [math.tanh(-6.0), 1 + 1e-9, 2.5 + 3e-12, 0.1 + 0.2, -7.3728514e-05, 1e300]:
        text = number(v)
        digits = len(text.lstrip("-").split("e")[0].replace(".", "").lstrip("0"))
        assert digits >= 4 or abs(float(text) - v) <= 4 * math.ulp(v), (v, text)
    assert number(float("nan")) == "nan" and number(-float("inf")) == "-inf"
    # Asked for 5 digits, the trailing zeros count: 0.013040, not 0.0130400005
    assert number(0.013040000541, 5) == "0.013040" and number(0.013040000541) == "0.01304"
    assert number(1.30400005e-10, 6) == "1.30400e-10" and number(0.5, 6) == "0.5"
    assert number(-0.9999877, 5) == "-0.99999"


def test_show_prints_minus_zero_as_zero():
    z = Value([-0.0, 1.0], label="z")
    text = show_text(z * -0.0, show_grad=False)
    assert "-0" not in text and "data [0, 0]" in text


# ------------------------------------------------------------ names in formulas


def test_formulas_are_written_in_the_graphs_names_even_with_the_ops_letters_as_labels():
    a, b, d = micrograd_example()
    s = Stepper(d)
    texts = "\n".join(step.text for step in s)
    assert "where" not in texts  # no "where y = u1" bindings
    assert not re.search(r"(?<![\w#∂])([A-Za-z]\w*) = \1(?![\w#])", texts)  # no "a = a"
    by_label = {(st.phase, st.node.label): st.text for st in s}
    assert "operation  c = a · b" in by_label["forward", "c"]
    assert "local derivative   ∂a = ∂c · b,  ∂b = ∂c · a" in by_label["backward", "c"]
    assert "local derivative   ∂e = ∂d,  ∂pow#1 = ∂d" in by_label["backward", "d"]
    # Labels that swap the op's own letters: b · a, where Mul calls its inputs a and b.
    p, q = Value(3.0, label="b"), Value(5.0, label="a")
    r = p * q
    r.label = "y"
    back = Stepper(r).goto(-3).text  # r's backward step
    assert "local derivative   ∂b = ∂y · a,  ∂a = ∂y · b" in back
    assert "at b = 3, a = 5" in back and "→ b gets 5" in back and "→ a gets 3" in back


def test_seed_steps_use_the_layers_names():
    net = SineNet(seed=0)
    s = Stepper(training_step(net, np.array([[0.4]]), np.array([[0.9]])))
    text = {(step.phase, describe_name(s, step)): step.text for step in s}
    back = text["backward", "y1"]
    assert "local derivative   ∂u1 = ∂y1 · (1 − y1) · y1   (the seed's δ_j, in its order)" in back
    assert "operation  u1 = matmul#1 + b1" in text["forward", "u1"]
    assert "local derivative   ∂matmul#1 = ∂u1,  ∂b1 = ∂u1" in text["backward", "u1"]
    assert all(" where " not in step.text for step in s)


def test_grads_are_keyed_by_value_and_a_step_reads_as_its_text():
    a, b, d = micrograd_example()
    s = Stepper(d)
    step = s.next()
    assert repr(step) == str(step) == step.text and step.text.startswith("step 0 · forward")
    s.goto(-1)
    grads = s.grads()
    assert all(isinstance(k, Value) for k in grads)
    assert grads[b] == pytest.approx(2.0 * (1 - math.tanh(-6.0) ** 2))  # a · tanh'(ab)
    assert f"grad {number(grads[a])}" in show_text(d, grads=grads)
    by_id = {id(k): v for k, v in grads.items()}  # the older id(node) keys still draw
    assert f"grad {number(grads[a])}" in show_text(d, grads=by_id)
    assert f"grad {number(grads[a])}" in draw_graph(d, grads=by_id).source


# ------------------------------------------------------------ what each op does


def test_op_ovals_and_show_lines_give_the_ops_arguments():
    a = Value(np.arange(6.0).reshape(2, 3), label="a")
    parts = {
        "pow n=2": a**2,
        "sum axis=0": a.sum(axis=0),
        "mean axis=(0, 1) keepdims": a.mean(axis=(0, 1), keepdims=True),
        "reshape (3, 2)": a.reshape(3, 2),
        "transpose (1, 0)": a.transpose(1, 0),
        "getitem [0, :2]": a[0, :2],
        "getitem [:, 1::2]": a[:, 1::2],
    }
    calls = {
        "pow n=2": "pow(a, n=2)", "sum axis=0": "sum(a, axis=0)",
        "mean axis=(0, 1) keepdims": "mean(a, axis=(0, 1), keepdims)",
        "reshape (3, 2)": "reshape(a, (3, 2))", "transpose (1, 0)": "transpose(a, (1, 0))",
        "getitem [0, :2]": "getitem(a, [0, :2])", "getitem [:, 1::2]": "getitem(a, [:, 1::2])",
    }
    for label, node in parts.items():
        assert f'label=<{label}>' in draw_graph(node).source.replace("&#x27;", "'")
        assert show_text(node).splitlines()[0].startswith(f"{node.op}#1 = {calls[label]}  root")
    assert "pow n=3" in draw_graph(a**3).source  # **2 and **3 no longer look the same


# ------------------------------------------------------------ one direction, one marker


def test_every_diagram_runs_top_to_bottom_by_default():
    from tinygrad_sine.cli import build_parser

    assert RANKDIR == "TB"
    assert inspect.signature(draw_graph).parameters["rankdir"].default == RANKDIR
    args = build_parser().parse_args(["graph"])
    assert args.rankdir == RANKDIR
    a = Value(2.0, label="a")
    assert "rankdir=TB" in draw_graph(a * a).source


def test_stepper_render_runs_top_to_bottom(tmp_path):
    a = Value(2.0, label="a")
    path = Stepper(a * a).render(tmp_path / "s.dot")
    assert "rankdir=TB" in path.read_text(encoding="utf-8")


def test_list_marks_the_current_step_with_an_arrow_as_the_help_and_docs_say():
    from helpers import ROOT

    a = Value(2.0, label="a")
    s = Stepper(a * a)
    s.next(2)
    listing = _command(s, "list", "").splitlines()
    assert [line[0] for line in listing] == [" ", "→", " ", " "]  # at step 1
    assert "with → at the current one" in PROMPT_HELP
    docs = (ROOT / "docs" / "graphs.md").read_text(encoding="utf-8")
    assert "`list` marks the current step with `→`" in docs and "with >" not in docs


# ------------------------------------------------------------ leaf roles


def test_a_leaf_given_a_role_is_drawn_as_that_role_whatever_its_label():
    target = set_role(Value([1.0, 2.0], label="target"), "input")
    w = Value([0.5, 0.5], label="w")
    loss = ((w - target) ** 2).sum()
    info = describe(loss)
    assert info.kind(target) == "input" and info.kind(w) == "parameter"
    source = draw_graph(loss).source
    line = next(ln for ln in source.splitlines() if "<B>target</B>" in ln)
    assert f'fillcolor="{STYLE["input"][0]}"' in line
    assert STYLE["parameter"][0] not in line
    guessed = Value([1.0, 2.0], label="target")  # no role: the label guess
    assert describe(guessed * 2).kind(guessed) == "parameter"


def test_roles_of_nn_parameters_fed_data_and_constants():
    net = SineNet(seed=0)
    loss = training_step(net, np.array([[0.4]]), np.array([[0.9]]))
    info = describe(loss)
    x, t = loss.parents[1], net.layers[0].x
    assert role_of(x) == role_of(t) == "input" and info.kind(x) == info.kind(t) == "input"
    w1 = net.layers[0].w
    w1.label = "x"  # a parameter whatever it is called: nn made it
    assert role_of(w1) == "parameter" and describe(loss).kind(w1) == "parameter"
    half = Value(3.0, label="k") * 0.5
    assert describe(half).kind(half.parents[1]) == "constant"  # a number lifted by arithmetic
    with pytest.raises(ValueError, match="role must be one of"):
        set_role(Value(1.0), "weights")
    with pytest.raises(TypeError, match="set_role: expected a Value"):
        set_role(1.0, "input")


# ------------------------------------------------------------ your own ops


class Square(ops.Op):
    name = "square"
    forward = staticmethod(lambda x: x * x)
    backward = staticmethod(lambda g, y, x: (g * 2 * x,))


class Scale(ops.Op):
    """Multiplies by a fixed number."""

    name = "scale"

    @staticmethod
    def forward(x, k):
        return x * k

    @staticmethod
    def backward(g, y, x, k):
        return g * k  # a bare array: one input


@pytest.mark.parametrize("op, args, slope", [(Square, (), 6.0), (Scale, (2.5,), 2.5)])
def test_an_op_without_a_formula_shows_steps_and_draws(op, args, slope):
    a = Value(3.0, label="a")
    y = apply(op, a, args=args)
    y.label = "y"
    text = show_text(y)
    assert text.splitlines()[0].startswith(f"y = {op.name}(a{', k=2.5' if args else ''})")
    s = Stepper(y)
    steps = list(s)
    assert len(steps) == 4
    forward, backward = steps[1].text, steps[2].text
    assert f"operation  y = {op.name}(a" in forward
    if op.__doc__:
        assert "about      Multiplies by a fixed number." in forward
    assert f"local derivative   given by {op.__name__}.backward" in backward
    assert f"→ a gets {number(slope)}" in backward  # d/da by hand: 2a at 3, or k
    while s.next() is not None:
        pass
    assert s.grad(a) == pytest.approx(slope)
    assert f"<{op.name}" in draw_graph(y).source


class Blend(ops.Op):
    """y = a + 2b, with no name and a backward that takes *inputs"""

    @staticmethod
    def forward(*inputs):
        return inputs[0] + 2 * inputs[1]

    @staticmethod
    def backward(g, y, *inputs):
        return [g, 2 * g]


def test_an_op_with_no_name_and_star_inputs_is_called_by_its_class():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    y = apply(Blend, a, b)
    assert show_text(y).splitlines()[0].startswith("Blend#1 = Blend(a, b)  root")
    s = Stepper(y)
    back = s[3].text
    assert "local derivative   given by Blend.backward" in back
    assert "→ a gets 1" in back and "→ b gets 2" in back  # ∂/∂a (a + 2b) = 1, ∂/∂b = 2
    source = draw_graph(y).source
    assert "label=<Blend>" in source and "v0 -> op2 [label=1]" in source


# ------------------------------------------------------------ odd labels, long chains


def test_a_surrogate_in_a_label_is_shown_escaped_everywhere():
    a = Value(1.0, label="\ud800x")
    b = a * 2
    text = show_text(b)
    assert "\\ud800x" in text and text.encode("utf-8")
    for step in Stepper(b):
        step.text.encode("utf-8")  # no UnicodeEncodeError on printing
    assert "\\ud800x" in Stepper(b).goto(0).text
    source = draw_graph(b).source
    source.encode("utf-8")
    assert "\\\\ud800x" in source  # the escape, its backslash doubled for Graphviz


def test_show_text_of_a_long_chain_with_a_shared_input_runs_in_linear_memory():
    def peak_bytes(n: int) -> int:
        c, v = Value(0.5, label="c"), Value(1.0, label="v")
        for _ in range(n):
            v = v + c  # each node has a pending second child: c
        tracemalloc.start()
        try:
            lines = show_text(v, show_data=False, show_grad=False).count("\n") + 1
            return tracemalloc.get_traced_memory()[1], lines
        finally:
            tracemalloc.stop()

    small, lines_small = peak_bytes(2_500)
    large, lines_large = peak_bytes(10_000)
    assert lines_small == 2 * 2_500 + 1 and lines_large == 2 * 10_000 + 1
    # 4× the nodes: about 4× the memory (the old tree kept each pending entry's whole
    # indentation: 16×, and 400 MB here), and under 3 kB a node.
    assert large < 5 * small and large < 10_000 * 3_000


_CHAIN_100K = """
import os, resource, sys
from tinygrad_sine import Value, show_text

c, v = Value(0.5, label="c"), Value(1.0, label="v")
for _ in range(100_000):
    v = v + c  # each node has a pending second child: c
# Cap the address space 2 GB above what is mapped now, so that a walk whose memory grows
# faster than the chain fails here with a MemoryError instead of taking the machine's memory.
mapped = int(open("/proc/self/statm").read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
hard = resource.getrlimit(resource.RLIMIT_AS)[1]
cap = mapped + 2 * 2**30
resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard),
                                        hard))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB: the peak so far
text = show_text(v, show_data=False, show_grad=False)
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(text.count("\\n") + 1, grown * 1024)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_show_text_of_a_100_000_node_chain_stays_within_a_memory_bound():
    # The size, in its own process: tracemalloc would take ~10 s here, so the bound is
    # on the peak resident memory instead (ru_maxrss, before and after).  About 1.6 kB a node
    # today (the text itself is 26 MB); the old walk kept each pending entry's whole
    # indentation: 1.6 GB at 20,000 nodes, and at 100,000 it fails the 2 GB cap.
    out = subprocess.run([sys.executable, "-c", _CHAIN_100K], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    lines, grown = map(int, out.stdout.split())
    assert lines == 2 * 100_000 + 1
    assert grown < 100_000 * 6_000  # 600 MB: linear memory, with room to spare


def test_a_surrogate_in_a_label_reaches_the_svg_escaped(tmp_path, require_dot):
    import xml.etree.ElementTree as ET

    from viz import render_graph

    a = Value(1.0, label="\ud800x")
    path = render_graph(a * 2, tmp_path / "s.svg")
    texts = ["".join(t.itertext()) for t in ET.parse(path).iter() if t.tag.endswith("}text")]
    assert "\\ud800x" in texts  # the label, escaped as Python writes it


def test_a_number_argument_written_into_a_formula_drops_the_prose_that_names_it():
    a = Value(2.0, label="a")
    b = Value(3.0, label="b")
    lines = [line.strip() for step in Stepper(a**2 + a**b) for line in step.text.splitlines()
             if line.strip().startswith("operation")]
    assert "operation  pow#1 = a^2" in lines  # not "a^2 for a number n"
    assert "operation  pow#2 = a^b with b a Value" in lines  # b is a node: the prose stays
