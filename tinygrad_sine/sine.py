"""The seed's experiment: learn sin(x) on 63 points with a 1-3-1 network.

Settings from the post: ``wb_width = 0.01``, ``eta = 0.1``, ``epoch = 2001``,
``n_mid = 3``, ``interval = 200``, batch size 1 (one update per sample),
samples shuffled every epoch.
"""

from __future__ import annotations

import copy
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from math import isfinite

import numpy as np

from .arguments import check_real, is_real
from .autograd import no_grad
from .manual import ManualSineNet
from .nn import SGD, SineNet, _cross_entropy, check_seed, class_targets, squared_error
from .record import FRAMES, Frame, Recorder, _copy_of
from .value import Value

ENGINES = ("eager", "manual", "compiled")
ENGINE_ALIASES = {"auto": "eager"}  # the old name: it meant eager autodiff, not "chosen for you"
LOSSES = ("squared_error", "cross_entropy")


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


def spiral_data(per_class: int = 60, classes: int = 3, noise: float = 0.2,
                seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """A spiral of ``classes`` arms in the plane, the classic next problem after a curve fit.

    Arm ``k`` has ``per_class`` points at radius r = 0 … 1 and angle
    θ = 4k … 4(k + 1) radians plus ``noise · N(0, 1)`` (from
    ``numpy.random.default_rng(seed)``), at ``(r sin θ, r cos θ)``.  Returns
    ``x`` of shape ``(classes · per_class, 2)`` and the class labels
    ``(classes · per_class,)``, arm by arm.  No straight line separates
    the arms, so a network needs its hidden layer.

    >>> x, labels = spiral_data()
    >>> x.shape, labels.shape, sorted(set(labels.tolist()))
    ((180, 2), (180,), [0, 1, 2])
    """
    rng = np.random.default_rng(check_seed(seed, "spiral_data"))
    r = np.linspace(0.0, 1.0, per_class)
    points, labels = [], []
    for k in range(classes):
        angle = np.linspace(4.0 * k, 4.0 * (k + 1), per_class) + noise * rng.standard_normal(
            per_class)
        points.append(np.column_stack([r * np.sin(angle), r * np.cos(angle)]))
        labels.append(np.full(per_class, k))
    return np.concatenate(points), np.concatenate(labels)


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
    # with loss="cross_entropy": the fraction of each recorded epoch's samples classified
    # right (the largest output is the target's class), each taken before its own update
    accuracies: list[float] = field(default_factory=list)
    # every sample as trained on: inputs (n, n_in) and targets (n, n_out; one-hot rows for
    # class indices), for figures that need all of them (the decision regions)
    samples: tuple[np.ndarray, np.ndarray] | None = None
    net: object = None  # the network trained (its weights as they are now), for the figures
    frames: list[Frame] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    model: object = None  # a copy of the network as training began, to draw frames with
    diverged: Divergence | None = None  # where the run went wrong, if it did (train stopped)

    @property
    def final_error(self) -> float:
        return self.errors[-1]

    def __repr__(self) -> str:
        """One line: what was recorded and how the error went (the arrays stay as attributes)."""
        engine = self.settings.get("engine", "?")
        if not self.epochs:
            return f"History(nothing recorded, engine {engine})"
        accuracy = (f", accuracy {self.accuracies[0]:.3g} → {self.accuracies[-1]:.3g}"
                    if self.accuracies else "")
        return (f"History({len(self.epochs)} records, epochs {self.epochs[0]}…{self.epochs[-1]}, "
                f"engine {engine}, error {self.errors[0]:.4g} → {self.errors[-1]:.4g}{accuracy})")

    def _repr_html_(self) -> str | None:
        """Jupyter shows a History as its learning page (``viz.learn_page``), inline.

        A history without frames (``train(..., frames=0)``) shows as its text repr.
        """
        if not self.frames:
            return None
        from viz.learn import learn_page

        return learn_page(self)._repr_html_()


@dataclass(repr=False)
class Divergence:
    """Where a training run's error stopped being finite, and the first number that did.

    ``train`` stops at the first sample whose error is ``nan`` or ``inf``,
    replays the run from its first weights under
    :func:`~tinygrad_sine.detect_anomaly`, and records here the step where
    the first non-finite number was made (the same step, or an earlier one
    whose overflow the error absorbed for a while):

    * ``epoch``, ``sample`` (the data index of the batch's first sample),
      ``samples`` (the batch's data indices) and ``x``, ``t`` (its rows);
    * ``message``: one line, ``"epoch 1, sample 24: multiply in E = …
      overflowed at y2 = …"``, with ``phase`` (``"forward"``, ``"backward"``
      or ``"update"``) and ``node`` (the node's name in that step's graph);
    * ``weights``: the parameters just before that step (``net.parameters()``
      order) and ``eta``; :meth:`stepper` rebuilds the step, and ``step`` is
      the number of the step about that node in it, so
      ``viz.explore(d.stepper(net), start=d.step)`` opens there;
    * ``stopped_epoch``, ``stopped_sample`` and ``error``: where the error
      itself turned non-finite, and its value.
    """

    epoch: int
    sample: int
    samples: tuple[int, ...]
    x: np.ndarray
    t: np.ndarray
    message: str
    phase: str | None  # None when the replay found no op to name (see message)
    node: str | None
    step: int | None
    weights: list[np.ndarray]
    eta: float
    stopped_epoch: int
    stopped_sample: int
    error: float
    loss: Callable = squared_error  # the run's loss(y, t)

    def stepper(self, net):
        """The training step where it went wrong, on a copy of ``net`` at ``weights``,
        as a :class:`~tinygrad_sine.Stepper` with the update steps (``net`` is not changed)."""
        from .stepper import Stepper

        twin = _copy_at(net, self.weights)
        with np.errstate(all="ignore"):  # its numbers overflow: that is what it shows
            return Stepper(step_graph(twin, self.x, self.t, self.loss), eta=self.eta)

    def __repr__(self) -> str:
        return f"Divergence({self.message})"


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
    net,
    epochs: int = 2001,
    eta: float = 0.1,
    interval: int = 200,
    seed: int = 0,
    batch_size: int = 1,
    engine: str = "eager",
    callback: Callable[[int, float, History], None] | None = None,
    data: tuple | None = None,
    legacy_rng: bool = False,
    loss: str | Callable[[Value, np.ndarray], Value] = "squared_error",
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

    ``net`` may be any network: a :class:`~tinygrad_sine.nn.SineNet`, an
    :class:`~tinygrad_sine.nn.MLP`, or your own object with ``__call__``
    (a batch ``(n, n_in)`` in, a Value ``(n, n_out)`` out) and
    ``parameters()`` (the leaf Values to update).

    ``loss`` is ``"squared_error"`` (the post's E = ½ Σ (y − t)²),
    ``"cross_entropy"`` (softmax cross-entropy from the net's outputs as
    logits, summed over the batch: :func:`~tinygrad_sine.nn.cross_entropy`),
    or a function ``loss(y, t)`` returning a one-number Value.  For
    ``"cross_entropy"``, ``t`` may be class indices, shape ``(n,)``, or
    probability rows ``(n, n_out)``, checked once before training, and
    ``history.accuracies`` records, beside each error, the fraction of that
    epoch's samples whose largest output is the target's class (each taken
    before its own update, like the error).  The recorded error is the
    loss summed over the epoch's samples divided by their number.

    ``engine="eager"`` (the default; ``"auto"`` is an old alias for it) runs
    the ``Value`` graph and ``backward()`` at every step, as PyTorch's eager mode does;
    ``engine="compiled"`` traces the same step once with
    :func:`~tinygrad_sine.compile.compile` and then runs the generated code,
    the update inside it (``compile(...).sgd``; on Python floats for the
    seed's small net: same numbers as ``"eager"`` to ~1e-15, ~10× faster);
    ``engine="manual"`` trains a :class:`~tinygrad_sine.manual.ManualSineNet`
    copy with the hand-derived formulas and writes its weights back into
    ``net`` at each recorded epoch (before the callback) and at the end, or
    when the run stops on an exception.  For the same seed all take the same
    shuffles.

    When a sample's error is ``nan`` or ``inf`` the run stops there, as
    Keras's ``TerminateOnNaN`` stops it: the epoch is recorded with that
    error (and the callback called), ``history.diverged`` says where the
    first non-finite number was made (a :class:`Divergence`: the run is
    replayed from its first weights with ``engine="eager"`` under
    :func:`~tinygrad_sine.detect_anomaly`, which names the op and the
    numbers it read), and a ``RuntimeWarning`` gives its message.  Checking
    each sample's error costs one ``math.isfinite`` per update.

    Bad settings raise ``ValueError`` before any training: ``eta`` not a
    finite number > 0, ``epochs``/``interval``/``batch_size`` not whole
    numbers from 1 to 10⁹, ``seed`` not None or a whole number from 0 to
    2³² − 1 (``TypeError`` for a seed or a callback of the wrong type), a batch larger
    than the 63 samples, a network that is not 1-…-1 for the sine data, an
    unknown ``loss``, ``engine="manual"`` for anything but a ``SineNet``
    with the squared error (the hand-derived formulas are the post's)
    (``TypeError`` for a ``net`` without ``__call__`` and ``parameters()``).
    """
    if not (callable(net) and callable(getattr(net, "parameters", None))):
        raise TypeError(f"train: net must be a network with __call__ and parameters() "
                        f"(SineNet(seed=0), MLP(2, [24], 3), or your own), "
                        f"got {type(net).__name__}")
    engine = ENGINE_ALIASES.get(engine, engine) if isinstance(engine, str) else engine
    if engine not in ENGINES:
        raise ValueError(f"train: engine must be one of {', '.join(ENGINES)}; got {engine!r}")
    loss_fn, loss_name = _loss_function(loss)
    if engine == "manual" and not (isinstance(net, SineNet) and loss_name == "squared_error"):
        raise ValueError(f"train: engine='manual' runs the post's hand-derived formulas, which "
                         f"exist for a SineNet with the squared error only, not {net!r} with "
                         f"{loss_name}; use engine='eager' or 'compiled'")
    epochs, interval, batch_size = (
        _whole(name, val, "train") for name, val in
        (("epochs", epochs), ("interval", interval), ("batch_size", batch_size)))
    seed = check_seed(seed, "train")
    if callback is not None and not callable(callback):
        raise TypeError(f"train: callback must be a function callback(epoch, error, history) "
                        f"or None, got {type(callback).__name__} {callback!r}")
    eta = check_real(eta, "train", "eta", positive=True, example="the post's 0.1")
    x_all, t_all, sizes = _training_data(net, data, loss_name)
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
                      batch_size=batch_size, engine=engine, sizes=sizes,
                      legacy_rng=legacy_rng, loss=loss_name),
        data=None if data is None else (x_all[:, 0], t_all[:, 0]),
        samples=(x_all, t_all), net=net,
        names=[p.label or f"p{i}" for i, p in enumerate(net.parameters())],
        model=_copy_of(net),
    )
    recorder = Recorder(net, x_all, t_all, epochs, interval, frames, loss_fn)
    classify = loss_name == "cross_entropy"
    if engine == "manual":
        step = _manual_step(net, eta)
    else:
        step = (_eager_step if engine == "eager" else _compiled_step)(net, eta, loss_fn)
    # kept to replay the run if it diverges: the first weights and the shuffler's state
    replay = _Replay(net, x_all, t_all, eta, batch_size, copy.deepcopy(rng), loss_fn)

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
                if not isfinite(err):  # stop, and find the first number that was not finite
                    history.diverged = replay.find(epoch, start, err)
                    break
            if history.diverged is not None:  # the epoch's line shows the error that stopped it
                seen = order[:start + len(idx)] if record else idx
                total, ys, record = (total if record else err), (ys if record else [y]), True
            if frame is not None:  # (a run stopped part way: the error that stopped it)
                history.frames.append(recorder.finish(frame, total / n))
            if record:
                sync()  # the net's Values get the weights before anyone looks at them
                error = total / n
                history.epochs.append(epoch)
                history.errors.append(error)
                outputs = np.concatenate([np.asarray(y).reshape(-1, sizes[-1]) for y in ys])
                visited = seen if history.diverged else order
                history.snapshots[epoch] = (x_all[visited, 0], outputs[:, 0])
                if classify:
                    right = outputs.argmax(axis=1) == t_all[visited].argmax(axis=1)
                    history.accuracies.append(float(right.mean()))
                if callback is not None:
                    callback(epoch, error, history)
            if history.diverged is not None:
                warnings.warn(f"train: stopped: {history.diverged.message} "
                              "(history.diverged has the details)", RuntimeWarning,
                              stacklevel=2)
                break
    finally:  # at the end, and on an exception (a callback stopping the run, Ctrl-C)
        sync()
    return history


def step_graph(net, x, t, loss: Callable = squared_error) -> Value:
    """The graph of one training step, ``loss(net(x), t)``, as ``train`` builds it; ``x``
    and ``t`` are leaves labelled ``x`` and ``t`` and marked as inputs (data fed in)."""
    from .describe import set_role

    x = set_role(Value(x, label="x"), "input")
    t = set_role(Value(t, label="t"), "input")
    return loss(net(x), t)


def _copy_at(net, weights: list[np.ndarray]):
    """A copy of ``net`` (same layers and names) holding ``weights``."""
    twin = copy.deepcopy(net)
    for p, w in zip(twin.parameters(), weights):
        p.data = w
    return twin


class _Replay:
    """The run again, from its first weights, to find where it stopped being finite."""

    def __init__(self, net, x, t, eta: float, batch_size: int, rng, loss: Callable):
        self.net, self.x, self.t, self.eta, self.batch_size = net, x, t, eta, batch_size
        self.loss = loss
        self.weights = [p.data.copy() for p in net.parameters()]
        self.rng = rng  # a copy of the shuffler, before the first epoch's draw

    def find(self, epoch: int, start: int, error: float) -> Divergence:
        """The first step (up to sample position ``start`` of ``epoch``) that made a
        non-finite number, run as ``engine="eager"`` under ``detect_anomaly``."""
        from .anomaly import AnomalyError, detect_anomaly

        twin = _copy_at(self.net, self.weights)
        sgd, rng, n = SGD(twin.parameters(), self.eta), self.rng, len(self.x)
        stop_order = None
        with detect_anomaly():
            for e in range(epoch + 1):
                order = rng.permutation(n)
                stop_order = order
                for s in range(0, n if e < epoch else start + 1, self.batch_size):
                    idx = order[s:s + self.batch_size]
                    before = [p.data.copy() for p in twin.parameters()]
                    sgd.zero_grad()
                    loss = step_graph(twin, self.x[idx], self.t[idx], self.loss)
                    try:
                        loss.backward()
                        sgd.step()
                    except AnomalyError as err:
                        found = self._divergence(e, idx, f"{err}", err.phase, err.name, None,
                                                 before, epoch, stop_order[start], error)
                        stepper = found.stepper(self.net)  # the step, as the user will see it
                        steps = [st.index for st in stepper if st.phase == err.phase
                                 and stepper.info.name(st.node) == err.name]
                        found.step = steps[0] if steps else None
                        return found
        idx = stop_order[start:start + self.batch_size]
        return self._divergence(
            epoch, idx, f"the error is {error}, and a replay found no op that made a "
            "non-finite number (the engines' numbers differ in the last digits)",
            None, None, None, before, epoch, stop_order[start], error)

    def _divergence(self, epoch, idx, what, phase, node, step, weights, stopped_epoch,
                    stopped_sample, error) -> Divergence:
        sample = int(idx[0])
        return Divergence(epoch, sample, tuple(int(i) for i in idx), self.x[idx].copy(),
                          self.t[idx].copy(), f"epoch {epoch}, sample {sample}: {what}",
                          phase, node, step, weights, self.eta, stopped_epoch,
                          int(stopped_sample), float(error), self.loss)


def _loss_function(loss) -> tuple[Callable, str]:
    """``(loss(y, t) -> Value, name)`` for a loss given by name or as a function."""
    if loss == "squared_error":
        return squared_error, loss
    if loss == "cross_entropy":
        return _cross_entropy, loss  # the targets are checked once, before training
    if isinstance(loss, str) or not callable(loss):
        raise ValueError(f"train: loss must be one of {', '.join(LOSSES)}, or a function "
                         f"loss(y, t) returning a one-number Value; got {loss!r}")
    name = getattr(loss, "__name__", type(loss).__name__)

    def checked(y, t):
        e = loss(y, t)
        if not isinstance(e, Value) or e.size != 1:
            got = f"shape {e.shape}" if isinstance(e, Value) else type(e).__name__
            raise TypeError(f"train: loss {name}(y, t) must return a one-number Value (sum or "
                            f"average over the batch), got {got}")
        return e

    checked.__name__ = name
    return checked, name


def _sizes(net, x: np.ndarray | None) -> tuple:
    """``(n_in, n_out)`` of a net without ``sizes``: from ``x`` (the sine data's if None) and
    one forward pass on its first row."""
    if x is None:
        x = sine_data()[0].reshape(-1, 1)
    with no_grad():
        try:
            y = net(x[:1])
        except Exception as err:
            raise ValueError(f"train: the net failed on the first sample, shape {x[:1].shape} "
                             f"({type(err).__name__}: {err})") from None
    if not isinstance(y, Value) or y.ndim != 2 or len(y) != 1:
        got = f"shape {y.shape}" if isinstance(y, Value) else type(y).__name__
        raise TypeError(f"train: the net must return a Value of shape (samples, n_out) for a "
                        f"batch of shape {x[:1].shape}, got {got}")
    return (x.shape[1], y.shape[1])


def _training_data(net, data, loss_name: str) -> tuple[np.ndarray, np.ndarray, tuple]:
    """``(x, t, sizes)``: ``x`` and ``t`` as float64 arrays ``(n, n_in)`` and ``(n, n_out)``
    (the post's data, or ``data``; class indices become one-hot rows), and the net's sizes."""
    if data is None:
        sizes = tuple(getattr(net, "sizes", None) or _sizes(net, None))
        if (sizes[0], sizes[-1]) != (1, 1) or loss_name == "cross_entropy":
            raise ValueError(f"train: the sine data needs a 1-…-1 network and a regression loss, "
                             f"got {net!r} with {loss_name}; pass data=(x, t) to train on your "
                             "own")
        x, t = sine_data()
        return x.reshape(-1, 1), t.reshape(-1, 1), sizes
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise TypeError(f"train: data must be a pair (x, t) of arrays, got {type(data).__name__}")
    arrays = []
    for name, given in (("x", data[0]), ("t", data[1])):
        try:
            arr = np.asarray(given)  # a Value gives its numbers
        except (TypeError, ValueError):  # ragged lists
            arr = np.asarray(None)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"train: data's {name} must be numbers (an array), got "
                            f"{type(given).__name__}")
        if not np.isfinite(arr).all():
            raise ValueError(f"train: data's {name} has nan or inf values; every sample must be "
                             "finite numbers")
        arrays.append(arr)
    x, t = arrays
    sizes, shown = getattr(net, "sizes", None), repr(net)
    if x.ndim == 1 and (sizes is None or sizes[0] == 1):
        x = x.reshape(-1, 1)
    if sizes is None:  # your own net: its input width is x's, its output width it tells
        if x.ndim != 2 or len(x) == 0:
            raise ValueError(f"train: data's x has shape {x.shape}; give (n, n_in) with n ≥ 1 "
                             "samples (one row per sample)")
        sizes = _sizes(net, x.astype(np.float64))
    n_in, n_out = sizes[0], sizes[-1]
    if x.ndim != 2 or x.shape[1] != n_in or len(x) == 0:
        raise ValueError(f"train: data's x has shape {x.shape}, but {shown} needs "
                         f"(n, {n_in}) with n ≥ 1 samples (one row per sample)")
    if loss_name == "cross_entropy":
        if n_out < 2:
            raise ValueError(f"train: loss='cross_entropy' needs one output per class (at least "
                             f"2), but {shown} has {n_out} output")
        t = class_targets(t, (len(t), n_out), "train: data's t")
    else:
        if t.ndim == 1 and n_out == 1:
            t = t.reshape(-1, 1)
        if t.ndim != 2 or t.shape[1] != n_out or len(t) == 0:
            raise ValueError(f"train: data's t has shape {t.shape}, but {shown} needs "
                             f"(n, {n_out}) with n ≥ 1 samples (one row per sample)")
    if len(x) != len(t):
        raise ValueError(f"train: data's x has {len(x)} samples but t has {len(t)}; "
                         "they must pair up row by row")
    return x.astype(np.float64), np.asarray(t, dtype=np.float64), sizes


def _eager_step(net, eta: float, loss=squared_error):
    """One SGD step on the Value graph: forward, E.backward(), w ← w − η ∂w."""
    sgd = SGD(net.parameters(), eta)

    def step(x, t):
        sgd.zero_grad()
        y = net(x)
        e = loss(y, t)
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

    def __init__(self, net, eta: float, loss=squared_error):
        self.net, self.eta, self.fused, self.error = net, eta, None, loss

    def loss(self, x, t):
        y = self.net(x)
        return self.error(y, t), y

    def __call__(self, x, t):
        if self.fused is None:
            from .compile import TraceError, compile

            try:
                compiled = compile(self.loss, x, t, wrt=self.net.parameters())
            except TraceError as err:
                raise ValueError(f"train: engine='compiled' cannot run {self.net!r}: {err}; "
                                 "use engine='eager'") from None
            self.fused = compiled.sgd(self.eta)
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
