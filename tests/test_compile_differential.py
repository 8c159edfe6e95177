"""The differential test of compile: random programs over every op give eager autograd's loss,
gradients and SGD-updated weights through the numpy code and both fused steps (issue 18).

The programs and the tolerance are described in ``random_programs.py``;
``benchmarks/long_checks.py`` runs thousands of them.
"""

from __future__ import annotations

import collections

import numpy as np
import pytest
import random_programs as R

from tinygrad_sine.compile import CompiledFunction

PROGRAMS = range(300)


def test_random_programs_agree_with_eager_through_numpy_code_and_both_sgd_steps():
    result = R.run(PROGRAMS)  # raises Disagreement naming the program, the way and the number
    assert result["programs"] == len(PROGRAMS)
    assert result["refused"] < len(PROGRAMS) // 10  # refusals are compile's own TraceError
    assert result["on floats"] > len(PROGRAMS) // 2  # the float code ran for most of them
    assert result["worst"] <= R.TOLERANCE


def test_the_programs_use_every_op_of_the_table_and_the_traced_inputs_vary():
    programs = [R.Program(seed) for seed in PROGRAMS]
    used = collections.Counter(op for p in programs for op in p.used)
    assert set(used) == {op.__name__ for op, _ in R.OPS}
    examples = [x for p in programs for x in p.example if np.ndim(x)]
    assert any(not x.any() for x in examples) and any((x == 1).all() for x in examples)


def test_the_table_covers_every_op_of_the_engine():
    assert not R.missing_ops()  # a new op needs its line in R.OPS before this passes


def test_a_difference_of_one_in_a_million_is_caught(monkeypatch):
    real = CompiledFunction.__call__

    def off(self, *inputs):
        loss, grads, *rest = real(self, *inputs)
        return (loss, [g * (1 + 1e-6) for g in grads], *rest)

    monkeypatch.setattr(CompiledFunction, "__call__", off)
    with pytest.raises(R.Disagreement, match=r"program \d+ .*gradient of p"):
        for seed in range(3, 20):
            R.check(R.Program(seed))


@pytest.mark.parametrize(
    "got, want, far",
    [
        ([1.0, 2.0], [1.0, 2.0], 0.0),
        ([1.0, 2.0 + 4e-9], [1.0, 2.0], 2e-9),  # relative to the array's largest number
        ([1e-3 + 1e-12], [1e-3], 1e-12),  # … but never below 1
        ([1.0, 2.0 + 4e-12], [1.0, 2.0], 2e-12),  # past the tolerance (1e-12)
        ([np.nan, 1.0], [np.nan, 1.0], 0.0),
        ([np.nan, 1.0], [0.0, 1.0], np.inf),
        ([np.inf], [-np.inf], np.inf),
        ([[1.0]], [1.0], np.inf),
    ],
)
def test_how_far_two_results_are(got, want, far):
    assert R._far(np.array(got), np.array(want)) == pytest.approx(far, rel=1e-6)
