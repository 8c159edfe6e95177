"""Advice for an array of the wrong shape, read from the shape actually given.

A layer takes a batch: shape ``(samples, features)``, one row per sample.
Learners often have something else in hand (the seed's data is 1-D, a single
sample is a flat row), and a fixed sentence such as "reshape with
``x.reshape(1, -1)``" is wrong for half of them.  These functions look at the
shape and say what it is and which reshape gives what the layer takes.
``nn`` (layers, ``squared_error``) and ``compare_gradients`` use them, so
every shape error gives the same advice.
"""

from __future__ import annotations

import numpy as np


def input_hint(shape: tuple, n_in: int, name: str = "x") -> str:
    """What to do with an input of ``shape`` for a layer that takes ``n_in`` features.

    >>> input_hint((63,), 1)
    'x.reshape(-1, 1) makes it 63 samples of 1 feature'
    >>> input_hint((4, 3), 2)
    'each row of x has 3 features and the layer takes 2'
    """
    def features(n: int) -> str:
        return f"{n} feature{'s' if n != 1 else ''}"

    if len(shape) == 0:
        if n_in == 1:
            return f"{name} is a single number: write it as [[{name}]], 1 sample of 1 feature"
        return f"{name} is a single number, but a sample has {features(n_in)}"
    if len(shape) == 1:
        (m,) = shape
        if n_in == 1:
            return f"{name}.reshape(-1, 1) makes it {m} samples of 1 feature"
        if m == n_in:
            return f"{name}.reshape(1, -1) makes it 1 sample of {features(n_in)}"
        if m % n_in == 0:
            return f"{name}.reshape(-1, {n_in}) makes it {m // n_in} samples of {features(n_in)}"
        return f"its {m} numbers cannot be split into samples of {features(n_in)}"
    if len(shape) == 2:
        rows, cols = shape
        hint = f"each row of {name} has {features(cols)} and the layer takes {n_in}"
        if rows == n_in:  # looks like one sample per column
            turn = f"{name}.reshape(-1, 1)" if n_in == 1 else f"{name}.T"
            hint += f"; if each column is a sample, use {turn}"
        return hint
    if int(np.prod(shape[1:])) == n_in:
        return f"{name}.reshape(len({name}), -1) flattens each of its {shape[0]} samples"
    return f"a layer takes a 2-D batch, one row of {features(n_in)} per sample"


def input_error(where: str, shape: tuple, n_in: int, name: str = "x") -> ValueError:
    """The ValueError for an input of the wrong shape, with :func:`input_hint`'s advice."""
    return ValueError(f"{where}: {name} has shape {tuple(shape)}, but the layer takes a batch of "
                      f"shape (samples, {n_in}); {input_hint(tuple(shape), n_in, name)}")


def target_hint(y_shape: tuple, t_shape: tuple) -> str:
    """How to make targets of ``t_shape`` match predictions of ``y_shape``."""
    size_y, size_t = int(np.prod(y_shape)), int(np.prod(t_shape))
    if size_y != size_t:
        return f"t has {size_t} numbers for the {size_y} of y (one target per output)"
    if len(y_shape) == 2:
        return f"use t.reshape(-1, {y_shape[1]})"
    return f"use t.reshape({y_shape})"
