"""`tinygrad_sine.compile`: generated code gives eager autograd's numbers, reads like the post,
and refuses what a trace cannot follow."""

from __future__ import annotations

import builtins
import re

import numpy as np
import pytest
from helpers import cli_here

import tinygrad_sine
from tinygrad_sine import TraceError, Value, compile, grad
from tinygrad_sine.nn import SineNet, squared_error
from tinygrad_sine.sine import sine_data, train

X_ALL, T_ALL = (a.reshape(-1, 1) for a in sine_data())


def _eager(fn, params, *inputs):
    """Loss and gradients by eager autograd, the independent expectation."""
    loss = fn(*[Value(np.asarray(x, dtype=np.float64)) for x in inputs])
    loss = loss[0] if isinstance(loss, tuple) else loss
    return loss.data, [g.data for g in grad(loss, params)]


def _assert_same(compiled_out, eager_out, tol=1e-12):
    (loss, grads), (eloss, egrads) = compiled_out[:2], eager_out
    np.testing.assert_allclose(loss, eloss, rtol=tol, atol=tol)
    assert len(grads) == len(egrads)
    for g, e in zip(grads, egrads):
        assert np.shape(g) == np.shape(e)
        np.testing.assert_allclose(g, e, rtol=tol, atol=tol)


# ------------------------------------------------------------------ same numbers as eager


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("batch", [1, 7, 63])
def test_seed_network_gradients_match_eager_autograd(seed, batch):
    net = SineNet(seed=seed, wb_width=1.0)

    def loss(x, t):
        return squared_error(net(x), t)

    step = compile(loss, X_ALL[:batch], T_ALL[:batch])
    assert [p.label for p in step.params] == ["w1", "b1", "w2", "b2"]
    rng = np.random.default_rng(seed)
    for _ in range(3):
        idx = rng.choice(63, size=batch, replace=False)
        _assert_same(step(X_ALL[idx], T_ALL[idx]), _eager(loss, step.params, X_ALL[idx], T_ALL[idx]))


@pytest.mark.parametrize("n_mid", [(5, 4), (8, 8, 8), (2, 3, 4, 5)])
def test_deeper_networks_match_eager_autograd(n_mid):
    net = SineNet(n_mid=n_mid, wb_width=1.0, seed=7)

    def loss(x, t):
        return squared_error(net(x), t)

    step = compile(loss, X_ALL[:5], T_ALL[:5])
    assert len(step.params) == 2 * (len(n_mid) + 1)
    _assert_same(step(X_ALL[10:15], T_ALL[10:15]), _eager(loss, step.params, X_ALL[10:15], T_ALL[10:15]))


def test_seed_network_gradients_match_central_differences():
    net = SineNet(seed=3, wb_width=1.0)
    step = compile(lambda x, t: squared_error(net(x), t), X_ALL[:4], T_ALL[:4])
    x, t = X_ALL[20:24], T_ALL[20:24]
    _, grads = step(x, t)
    eps = 1e-6
    for p, g in zip(step.params, grads):
        for idx in np.ndindex(p.shape):
            saved = p.data.copy()
            p.data[idx] += eps
            up = step(x, t)[0]
            p.data = saved.copy()
            p.data[idx] -= eps
            down = step(x, t)[0]
            p.data = saved
            assert abs((up - down) / (2 * eps) - g[idx]) < 1e-7


def test_scalar_values_network_matches_eager_autograd():
    rng = np.random.default_rng(0)
    w1, b1, w2 = ([Value(rng.standard_normal(), label=f"{n}{j}") for j in range(3)]
                  for n in ("w", "b", "v"))
    b2 = Value(0.1, label="c")

    def loss(x, t):
        y = sum((v * (w * x + b).sigmoid() for w, b, v in zip(w1, b1, w2)), b2)
        return 0.5 * (y - t) ** 2

    step = compile(loss, 0.3, 0.5)
    assert len(step.params) == 10
    _assert_same(step(-0.7, 0.2), _eager(loss, step.params, -0.7, 0.2))
    assert "w0" in step.source and "grad_w0" in step.source


def _random_expression(rng, leaves, depth):
    """A random expression over `leaves` (Values of shape (3, 4), (4,), (4, 2) or ())."""
    if depth == 0:
        return leaves[rng.integers(len(leaves))]
    a = _random_expression(rng, leaves, depth - 1)
    b = _random_expression(rng, leaves, depth - 1)
    pick = rng.integers(9)
    if pick == 0:
        return a + b
    if pick == 1:
        return a * b
    if pick == 2:
        return a - b.tanh()
    if pick == 3:
        return a / (1 + b * b)
    if pick == 4:
        return a.sigmoid() * b
    if pick == 5:
        return a.sin() + b.cos()
    if pick == 6:
        return (a * a + 1).log() - b
    if pick == 7:
        return a.exp().mean() * b
    return (a + b).relu() + 0.5 * a


@pytest.mark.parametrize("seed", range(25))
def test_random_expressions_match_eager_autograd(seed):
    rng = np.random.default_rng(seed)
    params = [Value(rng.standard_normal((3, 4)) * 0.5, label="A"),
              Value(rng.standard_normal(4) * 0.5, label="b"),
              Value(rng.standard_normal() * 0.5, label="s")]
    m = Value(rng.standard_normal((4, 2)), label="M")

    def fn(x):
        leaves = [*params, x]
        expr = _random_expression(rng_local(), leaves, depth=3)
        return ((expr + x) @ m).sum() * params[2] + (x * params[1]).mean()

    def rng_local():  # the same expression on every trace
        return np.random.default_rng(1000 + seed)

    step = compile(fn, rng.standard_normal((3, 4)))
    assert {id(p) for p in step.params} <= {id(p) for p in [*params, m]}
    x = rng.standard_normal((3, 4))
    _assert_same(step(x), _eager(fn, step.params, x))


def test_indexing_transpose_reshape_and_broadcast_match_eager():
    rng = np.random.default_rng(5)
    a = Value(rng.standard_normal((3, 4)), label="a")
    b = Value(rng.standard_normal(4), label="b")
    s = Value(0.7, label="s")

    def fn(x):
        picked = (a[[0, 0, 2]] * x[0]).sum() + a[1, 2] * s
        moved = (x.T[1:3] ** 2).reshape(-1).mean() + (b.broadcast_to(3, 4) * x).sum()
        return picked + moved + (a.transpose(1, 0) @ x).sum() + b.dot(b) * s ** s

    step = compile(fn, np.ones((3, 4)))
    x = rng.standard_normal((3, 4))
    _assert_same(step(x), _eager(fn, step.params, x))


def test_parameters_are_read_afresh_on_every_call():
    net = SineNet(seed=0, wb_width=1.0)
    loss = lambda x, t: squared_error(net(x), t)  # noqa: E731
    step = compile(loss, X_ALL[:1], T_ALL[:1])
    for p in net.parameters():
        p.data = p.data * 1.5 + 0.1  # a new array, as an optimiser might assign
    net.layers[0].w.data -= 0.3  # and in place
    _assert_same(step(X_ALL[5:6], T_ALL[5:6]), _eager(loss, step.params, X_ALL[5:6], T_ALL[5:6]))


def test_new_input_shapes_are_traced_again_and_give_eager_numbers():
    net = SineNet(seed=1, wb_width=1.0)
    loss = lambda x, t: squared_error(net(x), t)  # noqa: E731
    step = compile(loss, X_ALL[:10], T_ALL[:10])
    _assert_same(step(X_ALL[60:63], T_ALL[60:63]), _eager(loss, step.params, X_ALL[60:63], T_ALL[60:63]))
    assert set(step.sources()) == {((10, 1), (10, 1)), ((3, 1), (3, 1))}


def test_extra_outputs_are_returned_after_the_gradients():
    net = SineNet(seed=2)
    step = compile(lambda x, t: (squared_error(net(x), t), net.layers[-1].y), X_ALL[:4], T_ALL[:4])
    loss, grads, (y,) = step(X_ALL[4:8], T_ALL[4:8])
    np.testing.assert_allclose(y, net(Value(X_ALL[4:8])).data, rtol=1e-14)
    assert len(grads) == 4


def test_a_compiled_call_leaves_grad_untouched_and_builds_no_nodes():
    net = SineNet(seed=0)
    step = compile(lambda x, t: squared_error(net(x), t), X_ALL[:1], T_ALL[:1])
    net.zero_grad()
    before = net.layers[0].u
    step(X_ALL[3:4], T_ALL[3:4])
    assert all(p._grad is None for p in net.parameters())
    assert net.layers[0].u is before  # fn did not run again


def test_returned_gradients_never_share_memory_with_parameters():
    a = Value(np.ones(3), label="a")
    b = Value(np.array([1.0, 2.0, 3.0]), label="b")
    step = compile(lambda x: (a * b).sum() + x.sum(), np.zeros(2))
    _, (grad_a, grad_b) = step(np.zeros(2))
    assert not np.shares_memory(grad_a, b.data) and not np.shares_memory(grad_b, a.data)
    b.data *= 10  # an optimiser updating b in place must not change a's gradient
    np.testing.assert_array_equal(grad_a, [1.0, 2.0, 3.0])


def test_wrt_chooses_and_orders_the_gradients():
    net = SineNet(seed=0, wb_width=1.0)
    loss = lambda x, t: squared_error(net(x), t)  # noqa: E731
    w2, w1 = net.layers[1].w, net.layers[0].w
    step = compile(loss, X_ALL[:2], T_ALL[:2], wrt=[w2, w1])
    _assert_same(step(X_ALL[:2], T_ALL[:2]), _eager(loss, [w2, w1], X_ALL[:2], T_ALL[:2]))
    assert "grad_b1" not in step.source  # gradients nobody asked for are not computed


def test_inputs_may_be_lists_numbers_or_values():
    w = Value([2.0, -1.0], label="w")
    step = compile(lambda x: (x * w).sum() ** 2, [1.0, 1.0])
    expected = step(np.array([0.5, 3.0]))
    for given in ([0.5, 3.0], Value([0.5, 3.0]), np.array([0.5, 3.0], dtype=np.float32)):
        _assert_same(step(given), expected, tol=0)


# ------------------------------------------------------------------ the generated source


def test_seed_network_source_reads_like_the_posts_backprop():
    net = SineNet(seed=0)
    step = compile(lambda x, t: squared_error(net(x), t), X_ALL[:1], T_ALL[:1])
    src = step.source
    assert re.search(r"^def \w+\(x, t, w1, b1, w2, b2\):", src, re.M)
    code = {m[0]: m[1] for m in re.findall(r"^    (\w+) = (.+)$", src, re.M)}
    # forward, named after the labels
    assert code["u1"] == "x @ w1 + b1"
    assert code["y1"] == "1.0 / (1.0 + np.exp(-u1))"
    assert code["u2"] == "y1 @ w2 + b2"
    # backward: the post's δ, ∂w, ∂b and ∂y, in matrix form
    assert code["grad_w2"] == "y1.T @ grad_u2"          # ∂w_jk = y_j δ_k
    assert code["grad_b2"] == "grad_u2.sum(axis=0)"     # ∂b_k = δ_k
    assert code["grad_y1"] == "grad_u2 @ w2.T"          # ∂y_j = Σ_r δ_r w_jr
    assert code["grad_u1"] == "grad_y1 * (1.0 - y1) * y1"  # δ_j = ∂y_j (1 − y_j) y_j
    assert code["grad_w1"] == "x.T @ grad_u1"
    assert "grad_x" not in code and "grad_t" not in code  # inputs need no gradient
    assert src.rstrip().endswith("return E, [grad_w1, grad_b1, grad_w2, grad_b2]")


def test_source_is_self_contained_python_that_gives_the_same_numbers():
    net = SineNet(seed=4, wb_width=1.0)
    step = compile(lambda x, t: squared_error(net(x), t), X_ALL[:3], T_ALL[:3])
    namespace = {"np": np}
    exec(builtins.compile(step.source, "<source>", "exec"), namespace)
    fn = next(v for k, v in namespace.items() if k != "np" and callable(v))
    data = [p.data for p in step.params]
    _assert_same(fn(X_ALL[7:10], T_ALL[7:10], *data), step(X_ALL[7:10], T_ALL[7:10]), tol=0)


def test_unlabelled_nodes_are_named_after_their_op():
    a = Value(np.array([0.2, -0.4]))
    step = compile(lambda x: (a * x).tanh().sum(), np.ones(2))
    assert "tanh1 = np.tanh(" in step.source
    assert "def " in step.source and "param1" in step.source


# ------------------------------------------------------------------ refusals


def test_python_if_on_a_values_number_is_refused_while_tracing():
    w = Value(1.0, label="w")

    def fn(x):
        y = w * x
        if y.item() > 0:
            return y * y
        return -y

    with pytest.raises(TraceError, match=r"Value\.item.*Python `if`"):
        compile(fn, 1.0)


@pytest.mark.parametrize("convert", [bool, lambda v: v.item(), lambda v: f"{v:.3f}",
                                     lambda v: v > 0])
def test_bool_item_format_and_comparisons_of_a_value_are_refused_while_tracing(convert):
    w = Value(2.0)
    with pytest.raises(TraceError, match="turned a Value into a Python number"):
        compile(lambda x: w * x if convert(w * x) else w, 1.0)


def test_tracing_restores_value_methods_after_a_refusal():
    with pytest.raises(TraceError):
        compile(lambda x: Value((Value(1.0) * x).item()), 1.0)
    assert Value(3.0).item() == 3.0 and f"{Value(2.0):.1f}" == "2.0" and bool(Value(1.0))


def test_check_mode_refuses_a_call_whose_graph_differs():
    w = Value(np.array([1.0, -2.0]), label="w")

    def fn(x):  # branches on the numbers through .data, which tracing cannot intercept
        y = w * x
        return y.sum() if (x.data > 0).all() else y.tanh().sum()

    step = compile(fn, np.array([1.0, 1.0]), check=True)
    step(np.array([2.0, 3.0]))  # same branch: fine
    with pytest.raises(TraceError, match=r"different graph.*control flow depends on the data"):
        step(np.array([-1.0, 3.0]))


def test_check_mode_also_catches_a_constant_made_from_the_data():
    w = Value(np.array([1.0, -2.0]), label="w")
    step = compile(lambda x: (w * Value(np.sign(x.data))).sum() + (w * x).sum(),
                   np.array([1.0, 1.0]), check=True)
    with pytest.raises(TraceError, match="different graph"):
        step(np.array([-1.0, 1.0]))


def test_a_function_that_draws_random_numbers_is_refused():
    w = Value(np.ones(3), label="w")
    with pytest.raises(TraceError, match="different numbers on each run"):
        compile(lambda x: (w * Value(np.random.rand(3))).sum() + (w * x).sum(), np.ones(3))


def test_a_function_whose_graph_changes_between_runs_is_refused():
    calls = []

    def fn(x):
        calls.append(1)
        y = x * Value(2.0)
        return (y.tanh() if len(calls) % 2 else y.sin()).sum()

    with pytest.raises(TraceError, match="two different graphs from the same inputs"):
        compile(fn, np.ones(2))


def test_non_value_and_non_scalar_results_are_refused():
    with pytest.raises(TraceError, match="must return a Value.*returned float"):
        compile(lambda x: 1.0, np.ones(2))
    with pytest.raises(TraceError, match=r"single number.*shape \(2,\).*\.sum\(\)"):
        compile(lambda x: x * 2, np.ones(2))


def test_wrong_number_of_inputs_and_bad_wrt_are_refused():
    w = Value(np.ones(2), label="w")
    step = compile(lambda x, t: ((w * x - t) ** 2).sum(), np.ones(2), np.ones(2))
    with pytest.raises(TypeError, match=r"takes 2 inputs \(x, t\), got 1"):
        step(np.ones(2))
    with pytest.raises(TraceError, match=r"wrt\[0\].*parameters found are: w"):
        compile(lambda x: (w * x).sum(), np.ones(2), wrt=[Value(1.0, label="other")])
    with pytest.raises(TypeError, match="example inputs"):
        compile(lambda: w.sum())


# ------------------------------------------------------------------ training with it


def test_train_compiled_reproduces_the_eager_errors_and_weights():
    eager_net, compiled_net = SineNet(seed=5), SineNet(seed=5)
    eager = train(eager_net, epochs=61, interval=20, seed=5)
    compiled = train(compiled_net, epochs=61, interval=20, seed=5, engine="compiled")
    np.testing.assert_allclose(compiled.errors, eager.errors, rtol=0, atol=1e-9)
    for a, b in zip(compiled_net.parameters(), eager_net.parameters()):
        np.testing.assert_allclose(a.data, b.data, rtol=0, atol=1e-9)


def test_train_compiled_with_a_batch_that_does_not_divide_63():
    a, b = SineNet(seed=1), SineNet(seed=1)
    ha = train(a, epochs=21, interval=10, seed=1, batch_size=10)
    hb = train(b, epochs=21, interval=10, seed=1, batch_size=10, engine="compiled")
    np.testing.assert_allclose(hb.errors, ha.errors, rtol=0, atol=1e-9)


def test_cli_train_compile_prints_the_eager_runs_progress_lines(tmp_path):
    out = cli_here("train", "--epochs", "21", "--interval", "10", "--seed", "2", "--compile",
                   "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    grab = re.findall(r"^Epoch:(\d+)/21 Error:(\S+)$", out.stdout, flags=re.M)
    assert [e for e, _ in grab] == ["0", "10", "20"]
    eager = train(SineNet(seed=2), epochs=21, interval=10, seed=2, engine="eager")  # as `train`
    np.testing.assert_allclose([float(v) for _, v in grab], eager.errors, rtol=0, atol=1e-9)
    assert "engine compiled" in out.stdout
    assert "would take" not in out.stdout  # the compiled run gives no hint about itself


@pytest.mark.parametrize("guess, hinted", [(0.0, True), (1e9, False)])
def test_an_eager_run_hints_at_the_compiled_engine_only_when_it_would_be_quicker(
        guess, hinted, tmp_path, monkeypatch, capsys):
    import tinygrad_sine.cli
    import tinygrad_sine.sine

    monkeypatch.setattr(tinygrad_sine.sine, "compiled_seconds", lambda *args: guess)
    monkeypatch.setattr("viz.plots.save_figures", lambda history, out: [])  # not under test
    tinygrad_sine.cli.main(["train", "--epochs", "2", "--interval", "1", "--seed", "2",
                            "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert ("--engine compiled would take ≈" in out) is hinted, out


def test_cli_train_compile_with_the_manual_engine_is_a_usage_error(tmp_path):
    out = cli_here("train", "--compile", "--engine", "manual", "--epochs", "1", "--out", str(tmp_path))
    assert out.returncode == 2
    assert "--compile" in out.stderr and "manual" in out.stderr


def test_compile_is_exported_at_the_top_level():
    assert tinygrad_sine.compile is compile
    assert "compile" in tinygrad_sine.__all__


def test_functions_with_awkward_names_still_compile():
    import functools

    w = Value(np.array([1.0, 2.0]), label="w")
    shadow = eval("lambda x: (w * x).tanh().sum()", {"w": w})
    shadow.__name__ = "np"  # a name that would hide numpy inside the generated code
    for fn in (shadow, functools.partial(lambda x, k: (w * x * k).sum(), k=2.0)):
        step = compile(fn, [0.5, 0.5])
        _assert_same(step([0.1, -0.3]), _eager(fn, step.params, [0.1, -0.3]))
        assert step.source.startswith("def compiled_step(")


def test_new_shapes_that_use_other_parameters_are_refused():
    w, v = Value(np.ones(2), label="w"), Value(np.ones(3), label="v")
    step = compile(lambda x: (x * (w if x.shape == (2,) else v)).sum(), np.ones(2))
    with pytest.raises(TraceError, match=r"shapes \(3,\).*other parameters"):
        step(np.ones(3))
