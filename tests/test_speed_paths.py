"""The engine's quick paths give the same answers as the general ones, and the benchmark runs.

No test here looks at a clock: speed is measured by benchmarks/bench.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
from helpers import ROOT

from tinygrad_sine import Value, grad, gradcheck, ops
from tinygrad_sine.autograd import backprop

# ------------------------------------------------------------------ scalars as np.float64


@pytest.mark.parametrize("number", [2.5, np.float64(2.5), np.array(2.5), 2, np.int64(2), True,
                                    np.float32(2.5)])
def test_a_single_number_becomes_an_np_float64(number):
    v = Value(number)
    assert type(v.data) is np.float64
    assert v.data == float(number) and v.shape == () and v.ndim == 0


def test_arithmetic_on_scalar_values_stays_np_float64_with_correct_gradients():
    x, w = Value(0.5), Value(-1.5)
    e = 0.5 * ((w * x + 0.25).sigmoid() - 0.75) ** 2
    e.backward()
    assert all(type(n.data) is np.float64 for n in (e, x, w))
    assert type(w.grad) is np.float64
    y = 1 / (1 + np.exp(-(-1.5 * 0.5 + 0.25)))
    delta = (y - 0.75) * y * (1 - y)  # by hand
    assert w.grad == pytest.approx(delta * 0.5, rel=1e-14)
    assert x.grad == pytest.approx(delta * -1.5, rel=1e-14)


def test_a_float64_array_is_copied_not_shared():
    a = np.arange(3.0)
    v = Value(a)
    a[0] = 99.0
    assert v.data[0] == 0.0 and not np.shares_memory(a, v.data)
    v.data += 1  # an in-place update of the Value leaves the caller's array alone
    assert a[1] == 1.0


@pytest.mark.parametrize("given", [np.arange(3, dtype=np.float32), [1, 2, 3], (1.0, 2.0, 3.0),
                                   np.arange(3)])
def test_other_arrays_become_float64_arrays(given):
    v = Value(given)
    assert type(v.data) is np.ndarray and v.data.dtype == np.float64
    np.testing.assert_array_equal(v.data, np.asarray(given, dtype=np.float64))


def test_sum_and_mean_of_a_scalar_value():
    v = Value(3.0)
    assert v.sum().item() == 3.0 and v.mean().item() == 3.0
    v.mean().backward()
    assert v.grad == 1.0


def test_scalar_gradients_accumulate_and_stay_separate_per_node():
    a = Value(2.0)
    b = a + a  # Add hands the same gradient object to both of its inputs
    c = b * 3
    c.backward()
    c.backward()
    assert a.grad == 12.0 and b.grad == 6.0 and c.grad == 2.0


# ------------------------------------------------------------------ sum_to and broadcast_to


def _sum_to_by_loops(g: np.ndarray, shape: tuple) -> np.ndarray:
    """The reference: add up every element of g into the input element it was copied from."""
    out = np.zeros(shape)
    lead = g.ndim - len(shape)
    for idx in np.ndindex(g.shape):
        src = tuple(0 if n == 1 else i for i, n in zip(idx[lead:], shape))
        out[src] += g[idx]
    return out


@pytest.mark.parametrize("g_shape, shape", [
    ((4, 3), (3,)), ((4, 3), (1, 3)), ((4, 3), (4, 1)), ((2, 4, 3), (3,)), ((2, 4, 3), (4, 1)),
    ((2, 4, 3), (1, 1, 3)), ((2, 4, 3), ()), ((5,), ()), ((1, 3), (3,)), ((2, 1, 3), (1, 3)),
])
def test_sum_to_matches_adding_up_the_copies(g_shape, shape):
    g = np.random.default_rng(0).standard_normal(g_shape)
    got = ops.sum_to(g, shape)
    assert np.shape(got) == shape
    np.testing.assert_allclose(got, _sum_to_by_loops(g, shape), rtol=1e-12)
    as_value = ops.sum_to(Value(g), shape)  # the same lines on Values (for create_graph)
    np.testing.assert_allclose(as_value.data, got, rtol=1e-12)


def test_broadcast_to_gives_a_fresh_writable_array():
    x = np.array([[1.0], [2.0]])
    out = ops.broadcast_to(x, (2, 3))
    np.testing.assert_array_equal(out, np.broadcast_to(x, (2, 3)))
    assert out.flags.writeable and not np.shares_memory(out, x)


def test_sum_gradient_is_writable_and_owned():
    a = Value(np.ones((2, 3)))
    a.sum().backward()
    a.grad[0, 0] = 5.0  # must not fail (a read-only broadcast view would)
    assert a.grad.sum() == 10.0


# ------------------------------------------------------------------ matmul's 2-D rule


@pytest.mark.parametrize("shapes", [((3, 4), (4, 2)), ((1, 1), (1, 3)), ((5, 1), (1, 5))])
def test_matmul_two_matrix_rule_matches_the_general_stacked_rule(shapes):
    rng = np.random.default_rng(1)
    a, b = (rng.standard_normal(s) for s in shapes)
    g = rng.standard_normal((shapes[0][0], shapes[1][1]))
    ga, gb = ops.Matmul.backward(g, a @ b, a, b)
    # the same product as a stack of one matrix goes through the general branch
    sa, sb = ops.Matmul.backward(g[None], (a @ b)[None], a[None], b[None])
    np.testing.assert_allclose(ga, sa[0], rtol=1e-14)
    np.testing.assert_allclose(gb, sb[0], rtol=1e-14)


def test_matmul_gradients_pass_gradcheck_for_matrices():
    rng = np.random.default_rng(2)
    assert gradcheck(lambda a, b: ((a @ b).tanh() ** 2).sum(),
                     [Value(rng.standard_normal((3, 4))), Value(rng.standard_normal((4, 2)))])


def test_second_derivative_through_the_two_matrix_rule():
    a = Value(np.array([[1.0, 2.0]]))
    b = Value(np.array([[3.0], [4.0]]))
    (ga,) = grad(((a @ b) ** 2).sum(), [a], create_graph=True)  # 2 (a·b) bᵀ
    (gb,) = grad(ga.sum(), [b])  # d/db_k [2 (a·b)(b_1 + b_2)] = 2 a_k (b_1 + b_2) + 2 (a·b)
    ab = 11.0
    np.testing.assert_allclose(gb.data, [[2 * (3 * 1 + 4 * 1) + 2 * ab], [2 * (3 * 2 + 4 * 2) + 2 * ab]])


def test_one_two_and_three_input_paths_of_the_traversal_agree_with_gradcheck():
    rng = np.random.default_rng(3)
    x = Value(rng.standard_normal((2, 3)))
    assert gradcheck(lambda x: (x.T.reshape(3, 2).sum(axis=0) * x[0, :2]).exp().sum(), [x])
    _, grads = backprop(x.sum(), np.float64(1.0))
    np.testing.assert_array_equal(grads[x], np.ones((2, 3)))


def test_sigmoid_of_one_number_math_exp_path_matches_the_array_path_and_its_edges():
    # One number goes through math.exp (quicker than np.exp on a scalar); arrays through numpy.
    u = np.random.default_rng(3).normal(scale=8, size=200)
    one = np.array([ops.Sigmoid.forward(np.float64(x)) for x in u])
    assert all(type(ops.Sigmoid.forward(np.float64(x))) is np.float64 for x in u[:3])
    np.testing.assert_allclose(one, 1 / (1 + np.exp(-u)), rtol=4e-16, atol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning where e^(-u) is inf
        edges = [ops.Sigmoid.forward(np.float64(x)) for x in (-1000.0, -np.inf, np.inf, 0.0)]
    assert edges == [0.0, 0.0, 1.0, 0.5]
    assert np.isnan(ops.Sigmoid.forward(np.float64(np.nan)))
    assert gradcheck(lambda v: v.sigmoid(), [Value(0.7)])


# ------------------------------------------------------------------ the benchmark itself


def _bench(*args, hide=()):
    code = ("import sys, runpy\n"
            + "".join(f"sys.modules[{m!r}] = None\n" for m in hide)
            + f"sys.argv = ['bench.py', *{list(args)!r}]\n"
            + f"runpy.run_path({str(ROOT / 'benchmarks' / 'bench.py')!r}, run_name='__main__')\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)


def test_benchmark_quick_run_prints_a_table_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    result = _bench("--quick", "--only", "chain", "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert "| measurement | ours | reference |" in result.stdout
    data = json.loads(out.read_text())
    rows = {r["what"] for r in data["rows"]}
    assert any("memory of the graph" in w for w in rows)
    assert all({"ours", "ratio", "target", "met", "unit"} <= set(r) for r in data["rows"])


def test_benchmark_skips_micrograd_and_torch_with_a_note_when_missing():
    result = _bench("--quick", "--only", "steps", "--steps", "30", hide=("micrograd", "torch"))
    assert result.returncode == 0, result.stderr
    assert "micrograd is not installed" in result.stdout
    assert "PyTorch is not installed" in result.stdout
    assert "compiled step, batch 1" in result.stdout and "micrograd 0" not in result.stdout


def test_the_no_check_variant_of_the_benchmark_fits_the_engine_and_removes_the_check():
    # benchmarks/no_check.py rebuilds _apply, backprop and SGD.step from their source without
    # the in-place check; if the engine changes so that its edits no longer fit, it must stop.
    code = """
import json, sys
sys.path.insert(0, 'benchmarks')
import no_check
from tinygrad_sine import Value
from tinygrad_sine.nn import SGD
patches = no_check.variants()
caught = {}
for name in ('on', 'off'):
    no_check.install(patches[name])
    w = Value([1.0, 2.0])
    e = (w * w).sum()
    w.data = w.data - 97
    try:
        e.backward()
        caught[name] = None
    except RuntimeError as err:
        caught[name] = str(err)
    sgd = SGD([w], 0.5)
    sgd.step()
    caught[name + ' w'] = w.data.tolist()
no_check.install(patches['on'])
print(json.dumps(caught))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    caught = json.loads(out.stdout)
    assert caught["on"] and "assigned" in caught["on"]  # the engine as it is: refused
    assert caught["off"] is None  # the variant: the check's work is gone
    assert caught["off w"] == [-96.0 - 0.5 * 2 * -96.0, -95.0 - 0.5 * 2 * -95.0]  # ∂(w·w) = 2w
    result = subprocess.run([sys.executable, "benchmarks/no_check.py", "--rounds", "1",
                             "--steps", "30"], capture_output=True, text=True, cwd=ROOT,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert set(rows) == {"batch 1", "full batch", "scalar"}
    assert all(us["on"] > 0 and us["off"] > 0 for us in rows.values())
