"""Bad input to the Python API: each case raises a clear error naming the argument.

One table, one test: each row is a call that must fail, the error type it
must raise, and a word its message must contain (the argument's name).
"""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_sine import Value, gradcheck


def _backward_with(grad):
    return lambda: (Value(np.ones(2)) * 2).backward(grad=grad)


CASES = [
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
]


@pytest.mark.parametrize("call, error, name", CASES)
def test_bad_input_raises_a_clear_error_naming_the_argument(call, error, name):
    with pytest.raises(error) as info:
        call()
    assert name in str(info.value)
