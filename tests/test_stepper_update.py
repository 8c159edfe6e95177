"""The stepper's update steps show η exactly, so the shown ``before − η · ∂w = after`` adds up."""

from __future__ import annotations

import math
import re
from decimal import Decimal

import numpy as np
import pytest

from tinygrad_sine import Stepper, Value
from tinygrad_sine.nn import SineNet
from tinygrad_sine.stepper import training_step

# a whole number as shown: one cut short by the preview ("-0.70373…") is not matched
NUMBER = r"-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?(?![\d.e…])"


def _update_parts(step) -> tuple[list[str], str, list[str], list[str]]:
    """before, η, gradient and after as the step's ``after`` line shows them (as text)."""
    line = next(x for x in step.text.splitlines() if x.startswith("  after"))
    found = re.fullmatch(r"  after\s+\S+ = (.*) − (\S+) · (.*) = (.*)", line)
    b, eta, g, a = (re.findall(NUMBER, part) for part in found.groups())
    return b, eta[0], g, a


def _adds_up(b: str, eta: str, g: str, a: str) -> bool:
    """``b − eta · g`` worked by hand from the shown numbers is ``a``, to half a unit of a's
    last shown digit (or float rounding, for a number shown with all its 17 digits)."""
    worked = Decimal(b) - Decimal(eta) * Decimal(g)
    half_unit = Decimal(5).scaleb(Decimal(a).as_tuple().exponent - 1)
    return abs(worked - Decimal(a)) <= max(half_unit, Decimal(4 * math.ulp(float(a))))


def test_an_eta_of_many_digits_is_shown_as_it_is_and_the_step_adds_up():
    w = Value(2.0, label="w")
    loss = w * Value(3.0, label="x")  # ∂w = 3: w becomes 2 − 0.123456 · 3 = 1.629632
    step = next(s for s in Stepper(loss, eta=0.123456) if s.phase == "update")
    assert "η = 0.123456" in step.text  # not 0.1235, which gives 1.6295
    b, eta, g, a = _update_parts(step)
    assert (b, eta, g) == (["2"], "0.123456", ["3"])
    assert _adds_up(b[0], eta, g[0], a[0]), step.text


@pytest.mark.parametrize("eta, shown", [(0.123456, "0.123456"), (0.1, "0.1"), (0.25, "0.25")])
def test_the_shown_update_adds_up_to_the_shown_digits(eta, shown):
    net = SineNet(wb_width=1.0, seed=0)
    s = Stepper(training_step(net, np.array([[0.4]]), np.array([[0.9]])), eta=eta)
    updates = [u for u in s if u.phase == "update"]
    assert len(updates) == 4
    for step in updates:
        b, eta_text, g, a = _update_parts(step)
        assert eta_text == shown
        assert a and all(_adds_up(*numbers) for numbers in zip(b, [eta_text] * len(a), g, a)), \
            step.text
        new = s.updated(step.index)[step.node]  # the shown after is the real new value
        np.testing.assert_allclose([float(x) for x in a], np.ravel(new)[:len(a)], rtol=1e-3)
