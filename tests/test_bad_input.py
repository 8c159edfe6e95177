"""Bad input in the Python API: a clear error, at the call that got it, naming the argument.

One table, one test: each row is a call that must fail, the error type it
must raise, and a word its message must contain (the argument's name).
"""

from __future__ import annotations

import copy
import io

import numpy as np
import pytest

from tinygrad_sine import Value, gradcheck
from tinygrad_sine.nn import SGD, Layer, SineNet, layer_of, squared_error
from tinygrad_sine.show import describe, show
from tinygrad_sine.sine import train
from tinygrad_sine.stepper import Stepper, training_step
from tinygrad_sine.testing import assert_grad_close
from viz.graph import draw_graph, render_graph


def a_loss() -> Value:
    return training_step(SineNet(seed=0), np.array([[0.1]]), np.array([[0.2]]))


def params():
    return SineNet(seed=0).parameters()


def _backward_with(grad):
    return lambda: (Value(np.ones(2)) * 2).backward(grad=grad)


CASES = [
    pytest.param(lambda: SineNet(wb_width=float("nan")), ValueError, "wb_width", id="SineNet-wb_width-nan"),
    pytest.param(lambda: SineNet(wb_width=None), TypeError, "wb_width", id="SineNet-wb_width-None"),
    pytest.param(lambda: SineNet(wb_width="a"), TypeError, "wb_width", id="SineNet-wb_width-str"),
    pytest.param(lambda: SineNet(seed=-1), ValueError, "seed", id="SineNet-seed-negative"),
    pytest.param(lambda: SineNet(seed=1.5), TypeError, "seed", id="SineNet-seed-float"),
    pytest.param(lambda: SineNet(seed="a"), TypeError, "seed", id="SineNet-seed-str"),
    pytest.param(lambda: SineNet(n_mid=99_999_999_999), ValueError, "n_mid", id="SineNet-n_mid-huge"),
    pytest.param(lambda: SineNet(n_mid=(30_000, 30_000)), ValueError, "n_mid",
                 id="SineNet-n_mid-30000x30000"),
    pytest.param(lambda: Layer(2.5, 3, Value.sigmoid), ValueError, "n_in", id="Layer-n_in-float"),
    pytest.param(lambda: Layer(30_000, 30_000, Value.sigmoid), ValueError, "n_in × n_out",
                 id="Layer-too-many-weights"),
    pytest.param(lambda: squared_error(1.0, 1.0), TypeError, "y", id="squared_error-float-y"),
    pytest.param(lambda: SGD([1.0]), TypeError, "params[0]", id="SGD-params-float"),
    pytest.param(lambda: SGD([Value(1.0) * 2]), ValueError, "params[0]", id="SGD-non-leaf"),
    pytest.param(lambda: SGD(params(), eta="a"), TypeError, "eta", id="SGD-eta-str"),
    pytest.param(lambda: SGD(params(), eta=float("nan")), ValueError, "eta", id="SGD-eta-nan"),
    pytest.param(lambda: train(SineNet(seed=0), epochs=10**30), ValueError, "epochs",
                 id="train-epochs-huge"),
    pytest.param(lambda: train(SineNet(seed=0), epochs=1, seed=10**30), ValueError, "seed",
                 id="train-seed-huge"),
    pytest.param(lambda: train(SineNet(seed=0), epochs=1, callback=3), TypeError, "callback",
                 id="train-callback-int"),
    pytest.param(lambda: Stepper(a_loss()).goto(None), TypeError, "target", id="goto-None"),
    pytest.param(lambda: Stepper(a_loss()).goto(1.5), TypeError, "target", id="goto-float"),
    pytest.param(lambda: Stepper(a_loss()).goto(True), TypeError, "target", id="goto-bool"),
    pytest.param(lambda: Stepper(a_loss()).next("a"), TypeError, "count", id="next-str"),
    pytest.param(lambda: Stepper(a_loss()).next(-1), ValueError, "count", id="next-negative"),
    pytest.param(lambda: Stepper(a_loss()).prev(0), ValueError, "count", id="prev-zero"),
    pytest.param(lambda: draw_graph(a_loss(), max_nodes="a"), TypeError, "max_nodes",
                 id="draw_graph-max_nodes-str"),
    pytest.param(lambda: draw_graph(a_loss(), highlight=5), TypeError, "highlight",
                 id="draw_graph-highlight-int"),
    pytest.param(lambda: draw_graph(a_loss(), highlight="ab"), ValueError, "highlight",
                 id="draw_graph-highlight-unknown-name"),
    pytest.param(lambda: render_graph(a_loss(), 123), TypeError, "path", id="render_graph-path-int"),
    pytest.param(lambda: show(a_loss(), file=3), TypeError, "file", id="show-file-int"),
    # the engine: Value, backward, gradcheck
    pytest.param(lambda: Value([1.0, 2.0]).sum(keepdims="yes"), TypeError, "keepdims",
                 id="sum-keepdims-a-string"),
    pytest.param(lambda: Value([1.0, 2.0]).mean(keepdims=1), TypeError, "keepdims",
                 id="mean-keepdims-an-int"),
    pytest.param(lambda: Value(10**400), ValueError, "data", id="value-int-beyond-float-range"),
    pytest.param(lambda: Value([1, 10**400]), ValueError, "data",
                 id="value-list-with-int-beyond-float-range"),
    pytest.param(lambda: Value(bytearray(b"\x01\x02")), TypeError, "bytearray",
                 id="value-bytearray"),
    pytest.param(lambda: Value(memoryview(b"\x01\x02")), TypeError, "memoryview",
                 id="value-memoryview"),
    pytest.param(lambda: Value(np.ma.masked_array([1.0, 2.0], mask=[0, 1])), TypeError,
                 "masked", id="value-masked-array"),
    pytest.param(_backward_with("abc"), TypeError, "grad", id="backward-grad-a-string"),
    pytest.param(_backward_with(["1.5", "2"]), TypeError, "grad",
                 id="backward-grad-strings-of-numbers"),
    pytest.param(_backward_with(np.array([1 + 2j, 1])), TypeError, "grad",
                 id="backward-grad-complex"),
    pytest.param(lambda: gradcheck("notcallable", [Value(1.0)]), TypeError, "fn",
                 id="gradcheck-fn-not-callable"),
    pytest.param(lambda: gradcheck(lambda x: x.sin(), Value(1.0), eps=0.0), ValueError, "eps",
                 id="gradcheck-eps-zero"),
    pytest.param(lambda: gradcheck(lambda x: x.sin(), Value(1.0), eps=float("nan")),
                 ValueError, "eps", id="gradcheck-eps-nan"),
    pytest.param(lambda: gradcheck(lambda x: x.sin(), Value(1.0), atol=float("nan")),
                 ValueError, "atol", id="gradcheck-atol-nan"),
    pytest.param(lambda: gradcheck(lambda x: x.sin(), Value(1.0), rtol=-1e-3), ValueError,
                 "rtol", id="gradcheck-rtol-negative"),
    pytest.param(lambda: gradcheck(lambda x: x.sin(), Value(1.0), atol="a"), TypeError,
                 "atol", id="gradcheck-atol-a-string"),
    # the checkers
    pytest.param(lambda: assert_grad_close(None, 1.0), TypeError, "actual",
                 id="assert_grad_close-actual-None"),
]


@pytest.mark.parametrize("call, error, name", CASES)
def test_bad_input_raises_a_clear_error_naming_the_argument(call, error, name):
    with pytest.raises(error) as caught:
        call()
    assert name in str(caught.value)


def test_one_name_alone_is_a_highlight_of_one_node():
    loss = a_loss()
    assert draw_graph(loss, highlight="u1").source == draw_graph(loss, highlight=["u1"]).source
    out = io.StringIO()
    show(loss, file=out, show_grad=False)
    assert out.getvalue().startswith("E")


def test_a_deep_copied_net_keeps_its_layers_recognised_in_diagrams():
    net = SineNet(n_mid=(4, 3), seed=0)
    twin = copy.deepcopy(net)
    assert [layer_of(ly.w, ly.b) for ly in twin.layers] == [("middle", 1), ("middle", 2),
                                                            ("output", 3)]
    assert all(a.w is not b.w for a, b in zip(net.layers, twin.layers))
    info = describe(training_step(twin, np.array([[0.1]]), np.array([[0.2]])))
    assert [(s.kind, s.index) for s in info.layers] == [("middle", 1), ("middle", 2), ("output", 3)]
