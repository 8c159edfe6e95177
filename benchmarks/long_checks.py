"""The full-length checks that the test suite runs shortened (a minute or two).

    python benchmarks/long_checks.py

* memory stays flat over 100,000 training steps (the suite: 10,000);
* the seed's settings learn sine for seeds 0-4 over all 2001 epochs, error < 1e-3
  (the suite: seed 0 to epoch 1000, and the starting error of seeds 1-4);
* the automatic and the manual engine follow the same trajectory for all 2001
  epochs, to 1e-9 (the suite: 200 epochs);
* every numpy function of the dispatch table follows numpy, and its gradient
  passes gradcheck, on 500 random calls each (the suite: 15 each, derandomized;
  tests/test_numpy_rules.py);
* compile agrees with eager autograd on 5,000 random programs, through the
  numpy code and both SGD steps (the suite: 300; see tests/random_programs.py),
  and every op of the engine has a line in the programs' table;
* tutorial section 10's spiral run (2-24-3 tanh MLP, cross-entropy, full batch,
  η = 0.5/180, 3000 epochs) for seeds 0-3: the accuracy each reaches, and the
  same run by examples/classify.py's hand-derived numpy backprop, step for step
  (the suite: 40 epochs of the example).

Prints one line per check and exits 1 if any fails.
"""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from tinygrad_sine import Value, no_grad  # noqa: E402
from tinygrad_sine.nn import SineNet  # noqa: E402
from tinygrad_sine.sine import train  # noqa: E402


def memory_flat_over_100k_steps() -> str:
    rng = np.random.default_rng(9)
    x, t = rng.normal(size=(4, 3)), rng.normal(size=(4,))
    w, b = Value(rng.normal(size=(3,)) * 0.1), Value(0.0)

    def step():
        loss = (((x @ w + b).tanh() - t) ** 2).mean()
        loss.backward()
        with no_grad():
            w.data -= 0.01 * w.grad
            b.data -= 0.01 * b.grad
        w.zero_grad()
        b.zero_grad()

    gc.disable()  # a reference cycle would show up as growth
    tracemalloc.start()
    try:
        for _ in range(2_000):
            step()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(98_000):
            step()
        growth = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
        gc.enable()
    assert growth < 256 * 1024, f"memory grew by {growth:,} bytes"
    return f"grew {growth:,} bytes over 98,000 steps"


def seeds_0_to_4_learn_sine() -> str:
    finals = []
    for seed in range(5):
        history = train(SineNet(seed=seed), engine="manual", seed=seed)
        assert history.epochs == list(range(0, 2001, 200))
        assert 0.2 < history.errors[0] < 0.33, (seed, history.errors[0])
        assert history.errors[-1] < 1e-3, (seed, history.errors[-1])
        finals.append(history.errors[-1])
    return "final errors " + ", ".join(f"{e:.1e}" for e in finals)


def auto_and_manual_same_full_trajectory() -> str:
    auto_net, manual_net = SineNet(seed=0), SineNet(seed=0)
    auto = train(auto_net, engine="auto", seed=0)
    manual = train(manual_net, engine="manual", seed=0)
    np.testing.assert_allclose(auto.errors, manual.errors, rtol=0, atol=1e-9)
    assert auto.errors[-1] < 1e-3
    for p, q in zip(auto_net.parameters(), manual_net.parameters()):
        np.testing.assert_allclose(p.data, q.data, atol=1e-9)
    worst = max(abs(a - m) for a, m in zip(auto.errors, manual.errors))
    return f"errors agree to {worst:.1e} over 2001 epochs"


def numpy_rules_on_500_random_calls_each() -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    import test_numpy_rules as rules  # the suite's table and check, at full length

    try:
        rules.check_rows(rules.ROWS, examples=500, derandomize=False)
    except Exception as err:  # hypothesis has printed the failing call above
        raise AssertionError(f"{type(err).__name__}: {err}") from err
    return f"{len(rules.ROWS)} numpy functions, 500 random calls each"


def spiral_accuracy_over_four_seeds() -> str:
    """Tutorial section 10's run (2-24-3 tanh MLP, summed cross-entropy, full batch,
    η = 0.5/180, 3000 epochs) for seeds 0-3 of the weights and of the spiral's noise; each
    run again with examples/classify.py's hand-derived numpy backprop, step for step."""
    import importlib.util

    from tinygrad_sine.nn import MLP
    from tinygrad_sine.sine import spiral_data

    path = Path(__file__).resolve().parent.parent / "examples" / "classify.py"
    spec = importlib.util.spec_from_file_location("classify", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    accuracies = []
    for seed in range(4):
        x, labels = spiral_data(seed=seed)
        t = np.eye(3)[labels]
        net = MLP(2, [24], 3, activation="tanh", seed=seed)
        weights = [p.data.copy() for p in net.parameters()]
        train(net, data=(x, labels), loss="cross_entropy", epochs=3000, eta=0.5 / 180,
              batch_size=180, interval=3000, seed=seed)
        accuracy = float(np.mean(net(x).data.argmax(axis=1) == labels))
        for _ in range(3000):  # the same run by hand: w ← w − η ∂w with the derived formulas
            _, grads = example.backprop_by_hand(x, t, *weights)
            weights = [w - 0.5 / 180 * grads[name]
                       for w, name in zip(weights, ("w1", "b1", "w2", "b2"))]
        for p, w in zip(net.parameters(), weights):
            np.testing.assert_allclose(p.data, w, rtol=1e-8, atol=1e-10)
        assert accuracy > 0.95, (seed, accuracy)
        accuracies.append(accuracy)
    shown = ", ".join(f"{a:.3f}" for a in accuracies)
    return f"accuracy {shown} (seeds 0-3); the hand-derived runs agree"


def compile_agrees_on_5000_random_programs() -> str:
    import random_programs

    missing = random_programs.missing_ops()
    assert not missing, f"ops with no line in tests/random_programs.py's OPS: {missing}"
    result = random_programs.run(range(5000))
    return (f"{result['programs']:,} programs agree four ways ({result['refused']} refused by "
            f"compile, {result['on floats']:,} float steps), largest difference "
            f"{result['worst']:.1e} of each array's scale (allowed {random_programs.TOLERANCE})")


def main() -> int:
    failed = 0
    for check in (memory_flat_over_100k_steps, seeds_0_to_4_learn_sine,
                  auto_and_manual_same_full_trajectory, numpy_rules_on_500_random_calls_each,
                  compile_agrees_on_5000_random_programs, spiral_accuracy_over_four_seeds):
        start = time.perf_counter()
        try:
            result = f"ok    {check()}"
        except AssertionError as err:
            failed += 1
            result = f"FAIL  {err}"
        print(f"{check.__name__:40} {result}  ({time.perf_counter() - start:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
