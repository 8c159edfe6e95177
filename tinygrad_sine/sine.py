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

from .arguments import check_real, is_real
from .manual import ManualSineNet
from .nn import SGD, SineNet, check_seed, squared_error
from .record import FRAMES, Frame, Recorder

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


@dataclass(repr=False)
class History:
    """What a training run recorded, every ``interval`` epochs.

    ``epochs[i]`` and ``errors[i]`` go together; ``snapshots[epoch]`` is the
    pair ``(x, y)`` of that epoch's samples in the order they were visited,
    each ``y`` predicted just before that sample's update (as the post plots).

    ``frames`` is what a page or an animation of the run is drawn from
    (:class:`~tinygrad_sine.record.Frame`: the weights as each frame epoch
    began, the sizes of their gradients, the error), about 200 of them,
    denser early; ``names`` are the parameters' labels, ``samples`` the
    whole training data ``(x, t)`` as arrays ``(n, n_in)``, ``(n, n_out)``,
    and ``model`` a copy of the network (its weights as training began),
    which ``viz.learn`` loads each frame's weights into to draw it.
    In Jupyter a History shows as its page (:func:`viz.learn_page`).
    """

    epochs: list[int] = field(default_factory=list)
    errors: list[float] = field(default_factory=list)
    snapshots: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    # your data's first input and first target column, for the figures; None for the post's
    data: tuple[np.ndarray, np.ndarray] | None = None
    frames: list[Frame] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    samples: tuple[np.ndarray, np.ndarray] | None = None
    model: object = None

    @property
    def final_error(self) -> float:
        return self.errors[-1]

    def __repr__(self) -> str:
        """One line: what was recorded and how the error went (the arrays stay as attributes)."""
        engine = self.settings.get("engine", "?")
        if not self.epochs:
            return f"History(nothing recorded, engine {engine})"
        return (f"History({len(self.epochs)} records, epochs {self.epochs[0]}…{self.epochs[-1]}, "
                f"engine {engine}, error {self.errors[0]:.4g} → {self.errors[-1]:.4g})")

    def _repr_html_(self) -> str | None:
        """Jupyter shows a History as its learning page (``viz.learn_page``), inline.

        A history without frames (``train(..., frames=0)``) shows as its text repr.
        """
        if not self.frames:
            return None
        from viz.learn import learn_page

        return learn_page(self)._repr_html_()


def progress_line(epoch: int, epochs: int, error: float) -> str:
    """The seed's progress line, e.g. ``Epoch:200/2001 Error:0.0087...``."""
    return f"Epoch:{epoch}/{epochs} Error:{error}"


MAX_COUNT = 10**9  # epochs, interval, batch_size: far beyond any run, and int64-safe


def _whole(name: str, val, where: str) -> int:
    """``val`` as an int if it is a whole number 1 … MAX_COUNT (2 and 2.0 pass); else ValueError."""
    # Python ints are compared exactly (10**30 is no float); numpy's isfinite is for floats only.
    whole = is_real(val) and (isinstance(val, (int, np.integer))
                                 or (np.isfinite(val) and float(val).is_integer()))
    if not (whole and 1 <= val <= MAX_COUNT):
        raise ValueError(f"{where}: {name} must be a whole number from 1 to {MAX_COUNT:,}, "
                         f"got {val!r}")
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
    data: tuple | None = None,
    legacy_rng: bool = False,
    frames: int = FRAMES,
) -> History:
    """Train ``net`` on :func:`sine_data` the way the post does; return a :class:`History`.

    ``data=(x, t)`` trains on your data instead, with the same loop, history
    and figures: ``x`` of shape ``(n, n_in)`` and ``t`` of shape ``(n, n_out)``
    for the net's sizes (a 1-D ``x`` or ``t`` is one column), e.g. ``cos``,
    ``x²`` or XOR with ``SineNet(n_in=2)``.  Below, 63 is then your ``n``, and
    the snapshots hold your first input and first output column.

    Every epoch draws a fresh permutation of the 63 samples from
    ``numpy.random.default_rng(seed)`` and walks it ``batch_size`` samples at
    a time, updating after each batch.  With ``batch_size > 1`` the gradient
    is the **sum** over the batch's rows (the Σ in the seed's formulas), not
    a mean, so a larger batch takes a larger step.  Every ``interval``
    epochs (epoch 0 included) the mean error ``Σ ½(y − t)² / 63`` over that
    epoch's samples is recorded, each ``y`` taken before its own update,
    together with the predictions; ``callback(epoch, error, history)`` is
    then called.

    Besides, about ``frames`` times in the run (denser early, see
    :func:`~tinygrad_sine.record.frame_epochs`) it keeps a frame: the
    weights as that epoch begins, their gradients' sizes and the epoch's
    error (``History.frames``), for :func:`viz.learn_page` and
    :func:`viz.animate`; ``frames=0`` keeps none.

    ``legacy_rng=True`` shuffles as the post does, with numpy's legacy
    generator: the post calls ``np.random.seed(seed)`` once, draws the
    weights, then shuffles from the same stream; here the shuffles come from
    ``np.random.RandomState(seed)`` after skipping as many normal draws as
    ``net`` has weights.  So ``train(SineNet(seed=s, legacy_rng=True), seed=s,
    legacy_rng=True)`` replays the post's run for seed ``s`` number for number.

    ``engine="auto"`` uses the ``Value`` graph and ``backward()``;
    ``engine="compiled"`` traces the same step once with
    :func:`~tinygrad_sine.compile.compile` and then runs the generated code,
    the update inside it (``compile(...).sgd``; on Python floats for the
    seed's small net: same numbers as ``"auto"`` to ~1e-15, ~10× faster);
    ``engine="manual"`` trains a :class:`~tinygrad_sine.manual.ManualSineNet`
    copy with the hand-derived formulas and writes its weights back into
    ``net`` at each recorded epoch (before the callback) and at the end, or
    when the run stops on an exception.  For the same seed all take the same
    shuffles.

    Bad settings raise ``ValueError`` before any training: ``eta`` not a
    finite number > 0, ``epochs``/``interval``/``batch_size`` not whole
    numbers from 1 to 10⁹, ``seed`` not None or a whole number from 0 to
    2³² − 1 (``TypeError`` for a seed or a callback of the wrong type), a batch larger
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
    seed = check_seed(seed, "train")
    if callback is not None and not callable(callback):
        raise TypeError(f"train: callback must be a function callback(epoch, error, history) "
                        f"or None, got {type(callback).__name__} {callback!r}")
    eta = check_real(eta, "train", "eta", positive=True, example="the post's 0.1")
    x_all, t_all = _training_data(net, data)
    if batch_size > len(x_all):
        raise ValueError(f"train: batch_size {batch_size} is more than the {len(x_all)} samples; "
                         f"use batch_size={len(x_all)} for full-batch training")
    n = len(x_all)
    if legacy_rng:
        rng = np.random.RandomState(seed)
        rng.standard_normal(sum(p.data.size for p in net.parameters()))  # the weights' draws
    else:
        rng = np.random.default_rng(seed)
    frames = 0 if frames == 0 else _whole("frames", frames, "train")
    history = History(
        settings=dict(epochs=epochs, eta=eta, interval=interval, seed=seed,
                      batch_size=batch_size, engine=engine, sizes=net.sizes,
                      legacy_rng=legacy_rng),
        data=None if data is None else (x_all[:, 0], t_all[:, 0]),
        names=[p.label or f"p{i}" for i, p in enumerate(net.parameters())],
        samples=(x_all, t_all),
        model=_copy_of(net),
    )
    recorder = Recorder(net, x_all, t_all, epochs, interval, frames, squared_error)
    steps = {"auto": _auto_step, "manual": _manual_step, "compiled": _compiled_step}
    step = steps[engine](net, eta)

    sync = getattr(step, "sync", lambda: None)  # the compiled and manual steps hold the weights
    try:
        for epoch in range(epochs):
            order = rng.permutation(n)
            record = epoch % interval == 0
            frame = None
            if recorder.wants(epoch):
                sync()  # the weights as this epoch begins
                frame = recorder.frame(epoch, order[:batch_size])
            total, ys = 0.0, []
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                y, err = step(x_all[idx], t_all[idx])
                if record or frame is not None:
                    total += err
                    ys.append(y)
            if frame is not None:
                frame.error = total / n
                history.frames.append(frame)
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
    return history


def _copy_of(net):
    """A copy of ``net`` to draw frames with, or None if it cannot be copied."""
    import copy

    try:
        return copy.deepcopy(net)
    except Exception:  # a network holding something uncopyable: the page draws less
        return None


def _training_data(net: SineNet, data) -> tuple[np.ndarray, np.ndarray]:
    """``(x, t)`` as float64 arrays ``(n, n_in)`` and ``(n, n_out)``: the post's, or ``data``."""
    n_in, n_out = net.sizes[0], net.sizes[-1]
    if data is None:
        if (n_in, n_out) != (1, 1):
            raise ValueError(f"train: the sine data needs a 1-…-1 network, got {net!r}; "
                             "pass data=(x, t) to train on your own")
        x, t = sine_data()
        return x.reshape(-1, 1), t.reshape(-1, 1)
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise TypeError(f"train: data must be a pair (x, t) of arrays, got {type(data).__name__}")
    arrays = []
    for name, given, cols in (("x", data[0], n_in), ("t", data[1], n_out)):
        try:
            arr = np.asarray(given)  # a Value gives its numbers
        except (TypeError, ValueError):  # ragged lists
            arr = np.asarray(None)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"train: data's {name} must be numbers (an array), got "
                            f"{type(given).__name__}")
        if arr.ndim == 1 and cols == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim != 2 or arr.shape[1] != cols or len(arr) == 0:
            raise ValueError(f"train: data's {name} has shape {arr.shape}, but {net!r} needs "
                             f"(n, {cols}) with n ≥ 1 samples (one row per sample)")
        if not np.isfinite(arr).all():
            raise ValueError(f"train: data's {name} has nan or inf values; every sample must be "
                             "finite numbers")
        arrays.append(arr.astype(np.float64))
    x, t = arrays
    if len(x) != len(t):
        raise ValueError(f"train: data's x has {len(x)} samples but t has {len(t)}; "
                         "they must pair up row by row")
    return x, t


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
    """One SGD step with the hand-derived formulas of ``manual.py``, on a copy of the net's
    weights; ``sync()`` copies them into the net's Values."""

    def __init__(self, net: SineNet, eta: float):
        self.manual = ManualSineNet.from_net(net)
        self.net, self.eta = net, eta

    def sync(self) -> None:
        """Write the weights back into the net's Values (the steps go on from the copy)."""
        self.manual.copy_weights_to(self.net)

    def __call__(self, x, t):
        y = self.manual.forward(x)
        err = self.manual.error(y, t)
        self.manual.backward(t)
        self.manual.update(self.eta)
        return y, err
