"""The seed's experiment: learn sin(x) on 63 points with a 1-3-1 network.

Settings from the post: ``wb_width = 0.01``, ``eta = 0.1``, ``epoch = 2001``,
``n_mid = 3``, ``interval = 200``, batch size 1 (one update per sample),
samples shuffled every epoch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .manual import ManualSineNet
from .nn import SGD, SineNet, squared_error

ENGINES = ("auto", "manual", "compiled")


def sine_data() -> tuple[np.ndarray, np.ndarray]:
    """The seed's data: ``x = arange(0, 2π, 0.1)`` (63 points), ``t = sin(x)``,
    then ``x`` rescaled to ``[−1, 1)`` by ``x ← (x − π) / π``.

    >>> x, t = sine_data()
    >>> x.shape, float(x.min()), bool(x.max() < 1)
    ((63,), -1.0, True)
    """
    x = np.arange(0.0, 2 * np.pi, 0.1)
    t = np.sin(x)
    return (x - np.pi) / np.pi, t


@dataclass
class History:
    """What a training run recorded, every ``interval`` epochs.

    ``epochs[i]`` and ``errors[i]`` go together; ``snapshots[epoch]`` is the
    pair ``(x, y)`` of that epoch's samples in the order they were visited,
    each ``y`` predicted just before that sample's update (as the post plots).
    """

    epochs: list[int] = field(default_factory=list)
    errors: list[float] = field(default_factory=list)
    snapshots: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    settings: dict = field(default_factory=dict)

    @property
    def final_error(self) -> float:
        return self.errors[-1]


def progress_line(epoch: int, epochs: int, error: float) -> str:
    """The seed's progress line, e.g. ``Epoch:200/2001 Error:0.0087...``."""
    return f"Epoch:{epoch}/{epochs} Error:{error}"


def _is_number(val) -> bool:
    return isinstance(val, (int, float, np.integer, np.floating)) and not isinstance(val, bool)


def _whole(name: str, val, where: str, least: int = 1) -> int:
    """``val`` as an int if it is a whole number ≥ ``least`` (2 and 2.0 pass); else ValueError."""
    if not (_is_number(val) and np.isfinite(val) and int(val) == val and val >= least):
        raise ValueError(f"{where}: {name} must be a whole number ≥ {least}, got {val!r}")
    return int(val)


def train(
    net: SineNet,
    epochs: int = 2001,
    eta: float = 0.1,
    interval: int = 200,
    seed: int = 0,
    batch_size: int = 1,
    engine: str = "auto",
    callback: Callable[[int, float, History], None] | None = None,
) -> History:
    """Train ``net`` on :func:`sine_data` the way the post does; return a :class:`History`.

    Every epoch draws a fresh permutation of the 63 samples from
    ``numpy.random.default_rng(seed)`` and walks it ``batch_size`` samples at
    a time, updating after each batch.  With ``batch_size > 1`` the gradient
    is the **sum** over the batch's rows (the Σ in the seed's formulas), not
    a mean, so a larger batch takes a larger step.  Every ``interval``
    epochs (epoch 0 included) the mean error ``Σ ½(y − t)² / 63`` over that
    epoch's samples is recorded, each ``y`` taken before its own update,
    together with the predictions; ``callback(epoch, error, history)`` is
    then called.

    ``engine="auto"`` uses the ``Value`` graph and ``backward()``;
    ``engine="compiled"`` traces the same step once with
    :func:`~tinygrad_sine.compile.compile` and then runs the generated code,
    the update inside it (``compile(...).sgd``; on Python floats for the
    seed's small net: same numbers as ``"auto"`` to ~1e-15, ~10× faster);
    ``engine="manual"`` trains a :class:`~tinygrad_sine.manual.ManualSineNet`
    copy with the hand-derived formulas and writes its final weights back into
    ``net``.  For the same seed both take the same shuffles.

    Bad settings raise ``ValueError`` before any training: ``eta`` not a
    finite number > 0, ``epochs``/``interval``/``batch_size`` not whole
    numbers ≥ 1, ``seed`` not None or a whole number ≥ 0, a batch larger
    than the 63 samples, a network that is not 1-…-1 (``TypeError`` for a
    ``net`` that is not a ``SineNet``).
    """
    if not isinstance(net, SineNet):
        raise TypeError(f"train: net must be a SineNet (e.g. SineNet(seed=0)), "
                        f"got {type(net).__name__}")
    if engine not in ENGINES:
        raise ValueError(f"train: engine must be one of {', '.join(ENGINES)}; got {engine!r}")
    epochs, interval, batch_size = (
        _whole(name, val, "train") for name, val in
        (("epochs", epochs), ("interval", interval), ("batch_size", batch_size)))
    if seed is not None:
        seed = _whole("seed", seed, "train", least=0)
    if not (_is_number(eta) and np.isfinite(eta) and eta > 0):
        raise ValueError(f"train: eta must be a finite number > 0 (the post uses 0.1), got {eta!r}")
    x_all, t_all = sine_data()
    if batch_size > len(x_all):
        raise ValueError(f"train: batch_size {batch_size} is more than the {len(x_all)} samples; "
                         f"use batch_size={len(x_all)} for full-batch training")
    n_in, n_out = net.sizes[0], net.sizes[-1]
    if (n_in, n_out) != (1, 1):
        raise ValueError(f"train: the sine data needs a 1-…-1 network, got {net!r}")
    x_all, t_all = x_all.reshape(-1, 1), t_all.reshape(-1, 1)
    n = len(x_all)
    rng = np.random.default_rng(seed)
    history = History(
        settings=dict(epochs=epochs, eta=eta, interval=interval, seed=seed,
                      batch_size=batch_size, engine=engine, sizes=net.sizes)
    )
    steps = {"auto": _auto_step, "manual": _manual_step, "compiled": _compiled_step}
    step = steps[engine](net, eta)

    sync = getattr(step, "sync", lambda: None)  # the compiled step holds the weights itself
    try:
        for epoch in range(epochs):
            order = rng.permutation(n)
            record = epoch % interval == 0
            total, ys = 0.0, []
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                y, err = step(x_all[idx], t_all[idx])
                if record:
                    total += err
                    ys.append(y)
            if record:
                sync()  # the net's Values get the weights before anyone looks at them
                error = total / n
                history.epochs.append(epoch)
                history.errors.append(error)
                history.snapshots[epoch] = (x_all[order, 0], np.concatenate(ys)[:, 0])
                if callback is not None:
                    callback(epoch, error, history)
    finally:  # at the end, and on an exception (a callback stopping the run, Ctrl-C)
        sync()
    if engine == "manual":
        step.manual.copy_weights_to(net)
    return history


def _auto_step(net: SineNet, eta: float):
    """One SGD step on the Value graph: forward, E.backward(), w ← w − η ∂w."""
    sgd = SGD(net.parameters(), eta)

    def step(x, t):
        sgd.zero_grad()
        y = net(x)
        e = squared_error(y, t)
        e.backward()
        sgd.step()
        return y.data, e.item()

    return step


class _compiled_step:
    """One SGD step with generated code: traced on the first batch, replayed after.

    The update ``w ← w − η ∂w`` is inside the generated step (``compile(...).sgd``);
    for the seed's small net that is code on Python floats that keeps the weights
    itself, so ``sync()`` writes them back into the net's Values.
    """

    def __init__(self, net: SineNet, eta: float):
        self.net, self.eta, self.fused = net, eta, None

    def loss(self, x, t):
        y = self.net(x)
        return squared_error(y, t), y

    def __call__(self, x, t):
        if self.fused is None:
            from .compile import compile

            self.fused = compile(self.loss, x, t).sgd(self.eta)
        e, (y,) = self.fused(x, t)
        return y, e

    def sync(self) -> None:
        """Write the weights back into the net's Values (the next step reads them afresh)."""
        if self.fused is not None:
            self.fused.write_back()


def compiled_seconds(net: SineNet, eta: float, batch_size: int, updates: int,
                     sample: int = 400) -> float:
    """About how long ``updates`` steps of ``engine="compiled"`` take on this machine.

    Measured, not guessed: the time to trace and write the code, plus
    ``sample`` steps (shuffled batches of the sine data, as ``train`` takes
    them; fewer if they take more than a quarter of a second) timed on a copy
    of ``net`` and scaled to ``updates``.  ``net`` itself is not touched.
    """
    import copy

    twin = copy.deepcopy(net)
    x_all, t_all = (a.reshape(-1, 1) for a in sine_data())
    rng, batches = np.random.default_rng(0), []
    while len(batches) < sample:
        order = rng.permutation(len(x_all))
        batches += [order[s:s + batch_size] for s in range(0, len(order), batch_size)]
    batches = batches[:sample]
    step = _compiled_step(twin, eta)
    start = time.perf_counter()
    step(x_all[batches[0]], t_all[batches[0]])  # tracing and writing the code: once per run
    writing = time.perf_counter() - start
    start, done = time.perf_counter(), 0
    for idx in batches:
        step(x_all[idx], t_all[idx])
        done += 1
        if done % 50 == 0 and time.perf_counter() - start > 0.25:  # a wide net: enough
            break
    return writing + (time.perf_counter() - start) / done * updates


class _manual_step:
    """One SGD step with the hand-derived formulas of ``manual.py``."""

    def __init__(self, net: SineNet, eta: float):
        self.manual = ManualSineNet.from_net(net)
        self.eta = eta

    def __call__(self, x, t):
        y = self.manual.forward(x)
        err = self.manual.error(y, t)
        self.manual.backward(t)
        self.manual.update(self.eta)
        return y, err
