"""Bad input in the Python API: a clear error, at the call that got it, naming the argument."""

from __future__ import annotations

import copy
import io

import numpy as np
import pytest

from tinygrad_sine import Value
from tinygrad_sine.nn import SGD, Layer, SineNet, layer_of, squared_error
from tinygrad_sine.show import describe, show
from tinygrad_sine.sine import train
from tinygrad_sine.stepper import Stepper, training_step
from viz.graph import draw_graph, render_graph


def a_loss() -> Value:
    return training_step(SineNet(seed=0), np.array([[0.1]]), np.array([[0.2]]))


def params():
    return SineNet(seed=0).parameters()


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
