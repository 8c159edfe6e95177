"""The Stepper: one forward and one backward pass, a node at a time."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_sine import Stepper, Value, grad, topo_order
from tinygrad_sine.compare import FORMULAS, seed_quantities
from tinygrad_sine.manual import ManualSineNet
from tinygrad_sine.nn import SineNet
from tinygrad_sine.repl import prompt
from tinygrad_sine.stepper import training_step

X, T = np.array([[0.4]]), np.array([[0.9]])


def seed_graph(n_mid=3, seed=0):
    net = SineNet(n_mid=n_mid, wb_width=1.0, seed=seed)  # wide weights: no gradient is tiny
    return net, training_step(net, X, T)


def walk_to_end(s: Stepper) -> int:
    steps = 0
    while s.next() is not None:
        steps += 1
    return steps


def assert_stepped_grads_equal_backward(root: Value, s: Stepper) -> None:
    nodes = topo_order(root)
    assert all(n._grad is None for n in nodes)  # stepping left .grad alone
    stepped = s.grads()  # keyed by the nodes themselves
    assert {id(n) for n in stepped} == {id(n) for n in nodes}
    root.backward()
    for n in nodes:
        np.testing.assert_allclose(stepped[n], n.grad, rtol=1e-13, atol=0)


@pytest.mark.parametrize("n_mid", [3, (4, 2)])
def test_stepping_backward_to_the_end_gives_backwards_gradients(n_mid):
    _, loss = seed_graph(n_mid)
    s = Stepper(loss)
    walk_to_end(s)
    assert_stepped_grads_equal_backward(loss, s)


# Random small graphs: shared nodes, a parent used twice by one op, broadcasting.
OPS = [
    lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - b,
    lambda a, b: a * a + b, lambda a, b: (a * 0.5).tanh() * b,
    lambda a, b: a.sigmoid() - b.sin(), lambda a, b: a / (b * b + 1.0),
]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(OPS) - 1), st.integers(0, 50), st.integers(0, 50)),
                min_size=1, max_size=8),
       st.integers(0, 2**32 - 1))
def test_stepped_gradients_equal_backward_on_random_graphs(program, seed):
    rng = np.random.default_rng(seed)
    nodes = [Value(rng.normal(size=(2, 3)), label="a"), Value(rng.normal(size=3), label="b"),
             Value(rng.normal(), label="c")]
    for op, i, j in program:
        nodes.append(OPS[op](nodes[i % len(nodes)], nodes[j % len(nodes)]))
    root = nodes[-1].sum()
    s = Stepper(root)
    assert len(s) == 2 * len(topo_order(root))
    walk_to_end(s)
    assert_stepped_grads_equal_backward(root, s)


def test_the_number_of_steps_is_one_forward_and_one_backward_per_node():
    net, loss = seed_graph()
    s = Stepper(loss)
    n = len(topo_order(loss))
    assert len(s) == 2 * n == walk_to_end(s)
    assert [step.phase for step in s] == ["forward"] * n + ["backward"] * n
    assert [step.index for step in s] == list(range(2 * n))
    forward_nodes = [id(step.node) for step in s if step.phase == "forward"]
    backward_nodes = [id(step.node) for step in s if step.phase == "backward"]
    assert sorted(forward_nodes) == sorted(id(v) for v in topo_order(loss))
    assert backward_nodes == forward_nodes[::-1]
    seen = set()
    for step in s:  # forward: every input is computed before the node that uses it
        if step.phase == "forward":
            assert all(id(p) in seen for p in step.node.parents)
            seen.add(id(step.node))


def test_next_then_prev_returns_to_the_same_step_and_the_ends_hold():
    _, loss = seed_graph()
    s = Stepper(loss)
    assert s.current is None and s.prev() is None and s.position == -1
    first = s.next()
    assert first is s[0]
    s.next(5)
    here = s.current
    s.next()
    assert s.prev() is here and s.current is here
    s.goto(-1)
    assert s.next() is None and s.current is s[-1]


def test_goto_by_label_finds_the_forward_then_the_backward_step():
    net, loss = seed_graph()
    s = Stepper(loss)
    u1 = net.layers[0].u
    first = s.goto("u1")
    assert first.phase == "forward" and first.node is u1
    second = s.goto("u1")
    assert second.phase == "backward" and second.node is u1
    assert s.goto("u1") is first  # wraps around
    assert s.goto(3) is s[3] and s.goto("3") is s[3] and s.goto(-1) is s[len(s) - 1]


def test_goto_refuses_unknown_names_and_steps_naming_what_exists():
    _, loss = seed_graph()
    s = Stepper(loss)
    with pytest.raises(ValueError, match=r"'u9'.*u1"):
        s.goto("u9")
    with pytest.raises(IndexError, match=str(len(s) - 1)):
        s.goto(len(s))


def test_gradients_part_way_are_those_reached_so_far():
    net, loss = seed_graph()
    s = Stepper(loss)
    u2, u1 = net.layers[1].u, net.layers[0].u
    s.goto("u2")
    s.goto("u2")  # backward step of u2: u2's gradient has arrived, u1's has not
    assert s.grad(u2) is not None and s.grad(u1) is None
    (want,) = grad(loss, [u2])  # autograd.grad leaves .grad alone
    np.testing.assert_allclose(s.grad("u2"), want.data)


def test_seed_nodes_show_formula_and_the_manual_value_beside_the_automatic_one():
    net, loss = seed_graph()
    manual = ManualSineNet.from_net(net)
    manual.forward(X)
    manual.backward(T)
    expected = {}
    for m in manual.layers:  # the hand-derived values, by node
        layer = net.layers[m.index - 1]
        expected[id(layer.u)], expected[id(layer.w)] = m.delta, m.grad_w
        expected[id(layer.b)], expected[id(layer.x)] = m.grad_b, m.grad_x
    s = Stepper(loss)
    shown = [step for step in s if step.seed]
    assert all(step.phase == "backward" for step in shown)
    assert {id(step.node) for step in shown} == set(expected)
    for step in shown:
        for q in step.seed:
            np.testing.assert_allclose(q.manual, expected[id(step.node)], rtol=1e-12)
            assert q.formula in step.text and "manual" in step.text and "auto" in step.text
            assert "✓" in step.text and "✗" not in step.text
    formulas_by_node = {id(node): f for _, _, f, node, _ in seed_quantities(net)}
    assert {id(st.node): st.seed[0].formula for st in shown} == formulas_by_node


def test_backward_step_explains_arrival_local_derivative_and_contributions():
    a = Value(3.0, label="a")
    b = a * a
    b.label = "b"
    s = Stepper(b)
    step = s.goto("b") and s.goto("b")  # the backward step of b
    assert step.phase == "backward"
    # Mul's derivative (∂a = ∂y · b,  ∂b = ∂y · a) in the graph's names: both inputs are a
    assert "local derivative   ∂a = ∂b · a,  ∂a = ∂b · a" in step.text
    assert step.text.count("gets 3") == 2  # ∂b · a = 1 · 3, sent twice to a
    assert "(1 of 2)" in step.text and "(2 of 2): 6" in step.text  # the running total
    leaf = s.goto("a")
    assert leaf.phase == "backward" and "∂a = 6" in leaf.text  # 2a at a = 3


def test_forward_step_shows_op_inputs_and_output():
    net, loss = seed_graph()
    step = Stepper(loss).goto("u1")
    assert "u1 = add(matmul#1, b1)" in step.text
    assert "operation  u1 = matmul#1 + b1" in step.text  # y = a + b, in the graph's names
    assert "b1 (3,)" in step.text and "u1 (1, 3)" in step.text


def test_a_non_scalar_root_needs_a_seed_gradient():
    v = Value([1.0, 2.0], label="v")
    with pytest.raises(ValueError, match="grad="):
        Stepper(v * 3)
    s = Stepper(v * 3, grad=[1.0, -1.0])
    walk_to_end(s)
    np.testing.assert_allclose(s.grad(v), [3.0, -3.0])


def test_a_given_seed_gradient_is_named_as_given_not_as_one():
    a = Value(2.0, label="a")
    b = a * a
    b.label = "b"
    default = Stepper(b).goto(len(topo_order(b)))  # the first backward step: the root's
    assert "(the start: ∂b/∂b = 1)" in default.text
    s = Stepper(b, grad=3.0)
    first = s.goto(len(topo_order(b)))
    assert first.node is b and "∂b = 3" in first.text and "(given)" in first.text
    assert "= 1)" not in first.text
    walk_to_end(s)
    assert s.grad(a).item() == pytest.approx(3.0 * 2 * 2.0)  # 3 · d(a²)/da at a = 2


def test_walking_never_changes_data_nor_grad():
    net, loss = seed_graph()
    nodes = topo_order(loss)
    before = [n.data.copy() for n in nodes]
    s = Stepper(loss)
    walk_to_end(s)
    s.formulas()
    assert all(np.array_equal(n.data, d) for n, d in zip(nodes, before))
    assert all(n._grad is None for n in nodes)  # the stepper keeps its gradients to itself
    assert np.any(s.grad(net.layers[0].w))
    s.goto(len(nodes) - 1)  # the last forward step: no gradient yet anywhere
    assert s.grads() == {}
    assert all(np.array_equal(n.data, d) for n, d in zip(nodes, before))


def test_a_stepper_made_after_backward_leaves_grad_as_backward_left_it():
    w = Value(2.0, label="w")
    y = w * w * w
    y.label = "y"
    y.backward()
    assert w.grad.item() == 12.0  # 3w², by hand
    s = Stepper(y)
    walk_to_end(s)
    assert w.grad.item() == 12.0  # not 24: no second pass added in
    assert s.grad(w).item() == 12.0  # the stepper's own, the same as backward's
    s.goto(0)
    assert w.grad.item() == 12.0 and s.grad(w) is None  # stepping back: .grad untouched


def test_stepping_leaves_a_gradient_a_node_already_held_as_it_was():
    a = Value(3.0, label="a")
    b = a * a
    b.label = "b"
    a.grad = 10.0  # left over from an earlier backward pass
    s = Stepper(b)
    walk_to_end(s)
    assert a.grad.item() == 10.0 and b._grad is None
    assert s.grad(a).item() == 6.0  # 2a, by hand: the earlier 10 is not in it


def test_formulas_pair_every_seed_quantity_with_matching_values():
    net, loss = seed_graph()
    rows = Stepper(loss).formulas()
    assert [r.formula for r in rows] == [f for _, _, f, _, _ in seed_quantities(net)]
    assert all(r.max_abs_diff < 1e-12 for r in rows)
    table = Stepper(loss).formulas_table()
    assert all(f in table for f in FORMULAS.values())
    other = Value(2.0, label="z") * 3
    assert Stepper(other).formulas() == [] and "no seed formulas" in Stepper(other).formulas_table()


def test_render_highlights_the_current_node(tmp_path, require_dot):
    net, loss = seed_graph()
    s = Stepper(loss)
    s.goto("u1")
    s.goto("u1")
    path = s.render(tmp_path / "step.svg")
    svg = ET.parse(path).getroot()
    texts = ["".join(t.itertext()) for t in svg.iter() if t.tag.endswith("}text")]
    assert "u1" in texts and "visited" in texts and "current / highlighted" in texts
    assert 'stroke="#d62728"' in path.read_text(encoding="utf-8")
    assert "grad —" in texts  # w1 has not heard from u1 yet at this step


def test_prompt_runs_commands_from_a_stream():
    _, loss = seed_graph()
    out = io.StringIO()
    commands = "n\nn 2\np\nw\ngoto E\ngoto E\nn 0\ngoto\nfoo\nl\n"
    assert prompt(Stepper(loss), io.StringIO(commands), out, interactive=False) == 0
    text = out.getvalue()
    assert "step 0 · forward" in text and "step 2 · forward" in text
    assert "step 1 of 0–25 · forward · w1: parameter (1, 3)" in text  # where, after n, n 2, p
    assert "∂E = 1" in text  # the second goto E: E's backward step
    assert "error: the step count" in text and "error: goto needs" in text
    assert "unknown command 'foo': type help for the commands" in text
    assert "commands:" not in text  # one line, not the whole help
    assert "→ [" in text  # the list marks the current step (not with ">", the echo's mark)


def test_a_count_past_the_end_says_how_many_steps_there_are_that_way():
    s = Stepper(seed_graph()[1])  # 26 steps, 0–25
    out = io.StringIO()
    prompt(s, io.StringIO("n 99\nn 26\nn\np 30\n"), out, interactive=False)
    text = out.getvalue()
    assert "error: only 26 steps on from here, not 99: before the first step" in text
    assert "step 25 · backward" in text  # n 26 from the start: the last step
    assert "(no step there: step 25 of 0–25" in text  # at the end, n goes nowhere
    assert "error: only 25 steps back from here, not 30: step 25 of 0–25" in text
    assert s.position == 25


NUMBER = r"-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?"


def _shown(text: str, pattern: str) -> np.ndarray:
    """The numbers of the first line part matching ``pattern`` (an array or a number)."""
    import re

    found = re.search(pattern, text).group(1)
    return np.array([float(v) for v in re.findall(NUMBER, found)])


@pytest.mark.parametrize("case", ["seed", "tanh"])
def test_the_local_derivative_worked_from_the_shown_numbers_gives_the_shown_result(case):
    """Every number a backward step of sigmoid or tanh prints is rounded; the formula
    worked by hand from those printed numbers must give the printed result."""
    if case == "seed":
        _, root = seed_graph(seed=0)
        op, by_hand = "sigmoid", lambda g, y: g * (1 - y) * y  # σ' = (1 − σ)σ
    else:
        a = Value(0.3, label="a")
        e = (a * 7.3).tanh()
        e.label = "e"
        root = e * 1.2345678  # the gradient arriving at e is not a round number
        op, by_hand = "tanh", lambda g, y: g * (1 - y * y)  # tanh' = 1 − tanh²
    steps = [st for st in Stepper(root) if st.phase == "backward" and f"= {op}(" in st.text]
    assert steps
    for step in steps:
        g = _shown(step.text, r"gradient arriving  ∂\w+ = (.*?)   \(")
        y = _shown(step.text, r"at \w+ = (.*)")
        sent = _shown(step.text, r"→ \S+ gets (.*)")
        worked = by_hand(g, y)
        assert [f"{v:.4g}" for v in worked] == [f"{v:.4g}" for v in sent], step.text


def test_seed_values_that_overflowed_say_not_finite_not_different():
    net = SineNet(n_mid=3, wb_width=1e200, seed=0)  # the numbers overflow to inf and nan
    with np.errstate(all="ignore"):
        shown = [st for st in Stepper(training_step(net, X, T)) if st.seed]
    verdicts = [line for st in shown for line in st.text.splitlines() if "manual" in line]
    assert any("inf" in line or "nan" in line for line in verdicts)
    for line in verdicts:
        assert "DIFFERENT" not in line, line
        overflowed = "inf" in line or "nan" in line
        assert ("✗ not finite (nan/inf): cannot compare" in line) == overflowed, line


# ---------------------------------------------------------------- the update steps


def _numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(NUMBER, text)]


def test_the_update_comes_after_backward_one_step_per_parameter_and_keeps_the_old_numbers():
    net, loss = seed_graph()
    plain, stepped = Stepper(loss), Stepper(loss, eta=0.1)
    n = len(plain)
    assert len(stepped) == n + 4
    assert [st.text for st in stepped][:n] == [st.text for st in plain]  # numbers unchanged
    updates = list(stepped)[n:]
    assert [st.phase for st in updates] == ["update"] * 4
    assert [st.node for st in updates] == net.parameters()  # w1, b1, w2, b2: the net's params
    assert [st.index for st in updates] == list(range(n, n + 4))
    assert "step 26 · update · w1 ← w1 − η·∂w1" in updates[0].text
    assert "η = 0.1" in updates[0].text


def test_the_update_shows_before_minus_eta_times_gradient_equals_after():
    """The shown numbers work out by hand, and agree with the hand-derived gradients."""
    net, loss = seed_graph()
    manual = ManualSineNet.from_net(net)
    manual.forward(X)
    manual.backward(T)
    by_hand = {id(layer.w): m.grad_w for layer, m in zip(net.layers, manual.layers)}
    by_hand |= {id(layer.b): m.grad_b for layer, m in zip(net.layers, manual.layers)}
    before = {id(p): p.data.copy() for p in net.parameters()}
    s = Stepper(loss, eta=0.25)
    for step in (u for u in s if u.phase == "update"):
        p = step.node
        line = next(x for x in step.text.splitlines() if x.startswith("  after"))
        found = re.fullmatch(r"  after\s+\S+ = (.*) − (\S+) · (.*) = (.*)", line)
        b, eta, g, a = (_numbers(part) for part in found.groups())
        assert eta == [0.25]
        worked = np.array(b) - 0.25 * np.array(g)  # by hand, from the numbers as shown
        tol = 0.5 * 10.0 ** (np.floor(np.log10(np.abs(a))) - 3)  # half a unit, 4th digit
        assert np.all(np.abs(worked - a) <= tol + 1e-15), line
        want = before[id(p)] - 0.25 * by_hand[id(p)]
        np.testing.assert_allclose(np.array(a), want.ravel(), rtol=5e-4)  # the true new value
        np.testing.assert_allclose(s.updated(step.index)[p], want, rtol=1e-12)
    assert all(np.array_equal(p.data, before[id(p)]) for p in net.parameters())  # never written


def test_updated_gives_the_new_values_of_the_update_steps_done_so_far():
    a, x = Value(2.0, label="a"), Value(3.0, label="x")  # by hand: a labelled leaf, an input
    root = a * x
    s = Stepper(root, eta=0.5)
    assert [st.node for st in s if st.phase == "update"] == [a]  # x is data, not a parameter
    assert s.updated() == {}
    s.goto(-1)
    assert s.current.phase == "update" and s.updated()[a] == 2.0 - 0.5 * 3.0  # ∂a = x = 3
    assert a.data == 2.0
    assert [s.goto("a").phase for _ in range(3)] == ["forward", "backward", "update"]


def test_params_and_eta_are_checked():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    root = a * b
    s = Stepper(root, eta=0.1, params=[b])
    assert [st.node for st in s if st.phase == "update"] == [b]
    with pytest.raises(ValueError, match="give eta="):
        Stepper(root, params=[a])
    with pytest.raises(ValueError, match=r"params\[0\] .* is not in this graph"):
        Stepper(root, eta=0.1, params=[Value(1.0, label="z")])
    with pytest.raises(ValueError, match=r"params\[0\] .* is not a leaf"):
        Stepper(root, eta=0.1, params=[root])
    with pytest.raises(ValueError, match="eta"):
        Stepper(root, eta=-1.0)
    with pytest.raises(TypeError, match=r"params\[0\] is a float"):
        Stepper(root, eta=0.1, params=[1.0])


def test_the_prompt_lists_and_walks_the_update_steps():
    _, loss = seed_graph()
    out = io.StringIO()
    prompt(Stepper(loss, eta=0.1), io.StringIO("goto 29\nw\nl\n"), out, interactive=False)
    text = out.getvalue()
    assert "step 29 · update · b2 ← b2 − η·∂b2" in text
    assert "step 29 of 0–29 · update · b2 ← b2 − η·∂b2 = " in text
    assert "[29] update    b2 ← b2 − η·∂b2 = " in text


def test_the_prompts_tree_and_the_page_show_the_steppers_gradients_not_grad():
    a = Value(3.0, label="a")
    b = a * a
    b.label = "b"
    a.grad = 100.0  # an old gradient in .grad: the views must not show it
    s = Stepper(b)
    out = io.StringIO()
    prompt(s, io.StringIO("goto -1\ntree\n"), out, interactive=False)
    tree = out.getvalue().rpartition("> tree")[2]
    assert "grad 6" in tree and "100" not in tree  # ∂a = 2a = 6, the stepper's own
    assert "∂a = 6" in s[-1].text and "100" not in s[-1].text  # the page shows step texts
    assert a.grad.item() == 100.0


def _target_and_constant_graph():
    """E = ½ Σ (w·x·2 − t)²: w a parameter (set_role), x and t data, 2 a constant."""
    from tinygrad_sine.describe import set_role
    from tinygrad_sine.nn import squared_error

    w = set_role(Value([[0.5]], label="w"), "parameter")
    x = Value([[0.4]], label="x")
    t = Value([[0.9]], label="t")
    return w, x, t, squared_error(w * x * 2.0, t)


def test_data_leaves_say_their_gradient_is_never_used_for_an_update():
    from tinygrad_sine.describe import data_note

    w, x, t, loss = _target_and_constant_graph()
    s = Stepper(loss, eta=0.1)
    back = {s.info.name(st.node): st for st in s if st.phase == "backward"}
    # ∂t = −(y − t) = −(0.4 − 0.9) = 0.5 by hand: computed, and the step says it is data
    assert "∂t = [[0.5]]" in back["t"].text
    for name in ("t", "x", "const#1"):
        assert f"  data               {name} is data: its gradient is computed, never used " \
               "for an update" in back[name].text
        assert data_note(name) in back[name].text and back[name].title.endswith("(data)")
    assert "is data" not in back["w"].text and "(data)" not in back["w"].title
    # and indeed only w gets an update step
    assert [s.info.name(st.node) for st in s if st.phase == "update"] == ["w"]
    # training_step's target, marked as an input, says so too
    net = SineNet(n_mid=2, seed=0)
    seed = Stepper(training_step(net, X, T))
    step_t = next(st for st in seed if st.phase == "backward" and st.node.label == "t")
    assert data_note("t") in step_t.text
